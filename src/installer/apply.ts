// Apply executes a plan through the Fs port. With a journal directory it is
// crash-safe (journal.ts): the steps and saved copies of everything it will
// replace are on disk before the first change, and any failure — or a later
// run, after a kill — undoes what this run did, newest first, so the tree
// ends exactly as it started. The journal's removal is the commit.
import { join } from "node:path";
import type { Fs } from "./fs.ts";
import { encodeJournal, journalPaths, planSteps, removeJournal, savedBytes, undoSteps, type Journal, type Step } from "./journal.ts";
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

export interface ApplyResult {
  written: string[];
  deleted: string[];
  dirsCreated: string[];
  dirsRemoved: string[];
  /** Things worth a note (e.g. saved copies that could not be cleaned up). */
  notes: string[];
}

export interface ApplyOptions {
  /** Where the journal and its saved copies go: a directory that exists and that the plan neither creates nor removes. Without one, the journal lives in memory (no crash recovery). */
  journalDir?: string;
  onStep?: (what: string) => void;
  /** For the journal's header. */
  pid?: number;
  now?: () => Date;
}

function what(s: Step): string {
  switch (s.op) {
    case "mkdir":
      return `create directory ${s.path}`;
    case "rmdir":
      return `remove directory ${s.path}`;
    case "write":
      return `write ${s.path}`;
    case "delete":
      return `remove ${s.path}`;
  }
}

export async function applyPlan(fs: Fs, plan: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const steps = planSteps(plan);
  const bytes = savedBytes(plan, steps);
  const contentByPath = new Map(plan.files.flatMap((f) => (f.content ? [[f.path, f] as const] : [])));
  const result: ApplyResult = { written: [], deleted: [], dirsCreated: [], dirsRemoved: [], notes: [] };
  if (steps.length === 0) return result;
  const dir = opts.journalDir;

  // Write-ahead: the saved copies, then the journal naming them, before any change.
  if (dir) {
    const { file, saved } = journalPaths(dir);
    try {
      if (bytes.size > 0) {
        if (!(await fs.stat(saved))) await fs.mkdir(saved, 0o700);
        for (const [i, b] of bytes) {
          const s = steps[i];
          if (!s || (s.op !== "write" && s.op !== "delete") || !s.before) continue;
          const copy = join(saved, String(i));
          await fs.writeAtomic(copy, b, 0o600);
          s.before.copy = copy;
        }
      }
      const j: Journal = { format: 1, pid: opts.pid ?? process.pid, started: (opts.now?.() ?? new Date()).toISOString(), steps };
      await fs.writeAtomic(file, encodeJournal(j), 0o600);
    } catch (e) {
      const cleanup = await removeJournal(fs, dir).then(
        () => "",
        (e2: unknown) => `; could not remove the partial journal in ${dir} either (${(e2 as Error).message}): the next run removes it`,
      );
      throw new ApplyError(`could not write the journal in ${dir} (${(e as Error).message}); nothing changed${cleanup}`, 0, [], { cause: e });
    }
  }

  const undo = async (upTo: number) =>
    undoSteps(fs, steps.slice(0, upTo + 1), (i) => Promise.resolve(bytes.get(i)));
  for (const [i, s] of steps.entries()) {
    opts.onStep?.(what(s));
    try {
      switch (s.op) {
        case "mkdir":
          await fs.mkdir(s.path, s.mode);
          result.dirsCreated.push(s.path);
          break;
        case "rmdir":
          await fs.rmdir(s.path);
          result.dirsRemoved.push(s.path);
          break;
        case "delete":
          await fs.unlink(s.path);
          result.deleted.push(s.path);
          break;
        case "write": {
          const f = contentByPath.get(s.path);
          if (!f?.content) throw new Error(`plan writes ${s.path} without content`);
          await fs.writeAtomic(s.path, f.content, f.mode, f.owner);
          result.written.push(s.path);
          break;
        }
      }
    } catch (e) {
      throw await rolledBack(fs, what(s), e, await undo(i), dir);
    }
  }

  // Commit: once the journal is gone, nothing rolls this run back.
  if (dir) {
    const { file } = journalPaths(dir);
    try {
      await fs.unlink(file);
    } catch (e) {
      throw await rolledBack(fs, `remove the journal ${file}`, e, await undo(steps.length - 1), dir);
    }
    await removeJournal(fs, dir).catch((e: unknown) => result.notes.push(`could not remove the saved copies in ${journalPaths(dir).saved} (${(e as Error).message}); the next k3vip run removes them`));
  }
  return result;
}

async function rolledBack(fs: Fs, step: string, cause: unknown, r: { undone: number; failures: string[] }, dir: string | undefined): Promise<ApplyError> {
  const why = (cause as Error).message ?? String(cause);
  if (r.failures.length === 0 && dir) {
    await removeJournal(fs, dir).catch(() => undefined);
  }
  const tail =
    r.failures.length === 0
      ? `undid all ${r.undone} earlier step${r.undone === 1 ? "" : "s"}: nothing changed`
      : `undid ${r.undone} step(s), but not everything: ${r.failures.join("; ")}. The tree differs from before there${dir ? `; the journal in ${dir} stays, and the next k3vip install or uninstall tries again` : ""}`;
  return new ApplyError(`could not ${step} (${why}); ${tail}`, r.undone, r.failures, { cause });
}
