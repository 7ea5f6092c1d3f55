// The failover scenarios, run against a LabCluster with real agents. Each
// trial: find the holder, do the fault, wait for the outcome the issue asks
// for, undo the fault, wait until exactly one server holds the VIP again.
// The client's records give the figures (analyze.ts); the holder checks give
// the behaviour (one holder, VIP moved, no orphan, no flap).
import type { LabCluster, Pinger } from "./cluster.ts";
import { analyzeTrial, type TrialStats } from "./analyze.ts";

export const SCENARIOS = ["kill", "sigstop", "linkdown", "sigterm", "apiserver-down", "brownout", "partition"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What the benchmark needs from the upstream (fake) Kubernetes API. */
export interface ApiControl {
  /** Lease writes (create/update) the API has accepted so far. */
  leaseWrites(): number;
  /** Cluster-wide datastore brown-out: every client's requests fail slowly (timeouts / 5xx). */
  brownout(on: boolean): void;
  /** Asymmetric partition: requests with this bearer token fail; others work. */
  partition(token: string, on: boolean): void;
}

export interface TrialResult extends TrialStats {
  scenario: Scenario;
  trial: number;
  from: string;
  to: string | undefined;
  /**
   * Longest time two servers carried the VIP at once, from the fault until
   * the cluster settled again (sampled every 50 ms; 0 = never seen). After
   * kill and sigstop the old holder's agent cannot remove it: the kernel's
   * lifetime does (rule 8 of the election).
   */
  duplicateMs: number;
  /** From the fault until the old holder's node no longer carried the VIP (kill, sigstop, linkdown; sampled every 50 ms). */
  orphanMs: number | undefined;
  /** Exactly one holder once the fault was undone. */
  settled: boolean;
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

/**
 * One trial of `scenario`. The cluster has agents on every server, exactly
 * one holder, and the pinger running.
 */
export async function runTrial(cluster: LabCluster, api: ApiControl, pinger: Pinger, scenario: Scenario, trial: number, t: TrialTimings): Promise<TrialResult> {
  const from = await singleHolder(cluster, t.leaseDurationMs * 3);
  const node = cluster.lab.server(from);
  const others = cluster.servers.map((s) => s.name).filter((n) => n !== from);
  const moveTimeout = t.leaseDurationMs * 2 + t.retryPeriodMs * 2 + 5000;
  const movedTo = (h: string[]) => h.some((x) => others.includes(x));
  await sleep(500);
  const t0 = Date.now();
  let to: string | undefined;
  const dup = new DuplicateWatch(cluster, from);
  try {
    switch (scenario) {
      case "kill": {
        // The node's k3s and agent die at once (OOM, crash); the kernel stays up and
        // removes the VIP when the lifetime the agent last set runs out.
        await Promise.all([cluster.stopAgent(from, "SIGKILL"), cluster.stopResponder(from, "SIGKILL")]);
        to = (await cluster.waitForHolders(movedTo, moveTimeout, `after kill of ${from}`)).find((x) => others.includes(x));
        break;
      }
      case "sigstop": {
        // A frozen agent (SIGSTOP of its process group, as a frozen cgroup):
        // the kernel's lifetime removes its VIP; another server takes over
        // once the Lease expires; on SIGCONT it must not add the VIP back.
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
    }
    if (to !== undefined) await clientSees(pinger, to, t0, 10_000);
  } catch (e) {
    await dup.stop();
    throw e;
  }

  // Undo the fault; the old holder must come back as a follower (no orphaned VIP).
  switch (scenario) {
    case "kill":
      await cluster.startResponder(from);
      await cluster.startAgent(from);
      break;
    case "linkdown":
      await cluster.lab.linkUp(node);
      break;
    case "sigterm":
      await cluster.startAgent(from);
      break;
    case "sigstop":
      cluster.resumeAgent(from);
      break;
    case "apiserver-down":
      await cluster.startResponder(from);
      break;
    case "partition":
      api.partition(cluster.token(node), false);
      break;
    case "brownout":
      break;
  }
  let settled = true;
  try {
    const h = await singleHolder(cluster, t.leaseDurationMs * 2 + 10_000);
    if (to !== undefined && h !== to) settled = false;
  } catch {
    settled = false;
  }
  // Give the client a moment after the undo so a late flap shows up in the window.
  await sleep(1500);
  const duplicateMs = await dup.stop();
  const end = Date.now() - 200;
  // Requests still retrying at `end` are recorded when they finish (budget 2 s).
  await sleep(2500);
  const expectedMoves = scenario === "brownout" ? 0 : 1;
  const stats = analyzeTrial(pinger.records, { from: t0 - 300, to: end }, expectedMoves);
  const orphanMs = scenario === "kill" || scenario === "sigstop" || scenario === "linkdown" ? (dup.goneAt === undefined ? undefined : dup.goneAt - t0) : undefined;
  return { scenario, trial, from, to, duplicateMs, orphanMs, settled, ...stats };
}
