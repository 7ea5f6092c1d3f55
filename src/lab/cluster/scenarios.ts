// The failover scenarios, run against a LabCluster with real agents. Each
// trial: find the holder, do the fault, wait for the outcome the issue asks
// for, undo the fault, wait until exactly one server holds the VIP again.
// The client's records give the figures (analyze.ts); the holder checks give
// the behaviour (one holder, VIP moved, no orphan, no flap). With the
// in-namespace samplers running (LabCluster.startSamplers), the holder
// figures come from their 10 ms samples (samples.ts).
//
// Two kinds of fault: those that take the holder out (it must move) and
// those it must ride out (HOLD_FAULTS: nobody should move, and no client
// should see a flap).
import type { LabCluster, Pinger } from "./cluster.ts";
import { analyzeTrial, type TrialStats } from "./analyze.ts";
import { analyzeSamples, firstWithout } from "./samples.ts";
import { LAB_HEARTBEAT_PORT } from "./run.ts";
import type { NetemSpec } from "../netns/index.ts";

/** bench:failover's scenarios. */
export const SCENARIOS = ["kill", "sigstop", "linkdown", "sigterm", "apiserver-down", "brownout", "partition"] as const;
/**
 * bench:chaos adds: a freeze shorter than the VIP's lifetime (sigstop-short:
 * SIGCONT as soon as the client reaches the successor, while the frozen
 * node's copy may still be there), a bad cable (random loss with iptables, or loss and
 * delay with tc netem where the kernel has it), heartbeats dropped towards the
 * holder (hb-deaf), from it (hb-mute) or both (hb-cut), fast API 503s, and a
 * step of one agent's wall clock.
 */
export const CHAOS_SCENARIOS = [...SCENARIOS, "sigstop-short", "loss", "netem", "hb-deaf", "hb-mute", "hb-cut", "api-5xx", "clock"] as const;
export type Scenario = (typeof CHAOS_SCENARIOS)[number];
/** Faults the holder is to ride out: the VIP stays where it is. */
export const HOLD_FAULTS: ReadonlySet<Scenario> = new Set<Scenario>(["brownout", "loss", "netem", "hb-deaf", "hb-mute", "hb-cut", "api-5xx", "clock"]);

/** The knobs of the timed faults; bench:chaos draws them from its seed. */
export interface FaultParams {
  /** How long loss, netem, hb-*, api-5xx and clock last. Default 5 s. */
  durationMs?: number;
  /** loss, netem and clock: undefined = the holder, n = the n-th other server (mod their number). */
  other?: number;
  netem?: NetemSpec;
  /** loss: the share of packets dropped each way, in percent. Default 10. */
  lossPct?: number;
  /** api-5xx: the share of requests that get 503. Default 1. */
  rate?: number;
  /** clock: the step of the target agent's wall clock, in seconds. Default +60. */
  clockOffsetS?: number;
}

/** Steps one agent's wall clock (libfaketime; see run.ts). */
export interface ClockControl {
  set(node: string, offsetS: number): Promise<void>;
}

export interface TrialOptions {
  fault?: FaultParams;
  /** Needed for the clock fault. */
  clock?: ClockControl | undefined;
}

/** What the benchmark needs from the upstream (fake) Kubernetes API. */
export interface ApiControl {
  /** Lease writes (create/update) the API has accepted so far. */
  leaseWrites(): number;
  /** Cluster-wide datastore brown-out: every client's requests fail slowly (timeouts / 5xx). */
  brownout(on: boolean): void;
  /** Asymmetric partition: requests with this bearer token hang (a black-holed path to the API); others work. */
  partition(token: string, on: boolean): void;
  /** Fast 5xx on a share (`rate`, default 1) of every client's requests: no added latency. */
  errors(on: boolean, rate?: number): void;
  /** Every request hangs until the stall ends. */
  stall(on: boolean): void;
}

