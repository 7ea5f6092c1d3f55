// Adapters that fetch the image's inputs into the cache: the Node runtime from
// the npm registry (integrity pinned in arch.ts) and Debian packages through a
// private apt state (no `dpkg --add-architecture`, no change to the host's apt).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as tar from "tar";
import type { ArchInfo } from "./arch.ts";

const run = promisify(execFile);

export type Log = (line: string) => void;

/** `$K3VIP_CACHE`, else `$XDG_CACHE_HOME/k3vip`, else `~/.cache/k3vip`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.K3VIP_CACHE) return env.K3VIP_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "k3vip");
  return join(homedir(), ".cache", "k3vip");
}

/** Runs a tool; on failure the error names the command, its exit code and the end of its stderr. */
export async function tool(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; code?: number | string };
    if (err.code === "ENOENT") throw new Error(`${cmd} is not installed (needed to build the image): install it (Debian: ${debianPackageFor(cmd)})`, { cause: e });
    const tail = (err.stderr ?? "").trim().split("\n").slice(-5).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${String(err.code)}): ${tail}`, { cause: e });
  }
}

function debianPackageFor(cmd: string): string {
  return { strip: "binutils-multiarch", zstd: "zstd", "dpkg-deb": "dpkg", "apt-get": "apt", npm: "npm" }[cmd] ?? cmd;
}

/** SRI string (`sha512-<base64>`) of a file. */
export function integrityOf(file: string): string {
  return `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
}

/** Makes `final` by writing into a temp sibling and renaming, so a crash never leaves half a cache entry. */
async function atomically(final: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(final)) return final;
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await make(tmp);
    renameSync(tmp, final);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}

/**
 * The Node binary for an arch, stripped of its symbol tables and debug info
 * (npm's builds ship them: ~17 MB, ~4 MB gzipped, that only debuggers read).
 */
export async function nodeBinary(a: ArchInfo, cache: string, log: Log): Promise<string> {
  const { pkg, version, integrity } = a.node;
  const dir = join(cache, "npm");
  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, `${pkg}-${version}.tgz`);
  if (!existsSync(tgz)) {
    log(`fetching ${pkg}@${version} from the npm registry`);
    await atomically(tgz, async (tmp) => {
      mkdirSync(tmp);
      await tool("npm", ["pack", `${pkg}@${version}`, "--pack-destination", tmp, "--silent"]);
      renameSync(join(tmp, `${pkg}-${version}.tgz`), `${tmp}.tgz`);
      rmSync(tmp, { recursive: true });
      renameSync(`${tmp}.tgz`, tmp);
    });
  }
  const got = integrityOf(tgz);
  if (got !== integrity) {
    rmSync(tgz);
    throw new Error(`${pkg}@${version} from the npm registry has integrity ${got}, expected ${integrity} (pinned in src/image/arch.ts); the download was deleted: retry, and if it persists do not use this registry`);
  }
  const out = join(cache, "node", `${pkg}-${version}.stripped`);
  mkdirSync(join(cache, "node"), { recursive: true });
  return atomically(out, async (tmp) => {
    mkdirSync(tmp);
    await tar.x({ file: tgz, cwd: tmp, filter: (p) => p === "package/bin/node" });
    await tool("strip", ["--strip-all", "-o", `${tmp}/node`, `${tmp}/package/bin/node`]);
    renameSync(`${tmp}/node`, `${tmp}.bin`);
    rmSync(tmp, { recursive: true });
    renameSync(`${tmp}.bin`, tmp);
  });
}

/** Apt options for a private, per-arch state in the cache (indexes, archives, an empty dpkg status). */
function aptOptions(a: ArchInfo, cache: string): string[] {
  const root = join(cache, "apt", a.debArch);
  for (const d of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(root, d), { recursive: true });
  const status = join(root, "status");
  if (!existsSync(status)) writeFileSync(status, "");
  return [
    "-q",
    "-o", `Dir::State::Lists=${root}/lists`,
    "-o", `Dir::Cache=${root}/cache`,
    "-o", `Dir::State::status=${join(root, "status")}`,
    "-o", `APT::Architecture=${a.debArch}`,
    "-o", `APT::Architectures::=${a.debArch}`,
    "-o", "Debug::NoLocking=1",
    // Downloads land in the cache, which the _apt sandbox user may not be able to write.
    "-o", "APT::Sandbox::User=root",
  ];
}

