// npm run bench:failover -- --scenario kill|sigstop|linkdown|sigterm|apiserver-down|brownout|partition|all --trials N
//   [--mode lease|heartbeat|fenced|all] [--json] [--verbose] [--bundle dist/k3vip.mjs]
//
// --mode: lease = the Lease's rules alone (no heartbeats); heartbeat = peer
// heartbeats with early takeover; fenced = heartbeats, takeover waits out the
// old holder's kernel lifetime. all (default) runs the three side by side.
//
// Builds the netns lab (3 servers, a client), runs the in-process fake
// Kubernetes API, one responder (stand-in API server) and one real
// `k3vip agent` (dist/k3vip.mjs) per server, and a client that asks
// VIP:6443 who it is every 10 ms over a new connection. Per trial it prints
// the client-observed outage, failed requests (after the client's retries),
// flaps, and per scenario the steady-state API writes/s and agent RSS, then
// p50/p95/max. With --json the last line is one JSON object per scenario
// (one line each; the last line is the last scenario's).
import { parseArgs } from "node:util";
import { assertLabSupported, LabUnavailableError, percentile, runTrial, SCENARIOS, singleHolder, type Scenario, type TrialResult } from "../src/lab/index.ts";
import { startLabCluster, type RunningLab } from "../src/lab/cluster/run.ts";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "all" },
    trials: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    bundle: { type: "string" },
    mode: { type: "string", default: "all" },
  },
});
const MODES = ["lease", "heartbeat", "fenced"] as const;
type Mode = (typeof MODES)[number];
const modeArg = values.mode ?? "all";
if (modeArg !== "all" && !(MODES as readonly string[]).includes(modeArg)) {
  process.stderr.write(`bench:failover: --mode ${JSON.stringify(modeArg)} is not one of ${MODES.join(", ")}, all\n`);
  process.exit(2);
}
const modes: Mode[] = modeArg === "all" ? [...MODES] : [modeArg as Mode];

const scenarioArg = values.scenario ?? "all";
if (scenarioArg !== "all" && !(SCENARIOS as readonly string[]).includes(scenarioArg)) {
  process.stderr.write(`bench:failover: --scenario ${JSON.stringify(scenarioArg)} is not one of ${SCENARIOS.join(", ")}, all\n`);
  process.exit(2);
}
const trials = Number(values.trials);
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`bench:failover: --trials ${JSON.stringify(values.trials)} must be a whole number ≥ 1\n`);
  process.exit(2);
}
const scenarios: Scenario[] = scenarioArg === "all" ? [...SCENARIOS] : [scenarioArg as Scenario];
const log = (s: string) => process.stderr.write(`${s}\n`);
const out = (s: string) => process.stdout.write(`${s}\n`);

try {
  await assertLabSupported();
} catch (e) {
  if (e instanceof LabUnavailableError) {
    process.stderr.write(`bench:failover: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}

interface Summary {
  mode: Mode;
  scenario: Scenario;
  trials: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  failed_requests: number;
  flaps: number;
  /** Longest time two servers carried the VIP at once, over all trials. */
  duplicate_max_ms: number;
  /** kill, sigstop, linkdown: longest time from the fault until the old holder's node no longer carried the VIP. */
  orphan_max_ms: number | null;
  api_writes_per_s: number;
  rss_mib: number;
}

const summaries: Summary[] = [];
for (const mode of modes) for (const scenario of scenarios) {
  // A fresh lab per scenario: one scenario's leftovers never bias the next.
  const heartbeats = mode === "lease" ? false : mode === "fenced" ? "fenced" : true;
  const run: RunningLab = await startLabCluster({ verbose: values.verbose === true, log, heartbeats, ...(values.bundle ? { bundle: values.bundle } : {}) });
  try {
    const { cluster, api, timings } = run;
    await singleHolder(cluster, 30_000);
    const pinger = await cluster.startPinger(10);
    // Steady state: API writes/s and RSS while nothing happens.
    const steadyMs = 10_000;
    const w0 = api.leaseWrites();
    await new Promise((r) => setTimeout(r, steadyMs));
    const writesPerS = (api.leaseWrites() - w0) / (steadyMs / 1000);
    const rss = Math.max(...(await Promise.all(cluster.servers.map((s) => cluster.agentRssMiB(s.name)))).map((x) => x ?? 0));
    log(`${mode} ${scenario}: steady state ${writesPerS.toFixed(2)} API writes/s, agent RSS ${rss} MiB`);
    const results: TrialResult[] = [];
    for (let i = 1; i <= trials; i++) {
      // An agent the previous trial restarted must be running and heard again (a majority) before the next fault.
      if (i > 1 && mode !== "lease") await new Promise((r) => setTimeout(r, 5000));
      const r = await runTrial(cluster, api, pinger, scenario, i, timings);
      results.push(r);
      out(
        `${mode} ${scenario} trial ${i}: ${r.from} → ${r.to ?? r.lastServer ?? "?"}  outage ${r.outageMs} ms  failed ${r.failedRequests}/${r.requests}  flaps ${r.flaps}` +
          `  duplicate ${r.duplicateMs} ms${r.orphanMs !== undefined ? `  orphan ${r.orphanMs} ms` : ""}  settled ${r.settled ? "yes" : "NO"}`,
      );
    }
    await pinger.stop();
    const outages = results.map((r) => r.outageMs);
    const s: Summary = {
      mode,
      scenario,
      trials,
      p50_ms: percentile(outages, 50),
      p95_ms: percentile(outages, 95),
      max_ms: Math.max(...outages),
      failed_requests: results.reduce((n, r) => n + r.failedRequests, 0),
      flaps: results.reduce((n, r) => n + r.flaps, 0),
      duplicate_max_ms: Math.max(...results.map((r) => r.duplicateMs)),
      orphan_max_ms: results.some((r) => r.orphanMs !== undefined) ? Math.max(...results.map((r) => r.orphanMs ?? 0)) : null,
      api_writes_per_s: Math.round(writesPerS * 100) / 100,
      rss_mib: rss,
    };
    summaries.push(s);
    out(`${mode} ${scenario}: outage p50 ${s.p50_ms} ms  p95 ${s.p95_ms} ms  max ${s.max_ms} ms  failed ${s.failed_requests}  flaps ${s.flaps}  duplicate max ${s.duplicate_max_ms} ms${s.orphan_max_ms !== null ? `  orphan max ${s.orphan_max_ms} ms` : ""}  writes/s ${s.api_writes_per_s}  RSS ${s.rss_mib} MiB`);
  } finally {
    await run.close();
  }
}
if (values.json) for (const s of summaries) out(JSON.stringify(s));
