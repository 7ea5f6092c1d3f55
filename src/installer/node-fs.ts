// The installer's Fs port on node:fs: atomic writes (temp dotfile, fsync,
// rename, directory fsync).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { LockBusyError, type FileStat, type Fs, type FsLock, type Owner } from "./fs.ts";

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** node:fs adapter. */
export class NodeFs implements Fs {
  async read(path: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(path);
    } catch (e) {
      // A parent that is a file (ENOTDIR): the path does not exist either.
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = await fsp.stat(path);
      return { mode: s.mode & 0o7777, isDir: s.isDirectory(), isFile: s.isFile(), size: s.size, uid: s.uid, gid: s.gid };
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async lstat(path: string): Promise<(FileStat & { isSymlink: boolean }) | undefined> {
    try {
      const s = await fsp.lstat(path);
      return { mode: s.mode & 0o7777, isDir: s.isDirectory(), isFile: s.isFile(), size: s.size, isSymlink: s.isSymbolicLink(), uid: s.uid, gid: s.gid };
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async realpath(path: string): Promise<string | undefined> {
    try {
      return await fsp.realpath(path);
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

  lock(dir: string, waitMs: number): Promise<FsLock> {
    return flockDir(dir, waitMs);
  }
}

/**
 * Node has no flock(2): util-linux's flock(1) takes it and then runs `cat`
 * on our pipe, so the lock lives exactly as long as this process (when it
 * dies, even by SIGKILL, cat reads EOF and exits, and the kernel drops the
 * lock). install.sh locks the same directory with flock(1).
 */
function flockDir(dir: string, waitMs: number): Promise<FsLock> {
  const BUSY = 75;
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["-x", "-w", String(Math.max(0, waitMs) / 1000), "-E", String(BUSY), dir, "sh", "-c", "echo locked; exec cat"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let settled = false;
    const exited = new Promise<void>((r) => child.once("close", () => r()));
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      if (!settled && out.includes("locked\n")) {
        settled = true;
        resolve({
          held: true,
          release: async () => {
            child.stdin.end();
            await exited;
          },
        });
      }
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      // No flock(1) (a minimal image): go on unguarded; the caller warns.
      if (e.code === "ENOENT") resolve({ held: false, release: () => Promise.resolve() });
      else reject(e);
    });
    child.once("close", (code) => {
      if (settled) return;
      settled = true;
      if (code === BUSY) {
        void lockHolder(dir).then((pid) => reject(new LockBusyError(dir, pid)));
        return;
      }
      reject(new Error(`flock ${dir} failed (exit ${String(code)}): ${err.trim()}`));
    });
  });
}

/**
 * The pid holding a flock on `dir`, from /proc/locks. Our own flock(1)
 * helper is reported as its parent (the k3vip process). /proc/locks names
 * the process that took the lock; when that one is gone (install.sh's
 * `flock 9` exits while the shell keeps fd 9), the holder is whoever has
 * `dir` open.
 */
async function lockHolder(dir: string): Promise<number | undefined> {
  try {
    const st = await fsp.stat(dir, { bigint: true });
    const locks = await fsp.readFile("/proc/locks", "utf8");
    for (const line of locks.split("\n")) {
      const f = line.trim().split(/\s+/);
      // "1: FLOCK  ADVISORY  WRITE 12345 fe:00:2146934 0 EOF"
      if (f[1] !== "FLOCK" || !f[5]?.endsWith(`:${st.ino}`)) continue;
      const pid = Number(f[4]);
      const comm = (await fsp.readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
      // The locker may be gone, and its pid reused by an unrelated process on a busy box: name it only if it still has `dir` open.
      if (comm === "" || (comm !== "flock" && !(await hasOpen(pid, dir)))) return (await openedBy(dir)) ?? pid;
      if (comm !== "flock") return pid;
      const stat = await fsp.readFile(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return Number.isInteger(ppid) && ppid > 1 ? ppid : pid;
    }
  } catch {
    /* no /proc: no pid to name */
  }
  return undefined;
}

async function openedBy(dir: string): Promise<number | undefined> {
  for (const p of await fsp.readdir("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    if (await hasOpen(Number(p), dir)) return Number(p);
  }
  return undefined;
}

async function hasOpen(pid: number, dir: string): Promise<boolean> {
  const fds = await fsp.readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) if ((await fsp.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === dir) return true;
  return false;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
