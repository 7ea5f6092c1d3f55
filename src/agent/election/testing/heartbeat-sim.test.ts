// The heartbeat rules (10–13 of machine.ts) in the simulation: fast
// takeover by a majority, the holder that reaches the API is never taken
// over, brown-outs of any length, 2- and 1-server clusters, and randomized
// schedules in which two carriers that both reach the API never coexist.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ElectionConfig } from "../types.ts";
import { FENCE_WAIT_MS } from "../machine.ts";
import { Rng, Simulation, type NetMode, type SimOptions } from "./sim.ts";

const HB: Partial<ElectionConfig> = { heartbeatMs: 200, silenceMs: 600, steadyRenewMs: 5000 };

function boot(seed: number, nodes: string[], opts: Partial<SimOptions> = {}, config: Partial<ElectionConfig> = {}): Simulation {
  const sim = new Simulation({ seed, nodes, latency: [1, 20], timerJitterMs: 20, ...opts, config: { ...HB, ...config, ...opts.config } });
  for (const id of nodes) sim.start(id);
  sim.runUntil(15_000);
  return sim;
}

function only(sim: Simulation): string {
  const c = sim.carriers();
  assert.equal(c.length, 1, `exactly one carrier at ${sim.now} ms (got ${c.join(",") || "none"})`);
  return c[0] as string;
}

/** Time from `from` until some node other than `old` carries the VIP. */
function takeover(sim: Simulation, old: string, from: number, limit = 30_000): number {
  for (let t = from; t <= from + limit; t += 5) {
    sim.runUntil(t);
    if (sim.carriers().some((c) => c !== old)) return t - from;
  }
  return Infinity;
}

const N3 = ["srv1", "srv2", "srv3"];
const N5 = ["srv1", "srv2", "srv3", "srv4", "srv5"];
const writesOf = (sim: Simulation) => [...sim.nodes.values()].reduce((n, x) => n + x.writes, 0);

