// Every path the installer reads as "its own", writes or deletes stays inside
// the root: no `..`, no symbolic link (in a parent directory) that leads out
// of --root, and no managed file that is itself a symbolic link (its target's
// bytes would be printed by --dry-run and copied into a backup). A state
// record may name only the places install writes to, so a tampered record
// cannot make uninstall delete anything else.
import { dirname, isAbsolute, normalize } from "node:path";
import type { Fs } from "./fs.ts";
import { InstallerError } from "./errors.ts";
import type { Layout } from "./layout.ts";
import type { Plan } from "./plan.ts";
import { toHost, type StateRecord } from "./state.ts";

const inside = (path: string, dir: string): boolean => dir === "/" || path === dir || path.startsWith(`${dir}/`);

function lexical(path: string): boolean {
  return isAbsolute(path) && normalize(path) === path && !path.split("/").includes("..");
}

/** The directories install writes under, as host paths. */
export function managedDirs(layout: Layout): string[] {
  return [layout.manifestsDir, layout.podManifestsDir, layout.dropinDir, layout.imagesDir, layout.stateDir, dirname(layout.sysctlFile)].map((d) => toHost(layout, d));
}

/** Throws when a state record names a path install could not have written. */
export function checkStatePaths(layout: Layout, s: StateRecord, source: string): void {
  const dirs = managedDirs(layout);
  const bad = (p: string, why: string) => new InstallerError(`${source} names ${JSON.stringify(p)}, ${why}; k3vip will not touch it. Restore the record from a backup or remove k3vip's files by hand; nothing was changed`);
  const file = (p: string) => {
    if (typeof p !== "string" || !lexical(p)) throw bad(String(p), "not a plain absolute path");
    if (!dirs.some((d) => inside(p, d) && p !== d)) throw bad(p, `outside the places k3vip writes to (${dirs.join(", ")})`);
  };
  for (const f of s.files) {
    file(f.path);
    if (f.original) file(f.original.backup);
  }
  for (const r of s.removed) {
    file(r.path);
    file(r.backup);
  }
  for (const d of s.dirs) {
    if (typeof d !== "string" || !lexical(d)) throw bad(String(d), "not a plain absolute path");
    if (!dirs.some((m) => inside(m, d) || inside(d, m))) throw bad(d, "not a directory on the way to (or in) a place k3vip writes to");
  }
}

async function deepestExisting(fs: Fs, path: string): Promise<string> {
  let cur = path;
  while (!(await fs.lstat(cur))) {
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/**
 * Refuses `path` (a file k3vip reads as its own, writes or deletes, or a
 * directory it creates or removes) when it leaves `root` or is a symbolic
 * link. Directories on the way may be links that stay inside the root (or
 * anywhere, on the live host: /var/lib/rancher on another disk is fine).
 */
export async function guardPath(fs: Fs, root: string, path: string): Promise<void> {
  const top = root || "/";
  if (!lexical(path) || !inside(path, top)) throw new InstallerError(`${path} is not a plain path inside ${top}; nothing was changed`);
  const st = await fs.lstat(path);
  if (st?.isSymlink) {
    const to = (await fs.realpath(path)) ?? "a missing file";
    throw new InstallerError(`${path} is a symbolic link (to ${to}): k3vip manages a plain file or directory there and never follows a link; remove the link, then run again. Nothing was changed`);
  }
  if (!root) return;
  const realRoot = (await fs.realpath(root)) ?? root;
  const existing = await deepestExisting(fs, path);
  const real = await fs.realpath(existing);
  if (real !== undefined && !inside(real, realRoot)) {
    throw new InstallerError(`${path} leads outside --root ${root} through a symbolic link (${existing} is ${real}); k3vip writes only under --root: remove the link, then run again. Nothing was changed`);
  }
}

/** guardPath for every file and directory a plan touches. */
export async function guardPlan(fs: Fs, root: string, plan: Plan): Promise<void> {
  for (const d of plan.dirs) await guardPath(fs, root, d.path);
  for (const f of plan.files) if (f.kind !== "unchanged") await guardPath(fs, root, f.path);
}
