// k3vip kubeconfig: rewrite, --out, --merge (backup, keep entries, --use),
// and the /readyz check against a local HTTPS server that presents a
// certificate naming the VIP (the test connects to 127.0.0.1 through the
// test-only checkServer override; the VIP itself is never dialled).
import assert from "node:assert/strict";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { InstallerError, NodeFs } from "../installer/index.ts";
import { defaultContextName, httpsReadyz, kubeconfig } from "./index.ts";
import { snapshotTree } from "../installer/testing/tree.ts";
import { TestPki } from "../installer/testing/pki.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "k3vip-kc-"));
  dirs.push(d);
  return d;
};
const NOW = new Date("2026-11-29T20:50:00Z");
const k3sYaml = (server: string, ca: Buffer, cert: Buffer, key: Buffer) =>
  `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca.toString("base64")}
    server: ${server}
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${cert.toString("base64")}
    client-key-data: ${key.toString("base64")}
`;

let pki: TestPki;
let client: { certPem: Buffer; keyPem: Buffer };
let server: Server;
let port = 0;
let requests: string[] = [];

function serverRoot(serverUrl = "https://127.0.0.1:6443"): string {
  const root = tmp();
  mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
  writeFileSync(join(root, "etc/rancher/k3s/k3s.yaml"), k3sYaml(serverUrl, pki.caPem, client.certPem, client.keyPem), { mode: 0o600 });
  return root;
}

