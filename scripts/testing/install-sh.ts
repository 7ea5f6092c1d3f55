// Runs install.sh under a given shell/awk and k3vip's own resolve+render on
// the same inputs, for the parity and bad-input tests.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig, UsageError } from "../../src/config/index.ts";
import { renderAddon } from "../../src/render/index.ts";
import { VERSION } from "../../src/version.ts";

export const INSTALL_SH = join(import.meta.dirname, "..", "..", "install.sh");

export interface Inputs {
  env?: Record<string, string>;
  /** Flag name (no dashes) → value, passed as `--name value`. */
  flags?: Record<string, string>;
}

/**
 * A fixed heartbeat key both paths get unless the inputs set one: without it
 * each would make a random key (the installers' last resort), never the same.
 */
export const TEST_HEARTBEAT_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

function withKey(env: Record<string, string> | undefined): Record<string, string> {
  return { K3VIP_HEARTBEAT_KEY: TEST_HEARTBEAT_KEY, ...(env ?? {}) };
}

/** Result of k3vip's own path: the manifest bytes or the usage message. */
export function k3vip(inputs: Inputs): { ok: true; out: string } | { ok: false; message: string } {
  try {
    const config = resolveConfig({ scope: "install", version: VERSION, env: withKey(inputs.env), flags: inputs.flags ?? {} });
    return { ok: true, out: renderAddon(config) };
  } catch (e) {
    if (e instanceof UsageError) return { ok: false, message: e.message };
    throw e;
  }
}

export interface Runner {
  name: string;
  /** argv prefix running a script file, e.g. ["dash"] or ["busybox", "sh"]. */
  shell: string[];
  /** A dir put first on PATH (e.g. with an `awk` symlink), or undefined. */
  pathDir?: string;
}

const scratch = mkdtempSync(join(tmpdir(), "k3vip-sh-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/** dash + the system awk, dash + mawk, busybox sh + its own awk applet. */
export function runners(): Runner[] {
  const out: Runner[] = [{ name: "dash", shell: ["dash"] }];
  const mawk = spawnSync("sh", ["-c", "command -v mawk"], { encoding: "utf8" }).stdout.trim();
  if (mawk) {
    const dir = join(scratch, "mawk-bin");
    mkdirSync(dir, { recursive: true });
    symlinkSync(mawk, join(dir, "awk"));
    out.push({ name: "dash+mawk", shell: ["dash"], pathDir: dir });
  }
  out.push({ name: "busybox sh", shell: ["busybox", "sh"] });
  return out;
}

/** A dir with an executable `name` printing `stdout`, to put first on PATH. */
export function fakeCommand(name: string, script: string): string {
  const dir = mkdtempSync(join(scratch, `fake-${name}-`));
  writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return dir;
}

export function scratchDir(): string {
  return mkdtempSync(join(scratch, "root-"));
}

export interface ShResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runInstallSh(r: Runner, inputs: Inputs, args: string[] = ["--print"], extraPath: string[] = []): ShResult {
  const argv = [...args];
  for (const [k, v] of Object.entries(inputs.flags ?? {})) argv.push(`--${k}`, v);
  const path = [...extraPath, ...(r.pathDir ? [r.pathDir] : []), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"].join(":");
  const [cmd = "sh", ...pre] = r.shell;
  const res = spawnSync(cmd, [...pre, INSTALL_SH, ...argv], {
    encoding: "utf8",
    env: { PATH: path, TMPDIR: scratch, ...withKey(inputs.env) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** install.sh's usage message without its `[ERROR]  ` prefix. */
export function shMessage(stderr: string): string {
  return stderr.replace(/\n$/, "").replace(/^\[ERROR\] {2}/, "");
}
