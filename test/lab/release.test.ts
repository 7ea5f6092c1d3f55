// The release path (.github/workflows/release.yml) run here against a real
// OCI registry: Debian's docker-registry (distribution 2.8) as a plain
// process on 127.0.0.1 with a temp config and storage. The workflow's own
// steps push and check the image: scripts/release/push-image.sh (skopeo copy
// --all --preserve-digests) and scripts/release/verify-image.ts (the index
// and every per-arch manifest read back by digest). Then the way users get
// the image: a pull back with skopeo (digests unchanged), `k3vip install
// --image <registry ref>` (the manifest names it, no archive placed) and
// `--image-archive` of the pulled copy (placed, named as the DaemonSet's image).
//
// The multi-arch index comes from scripts/release/assets.sh when the image
// cache already holds every arch's Node (test/lab/image.test.ts fills it,
// and runs first under `npm test`): then it costs ~30 s of tar and hashing.
// Otherwise one amd64 archive stands in for the index (same scripts, same
// checks, one manifest) rather than downloading two more runtimes here.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { parseAllDocuments } from "yaml";
import { AGENT_BUNDLE } from "../../src/image/agent-entry.ts";
import { ARCH_INFO, ARCHES, archiveFileName, archiveRefs, cacheDir, defaultImageRef } from "../../src/image/index.ts";
import { snapshotTree } from "../../src/installer/testing/tree.ts";
import { VERSION } from "../../src/version.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
const DIST = join(REPO, "dist/k3vip.mjs");
const REGISTRY = "/usr/bin/docker-registry";
const missing = [
  ...(existsSync(REGISTRY) ? [] : ["docker-registry (Debian package docker-registry; scripts/setup.sh installs it)"]),
  ...(spawnSync("skopeo", ["--version"]).status === 0 ? [] : ["skopeo"]),
];
const skip = missing.length > 0 ? `needs ${missing.join(" and ")}` : false;

const work = mkdtempSync(join(tmpdir(), "k3v-release-"));
// A private copy of the CLI and the agent bundle beside it: another `npm run build` must not change them mid-test.
const CLI = join(work, "pkg", "k3vip.mjs");
const OUT = join(work, "out");
const TAG = `v${VERSION}`;
const cache = cacheDir();
/** Every arch's Node binary is in the image cache: the release's three-arch build costs no download. */
const allCached = ARCHES.every((a) => existsSync(join(cache, "node", `${ARCH_INFO[a].node.pkg}-${ARCH_INFO[a].node.version}.stripped`)));
let registry: ChildProcess | undefined;
let port = 0;
/** The archive pushed (the multi-arch index, or amd64 alone) and the per-arch archives. */
let pushed = "";
let perArch: string[] = [];

const tlsOff = ["--tls-verify=false"];

