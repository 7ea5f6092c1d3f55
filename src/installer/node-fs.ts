// The installer's Fs port on node:fs: atomic writes (temp dotfile, fsync,
// rename, directory fsync).
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { FileStat, Fs, Owner } from "./fs.ts";

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** node:fs adapter. */
export class NodeFs implements Fs {
  async read(path: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(path);
    } catch (e) {
      if (code(e) === "ENOENT") return undefined;
      throw e;
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = await fsp.stat(path);
      return { mode: s.mode & 0o7777, isDir: s.isDirectory(), uid: s.uid, gid: s.gid };
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async list(path: string): Promise<string[] | undefined> {
    try {
      return (await fsp.readdir(path)).sort();
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await fsp.mkdir(path, { mode });
    // mkdir's mode is filtered by the umask; the plan's mode is exact.
    await fsp.chmod(path, mode);
    await syncDir(dirname(path));
  }

  /**
   * Temp file as a dotfile in the same directory (k3s's deploy controller
   * skips dotfiles, and rename(2) is atomic only within one filesystem),
   * fsync, rename over the target, fsync the directory so the rename itself
   * survives a power cut.
   */
  async writeAtomic(path: string, data: Buffer, mode: number, owner?: Owner): Promise<void> {
    const tmp = join(dirname(path), `.${basename(path)}.k3vip-${randomBytes(4).toString("hex")}`);
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(tmp, "wx", mode);
      await fh.chmod(mode);
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.writeFile(data);
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fsp.rename(tmp, path);
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    }
    await syncDir(dirname(path));
  }

  async unlink(path: string): Promise<void> {
    await fsp.unlink(path);
    await syncDir(dirname(path));
  }

  async rmdir(path: string): Promise<void> {
    await fsp.rmdir(path);
    await syncDir(dirname(path));
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
