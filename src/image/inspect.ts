// Which image an archive holds, as containerd will tag it on import: the
// `io.containerd.image.name` of an OCI archive's index.json (else its
// `org.opencontainers.image.ref.name`, as skopeo writes it), or the RepoTags
// of a docker-archive manifest.json. The installer checks it before placing
// an archive, so a wrong file (or a symlink to one) is never copied into the
// airgap images dir.
import { spawn } from "node:child_process";
import { gunzipSync } from "node:zlib";

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The refs `bytes` (a .tar, .tar.gz or .tar.zst image archive) names, or undefined when it is not one. */
export async function archiveRefs(bytes: Buffer): Promise<string[] | undefined> {
  let tar: Buffer;
  if (bytes.subarray(0, 4).equals(ZSTD)) tar = await unzstd(bytes);
  else if (bytes.subarray(0, 2).equals(GZIP)) {
    try {
      tar = gunzipSync(bytes);
    } catch {
      return undefined;
    }
  } else tar = bytes;
  const files = tarFiles(tar, new Set(["index.json", "manifest.json"]));
  if (!files) return undefined;
  const refs: string[] = [];
  const json = (name: string): unknown => {
    const b = files.get(name);
    if (!b) return undefined;
    try {
      return JSON.parse(b.toString("utf8")) as unknown;
    } catch {
      return undefined;
    }
  };
  const index = json("index.json") as { manifests?: { annotations?: Record<string, string> }[] } | undefined;
  for (const m of index?.manifests ?? []) {
    // containerd's import names an image by io.containerd.image.name, else by
    // org.opencontainers.image.ref.name as it stands (k3s's airgap import
    // passes no translator; `ctr images import` keeps a full reference): an
    // archive skopeo wrote carries only the latter (client/import.go, imageName).
    const a = m.annotations ?? {};
    const name = a["io.containerd.image.name"] || a["org.opencontainers.image.ref.name"];
    if (typeof name === "string" && name !== "") refs.push(name);
  }
  const manifest = json("manifest.json") as { RepoTags?: unknown }[] | undefined;
  if (Array.isArray(manifest)) for (const m of manifest) if (Array.isArray(m.RepoTags)) refs.push(...m.RepoTags.filter((t): t is string => typeof t === "string"));
  if (!files.has("index.json") && !files.has("manifest.json")) return undefined;
  return [...new Set(refs)];
}

/**
 * The named top-level files of a tar (ustar headers; GNU/pax long names are
 * skipped over), or undefined when `tar` is not a tar at all.
 */
export function tarFiles(tar: Buffer, want: ReadonlySet<string>): Map<string, Buffer> | undefined {
  const out = new Map<string, Buffer>();
  let off = 0;
  let headers = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    // The header checksum: the sum of its bytes, the checksum field counted as spaces.
    const sum = h.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    const stored = parseInt(h.subarray(148, 156).toString("latin1").replace(/\0.*$/, "").trim(), 8);
    if (!Number.isFinite(stored) || stored !== sum) return headers === 0 ? undefined : out;
    headers++;
    const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "").replace(/^\.\//, "");
    const size = parseInt(h.subarray(124, 136).toString("latin1").replace(/\0.*$/, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const start = off + 512;
    if ((type === "0" || type === "\0") && want.has(name)) out.set(name, Buffer.from(tar.subarray(start, start + size)));
    off = start + Math.ceil(size / 512) * 512;
  }
  return headers === 0 ? undefined : out;
}

function unzstd(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("zstd", ["-d", "-q", "-c"], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => reject(e.code === "ENOENT" ? new Error("zstd is not installed: needed to read a .tar.zst archive", { cause: e }) : e));
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`zstd -d failed (exit ${String(code)})`))));
    child.stdin.on("error", () => undefined);
    child.stdin.end(data);
  });
}