before(async () => {
  pki = new TestPki();
  client = pki.leaf("system:admin", [], "client");
  const srv = pki.leaf("k3s", ["IP:127.0.0.1", "IP:192.168.0.10", "DNS:kubernetes"], "server");
  server = createServer({ cert: srv.certPem, key: srv.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
    requests.push(`${req.method ?? ""} ${req.url ?? ""} ${String(peer.subject?.CN ?? "anonymous")}`);
    if (!(req.socket as import("node:tls").TLSSocket).authorized) {
      res.writeHead(401).end("Unauthorized");
      return;
    }
    res.writeHead(req.url === "/readyz" ? 200 : 404).end(req.url === "/readyz" ? "ok" : "not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  for (const d of [...dirs, pki.dir]) rmSync(d, { recursive: true, force: true });
});

const deps = () => ({ fs: new NodeFs(), now: () => NOW, readyz: httpsReadyz });
const parse = (p: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(p);
  return kc;
};

describe("k3vip kubeconfig", () => {
  it("names the context after the VIP", () => {
    assert.equal(defaultContextName("192.168.0.10"), "k3vip-192-168-0-10");
    assert.equal(defaultContextName("2001:db8::10"), "k3vip-2001-db8--10");
  });

  it("rewrites 127.0.0.1 / localhost / [::1] to the VIP (IPv6 bracketed) and renames everything", async () => {
    for (const [src, vip, want] of [
      ["https://127.0.0.1:6443", "192.168.0.10", "https://192.168.0.10:6443"],
      ["https://localhost:6443", "192.168.0.10", "https://192.168.0.10:6443"],
      ["https://[::1]:6443", "2001:db8::10", "https://[2001:db8::10]:6443"],
    ] as const) {
      const r = await kubeconfig({ root: serverRoot(src), vip, apiPort: 6443, check: false }, deps());
      const kc = new KubeConfig();
      kc.loadFromString(r.yaml);
      const name = defaultContextName(vip);
      assert.equal(kc.getCurrentContext(), name);
      assert.equal(kc.getCluster(name)?.server, want);
      assert.equal(kc.getUser(name)?.certData, client.certPem.toString("base64"));
      assert.deepEqual(kc.getContexts().map((c) => [c.name, c.cluster, c.user]), [[name, name, name]]);
      assert.equal(r.written, undefined);
    }
  });

  it("--out writes mode 0600 and the /readyz check passes with the kubeconfig's client certificate", async () => {
    const root = serverRoot();
    const out = join(tmp(), "vip.yaml");
    requests = [];
    const r = await kubeconfig({ root, vip: "192.168.0.10", apiPort: 6443, out, checkServer: `https://127.0.0.1:${port}` }, deps());
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(parse(out).getCurrentCluster()?.server, "https://192.168.0.10:6443");
    assert.deepEqual(r.readyz, { ok: true, message: "https://192.168.0.10:6443/readyz: ok" });
    assert.deepEqual(requests, ["GET /readyz system:admin"]);
  });

  it("--merge backs up, keeps other entries, replaces its own, and --use switches context", async () => {
    const root = serverRoot();
    const home = tmp();
    const target = join(home, ".kube/config");
    mkdirSync(join(home, ".kube"));
    const other = `apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: "https://prod.example:6443"}\nusers:\n- name: prod\n  user: {token: abc}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: prod}\ncurrent-context: prod\n`;
    writeFileSync(target, other, { mode: 0o644 });
    const r = await kubeconfig({ root, vip: "192.168.0.10", apiPort: 6443, merge: target, check: false }, deps());
    assert.equal(r.backup, `${target}.k3vip-backup-20261129T205000Z`);
    assert.equal(readFileSync(r.backup, "utf8"), other);
    let kc = parse(target);
    assert.deepEqual(kc.getContexts().map((c) => c.name), ["prod", "k3vip-192-168-0-10"]);
    assert.equal(kc.getCurrentContext(), "prod");
    assert.equal(statSync(target).mode & 0o777, 0o600);
    await kubeconfig({ root, vip: "192.168.0.10", apiPort: 6443, merge: target, use: true, check: false }, { ...deps(), now: () => new Date(NOW.getTime() + 1000) });
    kc = parse(target);
    assert.deepEqual(kc.getContexts().map((c) => c.name), ["prod", "k3vip-192-168-0-10"]);
    assert.deepEqual(kc.getClusters().map((c) => c.name), ["prod", "k3vip-192-168-0-10"]);
    assert.equal(kc.getCurrentContext(), "k3vip-192-168-0-10");
  });

  it("--out belongs to the target directory's owner", { skip: process.getuid?.() !== 0 ? "needs root for chown" : false }, async () => {
    const dir = tmp();
    chownSync(dir, 4242, 4343);
    const out = join(dir, "config");
    await kubeconfig({ root: serverRoot(), vip: "192.168.0.10", apiPort: 6443, out, check: false }, deps());
    const st = statSync(out);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [4242, 4343, 0o600]);
  });

  it("--merge into a missing file creates ~/.kube (0700) and the file", async () => {
    const home = tmp();
    const target = join(home, ".kube/config");
    const r = await kubeconfig({ root: serverRoot(), vip: "192.168.0.10", apiPort: 6443, merge: target, check: false }, deps());
    assert.equal(r.backup, undefined);
    assert.equal(statSync(join(home, ".kube")).mode & 0o777, 0o700);
    assert.equal(parse(target).getCurrentContext(), "k3vip-192-168-0-10");
  });

  it("malformed kubeconfigs: clear error, nothing changed", async () => {
    const root = tmp();
    mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
    writeFileSync(join(root, "etc/rancher/k3s/k3s.yaml"), "clusters: [: nope\n");
    const before = snapshotTree(root);
    await assert.rejects(kubeconfig({ root, vip: "192.168.0.10", apiPort: 6443, out: join(root, "out"), check: false }, deps()), (e: unknown) => e instanceof InstallerError && /k3s\.yaml is not a valid kubeconfig .*nothing was changed/.test(e.message));
    assert.deepEqual(snapshotTree(root), before);

    const good = serverRoot();
    const home = tmp();
    writeFileSync(join(home, "config"), "kind: Config\ncontexts: {broken\n");
    const hb = snapshotTree(home);
    await assert.rejects(kubeconfig({ root: good, vip: "192.168.0.10", apiPort: 6443, merge: join(home, "config"), check: false }, deps()), /config is not a valid kubeconfig/);
    assert.deepEqual(snapshotTree(home), hb);
    await assert.rejects(kubeconfig({ root: tmp(), vip: "192.168.0.10", apiPort: 6443, check: false }, deps()), /k3s\.yaml does not exist: is k3s\/RKE2 installed/);
  });

  it("/readyz failures say why: certificate lacking the VIP, rejected credentials, nothing listening", async () => {
    const root = serverRoot();
    // The server's certificate names 127.0.0.1 and 192.168.0.10, not .11.
    const r1 = await kubeconfig({ root, vip: "192.168.0.11", apiPort: 6443, checkServer: `https://127.0.0.1:${port}` }, deps());
    assert.equal(r1.readyz?.ok, false);
    assert.match(r1.readyz?.message ?? "", /serving certificate does not name 192\.168\.0\.11/);
    assert.match(r1.readyz?.fix ?? "", /restart k3s/);

    const other = new TestPki("other-ca");
    dirs.push(other.dir);
    const rogue = other.leaf("rogue", [], "client");
    const root2 = tmp();
    mkdirSync(join(root2, "etc/rancher/k3s"), { recursive: true });
    writeFileSync(join(root2, "etc/rancher/k3s/k3s.yaml"), k3sYaml("https://127.0.0.1:6443", pki.caPem, rogue.certPem, rogue.keyPem));
    const r2 = await kubeconfig({ root: root2, vip: "192.168.0.10", apiPort: 6443, checkServer: `https://127.0.0.1:${port}` }, deps());
    assert.equal(r2.readyz?.ok, false);
    assert.match(r2.readyz?.message ?? "", /HTTP 401: the API rejected the kubeconfig's credentials/);

    const r3 = await kubeconfig({ root, vip: "192.168.0.10", apiPort: 6443, checkServer: "https://127.0.0.1:1" }, deps());
    assert.equal(r3.readyz?.ok, false);
    assert.match(r3.readyz?.message ?? "", /cannot connect \(ECONNREFUSED\)/);
  });
});
