// Inputs that slipped through (hardening #11 item 6), as a user meets them
// through the built CLI: each gets one actionable line and changes nothing.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { snapshotTree, tempRoots } from "../installer/testing/tree.ts";

const CLI = join(process.cwd(), "dist/k3vip.mjs");
const INSTALL_SH = join(process.cwd(), "install.sh");
const tmpRoot = tempRoots("k3vip-inputs-");
const k3vip = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000, env: { ...process.env, CI: "true" } });
const base = (root: string) => ["--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--no-image-archive"];

before(() => execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }));

describe("inputs that used to slip through", () => {
  it("--token-file /dev/zero is refused at once (it hung), and so is a directory", () => {
    const root = tmpRoot();
    const r = k3vip(["install", ...base(root), "--join", "--token-file", "/dev/zero"]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, "k3vip: --token-file /dev/zero is not a regular file (a directory, device or pipe); nothing was changed\n");
    assert.match(k3vip(["install", ...base(root), "--join", "--token-file", root]).stderr, /is not a regular file/);
  });

  it("a file where a directory must be: one line, not a raw ENOTDIR", () => {
    const root = tmpRoot();
    writeFileSync(join(root, "var"), "");
    const before = snapshotTree(root);
    const r = k3vip(["install", ...base(root)]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `k3vip: ${root}/var is a file where k3vip needs a directory (for ${root}/var/lib/rancher/k3s/server/manifests): move it away, then run again; nothing was changed\n`);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("an empty kubeconfig: what it is, not 'Cannot read properties of undefined'", () => {
    const dir = tmpRoot();
    writeFileSync(join(dir, "k3s.yaml"), "");
    const r = k3vip(["kubeconfig", "--from", join(dir, "k3s.yaml"), "--vip", "192.168.0.10", "--no-check"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^k3vip: \S+k3s\.yaml is empty, not a kubeconfig/);
    assert.doesNotMatch(r.stderr, /Cannot read properties/);
  });

  it("doctor --root on a missing directory fails (it said ok)", () => {
    const r = k3vip(["doctor", "--root", "/nonexistent-k3vip-root", "--vip", "192.168.0.10"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'k3vip: --root "/nonexistent-k3vip-root" is not an existing directory\n');
  });

  it("boolean options work bare, negated and with a value, in k3vip and install.sh alike", () => {
    const forms: [string[], RegExp][] = [
      [["--services"], /--services "true" is not supported in this version/],
      [["--no-leader-election"], /--leader-election "false" works only in BGP mode/],
      [["--leader-election", "no"], /--leader-election "false" works only in BGP mode/],
    ];
    for (const [args, re] of forms) {
      const k = k3vip(["manifest", "--vip", "192.168.0.10", "--interface", "eth0", ...args]);
      assert.equal(k.status, 2, `${args.join(" ")}: ${k.stderr}`);
      assert.match(k.stderr, re);
      const s = spawnSync("dash", [INSTALL_SH, "--print", "--vip", "192.168.0.10", "--interface", "eth0", ...args], { encoding: "utf8" });
      assert.equal(s.status, 2, s.stderr);
      assert.equal(s.stderr.replace(/^\[ERROR\] {2}/, "k3vip: "), k.stderr);
    }
    // Bare true, bare negated false: both accepted (defaults), the same manifest (one heartbeat key, else each makes a random one).
    const key = ["--heartbeat-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="];
    const a = k3vip(["manifest", "--vip", "192.168.0.10", "--interface", "eth0", "--leader-election", "--no-services", "--control-plane", ...key]);
    const b = spawnSync("dash", [INSTALL_SH, "--print", "--vip", "192.168.0.10", "--leader-election", "--no-services", "--interface", "eth0", "--control-plane", ...key], { encoding: "utf8" });
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout, a.stdout);
  });

  it("--namespace k3vip-system: k3s gets the Namespace object first (it failed with 'namespaces not found')", () => {
    const r = k3vip(["manifest", "--vip", "192.168.0.10", "--interface", "eth0", "--namespace", "k3vip-system"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^apiVersion: v1\nkind: Namespace\nmetadata:\n {2}name: "k3vip-system"/m);
    assert.ok(r.stdout.indexOf("kind: Namespace") < r.stdout.indexOf("kind: ServiceAccount"));
  });

  it("a password never loses a space silently, and control characters are refused", () => {
    for (const peers of ["10.0.0.1:65001:secret ", "10.0.0.1:65001:pw\u007f", "10.0.0.1:65001:pw\u00a0"]) {
      const r = k3vip(["manifest", "--vip", "192.168.0.10", "--bgp-peers", peers]);
      assert.equal(r.status, 2, peers);
      assert.match(r.stderr, /white space|control character/);
    }
    // The retry-period limit prints the same in both tools (0.313 vs 0.312 before).
    const k = k3vip(["manifest", "--vip", "192.168.0.10", "--renew-deadline", "0.375", "--retry-period", "0.33"]);
    assert.equal(k.stderr, 'k3vip: --retry-period "0.33" must be at most 0.312 s: less than renew deadline / 1.2 (client-go\'s rule)\n');
    const s = spawnSync("dash", [INSTALL_SH, "--print", "--vip", "192.168.0.10", "--renew-deadline", "0.375", "--retry-period", "0.33"], { encoding: "utf8" });
    assert.equal(s.stderr.replace(/^\[ERROR\] {2}/, "k3vip: "), k.stderr);
  });

  it("a datastore URL with a line break is refused, not written as a block scalar", () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc"));
    const r = k3vip(["install", ...base(root), "--datastore", "mysql://k3s:pw@tcp(db:3306)/k3s\nx: y"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /holds a control character \(a line break\?\)/);
  });
});
