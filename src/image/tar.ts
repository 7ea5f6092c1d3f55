// Deterministic tar: a layer is a list of entries, written sorted by path with
// mtime fixed, uid/gid 0 and no user/group names, so the same inputs give the
// same bytes (and so the same layer digest) on every machine.
import { Header, Pax } from "tar";

export type TarEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; data: Uint8Array }
  | { type: "symlink"; path: string; target: string };

export interface TarOptions {
  /** Every entry's mtime (seconds since the epoch). */
  mtime: number;
}

/** Entry path as stored in a layer: relative, no leading `./` or `/`, dirs end with `/`. */
function tarPath(e: TarEntry): string {
  const p = e.path.replace(/^\/+/, "");
  return e.type === "dir" ? `${p.replace(/\/+$/, "")}/` : p;
}

/** Sorts entries (parents before children) and rejects duplicates. */
export function sortEntries(entries: readonly TarEntry[]): TarEntry[] {
  const seen = new Map<string, TarEntry>();
  for (const e of entries) {
    const key = tarPath(e).replace(/\/$/, "");
    const prev = seen.get(key);
    if (prev && !(prev.type === "dir" && e.type === "dir")) throw new Error(`two layer entries for /${key}`);
    seen.set(key, e);
  }
  return [...seen.values()].sort((a, b) => compareBytes(tarPath(a), tarPath(b)));
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The whole tar stream as chunks (headers, data, padding, two zero blocks). */
export function tarChunks(entries: readonly TarEntry[], opts: TarOptions): Buffer[] {
  const mtime = new Date(opts.mtime * 1000);
  const out: Buffer[] = [];
  for (const e of sortEntries(entries)) {
    const path = tarPath(e);
    const base = { path, uid: 0, gid: 0, uname: "", gname: "", mtime };
    const data = e.type === "file" ? e.data : undefined;
    const h = new Header(
      e.type === "dir"
        ? { ...base, type: "Directory", mode: e.mode, size: 0 }
        : e.type === "file"
          ? { ...base, type: "File", mode: e.mode, size: e.data.length }
          : { ...base, type: "SymbolicLink", mode: 0o777, size: 0, linkpath: e.target },
    );
    const block = Buffer.alloc(512);
    if (h.encode(block, 0)) {
      // Path or link target too long for ustar: a PAX extended header carries them.
      const pax = new Pax({ path, mtime, ...(e.type === "symlink" ? { linkpath: e.target } : {}) });
      out.push(pax.encode());
    }
    out.push(block);
    if (data && data.length > 0) {
      out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) out.push(Buffer.alloc(pad));
    }
  }
  out.push(Buffer.alloc(1024));
  return out;
}

/** The tar stream as one buffer. */
export function tarBytes(entries: readonly TarEntry[], opts: TarOptions): Buffer {
  return Buffer.concat(tarChunks(entries, opts));
}

/** Adds the parent directories of every entry (mode 0755) that the list lacks. */
export function withParents(entries: readonly TarEntry[]): TarEntry[] {
  const have = new Set(entries.map((e) => e.path.replace(/^\/+|\/+$/g, "")));
  const out = [...entries];
  for (const e of entries) {
    const parts = e.path.replace(/^\/+|\/+$/g, "").split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!have.has(dir)) {
        have.add(dir);
        out.push({ type: "dir", path: dir, mode: 0o755 });
      }
    }
  }
  return out;
}
