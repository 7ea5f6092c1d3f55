// Everything the benchmark, the lab tests and the demo start: the fake
// Kubernetes API (in this process, on a unix socket), the lab cluster with a
// responder per server, and a real `k3vip agent` per server from the built
// agent bundle dist/agent.mjs, started with the same Node flags as the image
// (src/image/agent-entry.ts), so the figures are those of what ships.
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { resourceType, startFakeApi, type FakeApi } from "../fakeapi/index.ts";
import { LabCluster, type AgentContext } from "./cluster.ts";
import type { LabNode } from "../netns/index.ts";
import type { ApiControl, ClockControl, TrialTimings } from "./scenarios.ts";
// The one definition of how the agent starts; a leaf module (no imports), so not through the image's index.
import { AGENT_BUNDLE, AGENT_NODE_FLAGS } from "../../image/index.ts";

export const BUNDLE = fileURLToPath(new URL(`../../../${AGENT_BUNDLE}`, import.meta.url));

/** Default timings of the config model (seconds), which the agents run with. */
export const LAB_TIMINGS: TrialTimings = { leaseDurationMs: 6000, retryPeriodMs: 2000, brownoutMs: 9000 };

export interface RunningLab {
  cluster: LabCluster;
  fakeApi: FakeApi;
  api: ApiControl;
  timings: TrialTimings;
  /** Each agent's wall clock, when started with `fakeClock` and libfaketime is installed. */
  clock: ClockControl | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  servers?: number;
  vip?: string;
  /** Print agent log lines to `log`. */
  verbose?: boolean;
  log?: (line: string) => void;
  /** Start agents on every server (default true). */
  agents?: boolean;
  /** Extra agent flags. */
  agentArgs?: string[];
  /** The bundle the agents run. Default dist/agent.mjs (what the image ships). */
  bundle?: string;
  /** Node flags for the agents. Default the image's (AGENT_NODE_FLAGS). */
  nodeFlags?: readonly string[];
  /** Extra environment for the agents (e.g. NODE_OPTIONS). */
  agentEnv?: NodeJS.ProcessEnv;
  /** Run the agent from the TypeScript sources (tsx) instead of a bundle: tests exercise the code as it is now. */
  fromSource?: boolean;
  /**
   * Peer heartbeats (UDP port 9446, a random key), with the servers as
   * control-plane Nodes in the fake API; `fenced` for that takeover mode.
   */
  heartbeats?: boolean | "fenced";
  /**
   * Run every agent under libfaketime with its own offset file (+0 at the
   * start), so a fault can step one agent's wall clock while its monotonic
   * clock runs on. Ignored when libfaketime is not installed (see `clock`).
   */
  fakeClock?: boolean;
}

/** Debian's libfaketime (package libfaketime, pulled in by faketime). */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

export const LAB_HEARTBEAT_PORT = 9446;

// The agent-only entry, the one the image ships.
const CLI_SOURCE = fileURLToPath(new URL("../../cli/agent-main.ts", import.meta.url));

/** `k3vip agent` inside a lab namespace, configured like the DaemonSet would, pointed at the node's own API server. */
export function agentArgv(ctx: AgentContext, extra: string[] = [], command: string[] = [process.execPath, ...AGENT_NODE_FLAGS, BUNDLE]): string[] {
  return [
    ...command,
    "agent",
    "--vip",
    ctx.vip,
    "--interface",
    ctx.node.ifname,
    "--kubeconfig",
    ctx.kubeconfig,
    "--node-name",
    ctx.node.name,
    "--metrics-addr",
    ctx.metricsAddr,
    ...extra,
  ];
}

function leaseWrites(api: FakeApi): number {
  let n = 0;
  for (const s of Object.values(api.stats())) {
    for (const [verb, count] of Object.entries(s.byVerb)) if (/ leases$/.test(verb) && !verb.startsWith("GET")) n += count;
  }
  return n;
}

