// A lab "cluster": the namespaces, one responder (stand-in API server) per
// server forwarding to a shared upstream API on a unix socket, one agent
// process per server, and a client that keeps asking the VIP who it is.
// The agent's command line is given by the caller, so the same harness runs
// the real `k3vip agent` (tests, benchmark, demo) or anything else.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, LAB_VIP4, type LabNode, type LabProcess, type LabOptions } from "../netns/index.ts";
import { makeLabCerts, spawnResponder, type LabCerts } from "../responder/index.ts";
import type { PingRecord } from "../responder/pinger.ts";
import { SampleLog } from "./samples.ts";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const PINGER = fileURLToPath(new URL("../responder/pinger.ts", import.meta.url));
const SAMPLER = fileURLToPath(new URL("./sampler.ts", import.meta.url));
/** Samplers whose last line is older than this are not trusted for holders(). */
const SAMPLE_STALE_MS = 100;

export interface AgentContext {
  node: LabNode;
  /** Kubeconfig pointing at this node's own API server (its responder on 127.0.0.1:6443). */
  kubeconfig: string;
  /** Bearer token the upstream API knows this node by. */
  token: string;
  certs: LabCerts;
  vip: string;
  /** Metrics listen address inside the node's namespace. */
  metricsAddr: string;
}

export interface LabClusterOptions extends LabOptions {
  /** Unix socket of the upstream (fake) Kubernetes API. */
  upstreamSocket: string;
  /** argv of one agent (run inside the node's namespace). */
  agentArgv: (ctx: AgentContext) => string[];
  /** Extra environment for agents. */
  agentEnv?: NodeJS.ProcessEnv;
  /** Extra environment for one node's agent (after agentEnv). */
  agentEnvFor?: (node: LabNode) => NodeJS.ProcessEnv;
  vip?: string;
  /** Bearer token per node; default `k3vip-<node>`. */
  tokenFor?: (node: LabNode) => string;
  /** Called with each agent output line (logs). */
  onAgentLine?: (node: LabNode, line: string) => void;
}

export interface Pinger {
  records: PingRecord[];
  process: LabProcess;
  stop(): Promise<void>;
}

export class LabCluster {
  readonly responders = new Map<string, LabProcess>();
  readonly agents = new Map<string, LabProcess>();
  /** In-namespace samples (startSamplers); empty until then. */
  readonly samples = new SampleLog();
  private readonly samplers = new Map<string, LabProcess>();
  readonly vip: string;

  private constructor(
    readonly lab: Lab,
    readonly certs: LabCerts,
    readonly dir: string,
    private readonly opts: LabClusterOptions,
  ) {
    this.vip = opts.vip ?? LAB_VIP4;
  }

