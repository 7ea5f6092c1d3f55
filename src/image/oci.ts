// OCI image-spec and docker-archive documents, built as plain data. Pure: the
// caller hashes and writes the bytes. Field order is fixed by construction so
// the JSON (and so every digest) is byte-for-byte reproducible.
import { createHash } from "node:crypto";
import type { ArchInfo } from "./arch.ts";

export type Compression = "zstd" | "gzip" | "none";
export type Format = "oci" | "docker";

export const MT = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

/** Layer media type for a compression (OCI; docker-archive stores no media types). */
export function layerMediaType(c: Compression): string {
  return c === "zstd" ? MT.ociLayerZstd : c === "gzip" ? MT.ociLayerGzip : MT.ociLayer;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Blob {
  digest: string;
  bytes: Buffer;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** JSON bytes + digest: the one way every document becomes a blob. */
export function jsonBlob(doc: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(doc));
  return { digest: sha256(bytes), bytes };
}

export function platformOf(a: ArchInfo): Platform {
  return a.variant ? { architecture: a.architecture, os: a.os, variant: a.variant } : { architecture: a.architecture, os: a.os };
}

export interface LayerInfo {
  /** Digest of the uncompressed tar (config rootfs.diff_ids). */
  diffId: string;
  /** Digest and size of the stored (possibly compressed) blob. */
  digest: string;
  size: number;
  /** What the layer holds, for the config history (e.g. "node 20.20.2"). */
  comment: string;
}

export interface RuntimeConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  labels: Record<string, string>;
  /** RFC 3339 creation time (fixed for reproducible builds). */
  created: string;
}

/** The image config (application/vnd.oci.image.config.v1+json; docker reads the same document). */
export function imageConfig(a: ArchInfo, rc: RuntimeConfig, layers: readonly LayerInfo[]): unknown {
  return {
    created: rc.created,
    architecture: a.architecture,
    ...(a.variant ? { variant: a.variant } : {}),
    os: a.os,
    config: {
      Env: rc.env,
      Entrypoint: rc.entrypoint,
      Cmd: rc.cmd,
      WorkingDir: "/",
      Labels: rc.labels,
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created: rc.created, created_by: `k3vip image build: ${l.comment}` })),
  };
}

export function imageManifest(config: Blob, layers: readonly LayerInfo[], compression: Compression, annotations: Record<string, string>): unknown {
  return {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: config.digest, size: config.bytes.length },
    layers: layers.map((l) => ({ mediaType: layerMediaType(compression), digest: l.digest, size: l.size })),
    annotations,
  };
}

export function imageIndex(manifests: readonly Descriptor[], annotations?: Record<string, string>): unknown {
  return {
    schemaVersion: 2,
    mediaType: MT.ociIndex,
    manifests,
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * Names the image the way containerd's own exporter does, so `ctr images
 * import` and k3s's airgap import register the full reference, while skopeo
 * and umoci find it by tag (`oci-archive:<file>:<tag>`).
 */
export function refAnnotations(ref: ImageRef): Record<string, string> {
  return { "io.containerd.image.name": ref.full, "org.opencontainers.image.ref.name": ref.tag };
}

export interface ImageRef {
  /** e.g. ghcr.io/k3vip/k3vip:v0.1.0 */
  full: string;
  /** e.g. ghcr.io/k3vip/k3vip */
  repo: string;
  /** e.g. v0.1.0 */
  tag: string;
}

/** Splits `[registry/]path:tag`; a reference without a tag gets `latest`, a digest is refused. */
export function splitRef(full: string): ImageRef {
  if (full.includes("@")) throw new Error(`image reference ${JSON.stringify(full)} has a digest; an archive needs a tag`);
  const slash = full.lastIndexOf("/");
  const colon = full.lastIndexOf(":");
  if (colon > slash) return { full, repo: full.slice(0, colon), tag: full.slice(colon + 1) };
  return { full: `${full}:latest`, repo: full, tag: "latest" };
}

/** docker-archive `manifest.json`: one image, layers as paths inside the archive. */
export function dockerManifest(config: Blob, layers: readonly LayerInfo[], ref: ImageRef): unknown {
  return [{ Config: blobPath(config.digest), RepoTags: [ref.full], Layers: layers.map((l) => blobPath(l.digest)) }];
}

/** docker-archive `repositories`: repo → tag → top layer id. */
export function dockerRepositories(layers: readonly LayerInfo[], ref: ImageRef): unknown {
  const top = layers.at(-1);
  return { [ref.repo]: { [ref.tag]: top ? top.digest.replace(/^sha256:/, "") : "" } };
}

export function blobPath(digest: string): string {
  return `blobs/${digest.replace(":", "/")}`;
}

export const OCI_LAYOUT = { imageLayoutVersion: "1.0.0" };
