// The image: build an archive that k3s/RKE2 import from their airgap images
// dir (or `ctr images import`), for amd64, arm64 and armv7, with no registry.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { VERSION } from "../version.ts";
import { ARCH_INFO, type Arch } from "./arch.ts";
import { archiveFileName } from "../config/index.ts";
import { buildImage, defaultBundle, defaultImageRef, fileSha256, type BuildResult } from "./build.ts";
import type { Compression, Format } from "./oci.ts";
import { cacheDir, type Log } from "./sources.ts";

export { ARCHES, ARCH_INFO, archAlias, hostArch, parseArchList, type Arch, type ArchInfo } from "./arch.ts";
export { archiveFileName } from "../config/index.ts";
export { buildImage, buildRootfs, checkBuildOptions, defaultBundle, defaultImageRef, type BuildOptions, type BuildResult, type ImageResult, type LayerResult } from "./build.ts";
export { AGENT_PATH, CMD, DEBIAN_PACKAGES, ENTRYPOINT, NODE_PATH, TOOLS } from "./rootfs.ts";
export { cacheDir } from "./sources.ts";
export { archiveRefs } from "./inspect.ts";
export { AGENT_BUNDLE, AGENT_COMMAND, AGENT_NODE_FLAGS } from "./agent-entry.ts";
export type { Compression, Format } from "./oci.ts";

export interface ArchiveFor {
  /** The archive file (a plain .tar, OCI layout, zstd layers). */
  path: string;
  /** The reference it is tagged with: the manifest's default image. */
  ref: string;
  arch: Arch;
  /** Where it came from: shipped next to the bundle, the cache, or built now. */
  source: "shipped" | "cache" | "built";
}

/**
 * What a cached archive (`<cache>/archives/<name>`) was built from, stored
 * beside it as `<name>.key`: a different bundle, Node or format rebuilds it.
 * Exported so tests can seed a cache the way a build would.
 */
export function archiveCacheKey(arch: Arch, bundle: string, opts: { compress?: Compression; format?: Format } = {}): string {
  return JSON.stringify({
    version: VERSION,
    bundle: existsSync(bundle) ? fileSha256(bundle) : "",
    node: ARCH_INFO[arch].node,
    compress: opts.compress ?? "zstd",
    format: opts.format ?? "oci",
  });
}

/**
 * The image archive for one arch and this k3vip version, for `k3vip install`
 * to copy into `/var/lib/rancher/<distro>/agent/images/`. Looks for
 * `images/<name>` beside the bundle (a release may ship them), then the
 * cache (rebuilt when the bundle changed), else builds it into the cache.
 * Building needs npm, apt-get, dpkg-deb, strip and zstd (Debian/Ubuntu).
 */
export async function imageArchiveFor(
  arch: Arch,
  opts: { bundle?: string; cacheDir?: string; log?: Log; compress?: Compression; format?: Format } = {},
): Promise<ArchiveFor> {
  const bundle = opts.bundle ?? defaultBundle();
  const ref = defaultImageRef();
  const name = archiveFileName(arch);
  const shipped = join(dirname(bundle), "images", name);
  if (!opts.compress && !opts.format && existsSync(shipped)) return { path: shipped, ref, arch, source: "shipped" };

  const cache = opts.cacheDir ?? cacheDir();
  const path = join(cache, "archives", name);
  const key = archiveCacheKey(arch, bundle, opts);
  const keyFile = `${path}.key`;
  if (existsSync(path) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === key) return { path, ref, arch, source: "cache" };
  const r: BuildResult = await buildImage({
    arches: [arch],
    out: path,
    bundle,
    cacheDir: cache,
    ...(opts.compress ? { compress: opts.compress } : {}),
    ...(opts.format ? { format: opts.format } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  writeFileSync(keyFile, key);
  return { path: r.out, ref: r.ref, arch, source: "built" };
}