function k3vip(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, K3VIP_VIP: undefined, vipAddress: undefined, K3VIP_CACHE: cache }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** docker-registry on 127.0.0.1:<free port>, plain HTTP, storage in the temp dir; retried if another process takes the port first. */
async function startRegistry(): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    const dir = join(work, `registry-${attempt}`);
    mkdirSync(join(dir, "storage"), { recursive: true });
    const config = join(dir, "config.yml");
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "storage")}`,
        "http:",
        `  addr: 127.0.0.1:${port}`,
        "  secret: k3vip-lab-only",
        "",
      ].join("\n"),
    );
    const child = spawn(REGISTRY, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    let exited = false;
    child.once("exit", () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
      if (ok) {
        registry = child;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    if (attempt === 2) throw new Error(`docker-registry did not answer on 127.0.0.1:${port}: ${stderr.trim().split("\n").slice(-3).join(" / ")}`);
  }
}

const reg = (repo = "k3vip", tag = TAG) => `127.0.0.1:${port}/${repo}:${tag}`;

/** The digest an OCI archive's index.json names, and the manifests an index blob lists (by platform). */
function archiveTop(file: string): { digest: string; mediaType: string; manifests: Map<string, string> } {
  const index = JSON.parse(execFileSync("tar", ["-xOf", file, "index.json"], { encoding: "utf8" })) as { manifests: { digest: string; mediaType: string }[] };
  const top = index.manifests[0];
  assert.ok(top && index.manifests.length === 1);
  const manifests = new Map<string, string>();
  if (top.mediaType.endsWith("index.v1+json")) {
    const blob = JSON.parse(execFileSync("tar", ["-xOf", file, `blobs/${top.digest.replace(":", "/")}`], { encoding: "utf8" })) as { manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[] };
    for (const m of blob.manifests) manifests.set([m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/"), m.digest);
  }
  return { digest: top.digest, mediaType: top.mediaType, manifests };
}

function daemonSet(manifest: string): { image: string; pullPolicy: string } {
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { image?: string; imagePullPolicy?: string }[] } } } } | null;
    if (o?.kind !== "DaemonSet") continue;
    new DaemonSet(o as never).validate();
    const c = o.spec?.template?.spec?.containers?.[0];
    return { image: c?.image ?? "", pullPolicy: c?.imagePullPolicy ?? "" };
  }
  throw new Error("no DaemonSet in the manifest");
}

const imagesDir = (root: string) => join(root, "var/lib/rancher/k3s/agent/images");
const manifestOf = (root: string) => readFileSync(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"), "utf8");

before(async () => {
  if (skip) return;
  if (!existsSync(DIST) || !existsSync(join(REPO, AGENT_BUNDLE))) execFileSync(process.execPath, [join(REPO, "scripts/build.mjs")], { stdio: "inherit" });
  mkdirSync(join(work, "pkg"));
  copyFileSync(DIST, CLI);
  copyFileSync(join(REPO, AGENT_BUNDLE), join(work, "pkg", basename(AGENT_BUNDLE)));
  mkdirSync(OUT);
  if (allCached) {
    // The workflow's build step, as it runs there.
    await exec("sh", [join(REPO, "scripts/release/assets.sh"), OUT], { env: { ...process.env, K3VIP_CLI: CLI, K3VIP_CACHE: cache }, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 });
    pushed = join(OUT, archiveFileName("all"));
    perArch = ARCHES.map((a) => join(OUT, archiveFileName(a)));
  } else {
    process.stderr.write(`# the image cache lacks some arch's Node: pushing amd64 alone\n`);
    const r = k3vip(["image", "build", "--arch", "amd64", "--out", join(OUT, archiveFileName("amd64")), "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    pushed = join(OUT, archiveFileName("amd64"));
    perArch = [pushed];
  }
  await startRegistry();
});

