// Apply executes a plan through the Fs port and keeps a journal; any failure
// undoes every step this run took, newest first, so the tree ends exactly as
// it started.
import type { Fs } from "./fs.ts";
import type { Plan } from "./plan.ts";

export class ApplyError extends Error {
  constructor(
    message: string,
    /** What was undone, for the "what k3vip already undid" part of the message. */
    readonly undone: number,
    /** Undo steps that failed too: the tree may differ from before. */
    readonly undoFailures: string[],
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

type Undo = { what: string; run: () => Promise<void> };

export interface ApplyResult {
  written: string[];
  deleted: string[];
  dirsCreated: string[];
  dirsRemoved: string[];
}

export async function applyPlan(fs: Fs, plan: Plan, onStep?: (what: string) => void): Promise<ApplyResult> {
  const journal: Undo[] = [];
  const result: ApplyResult = { written: [], deleted: [], dirsCreated: [], dirsRemoved: [] };
  const step = async (what: string, run: () => Promise<void>, undo: Undo | undefined) => {
    onStep?.(what);
    try {
      await run();
    } catch (e) {
      throw await rollback(what, e, journal);
    }
    if (undo) journal.push(undo);
  };

  for (const d of plan.dirs.filter((x) => x.kind === "mkdir")) {
    await step(`create directory ${d.path}`, () => fs.mkdir(d.path, d.mode), { what: `remove ${d.path}`, run: () => fs.rmdir(d.path) });
    result.dirsCreated.push(d.path);
  }
  for (const f of plan.files) {
    const before = f.before;
    if (f.kind === "unchanged") continue;
    if (f.kind === "delete") {
      if (!before) throw new Error(`plan deletes ${f.path} without its bytes`);
      await step(`remove ${f.path}`, () => fs.unlink(f.path), { what: `restore ${f.path}`, run: () => fs.writeAtomic(f.path, before.content, before.mode) });
      result.deleted.push(f.path);
      continue;
    }
    const content = f.content;
    if (!content) throw new Error(`plan writes ${f.path} without content`);
    const undo: Undo = before
      ? { what: `restore ${f.path}`, run: () => fs.writeAtomic(f.path, before.content, before.mode) }
      : { what: `remove ${f.path}`, run: () => fs.unlink(f.path) };
    await step(`write ${f.path}`, () => fs.writeAtomic(f.path, content, f.mode, f.owner), undo);
    result.written.push(f.path);
  }
  for (const d of plan.dirs.filter((x) => x.kind === "rmdir")) {
    await step(`remove directory ${d.path}`, () => fs.rmdir(d.path), { what: `recreate ${d.path}`, run: () => fs.mkdir(d.path, d.mode) });
    result.dirsRemoved.push(d.path);
  }
  return result;
}

async function rollback(what: string, cause: unknown, journal: Undo[]): Promise<ApplyError> {
  const failures: string[] = [];
  let undone = 0;
  for (const u of [...journal].reverse()) {
    try {
      await u.run();
      undone++;
    } catch (e) {
      failures.push(`${u.what}: ${(e as Error).message}`);
    }
  }
  const why = (cause as Error).message ?? String(cause);
  const tail =
    failures.length === 0
      ? `undid all ${undone} earlier step${undone === 1 ? "" : "s"}: nothing changed`
      : `undid ${undone} step(s) but could not ${failures.join("; ")}: fix that by hand`;
  return new ApplyError(`could not ${what} (${why}); ${tail}`, undone, failures, { cause });
}
