// The one port every installer file operation goes through, so a test can
// inject failures (ENOSPC, EROFS, a crash mid-apply) and prove the rollback.
// The real adapter is node-fs.ts.
import { dirname } from "node:path";
import { InstallerError } from "./errors.ts";

export interface FileStat {
  /** Permission bits (mode & 0o7777). */
  mode: number;
  isDir: boolean;
  /** A regular file (not a directory, device, FIFO or socket). */
  isFile: boolean;
  size: number;
  uid: number;
  gid: number;
}

export interface Owner {
  uid: number;
  gid: number;
}

export interface Fs {
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  /** Follows symbolic links. */
  stat(path: string): Promise<FileStat | undefined>;
  /** Does not follow a symbolic link at `path` itself: `isSymlink` tells. */
  lstat(path: string): Promise<(FileStat & { isSymlink: boolean }) | undefined>;
  /** The canonical path (every symbolic link resolved), or undefined when it does not exist. */
  realpath(path: string): Promise<string | undefined>;
  /** Names in a directory (sorted), or undefined when it does not exist. */
  list(path: string): Promise<string[] | undefined>;
  /** Create one directory (its parent must exist). */
  mkdir(path: string, mode: number): Promise<void>;
  /** Replace `path` atomically with `data`, exactly `mode` and (if given) `owner`. */
  writeAtomic(path: string, data: Buffer, mode: number, owner?: Owner): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /**
   * An exclusive flock(2) on the directory `dir`, held until release() or the
   * process's death (the kernel drops it: no stale lock, no file written).
   * Waits up to `waitMs`, then rejects with a LockBusyError. install.sh takes
   * the same lock.
   */
  lock(dir: string, waitMs: number): Promise<FsLock>;
}

export interface FsLock {
  release(): Promise<void>;
  /** False when the lock could not be taken here (no flock(1)): the run goes on unguarded, with a warning. */
  held: boolean;
}

/** Another process holds the lock. */
export class LockBusyError extends Error {
  override readonly name = "LockBusyError";
  constructor(
    readonly dir: string,
    /** The holder's pid, when /proc/locks tells. */
    readonly pid: number | undefined,
  ) {
    super(`another k3vip install/uninstall is running${pid ? ` (pid ${pid})` : ""} on ${dir}`);
  }
}

/** A file stands where a directory is needed. */
export class NotADirectoryError extends InstallerError {
  constructor(
    readonly path: string,
    readonly needed: string,
  ) {
    super(`${path} is a file where k3vip needs a directory (for ${needed}): move it away, then run again; nothing was changed`);
  }
}

/** Creates `dir` and its missing parents; returns the ones it created, parents first. */
export async function missingDirs(fs: Fs, dir: string): Promise<string[]> {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    const s = await fs.stat(cur);
    if (s) {
      if (!s.isDir) throw new NotADirectoryError(cur, dir);
      break;
    }
    missing.unshift(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return missing;
}
