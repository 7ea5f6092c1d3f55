// Untrusted paths (hardening #11 item 3): before, a state record naming
// /../outside/x made uninstall delete a file outside --root; a symlinked
// manifests dir was followed out of the root; a k3vip.yaml symlinked to an
// outside file had its bytes printed by --dry-run and copied into a backup;
// any file given as --image-archive was copied to a 0644 file.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { resolveConfig, type Config } from "../config/index.ts";
import { archiveRefs } from "../image/index.ts";
import { standInArchive } from "../image/testing/archive.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";
import { install, InstallerError, MemoryReporter, NodeFs, uninstall, type InstallOptions } from "./index.ts";
import { FakeChecker } from "./testing/fakes.ts";
import { snapshotTree, tempRoots } from "./testing/tree.ts";

const tmpRoot = tempRoots("k3vip-confine-");
const cfg = (flags: Record<string, string> = {}): Config => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0", ...flags } });
const deps = () => ({ fs: new NodeFs(), checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0", inspect: archiveRefs });
const opts = (root: string, o: Partial<InstallOptions> = {}): InstallOptions => ({ config: cfg(), root, preflight: false, ...o });
const un = (root: string, dryRun = false) => uninstall({ root, dryRun }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
const SECRET_BYTES = "outside-secret-bytes-9f2c\n";

/** A root and, beside it, an "outside" directory holding a file nothing may touch. */
function rootWithOutside(): { root: string; outside: string; victim: string } {
  const base = tmpRoot();
  const root = join(base, "root");
  const outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  const victim = join(outside, "x");
  writeFileSync(victim, SECRET_BYTES, { mode: 0o600 });
  return { root, outside, victim };
}

describe("paths that would leave --root", () => {
  it("a state record naming /../outside/x: uninstall refuses and deletes nothing", async () => {
    const { root, outside, victim } = rootWithOutside();
    await install(opts(root), deps());
    const statePath = join(root, "var/lib/rancher/k3s/k3vip/state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { files: { path: string; sha256: string }[] };
    state.files.push({ ...state.files[0]!, path: "/../outside/x" });
    writeFileSync(statePath, JSON.stringify(state));
    const before = snapshotTree(root);
    await assert.rejects(un(root), (e: unknown) => e instanceof InstallerError && /names "\/\.\.\/outside\/x", not a plain absolute path; k3vip will not touch it/.test(e.message));
    assert.equal(readFileSync(victim, "utf8"), SECRET_BYTES);
    assert.deepEqual(snapshotTree(root), before);
    // A plain path, but not one install writes to (e.g. /etc/passwd): refused too.
    state.files[state.files.length - 1]!.path = "/etc/passwd";
    writeFileSync(statePath, JSON.stringify(state));
    await assert.rejects(un(root), /names "\/etc\/passwd", outside the places k3vip writes to/);
    assert.deepEqual(readdirSync(outside), ["x"]);
  });

  it("a symlinked server/manifests dir pointing out of the root: install refuses, nothing is written outside", async () => {
    const { root, outside } = rootWithOutside();
    mkdirSync(join(root, "var/lib/rancher/k3s/server"), { recursive: true });
    symlinkSync(outside, join(root, "var/lib/rancher/k3s/server/manifests"));
    const before = snapshotTree(root);
    for (const dryRun of [false, true]) {
      await assert.rejects(install(opts(root, { dryRun }), deps()), (e: unknown) => e instanceof InstallerError && /manifests\/k3vip\.yaml leads outside --root .* through a symbolic link/.test(e.message));
    }
    assert.deepEqual(readdirSync(outside), ["x"]);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("a k3vip.yaml that is a symlink to an outside file: refused, its bytes never printed nor backed up", async () => {
    const { root, victim } = rootWithOutside();
    mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
    symlinkSync(victim, join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"));
    const before = snapshotTree(root);
    for (const dryRun of [true, false]) {
      await assert.rejects(install(opts(root, { dryRun }), deps()), (e: unknown) => {
        assert.ok(e instanceof InstallerError);
        assert.match(e.message, /k3vip\.yaml is a symbolic link \(to .*outside\/x\): k3vip manages a plain file or directory there and never follows a link/);
        assert.doesNotMatch(e.message, /outside-secret-bytes/);
        return true;
      });
    }
    assert.deepEqual(snapshotTree(root), before);
  });

  it("a symlink inside the root is fine (a data dir moved to another place under it)", async () => {
    const root = tmpRoot();
    mkdirSync(join(root, "data/rancher"), { recursive: true });
    mkdirSync(join(root, "var/lib"), { recursive: true });
    symlinkSync(join(root, "data/rancher"), join(root, "var/lib/rancher"));
    const before = snapshotTree(root);
    assert.equal((await install(opts(root), deps())).status, "applied");
    assert.match(readFileSync(join(root, "data/rancher/k3s/server/manifests/k3vip.yaml"), "utf8"), /kind: DaemonSet/);
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });
});

describe("--image-archive must be an archive of the DaemonSet's image", () => {
  it("a file that is no image archive, or one of another image, is refused; nothing changed", async () => {
    const root = tmpRoot();
    const dir = tmpRoot();
    const before = snapshotTree(root);
    writeFileSync(join(dir, "secrets.tar"), "root:x:0:0\n");
    await assert.rejects(install(opts(root, { imageArchive: join(dir, "secrets.tar"), imageArch: "amd64" }), deps()), /secrets\.tar is not an image archive \(a tar with an OCI index\.json or a docker manifest\.json\); nothing was changed/);
    writeFileSync(join(dir, "other.tar"), standInArchive("docker.io/library/nginx:1.27"));
    await assert.rejects(install(opts(root, { imageArchive: join(dir, "other.tar"), imageArch: "amd64" }), deps()), /other\.tar holds docker\.io\/library\/nginx:1\.27, not the DaemonSet's image ghcr\.io\/k3vip\/k3vip:v0\.1\.0; nothing was changed.*--image docker\.io\/library\/nginx:1\.27/);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("a symlink to a 0640 archive: the copy keeps 0640, never 0644", async () => {
    const root = tmpRoot();
    const dir = tmpRoot();
    writeFileSync(join(dir, "real.tar"), standInArchive(cfg().image));
    chmodSync(join(dir, "real.tar"), 0o640);
    symlinkSync(join(dir, "real.tar"), join(dir, "link.tar"));
    await install(opts(root, { imageArchive: join(dir, "link.tar"), imageArch: "amd64" }), deps());
    assert.equal(statSync(join(root, "var/lib/rancher/k3s/agent/images/k3vip-v0.1.0-amd64.tar")).mode & 0o777, 0o640);
  });
});
