import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeSamples, firstWithout, SampleLog } from "./samples.ts";

/** Samples every 10 ms from `from` to `to` (exclusive) with a fixed state. */
function fill(log: SampleLog, node: string, from: number, to: number, holds: boolean, reach = true): void {
  for (let t = from; t < to; t += 10) log.push(node, { t, holds, reach });
}

describe("in-namespace samples", () => {
  it("parses sampler lines and refuses anything else", () => {
    const log = new SampleLog();
    assert.equal(log.pushLine("srv1", "1700000000000 1 0"), true);
    assert.equal(log.pushLine("srv1", "sampler: 198.18.0.10 every 10 ms"), false);
    assert.deepEqual(log.latest("srv1"), { t: 1700000000000, holds: true, reach: false });
    assert.equal(log.pushLine("srv2", "1700000000010 0 1 1"), true);
    assert.deepEqual(log.latest("srv2"), { t: 1700000000010, holds: false, reach: true, ready: true });
  });

  it("one holder throughout: no split brain, no time without a holder", () => {
    const log = new SampleLog();
    fill(log, "srv1", 0, 1000, true);
    fill(log, "srv2", 5, 1000, false);
    const s = analyzeSamples(log.streams, { from: 0, to: 1000 });
    assert.equal(s.splitBrainMs, 0);
    assert.equal(s.zeroHolderMs, 0);
    assert.deepEqual(s.heldBy, ["srv1"]);
    assert.equal(s.sampleGapMaxMs, 10);
  });

  it("a failover: the gap with no holder, then an overlap with a dead node's copy that is not 'reachable'", () => {
    const log = new SampleLog();
    // srv1 holds until 500, is dead (no agent) from 300, its copy lingers to 500; srv2 holds from 400.
    fill(log, "srv1", 0, 500, true, true);
    fill(log, "srv1", 500, 1000, false, false);
    fill(log, "srv2", 0, 200, false);
    fill(log, "srv2", 200, 400, false);
    fill(log, "srv2", 400, 1000, true);
    const dead = (n: string, t: number) => !(n === "srv1" && t >= 300);
    const s = analyzeSamples(log.streams, { from: 0, to: 1000 }, dead);
    assert.equal(s.splitBrainMs, 100);
    assert.equal(s.splitBrainMaxMs, 100);
    assert.equal(s.splitBrainReachableMs, 0);
    assert.deepEqual(s.splits, [{ from: 400, to: 500, holders: ["srv1", "srv2"], reachable: ["srv2"] }]);
    assert.equal(s.zeroHolderMs, 0);
    assert.equal(firstWithout(log.streams, "srv1", 300), 500);
    // The same overlap with both agents alive and both reaching the API is the forbidden kind.
    assert.equal(analyzeSamples(log.streams, { from: 0, to: 1000 }).splitBrainReachableMs, 100);
  });

  it("takes the longest stretch, not the sum, as the max; a server's state before the window counts", () => {
    const log = new SampleLog();
    fill(log, "srv1", -100, 100, true);
    fill(log, "srv1", 100, 200, false);
    fill(log, "srv1", 200, 300, true);
    fill(log, "srv1", 300, 350, false);
    fill(log, "srv1", 350, 400, true);
    const s = analyzeSamples(log.streams, { from: 0, to: 400 });
    assert.equal(s.zeroHolderMs, 150);
    assert.equal(s.zeroHolderMaxMs, 100);
  });

  it("trim keeps each server's state at the cut", () => {
    const log = new SampleLog();
    fill(log, "srv1", 0, 100, true);
    log.trim(55);
    assert.equal(log.streams.get("srv1")?.[0]?.t, 50);
    assert.equal(analyzeSamples(log.streams, { from: 55, to: 100 }).zeroHolderMs, 0);
  });
  it("a lagging sampler: the overlap inside its gap counts as possible (upper bound), not certain (lower bound); a real overlap counts as both", () => {
    const log = new SampleLog();
    // srv1's sampler starves: one sample at 90 (holding), the next at 240 (gone). srv2 holds from 200.
    fill(log, "srv1", 0, 100, true);
    fill(log, "srv1", 240, 600, false);
    fill(log, "srv2", 0, 200, false);
    fill(log, "srv2", 200, 600, true);
    const lag = analyzeSamples(log.streams, { from: 0, to: 600 });
    assert.equal(lag.splitBrainReachableMs, 40);
    assert.equal(lag.splitBrainReachableCertainMs, 0);
    assert.equal(lag.sampleGapMaxMs, 150);
    // srv1 seen carrying by two samples after srv2 added: that part is certain.
    const real = new SampleLog();
    fill(real, "srv1", 0, 300, true);
    fill(real, "srv1", 300, 600, false);
    fill(real, "srv2", 0, 200, false);
    fill(real, "srv2", 200, 600, true);
    const both = analyzeSamples(real.streams, { from: 0, to: 600 });
    assert.equal(both.splitBrainReachableMs, 100);
    assert.equal(both.splitBrainReachableCertainMs, 90);
  });
});
