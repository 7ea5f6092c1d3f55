// `k3vip install --airgap` with a REAL image archive, through the built CLI
// (no --image-archive): imageArchiveFor finds the amd64 archive in
// the shared image cache ($K3VIP_CACHE or ~/.cache/k3vip, the one
// test/lab/image*.test.ts fill) or assembles it from the cached layers
// (about a second warm; a cold cache costs the same downloads the image tests
// need anyway). Then: the archive lands in agent/images/, skopeo finds in it
// the very tag the written DaemonSet names, a second run is up to date, and
// uninstall leaves the tree byte-identical.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { AGENT_BUNDLE } from "../../src/image/agent-entry.ts";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { archiveFileName, cacheDir } from "../../src/image/index.ts";
import { snapshotTree } from "../../src/installer/testing/tree.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
const DIST = join(REPO, "dist/k3vip.mjs");
const work = mkdtempSync(join(tmpdir(), "k3v-image-install-"));
// A private copy: another `npm run build` in this tree must not change the bundle mid-test.
const CLI = join(work, "pkg", "k3vip.mjs");
const ARCHIVE = archiveFileName("amd64");

function k3vip(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, K3VIP_VIP: undefined, vipAddress: undefined, K3VIP_CACHE: cacheDir() }, timeout: 900_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The DaemonSet's container image in a written add-on manifest. */
function daemonSetImage(manifest: string): string {
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { image?: string; imagePullPolicy?: string }[] } } } } | null;
    if (o?.kind !== "DaemonSet") continue;
    const c = o.spec?.template?.spec?.containers?.[0];
    assert.equal(c?.imagePullPolicy, "IfNotPresent", "an imported image is used only without Always");
    return c?.image ?? "";
  }
  throw new Error("no DaemonSet in the manifest");
}

before(() => {
  // `npm test` builds dist/ first; a lone run of this file does it here.
  if (!existsSync(DIST) || !existsSync(join(REPO, AGENT_BUNDLE))) execFileSync(process.execPath, [join(REPO, "scripts/build.mjs")], { stdio: "inherit" });
  mkdirSync(join(work, "pkg"));
  copyFileSync(DIST, CLI);
  // The image ships the agent-only bundle found beside the CLI, as in the npm package's dist/.
  copyFileSync(join(REPO, AGENT_BUNDLE), join(work, "pkg", basename(AGENT_BUNDLE)));
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("k3vip install --airgap places a real image archive (k3s, --root)", () => {
  it("archive in agent/images/ tagged as the DaemonSet's image; second run up to date; uninstall restores the tree", async () => {
    const root = join(work, "root");
    mkdirSync(root);
    const before = snapshotTree(root);
    const args = ["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--airgap", "--arch", "amd64", "--no-preflight"];

    const r1 = k3vip(args);
    assert.equal(r1.code, 0, r1.stderr);
    const placed = join(root, "var/lib/rancher/k3s/agent/images", ARCHIVE);
    assert.match(r1.stderr, new RegExp(`create image archive: ${placed}`));
    assert.match(r1.stderr, /^image: \S+ from \S+ \(amd64, (cache|built)\)$/m);
    assert.match(r1.stderr, /note: k3s imports \/var\/lib\/rancher\/k3s\/agent\/images\/k3vip-v\S+-amd64\.tar when it starts/);
    assert.equal(statSync(placed).mode & 0o777, 0o644);
    assert.ok(statSync(placed).size > 10 * 1024 * 1024, "a whole image, not a stand-in");

    const image = daemonSetImage(readFileSync(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"), "utf8"));
    const tag = image.slice(image.lastIndexOf(":") + 1);
    // containerd names the imported image by this annotation; skopeo resolves the tag.
    const index = JSON.parse(execFileSync("tar", ["-xOf", placed, "index.json"], { encoding: "utf8" })) as { manifests: { annotations?: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations?.["io.containerd.image.name"]), [image]);
    const info = JSON.parse((await exec("skopeo", ["inspect", `oci-archive:${placed}:${tag}`], { maxBuffer: 16 * 1024 * 1024 })).stdout) as { Architecture: string; Os: string };
    assert.deepEqual([info.Os, info.Architecture], ["linux", "amd64"]);
    await assert.rejects(exec("skopeo", ["inspect", `oci-archive:${placed}:${tag}-not-there`]), /no descriptor found/);

    const r2 = k3vip(args);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /k3vip is up to date \(k3s\): nothing changed/);
    assert.match(r2.stderr, /\(amd64, cache\)/);

    const u = k3vip(["uninstall", "--root", root]);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stderr, new RegExp(`removed image archive: ${placed}`));
    assert.deepEqual(snapshotTree(root), before);
  });
});