describe("heartbeats in the simulation", () => {
  it("steady state: one carrier, Lease writes ≤ 0.2/s (the holder renews every 5 s while every peer acknowledges)", () => {
    const sim = boot(1, N3);
    const h = only(sim);
    const w0 = writesOf(sim);
    sim.runUntil(sim.now + 60_000);
    assert.equal(only(sim), h);
    const perS = (writesOf(sim) - w0) / 60;
    assert.ok(perS <= 0.21, `${perS.toFixed(2)} writes/s`);
    assert.ok(sim.heartbeats > 0);
  });

  it("holder powered off: a majority finds it silent and one node takes over in under a second (3 and 5 servers)", () => {
    for (const nodes of [N3, N5]) {
      const times: number[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        const sim = boot(seed, nodes);
        const h = only(sim);
        const t0 = sim.now;
        sim.powerOff(h);
        times.push(takeover(sim, h, t0));
        sim.runUntil(t0 + 10_000);
        only(sim);
      }
      const worst = Math.max(...times);
      assert.ok(worst < 1000, `${nodes.length} servers: worst takeover ${worst} ms (${times.join(",")})`);
    }
  });

  it("holder killed: early takeover overlaps only the dead node's kernel copy (≤ its lifetime); fenced takeover waits it out: zero overlap", () => {
    for (const mode of ["early", "fenced"] as const) {
      let worstTake = 0;
      let worstDup = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const sim = boot(seed, N3, {}, { takeover: mode });
        const h = only(sim);
        const t0 = sim.now;
        const samples = sim.sample(10, t0 + 10_000);
        sim.crashProcess(h);
        worstTake = Math.max(worstTake, takeover(sim, h, t0));
        sim.runUntil(t0 + 10_000);
        worstDup = Math.max(worstDup, samples.dupMs);
        assert.equal(samples.dupReachableMs, 0);
      }
      if (mode === "early") {
        assert.ok(worstTake < 1000, `early: takeover ${worstTake} ms`);
        assert.ok(worstDup <= FENCE_WAIT_MS, `early: overlap with the dead copy ${worstDup} ms`);
      } else {
        assert.equal(worstDup, 0, "fenced: no overlap at all");
        assert.ok(worstTake < 1000 + FENCE_WAIT_MS, `fenced: takeover ${worstTake} ms`);
      }
    }
  });

  it("the holder's local API server dies: it says so, and a peer takes over without waiting for silence", () => {
    for (const seed of [3, 4, 5, 6, 7]) {
      // A dead process closes the probe's connection: the holder probes at once.
      const sim = boot(seed, N3);
      const h = only(sim);
      const t0 = sim.now;
      sim.apiServerDies(h);
      const ms = takeover(sim, h, t0);
      assert.ok(ms < 300, `seed ${seed}: ${ms} ms`);
      sim.runUntil(t0 + 10_000);
      assert.notEqual(only(sim), h);
    }
    // One that starts refusing with no sign in between: the next 1 s probe.
    const sim = boot(3, N3);
    const h = only(sim);
    const t0 = sim.now;
    sim.node(h).healthy = false;
    const ms = takeover(sim, h, t0);
    assert.ok(ms < 1500, `${ms} ms`);
    sim.runUntil(t0 + 10_000);
    assert.notEqual(only(sim), h);
  });

  it("a holder cut off from its peers but reaching the API is never taken over (it renews fast meanwhile)", () => {
    const sim = boot(4, N3);
    const h = only(sim);
    const w0 = writesOf(sim);
    const t0 = sim.now;
    sim.hbCut.add(h);
    const samples = sim.sample(10, t0 + 30_000);
    sim.runUntil(t0 + 30_000);
    assert.equal(only(sim), h, "same holder");
    assert.equal(samples.dupMs, 0);
    const perS = (writesOf(sim) - w0) / 30;
    console.log(`# peer partition of the holder for 30 s: ${perS.toFixed(1)} Lease writes/s meanwhile`);
    sim.hbCut.delete(h);
  });

  it("heartbeats dropped one way (the holder mute, or deaf), with event-loop delays up to 150 ms and a slow API: never two carriers that both reach the API", () => {
    for (const way of ["mute", "deaf"] as const) {
      for (let seed = 1; seed <= 10; seed++) {
        const sim = boot(seed, N3, { timerJitterMs: 150, latency: [1, 150] });
        const h = sim.carriers()[0]!;
        const t0 = sim.now;
        (way === "mute" ? sim.hbMute : sim.hbDeaf).add(h);
        const samples = sim.sample(10, t0 + 20_000);
        sim.runUntil(t0 + 20_000);
        assert.equal(samples.dupReachableMs, 0, `${way} seed ${seed}`);
      }
    }
  });

  it("the holder alone cut off from the API (its requests hang; peers hear it and reach the API): it gives up and a peer takes over, never two carriers (rule 15)", () => {
    for (const nodes of [N3, N5]) {
      const times: number[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        const sim = boot(seed, nodes);
        const h = only(sim);
        const t0 = sim.now;
        const samples = sim.sample(10, t0 + 40_000);
        sim.setNet(h, "hang");
        times.push(takeover(sim, h, t0));
        sim.runUntil(t0 + 30_000);
        const after = only(sim);
        assert.notEqual(after, h, `seed ${seed}: the cut-off node still carries the VIP`);
        sim.setNet(h, "ok");
        sim.runUntil(t0 + 40_000);
        assert.equal(only(sim), after, `seed ${seed}: no flap back when the partition heals`);
        assert.equal(samples.dupMs, 0, `seed ${seed}: two carriers`);
      }
      const worst = Math.max(...times);
      // Bounded by the steady renew interval (5 s) + a renew timeout + the probe read's timeout.
      assert.ok(worst < 12_000, `${nodes.length} servers: worst ${worst} ms (${times.join(",")})`);
      console.log(`# API-only partition of the holder, ${nodes.length} servers: takeover ${Math.min(...times)}–${worst} ms`);
    }
  });

  it("brown-out of 60 s (every request hangs), peers hearing each other: 0 flaps, the same holder after", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const sim = boot(seed, N3);
      const h = only(sim);
      const t0 = sim.now;
      const samples = sim.sample(10, t0 + 70_000);
      sim.setGlobal(seed % 2 ? "hang" : "5xx");
      sim.runUntil(t0 + 60_000);
      sim.setGlobal("ok");
      sim.runUntil(t0 + 70_000);
      assert.equal(samples.zeroMs, 0, `seed ${seed}: the VIP was never gone`);
      assert.equal(only(sim), h);
      assert.equal(samples.dupMs, 0);
    }
  });

  it("writes stall for 60 s while reads still work (every writer alike): the holder's read answers, so it is no cut-off; the same holder, 0 flaps (rule 15)", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const sim = boot(seed, N3);
      const h = only(sim);
      const t0 = sim.now;
      const samples = sim.sample(10, t0 + 70_000);
      sim.setGlobal("writeHang");
      sim.runUntil(t0 + 60_000);
      sim.setGlobal("ok");
      sim.runUntil(t0 + 70_000);
      assert.equal(samples.zeroMs, 0, `seed ${seed}: the VIP was never gone`);
      assert.equal(only(sim), h);
      assert.equal(samples.dupMs, 0);
    }
  });

  it("2 servers: a silent holder is left to the Lease's expiry (a majority of 2 is both); a holder whose API server died hands over at once", () => {
    const sim = boot(5, ["srv1", "srv2"]);
    const h = only(sim);
    const t0 = sim.now;
    sim.powerOff(h);
    const ms = takeover(sim, h, t0);
    // The holder renewed every 5 s (steady state), so its Lease expires 1–6 s after it died.
    assert.ok(ms > 600 && ms < 7000, `dead holder of 2: ${ms} ms (Lease expiry)`);
    assert.ok(!sim.node(only(sim)).logs.some((l) => /fast takeover/.test(l)), "not a fast takeover");
    const sim2 = boot(5, ["srv1", "srv2"]);
    const h2 = only(sim2);
    const t2 = sim2.now;
    sim2.node(h2).healthy = false;
    assert.ok(takeover(sim2, h2, t2) < 1500);
  });

  it("1 server: it holds the VIP; nothing to take over from", () => {
    const sim = boot(6, ["srv1"]);
    assert.equal(only(sim), "srv1");
  });
});

