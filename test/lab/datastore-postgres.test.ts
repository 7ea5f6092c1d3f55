// Datastore preflight against a real PostgreSQL (run as the postgres user,
// TLS on, 127.0.0.1 only): success, creatable, wrong password, unreachable,
// missing database without CREATEDB, no CONNECT, and TLS with a bad CA.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { LiveDatastoreChecker, parseDatastore } from "../../src/installer/index.ts";
import { freePort, startPostgres, type Postgres } from "../../src/installer/testing/daemons.ts";
import { TestPki } from "../../src/installer/testing/pki.ts";

let db: Postgres;
let pki: TestPki;
let otherCa: TestPki;
const checker = new LiveDatastoreChecker(3000);
const url = (user: string, pw: string, database = "kubernetes", q = "sslmode=disable", port = db.port) => `postgres://${user}:${pw}@127.0.0.1:${port}/${database}?${q}`;
const check = (u: string, tls = {}) => checker.check(parseDatastore(u), tls);

before(async () => {
  pki = new TestPki("pg-ca");
  otherCa = new TestPki("other-ca");
  db = await startPostgres({ pki, server: pki.leaf("postgres", ["IP:127.0.0.1"], "server") });
  const c = new pg.Client({ host: "127.0.0.1", port: db.port, user: "postgres", password: db.superPassword, database: "postgres", ssl: false });
  await c.connect();
  for (const sql of [
    "CREATE ROLE k3s LOGIN PASSWORD 'k3s-pw'",
    "CREATE DATABASE kubernetes OWNER k3s",
    "CREATE ROLE creator LOGIN CREATEDB PASSWORD 'c-pw'",
    "CREATE ROLE plain LOGIN PASSWORD 'p-pw'",
    "CREATE DATABASE locked",
    "REVOKE CONNECT ON DATABASE locked FROM PUBLIC",
  ]) await c.query(sql);
  await c.end();
});
after(async () => {
  await db?.daemon.stop();
  for (const p of [pki, otherCa]) if (p) rmSync(p.dir, { recursive: true, force: true });
});

describe("PostgreSQL datastore check (real server)", () => {
  it("ok: the user can use the existing database", async () => {
    const r = await check(url("k3s", "k3s-pw"));
    assert.equal(r.outcome, "ok", r.message);
  });

  it("ok: missing database, but the role has CREATEDB (kine creates it)", async () => {
    const r = await check(url("creator", "c-pw", "newdb"));
    assert.equal(r.outcome, "ok", r.message);
    assert.match(r.message, /newdb does not exist yet; k3s will create it/);
  });

  it("wrong password", async () => {
    const r = await check(url("k3s", "nope"));
    assert.equal(r.outcome, "auth");
    assert.match(r.message, /refused user k3s: wrong password/);
  });

  it("unreachable host", async () => {
    const r = await check(url("k3s", "k3s-pw", "kubernetes", "sslmode=disable", await freePort()));
    assert.equal(r.outcome, "unreachable");
    assert.match(r.message, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("missing database and no CREATEDB", async () => {
    const r = await check(url("plain", "p-pw", "newdb"));
    assert.equal(r.outcome, "database");
    assert.match(r.message, /database newdb does not exist and user plain may not create it/);
    assert.equal(r.fix, 'CREATE DATABASE "newdb" OWNER "plain"');
  });

  it("no CONNECT permission on an existing database", async () => {
    const r = await check(url("plain", "p-pw", "locked"));
    assert.equal(r.outcome, "permission");
    assert.match(r.message, /user plain may not connect to locked/);
  });

  it("TLS verify-full with the right CA; a bad CA and an unreadable CA file get their own messages", async () => {
    const good = await check(url("k3s", "k3s-pw", "kubernetes", "sslmode=verify-full"), { cafile: pki.caCert });
    assert.equal(good.outcome, "ok", good.message);
    const bad = await check(url("k3s", "k3s-pw", "kubernetes", "sslmode=verify-full"), { cafile: otherCa.caCert });
    assert.equal(bad.outcome, "tls");
    assert.match(bad.message, /certificate is not trusted/);
    assert.match(bad.fix, /is not the CA that signed the server's certificate/);
    const missing = await check(url("k3s", "k3s-pw", "kubernetes", "sslmode=verify-full"), { cafile: "/nonexistent/ca.pem" });
    assert.equal(missing.outcome, "tls-files");
    assert.match(missing.message, /--datastore-cafile \/nonexistent\/ca\.pem cannot be read \(ENOENT\)/);
  });
});
