// The write-ahead journal: before a plan's first change, every step it will
// take — and a saved copy of every file it will replace or delete — is on
// disk, so a run killed between two steps (SIGKILL, OOM, a power cut) is
// rolled back by the next run before it does anything else.
//
// Undoing is guarded: a step is undone only when the disk shows that step's
// own result (the file holds exactly the bytes the run wrote, a directory it
// made is empty); anything else means someone changed it since, and it is
// left alone and reported. So an undo never writes over a file it did not
// itself just write, and a second run can never restore a stale copy over
// the first run's work.
import { dirname, join } from "node:path";
import type { Fs } from "./fs.ts";
import type { Plan } from "./plan.ts";
import { sha256 } from "./state.ts";

export const JOURNAL_NAME = ".k3vip-journal.json";
const SAVED_NAME = ".k3vip-journal.d";

/** A file's bytes as they were before the run: a copy under the journal's saved dir (or in memory without a journal dir). */
interface Saved {
  sha256: string;
  mode: number;
  copy?: string;
}

export type Step =
  | { op: "mkdir"; path: string; mode: number }
  | { op: "rmdir"; path: string; mode: number }
  | { op: "write"; path: string; sha256: string; mode: number; what: string; before?: Saved }
  | { op: "delete"; path: string; what: string; before: Saved };

export interface Journal {
  format: 1;
  /** The run that wrote it, for the message after a crash. */
  pid: number;
  started: string;
  steps: Step[];
}

export interface UndoResult {
  undone: number;
  /** What could not be put back, one line each: the tree may differ from before. */
  failures: string[];
}

/** Where a run's journal lives: `dir`/.k3vip-journal.json, saved copies in `dir`/.k3vip-journal.d/. */
export function journalPaths(dir: string): { file: string; saved: string } {
  return { file: join(dir, JOURNAL_NAME), saved: join(dir, SAVED_NAME) };
}

/** The steps of a plan, in the order apply runs them. */
export function planSteps(plan: Plan): Step[] {
  const steps: Step[] = [];
  for (const d of plan.dirs) if (d.kind === "mkdir") steps.push({ op: "mkdir", path: d.path, mode: d.mode });
  for (const f of plan.files) {
    if (f.kind === "unchanged") continue;
    const before = f.before ? { sha256: sha256(f.before.content), mode: f.before.mode } : undefined;
    if (f.kind === "delete") {
      if (!before) throw new Error(`plan deletes ${f.path} without its bytes`);
      steps.push({ op: "delete", path: f.path, what: f.label, before });
    } else {
      if (!f.content) throw new Error(`plan writes ${f.path} without content`);
      steps.push({ op: "write", path: f.path, sha256: sha256(f.content), mode: f.mode, what: f.label, ...(before ? { before } : {}) });
    }
  }
  for (const d of plan.dirs) if (d.kind === "rmdir") steps.push({ op: "rmdir", path: d.path, mode: d.mode });
  return steps;
}

/**
 * The bytes each step needs to be undone, by step index: the file before a
 * write replaced it or a delete removed it.
 */
export function savedBytes(plan: Plan, steps: readonly Step[]): Map<number, Buffer> {
  const byPath = new Map(plan.files.filter((f) => f.before).map((f) => [f.path, f.before?.content]));
  const out = new Map<number, Buffer>();
  steps.forEach((s, i) => {
    const b = (s.op === "write" || s.op === "delete") && s.before ? byPath.get(s.path) : undefined;
    if (b) out.set(i, b);
  });
  return out;
}

export function encodeJournal(j: Journal): Buffer {
  return Buffer.from(`${JSON.stringify(j, null, 2)}\n`);
}

export function decodeJournal(path: string, b: Buffer): Journal {
  const j = JSON.parse(b.toString("utf8")) as Partial<Journal>;
  if (j.format !== 1 || !Array.isArray(j.steps)) throw new Error(`${path} is not a k3vip journal (format 1)`);
  return j as Journal;
}

/** Temp dotfiles NodeFs.writeAtomic leaves when it is killed before its rename. */
const TEMP = /^\..+\.k3vip-[0-9a-f]{8}$/;

async function removeTemps(fs: Fs, dir: string): Promise<void> {
  for (const name of (await fs.list(dir)) ?? []) if (TEMP.test(name)) await fs.unlink(join(dir, name)).catch(() => undefined);
}

/**
 * Undoes the steps of `j` that the disk shows as done, newest first.
 * `saved` gives a saved copy's bytes (read from the journal's saved dir, or
 * from memory during the run itself).
 */
export async function undoSteps(fs: Fs, steps: readonly Step[], saved: (i: number) => Promise<Buffer | undefined>): Promise<UndoResult> {
  const failures: string[] = [];
  let undone = 0;
  const dirs = new Set(steps.map((s) => (s.op === "mkdir" || s.op === "rmdir" ? s.path : dirname(s.path))));
  for (const d of dirs) await removeTemps(fs, d);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i] as Step;
    try {
      const r = await undoOne(fs, s, () => saved(i));
      if (r === "undone") undone++;
      else if (r !== "not-done") failures.push(r);
    } catch (e) {
      failures.push(`${describe(s)}: ${(e as Error).message}`);
    }
  }
  return { undone, failures };
}

function describe(s: Step): string {
  switch (s.op) {
    case "mkdir":
      return `remove ${s.path}`;
    case "rmdir":
      return `recreate ${s.path}`;
    case "write":
      return s.before ? `restore ${s.path}` : `remove ${s.path}`;
    case "delete":
      return `restore ${s.path}`;
  }
}

