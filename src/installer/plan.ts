// Plan (pure): what is on disk + what should be → a list of steps. Apply
// executes the steps; dry-run prints them as a diff. Nothing here does I/O.
import { createTwoFilesPatch } from "diff";
import { dirname } from "node:path";
import { maskSecrets, type Config } from "../config/index.ts";
import type { Owner } from "./fs.ts";
import type { Layout } from "./layout.ts";
import { yamlSecrets } from "./secrets.ts";
import type { SysctlRecord } from "./sysctl.ts";
import { backupPath, encodeState, sha256, stripSecrets, toHost, toRoot, type StateFile, type StateRecord } from "./state.ts";

export type ChangeKind = "create" | "update" | "unchanged" | "delete";

/** A file the plan should hold. Other features add theirs through `extraFiles`. */
export interface DesiredFile {
  /** Absolute path, --root included. */
  path: string;
  content: Buffer;
  mode: number;
  /** What it is, for messages: "manifest", "drop-in", "image archive", … */
  label: string;
  /** Holds secrets: its diff is masked. */
  secret?: boolean;
  /** Binary content: the diff names the file but shows no lines. */
  binary?: boolean;
}

export interface FileChange {
  kind: ChangeKind;
  path: string;
  label: string;
  mode: number;
  /** New bytes (create/update). */
  content?: Buffer;
  /** Owner to give the file (kubeconfig: the target dir's owner). */
  owner?: Owner;
  /** Bytes and mode before (update/delete), for the diff and the rollback. */
  before?: { content: Buffer; mode: number };
  secret?: boolean;
  binary?: boolean;
  /** k3vip's own bookkeeping (state, backups): applied, not shown in the diff. */
  internal?: boolean;
}

export interface DirChange {
  kind: "mkdir" | "rmdir";
  path: string;
  mode: number;
}

export interface Plan {
  /** mkdirs (parents first) run before the files; rmdirs (children first) after. */
  dirs: DirChange[];
  files: FileChange[];
  /** Things the user should know (e.g. "kept: edited since"). */
  notes: string[];
}

/** What the planner knows about one path on disk. */
export interface Current {
  content: Buffer;
  mode: number;
}

export class PlanConflict extends Error {}

export interface InstallPlanInput {
  layout: Layout;
  config: Config;
  version: string;
  desired: DesiredFile[];
  /** Files to remove (with a backup), e.g. an old kube-vip manifest when migrating. */
  remove: { path: string; label: string }[];
  /** Current content of every desired/removed path, state file and backup path; absent = missing. */
  current: ReadonlyMap<string, Current>;
  state: StateRecord | undefined;
  /** Directories that do not exist yet, parents first (for every parent of what the plan writes). */
  missingDirs: readonly string[];
  /** Running sysctls set on the live host (kept in the state record for uninstall). */
  sysctls?: readonly SysctlRecord[];
}

/** The directories every file in the plan needs. */
export function neededDirs(layout: Layout, desired: readonly DesiredFile[], withBackups: boolean): string[] {
  const dirs = new Set(desired.map((d) => dirname(d.path)));
  dirs.add(layout.stateDir);
  if (withBackups) dirs.add(layout.backupsDir);
  return [...dirs];
}

