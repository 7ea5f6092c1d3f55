// A real SIGKILL in the middle of `k3vip install` (the built CLI), with every
// fsync slowed by strace so the kill lands between two steps, at 12 points
// of the run; then a re-run and an uninstall must give back the tree
// byte-identical to before the first install, the user's own k3vip.yaml
// included. (The Fs-level version kills at every boundary:
// src/installer/crash.test.ts.)
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { snapshotTree, tempRoots } from "../../src/installer/testing/tree.ts";

const CLI = join(process.cwd(), "dist/k3vip.mjs");
const tmpRoot = tempRoots("k3vip-kill-");
const MANIFEST = "var/lib/rancher/k3s/server/manifests/k3vip.yaml";
const USER = "# the user's own k3vip.yaml\n";
const ARGS = (root: string) => ["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--no-image-archive", "--token", "K10killtest::server:x"];

before(() => execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }));

function journalLeft(root: string): boolean {
  return ["var/lib/rancher/k3s/k3vip", "var/lib/rancher/k3s", "var/lib/rancher", "var/lib", "var", ""].some((d) => existsSync(join(root, d, ".k3vip-journal.json")) || existsSync(join(root, d, ".k3vip-journal.d")));
}

describe("SIGKILL during k3vip install, then run again", () => {
  it("at 12 points of a slowed run: the re-run recovers, uninstall gives back the original tree", async () => {
    let interrupted = 0;
    for (let i = 0; i < 12; i++) {
      const root = tmpRoot();
      mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
      writeFileSync(join(root, MANIFEST), USER, { mode: 0o644 });
      const original = snapshotTree(root);
      // 150 ms per fsync: each atomic write and mkdir takes ≥ 150 ms, so kills land between steps.
      const p = spawn("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:delay_enter=150000", process.execPath, CLI, ...ARGS(root)], { stdio: "ignore" });
      await new Promise((r) => setTimeout(r, 600 + i * 250));
      // Kill the CLI itself (strace's tracee), not strace.
      const pids = execFileSync("pgrep", ["-f", `${CLI} install --root ${root}`], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), "SIGKILL");
      await new Promise((r) => p.once("close", r));
      if (journalLeft(root)) interrupted++;
      execFileSync(process.execPath, [CLI, ...ARGS(root)], { stdio: "pipe" });
      assert.match(readFileSync(join(root, MANIFEST), "utf8"), /kind: DaemonSet/);
      execFileSync(process.execPath, [CLI, "uninstall", "--root", root, "--no-delete-objects"], { stdio: "pipe" });
      assert.deepEqual(snapshotTree(root), original, `killed at ${600 + i * 250} ms`);
    }
    process.stdout.write(`# SIGKILL during install: ${interrupted} of 12 kills left a journal (mid-run); all 12 re-runs + uninstalls gave back the original tree\n`);
    // Most kills must land mid-run (a journal left behind), or the test proves nothing.
    assert.ok(interrupted >= 6, `only ${interrupted} of 12 kills interrupted the run`);
  });
});
