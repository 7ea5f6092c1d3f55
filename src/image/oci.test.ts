// Image documents, arch names and build options: pure checks, no downloads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_IMAGE_REPO, UsageError, defaults } from "../config/index.ts";
import { ARCH_INFO, archAlias, hostArch, parseArchList } from "./arch.ts";
import { archiveFileName } from "../config/index.ts";
import { checkBuildOptions, defaultImageRef } from "./build.ts";
import { dockerManifest, dockerRepositories, imageConfig, imageIndex, imageManifest, jsonBlob, layerMediaType, platformOf, refAnnotations, splitRef, MT } from "./oci.ts";
import { relativeLink, usrMerged } from "./rootfs.ts";
import { VERSION } from "../version.ts";

const layers = [
  { diffId: "sha256:" + "a".repeat(64), digest: "sha256:" + "b".repeat(64), size: 10, comment: "node" },
  { diffId: "sha256:" + "c".repeat(64), digest: "sha256:" + "d".repeat(64), size: 20, comment: "agent" },
];
const rc = { entrypoint: ["/usr/local/bin/node", "/opt/k3vip/k3vip.mjs"], cmd: ["agent"], env: ["PATH=/usr/bin"], labels: {}, created: "1970-01-01T00:00:00Z" };

describe("image reference", () => {
  it("defaults to the manifest's image, from src/config", () => {
    assert.equal(defaultImageRef(), defaults(VERSION).image);
    assert.equal(defaultImageRef(), `${DEFAULT_IMAGE_REPO}:v${VERSION}`);
    assert.deepEqual(splitRef("ghcr.io/k3vip/k3vip:v0.1.0"), { full: "ghcr.io/k3vip/k3vip:v0.1.0", repo: "ghcr.io/k3vip/k3vip", tag: "v0.1.0" });
    assert.deepEqual(splitRef("registry:5000/k3vip"), { full: "registry:5000/k3vip:latest", repo: "registry:5000/k3vip", tag: "latest" });
  });

  it("is named the way containerd's exporter names it", () => {
    assert.deepEqual(refAnnotations(splitRef("reg.example/k3vip:v1")), { "io.containerd.image.name": "reg.example/k3vip:v1", "org.opencontainers.image.ref.name": "v1" });
  });
});

describe("OCI documents", () => {
  it("config carries the platform (variant v7 only for arm) and the diff ids", () => {
    const arm = imageConfig(ARCH_INFO.arm, rc, layers) as Record<string, unknown>;
    assert.equal(arm.architecture, "arm");
    assert.equal(arm.variant, "v7");
    assert.equal(arm.os, "linux");
    assert.deepEqual((arm.rootfs as { diff_ids: string[] }).diff_ids, layers.map((l) => l.diffId));
    const amd = imageConfig(ARCH_INFO.amd64, rc, layers) as Record<string, unknown>;
    assert.equal(amd.architecture, "amd64");
    assert.equal("variant" in amd, false);
    assert.deepEqual((amd.config as { Entrypoint: string[] }).Entrypoint, rc.entrypoint);
    assert.deepEqual(platformOf(ARCH_INFO.arm64), { architecture: "arm64", os: "linux" });
  });

  it("layer media types follow the compression", () => {
    assert.equal(layerMediaType("zstd"), "application/vnd.oci.image.layer.v1.tar+zstd");
    assert.equal(layerMediaType("gzip"), "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.equal(layerMediaType("none"), "application/vnd.oci.image.layer.v1.tar");
    const config = jsonBlob({ x: 1 });
    const m = imageManifest(config, layers, "zstd", {}) as { layers: { mediaType: string; digest: string }[]; config: { digest: string; size: number } };
    assert.deepEqual(m.layers.map((l) => l.mediaType), [MT.ociLayerZstd, MT.ociLayerZstd]);
    assert.equal(m.config.digest, config.digest);
    assert.equal(m.config.size, config.bytes.length);
  });

  it("documents are byte-stable (same input, same digest)", () => {
    const a = jsonBlob(imageIndex([{ mediaType: MT.ociManifest, digest: layers[0]!.digest, size: 1, platform: platformOf(ARCH_INFO.arm) }]));
    const b = jsonBlob(imageIndex([{ mediaType: MT.ociManifest, digest: layers[0]!.digest, size: 1, platform: platformOf(ARCH_INFO.arm) }]));
    assert.equal(a.digest, b.digest);
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
  });

  it("docker-archive manifest.json and repositories name the tag and the blobs", () => {
    const ref = splitRef("ghcr.io/k3vip/k3vip:v0.1.0");
    const config = jsonBlob({ x: 1 });
    assert.deepEqual(dockerManifest(config, layers, ref), [
      { Config: `blobs/sha256/${config.digest.slice(7)}`, RepoTags: ["ghcr.io/k3vip/k3vip:v0.1.0"], Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) },
    ]);
    assert.deepEqual(dockerRepositories(layers, ref), { "ghcr.io/k3vip/k3vip": { "v0.1.0": "d".repeat(64) } });
  });
});