export function planInstall(i: InstallPlanInput): Plan {
  const { layout } = i;
  const files: FileChange[] = [];
  const backups: FileChange[] = [];
  const stateFiles: StateFile[] = [];
  const prevByPath = new Map((i.state?.files ?? []).map((f) => [f.path, f]));

  for (const d of i.desired) {
    const host = toHost(layout, d.path);
    const cur = i.current.get(d.path);
    const prev = prevByPath.get(host);
    const entry: StateFile = { path: host, sha256: sha256(d.content), mode: d.mode, label: d.label };
    if (prev?.original) entry.original = prev.original;
    if (cur && prev && sha256(cur.content) !== prev.sha256) {
      throw new PlanConflict(`${d.path} (${d.label}) was edited since k3vip wrote it; move your change into k3vip's flags or another file, delete it, then run again`);
    }
    if (cur && !prev) {
      if (d.label === "drop-in") {
        throw new PlanConflict(`${d.path} exists and was not written by k3vip; rename it (k3s merges every file in ${dirname(d.path)}) or remove it, then run again`);
      }
      // Keep what was here before k3vip (e.g. a manifest from install.sh),
      // even if identical, so uninstall puts it back byte for byte.
      const bpath = backupPath(layout, host);
      backups.push(backupChange(bpath, host, cur, i.current.get(bpath)));
      entry.original = { backup: toHost(layout, bpath), sha256: sha256(cur.content), mode: cur.mode };
    }
    stateFiles.push(entry);
    files.push(change(d, cur));
  }

  const removed: StateRecord["removed"] = [...(i.state?.removed ?? [])];
  for (const r of i.remove) {
    const cur = i.current.get(r.path);
    if (!cur) continue;
    const host = toHost(layout, r.path);
    const bpath = backupPath(layout, host);
    backups.push(backupChange(bpath, host, cur, i.current.get(bpath)));
    files.push({ kind: "delete", path: r.path, label: r.label, mode: cur.mode, before: cur });
    removed.push({ path: host, backup: toHost(layout, bpath), sha256: sha256(cur.content), mode: cur.mode });
  }

  // Files a previous run wrote that this run no longer wants (e.g. an image
  // archive dropped): remove them, or restore what they replaced.
  const wanted = new Set(stateFiles.map((f) => f.path));
  const notes: string[] = [];
  for (const prev of i.state?.files ?? []) {
    if (wanted.has(prev.path)) continue;
    const abs = toRoot(layout, prev.path);
    const cur = i.current.get(abs);
    if (!cur) continue;
    if (sha256(cur.content) !== prev.sha256) {
      notes.push(`kept ${abs}: edited since k3vip wrote it`);
      continue;
    }
    files.push(undoChange(layout, prev, cur, i.current));
  }

  const dirs = [...new Set([...(i.state?.dirs ?? []), ...i.missingDirs.map((d) => toHost(layout, d))])];
  const state: StateRecord = {
    format: 1,
    k3vip: i.version,
    distro: layout.distro,
    config: stripSecrets(i.config),
    files: stateFiles,
    removed,
    dirs,
    ...(i.sysctls && i.sysctls.length > 0 ? { sysctls: [...i.sysctls] } : {}),
  };
  const stateChange = change({ path: layout.stateFile, content: encodeState(state), mode: 0o600, label: "state" }, i.current.get(layout.stateFile));
  stateChange.internal = true;
  // Backups first (so a crash leaves the old bytes somewhere), then the
  // files, then the record of them.
  return { dirs: i.missingDirs.map((path) => ({ kind: "mkdir", path, mode: 0o755 })), files: [...backups, ...files, stateChange], notes };
}

function backupChange(path: string, host: string, of: Current, existing: Current | undefined): FileChange {
  // A backup is someone's only copy of a file: never write over a different one.
  if (existing && !(existing.content.equals(of.content) && existing.mode === of.mode)) {
    throw new PlanConflict(`${path} already holds an earlier backup of ${host} that differs from the file there now; k3vip will not overwrite it: move it away (it may be your only copy of that file), then run again`);
  }
  const c = change({ path, content: of.content, mode: of.mode, label: `backup of ${host}` }, existing);
  c.internal = true;
  return c;
}

function change(d: Pick<DesiredFile, "path" | "content" | "mode" | "label" | "secret" | "binary">, cur: Current | undefined): FileChange {
  const base: FileChange = { kind: "create", path: d.path, label: d.label, mode: d.mode, content: d.content };
  if (d.secret) base.secret = true;
  if (d.binary) base.binary = true;
  if (!cur) return base;
  base.before = cur;
  base.kind = cur.content.equals(d.content) && cur.mode === d.mode ? "unchanged" : "update";
  return base;
}

/** Reverses one file k3vip wrote: restore its original, or delete it. */
function undoChange(layout: Layout, f: StateFile, cur: Current, current: ReadonlyMap<string, Current>): FileChange {
  const abs = toRoot(layout, f.path);
  if (f.original) {
    const b = current.get(toRoot(layout, f.original.backup));
    if (b) return { kind: "update", path: abs, label: f.label, mode: f.original.mode, content: b.content, before: cur };
  }
  return { kind: "delete", path: abs, label: f.label, mode: cur.mode, before: cur };
}