/** Faults under which two carriers that both reach the API must never coexist. */
const FAULTS = ["powerOff", "crash", "pause", "sigterm", "partition", "apiDown", "brownout", "latency", "hbLoss", "peerCut", "clockJump", "watchLost", "vipFails", "fenceFails", "healthTimeouts"] as const;

function chaos(seed: number, nodes: string[], takeoverMode: "early" | "fenced", durationMs = 180_000) {
  const sim = new Simulation({ seed, nodes, latency: [1, 40], timerJitterMs: 100, config: { ...HB, takeover: takeoverMode } });
  const rng = new Rng(seed * 7919);
  for (const id of nodes) sim.start(id);
  const samples = sim.sample(10, durationMs + 30_000);
  let t = 5000;
  while (t < durationMs) {
    t += rng.between(300, 8000);
    const at = t;
    const id = rng.pick(nodes);
    const n = sim.node(id);
    const len = rng.between(300, 15_000);
    const kind = rng.pick(FAULTS);
    sim.at(at, () => {
      switch (kind) {
        case "powerOff":
          sim.powerOff(id);
          sim.at(at + len, () => sim.start(id));
          break;
        case "crash":
          sim.crashProcess(id);
          sim.at(at + len, () => sim.start(id));
          break;
        case "pause":
          sim.pause(id, at + len);
          break;
        case "sigterm":
          sim.signal(id);
          sim.at(at + len, () => sim.start(id));
          break;
        case "partition":
          // Refused (reset) or black-holed (every request hangs): the API-only partition.
          sim.setNet(id, rng.pick(["refused", "hang"] as NetMode[]));
          sim.at(at + len, () => sim.setNet(id, "ok"));
          break;
        case "apiDown":
          n.healthy = false;
          sim.at(at + len, () => (n.healthy = true));
          break;
        case "brownout":
          sim.setGlobal(rng.pick(["hang", "5xx", "writeHang"] as NetMode[]));
          sim.at(at + len, () => sim.setGlobal("ok"));
          break;
        case "latency":
          sim.latency = [1, Math.round(rng.between(5, 800))];
          sim.at(at + len, () => (sim.latency = [1, 40]));
          break;
        case "hbLoss":
          sim.hbLoss = rng.between(0.05, 0.5);
          sim.at(at + len, () => (sim.hbLoss = 0));
          break;
        case "peerCut":
          sim.hbCut.add(id);
          sim.at(at + len, () => sim.hbCut.delete(id));
          break;
        case "clockJump":
          n.wallOffset += rng.between(-7_200_000, 7_200_000);
          break;
        case "watchLost":
          sim.loseWatch(id, at + len);
          break;
        case "vipFails":
          sim.vipFailRate = 0.5;
          sim.at(at + len, () => (sim.vipFailRate = 0));
          break;
        case "fenceFails":
          sim.fenceFailRate = 0.5;
          sim.at(at + len, () => (sim.fenceFailRate = 0));
          break;
        case "healthTimeouts":
          n.healthTimeout = true;
          sim.at(at + len, () => (n.healthTimeout = false));
          break;
      }
    });
  }
  sim.runUntil(durationMs);
  // Heal, then the cluster must settle on one carrier.
  sim.setGlobal("ok");
  sim.latency = [1, 40];
  sim.hbLoss = 0;
  sim.vipFailRate = 0;
  sim.fenceFailRate = 0;
  sim.hbCut.clear();
  for (const id of nodes) {
    const n = sim.node(id);
    n.healthy = true;
    n.healthTimeout = false;
    n.pausedUntil = Math.min(n.pausedUntil, sim.now);
    sim.setNet(id, "ok");
    if (!n.alive) sim.start(id);
  }
  sim.runUntil(durationMs + 30_000);
  sim.finish();
  return { sim, samples };
}

describe("heartbeats: randomized fault schedules (seeded)", () => {
  for (const [nodes, mode] of [
    [N3, "early"],
    [N5, "early"],
    [N3, "fenced"],
  ] as const) {
    it(`${nodes.length} servers, ${mode} takeover: never two carriers that both reach the API; settles on one`, (t) => {
      let dup = 0;
      let worst: [number, number, string] | undefined;
      for (let seed = 1; seed <= 30; seed++) {
        const { sim, samples } = chaos(seed, [...nodes], mode);
        dup += samples.dupMs;
        assert.equal(samples.dupReachableMs, 0, `seed ${seed}: two carriers reaching the API: ${JSON.stringify(samples.reachableWindows)}`);
        const c = sim.carriers();
        assert.equal(c.length, 1, `seed ${seed}: settles on one carrier (got ${c.join(",") || "none"})`);
        worst ??= samples.reachableWindows[0];
      }
      t.diagnostic(`${dup} ms with two carriers in all (a dead, frozen or cut-off node's copy)`);
    });
  }
});
