// Two runs at once, through the built CLI and install.sh: they are serialized
// by the flock on the root directory, so the user's own file that install
// backed up is never lost (before the lock: 6 of 6 concurrent uninstalls and
// about 1 in 30 concurrent installs lost it). A run that finds the lock held
// waits a few seconds, then stops with the holder's pid and changes nothing.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { snapshotTree, tempRoots } from "../installer/testing/tree.ts";

const CLI = join(process.cwd(), "dist/k3vip.mjs");
const INSTALL_SH = join(process.cwd(), "install.sh");
const tmpRoot = tempRoots("k3vip-conc-");
const MANIFEST = "var/lib/rancher/k3s/server/manifests/k3vip.yaml";
const USER = "# the user's own k3vip.yaml\n";

before(() => execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }));

function seeded(): string {
  const root = tmpRoot();
  mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
  writeFileSync(join(root, MANIFEST), USER, { mode: 0o644 });
  return root;
}

/** Runs the CLI without waiting; resolves with exit code and output. */
function k3vip(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: "true" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    p.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    p.on("close", (code) => resolve({ code, stderr, stdout }));
  });
}
const installArgs = (root: string, vip: string) => ["install", "--root", root, "--vip", vip, "--interface", "eth0", "--no-preflight", "--no-image-archive"];

describe("two runs at once on one root", () => {
  it("two uninstalls at once, 6 times: the user's file comes back every time, both exit 0", async () => {
    for (let i = 0; i < 6; i++) {
      const root = seeded();
      const original = snapshotTree(root);
      assert.equal((await k3vip(installArgs(root, "192.168.0.10"))).code, 0);
      const [a, b] = await Promise.all([k3vip(["uninstall", "--root", root, "--no-delete-objects"]), k3vip(["uninstall", "--root", root, "--no-delete-objects"])]);
      assert.deepEqual([a.code, b.code], [0, 0], a.stderr + b.stderr);
      assert.deepEqual(snapshotTree(root), original, `run ${i}`);
      assert.equal(readFileSync(join(root, MANIFEST), "utf8"), USER);
    }
  });

  it("two installs with different VIPs at once, 10 times: one wins, the user's original is kept, uninstall gives it back", async () => {
    for (let i = 0; i < 10; i++) {
      const root = seeded();
      const original = snapshotTree(root);
      const [a, b] = await Promise.all([k3vip(installArgs(root, "192.168.0.10")), k3vip(installArgs(root, "192.168.0.11"))]);
      assert.deepEqual([a.code, b.code], [0, 0], a.stderr + b.stderr);
      assert.match(readFileSync(join(root, MANIFEST), "utf8"), /192\.168\.0\.1[01]/);
      const u = await k3vip(["uninstall", "--root", root, "--no-delete-objects"]);
      assert.equal(u.code, 0, u.stderr);
      assert.deepEqual(snapshotTree(root), original, `run ${i}`);
    }
  });

  it("a held lock: k3vip install and install.sh wait, then stop with the holder's pid, and change nothing", async () => {
    const root = seeded();
    const original = snapshotTree(root);
    // What install.sh does: the shell keeps fd 9 open on the root, flock(1) exits.
    const holder = spawn("sh", ["-c", 'exec 9<"$1"; flock 9; echo held; exec sleep 30', "sh", root]);
    await new Promise<void>((r) => holder.stdout.once("data", () => r()));
    try {
      const t0 = Date.now();
      const r = await k3vip(installArgs(root, "192.168.0.10"));
      const waited = Date.now() - t0;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`another k3vip install/uninstall is running \\(pid ${holder.pid}\\) on ${root}: wait for it to finish`));
      assert.ok(waited >= 4000, `gave up after ${waited} ms, before the wait`);
      const sh = spawnSync("dash", [INSTALL_SH, "--root", root, "--vip", "192.168.0.10", "--interface", "eth0"], { encoding: "utf8" });
      assert.equal(sh.status, 1, sh.stderr);
      assert.match(sh.stderr, new RegExp(`another k3vip install/uninstall is running \\(pid ${holder.pid}\\) on ${root}: wait for it to finish`));
      assert.deepEqual(snapshotTree(root), original);
    } finally {
      holder.kill("SIGKILL");
    }
    // The holder died: its lock went with it.
    await new Promise((r) => holder.once("close", r));
    assert.equal((await k3vip(installArgs(root, "192.168.0.10"))).code, 0);
  });
  it("names the process that still has the root open, not a live process /proc/locks names that no longer does (a reused pid on a busy box)", async () => {
    const root = seeded();
    // perl (Debian's perl-base) takes the lock, hands the open root to a child and closes its own:
    // /proc/locks still names the parent, alive, as a reused pid would be.
    const script = 'use Fcntl qw(:flock); open(my $d, "<", $ARGV[0]) or die; flock($d, LOCK_EX) or die; $| = 1; my $c = fork(); if ($c == 0) { sleep 30; exit 0 } close($d); print "$c\\n"; sleep 30;';
    const locker = spawn("perl", ["-e", script, root]);
    const child = await new Promise<number>((r) => locker.stdout.once("data", (d: Buffer) => r(Number(d.toString().trim()))));
    try {
      const r = await k3vip(installArgs(root, "192.168.0.10"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`another k3vip install/uninstall is running \\(pid ${child}\\) on `));
      const sh = spawnSync("dash", [INSTALL_SH, "--root", root, "--vip", "192.168.0.10", "--interface", "eth0"], { encoding: "utf8" });
      assert.equal(sh.status, 1, sh.stderr);
      assert.match(sh.stderr, new RegExp(`another k3vip install/uninstall is running \\(pid ${child}\\) on `));
    } finally {
      locker.kill("SIGKILL");
      process.kill(child, "SIGKILL");
    }
  });
});
