// The image for real: build amd64, arm64 and armv7 archives once (downloads
// and compressed layers are cached in $K3VIP_CACHE or ~/.cache/k3vip), read
// them with skopeo, unpack them with umoci, check every ELF file's arch with
// readelf, run the arm images under qemu-user and the amd64 image under runc
// inside a lab namespace with NET_ADMIN/NET_RAW only and a read-only rootfs.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { defaults } from "../../src/config/index.ts";
import { configureBundle, unpackBundle } from "../../src/image/bundle.ts";
import { ARCH_INFO, ARCHES, archiveFileName, buildImage, defaultImageRef, imageArchiveFor, type Arch, type BuildResult } from "../../src/image/index.ts";
import { isElf, parseElf } from "../../src/image/elf.ts";
import { Lab } from "../../src/lab/index.ts";
import { VERSION } from "../../src/version.ts";
import { AGENT_BUNDLE, AGENT_COMMAND } from "../../src/image/agent-entry.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
// The agent-only bundle the image ships.
const DIST = join(REPO, AGENT_BUNDLE);
const work = mkdtempSync(join(tmpdir(), "k3v-image-"));
// A private copy: another `npm run build` in this tree must not change the bundle mid-test.
const BUNDLE = join(work, "k3vip.mjs");
const tag = `v${VERSION}`;
const ref = defaultImageRef();
const built = new Map<Arch, BuildResult>();
const bundles = new Map<Arch, string>();
let all: BuildResult;
const log = (line: string) => process.stderr.write(`# ${line}\n`);

async function sh(cmd: string, args: string[], timeout = 120_000): Promise<string> {
  const r = await exec(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout });
  return r.stdout;
}

/** Every regular file under dir (not following symlinks). */
function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel))) {
    const p = join(rel, n);
    const st = lstatSync(join(dir, p));
    if (st.isDirectory()) out.push(...walk(dir, p));
    else if (st.isFile()) out.push(`/${p}`);
  }
  return out;
}