  static async create(opts: LabClusterOptions): Promise<LabCluster> {
    const lab = await Lab.create(opts);
    let dir: string | undefined;
    try {
      dir = await mkdtemp(join(tmpdir(), `${lab.id}-`));
      const certs = await makeLabCerts(join(dir, "pki"));
      const c = new LabCluster(lab, certs, dir, opts);
      await Promise.all(lab.servers.map((s) => c.startResponder(s.name)));
      return c;
    } catch (e) {
      await lab.destroy();
      if (dir) await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get servers(): LabNode[] {
    return this.lab.servers;
  }

  token(node: LabNode): string {
    return this.opts.tokenFor?.(node) ?? `k3vip-${node.name}`;
  }

  /** A kubeconfig for `node`: its own API server on loopback, lab CA, its token. */
  async kubeconfig(node: LabNode): Promise<string> {
    const path = join(this.dir, `${node.name}.kubeconfig`);
    const ca = Buffer.from(this.certs.ca).toString("base64");
    await writeFile(
      path,
      `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${ca}
users:
- name: ${node.name}
  user:
    token: ${this.token(node)}
contexts:
- name: lab
  context: {cluster: lab, user: ${node.name}}
current-context: lab
`,
      { mode: 0o600 },
    );
    return path;
  }

  async startResponder(name: string): Promise<void> {
    const node = this.lab.server(name);
    this.responders.set(name, await spawnResponder(this.lab, node, { certs: this.certs, upstreamSocket: this.opts.upstreamSocket }));
  }

  /** "This node's API server is down". */
  async stopResponder(name: string, signal: "SIGTERM" | "SIGKILL" = "SIGKILL"): Promise<void> {
    const p = this.responders.get(name);
    if (!p) return;
    if (signal === "SIGKILL") p.signal("SIGKILL");
    await p.stop(500);
    this.responders.delete(name);
  }

  async startAgent(name: string): Promise<LabProcess> {
    const node = this.lab.server(name);
    const ctx: AgentContext = { node, kubeconfig: await this.kubeconfig(node), token: this.token(node), certs: this.certs, vip: this.vip, metricsAddr: "127.0.0.1:2112" };
    const p = this.lab.spawn(node.ns, this.opts.agentArgv(ctx), {
      cwd: REPO,
      env: { ...process.env, ...this.opts.agentEnv, ...this.opts.agentEnvFor?.(node) },
      onLine: (l) => this.opts.onAgentLine?.(node, l),
    });
    this.agents.set(name, p);
    return p;
  }

  async stopAgent(name: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM", graceMs = 5000): Promise<void> {
    const p = this.agents.get(name);
    if (!p) return;
    if (signal === "SIGKILL") p.signal("SIGKILL");
    await p.stop(graceMs);
    this.agents.delete(name);
  }

  /** SIGSTOP to the agent's process group (its `ip -batch` child too, as a frozen cgroup would). */
  pauseAgent(name: string): void {
    this.agents.get(name)?.signal("SIGSTOP");
  }

  resumeAgent(name: string): void {
    this.agents.get(name)?.signal("SIGCONT");
  }

  /**
   * Starts one sampler per server (sampler.ts): a `t holds reach` line every
   * `intervalMs` into `samples`. Resolves once every server has sampled.
   */
  async startSamplers(intervalMs = 10, timeoutMs = 20_000): Promise<void> {
    for (const s of this.servers) {
      if (this.samplers.has(s.name)) continue;
      const p = this.lab.spawn(
        s.ns,
        [process.execPath, "--import", "tsx", SAMPLER, "--vip", this.vip, "--ca", this.certs.caFile, "--token", this.token(s), "--interval-ms", String(intervalMs)],
        { cwd: REPO, onLine: (l, stream) => stream === "stdout" && this.samples.pushLine(s.name, l) },
      );
      this.samplers.set(s.name, p);
    }
    const deadline = Date.now() + timeoutMs;
    while (this.servers.some((s) => this.samples.latest(s.name) === undefined)) {
      const dead = [...this.samplers.values()].find((p) => !p.running);
      if (dead) throw new Error(`a sampler exited: ${dead.output(10)}`);
      if (Date.now() > deadline) throw new Error(`samplers not sampling after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until every running agent's /readyz answers (from the samplers): a restarted agent is up again. */
  async waitAgentsReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const notReady = () => [...this.agents.keys()].filter((n) => this.samples.latest(n)?.ready !== true);
    while (notReady().length > 0) {
      if (Date.now() > deadline) throw new Error(`agents not ready after ${timeoutMs} ms: ${notReady().join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Samplers run on every server. */
  get sampling(): boolean {
    return this.samplers.size === this.servers.length && this.servers.length > 0;
  }

  async stopSamplers(): Promise<void> {
    await Promise.all([...this.samplers.values()].map((p) => p.stop(1000)));
    this.samplers.clear();
  }

  /**
   * Servers whose interface carries the VIP right now: from the samplers when
   * they run and are fresh (no fork), else read with ip -j.
   */
  async holders(): Promise<string[]> {
    if (this.sampling) {
      const now = Date.now();
      const latest = this.servers.map((s) => [s.name, this.samples.latest(s.name)] as const);
      if (latest.every(([, x]) => x !== undefined && now - x.t <= SAMPLE_STALE_MS)) {
        return latest.filter(([, x]) => x?.holds).map(([n]) => n).sort();
      }
    }
    const out: string[] = [];
    await Promise.all(
      this.servers.map(async (s) => {
        const r = await this.lab.exec(s.ns, ["ip", "-j", "addr", "show", "dev", s.ifname]);
        const [link] = JSON.parse(r.stdout) as { addr_info: { local: string }[] }[];
        if (link?.addr_info.some((a) => a.local === this.vip)) out.push(s.name);
      }),
    );
    return out.sort();
  }

  /** Polls until `pred(holders)` is true; returns the holders, or throws after `timeoutMs`. */
  async waitForHolders(pred: (h: string[]) => boolean, timeoutMs: number, what = "VIP holders"): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let last: string[] = [];
    for (;;) {
      last = await this.holders();
      if (pred(last)) return last;
      if (Date.now() > deadline) throw new Error(`${what}: still [${last.join(", ")}] after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Resident memory of a running agent in MiB (from /proc). */
  async agentRssMiB(name: string): Promise<number | undefined> {
    const pid = this.agents.get(name)?.pid;
    if (pid === undefined) return undefined;
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
      return Number.isFinite(kb) ? Math.round((kb / 1024) * 10) / 10 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts the client: a request to VIP:6443 every `intervalMs` from the client namespace. */
  async startPinger(intervalMs = 10): Promise<Pinger> {
    const records: PingRecord[] = [];
    let started: () => void = () => undefined;
    const ready = new Promise<void>((r) => (started = r));
    const host = this.vip.includes(":") ? `[${this.vip}]` : this.vip;
    const p = this.lab.spawn(
      this.lab.client.ns,
      [process.execPath, "--import", "tsx", PINGER, "--ca", this.certs.caFile, "--url", `https://${host}:6443/whoami`, "--interval-ms", String(intervalMs)],
      {
        cwd: REPO,
        onLine: (l, stream) => {
          if (stream === "stderr") {
            if (l.startsWith("pinger:")) started();
            return;
          }
          try {
            records.push(JSON.parse(l) as PingRecord);
          } catch {
            /* not a record */
          }
        },
      },
    );
    await Promise.race([ready, p.exited]);
    return {
      records,
      process: p,
      stop: async () => {
        await p.stop(5000);
      },
    };
  }

  async destroy(): Promise<void> {
    try {
      await this.lab.destroy();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