const INDEX_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Downloads Debian packages for an arch (candidate versions from the host's
 * configured Debian sources) into the cache and returns `name → .deb path`.
 * A .deb already cached with the expected SHA256 is not fetched again.
 */
export async function debianPackages(a: ArchInfo, names: readonly string[], cache: string, log: Log): Promise<Map<string, { deb: string; version: string }>> {
  const opts = aptOptions(a, cache);
  const lists = join(cache, "apt", a.debArch, "lists");
  const fresh = readdirSync(lists).some((f) => f.includes("_Packages") && Date.now() - statSync(join(lists, f)).mtimeMs < INDEX_MAX_AGE_MS);
  if (!fresh) await aptUpdate(a, opts, log);
  let uris: DebUri[];
  try {
    uris = await printUris(opts, names);
  } catch (e) {
    // An index older than a security update names a .deb the mirror no longer has: refresh once.
    if (!fresh) throw e;
    await aptUpdate(a, opts, log);
    uris = await printUris(opts, names);
  }
  const dir = join(cache, "debs", a.debArch);
  mkdirSync(dir, { recursive: true });
  const missing = uris.filter((u) => !(existsSync(join(dir, u.file)) && sha256File(join(dir, u.file)) === u.sha256));
  if (missing.length > 0) {
    log(`fetching ${missing.length} Debian ${a.debArch} package(s): ${missing.map((u) => u.name).join(" ")}`);
    await tool("apt-get", [...opts, "download", ...missing.map((u) => `${u.name}:${a.debArch}`)], { cwd: dir });
  }
  const out = new Map<string, { deb: string; version: string }>();
  for (const u of uris) {
    const deb = join(dir, u.file);
    if (sha256File(deb) !== u.sha256) throw new Error(`${u.file} does not match the SHA256 in Debian's index; delete ${dir} and retry`);
    out.set(u.name, { deb, version: u.version });
  }
  return out;
}

async function aptUpdate(a: ArchInfo, opts: string[], log: Log): Promise<void> {
  log(`updating the Debian ${a.debArch} package index (private apt state in the cache)`);
  try {
    await tool("apt-get", [...opts, "update"]);
  } catch (e) {
    // apt exits 100 when any one source fails (a mirror mid-sync, a third-party
    // repo without this arch); the packages may still resolve from the rest.
    const msg = (e as Error).message;
    const line = msg.split("\n").find((l) => l.startsWith("E: ")) ?? msg.split("\n")[0] ?? "";
    log(`warning: apt-get update (${a.debArch}) reported: ${line.replace(/^E: /, "")}; continuing with the indexes it did fetch`);
  }
}

interface DebUri {
  name: string;
  version: string;
  file: string;
  sha256: string;
}

async function printUris(opts: string[], names: readonly string[]): Promise<DebUri[]> {
  const { stdout } = await tool("apt-get", [...opts, "download", "--print-uris", ...names]);
  // 'http://…/pool/main/g/glibc/libc6_2.36-9+deb12u14_arm64.deb' libc6_2.36-9+deb12u14_arm64.deb 2324660 SHA256:…
  const uris: DebUri[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^'[^']+' (\S+) \d+ SHA256:([0-9a-f]{64})$/.exec(line.trim());
    if (!m?.[1] || !m[2]) continue;
    const file = m[1];
    const [name, rawVersion] = file.split("_");
    if (!name || !rawVersion) continue;
    uris.push({ name, version: decodeURIComponent(rawVersion), file, sha256: m[2] });
  }
  const missing = names.filter((n) => !uris.some((u) => u.name === n));
  if (missing.length > 0) {
    throw new Error(
      `apt-get found no package ${missing.join(", ")} for this architecture: the image is built from the host's apt sources, which must carry Debian 12 (bookworm) packages for amd64, arm64 and armhf (a Debian host does; on Ubuntu build with the Dockerfile instead); nothing was written`,
    );
  }
  return uris;
}

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Unpacks a .deb's files (not its scripts) into the cache once; returns the directory. */
export async function unpackDeb(deb: string, cache: string): Promise<string> {
  const dir = join(cache, "unpacked", deb.split("/").slice(-2).join("/").replace(/\.deb$/, ""));
  mkdirSync(join(dir, ".."), { recursive: true });
  return atomically(dir, async (tmp) => {
    await tool("dpkg-deb", ["-x", deb, tmp]);
  });
}