/** "undone", "not-done" (the step never happened), or why it was left alone. */
async function undoOne(fs: Fs, s: Step, saved: () => Promise<Buffer | undefined>): Promise<string> {
  if (s.op === "mkdir") {
    const st = await fs.stat(s.path);
    if (!st) return "not-done";
    const left = ((await fs.list(s.path)) ?? []).filter((n) => !TEMP.test(n));
    if (left.length > 0) return `kept ${s.path}: not empty (${left.slice(0, 3).join(", ")}${left.length > 3 ? ", …" : ""})`;
    await removeTemps(fs, s.path);
    await fs.rmdir(s.path);
    return "undone";
  }
  if (s.op === "rmdir") {
    if (await fs.stat(s.path)) return "not-done";
    await fs.mkdir(s.path, s.mode);
    return "undone";
  }
  const cur = await fs.read(s.path);
  const curSum = cur ? sha256(cur) : undefined;
  const restore = async (b: Saved): Promise<string> => {
    const bytes = await saved();
    if (!bytes || sha256(bytes) !== b.sha256) return `could not restore ${s.path}: its saved copy${b.copy ? ` (${b.copy})` : ""} is missing or damaged`;
    await fs.writeAtomic(s.path, bytes, b.mode);
    return "undone";
  };
  if (s.op === "delete") {
    if (curSum === s.before.sha256) return "not-done";
    if (cur) return `kept ${s.path}: a different file is there now`;
    return restore(s.before);
  }
  // A write.
  if (curSum !== s.sha256) {
    if (cur === undefined ? !s.before : curSum === s.before?.sha256) return "not-done";
    // Changed by someone else since (or never ours): never write over it.
    if (cur) return `kept ${s.path}: it changed since this run wrote it${s.before?.copy ? `; the file it replaced is saved at ${s.before.copy}` : ""}`;
    // Ours, then deleted by someone: putting back what it replaced overwrites nothing.
    return s.before ? restore(s.before) : "not-done";
  }
  if (s.before) return restore(s.before);
  await fs.unlink(s.path);
  return "undone";
}

/** The journal a crashed run left, searched in every place a run may put it (see journalDirFor). */
export async function findJournal(fs: Fs, candidates: readonly string[]): Promise<{ dir: string; journal: Journal } | undefined> {
  for (const dir of candidates) {
    const { file } = journalPaths(dir);
    const b = await fs.read(file);
    if (b) return { dir, journal: decodeJournal(file, b) };
  }
  return undefined;
}

/** Removes the journal and its saved copies (the journal last: it is the record that anything is left). */
export async function removeJournal(fs: Fs, dir: string): Promise<void> {
  const { file, saved } = journalPaths(dir);
  const names = await fs.list(saved);
  if (names) {
    for (const n of names) await fs.unlink(join(saved, n));
    await fs.rmdir(saved);
  }
  await removeTemps(fs, dir);
  if (await fs.stat(file)) await fs.unlink(file);
}

/** Rolls back the run `j` left in `dir`; the journal goes only when everything could be put back. */
export async function rollBackJournal(fs: Fs, dir: string, j: Journal): Promise<UndoResult> {
  const r = await undoSteps(fs, j.steps, async (i) => {
    const s = j.steps[i];
    const copy = s && (s.op === "write" || s.op === "delete") ? s.before?.copy : undefined;
    return copy ? fs.read(copy) : undefined;
  });
  if (r.failures.length === 0) await removeJournal(fs, dir);
  return r;
}

export interface Recovery {
  /** What was found and done, for the run's notes. */
  notes: string[];
  /** What could not be put back: the caller stops and reports. */
  failures: string[];
}

/**
 * Before a run does anything: roll back whatever an interrupted run left in
 * any of `candidates`. A saved-copies dir without a journal is a run killed
 * before its first step (or after its commit): only the copies go.
 */
export async function recoverInterrupted(fs: Fs, candidates: readonly string[]): Promise<Recovery> {
  const notes: string[] = [];
  const failures: string[] = [];
  for (const dir of candidates) {
    const { file, saved } = journalPaths(dir);
    const b = await fs.read(file);
    if (b) {
      const j = decodeJournal(file, b);
      const r = await rollBackJournal(fs, dir, j);
      const who = `an interrupted k3vip run (pid ${j.pid}, started ${j.started})`;
      if (r.failures.length === 0) notes.push(`${who} was rolled back first: ${r.undone} step(s) undone`);
      else failures.push(`${who} could not be rolled back completely (its journal stays at ${file}): ${r.failures.join("; ")}`);
      continue;
    }
    if (await fs.stat(saved)) {
      await removeJournal(fs, dir);
      notes.push(`removed ${saved}, left by an interrupted k3vip run before or after its changes`);
    }
  }
  return { notes, failures };
}

/** The deepest existing directory on the way to `target` (a journal can live there before the run made anything). */
export async function deepestExisting(fs: Fs, target: string): Promise<string> {
  let cur = target;
  for (;;) {
    const st = await fs.stat(cur);
    if (st?.isDir) return cur;
    const up = dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

/** Every directory from `target` up to `root`, deepest first: where a journal for `target` may be. */
export function journalCandidates(target: string, root: string): string[] {
  const out: string[] = [];
  const top = root || "/";
  let cur = target;
  for (;;) {
    out.push(cur);
    if (cur === top || dirname(cur) === cur) break;
    cur = dirname(cur);
  }
  return out;
}

