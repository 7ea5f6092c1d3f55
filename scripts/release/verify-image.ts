// Release step: read a pushed image back from its registry and check that it
// is, digest for digest, what the archives hold. The registry must serve
//   - the pushed archive's top digest under the tag (the multi-arch index),
//   - every manifest that index names, by digest, with those very bytes;
// and every further archive (the per-arch airgap archives attached to the
// release) must be one of the index's manifests, for its own platform: a
// node that imports the airgap archive runs the very image a node that
// pulls gets. Prints a JSON summary on stdout; exit 1 on any difference.
//
//   node --import tsx scripts/release/verify-image.ts <registry/repo:tag> <pushed.tar> [<arch.tar> …] [skopeo inspect options]
//   node --import tsx scripts/release/verify-image.ts ghcr.io/k3vip/k3vip:v0.1.0 out/k3vip-v0.1.0-all.tar out/k3vip-v0.1.0-{amd64,arm64,arm}.tar
//   … 127.0.0.1:5000/k3vip:v0.1.0 all.tar --tls-verify=false
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface Verified {
  ref: string;
  digest: string;
  manifests: { platform: string; digest: string }[];
  archives: { file: string; digest: string; platform: string }[];
}

const INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const platformName = (p: Descriptor["platform"]): string => (p ? [p.os, p.architecture, p.variant].filter(Boolean).join("/") : "?");

/** A tar member's bytes (tar reads the archive; blobs are plain files inside it). */
function member(archive: string, name: string): Buffer {
  return execFileSync("tar", ["-xOf", archive, name], { maxBuffer: 256 * 1024 * 1024 });
}

/** The descriptor an OCI archive's index.json names (the archive's one image), and its bytes. */
function top(archive: string): { desc: Descriptor; bytes: Buffer } {
  const index = JSON.parse(member(archive, "index.json").toString("utf8")) as { manifests?: Descriptor[] };
  const desc = index.manifests?.[0];
  if (!desc || index.manifests?.length !== 1) throw new Error(`${archive}: index.json must name exactly one image`);
  const bytes = member(archive, `blobs/${desc.digest.replace(":", "/")}`);
  if (sha256(bytes) !== desc.digest) throw new Error(`${archive}: the blob of ${desc.digest} does not match its digest`);
  return { desc, bytes };
}

/** The platform of a single-arch archive: its manifest's config. */
function archivePlatform(archive: string, manifest: Buffer): string {
  const m = JSON.parse(manifest.toString("utf8")) as { config: Descriptor };
  const c = JSON.parse(member(archive, `blobs/${m.config.digest.replace(":", "/")}`).toString("utf8")) as { os: string; architecture: string; variant?: string };
  return platformName(c);
}

export function verifyImage(ref: string, archives: readonly string[], skopeoOpts: readonly string[]): Verified {
  const [pushed, ...perArch] = archives;
  if (!pushed) throw new Error("give the pushed archive");
  const repo = ref.replace(/^docker:\/\//, "").replace(/(@sha256:[0-9a-f]{64}|:[\w][\w.-]{0,127})$/, "");
  const raw = (r: string): Buffer => execFileSync("skopeo", ["inspect", "--raw", ...skopeoOpts, `docker://${r}`], { maxBuffer: 16 * 1024 * 1024 });
  const want = top(pushed);
  const served = raw(ref.replace(/^docker:\/\//, ""));
  const digest = sha256(served);
  if (digest !== want.desc.digest) throw new Error(`${ref} is ${digest}, but ${pushed} holds ${want.desc.digest}`);
  if (!served.equals(want.bytes)) throw new Error(`${ref}: the served bytes differ from ${pushed}'s`);

  const doc = JSON.parse(served.toString("utf8")) as { mediaType?: string; manifests?: Descriptor[] };
  const isIndex = doc.mediaType === INDEX || doc.mediaType === DOCKER_LIST;
  const manifests: Verified["manifests"] = [];
  if (isIndex) {
    for (const m of doc.manifests ?? []) {
      const got = sha256(raw(`${repo}@${m.digest}`));
      if (got !== m.digest) throw new Error(`${repo}@${m.digest} (${platformName(m.platform)}) is served as ${got}`);
      manifests.push({ platform: platformName(m.platform), digest: m.digest });
    }
  } else {
    manifests.push({ platform: archivePlatform(pushed, want.bytes), digest });
  }

  const checked: Verified["archives"] = [];
  for (const file of perArch) {
    const t = top(file);
    if (t.desc.mediaType === INDEX) throw new Error(`${file} is a multi-arch index; give one arch's archive`);
    const platform = archivePlatform(file, t.bytes);
    const entry = manifests.find((m) => m.digest === t.desc.digest);
    if (!entry) throw new Error(`${file} holds ${t.desc.digest} (${platform}), which ${ref} does not name`);
    if (entry.platform !== platform) throw new Error(`${file} is ${platform} but ${ref} names its manifest for ${entry.platform}`);
    checked.push({ file, digest: t.desc.digest, platform });
  }
  return { ref, digest, manifests, archives: checked };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opts = args.filter((a) => a.startsWith("--"));
  const [ref, ...files] = args.filter((a) => !a.startsWith("--"));
  if (!ref || files.length === 0) {
    process.stderr.write("usage: verify-image.ts <registry/repo:tag> <pushed.tar> [<arch.tar> …] [skopeo inspect options]\n");
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(verifyImage(ref, files, opts), null, 2)}\n`);
  } catch (e) {
    process.stderr.write(`verify-image: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