describe("arch names", () => {
  it("maps Node's, uname's and Debian's names", () => {
    for (const [n, a] of [["x64", "amd64"], ["x86_64", "amd64"], ["arm64", "arm64"], ["aarch64", "arm64"], ["arm", "arm"], ["armv7l", "arm"], ["armv8l", "arm"], ["armhf", "arm"]] as const) {
      assert.equal(archAlias(n), a, n);
    }
    assert.equal(archAlias("riscv64"), undefined);
    assert.equal(hostArch("x64"), "amd64");
    assert.throws(() => hostArch("s390x"), UsageError);
  });

  it("parses --arch, with one-line usage errors", () => {
    assert.deepEqual(parseArchList("all"), ["amd64", "arm64", "arm"]);
    assert.deepEqual(parseArchList("aarch64"), ["arm64"]);
    assert.throws(() => parseArchList("mips"), { name: "UsageError", message: '--arch "mips" is not an architecture (valid: amd64, arm64, arm, all)' });
  });

  it("each arch's facts agree with each other", () => {
    assert.equal(ARCH_INFO.arm.debArch, "armhf");
    assert.equal(ARCH_INFO.arm.elfClass, 32);
    assert.equal(ARCH_INFO.arm.node.version, "20.11.0");
    for (const a of Object.values(ARCH_INFO)) assert.match(a.node.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});

describe("build options", () => {
  const ok = { arches: ["amd64"] as const, out: "/tmp/x.tar" };
  it("defaults: OCI, zstd layers, the manifest's image", () => {
    const r = checkBuildOptions(ok);
    assert.equal(r.format, "oci");
    assert.equal(r.compression, "zstd");
    assert.equal(r.ref.full, defaults(VERSION).image);
    assert.equal(checkBuildOptions({ ...ok, format: "docker" }).compression, "gzip");
    assert.equal(checkBuildOptions({ ...ok, image: "reg.local:5000/k3vip:dev" }).ref.tag, "dev");
  });

  it("refuses what would not import, naming the option", () => {
    const bad: [Parameters<typeof checkBuildOptions>[0], RegExp][] = [
      [{ ...ok, arches: ["amd64", "arm64"], format: "docker" }, /^--format "docker" holds one architecture/],
      [{ ...ok, format: "docker", compress: "zstd" }, /^--compress "zstd" does not fit --format docker/],
      [{ ...ok, out: "/tmp/x.tar.zst" }, /^--out "\/tmp\/x.tar.zst": .* name it \*\.tar$/],
      [{ ...ok, image: "Not A Ref" }, /^--image "Not A Ref" is not an image reference/],
      [{ ...ok, image: `ghcr.io/k3vip/k3vip@sha256:${"a".repeat(64)}` }, /has a digest/],
      [{ ...ok, arches: [] }, /^--arch is empty/],
    ];
    for (const [o, re] of bad) assert.throws(() => checkBuildOptions(o), (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"));
  });

  it("names the airgap file by version and arch", () => {
    assert.equal(archiveFileName("arm64", "1.2.3"), "k3vip-v1.2.3-arm64.tar");
  });
});

describe("layout helpers", () => {
  it("merges /bin, /sbin, /lib, /lib64 into /usr", () => {
    assert.equal(usrMerged("/bin/ip"), "/usr/bin/ip");
    assert.equal(usrMerged("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2");
    assert.equal(usrMerged("/library"), "/library");
    assert.equal(usrMerged("/usr/bin/arping"), "/usr/bin/arping");
  });

  it("makes symlinks relative", () => {
    assert.equal(relativeLink("/usr/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    assert.equal(relativeLink("/usr/sbin/ip", "/usr/bin/ip"), "../bin/ip");
  });
});
