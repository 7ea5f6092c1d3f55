import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PingRecord } from "../responder/pinger.ts";
import { analyzeTrial, percentile } from "./analyze.ts";

/** A request every 10 ms from `from` to `to`, answered by `by` after `latency` ms. */
function steady(from: number, to: number, by: string | null, latency = 2): PingRecord[] {
  const out: PingRecord[] = [];
  for (let s = from; s < to; s += 10) out.push({ s, e: s + latency, by, a: 1, ...(by === null ? { err: "ECONNREFUSED" } : {}) });
  return out;
}

describe("trial analysis", () => {
  it("measures a failover: one gap, failed requests, one transition and no flap", () => {
    const records = [...steady(0, 1000, "srv1"), ...steady(1000, 1800, null), ...steady(1800, 3000, "srv2")];
    const s = analyzeTrial(records, { from: 500, to: 3000 }, 1);
    // Last success before the fault ends at 992; first after it at 1802.
    assert.equal(s.outageMs, 810);
    assert.equal(s.failedRequests, 80);
    assert.equal(s.transitions, 1);
    assert.equal(s.flaps, 0);
    assert.equal(s.lastServer, "srv2");
    assert.deepEqual(s.servedBy, { srv1: 50, srv2: 120 });
  });

  it("counts late answers (SYN retransmits) as outage until the first completion", () => {
    const records = [...steady(0, 1000, "srv1"), ...steady(1000, 1100, "srv2", 1000), ...steady(1100, 2000, "srv2")];
    assert.equal(analyzeTrial(records, { from: 0, to: 2000 }, 1).outageMs, 110);
  });

  it("counts a client still black-holed at the end of the window", () => {
    const records = [...steady(0, 1000, "srv1"), ...steady(1000, 2000, null)];
    assert.equal(analyzeTrial(records, { from: 0, to: 2000 }, 1).outageMs, 2000 - 992);
  });

  it("counts back-and-forth as flaps, and nothing at all as a full outage", () => {
    const flappy = [...steady(0, 100, "srv1"), ...steady(100, 200, "srv2"), ...steady(200, 300, "srv1")];
    const s = analyzeTrial(flappy, { from: 0, to: 300 }, 0);
    assert.equal(s.transitions, 2);
    assert.equal(s.flaps, 2);
    const dead = [...steady(0, 100, "srv1"), ...steady(100, 1000, null)];
    assert.equal(analyzeTrial(dead, { from: 100, to: 1000 }, 1).outageMs, 1000 - 92);
  });

  it("takes nearest-rank percentiles", () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
    assert.equal(percentile([5, 1, 4, 2, 3], 95), 5);
    assert.equal(percentile([7], 95), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});
