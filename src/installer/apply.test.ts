// Any failure mid-apply undoes everything this run wrote: fail each mutating
// step in turn (install from scratch, an update over an earlier install with
// a replaced file, and uninstall) and compare the tree byte for byte.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { resolveConfig, type Config } from "../config/index.ts";
import { install, InstallerError, MemoryReporter, NodeFs, uninstall, type Fs, type InstallOptions } from "./index.ts";
import { FakeChecker } from "./testing/fakes.ts";
import { FailingFs, snapshotTree, tempRoots } from "./testing/tree.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";

const tmpRoot = tempRoots("k3vip-rb-");
const cfg = (flags: Record<string, string> = {}): Config => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", ...flags } });
const deps = (fs: Fs) => ({ fs, checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0" });
const opts = (root: string, o: Partial<InstallOptions> = {}): InstallOptions => ({ config: cfg(), root, preflight: false, datastore: "mysql://root:pw@tcp(127.0.0.1:3306)/kubernetes", ...o });

/** No temp dotfiles left behind by an interrupted atomic write. */
function noTempFiles(root: string): void {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [e.name]));
  assert.deepEqual(walk(root).filter((n) => n.includes(".k3vip-")), []);
}

/** Runs `run` with a failure injected at every mutating step until one run passes. */
async function everyStep(name: string, setup: (root: string) => Promise<void>, run: (fs: Fs, root: string) => Promise<{ notes: string[] }>, code = "EIO") {
  let steps = 0;
  for (let n = 1; ; n++) {
    const root = tmpRoot();
    await setup(root);
    const before = snapshotTree(root);
    const fs = new FailingFs(new NodeFs(), n, code);
    let failed = false;
    try {
      const r = await run(fs, root);
      if (fs.failed) {
        // After the commit only the saved copies' removal is left: the run
        // succeeded, says so, and the next run removes them.
        assert.ok(r.notes.some((x) => /could not remove the saved copies .*next k3vip run removes them/.test(x)), `${name}: step ${n} (${fs.failed}) failed silently`);
        continue;
      }
    } catch (e) {
      failed = true;
      assert.ok(e instanceof InstallerError, `${name} step ${n}: ${String(e)}`);
      // A failure writing the journal changes nothing; any later one is undone, journal write included.
      assert.match(e.message, new RegExp(`could not .*${code}.*(; nothing changed|undid all \\d+ earlier steps?: nothing changed)`), `${name} step ${n}`);
      assert.doesNotMatch(e.message, /pw@|not everything/);
    }
    if (!failed) break;
    assert.deepEqual(snapshotTree(root), before, `${name}: tree changed after a failure at step ${n} (${fs.failed ?? ""})`);
    noTempFiles(root);
    steps = n;
  }
  assert.ok(steps >= 3, `${name}: only ${steps} steps were exercised`);
  return steps;
}

describe("rollback", () => {
  it("install from scratch: a failure at any step leaves the tree as it was", async () => {
    const n = await everyStep("fresh install", () => Promise.resolve(), (fs, root) => install(opts(root), deps(fs)));
    // The journal, 11 directories + manifest + drop-in + state, the journal's removal (the commit).
    assert.equal(n, 16);
  });

  it("update over an install with a replaced file and a migrated kube-vip manifest", async () => {
    await everyStep(
      "update",
      async (root) => {
        const dir = join(root, "var/lib/rancher/k3s/server/manifests");
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "k3vip.yaml"), "# older\n");
        await install(opts(root), deps(new NodeFs()));
        writeFileSync(join(dir, "kube-vip.yaml"), "kind: Pod\napiVersion: v1\nmetadata: {name: kube-vip}\nspec:\n  containers:\n  - {name: kube-vip, image: ghcr.io/kube-vip/kube-vip:v0.8.0}\n", { mode: 0o640 });
      },
      (fs, root) => install(opts(root, { tlsSans: ["k8s.example.com"], config: cfg({ "lease-duration": "9" }), migrate: true }), deps(fs)),
    );
  });

  it("uninstall: a failure at any step leaves the installed tree as it was", async () => {
    await everyStep(
      "uninstall",
      async (root) => {
        mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
        writeFileSync(join(root, "etc/rancher/k3s/config.yaml"), "write-kubeconfig-mode: '0644'\n");
        await install(opts(root), deps(new NodeFs()));
      },
      (fs, root) => uninstall({ root }, { fs, reporter: new MemoryReporter(), objects: addonObjects }),
    );
  });

  it("a full disk (ENOSPC) and a read-only filesystem (EROFS) roll back and say so", async () => {
    for (const code of ["ENOSPC", "EROFS"]) {
      const root = tmpRoot();
      const before = snapshotTree(root);
      // Fail the 14th operation: the drop-in, after the journal, 11 directories and the manifest.
      const fs = new FailingFs(new NodeFs(), 14, code);
      await assert.rejects(install(opts(root), deps(fs)), (e: unknown) => {
        assert.ok(e instanceof InstallerError);
        assert.match(e.message, new RegExp(`^could not write .*50-k3vip\\.yaml \\(${code}: .*\\); undid all 12 earlier steps: nothing changed\\. Free the space or fix the permission, then run again$`));
        return true;
      });
      assert.deepEqual(snapshotTree(root), before);
    }
  });

  it("an undo that fails too is named, the message never says 'nothing changed', and the next run finishes the rollback", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const manifest = join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml");
    // The drop-in's write fails (EIO), and so does the rollback's removal of the manifest.
    const fs: Fs = Object.assign(Object.create(new NodeFs()) as Fs, {
      writeAtomic: (p: string, b: Buffer, m: number) => (p.endsWith("50-k3vip.yaml") ? Promise.reject(new Error("EIO: i/o error")) : new NodeFs().writeAtomic(p, b, m)),
      unlink: (p: string) => (p === manifest ? Promise.reject(new Error("EBUSY: resource busy")) : new NodeFs().unlink(p)),
    });
    await assert.rejects(install(opts(root), deps(fs)), (e: unknown) => {
      assert.ok(e instanceof InstallerError);
      assert.match(e.message, /could not write .*50-k3vip\.yaml \(EIO.*\); undid \d+ step\(s\), but not everything: remove .*k3vip\.yaml: EBUSY.*journal in .* stays/);
      assert.doesNotMatch(e.message, /nothing changed/);
      return true;
    });
    assert.notDeepEqual(snapshotTree(root), before);
    // The next run rolls the rest back first, then installs; uninstall gives back the tree.
    await install(opts(root), deps(new NodeFs()));
    await uninstall({ root }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
    assert.deepEqual(snapshotTree(root), before);
  });

  it("a real read-only bind mount: nothing changed, clear error", { skip: process.getuid?.() !== 0 ? "needs root for mount" : false }, async () => {
    const root = tmpRoot();
    const dir = join(root, "etc/rancher/k3s/config.yaml.d");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "10-user.yaml"), "node-label+: [a=b]\n");
    const before = snapshotTree(root);
    execFileSync("mount", ["--bind", dir, dir]);
    try {
      execFileSync("mount", ["-o", "remount,ro,bind", dir]);
      await assert.rejects(install(opts(root), deps(new NodeFs())), (e: unknown) => e instanceof InstallerError && /could not write .*50-k3vip\.yaml \(EROFS.*undid all \d+ earlier steps: nothing changed/.test(e.message));
    } finally {
      execFileSync("umount", [dir]);
    }
    assert.deepEqual(snapshotTree(root), before);
  });
});
