// Image placement. By default the node pulls the image the manifest names;
// with --airgap (or --image-archive) install puts an archive in the
// distribution's airgap images dir (agent/images/), so an offline server runs
// the agent without a registry. Archives come in through the `images` port.
import { join } from "node:path";
import { archAlias, archiveFileName, badValue, defaults, hostArch, UsageError, type Arch, type Config } from "../config/index.ts";
import type { Fs } from "./fs.ts";
import { InstallerError } from "./errors.ts";
import type { Layout } from "./layout.ts";
import type { DesiredFile } from "./plan.ts";
import { toHost } from "./state.ts";

/**
 * Where the node gets the agent image. By default it pulls the image the
 * manifest names (the kubelet, through containerd and any registries.yaml
 * mirror); with `airgap` install places an archive in the distribution's
 * airgap images dir (agent/images/) instead, which it imports at start.
 */
export interface ImageOptions {
  /** An image archive to place in the airgap images dir (named `archiveFileName(arch)`, its compression suffix kept); implies `airgap`. */
  imageArchive?: string;
  /**
   * Place an archive: `imageArchive`, else the archive of `imageArch` from
   * the `images` port (shipped → cache → build). Off: the node pulls.
   */
  airgap?: boolean;
  /** The archive's architecture (the node's, not necessarily this host's under --root). */
  imageArch?: Arch;
}

export interface ImageDeps {
  fs: Fs;
  version: string;
  /** The image archive for an arch (src/image's imageArchiveFor): needed for `airgap` without `imageArchive`. */
  images?: (arch: Arch) => Promise<ImageArchive>;
  /** The image refs an archive's bytes name (src/image's archiveRefs), undefined when it is no image archive: needed to place one. */
  inspect?: (bytes: Buffer) => Promise<string[] | undefined>;
}

export interface ImageArchive {
  path: string;
  /** The reference the archive is tagged with. */
  ref: string;
  source: string;
}

/** Where the DaemonSet's image comes from, for the summary. */
export interface ImageSummary {
  /** The reference the manifest names. */
  ref: string;
  /** "file" (--image-archive), the images port's source (shipped, cache, built), or "registry" (no archive: the node pulls). */
  source: string;
  arch?: Arch;
  /** The archive's path in the airgap images dir. */
  archive?: string;
}

/** The compression suffixes k3s and RKE2 import from agent/images/ (they pick the decompressor by name). */
const ARCHIVE_SUFFIXES = [".tar.zst", ".tzst", ".tar.gz", ".tgz", ".tar"];

export function archiveSuffix(file: string): string {
  const s = ARCHIVE_SUFFIXES.find((x) => file.toLowerCase().endsWith(x));
  if (!s) throw badValue("--image-archive", file, "is not a .tar, .tar.gz or .tar.zst file (k3s and RKE2 import only those by name)");
  return s;
}

/** `--arch` → the archive's arch. */
export function parseImageArch(raw: string): Arch {
  const a = archAlias(raw);
  if (!a) throw badValue("--arch", raw, "is not an architecture (valid: amd64, arm64, arm)");
  return a;
}

/** The file name in agent/images/: stable per version and arch, so a rerun is up to date and an upgrade replaces it. */
export function placedArchiveName(arch: Arch, version: string, suffix = ".tar"): string {
  return archiveFileName(arch, version).replace(/\.tar$/, suffix);
}

/** The distributions' own airgap image archives (k3s-airgap-images-<arch>.tar*, rke2-images*.linux-<arch>.tar*): their admin set the server up offline. */
const DISTRO_AIRGAP_IMAGES = /^(k3s-airgap-images|rke2-images)[-.]/;

/**
 * The archive to place (if any), what the summary says about the image, and
 * a note when the node is to pull but looks air-gapped. Reads the archive
 * before anything is written.
 */
