// npm run bench:image [-- --arch amd64|arm64|arm|all] [--runs N] [--json]
// Per arch: archive size with zstd and gzip layers, uncompressed size, file
// count, and where the bytes go (node, libraries, tools, agent bundle,
// certificates). For amd64 also the start time and peak RSS of the image's
// agent CLI under runc (NET_ADMIN/NET_RAW, read-only rootfs).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { configureBundle, sharedRootBundle, unpackBundle } from "../src/image/bundle.ts";
import { compress } from "../src/image/compress.ts";
import { ARCH_INFO, buildImage, buildRootfs, ENTRYPOINT, parseArchList, type Arch } from "../src/image/index.ts";
import { AGENT_BUNDLE, AGENT_NODE_FLAGS } from "../src/image/agent-entry.ts";
import { startFakeApi } from "../src/lab/fakeapi/index.ts";
import { LabCluster, type AgentContext } from "../src/lab/index.ts";
import { VERSION } from "../src/version.ts";

const exec = promisify(execFile);
// Heartbeats on, as shipped (the installers give every agent this key through the Secret).
const HB_KEY = randomBytes(32).toString("hex");
const args = process.argv.slice(2);
const json = args.includes("--json");
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const arches = parseArchList(flag("--arch", "all"));
const runs = Number(flag("--runs", "5"));
const REPO = new URL("..", import.meta.url).pathname;
// What the image ships (scripts/build.mjs writes it).
const DIST = join(REPO, AGENT_BUNDLE);
const work = mkdtempSync(join(tmpdir(), "k3v-bench-image-"));
// A private copy, so every figure is of one bundle even if dist/ is rebuilt meanwhile.
const BUNDLE = join(work, "k3vip.mjs");
const MB = 1e6;
const err = (s: string) => process.stderr.write(`${s}\n`);

type Part = "node" | "libs" | "tools" | "agent" | "certs+etc";
interface PartSize {
  raw: number;
  gzip: number;
  zstd: number;
}
interface ArchFigures {
  arch: Arch;
  node: string;
  gzip_bytes: number;
  zstd_bytes: number;
  uncompressed_bytes: number;
  files: number;
  parts: Record<Part, PartSize>;
  help_start_ms?: number;
  help_rss_mib?: number;
  node_start_ms?: number;
  node_rss_mib?: number;
  /** `k3vip agent` from the image under runc in a lab namespace: start to VIP held, and RSS after 3 s holding it. */
  agent_ready_ms?: number;
  agent_rss_mib?: number;
  /** The container's cgroup memory charge (what a pod limit applies to) and its anonymous part. */
  agent_cgroup_mib?: number;
  agent_anon_mib?: number;
  /** The same agent as a bare process on the host's Node (for comparison). */
  bare_agent_ready_ms?: number;
  bare_agent_rss_mib?: number;
  host_node?: string;
}

function partOf(path: string): Part {
  if (path === "/usr/local/bin/node") return "node";
  if (path.startsWith("/opt/k3vip/")) return "agent";
  if (/\.so(\.|$)|\/ld-linux/.test(path)) return "libs";
  if (/\/(ip|arping)$/.test(path)) return "tools";
  return "certs+etc";
}

function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel))) {
    const p = join(rel, n);
    const st = lstatSync(join(dir, p));
    if (st.isDirectory()) out.push(...walk(dir, p));
    else if (st.isFile()) out.push(`/${p}`);
  }
  return out;
}

async function measure(arch: Arch): Promise<ArchFigures> {
  err(`${arch}: building (zstd and gzip layers; cached layers are reused)`);
  const zstdOut = join(work, `${arch}-zstd.tar`);
  const z = await buildImage({ arches: [arch], out: zstdOut, compress: "zstd", bundle: BUNDLE });
  const g = await buildImage({ arches: [arch], out: join(work, `${arch}-gzip.tar`), compress: "gzip", bundle: BUNDLE });
  const img = z.images[0];
  if (!img) throw new Error("no image");
  // node and the agent are one layer each: their stored layer sizes say it.
  // The system layer is split per file (each compressed alone).
  const parts = Object.fromEntries((["node", "libs", "tools", "agent", "certs+etc"] as Part[]).map((p) => [p, { raw: 0, gzip: 0, zstd: 0 }])) as Record<Part, PartSize>;
  const gimg = g.images[0];
  for (const name of ["node", "agent"] as const) {
    const zl = img.layers.find((l) => l.name === name);
    const gl = gimg?.layers.find((l) => l.name === name);
    parts[name] = { raw: zl?.contentBytes ?? 0, gzip: gl?.size ?? 0, zstd: zl?.size ?? 0 };
  }
  const root = join(work, `${arch}-rootfs`);
  await buildRootfs({ arch, dir: root, bundle: BUNDLE });
  for (const f of walk(root)) {
    const part = partOf(f);
    if (part === "node" || part === "agent") continue;
    const data = readFileSync(join(root, f));
    const p = parts[part];
    p.raw += data.length;
    p.gzip += gzipSync(data, { level: 9 }).length;
    p.zstd += (await compress(data, "zstd")).length;
  }
  const fig: ArchFigures = {
    arch,
    node: `${ARCH_INFO[arch].node.pkg}@${ARCH_INFO[arch].node.version}`,
    gzip_bytes: g.size,
    zstd_bytes: z.size,
    uncompressed_bytes: img.layers.reduce((n, l) => n + l.uncompressedSize, 0),
    files: img.layers.reduce((n, l) => n + l.files, 0),
    parts,
  };
  if (arch === "amd64") Object.assign(fig, await runcHelp(zstdOut), await agentInLab(zstdOut));
  return fig;
}

