// What goes into the image, layer by layer, and the check that every shared
// library each binary loads is there (and built for the image's arch).
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";
import type { ArchInfo } from "./arch.ts";
import { EF_ARM_ABI_FLOAT_HARD, isElf, parseElf } from "./elf.ts";
import type { TarEntry } from "./tar.ts";
import { AGENT_COMMAND, AGENT_PATH, CLI_LINK, NODE_PATH } from "./agent-entry.ts";

/** Paths and the command the DaemonSet template and the Dockerfile rely on (defined in agent-entry.ts). */
export { AGENT_PATH, CLI_LINK, NODE_PATH };
export const ENTRYPOINT = [...AGENT_COMMAND];
export const CMD = ["agent"];
export const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const CA_BUNDLE_PATH = "/etc/ssl/certs/ca-certificates.crt";

/**
 * Debian packages the image draws files from. Only the files listed in TOOLS,
 * the shared libraries they (and node) load, and the CA certificates are
 * copied; nothing else of these packages (docs, scripts, other binaries).
 * - iproute2's `ip`, not busybox's: the agent parses `ip -j` (JSON), which busybox lacks.
 * - iputils' `arping` (-U/-A/-I/-c): the same arping the lab tests run; it
 *   needs only libcap2, which `ip` loads anyway, so no busybox at all.
 */
export const DEBIAN_PACKAGES = [
  "libc6",
  // Node's armv7 build loads libatomic (64-bit atomics); amd64/arm64 do not.
  "libatomic1",
  "libgcc-s1",
  "libstdc++6",
  "iproute2",
  "libbpf1",
  "libbsd0",
  "libcap2",
  "libelf1",
  "libmd0",
  "libmnl0",
  "zlib1g",
  "iputils-arping",
  "ca-certificates",
] as const;

/** Tools the agent execs, as Debian installs them (PATH covers both dirs). */
export const TOOLS: readonly { pkg: string; path: string; links?: string[] }[] = [
  { pkg: "iproute2", path: "/bin/ip", links: ["/sbin/ip"] },
  { pkg: "iputils-arping", path: "/usr/bin/arping" },
];

export interface RootfsInputs {
  arch: ArchInfo;
  /** The (stripped) Node binary for the arch. */
  node: string;
  /** The agent bundle (dist/agent.mjs). */
  bundle: string;
  /** Debian package name → unpacked directory. */
  debs: ReadonlyMap<string, string>;
}

export interface Layer {
  /** Short name used in the config history and the benchmark. */
  name: "node" | "system" | "agent";
  comment: string;
  entries: TarEntry[];
}

/**
 * Three layers, ordered by how rarely they change, so a new k3vip version
 * re-imports only the small agent layer (containerd dedups by digest):
 * node (the runtime), system (libs, tools, certs, /etc), agent (the bundle).
 */
