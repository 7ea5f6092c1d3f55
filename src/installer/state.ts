// The state record: exactly which files and directories k3vip wrote, with
// hashes, so uninstall removes those and nothing else, and restores what
// they replaced. Paths are host paths (without --root) so a prepared image
// tree records the paths the host will see.
import { createHash } from "node:crypto";
import { join, relative, sep } from "node:path";
import type { Config, Distro } from "../config/index.ts";
import type { Layout } from "./layout.ts";
import type { SysctlRecord } from "./sysctl.ts";

export interface StateFile {
  path: string;
  sha256: string;
  mode: number;
  label: string;
  /** The file that was here before k3vip first wrote it; restored on uninstall. */
  original?: { backup: string; sha256: string; mode: number };
}

export interface StateRecord {
  format: 1;
  k3vip: string;
  distro: Distro;
  /** The config the add-on was rendered from, secrets removed (for uninstall's API delete and doctor). */
  config: Config;
  files: StateFile[];
  /** Files k3vip removed (e.g. a migrated kube-vip manifest), restored on uninstall. */
  removed: { path: string; backup: string; sha256: string; mode: number }[];
  /** Directories k3vip created, parents first. */
  dirs: string[];
  /** Running sysctls k3vip set on the live host, with the value found before (restored by uninstall). */
  sysctls?: SysctlRecord[];
}

export const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

export function toHost(layout: Layout, abs: string): string {
  if (!layout.root) return abs;
  return `/${relative(layout.root, abs).split(sep).join("/")}`;
}

export function toRoot(layout: Layout, hostPath: string): string {
  return layout.root ? join(layout.root, hostPath) : hostPath;
}

/** Where the pre-k3vip version of a host path is kept. */
export function backupPath(layout: Layout, hostPath: string): string {
  return join(layout.backupsDir, hostPath.replace(/^\//, "").replace(/\//g, "__"));
}

export function stripSecrets(c: Config): Config {
  return { ...c, bgp: { ...c.bgp, peers: c.bgp.peers.map(({ password: _p, ...rest }) => rest) } };
}

export function encodeState(s: StateRecord): Buffer {
  return Buffer.from(`${JSON.stringify(s, null, 2)}\n`);
}

export class StateError extends Error {}

export function decodeState(path: string, b: Buffer): StateRecord {
  let v: unknown;
  try {
    v = JSON.parse(b.toString("utf8"));
  } catch {
    throw new StateError(`${path} is not valid JSON; restore it or remove k3vip's files by hand`);
  }
  const s = v as Partial<StateRecord>;
  if (s.format !== 1 || !Array.isArray(s.files) || !Array.isArray(s.dirs) || !Array.isArray(s.removed) || typeof s.config !== "object") {
    throw new StateError(`${path} is not a k3vip state record (format 1)`);
  }
  return s as StateRecord;
}
