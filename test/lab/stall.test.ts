// A 60 s datastore stall with heartbeats on: every API request hangs (etcd
// without quorum, a frozen disk), while the servers still hear each other.
// Rule 12: a follower that hears the holder never takes over on the Lease's
// expiry, so the same holder keeps the VIP for as long as the stall lasts
// and after it. Checked from the in-namespace samples (every 10 ms) and the
// client's answers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeSamples, analyzeTrial, singleHolder } from "../../src/lab/index.ts";
import { useLabCluster } from "./cluster-fixture.ts";

const STALL_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a 60 s datastore stall with heartbeats", () => {
  const lab = useLabCluster({ heartbeats: true }, { samplers: true, beforeClose: (run) => run.api.stall(false) });

  it("keeps the same holder throughout and after: one holder at every sample, no flap, the client answered by it across the stall", async () => {
    const holder = await singleHolder(lab.run.cluster, 10_000);
    // Heartbeats acknowledged and the client settled on the holder before the stall.
    await sleep(3000);
    const t0 = Date.now();
    const rv0 = lab.run.fakeApi.store.resourceVersion;
    lab.run.api.stall(true);
    try {
      await sleep(STALL_MS);
      // Not one write landed (the stats count the hung attempts too): the API really was stalled.
      assert.equal(lab.run.fakeApi.store.resourceVersion, rv0, "no write during the stall");
    } finally {
      lab.run.api.stall(false);
    }
    const t1 = Date.now();
    // After the stall: renews land again, and nobody moves.
    await sleep(8000);
    const end = Date.now() - 200;
    await sleep(2500);

    const s = analyzeSamples(lab.run.cluster.samples.streams, { from: t0, to: end });
    const c = analyzeTrial(lab.pinger.records, { from: t0, to: end }, 0);
    console.log(
      `# stall ${STALL_MS} ms: holder ${holder}, no holder ${s.zeroHolderMs} ms, split ${s.splitBrainMs} ms, longest client gap ${c.outageMs} ms, ` +
        `failed ${c.failedRequests}/${c.requests}, samples ${s.samples} (largest gap ${s.sampleGapMaxMs} ms), writes after it ${lab.run.fakeApi.store.resourceVersion - rv0}`,
    );
    try {
      assert.deepEqual(s.heldBy, [holder], "only the holder carried the VIP");
      assert.equal(s.zeroHolderMs, 0, "never a sample without a holder");
      assert.equal(s.splitBrainMs, 0, "never a sample with two holders");
      assert.equal(c.transitions, 0);
      assert.equal(c.flaps, 0);
      assert.deepEqual(Object.keys(c.servedBy), [holder]);
      // Answered by the holder in every 2 s of the stall and after it.
      for (let a = t0; a + 2000 <= end; a += 2000) {
        assert.ok(
          lab.pinger.records.some((r) => r.by === holder && r.e >= a && r.e < a + 2000),
          `the client got no answer between +${a - t0} and +${a - t0 + 2000} ms`,
        );
      }
      assert.equal(await singleHolder(lab.run.cluster, 1000), holder);
      assert.ok(lab.run.fakeApi.store.resourceVersion > rv0, "the holder renewed again after the stall");
      assert.ok(t1 - t0 >= STALL_MS);
    } catch (e) {
      console.log(lab.agentLog.filter((l) => !/VIP lifetime/.test(l)).slice(-60).join("\n"));
      throw e;
    }
  });
});
