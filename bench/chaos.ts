// npm run bench:chaos -- [--trials N] [--seed S] [--servers 3|5] [--mode heartbeat|fenced|lease] [--faults a,b] [--json]
//
// Seeded random faults against real agents on the netns lab (the image's
// Node flags and bundle, as bench:failover). Each trial draws one fault and
// its knobs from the seed, runs it against the current holder
// (lab/cluster/scenarios.ts), undoes it and waits until one server holds the
// VIP again. The faults:
// - the holder taken out (it must move): SIGKILL, SIGSTOP/SIGCONT, link
//   down, its API server dying, SIGTERM, its requests to the API hanging
//   (an API-only partition: its API server and peers are fine);
// - faults to ride out (nobody should move): a cluster-wide slow brown-out
//   (1 s, then 504), fast 503 bursts (50–100% of requests, 2–10 s), random
//   loss of 5–30% of the packets each way on the holder's or another
//   server's eth0 (iptables statistic, 2–8 s), the same with 20–200 ms
//   delay ± jitter by tc netem on both ends of its veth (only where the kernel
//   has sch_netem), heartbeats (UDP 9446) dropped towards the holder,
//   from it or both (iptables in its namespace, 3–25 s, the API reachable
//   throughout), and one agent's wall clock stepped by ±60 s or ±1 h for
//   5–15 s (libfaketime; its monotonic clock runs on).
// The client asks the VIP who it is every 10 ms. A sampler inside each
// server namespace (lab/cluster/sampler.ts) records every 10 ms whether that
// server carries the VIP and whether it reaches the API.
//
// Reported: the client's longest gap per trial (failover_* over the hard
// faults kill, sigstop, linkdown, apiserver-down; per fault p50/p95/max), the
// samplers' longest stretch with no holder (per fault), time with two or more
// holders (total and max) split into "both reached the API with a live agent"
// (must be 0; with its lower bound, the part both bracketing samples confirm,
// since a sampler starved of CPU can stretch an overlap by its gap) and not
// (a dead or frozen node's lingering copy, a holder cut off from the API),
// how long a dead or frozen agent's node kept the VIP,
// client flaps, and steady-state Lease writes/s. The last line is one JSON
// object.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { assertLabSupported, HOLD_FAULTS, LabUnavailableError, percentile, runTrial, singleHolder, type FaultParams, type Scenario, type TrialResult } from "../src/lab/index.ts";
import { LIBFAKETIME, startLabCluster } from "../src/lab/cluster/run.ts";
import { Rng } from "../src/agent/election/testing/sim.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    servers: { type: "string", default: "3" },
    mode: { type: "string", default: "heartbeat" },
    // Draw only from these (to reproduce one kind of fault); default all.
    faults: { type: "string" },
    json: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});
const bad = (msg: string): never => {
  process.stderr.write(`bench:chaos: ${msg}\n`);
  process.exit(2);
};
const trials = Number(values.trials);
const seed = Number(values.seed);
const servers = Number(values.servers);
if (!Number.isInteger(trials) || trials < 1) bad(`--trials ${JSON.stringify(values.trials)} must be a whole number ≥ 1`);
if (!Number.isInteger(seed)) bad(`--seed ${JSON.stringify(values.seed)} must be a whole number`);
if (!Number.isInteger(servers) || servers < 2 || servers > 9) bad(`--servers ${JSON.stringify(values.servers)} must be 2–9`);
const mode = values.mode ?? "heartbeat";
if (!["heartbeat", "fenced", "lease"].includes(mode)) bad(`--mode ${JSON.stringify(mode)} is not one of heartbeat, fenced, lease`);

/** Faults after which the old holder must be replaced: their client gap is the failover time. */
const HARD: readonly Scenario[] = ["kill", "sigstop", "sigstop-short", "linkdown", "apiserver-down"];
// "partition": the holder's API requests hang (its path to the API is cut,
// its local API server and its peers are fine). It gives up by rule 15
// (renew cadence 5 s + two 2 s timeouts), so it is not among HARD.
// Not "sigstop-short" (SIGCONT before the frozen holder's copy has run out):
// the woken agent gives up at once, but its copy stays until its ip -batch
// removal lands, ~100–170 ms in the lab, next to the successor's: two holders
// with live agents that reach the API (a finding for #12). Run it with
// --faults sigstop-short.
const ALL_FAULTS: readonly Scenario[] = ["kill", "sigstop", "linkdown", "apiserver-down", "sigterm", "partition", "brownout", "api-5xx", "loss", "netem", "hb-deaf", "hb-mute", "hb-cut", "clock"];
const hasClock = existsSync(LIBFAKETIME);
const skipped: Record<string, string> = {};
if (!hasClock) skipped["clock"] = `${LIBFAKETIME} is missing (Debian package faketime)`;
if (mode === "lease") for (const f of ["hb-deaf", "hb-mute", "hb-cut"]) skipped[f] = "no heartbeats in --mode lease";
const only = values.faults?.split(",").map((x) => x.trim()) ?? undefined;
const BY_HAND: readonly Scenario[] = ["sigstop-short"];
for (const f of only ?? []) if (![...ALL_FAULTS, ...BY_HAND].includes(f as Scenario)) bad(`--faults: ${JSON.stringify(f)} is not one of ${[...ALL_FAULTS, ...BY_HAND].join(", ")}`);
// Set once the lab is up (whether the kernel has netem is known only then).
let FAULTS: readonly Scenario[] = [];