/** `k3vip --help` from the image under runc: wall time to exit and the node process's own peak RSS; `node -e 0` as the floor. */
async function runcHelp(archive: string): Promise<{ help_start_ms: number; help_rss_mib: number; node_start_ms: number; node_rss_mib: number }> {
  const bundle = await unpackBundle(archive, `v${VERSION}`, work, "amd64");
  // The container's node reports its own peak RSS (getrusage) on exit, via a read-only bind mount.
  const probe = join(work, "rss.cjs");
  writeFileSync(probe, "process.on('exit', () => require('fs').writeSync(2, `k3vip-bench-rss ${process.resourceUsage().maxRSS}\\n`));\n");
  const help = await timeInRunc(bundle, [...ENTRYPOINT, "--help"]);
  const bare = await timeInRunc(bundle, ["/usr/local/bin/node", "-e", "0"]);
  return { help_start_ms: help.ms, help_rss_mib: help.rss, node_start_ms: bare.ms, node_rss_mib: bare.rss };
}

async function timeInRunc(bundle: string, argv: string[]): Promise<{ ms: number; rss: number }> {
  configureBundle(bundle, {
    args: argv,
    env: ["NODE_OPTIONS=--require=/bench/rss.cjs"],
    binds: [{ source: work, destination: "/bench" }],
  });
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = `k3v-bench-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
    const t0 = performance.now();
    try {
      const r = await exec("runc", ["run", "--bundle", bundle, id], { maxBuffer: 16 * MB });
      times.push(performance.now() - t0);
      const m = /k3vip-bench-rss (\d+)/.exec(r.stderr);
      if (m?.[1]) rss.push(Number(m[1]) / 1024);
    } finally {
      await exec("runc", ["delete", "--force", id]).catch(() => undefined);
    }
  }
  return { ms: Math.round(median(times)), rss: Math.round(median(rss) * 10) / 10 };
}

/**
 * The agent for real: one lab server, the fake API behind its stand-in API
 * server; time from starting the agent to the VIP on the interface, and RSS
 * after 3 s of holding. Once from the image under runc, once bare.
 */
async function agentInLab(archive: string): Promise<Partial<ArchFigures>> {
  const image = await unpackBundle(archive, `v${VERSION}`, work, "agent");
  const api = await startFakeApi({ socket: join(work, "api.sock") });
  const ids: string[] = [];
  const runcArgv = (ctx: AgentContext): string[] => {
    const id = `k3v-bench-${process.pid}-${ids.length}`;
    ids.push(id);
    const dir = sharedRootBundle(image, join(work, "containers", id), {
      args: [...ENTRYPOINT, "agent", "--vip", ctx.vip, "--interface", ctx.node.ifname, "--kubeconfig", "/etc/k3vip/kubeconfig", "--node-name", ctx.node.name, "--metrics-addr", ctx.metricsAddr, "--heartbeat-key", HB_KEY],
      binds: [{ source: ctx.kubeconfig, destination: "/etc/k3vip/kubeconfig" }],
    });
    // runc from this mount namespace: under `ip netns exec` it finds no cgroup mounts.
    return ["nsenter", `--mount=/proc/${process.pid}/ns/mnt`, "--", "runc", "run", "--bundle", dir, id];
  };
  const bareArgv = (ctx: AgentContext): string[] => [process.execPath, ...AGENT_NODE_FLAGS, BUNDLE, "agent", "--vip", ctx.vip, "--interface", ctx.node.ifname, "--kubeconfig", ctx.kubeconfig, "--node-name", ctx.node.name, "--metrics-addr", ctx.metricsAddr, "--heartbeat-key", HB_KEY];
  const out: Partial<ArchFigures> = { host_node: process.version };
  try {
    for (const mode of ["runc", "bare"] as const) {
      err(`amd64: agent in the lab (${mode}), ${runs} runs`);
      const cluster = await LabCluster.create({ servers: 1, prefix: "k3vbi", upstreamSocket: join(work, "api.sock"), agentArgv: mode === "runc" ? runcArgv : bareArgv });
      const ready: number[] = [];
      const rss: number[] = [];
      const cg: number[] = [];
      const anon: number[] = [];
      try {
        const node = cluster.servers[0];
        if (!node) throw new Error("no lab server");
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          await cluster.startAgent(node.name);
          await cluster.waitForHolders((h) => h.length === 1, 30_000, "agent holds the VIP");
          ready.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 3000));
          const m = mode === "runc" ? await containerRss(ids.at(-1) ?? "") : await cluster.agentRssMiB(node.name);
          if (m !== undefined) rss.push(m);
          if (mode === "runc") {
            const ev = JSON.parse((await exec("runc", ["events", "--stats", ids.at(-1) ?? ""])).stdout) as { data: { memory: { usage: { usage: number }; raw?: Record<string, number> } } };
            cg.push(ev.data.memory.usage.usage / 1048576);
            anon.push((ev.data.memory.raw?.total_rss ?? ev.data.memory.raw?.anon ?? Number.NaN) / 1048576);
          }
          await cluster.stopAgent(node.name, "SIGTERM", 10_000);
          await cluster.waitForHolders((h) => h.length === 0, 10_000, "VIP released");
        }
      } finally {
        await cluster.destroy();
      }
      const fig = { ready: Math.round(median(ready)), rss: Math.round(median(rss) * 10) / 10 };
      const r1 = (x: number) => Math.round(x * 10) / 10;
      if (mode === "runc") Object.assign(out, { agent_ready_ms: fig.ready, agent_rss_mib: fig.rss, agent_cgroup_mib: r1(median(cg)), agent_anon_mib: r1(median(anon)) });
      else Object.assign(out, { bare_agent_ready_ms: fig.ready, bare_agent_rss_mib: fig.rss });
    }
  } finally {
    for (const id of ids) await exec("runc", ["delete", "--force", id]).catch(() => undefined);
    await api.close();
  }
  return out;
}

async function containerRss(id: string): Promise<number | undefined> {
  const state = JSON.parse((await exec("runc", ["state", id])).stdout) as { pid: number };
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${state.pid}/status`, "utf8"))?.[1]);
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
}

