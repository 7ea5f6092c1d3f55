// Reads what the plan needs to know about the tree, through the Fs port.
import { join } from "node:path";
import { checkStatePaths, guardPath } from "./confine.ts";
import { InstallerError } from "./errors.ts";
import { ConfigFileError, parseConfigFile } from "./dropin.ts";
import type { Fs } from "./fs.ts";
import type { Layout } from "./layout.ts";
import type { Current } from "./plan.ts";
import { scanManifest, type Found } from "./preflight/conflicts.ts";
import { backupPath, decodeState, StateError, toHost, toRoot, type StateRecord } from "./state.ts";


export async function readState(fs: Fs, layout: Layout): Promise<StateRecord | undefined> {
  const b = await fs.read(layout.stateFile);
  if (!b) return undefined;
  let state: StateRecord;
  try {
    state = decodeState(layout.stateFile, b);
  } catch (e) {
    if (e instanceof StateError) throw new InstallerError(`${e.message}; nothing was changed`);
    throw e;
  }
  checkStatePaths(layout, state, layout.stateFile);
  return state;
}

export interface UserConfig {
  path: string;
  values: Record<string, unknown>;
  /** Merged after k3vip's drop-in (k3s merges config.yaml.d in lexical order). */
  afterOurs: boolean;
}

/** config.yaml and every drop-in except k3vip's, in k3s merge order. Malformed → InstallerError. */
export async function readUserConfigs(fs: Fs, layout: Layout): Promise<UserConfig[]> {
  const paths = [layout.configFile];
  for (const name of (await fs.list(layout.dropinDir)) ?? []) {
    const p = join(layout.dropinDir, name);
    if (p !== layout.dropinFile && /\.ya?ml$/.test(name)) paths.push(p);
  }
  const out: UserConfig[] = [];
  for (const p of paths) {
    const b = await fs.read(p);
    if (!b) continue;
    try {
      out.push({ path: p, values: parseConfigFile(p, b.toString("utf8")), afterOurs: p !== layout.configFile && p > layout.dropinFile });
    } catch (e) {
      if (e instanceof ConfigFileError) throw new InstallerError(e.message);
      throw e;
    }
  }
  return out;
}

/** kube-vip, MetalLB, Cilium L2 in the manifests and static-pod dirs (k3vip's own file skipped). */
export async function findLoadBalancers(fs: Fs, layout: Layout, ownFiles: ReadonlySet<string>): Promise<Found[]> {
  const found: Found[] = [];
  for (const dir of [layout.manifestsDir, layout.podManifestsDir]) {
    for (const name of (await fs.list(dir)) ?? []) {
      const p = join(dir, name);
      // k3s's deploy controller skips dotfiles and *.skip.
      if (ownFiles.has(p) || name.startsWith(".") || !/\.(ya?ml|json)$/.test(name)) continue;
      const b = await fs.read(p);
      if (b) found.push(...scanManifest(p, b.toString("utf8")));
    }
  }
  return found;
}

/** Reads every path the planner may compare against. */
export async function readCurrent(fs: Fs, layout: Layout, paths: Iterable<string>, state: StateRecord | undefined): Promise<Map<string, Current>> {
  const all = new Set<string>([...paths, layout.stateFile]);
  for (const p of [...all]) all.add(backupPath(layout, toHost(layout, p)));
  for (const f of state?.files ?? []) {
    all.add(toRoot(layout, f.path));
    if (f.original) all.add(toRoot(layout, f.original.backup));
  }
  for (const r of state?.removed ?? []) {
    all.add(toRoot(layout, r.path));
    all.add(toRoot(layout, r.backup));
  }
  const map = new Map<string, Current>();
  for (const p of all) {
    await guardPath(fs, layout.root, p);
    const s = await fs.stat(p);
    if (!s || s.isDir) continue;
    const content = await fs.read(p);
    if (content) map.set(p, { content, mode: s.mode });
  }
  return map;
}