export function assembleLayers(inp: RootfsInputs): Layer[] {
  const nodeBytes = readFileSync(inp.node);
  const nodeLayer: Layer = {
    name: "node",
    comment: `${inp.arch.node.pkg} ${inp.arch.node.version} (stripped)`,
    entries: [{ type: "file", path: NODE_PATH, mode: 0o755, data: nodeBytes }],
  };

  const sys = new Map<string, TarEntry>();
  const debDir = (pkg: string): string => {
    const d = inp.debs.get(pkg);
    if (!d) throw new Error(`Debian package ${pkg} was not fetched for ${inp.arch.arch}`);
    return d;
  };
  const elfRoots: { path: string; bytes: Uint8Array }[] = [{ path: NODE_PATH, bytes: nodeBytes }];
  for (const t of TOOLS) {
    const src = join(debDir(t.pkg), t.path);
    const bytes = readFileSync(src);
    const dest = usrMerged(t.path);
    sys.set(dest, { type: "file", path: dest, mode: lstatSync(src).mode & 0o755, data: bytes });
    for (const l of t.links ?? []) sys.set(usrMerged(l), { type: "symlink", path: usrMerged(l), target: relativeLink(usrMerged(l), dest) });
    elfRoots.push({ path: dest, bytes });
  }
  addLibraryClosure(inp, elfRoots, sys);
  for (const top of MERGED_DIRS) {
    if ([...sys.keys()].some((p) => p.startsWith(`/usr${top}/`))) sys.set(top, { type: "symlink", path: top, target: `usr${top}` });
  }

  sys.set(CA_BUNDLE_PATH, { type: "file", path: CA_BUNDLE_PATH, mode: 0o644, data: caBundle(debDir("ca-certificates")) });
  for (const [path, text] of Object.entries(ETC_FILES)) sys.set(path, { type: "file", path, mode: 0o644, data: Buffer.from(text) });
  sys.set("/tmp", { type: "dir", path: "/tmp", mode: 0o1777 });

  const systemLayer: Layer = {
    name: "system",
    comment: `Debian ${inp.arch.debArch}: ${TOOLS.map((t) => posix.basename(t.path)).join(", ")}, shared libraries, CA certificates`,
    entries: [...sys.values()],
  };
  const agentLayer: Layer = {
    name: "agent",
    comment: "k3vip agent bundle",
    entries: agentEntries(readFileSync(inp.bundle)),
  };
  return [nodeLayer, systemLayer, agentLayer];
}

/**
 * The agent layer: the bundle, executable under its own name (its first line
 * names the image's node: there is no /usr/bin/env), and `k3vip` on PATH
 * pointing at it, so `ctr run --rm IMAGE ID k3vip agent --help` works
 * (CLI_LINK in agent-entry.ts). Pure.
 */
export function agentEntries(bundle: Buffer): TarEntry[] {
  const body = bundle.subarray(0, 2).toString("latin1") === "#!" ? bundle.subarray(bundle.indexOf(0x0a) + 1) : bundle;
  return [
    { type: "file", path: AGENT_PATH, mode: 0o755, data: Buffer.concat([Buffer.from(`#!${NODE_PATH}\n`), body]) },
    { type: "symlink", path: CLI_LINK, target: relativeLink(CLI_LINK, AGENT_PATH) },
  ];
}

/**
 * Minimal /etc: NSS reads files then DNS; a root user so libuv's
 * os.homedir()/userInfo() (used by kubeconfig loading) do not fail.
 */
const ETC_FILES: Record<string, string> = {
  "/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
  "/etc/passwd": "root:x:0:0:root:/:/usr/sbin/nologin\n",
  "/etc/group": "root:x:0:\n",
};

/** The Mozilla bundle as update-ca-certificates would write it: every cert, sorted by file name. */
function caBundle(dir: string): Buffer {
  const moz = join(dir, "usr/share/ca-certificates/mozilla");
  const names = readdirSync(moz).filter((n) => n.endsWith(".crt")).sort();
  if (names.length === 0) throw new Error(`no certificates in ${moz}`);
  return Buffer.concat(names.map((n) => {
    const pem = readFileSync(join(moz, n));
    return pem.at(-1) === 0x0a ? pem : Buffer.concat([pem, Buffer.from("\n")]);
  }));
}

/**
 * Adds the dynamic loader and every DT_NEEDED library, transitively, looked up
 * the way Debian's ld.so does (multiarch dirs first), keeping the symlink
 * chain (libfoo.so.1 → libfoo.so.1.2.3) as Debian ships it.
 */
