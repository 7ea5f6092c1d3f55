// What install and uninstall do to a root happens in one session: the root's
// lock is held (two runs at once are serialized; the second waits a few
// seconds, then stops with the first one's pid), and whatever an interrupted
// earlier run left has been rolled back from its journal first.
import { DISTROS } from "../config/index.ts";
import { LockBusyError, type Fs } from "./fs.ts";
import { InstallerError } from "./errors.ts";
import { findJournal, journalCandidates, journalPaths, recoverInterrupted } from "./journal.ts";
import { layoutFor } from "./layout.ts";
import type { Plan } from "./plan.ts";

/** How long a second run waits for the first before it gives up. */
export const LOCK_WAIT_MS = 5000;

export interface Session {
  /** Notes for the run's result (a rolled-back interrupted run, no flock). */
  notes: string[];
  /** Where this run's journal goes (journal.ts). */
  journalDir(plan: Plan, stateDir: string): Promise<string>;
}

/** Every place a journal for `root` may be (both distros' state dirs and their parents). */
function candidates(root: string): string[] {
  return [...new Set(DISTROS.flatMap((d) => journalCandidates(layoutFor(d, root).stateDir, root)))];
}

export async function withRootSession<T>(fs: Fs, root: string, o: { dryRun?: boolean }, fn: (s: Session) => Promise<T>): Promise<T> {
  const top = root || "/";
  let lock;
  try {
    lock = await fs.lock(top, LOCK_WAIT_MS);
  } catch (e) {
    if (e instanceof LockBusyError) throw new InstallerError(`${e.message}: wait for it to finish (or stop it), then run again; nothing was changed`, { cause: e });
    throw e;
  }
  try {
    const notes: string[] = [];
    if (!lock.held) notes.push(`flock(1) is not installed: nothing stops another k3vip install or uninstall from running at the same time (install util-linux)`);
    if (o.dryRun) {
      const left = await findJournal(fs, candidates(root));
      if (left) throw new InstallerError(`an interrupted k3vip run (pid ${left.journal.pid}) left its journal at ${journalPaths(left.dir).file}: run k3vip install or uninstall without --dry-run to roll it back first`);
    } else {
      const r = await recoverInterrupted(fs, candidates(root));
      if (r.failures.length > 0) throw new InstallerError(`${r.failures.join("; ")}. Put those files back by hand (or move them away), then run again`);
      notes.push(...r.notes);
    }
    return await fn({
      notes,
      async journalDir(plan, stateDir) {
        const touched = new Set(plan.dirs.map((d) => d.path));
        for (const dir of journalCandidates(stateDir, root)) {
          if (touched.has(dir)) continue;
          if ((await fs.stat(dir))?.isDir) return dir;
        }
        return top;
      },
    });
  } finally {
    await lock.release();
  }
}
