// Datastore preflight against a real MariaDB on 127.0.0.1: success, and each
// failure with its own message (wrong password, unreachable, missing
// database without permission, no access to an existing database).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig, type Config } from "../../src/config/index.ts";
import { install, InstallerError, LiveDatastoreChecker, MemoryReporter, NodeFs, parseDatastore } from "../../src/installer/index.ts";
import { freePort, mariadbSql, startMariadb, type Mariadb } from "../../src/installer/testing/daemons.ts";
import { snapshotTree } from "../../src/installer/testing/tree.ts";
import { ADDON_FILENAME, renderAddon } from "../../src/render/index.ts";

let db: Mariadb;
const checker = new LiveDatastoreChecker(3000);
const check = (url: string) => checker.check(parseDatastore(url), {});
const url = (user: string, pw: string, database = "kubernetes", port = db.port) => `mysql://${user}:${pw}@tcp(127.0.0.1:${port})/${database}`;

before(async () => {
  db = await startMariadb();
  mariadbSql(
    db,
    [
      "DELETE FROM mysql.global_priv WHERE User=''",
      "CREATE DATABASE kubernetes",
      "CREATE USER 'k3s'@'%' IDENTIFIED BY 'k3s-pw'",
      "GRANT ALL ON kubernetes.* TO 'k3s'@'%'",
      "CREATE USER 'creator'@'%' IDENTIFIED BY 'c-pw'",
      "GRANT CREATE ON *.* TO 'creator'@'%'",
      "CREATE USER 'nobody'@'%' IDENTIFIED BY 'n-pw'",
      "CREATE USER 'reader'@'%' IDENTIFIED BY 'r-pw'",
      "GRANT SELECT ON *.* TO 'reader'@'%'",
      "CREATE DATABASE other",
      "CREATE USER 'limited'@'%' IDENTIFIED BY 'l-pw'",
      "GRANT ALL ON other.* TO 'limited'@'%'",
      "FLUSH PRIVILEGES",
    ].join("; "),
  );
});
after(async () => {
  await db?.daemon.stop();
});

describe("MariaDB datastore check (real server)", () => {
  it("ok: the user can use the existing database", async () => {
    const r = await check(url("k3s", "k3s-pw"));
    assert.equal(r.outcome, "ok", r.message);
    assert.match(r.message, /user k3s can use database kubernetes/);
  });

  it("ok: the database is missing but the user may create it (kine creates it)", async () => {
    const r = await check(url("creator", "c-pw", "newdb"));
    assert.equal(r.outcome, "ok", r.message);
    assert.match(r.message, /newdb does not exist yet; k3s will create it/);
  });

  it("wrong password", async () => {
    const r = await check(url("k3s", "nope"));
    assert.equal(r.outcome, "auth");
    assert.match(r.message, /refused user k3s: wrong password/);
  });

  it("unreachable host (nothing listens on the port)", async () => {
    const r = await check(url("k3s", "k3s-pw", "kubernetes", await freePort()));
    assert.equal(r.outcome, "unreachable");
    assert.match(r.message, /cannot reach MySQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("missing database and no permission to create it", async () => {
    const r = await check(url("reader", "r-pw", "newdb"));
    assert.equal(r.outcome, "database");
    assert.match(r.message, /database newdb does not exist and user reader may not create it/);
    assert.match(r.fix, /CREATE DATABASE `newdb`; GRANT ALL ON `newdb`\.\* TO 'reader'@'%'/);
  });

  it("no permission: a database the user has no grant on (MySQL hides whether it exists)", async () => {
    for (const [user, pw, database] of [["limited", "l-pw", "kubernetes"], ["nobody", "n-pw", "newdb"]] as const) {
      const r = await check(url(user, pw, database));
      assert.equal(r.outcome, "permission", `${user}: ${r.message}`);
      assert.match(r.message, new RegExp(`user ${user} may not use database ${database} \\(missing, or not granted\\) nor create it`));
    }
  });

  it("install runs the check in preflight: success writes, failure changes nothing", async () => {
    const root = mkdtempSync(join(tmpdir(), "k3vip-lab-my-"));
    try {
      const config: Config = resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0" } });
      const deps = { fs: new NodeFs(), checker, render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0" };
      const before = snapshotTree(root);
      await assert.rejects(install({ config, root, datastore: url("k3s", "wrong") }, deps), (e: unknown) => e instanceof InstallerError && /preflight failed: datastore: mysql:\/\/k3s:\*\*\*\*@tcp.*wrong password/.test(e.message) && !e.message.includes("wrong@"));
      assert.deepEqual(snapshotTree(root), before);
      const r = await install({ config, root, datastore: url("k3s", "k3s-pw") }, deps);
      assert.equal(r.status, "applied");
      assert.equal(r.checks.find((c) => c.id === "datastore")?.status, "ok");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
