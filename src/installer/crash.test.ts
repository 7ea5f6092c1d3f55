// Killed at every step boundary, then run again: the next run rolls the
// interrupted one back from its journal before doing anything, so after the
// re-run and an uninstall the tree is byte-identical to before the first
// install — the user's own file that k3vip backed up included. (The real
// SIGKILL version runs the built CLI: test/lab/installer-crash.test.ts.)
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { resolveConfig, type Config } from "../config/index.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";
import { install, MemoryReporter, NodeFs, uninstall, type Fs, type InstallOptions } from "./index.ts";
import { FakeChecker } from "./testing/fakes.ts";
import { CrashingFs, SimulatedCrash, snapshotTree, tempRoots, type Tree } from "./testing/tree.ts";

const tmpRoot = tempRoots("k3vip-crash-");
const cfg = (flags: Record<string, string> = {}): Config => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", ...flags } });
const deps = (fs: Fs) => ({ fs, checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0" });
const opts = (root: string, o: Partial<InstallOptions> = {}): InstallOptions => ({ config: cfg(), root, preflight: false, token: "K10secret::server:abc", ...o });
const rm = (root: string) => uninstall({ root }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
const USER_MANIFEST = "# the user's own k3vip.yaml, from an older install.sh\n";
const MANIFEST = "var/lib/rancher/k3s/server/manifests/k3vip.yaml";

/** A root holding the user's own manifest (which install backs up) and config.yaml. */
function seeded(): string {
  const root = tmpRoot();
  mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
  writeFileSync(join(root, MANIFEST), USER_MANIFEST, { mode: 0o644 });
  mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
  writeFileSync(join(root, "etc/rancher/k3s/config.yaml"), "write-kubeconfig-mode: '0644'\n");
  return root;
}

/**
 * For k = 0, 1, 2 …: prepare a root, run `crashing` on an Fs that dies after
 * k mutating calls, then `after` (a healthy re-run), and check `expect`.
 * Stops at the first k where the crashing run completes.
 */
async function everyBoundary(name: string, prepare: () => Promise<{ root: string; original: Tree }>, crashing: (fs: Fs, root: string) => Promise<unknown>, after: (root: string, original: Tree) => Promise<void>): Promise<number> {
  for (let k = 0; ; k++) {
    const { root, original } = await prepare();
    const fs = new CrashingFs(new NodeFs(), k);
    try {
      await crashing(fs, root);
    } catch (e) {
      if (!(e instanceof SimulatedCrash) && !(fs.dead && /dead|killed/.test(String(e)))) throw new Error(`${name}, killed after ${k}: ${String(e)}`, { cause: e });
    }
    if (!fs.dead) return k;
    await after(root, original);
  }
}

describe("killed at every step boundary, then run again", () => {
  it("a fresh install over the user's own k3vip.yaml: re-run installs, uninstall gives back the original tree", async () => {
    const n = await everyBoundary(
      "install",
      () => {
        const root = seeded();
        return Promise.resolve({ root, original: snapshotTree(root) });
      },
      (fs, root) => install(opts(root), deps(fs)),
      async (root, original) => {
        const again = await install(opts(root), deps(new NodeFs()));
        // Killed after the commit, only the saved copies were left: nothing more to apply.
        assert.ok(again.status === "applied" || again.status === "up-to-date");
        assert.match(readFileSync(join(root, MANIFEST), "utf8"), /kind: DaemonSet/);
        await rm(root);
        assert.deepEqual(snapshotTree(root), original);
      },
    );
    // The saved dir, the saved copy of the user's manifest and the journal; 3
    // directories; the backup, manifest, drop-in and state; the commit; the
    // saved copy's and the saved dir's removal.
    assert.equal(n, 13);
  });

  it("an update with a new VIP and --migrate: re-run applies it, uninstall gives back the tree before the first install", async () => {
    await everyBoundary(
      "update",
      async () => {
        const root = seeded();
        const original = snapshotTree(root);
        await install(opts(root), deps(new NodeFs()));
        writeFileSync(join(root, "var/lib/rancher/k3s/server/manifests/kube-vip.yaml"), "kind: Pod\napiVersion: v1\nmetadata: {name: kube-vip}\nspec:\n  containers:\n  - {name: kube-vip, image: ghcr.io/kube-vip/kube-vip:v0.8.0}\n", { mode: 0o640 });
        return { root, original: { ...original, ...pick(snapshotTree(root), "var/lib/rancher/k3s/server/manifests/kube-vip.yaml") } };
      },
      (fs, root) => install(opts(root, { config: cfg({ vip: "192.168.0.11" }), migrate: true }), deps(fs)),
      async (root, original) => {
        await install(opts(root, { config: cfg({ vip: "192.168.0.11" }), migrate: true }), deps(new NodeFs()));
        assert.match(readFileSync(join(root, MANIFEST), "utf8"), /192\.168\.0\.11/);
        await rm(root);
        assert.deepEqual(snapshotTree(root), original);
      },
    );
  });

  it("uninstall: re-run finishes it, and the tree is the one before install", async () => {
    const n = await everyBoundary(
      "uninstall",
      async () => {
        const root = seeded();
        const original = snapshotTree(root);
        await install(opts(root), deps(new NodeFs()));
        return { root, original };
      },
      (fs, root) => uninstall({ root }, { fs, reporter: new MemoryReporter(), objects: addonObjects }),
      async (root, original) => {
        await rm(root);
        assert.deepEqual(snapshotTree(root), original);
      },
    );
    assert.ok(n >= 10, `only ${n} boundaries`);
  });
});

function pick(t: Tree, ...keys: string[]): Tree {
  return Object.fromEntries(keys.map((k) => [k, t[k] ?? ""]));
}