after(() => {
  registry?.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

describe("release: the image through a real registry (docker-registry on loopback)", { skip }, () => {
  it("assets.sh: one index over every arch, each per-arch archive one of its manifests, install.sh, SHA256SUMS", { skip: allCached ? false : "only with every arch's Node in the image cache" }, () => {
    const index = archiveTop(pushed);
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual([...index.manifests.keys()], ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
    for (const [file, platform] of perArch.map((f, i) => [f, ["linux/amd64", "linux/arm64", "linux/arm/v7"][i]] as const)) {
      assert.equal(archiveTop(file).digest, index.manifests.get(platform ?? ""), `${basename(file)} is the index's ${platform}`);
    }
    assert.ok(readFileSync(join(OUT, "install.sh")).equals(readFileSync(join(REPO, "install.sh"))));
    const sums = readFileSync(join(OUT, "SHA256SUMS"), "utf8");
    assert.deepEqual(sums.trim().split("\n").map((l) => l.split(/\s+/)[1]), [...["all", ...ARCHES].map((a) => archiveFileName(a as "all")), "install.sh"]);
    execFileSync("sha256sum", ["--check", "--quiet", "SHA256SUMS"], { cwd: OUT });
  });

  it("push-image.sh pushes with every digest unchanged; verify-image.ts reads the index and every manifest back", async () => {
    const want = archiveTop(pushed);
    const push = await exec("sh", [join(REPO, "scripts/release/push-image.sh"), pushed, reg(), "--dest-tls-verify=false"], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    assert.equal(push.stdout.trim(), want.digest);

    const v = await exec(process.execPath, ["--import", "tsx", join(REPO, "scripts/release/verify-image.ts"), reg(), pushed, ...perArch.filter((f) => f !== pushed), ...tlsOff], { cwd: REPO, timeout: 120_000 });
    const out = JSON.parse(v.stdout) as { digest: string; manifests: { platform: string; digest: string }[]; archives: { platform: string; digest: string }[] };
    assert.equal(out.digest, want.digest);
    if (allCached) {
      assert.deepEqual(out.manifests.map((m) => [m.platform, m.digest]), [...want.manifests.entries()]);
      assert.deepEqual(out.archives.map((a) => a.platform), ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
    } else assert.deepEqual(out.manifests.map((m) => m.platform), ["linux/amd64"]);

    // verify-image.ts fails on a tag that holds something else.
    await exec("skopeo", ["copy", "--preserve-digests", "--dest-tls-verify=false", `oci-archive:${perArch[0] ?? ""}:${TAG}`, `docker://${reg("k3vip", "other")}`], { timeout: 120_000 });
    if (allCached) {
      await assert.rejects(
        exec(process.execPath, ["--import", "tsx", join(REPO, "scripts/release/verify-image.ts"), reg("k3vip", "other"), pushed, ...tlsOff], { cwd: REPO }),
        (e: { code?: number; stderr?: string }) => e.code === 1 && /verify-image: 127\.0\.0\.1:\d+\/k3vip:other is sha256:[0-9a-f]{64}, but \S+ holds sha256:/.test(e.stderr ?? ""),
      );
    }
  });

  it("a pull back gives the same digests: the whole index, and one arch's manifest", async () => {
    const want = archiveTop(pushed);
    const all = join(work, "pulled-all.tar");
    await exec("skopeo", ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", `docker://${reg()}`, `oci-archive:${all}:${defaultImageRef()}`], { timeout: 300_000 });
    const got = archiveTop(all);
    assert.equal(got.digest, want.digest);
    assert.deepEqual([...got.manifests.entries()], [...want.manifests.entries()]);

    const one = join(work, "pulled-amd64.tar");
    await exec("skopeo", ["copy", "--preserve-digests", "--src-tls-verify=false", "--override-arch", "amd64", `docker://${reg()}`, `oci-archive:${one}:${defaultImageRef()}`], { timeout: 300_000 });
    assert.equal(archiveTop(one).digest, archiveTop(perArch[0] ?? "").digest, "the amd64 manifest the registry serves is the amd64 airgap archive's");
    // As k3s's airgap import (and ctr import) will name it.
    assert.deepEqual(await archiveRefs(readFileSync(one)), [defaultImageRef()]);
  });

  it("k3vip install --image <the registry's ref>: a schema-valid manifest naming it, no archive placed", () => {
    const root = join(work, "root-image");
    mkdirSync(root);
    const r = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--image", reg()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(daemonSet(manifestOf(root)), { image: reg(), pullPolicy: "IfNotPresent" });
    assert.equal(existsSync(imagesDir(root)), false, "nothing in agent/images/: the kubelet pulls");
    assert.match(r.stderr, new RegExp(`^image: ${reg().replace(/[.]/g, "\\.")}, pulled by the node`, "m"));
  });

  it("--image-archive of the pulled copy: placed under the release's name, tagged as the DaemonSet's image; a copy named by its tag alone is refused", () => {
    const root = join(work, "root-archive");
    mkdirSync(root);
    const pulled = join(work, "pulled-amd64.tar");
    const r = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--image-archive", pulled, "--arch", "amd64"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(imagesDir(root)), [archiveFileName("amd64")]);
    assert.ok(readFileSync(join(imagesDir(root), archiveFileName("amd64"))).equals(readFileSync(pulled)));
    assert.equal(daemonSet(manifestOf(root)).image, defaultImageRef());
    // skopeo resolves the DaemonSet's exact reference in the placed copy, as containerd names it on import.
    const info = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${join(imagesDir(root), archiveFileName("amd64"))}:${defaultImageRef()}`], { encoding: "utf8" })) as { Architecture: string };
    assert.equal(info.Architecture, "amd64");

    // skopeo's oci-archive:<file>:<tag> form: k3s would import it as the bare tag.
    const bare = join(work, "pulled-bare.tar");
    execFileSync("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", "amd64", `docker://${reg()}`, `oci-archive:${bare}:${TAG}`]);
    const root2 = join(work, "root-bare");
    mkdirSync(root2);
    const before = snapshotTree(root2);
    const refused = k3vip(["install", "--root", root2, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--image-archive", bare]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`names its image only by the tag "${TAG.replace(/\./g, "\\.")}".*nothing was changed\\. .*oci-archive:<file>:${defaultImageRef().replace(/[.]/g, "\\.")}`));
    assert.deepEqual(snapshotTree(root2), before);
  });
});