/** Every knob drawn for every trial, in a fixed order, so a seed gives the same schedule whatever the fault. */
function draw(rng: Rng): { fault: Scenario; params: FaultParams } {
  const fault = rng.pick(FAULTS);
  const onHolder = rng.next() < 0.5;
  const other = Math.floor(rng.next() * 8);
  const netem = { lossPct: Math.round(rng.between(5, 30)), delayMs: Math.round(rng.between(20, 200)), jitterMs: 0 };
  netem.jitterMs = Math.round(rng.between(0, netem.delayMs / 4));
  const netemMs = Math.round(rng.between(2000, 8000));
  const hbMs = Math.round(rng.between(3000, 25_000));
  const errMs = Math.round(rng.between(2000, 10_000));
  const rate = Math.round(rng.between(0.5, 1) * 100) / 100;
  const offset = rng.pick([60, -60, 3600, -3600]);
  const clockMs = Math.round(rng.between(5000, 15_000));
  switch (fault) {
    case "netem":
      return { fault, params: { netem, durationMs: netemMs, ...(onHolder ? {} : { other }) } };
    case "loss":
      return { fault, params: { lossPct: netem.lossPct, durationMs: netemMs, ...(onHolder ? {} : { other }) } };
    case "hb-deaf":
    case "hb-mute":
    case "hb-cut":
      return { fault, params: { durationMs: hbMs } };
    case "api-5xx":
      return { fault, params: { durationMs: errMs, rate } };
    case "clock":
      return { fault, params: { durationMs: clockMs, clockOffsetS: offset, ...(onHolder ? {} : { other }) } };
    default:
      return { fault, params: {} };
  }
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const out = (s: string) => process.stdout.write(`${s}\n`);
try {
  await assertLabSupported();
} catch (e) {
  if (e instanceof LabUnavailableError) bad(e.message);
  throw e;
}
const rng = new Rng(seed);
const run = await startLabCluster({
  servers,
  heartbeats: mode === "lease" ? false : mode === "fenced" ? "fenced" : true,
  fakeClock: hasClock,
  verbose: values.verbose === true,
  log,
});
if (!(await run.cluster.lab.netemAvailable())) skipped["netem"] = "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): the loss fault runs instead, without delay";
for (const [f, why] of Object.entries(skipped)) log(`bench:chaos: no ${f} faults: ${why}`);
FAULTS = only === undefined ? ALL_FAULTS.filter((f) => !(f in skipped)) : [...ALL_FAULTS, ...BY_HAND].filter((f) => !(f in skipped) && only.includes(f));
if (FAULTS.length === 0) {
  await run.close();
  bad(`--faults ${JSON.stringify(values.faults)}: none of them can run here (${JSON.stringify(skipped)})`);
}
const results: (TrialResult & { fault: Scenario })[] = [];
let writesPerS = 0;
try {
  const { cluster, api, timings } = run;
  await singleHolder(cluster, 60_000);
  await cluster.startSamplers(10);
  const pinger = await cluster.startPinger(10);
  const w0 = api.leaseWrites();
  await new Promise((r) => setTimeout(r, 10_000));
  writesPerS = (api.leaseWrites() - w0) / 10;
  log(`steady state: ${writesPerS.toFixed(2)} Lease writes/s`);
  for (let i = 1; i <= trials; i++) {
    const { fault, params } = draw(rng);
    // Every agent up and heard again (a restarted one takes a few seconds) before the next fault.
    await new Promise((r) => setTimeout(r, 5000));
    // Only the current trial's samples are needed; a long run would otherwise keep them all.
    cluster.samples.trim(Date.now() - 1000);
    pinger.records.splice(0, pinger.records.findIndex((x) => x.s >= Date.now() - 5000));
    const r = await runTrial(cluster, api, pinger, fault, i, timings, { fault: params, clock: run.clock });
    results.push({ ...r, fault });
    const sb = r.sampled;
    out(
      `trial ${i} ${r.detail}: ${r.from} → ${r.to ?? r.lastServer ?? "?"}  outage ${r.outageMs} ms` +
        (sb ? `  no-holder ${sb.zeroHolderMaxMs} ms  split ${sb.splitBrainMs} ms (reachable ${sb.splitBrainReachableMs} ms${sb.splitBrainReachableMs > sb.splitBrainReachableCertainMs ? `, certain ${sb.splitBrainReachableCertainMs} ms` : ""})` : `  duplicate ${r.duplicateMs} ms`) +
        (r.orphanMs !== undefined ? `  orphan ${r.orphanMs} ms` : "") +
        `  flaps ${r.flaps}  settled ${r.settled ? "yes" : "NO"}` +
        (sb && sb.sampleGapMaxMs > 100 ? `  (a sampler lagged ${sb.sampleGapMaxMs} ms)` : "") +
        (sb && sb.splits.length ? `  two holders: ${sb.splits.join("; ")}` : "") +
        (r.resumedAt !== undefined ? `  resumed at ${r.resumedAt} ms` : ""),
    );
  }
  await pinger.stop();
} finally {
  await run.close();
}

const round = (x: number) => Math.round(x);
const hard = results.filter((r) => HARD.includes(r.fault)).map((r) => r.outageMs);
const perFault: Record<string, { trials: number; p50_ms: number; p95_ms: number; max_ms: number; zero_holder_p50_ms: number; zero_holder_p95_ms: number; zero_holder_max_ms: number; moved: number; flaps: number }> = {};
for (const f of FAULTS) {
  const rs = results.filter((r) => r.fault === f);
  if (rs.length === 0) continue;
  const xs = rs.map((r) => r.outageMs);
  const zs = rs.map((r) => r.sampled?.zeroHolderMaxMs ?? 0);
  perFault[f] = {
    trials: rs.length,
    p50_ms: percentile(xs, 50),
    p95_ms: percentile(xs, 95),
    max_ms: Math.max(...xs),
    zero_holder_p50_ms: round(percentile(zs, 50)),
    zero_holder_p95_ms: round(percentile(zs, 95)),
    zero_holder_max_ms: round(Math.max(...zs)),
    // For the faults to ride out, any move is a failure of the election.
    moved: HOLD_FAULTS.has(f) ? rs.filter((r) => r.to !== undefined).length : rs.filter((r) => r.to !== undefined && r.to !== r.from).length,
    flaps: rs.reduce((n, r) => n + r.flaps, 0),
  };
}
const splits = results.map((r) => r.sampled?.splitBrainMs ?? r.duplicateMs);
const orphans = results.filter((r) => r.fault === "kill" || r.fault === "sigstop" || r.fault === "sigstop-short").map((r) => r.orphanMs ?? Infinity);
const summary = {
  mode,
  servers,
  seed,
  trials: results.length,
  failover_p50_ms: hard.length ? percentile(hard, 50) : 0,
  failover_p95_ms: hard.length ? percentile(hard, 95) : 0,
  failover_max_ms: hard.length ? Math.max(...hard) : 0,
  split_brain_ms_total: round(splits.reduce((a, b) => a + b, 0)),
  split_brain_max_ms: round(Math.max(0, ...results.map((r) => r.duplicateMs))),
  split_brain_reachable_ms: round(results.reduce((a, r) => a + (r.sampled?.splitBrainReachableMs ?? 0), 0)),
  // The part of it both bracketing samples confirm; the rest lies inside one sampler's gap (a sampler starved of CPU).
  split_brain_reachable_certain_ms: round(results.reduce((a, r) => a + (r.sampled?.splitBrainReachableCertainMs ?? 0), 0)),
  // The rest: a dead, frozen or cut-off node's copy next to the live holder's.
  split_brain_unreachable_ms: round(results.reduce((a, r) => a + (r.sampled ? r.sampled.splitBrainMs - r.sampled.splitBrainReachableMs : 0), 0)),
  orphan_max_ms: orphans.length ? Math.max(...orphans) : 0,
  flaps: results.reduce((n, r) => n + r.flaps, 0),
  moved_on_hold_faults: results.filter((r) => HOLD_FAULTS.has(r.fault) && r.to !== undefined).length,
  unsettled: results.filter((r) => !r.settled).length,
  api_writes_per_s: Math.round(writesPerS * 100) / 100,
  sample_gap_max_ms: Math.max(0, ...results.map((r) => r.sampled?.sampleGapMaxMs ?? 0)),
  per_fault: perFault,
  ...(Object.keys(skipped).length ? { skipped_faults: skipped } : {}),
};
if (!values.json) {
  for (const [f, s] of Object.entries(perFault)) {
    out(`${f}: ${s.trials} trials, client outage p50 ${s.p50_ms} ms  p95 ${s.p95_ms} ms  max ${s.max_ms} ms; no holder p50 ${s.zero_holder_p50_ms} ms  p95 ${s.zero_holder_p95_ms} ms  max ${s.zero_holder_max_ms} ms; moved ${s.moved}, flaps ${s.flaps}`);
  }
}
out(JSON.stringify(summary));
