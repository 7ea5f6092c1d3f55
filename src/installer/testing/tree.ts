// Test helpers: a byte-exact snapshot of a directory tree (paths, modes,
// bytes, symlink targets) to assert "nothing changed", and an Fs that fails
// on purpose. Used by unit and lab tests only.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { FileStat, Fs, FsLock, Owner } from "../fs.ts";

export type Tree = Record<string, string>;

/** A maker of temp dirs that are all removed after the test file: `const tmpRoot = tempRoots("k3vip-inst-")`. */
export function tempRoots(prefix: string): () => string {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  return () => {
    const r = mkdtempSync(join(tmpdir(), prefix));
    roots.push(r);
    return r;
  };
}

/** path → "d 0755" | "f 0600 <base64>" | "l <target>", sorted. */
export function snapshotTree(root: string): Tree {
  const out: Tree = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(p);
      const mode = (s.mode & 0o7777).toString(8).padStart(4, "0");
      if (s.isSymbolicLink()) out[r] = `l ${readlinkSync(p)}`;
      else if (s.isDirectory()) {
        out[r] = `d ${mode}`;
        walk(p, r);
      } else out[r] = `f ${mode} ${readFileSync(p).toString("base64")}`;
    }
  };
  walk(root, "");
  return out;
}

export type Op = "mkdir" | "writeAtomic" | "unlink" | "rmdir";

/**
 * Wraps an Fs and makes its n-th mutating call (1-based, counting only `ops`)
 * fail once with `code` (ENOSPC, EROFS, EIO…). Later calls — the rollback —
 * go through.
 */
export class FailingFs implements Fs {
  calls = 0;
  failed: string | undefined;
  constructor(
    private readonly inner: Fs,
    private readonly failAt: number,
    private readonly code = "EIO",
    private readonly ops: readonly Op[] = ["mkdir", "writeAtomic", "unlink", "rmdir"],
  ) {}

  private gate(op: Op, path: string): void {
    if (!this.ops.includes(op) || this.failed) return;
    this.calls++;
    if (this.calls === this.failAt) {
      this.failed = `${op} ${path}`;
      const messages: Record<string, string> = { ENOSPC: "no space left on device", EROFS: "read-only file system", EIO: "i/o error" };
      throw Object.assign(new Error(`${this.code}: ${messages[this.code] ?? "failure"}, ${op} '${path}'`), { code: this.code });
    }
  }

  read(path: string): Promise<Buffer | undefined> {
    return this.inner.read(path);
  }
  stat(path: string): Promise<FileStat | undefined> {
    return this.inner.stat(path);
  }
  lstat(path: string): ReturnType<Fs["lstat"]> {
    return this.inner.lstat(path);
  }
  realpath(path: string): Promise<string | undefined> {
    return this.inner.realpath(path);
  }
  list(path: string): Promise<string[] | undefined> {
    return this.inner.list(path);
  }
  async mkdir(path: string, mode: number): Promise<void> {
    this.gate("mkdir", path);
    return this.inner.mkdir(path, mode);
  }
  async writeAtomic(path: string, data: Buffer, mode: number, owner?: Owner): Promise<void> {
    this.gate("writeAtomic", path);
    return this.inner.writeAtomic(path, data, mode, owner);
  }
  async unlink(path: string): Promise<void> {
    this.gate("unlink", path);
    return this.inner.unlink(path);
  }
  async rmdir(path: string): Promise<void> {
    this.gate("rmdir", path);
    return this.inner.rmdir(path);
  }
  lock(dir: string, waitMs: number): Promise<FsLock> {
    return this.inner.lock(dir, waitMs);
  }
}

/** What a CrashingFs throws once it is "dead". */
export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

/**
 * The process dies (as by SIGKILL) after `survive` mutating calls: the next
 * mutating call and every call after it, reads included, throw, so nothing
 * this run does afterwards — its own rollback included — reaches the disk.
 * A new run on a healthy Fs must then find and undo what it left.
 */
export class CrashingFs implements Fs {
  calls = 0;
  dead = false;
  constructor(
    private readonly inner: Fs,
    private readonly survive: number,
  ) {}

  private alive(): void {
    if (this.dead) throw new SimulatedCrash("dead");
  }
  private gate(op: string, path: string): void {
    this.alive();
    if (this.calls >= this.survive) {
      this.dead = true;
      throw new SimulatedCrash(`killed before ${op} ${path}`);
    }
    this.calls++;
  }
  async read(path: string): Promise<Buffer | undefined> {
    this.alive();
    return this.inner.read(path);
  }
  async stat(path: string): Promise<FileStat | undefined> {
    this.alive();
    return this.inner.stat(path);
  }
  async lstat(path: string): ReturnType<Fs["lstat"]> {
    this.alive();
    return this.inner.lstat(path);
  }
  async realpath(path: string): Promise<string | undefined> {
    this.alive();
    return this.inner.realpath(path);
  }
  async list(path: string): Promise<string[] | undefined> {
    this.alive();
    return this.inner.list(path);
  }
  async mkdir(path: string, mode: number): Promise<void> {
    this.gate("mkdir", path);
    return this.inner.mkdir(path, mode);
  }
  async writeAtomic(path: string, data: Buffer, mode: number, owner?: Owner): Promise<void> {
    this.gate("writeAtomic", path);
    return this.inner.writeAtomic(path, data, mode, owner);
  }
  async unlink(path: string): Promise<void> {
    this.gate("unlink", path);
    return this.inner.unlink(path);
  }
  async rmdir(path: string): Promise<void> {
    this.gate("rmdir", path);
    return this.inner.rmdir(path);
  }
  lock(dir: string, waitMs: number): Promise<FsLock> {
    return this.inner.lock(dir, waitMs);
  }
}