export interface TrialResult extends TrialStats {
  scenario: Scenario;
  trial: number;
  from: string;
  to: string | undefined;
  /** What was done, e.g. "netem srv2 loss 12% delay 80±20 ms for 4000 ms". */
  detail: string;
  /**
   * Longest time two servers carried the VIP at once, from the fault until
   * the cluster settled again (sampled every 50 ms from outside, or every
   * 10 ms by the samplers; 0 = never seen). After kill and sigstop the old
   * holder's agent cannot remove it: the kernel's lifetime does (rule 8 of
   * the election).
   */
  duplicateMs: number;
  /** From the fault until the old holder's node no longer carried the VIP (kill, sigstop, linkdown). */
  orphanMs: number | undefined;
  /** Exactly one holder once the fault was undone. */
  settled: boolean;
  /** kill, sigstop: ms from the fault until the old holder's agent was started again or resumed. */
  resumedAt?: number;
  /** From the samplers only (undefined without them): see samples.ts. */
  sampled?: {
    splitBrainMs: number;
    splitBrainReachableMs: number;
    /** Its lower bound: only time both bracketing samples agree (see samples.ts). */
    splitBrainReachableCertainMs: number;
    /** Longest stretch with no holder. */
    zeroHolderMaxMs: number;
    heldBy: string[];
    sampleGapMaxMs: number;
    /** Stretches with two holders, ms from the fault: "srv1+srv2 120–350 (reachable srv2)". */
    splits: string[];
  };
}

export interface TrialTimings {
  leaseDurationMs: number;
  retryPeriodMs: number;
  /** Brown-out length (default 2 × lease duration is what the election promises to ride out). */
  brownoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exactly one server holds the VIP; returns it. */
export async function singleHolder(cluster: LabCluster, timeoutMs: number): Promise<string> {
  const h = await cluster.waitForHolders((x) => x.length === 1, timeoutMs, "waiting for exactly one VIP holder");
  return h[0]!;
}

/** Waits until the client has been answered by `server` for requests started after `since`. */
async function clientSees(pinger: Pinger, server: string, since: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = pinger.records.find((x) => x.s >= since && x.by === server);
    if (r) return r.e;
    await sleep(20);
  }
  return undefined;
}

/** Samples the holders every 50 ms until stopped; keeps the longest time two or more held the VIP at once. */
class DuplicateWatch {
  private running = true;
  private dupStart: number | undefined;
  private longest = 0;
  private readonly loop: Promise<void>;
  /** First sample without `from` holding. */
  goneAt: number | undefined;

  constructor(
    private readonly cluster: LabCluster,
    private readonly from: string,
  ) {
    this.loop = this.sample();
  }