export async function startLabCluster(opts: StartOptions = {}): Promise<RunningLab> {
  const bundle = opts.bundle ?? BUNDLE;
  if (!opts.fromSource && !existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`);
  const dir = await mkdtemp(join(tmpdir(), "k3vl-api-"));
  // A private copy: agents restarted mid-run must run the same code even if dist/ is rebuilt meanwhile.
  if (!opts.fromSource) await copyFile(bundle, join(dir, "k3vip.mjs"));
  const flags = opts.nodeFlags ?? AGENT_NODE_FLAGS;
  const command = opts.fromSource ? [process.execPath, ...flags, "--import", "tsx", CLI_SOURCE] : [process.execPath, ...flags, join(dir, "k3vip.mjs")];
  const fakeApi = await startFakeApi({ socket: join(dir, "api.sock") });
  let cluster: LabCluster | undefined;
  // Off: the Lease's rules alone (heartbeats are on by default in the agent).
  const hb = opts.heartbeats ? ["--heartbeat-port", String(LAB_HEARTBEAT_PORT), ...(opts.heartbeats === "fenced" ? ["--takeover", "fenced"] : [])] : ["--heartbeat-port", "0"];
  const hbEnv = opts.heartbeats ? { K3VIP_HEARTBEAT_KEY: randomBytes(32).toString("hex") } : {};
  const clockFile = (node: string) => join(dir, `${node}.faketime`);
  const fakeClock = opts.fakeClock === true && existsSync(LIBFAKETIME);
  // FAKETIME_NO_CACHE: the file is read on every call, so a new offset applies at once;
  // DONT_FAKE_MONOTONIC: the agent's timers and durations (monotonic) never jump.
  const clockEnv = (node: LabNode): NodeJS.ProcessEnv =>
    fakeClock ? { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile(node.name), FAKETIME_NO_CACHE: "1", DONT_FAKE_MONOTONIC: "1" } : {};
  try {
    cluster = await LabCluster.create({
      servers: opts.servers ?? 3,
      upstreamSocket: fakeApi.socket as string,
      ...(opts.vip ? { vip: opts.vip } : {}),
      agentArgv: (ctx) => agentArgv(ctx, [...hb, ...(opts.agentArgs ?? [])], command),
      ...(opts.agentEnv || opts.heartbeats ? { agentEnv: { ...opts.agentEnv, ...hbEnv } } : {}),
      agentEnvFor: clockEnv,
      ...(opts.verbose ? { onAgentLine: (node, line) => opts.log?.(`[${node.name}] ${line}`) } : {}),
    });
    // The servers as the API lists them (k3s labels servers control-plane): the agents' heartbeat peers.
    const v6 = (opts.vip ?? "").includes(":");
    for (const s of cluster.servers) {
      fakeApi.store.create(resourceType("nodes"), "", {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: s.name, labels: { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" } },
        status: { addresses: [{ type: "InternalIP", address: v6 ? s.ipv6 : s.ipv4 }, { type: "Hostname", address: s.name }] },
      });
    }
    if (fakeClock) for (const s of cluster.servers) await writeFile(clockFile(s.name), "+0\n");
    if (opts.agents !== false) for (const s of cluster.servers) await cluster.startAgent(s.name);
  } catch (e) {
    await cluster?.destroy();
    await fakeApi.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const c = cluster;
  const api: ApiControl = {
    leaseWrites: () => leaseWrites(fakeApi),
    // Every client's requests take a second and then fail with 504: a datastore brown-out.
    brownout: (on) => fakeApi.setFault(null, on ? { latencyMs: 1000, status: 504 } : null),
    // Requests from this node's token hang: its path to the API is black-holed (rule 15).
    partition: (token, on) => fakeApi.setFault(token, on ? { hang: true } : null),
    // Fast 503s (etcd leader elections, an overloaded apiserver): a distinct fault from the slow brown-out.
    errors: (on, rate = 1) => fakeApi.setFault(null, on ? { status: 503, rate } : null),
    // A datastore stall: every request hangs until the stall ends (then its connection is reset).
    stall: (on) => fakeApi.setFault(null, on ? { hang: true } : null),
  };
  // Written aside and renamed: libfaketime reads the file on every call and must never see it half written.
  const clock: ClockControl | undefined = fakeClock
    ? {
        set: async (node, offsetS) => {
          await writeFile(`${clockFile(node)}.new`, `${offsetS >= 0 ? "+" : ""}${offsetS}\n`);
          await rename(`${clockFile(node)}.new`, clockFile(node));
        },
      }
    : undefined;
  return {
    cluster: c,
    fakeApi,
    api,
    timings: LAB_TIMINGS,
    clock,
    close: async () => {
      try {
        await c.destroy();
      } finally {
        await fakeApi.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
