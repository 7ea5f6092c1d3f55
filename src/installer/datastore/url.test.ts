import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../config/index.ts";
import { maskDatastore, parseDatastore } from "./url.ts";

const bad = (raw: string, re: RegExp) =>
  assert.throws(
    () => parseDatastore(raw),
    (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n") && !/s3cr3t/.test(e.message),
  );

describe("parseDatastore", () => {
  it("reads k3s's MySQL DSN form, password with @ and / included", () => {
    const d = parseDatastore("mysql://k3s:s3cr3t@/x@tcp(db.example:3307)/kube_db?tls=true");
    assert.deepEqual(d, { kind: "mysql", user: "k3s", password: "s3cr3t@/x", host: "db.example", port: 3307, database: "kube_db", params: { tls: "true" }, raw: "mysql://k3s:s3cr3t@/x@tcp(db.example:3307)/kube_db?tls=true" });
  });

  it("defaults MySQL port and kine's database name", () => {
    const d = parseDatastore("mysql://root:pw@tcp(127.0.0.1)/");
    assert.equal(d.kind, "mysql");
    if (d.kind !== "mysql") return;
    assert.equal(d.port, 3306);
    assert.equal(d.database, "kubernetes");
    const ipv6 = parseDatastore("mysql://u:p@tcp([2001:db8::5]:3306)/k");
    assert.equal(ipv6.kind === "mysql" && ipv6.host, "2001:db8::5");
  });

  it("reads postgres URLs with percent-encoded passwords and sslmode", () => {
    const d = parseDatastore("postgres://k3s:s3%40cr3t@db.example:5433/kube?sslmode=verify-full");
    assert.equal(d.kind, "postgres");
    if (d.kind !== "postgres") return;
    assert.equal(d.password, "s3@cr3t");
    assert.equal(d.port, 5433);
    assert.equal(d.database, "kube");
    assert.equal(d.params.sslmode, "verify-full");
    const d2 = parseDatastore("postgresql://u:p@h/");
    assert.equal(d2.kind === "postgres" && d2.port, 5432);
    assert.equal(d2.kind === "postgres" && d2.database, "kubernetes");
  });

  it("reads etcd endpoint lists", () => {
    const d = parseDatastore("https://etcd1:2379,https://10.0.0.2:2379");
    assert.equal(d.kind, "etcd");
    assert.deepEqual(d.kind === "etcd" && d.urls.map((u) => u.host), ["etcd1:2379", "10.0.0.2:2379"]);
  });

  it("names precisely what is wrong, password masked", () => {
    bad("mysql://root:s3cr3t@db.example:3306/kubernetes", /^--datastore "mysql:\/\/root:\*\*\*\*@db.example:3306\/kubernetes" needs the address in k3s's MySQL form tcp\(host:port\)/);
    bad("mysql://root:s3cr3t@tcp(db.example:99999)/k", /tcp\(db.example:99999\) that is not host:port/);
    bad("mysql://root:s3cr3t@tcp(db.example:3306)", /has no "\/" before the database name/);
    bad("mysql://root:s3cr3t@unix(/run/mysqld.sock)/k", /unix socket/);
    bad("tcp(db:3306)/k", /lacks the mysql:\/\/ scheme/);
    bad("postgres://u:s3cr3t@db/k?sslmode=sometimes", /sslmode=sometimes; valid: disable, allow, prefer, require, verify-ca, verify-full/);
    bad("postgres://u:s3cr3t@:5432/k", /not a valid URL|has no host/);
    bad("https://etcd1:2379,etcd2:2379", /mixes schemes|not a URL/);
    bad("https://etcd1", /without a port/);
    bad("https://etcd1:2379/v3", /with a path/);
    bad("sqlite:///var/lib/k3s.db", /SQLite, which serves one server only/);
    bad("redis://h:1", /unknown scheme/);
    bad("", /empty/);
    // Hardening #11 item 6: a line break was written into the drop-in as a block scalar.
    bad("mysql://root:s3cr3t@tcp(db:3306)/k\nx", /^--datastore "mysql:\/\/root:\*\*\*\*@tcp\(db:3306\)\/k\\nx" holds a control character \(a line break\?\)/);
    bad("postgres://u:pw@db/k\u0085", /holds a control character/);
  });

  it("masks passwords", () => {
    assert.equal(maskDatastore("mysql://root:p@ss@tcp(h:1)/d"), "mysql://root:****@tcp(h:1)/d");
    assert.equal(maskDatastore("postgres://u:pw@h:5432/d"), "postgres://u:****@h:5432/d");
    assert.equal(maskDatastore("https://etcd:2379"), "https://etcd:2379");
    // Any scheme: an unknown one's password was echoed whole.
    assert.equal(maskDatastore("redis://u:s3cr3t@h:6379/0"), "redis://u:****@h:6379/0");
    assert.equal(maskDatastore("postgres://u@h/d"), "postgres://u@h/d");
  });
});