export async function imageFile(o: ImageOptions, d: ImageDeps, config: Config, layout: Layout): Promise<{ file?: DesiredFile; summary: ImageSummary; notes: string[] }> {
  let src: ImageArchive;
  const arch = (): Arch => o.imageArch ?? hostArch();
  if (o.imageArchive !== undefined) {
    src = { path: o.imageArchive, ref: config.image, source: "file" };
  } else if (!o.airgap) {
    // A hint only: what this server can pull is containerd's business (proxies, registries.yaml), not the installer's to guess.
    const offline = ((await d.fs.list(layout.imagesDir)) ?? []).find((n) => DISTRO_AIRGAP_IMAGES.test(n));
    const notes = offline ? [`${toHost(layout, layout.imagesDir)} holds ${offline}: this server may be air-gapped. If it cannot pull ${config.image}, run again with --airgap (or mirror the image into a registry it reaches: docs/install.md)`] : [];
    return { summary: { ref: config.image, source: "registry" }, notes };
  } else if (config.image !== defaults(d.version).image) {
    // The images port builds (or finds) the archive of the default image only.
    throw new UsageError(`--airgap places the archive of ${defaults(d.version).image}, not of --image ${config.image}: give that image's archive with --image-archive <file> (skopeo copy docker://${config.image} oci-archive:<file>:${config.image}), or drop --airgap to let the node pull it`);
  } else {
    if (!d.images) throw new Error("install: airgap needs the images port");
    try {
      src = await d.images(arch());
    } catch (e) {
      const why = ((e as Error).message ?? String(e)).split("\n")[0] ?? "";
      throw new InstallerError(
        `could not find or build the ${arch()} image archive for --airgap (${why}); nothing was changed. Build it where npm and apt-get work (k3vip image build --arch ${arch()} --out k3vip-${arch()}.tar) or download k3vip-v${d.version}-${arch()}.tar from the release, and give it with --image-archive <file>; or drop --airgap to let the node pull ${config.image}`,
        { cause: e },
      );
    }
    // The manifest must name the tag the archive carries, or containerd would pull instead.
    if (src.ref !== config.image) throw new InstallerError(`the image archive ${src.path} is tagged ${src.ref} but the manifest names ${config.image}; nothing was changed`);
  }
  const flag = o.imageArchive !== undefined ? "--image-archive " : "the image archive ";
  const content = await d.fs.read(src.path).catch((e: unknown) => {
    throw new InstallerError(`${flag}${src.path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed`);
  });
  if (!content) throw new InstallerError(`${flag}${src.path} does not exist; nothing was changed`);
  // Only an archive of the DaemonSet's image goes where k3s imports everything it finds.
  if (!d.inspect) throw new Error("install: placing an image archive needs the inspect port");
  const refs = await d.inspect(content).catch((e: unknown) => {
    throw new InstallerError(`${flag}${src.path} could not be read as an image archive (${(e as Error).message}); nothing was changed`);
  });
  if (!refs) throw new InstallerError(`${flag}${src.path} is not an image archive (a tar with an OCI index.json or a docker manifest.json); nothing was changed. Give the file \`k3vip image build\` wrote`);
  const tagOnly = refs.find((r) => !/[/:@]/.test(r));
  if (!refs.includes(config.image) && tagOnly !== undefined) {
    // skopeo's oci-archive:<file>:<tag> names the image by its tag alone; k3s would import it as just that.
    throw new InstallerError(`${flag}${src.path} names its image only by the tag ${JSON.stringify(tagOnly)}, which k3s would import under that bare name, not as the DaemonSet's image ${config.image}; nothing was changed. Write it with the full reference: skopeo copy docker://<registry>/<repo>:<tag> oci-archive:<file>:${config.image}`);
  }
  if (!refs.includes(config.image)) {
    throw new InstallerError(`${flag}${src.path} holds ${refs.length > 0 ? refs.join(", ") : "no tagged image"}, not the DaemonSet's image ${config.image}; nothing was changed. Give the archive of ${config.image}${refs[0] ? `, or --image ${refs[0]}` : ""}`);
  }
  // The copy is never readable by more than the source is (0644 at most).
  const mode = 0o644 & ((await d.fs.stat(src.path))?.mode ?? 0o644);
  const a = arch();
  const path = join(layout.imagesDir, placedArchiveName(a, d.version, archiveSuffix(src.path)));
  return {
    file: { path, content, mode, label: "image archive", binary: true },
    summary: { ref: config.image, source: src.source, arch: a, archive: path },
    notes: [],
  };
}