before(async () => {
  // `npm test` builds dist/ first; a lone run of this file does it here.
  if (!existsSync(DIST)) await sh(process.execPath, [join(REPO, "scripts/build.mjs")]);
  copyFileSync(DIST, BUNDLE);
  for (const arch of ARCHES) {
    built.set(arch, await buildImage({ arches: [arch], out: join(work, `${arch}.tar`), bundle: BUNDLE, log }));
  }
  // Layers come from the cache filled above: the multi-arch build costs only its tar.
  all = await buildImage({ arches: ARCHES, out: join(work, "all.tar"), bundle: BUNDLE, log });
  for (const arch of ARCHES) bundles.set(arch, await unpackBundle(join(work, `${arch}.tar`), tag, work, arch));
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("image archives", () => {
  it("are tagged with the manifest's image reference", () => {
    assert.equal(ref, defaults(VERSION).image);
    for (const r of [...built.values(), all]) {
      assert.equal(r.ref, ref);
      const index = JSON.parse(execFileSyncText("tar", ["-xOf", r.out, "index.json"])) as { manifests: { annotations: Record<string, string> }[] };
      assert.equal(index.manifests.length, 1);
      assert.deepEqual(index.manifests[0]?.annotations, { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag });
    }
  });

  it("skopeo reads each single-arch archive with the right platform", async () => {
    for (const arch of ARCHES) {
      const a = ARCH_INFO[arch];
      const info = JSON.parse(await sh("skopeo", ["inspect", `oci-archive:${join(work, `${arch}.tar`)}:${tag}`])) as Record<string, unknown>;
      assert.equal(info.Architecture, a.architecture, arch);
      assert.equal(info.Os, "linux");
      // skopeo 1.9's inspect has no Variant field: read the config.
      const config = JSON.parse(await sh("skopeo", ["inspect", "--config", `oci-archive:${join(work, `${arch}.tar`)}:${tag}`])) as Record<string, unknown>;
      assert.equal(config.variant ?? "", a.variant ?? "", arch);
      assert.equal((info.Layers as string[]).length, 3);
      assert.equal((info.Labels as Record<string, string>)["org.opencontainers.image.version"], VERSION);
      const raw = JSON.parse(await sh("skopeo", ["inspect", "--raw", `oci-archive:${join(work, `${arch}.tar`)}:${tag}`])) as { mediaType: string; layers: { mediaType: string }[] };
      assert.equal(raw.mediaType, "application/vnd.oci.image.manifest.v1+json");
      assert.deepEqual(new Set(raw.layers.map((l) => l.mediaType)), new Set(["application/vnd.oci.image.layer.v1.tar+zstd"]));
    }
  });

  it("--arch all is one multi-arch OCI index: linux/amd64, linux/arm64, linux/arm/v7", async () => {
    const raw = JSON.parse(await sh("skopeo", ["inspect", "--raw", `oci-archive:${all.out}:${tag}`])) as { mediaType: string; manifests: { digest: string; platform: Record<string, string> }[] };
    assert.equal(raw.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      raw.manifests.map((m) => [m.platform.os, m.platform.architecture, m.platform.variant ?? ""].join("/")),
      ["linux/amd64/", "linux/arm64/", "linux/arm/v7"],
    );
    // The same manifests as the single-arch archives: one build, three ways to ship it.
    assert.deepEqual(raw.manifests.map((m) => m.digest), ARCHES.map((a) => built.get(a)?.images[0]?.manifestDigest));
    for (const [arch, want] of [["arm64", "arm64"], ["arm", "arm"]] as const) {
      const info = JSON.parse(await sh("skopeo", ["--override-arch", want, ...(arch === "arm" ? ["--override-variant", "v7"] : []), "inspect", `oci-archive:${all.out}:${tag}`])) as Record<string, unknown>;
      assert.equal(info.Architecture, want);
    }
  });

  it("docker-archive: skopeo sees the tag and platform, and two builds are byte-identical", async () => {
    const a = join(work, "docker-1.tar");
    const b = join(work, "docker-2.tar");
    // reuseBlobs off: both builds compress every layer afresh.
    const r1 = await buildImage({ arches: ["amd64"], out: a, format: "docker", bundle: BUNDLE, reuseBlobs: false });
    const r2 = await buildImage({ arches: ["amd64"], out: b, format: "docker", bundle: BUNDLE, reuseBlobs: false });
    assert.equal(r1.compression, "gzip");
    assert.equal(await sh("sha256sum", [a]).then((s) => s.split(" ")[0]), await sh("sha256sum", [b]).then((s) => s.split(" ")[0]));
    assert.equal(r1.digest, r2.digest);
    // Looked up by its tag in manifest.json's RepoTags.
    const info = JSON.parse(await sh("skopeo", ["inspect", `docker-archive:${a}:${ref}`])) as Record<string, unknown>;
    assert.equal(info.Architecture, "amd64");
    assert.equal(info.Name, ref.slice(0, ref.lastIndexOf(":")));
    // Same image config as the OCI build: the layers are the same bytes before compression.
    assert.equal(r1.images[0]?.layers.map((l) => l.diffId).join(), built.get("amd64")?.images[0]?.layers.map((l) => l.diffId).join());
  });
});

describe("imageArchiveFor (what install copies into agent/images/)", () => {
  it("prefers an archive shipped beside the bundle, else builds into the cache once, and rebuilds when the bundle changes", async () => {
    const shippedDir = join(work, "pkg");
    mkdirSync(join(shippedDir, "images"), { recursive: true });
    copyFileSync(BUNDLE, join(shippedDir, "k3vip.mjs"));
    writeFileSync(join(shippedDir, "images", archiveFileName("arm64")), "shipped");
    const shipped = await imageArchiveFor("arm64", { bundle: join(shippedDir, "k3vip.mjs") });
    assert.deepEqual(shipped, { path: join(shippedDir, "images", archiveFileName("arm64")), ref, arch: "arm64", source: "shipped" });

    // A bundle of our own makes the cache key ours; the cache dir is the shared one (downloads, layers).
    const mine = join(work, "mine", "k3vip.mjs");
    mkdirSync(join(work, "mine"));
    copyFileSync(BUNDLE, mine);
    appendFileSync(mine, `\n// ${process.pid} ${Date.now()}\n`);
    const first = await imageArchiveFor("amd64", { bundle: mine, log });
    assert.equal(first.source, "built");
    assert.equal(first.ref, ref);
    assert.ok(first.path.endsWith(`/archives/${archiveFileName("amd64")}`), first.path);
    const again = await imageArchiveFor("amd64", { bundle: mine });
    assert.equal(again.source, "cache");
    assert.equal(again.path, first.path);
    appendFileSync(mine, "// changed\n");
    assert.equal((await imageArchiveFor("amd64", { bundle: mine })).source, "built");
    const info = JSON.parse(await sh("skopeo", ["inspect", "--config", `oci-archive:${first.path}:${tag}`])) as { architecture: string };
    assert.equal(info.architecture, "amd64");
  });
});

function execFileSyncText(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

describe("image contents", () => {
  const READELF_MACHINE: Record<Arch, string> = { amd64: "Advanced Micro Devices X86-64", arm64: "AArch64", arm: "ARM" };

  it("every ELF file is for the image's arch (readelf and our reader agree)", async () => {
    for (const arch of ARCHES) {
      const root = join(bundles.get(arch) ?? "", "rootfs");
      const elves = walk(root).filter((p) => isElf(readFileSync(join(root, p)).subarray(0, 4)));
      assert.ok(elves.length >= 10, `${arch}: ${elves.join(" ")}`);
      for (const p of elves) {
        const hdr = await sh("readelf", ["-h", join(root, p)]);
        assert.match(hdr, new RegExp(`Machine:\\s+${READELF_MACHINE[arch]}\\n`), `${arch} ${p}`);
        assert.match(hdr, new RegExp(`Class:\\s+ELF${ARCH_INFO[arch].elfClass}\\n`), `${arch} ${p}`);
        assert.equal(parseElf(readFileSync(join(root, p)))?.machine, ARCH_INFO[arch].elfMachine, `${arch} ${p}`);
      }
    }
  });

  it("holds node, the agent, ip, arping, their libraries, CA certificates — and no shell or package manager", () => {
    for (const arch of ARCHES) {
      const root = join(bundles.get(arch) ?? "", "rootfs");
      const files = walk(root);
      for (const f of ["/usr/local/bin/node", "/opt/k3vip/k3vip.mjs", "/usr/bin/ip", "/usr/bin/arping", "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd"]) {
        assert.ok(files.includes(f), `${arch}: ${f}`);
      }
      // The bundle built from AGENT_BUNDLE, its first line naming the image's node; `k3vip` on PATH links to it.
      const bundle = readFileSync(join(root, "opt/k3vip/k3vip.mjs"));
      assert.equal(bundle.subarray(0, bundle.indexOf(0x0a) + 1).toString(), "#!/usr/local/bin/node\n", arch);
      assert.ok(bundle.subarray(bundle.indexOf(0x0a)).equals(readFileSync(BUNDLE).subarray(readFileSync(BUNDLE).indexOf(0x0a))), `${arch}: the bundle is the one built from ${AGENT_BUNDLE}`);
      assert.equal(readlinkSync(join(root, "usr/local/bin/k3vip")), "../../../opt/k3vip/k3vip.mjs", arch);
      for (const f of files) {
        assert.doesNotMatch(f, /\/(sh|bash|dash|busybox|apt|apt-get|dpkg|npm)$/, `${arch}: ${f}`);
        assert.doesNotMatch(f, /^\/usr\/share\/(doc|man)\//, `${arch}: ${f}`);
      }
      assert.ok(files.length < 40, `${arch}: ${files.length} files`);
      const certs = readFileSync(join(root, "etc/ssl/certs/ca-certificates.crt"), "utf8").match(/BEGIN CERTIFICATE/g) ?? [];
      assert.ok(certs.length > 100, `${arch}: ${certs.length} CA certificates`);
      const cfg = JSON.parse(readFileSync(join(bundles.get(arch) ?? "", "config.json"), "utf8")) as { process: { args: string[] } };
      assert.deepEqual(cfg.process.args, [...AGENT_COMMAND, "agent"]);
    }
  });
});

describe("arm images under qemu-user", () => {
  for (const arch of ["arm64", "arm"] as const) {
    it(`${arch}: node, the agent's --help, ip -j and arping run from the image's own libraries`, async () => {
      const root = join(bundles.get(arch) ?? "", "rootfs");
      const q = ARCH_INFO[arch].qemu;
      const inRoot = (args: string[]) => sh(q, ["-L", root, ...args.map((a) => (a.startsWith("/") ? join(root, a) : a))], 300_000);
      assert.equal((await inRoot(["/usr/local/bin/node", "--version"])).trim(), `v${ARCH_INFO[arch].node.version}`);
      assert.equal((await inRoot(["/usr/local/bin/node", "-p", "process.arch"])).trim(), arch);
      // The entrypoint as shipped: its Node flags must be accepted by this arch's Node (20.11 on armv7).
      assert.match(await inRoot([...AGENT_COMMAND, "--help"]), /^Usage: k3vip /);
      assert.match(await inRoot([...AGENT_COMMAND, "agent", "--help"]), /^Usage: k3vip agent\|manager /);
      assert.match(await inRoot([...AGENT_COMMAND, "--version"]), new RegExp(`^${VERSION.replace(/\./g, "\\.")}\\n`));
      assert.match(await inRoot(["/usr/bin/ip", "-V"]), /iproute2/);
      assert.match(await inRoot(["/usr/bin/arping", "-V"]), /iputils/);
      // ip -j in a namespace of our own (only its loopback): JSON, as the VIP adapter parses it.
      const ns = `k3v-${process.pid}-img-${arch}`;
      await sh("ip", ["netns", "add", ns]);
      try {
        const out = await sh("ip", ["netns", "exec", ns, q, "-L", root, join(root, "usr/bin/ip"), "-j", "addr", "show"]);
        const links = JSON.parse(out) as { ifname: string }[];
        assert.deepEqual(links.map((l) => l.ifname), ["lo"]);
      } finally {
        await sh("ip", ["netns", "del", ns]);
      }
    });
  }
});

describe("amd64 image under runc in a lab namespace (NET_ADMIN + NET_RAW, read-only rootfs)", () => {
  let lab: Lab;
  const ids: string[] = [];
  before(async () => {
    lab = await Lab.create({ servers: 1, prefix: "k3vi" });
  });
  after(async () => {
    for (const id of ids) await exec("runc", ["delete", "--force", id]).catch(() => undefined);
    await lab.destroy();
  });

  async function runIn(args: string[] | undefined): Promise<string> {
    const bundle = bundles.get("amd64") ?? "";
    const node = lab.servers[0]!;
    configureBundle(bundle, { netns: `/run/netns/${node.ns}`, ...(args ? { args } : {}) });
    const id = `k3v-${process.pid}-${ids.length}`;
    ids.push(id);
    try {
      return await sh("runc", ["run", "--bundle", bundle, id], 60_000);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`${err.message}\n${err.stderr ?? ""}`);
    }
  }

  it("the image's entrypoint runs the agent CLI", async () => {
    assert.match(await runIn([...AGENT_COMMAND, "--help"]), /^Usage: k3vip /);
    assert.equal((await runIn(["/usr/local/bin/node", "--version"])).trim(), `v${ARCH_INFO.amd64.node.version}`);
  });

  it("shares the namespace it starts in and can add/remove an address and send gratuitous ARP", async () => {
    const node = lab.servers[0]!;
    const links = JSON.parse(await runIn(["/usr/bin/ip", "-j", "addr", "show", "dev", node.ifname])) as { addr_info: { local: string }[] }[];
    assert.ok(links[0]?.addr_info.some((a) => a.local === node.ipv4), JSON.stringify(links));
    const vip = "198.18.0.10";
    await runIn(["/usr/bin/ip", "addr", "add", `${vip}/32`, "dev", node.ifname]);
    const seen = JSON.parse((await lab.exec(node.ns, ["ip", "-j", "addr", "show", "dev", node.ifname])).stdout) as { addr_info: { local: string }[] }[];
    assert.ok(seen[0]?.addr_info.some((a) => a.local === vip), "the VIP the container added is on the namespace's interface");
    await runIn(["/usr/bin/arping", "-U", "-c", "1", "-I", node.ifname, vip]);
    await runIn(["/usr/bin/ip", "addr", "del", `${vip}/32`, "dev", node.ifname]);
    const gone = JSON.parse((await lab.exec(node.ns, ["ip", "-j", "addr", "show", "dev", node.ifname])).stdout) as { addr_info: { local: string }[] }[];
    assert.ok(!gone[0]?.addr_info.some((a) => a.local === vip));
  });

  it("cannot write its rootfs or use capabilities it was not given", async () => {
    await assert.rejects(runIn(["/usr/local/bin/node", "-e", "require('fs').writeFileSync('/opt/k3vip/x', 'x')"]), /EROFS|read-only/);
    // Only NET_ADMIN/NET_RAW: even root cannot change its groups (CAP_SETGID).
    await assert.rejects(runIn(["/usr/local/bin/node", "-e", "process.setgroups([1])"]), /EPERM/);
  });
});
