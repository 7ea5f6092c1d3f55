// Datastore preflight against real etcd on 127.0.0.1: https with client
// certificates (CA made with openssl), a bad CA, a missing or foreign client
// certificate, plain http, an endpoint list with one member down.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LiveDatastoreChecker, parseDatastore } from "../../src/installer/index.ts";
import { freePort, startEtcd, type Etcd } from "../../src/installer/testing/daemons.ts";
import { TestPki, type Leaf } from "../../src/installer/testing/pki.ts";

let tlsEtcd: Etcd;
let plainEtcd: Etcd;
let pki: TestPki;
let otherCa: TestPki;
let client: Leaf;
let foreignClient: Leaf;
const checker = new LiveDatastoreChecker(3000);
const check = (u: string, tls = {}) => checker.check(parseDatastore(u), tls);

before(async () => {
  pki = new TestPki("etcd-ca");
  otherCa = new TestPki("other-ca");
  client = pki.leaf("k3s-etcd-client", [], "client");
  foreignClient = otherCa.leaf("intruder", [], "client");
  [tlsEtcd, plainEtcd] = await Promise.all([startEtcd({ pki, server: pki.leaf("etcd", ["IP:127.0.0.1", "DNS:localhost"], "server") }), startEtcd()]);
});
after(async () => {
  await Promise.all([tlsEtcd?.daemon.stop(), plainEtcd?.daemon.stop()]);
  for (const p of [pki, otherCa]) if (p) rmSync(p.dir, { recursive: true, force: true });
});

describe("etcd datastore check (real etcd)", () => {
  it("ok over https with the CA and a client certificate", async () => {
    const r = await check(tlsEtcd.url, { cafile: pki.caCert, certfile: client.cert, keyfile: client.key });
    assert.equal(r.outcome, "ok", r.message);
    assert.match(r.message, /etcd healthy at 127\.0\.0\.1:\d+/);
  });

  it("ok over plain http", async () => {
    const r = await check(plainEtcd.url);
    assert.equal(r.outcome, "ok", r.message);
  });

  it("bad CA: the server's certificate is not trusted", async () => {
    const r = await check(tlsEtcd.url, { cafile: otherCa.caCert, certfile: client.cert, keyfile: client.key });
    assert.equal(r.outcome, "tls");
    assert.match(r.message, /certificate is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
    assert.match(r.fix, new RegExp(`--datastore-cafile ${otherCa.caCert} is not the CA that signed`));
  });

  it("no client certificate, or one from another CA: refused", async () => {
    const none = await check(tlsEtcd.url, { cafile: pki.caCert });
    assert.equal(none.outcome, "tls", none.message);
    assert.match(none.message, /refused the client certificate/);
    assert.match(none.fix, /requires a client certificate: give --datastore-certfile and --datastore-keyfile/);
    const foreign = await check(tlsEtcd.url, { cafile: pki.caCert, certfile: foreignClient.cert, keyfile: foreignClient.key });
    assert.equal(foreign.outcome, "tls", foreign.message);
    assert.match(foreign.fix, /not signed by a CA the server trusts/);
  });

  it("unreachable member in the list is named", async () => {
    const down = await freePort();
    const r = await check(`${plainEtcd.url},http://127.0.0.1:${down}`);
    assert.equal(r.outcome, "unreachable");
    assert.match(r.message, new RegExp(`cannot reach etcd at 127\\.0\\.0\\.1:${down} \\(ECONNREFUSED\\)`));
  });

  it("TLS files that are not PEM, or only half a key pair", async () => {
    const junk = join(pki.dir, "junk.txt");
    writeFileSync(junk, "not a certificate\n");
    const notPem = await check(tlsEtcd.url, { cafile: junk });
    assert.equal(notPem.outcome, "tls-files");
    assert.match(notPem.message, /--datastore-cafile .*junk\.txt is not a PEM file/);
    const half = await check(tlsEtcd.url, { cafile: pki.caCert, certfile: client.cert });
    assert.equal(half.outcome, "tls-files");
    assert.match(half.message, /come together/);
  });
});
