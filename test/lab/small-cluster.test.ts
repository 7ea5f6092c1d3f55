// Two servers and one, with heartbeats on. A majority of 2 is both, and the
// holder never votes against itself, so a dead or frozen holder of a
// 2-server cluster cannot be taken over fast: the survivor takes the Lease
// on its expiry (rule 14, failover.md "Two servers, one server"), and the
// fence has removed the old copy by then. One server has no one to take over
// from and must simply keep the VIP. Checked from the in-namespace samples
// (every 10 ms) and the agents' logs; times are printed, never asserted.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeSamples, runTrial, type Scenario, type TrialResult } from "../../src/lab/index.ts";
import { useLabCluster } from "./cluster-fixture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("two servers with heartbeats", () => {
  const lab = useLabCluster({ servers: 2, heartbeats: true }, { samplers: true });

  async function trial(scenario: Scenario): Promise<TrialResult & { lines: string[] }> {
    // The agent the previous trial restarted must be up and heard.
    await sleep(6000);
    const mark = lab.agentLog.length;
    try {
      const r = await runTrial(lab.run.cluster, lab.run.api, lab.pinger, scenario, 1, lab.run.timings);
      const lines = lab.agentLog.slice(mark);
      const how = lines.find((l) => l.includes(`[${r.to ?? "?"}]`) && /acquired the Lease/.test(l)) ?? "(no acquire line)";
      console.log(
        `# 2 servers ${scenario}: ${r.from} → ${r.to} outage ${r.outageMs} ms, no holder ${r.sampled?.zeroHolderMaxMs} ms, split ${r.sampled?.splitBrainMs} ms ` +
          `(reachable ${r.sampled?.splitBrainReachableMs} ms), orphan ${r.orphanMs} ms; ${how.replace(/^.*acquired/, "acquired")}`,
      );
      if (process.env["LAB_DEBUG"]) console.log(lines.filter((l) => !/VIP lifetime/.test(l)).join("\n"));
      return { ...r, lines };
    } catch (e) {
      console.log(lab.agentLog.slice(-60).join("\n"));
      throw e;
    }
  }
  // The survivor's reason for taking the Lease.
  const fastTakeover = (r: { lines: string[]; to: string | undefined }) => r.lines.some((l) => l.startsWith(`[${r.to}]`) && /fast takeover/.test(l));

  it("kill: the other server takes over on the Lease's expiry (no majority for a fast takeover), and the restarted agent stays a follower", async () => {
    const r = await trial("kill");
    assert.ok(r.to !== undefined && r.to !== r.from);
    assert.equal(fastTakeover(r), false, "a majority of 2 is both: no fast takeover from a dead holder");
    assert.ok(r.settled);
    assert.equal(r.sampled?.splitBrainReachableMs, 0);
    assert.ok(r.orphanMs !== undefined, "the dead agent's copy went away with no process alive");
  });

  it("sigstop: the same; on SIGCONT never two holders that both reach the API", async () => {
    const r = await trial("sigstop");
    assert.ok(r.to !== undefined && r.to !== r.from);
    assert.equal(fastTakeover(r), false);
    assert.ok(r.settled, "after SIGCONT one holder: the woken agent did not add the VIP back");
    assert.equal(r.sampled?.splitBrainReachableMs, 0);
    assert.deepEqual(r.sampled?.heldBy, [r.from, r.to].sort());
  });
});

describe("one server with heartbeats", () => {
  const lab = useLabCluster({ servers: 1, heartbeats: true }, { samplers: true });

  it("holds the VIP and keeps it, with no peer to hear, through a brown-out too", async () => {
    const t0 = Date.now();
    await sleep(10_000);
    const steady = analyzeSamples(lab.run.cluster.samples.streams, { from: t0, to: Date.now() });
    const r = await runTrial(lab.run.cluster, lab.run.api, lab.pinger, "brownout", 1, lab.run.timings);
    console.log(`# 1 server: steady ${steady.samples} samples, no holder ${steady.zeroHolderMs} ms; brown-out: no holder ${r.sampled?.zeroHolderMaxMs} ms, client gap ${r.outageMs} ms, failed ${r.failedRequests}`);
    try {
      assert.deepEqual(steady.heldBy, ["srv1"]);
      assert.equal(steady.zeroHolderMs, 0);
      assert.ok(steady.samples > 0);
      assert.equal(r.from, "srv1");
      assert.equal(r.to, undefined, "still srv1 after the brown-out");
      assert.equal(r.sampled?.zeroHolderMaxMs, 0, "never without the VIP");
      assert.equal(r.transitions, 0);
      assert.equal(r.failedRequests, 0);
      assert.ok(r.settled);
    } catch (e) {
      console.log(lab.agentLog.filter((l) => !/VIP lifetime/.test(l)).slice(-40).join("\n"));
      throw e;
    }
  });
});