const mb = (n: number) => (n / MB).toFixed(1);

try {
  // Always rebuild: the figures must be of the sources as they are.
  await exec(process.execPath, [join(REPO, "scripts/build.mjs")]);
  copyFileSync(DIST, BUNDLE);
  const figures: ArchFigures[] = [];
  for (const a of arches) figures.push(await measure(a));

  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`k3vip ${VERSION} image (budget per arch: ≤ 50 MB gzip, ≤ 36 MB zstd)`);
  out("");
  out("arch   node                         zstd MB  gzip MB  uncompr. MB  files  within budget");
  for (const f of figures) {
    const ok = f.gzip_bytes <= 50 * MB && f.zstd_bytes <= 36 * MB;
    out(`${f.arch.padEnd(6)} ${f.node.padEnd(28)} ${mb(f.zstd_bytes).padStart(7)}  ${mb(f.gzip_bytes).padStart(7)}  ${mb(f.uncompressed_bytes).padStart(11)}  ${String(f.files).padStart(5)}  ${ok ? "yes" : "NO"}`);
  }
  out("");
  out("where the bytes go (MB: raw / gzip -9 / zstd -19; node and agent = their layers, the rest per file)");
  for (const f of figures) {
    const parts = Object.entries(f.parts)
      .map(([k, v]) => `${k} ${mb(v.raw)}/${mb(v.gzip)}/${mb(v.zstd)}`)
      .join("  ");
    out(`${f.arch.padEnd(6)} ${parts}`);
  }
  const amd = figures.find((f) => f.arch === "amd64");
  if (amd?.help_start_ms !== undefined) {
    out("");
    out(`amd64 under runc (median of ${runs}, includes runc's container setup):`);
    out(`  k3vip --help  start-to-exit ${amd.help_start_ms} ms, node peak RSS ${amd.help_rss_mib} MiB`);
    out(`  node -e 0     start-to-exit ${amd.node_start_ms} ms, node peak RSS ${amd.node_rss_mib} MiB (the runtime's floor)`);
    out(`  k3vip agent   start to VIP held ${amd.agent_ready_ms} ms, RSS ${amd.agent_rss_mib} MiB after 3 s holding (lab namespace, fake API)`);
    out(`                cgroup memory ${amd.agent_cgroup_mib} MiB, anonymous ${amd.agent_anon_mib} MiB (node's text pages are shared page cache here)`);
    out(`  bare agent on the host's Node ${amd.host_node}: start to VIP held ${amd.bare_agent_ready_ms} ms, RSS ${amd.bare_agent_rss_mib} MiB`);
  }
  if (json) out(JSON.stringify({ version: VERSION, budget: { gzip_bytes: 50 * MB, zstd_bytes: 36 * MB }, arches: figures }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