/** Uninstall plan: undo every file in the record, then the record, backups and empty dirs. */
export function planUninstall(
  layout: Layout,
  state: StateRecord,
  current: ReadonlyMap<string, Current>,
  /** Entries of each recorded dir now (names), to know which become empty. */
  dirEntries: ReadonlyMap<string, readonly string[]>,
  dirModes: ReadonlyMap<string, number>,
): Plan {
  const files: FileChange[] = [];
  const notes: string[] = [];
  const keepBackups = new Set<string>();
  for (const f of state.files) {
    const abs = toRoot(layout, f.path);
    const cur = current.get(abs);
    if (!cur) {
      notes.push(`${abs} was already gone`);
      continue;
    }
    if (sha256(cur.content) !== f.sha256) {
      notes.push(`kept ${abs}: edited since k3vip wrote it${f.original ? ` (the file it replaced is at ${toRoot(layout, f.original.backup)})` : ""}`);
      if (f.original) keepBackups.add(f.original.backup);
      continue;
    }
    files.push(undoChange(layout, f, cur, current));
  }
  for (const r of state.removed) {
    const abs = toRoot(layout, r.path);
    const b = current.get(toRoot(layout, r.backup));
    if (current.has(abs)) {
      notes.push(`kept ${abs}: a file is there again; the one k3vip removed is at ${toRoot(layout, r.backup)}`);
      keepBackups.add(r.backup);
      continue;
    }
    if (b) files.push({ kind: "create", path: abs, label: `restored ${r.path}`, mode: r.mode, content: b.content });
  }
  const backupPaths = [...state.files.flatMap((f) => (f.original ? [f.original.backup] : [])), ...state.removed.map((r) => r.backup)];
  for (const hb of backupPaths) {
    if (keepBackups.has(hb)) continue;
    const abs = toRoot(layout, hb);
    const cur = current.get(abs);
    if (cur) files.push({ kind: "delete", path: abs, label: "backup", mode: cur.mode, before: cur, internal: true });
  }
  const st = current.get(layout.stateFile);
  if (st) files.push({ kind: "delete", path: layout.stateFile, label: "state", mode: st.mode, before: st, internal: true });

  // A recorded dir goes when nothing but what this plan deletes is left in it.
  const gone = new Set(files.filter((f) => f.kind === "delete").map((f) => f.path));
  const added = new Set(files.filter((f) => f.kind === "create").map((f) => f.path));
  const dirs: DirChange[] = [];
  for (const hd of [...state.dirs].reverse()) {
    const abs = toRoot(layout, hd);
    const entries = dirEntries.get(abs);
    if (!entries) continue;
    const left = entries.map((n) => `${abs}/${n}`).filter((p) => !gone.has(p));
    if (left.length === 0 && ![...added].some((p) => dirname(p) === abs)) {
      dirs.push({ kind: "rmdir", path: abs, mode: dirModes.get(abs) ?? 0o755 });
      gone.add(abs);
    } else if (!left.every((p) => gone.has(p))) {
      notes.push(`kept ${abs}: not empty`);
    }
  }
  return { dirs, files, notes };
}

/** True when applying the plan would change nothing. */
export function isNoop(p: Plan): boolean {
  return p.dirs.length === 0 && p.files.every((f) => f.kind === "unchanged");
}

/** A unified diff of every user-visible change, secrets replaced by ****. */
export function planDiff(p: Plan, secrets: readonly string[]): string {
  // Both sides of every file: an update's old token was never given to this run.
  const all = [...secrets, ...p.files.flatMap((f) => (f.binary ? [] : [...yamlSecrets(f.before?.content.toString("utf8") ?? ""), ...yamlSecrets(f.content?.toString("utf8") ?? "")]))];
  const mask = (s: string): string => maskSecrets(s, all);
  const out: string[] = [];
  for (const d of p.dirs) out.push(`${d.kind === "mkdir" ? "create directory" : "remove directory"} ${d.path}\n`);
  for (const f of p.files) {
    if (f.internal || f.kind === "unchanged") continue;
    const modeNote = f.before && f.before.mode !== f.mode && f.kind === "update" ? ` (mode ${oct(f.before.mode)} → ${oct(f.mode)})` : f.kind === "create" ? ` (mode ${oct(f.mode)})` : "";
    // A file a previous run wrote comes back from the state record without
    // its flag (e.g. the image archive being removed): sniff it like git does.
    if (f.binary || looksBinary(f.content) || looksBinary(f.before?.content)) {
      out.push(`${f.kind} ${f.path}${modeNote}: binary, ${f.content?.length ?? f.before?.content.length ?? 0} bytes\n`);
      continue;
    }
    // Diffed in clear, masked after: a changed token still shows as a -/+ pair.
    const a = f.kind === "create" ? "" : (f.before?.content.toString("utf8") ?? "");
    const b = f.kind === "delete" ? "" : (f.content?.toString("utf8") ?? "");
    const patch = createTwoFilesPatch(f.kind === "create" ? "/dev/null" : f.path, f.kind === "delete" ? "/dev/null" : f.path, a, b, undefined, undefined, { context: 3 });
    out.push(mask(`# ${f.kind} ${f.label}${modeNote}\n${patch.replace(/^=+\n/, "")}`));
  }
  return out.join("");
}

const oct = (m: number): string => `0${m.toString(8)}`;

/** A NUL byte in the first 8000 bytes: git's test for a binary file. */
const looksBinary = (b: Buffer | undefined): boolean => b !== undefined && b.subarray(0, 8000).includes(0);
