// Each benchmark scenario's behaviour with three real `k3vip agent`
// processes (from the sources), their stand-in API servers and the fake
// Kubernetes API: one holder, the VIP moves, nobody flaps in a brown-out, no
// orphaned VIP, exactly one holder under partition. Times are printed, never
// asserted (bench:failover measures them).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LAB_VIP6, runTrial, singleHolder, type Scenario, type TrialResult } from "../../src/lab/index.ts";
import { useLabCluster } from "./cluster-fixture.ts";

describe("failover scenarios with real agents", () => {
  const lab = useLabCluster({});

  async function trial(scenario: Scenario): Promise<TrialResult> {
    try {
      const r = await runTrial(lab.run.cluster, lab.run.api, lab.pinger, scenario, 1, lab.run.timings);
      console.log(`# ${scenario}: ${r.from} → ${r.to ?? r.lastServer} outage ${r.outageMs} ms, failed ${r.failedRequests}/${r.requests}, transitions ${r.transitions}, duplicate ${r.duplicateMs} ms${r.orphanMs !== undefined ? `, orphan ${r.orphanMs} ms` : ""}`);
      return r;
    } catch (e) {
      // The agents' last lines say why.
      console.log(lab.agentLog.slice(-40).join("\n"));
      throw e;
    }
  }

  it("elects exactly one holder, which the client reaches through the VIP", async () => {
    const holder = await singleHolder(lab.run.cluster, 10_000);
    for (let i = 0; i < 200 && !lab.pinger.records.some((r) => r.by === holder); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lab.pinger.records.some((r) => r.by === holder), `client answered by ${holder}`);
  });

  it("sigterm: the holder hands over; a retrying client sees no failed request and no duplicate", async () => {
    const r = await trial("sigterm");
    assert.notEqual(r.to, undefined);
    assert.notEqual(r.to, r.from);
    assert.equal(r.lastServer, r.to);
    assert.equal(r.failedRequests, 0);
    assert.equal(r.duplicateMs, 0);
    assert.equal(r.flaps, 0);
    assert.ok(r.settled);
  });

  it("apiserver-down: the holder whose API server died gives the VIP up (no orphan) and another server takes it", async () => {
    const r = await trial("apiserver-down");
    assert.notEqual(r.to, r.from);
    assert.equal(r.lastServer, r.to);
    assert.equal(r.duplicateMs, 0, "the old holder removed the VIP before anyone else added it");
    assert.equal(r.flaps, 0);
    assert.ok(r.settled, "after its API server came back the old holder stayed a follower");
  });

  it("kill: the kernel removes the dead agent's VIP before anyone takes over; no duplicate, and the restarted agent stays a follower", async () => {
    const r = await trial("kill");
    assert.notEqual(r.to, r.from);
    assert.equal(r.lastServer, r.to);
    assert.equal(r.flaps, 0);
    assert.ok(r.orphanMs !== undefined, "the dead agent's VIP went away with no process alive");
    assert.equal(r.duplicateMs, 0, "gone before the Lease expired and another server added it");
    assert.ok(r.settled, "exactly one holder after the restart");
  });

  it("sigstop: a frozen holder's VIP runs out while it is stopped; another server takes over; on SIGCONT it does not add it back", async () => {
    const r = await trial("sigstop");
    assert.notEqual(r.to, r.from);
    assert.equal(r.lastServer, r.to);
    assert.ok(r.orphanMs !== undefined);
    assert.equal(r.duplicateMs, 0);
    assert.equal(r.flaps, 0);
    assert.ok(r.settled, "the woken agent stayed a follower");
    assert.ok(lab.agentLog.some((l) => /stalled/.test(l)), "the woken agent saw that it had been stopped");
  });

  it("linkdown: a holder cut off from the network is replaced, and drops the VIP once back", async () => {
    const r = await trial("linkdown");
    assert.notEqual(r.to, r.from);
    assert.equal(r.lastServer, r.to);
    assert.equal(r.flaps, 0);
    assert.ok(r.settled);
  });

  it("brownout: every Lease write fails for 1.5 lease durations and nobody flaps", async () => {
    const r = await trial("brownout");
    assert.equal(r.transitions, 0);
    assert.equal(r.flaps, 0);
    assert.equal(r.failedRequests, 0);
    assert.equal(r.lastServer, r.from);
    assert.equal(r.duplicateMs, 0);
    assert.ok(r.settled);
  });

  // The issue: "within lease duration + retry period, exactly one node holds
  // the VIP" — the cut-off holder must not keep (or re-announce) it.
  it(
    "partition: the holder loses the API while others keep it; exactly one holder within lease + retry, no flap",
    async () => {
      const r = await trial("partition");
      assert.notEqual(r.to, r.from);
      assert.ok(r.settled);
      assert.equal(r.lastServer, r.to);
      // The duplicate window's length is a figure (npm run bench:failover -- --scenario partition), not a test.
      assert.equal(r.flaps, 0);
    },
  );
});

describe("failover with an IPv6 VIP (the kernel's unsolicited NA moves the client)", () => {
  const lab = useLabCluster({ vip: LAB_VIP6 });

  for (const scenario of ["sigterm", "apiserver-down"] as const) {
    it(`${scenario}: the VIP moves and the client follows without a flap`, async () => {
      let r: TrialResult;
      try {
        r = await runTrial(lab.run.cluster, lab.run.api, lab.pinger, scenario, 1, lab.run.timings);
      } catch (e) {
        console.log(lab.agentLog.slice(-40).join("\n"));
        throw e;
      }
      console.log(`# IPv6 ${scenario}: ${r.from} → ${r.to} outage ${r.outageMs} ms, failed ${r.failedRequests}/${r.requests}`);
      assert.notEqual(r.to, r.from);
      assert.equal(r.lastServer, r.to);
      assert.equal(r.flaps, 0);
      assert.equal(r.duplicateMs, 0);
      assert.ok(r.settled);
      if (scenario === "sigterm") assert.equal(r.failedRequests, 0);
    });
  }
});