  private async sample(): Promise<void> {
    while (this.running) {
      const h = await this.cluster.holders().catch(() => [] as string[]);
      const now = Date.now();
      if (!h.includes(this.from)) this.goneAt ??= now;
      if (h.length >= 2) this.dupStart ??= now;
      else if (this.dupStart !== undefined) {
        this.longest = Math.max(this.longest, now - this.dupStart);
        this.dupStart = undefined;
      }
      await sleep(50);
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    if (this.dupStart !== undefined) this.longest = Math.max(this.longest, Date.now() - this.dupStart);
    return this.longest;
  }
}

/** A short description of a timed fault's knobs, for the trial's line. */
function describeFault(scenario: Scenario, target: string, f: FaultParams, durationMs: number): string {
  switch (scenario) {
    case "netem": {
      const n = f.netem ?? DEFAULT_NETEM;
      return `netem ${target} loss ${n.lossPct}% delay ${n.delayMs}±${n.jitterMs} ms for ${durationMs} ms`;
    }
    case "loss":
      return `loss ${target} ${f.lossPct ?? 10}% each way for ${durationMs} ms`;
    case "hb-deaf":
    case "hb-mute":
    case "hb-cut":
      return `${scenario} ${target} for ${durationMs} ms`;
    case "api-5xx":
      return `api-5xx ${Math.round((f.rate ?? 1) * 100)}% for ${durationMs} ms`;
    case "clock": {
      const o = f.clockOffsetS ?? 60;
      return `clock ${target} ${o >= 0 ? "+" : ""}${o} s for ${durationMs} ms`;
    }
    default:
      return `${scenario} ${target}`;
  }
}

const DEFAULT_NETEM: NetemSpec = { lossPct: 10, delayMs: 50, jitterMs: 10 };

/**
 * One trial of `scenario`. The cluster has agents on every server, exactly
 * one holder, and the pinger running.
 */
export async function runTrial(cluster: LabCluster, api: ApiControl, pinger: Pinger, scenario: Scenario, trial: number, t: TrialTimings, opts: TrialOptions = {}): Promise<TrialResult> {
  const f = opts.fault ?? {};
  // An agent the previous trial restarted may still be starting (slow on a busy machine): a fault now would find fewer servers than it thinks.
  if (cluster.sampling) await cluster.waitAgentsReady(60_000);
  const from = await singleHolder(cluster, t.leaseDurationMs * 3);
  const node = cluster.lab.server(from);
  const others = cluster.servers.map((s) => s.name).filter((n) => n !== from);
  // netem and clock may hit another server than the holder.
  const target = f.other !== undefined && others.length > 0 ? cluster.lab.server(others[f.other % others.length]!) : node;
  const durationMs = f.durationMs ?? 5000;
  const moveTimeout = t.leaseDurationMs * 2 + t.retryPeriodMs * 2 + 5000;
  const movedTo = (h: string[]) => h.some((x) => others.includes(x));
  if (scenario === "clock" && !opts.clock) throw new Error("the clock fault needs a ClockControl (startLabCluster({ fakeClock: true }) with libfaketime installed)");
  await sleep(500);
  const t0 = Date.now();
  let to: string | undefined;
  // While the old holder's agent is dead or stopped: its copy is the kernel's, not a live holder's.
  const agentDown = { from: Infinity, to: Infinity };
  const dup = cluster.sampling ? undefined : new DuplicateWatch(cluster, from);
  try {
    switch (scenario) {
      case "kill": {
        // The node's k3s and agent die at once (OOM, crash); the kernel stays up and
        // removes the VIP when the lifetime the agent last set runs out.
        agentDown.from = Date.now();
        await Promise.all([cluster.stopAgent(from, "SIGKILL"), cluster.stopResponder(from, "SIGKILL")]);
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after kill of ${from}`)).find((x) => others.includes(x));
        break;
      }
      case "sigstop":
      case "sigstop-short": {
        // A frozen agent (SIGSTOP of its process group, as a frozen cgroup):
        // the kernel's lifetime removes its VIP; another server takes over
        // once the Lease expires; on SIGCONT it must not add the VIP back.
        agentDown.from = Date.now();
        cluster.pauseAgent(from);
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after SIGSTOP of ${from}`)).find((x) => others.includes(x));
        break;
      }
      case "linkdown": {
        await cluster.lab.linkDown(node);
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after link-down of ${from}`)).find((x) => others.includes(x));
        break;
      }
      case "sigterm": {
        await cluster.stopAgent(from, "SIGTERM");
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after SIGTERM to ${from}`)).find((x) => others.includes(x));
        break;
      }
      case "apiserver-down": {
        await cluster.stopResponder(from, "SIGKILL");
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after stopping ${from}'s API server`)).find((x) => others.includes(x));
        break;
      }
      case "brownout": {
        api.brownout(true);
        await sleep(t.brownoutMs);
        api.brownout(false);
        break;
      }
      case "partition": {
        api.partition(cluster.token(node), true);
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after partitioning ${from} from the API`)).find((x) => others.includes(x));
        // The cut-off holder must let go: exactly one holder while the partition lasts.
        await cluster.waitForHolders((h) => h.length === 1 && h[0] !== from, t.leaseDurationMs * 2 + t.retryPeriodMs + 5000, `${from} still holding while partitioned`);
        break;
      }
      case "netem": {
        await cluster.lab.netem(target, f.netem ?? DEFAULT_NETEM);
        try {
          await sleep(durationMs);
        } finally {
          await cluster.lab.netem(target, null);
        }
        break;
      }
      case "loss": {
        await cluster.lab.randomLoss(target, f.lossPct ?? 10, true);
        try {
          await sleep(durationMs);
        } finally {
          await cluster.lab.randomLoss(target, f.lossPct ?? 10, false);
        }
        break;
      }
      case "hb-deaf":
      case "hb-mute":
      case "hb-cut": {
        // Only the heartbeats: the API stays reachable for everyone.
        const dirs: ("in" | "out")[] = scenario === "hb-deaf" ? ["in"] : scenario === "hb-mute" ? ["out"] : ["in", "out"];
        for (const d of dirs) await cluster.lab.dropUdp(node, LAB_HEARTBEAT_PORT, d, true);
        try {
          await sleep(durationMs);
        } finally {
          for (const d of dirs) await cluster.lab.dropUdp(node, LAB_HEARTBEAT_PORT, d, false);
        }
        break;
      }
      case "api-5xx": {
        api.errors(true, f.rate ?? 1);
        try {
          await sleep(durationMs);
        } finally {
          api.errors(false);
        }
        break;
      }
      case "clock": {
        // A wall-clock step (NTP, an RTC-less Pi that syncs late); the monotonic clock runs on. Then a step back.
        const clock = opts.clock!;
        await clock.set(target.name, f.clockOffsetS ?? 60);
        try {
          await sleep(durationMs);
        } finally {
          await clock.set(target.name, 0);
        }
        break;
      }
    }
    if (to !== undefined) await clientSees(pinger, to, t0, 10_000);
  } catch (e) {
    await dup?.stop();
    if (scenario === "brownout") api.brownout(false);
    throw e;
  }

  // Undo the fault; the old holder must come back as a follower (no orphaned VIP).
  switch (scenario) {
    case "kill":
      await cluster.startResponder(from);
      await cluster.startAgent(from);
      agentDown.to = Date.now();
      break;
    case "linkdown":
      await cluster.lab.linkUp(node);
      break;
    case "sigterm":
      await cluster.startAgent(from);
      break;
    case "sigstop":
      // As the scenario says: the frozen holder's copy runs out while it is stopped (the kernel's lifetime), then SIGCONT.
      await cluster.waitForHolders((h) => !h.includes(from), 5000, `${from}'s copy still there while it is stopped`).catch(() => undefined);
      cluster.resumeAgent(from);
      agentDown.to = Date.now();
      break;
    case "sigstop-short":
      cluster.resumeAgent(from);
      agentDown.to = Date.now();
      break;
    case "apiserver-down":
      await cluster.startResponder(from);
      break;
    case "partition":
      api.partition(cluster.token(node), false);
      break;
    default:
      // The timed faults were undone above.
      break;
  }
  let settled = true;
  try {
    const h = await singleHolder(cluster, t.leaseDurationMs * 2 + 10_000);
    if (to !== undefined && h !== to) settled = false;
    // A fault the holder should have ridden out: record where the VIP went if it moved anyway.
    if (HOLD_FAULTS.has(scenario) && h !== from) to = h;
  } catch {
    settled = false;
  }
  // Give the client a moment after the undo so a late flap shows up in the window.
  await sleep(1500);
  const end = Date.now() - 200;
  const duplicateWatched = await dup?.stop();
  // Requests still retrying at `end` are recorded when they finish (budget 2 s).
  await sleep(2500);
  const expectedMoves = HOLD_FAULTS.has(scenario) ? 0 : 1;
  const stats = analyzeTrial(pinger.records, { from: t0 - 300, to: end }, expectedMoves);
  const orphaned = scenario === "kill" || scenario === "sigstop" || scenario === "sigstop-short" || scenario === "linkdown";
  const detail = describeFault(scenario, target.name, f, durationMs);
  if (dup) {
    const orphanMs = orphaned ? (dup.goneAt === undefined ? undefined : dup.goneAt - t0) : undefined;
    return { scenario, trial, from, to, detail, duplicateMs: duplicateWatched ?? 0, orphanMs, settled, ...stats };
  }
  const resumedAt = agentDown.to === Infinity ? {} : { resumedAt: agentDown.to - t0 };
  const live = (n: string, at: number) => !(n === from && at >= agentDown.from && at < agentDown.to);
  const s = analyzeSamples(cluster.samples.streams, { from: t0 - 300, to: end }, live);
  const gone = orphaned ? firstWithout(cluster.samples.streams, from, t0) : undefined;
  return {
    scenario,
    trial,
    from,
    to,
    detail,
    duplicateMs: s.splitBrainMaxMs,
    orphanMs: gone === undefined ? undefined : gone - t0,
    settled,
    ...resumedAt,
    sampled: {
      splitBrainMs: s.splitBrainMs,
      splitBrainReachableMs: s.splitBrainReachableMs,
      splitBrainReachableCertainMs: s.splitBrainReachableCertainMs,
      zeroHolderMaxMs: s.zeroHolderMaxMs,
      heldBy: s.heldBy,
      sampleGapMaxMs: s.sampleGapMaxMs,
      splits: s.splits.map((x) => `${x.holders.join("+")} ${x.from - t0}–${x.to - t0} ms${x.reachable.length ? ` (reachable ${x.reachable.join("+")})` : ""}`),
    },
    ...stats,
  };
}