function addLibraryClosure(inp: RootfsInputs, roots: { path: string; bytes: Uint8Array }[], out: Map<string, TarEntry>): void {
  const t = inp.arch.triplet;
  const searchDirs = [`/lib/${t}`, `/usr/lib/${t}`, "/lib", "/usr/lib"];
  const queue = [...roots];
  const done = new Set<string>();
  while (queue.length > 0) {
    const item = queue.shift();
    if (!item) break;
    const elf = parseElf(item.bytes);
    if (!elf) throw new Error(`${item.path} is not an ELF file`);
    const wanted: { name: string; absolute: boolean }[] = elf.needed.map((n) => ({ name: n, absolute: false }));
    if (elf.interpreter) wanted.push({ name: elf.interpreter, absolute: true });
    for (const w of wanted) {
      if (done.has(w.name)) continue;
      done.add(w.name);
      const found = w.absolute ? findInDebs(inp, w.name) : searchDirs.map((d) => findInDebs(inp, posix.join(d, w.name))).find((f) => f);
      if (!found) throw new Error(`${item.path} needs ${w.name}, which no package in DEBIAN_PACKAGES (src/image/rootfs.ts) provides for ${inp.arch.debArch}: add the package that ships it`);
      const real = copyWithLinks(found.root, found.path, out);
      queue.push({ path: real.path, bytes: real.bytes });
    }
  }
}

function findInDebs(inp: RootfsInputs, path: string): { root: string; path: string } | undefined {
  for (const root of inp.debs.values()) {
    if (existsSync(join(root, path)) || isSymlink(join(root, path))) return { root, path };
  }
  return undefined;
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const MERGED_DIRS = ["/bin", "/sbin", "/lib", "/lib64"];

/**
 * The image is merged-/usr, like Debian 12+ installs: files that Debian's
 * packages put in /bin, /sbin, /lib, /lib64 live under /usr, and the
 * top-level names are symlinks. One real directory per library path keeps
 * ld.so's search simple (and qemu -L, which trips over a search dir that
 * exists only under its prefix, happy).
 */
export function usrMerged(path: string): string {
  return MERGED_DIRS.some((d) => path === d || path.startsWith(`${d}/`)) ? `/usr${path}` : path;
}

/** Copies `path` (following symlinks inside the package, each kept as a symlink); returns the real file. */
function copyWithLinks(root: string, path: string, out: Map<string, TarEntry>): { path: string; bytes: Uint8Array } {
  let p = path;
  for (let hops = 0; hops < 10; hops++) {
    const st = lstatSync(join(root, p));
    if (st.isSymbolicLink()) {
      const target = readlinkSync(join(root, p));
      const abs = target.startsWith("/") ? target : posix.join(posix.dirname(p), target);
      out.set(usrMerged(p), { type: "symlink", path: usrMerged(p), target: relativeLink(usrMerged(p), usrMerged(abs)) });
      p = abs;
      continue;
    }
    const bytes = readFileSync(join(root, p));
    out.set(usrMerged(p), { type: "file", path: usrMerged(p), mode: st.mode & 0o755, data: bytes });
    return { path: usrMerged(p), bytes };
  }
  throw new Error(`symlink loop at ${path} in ${root}`);
}

/**
 * Symlinks are stored relative (/lib64/ld-linux-x86-64.so.2 → ../lib/…): the
 * same inside the container, and still right when the rootfs is unpacked
 * elsewhere (qemu -L <rootfs>, umoci bundles, tests).
 */
export function relativeLink(from: string, to: string): string {
  return posix.relative(posix.dirname(from), to) || ".";
}

export interface ElfProblem {
  path: string;
  problem: string;
}

/** Every ELF file must be for the image's arch (machine, class and, for arm, hard-float). */
export function checkElfArch(a: ArchInfo, files: readonly { path: string; data: Uint8Array }[]): ElfProblem[] {
  const problems: ElfProblem[] = [];
  for (const f of files) {
    if (!isElf(f.data)) continue;
    const e = parseElf(f.data);
    if (!e) problems.push({ path: f.path, problem: "unreadable ELF header" });
    else if (e.machine !== a.elfMachine) problems.push({ path: f.path, problem: `e_machine ${e.machine}, expected ${a.elfMachine}` });
    else if (e.class !== a.elfClass) problems.push({ path: f.path, problem: `ELF${e.class}, expected ELF${a.elfClass}` });
    else if (a.arch === "arm" && (e.flags & EF_ARM_ABI_FLOAT_HARD) === 0) {
      // Debian armhf builds every binary and library hard-float (e_flags 0x5000400).
      problems.push({ path: f.path, problem: "soft-float ARM code in an armhf image" });
    }
  }
  return problems;
}
