// Multi-node checks in pure code: three nodes step through one simulated
// Lease API; we assert who carries the VIP at every simulated instant.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APPLY_MS, KERNEL_LATE_MS } from "../machine.ts";
import { Rng, Simulation, type NetMode } from "./sim.ts";

const NODES = ["srv1", "srv2", "srv3"];

function boot(seed: number, opts: Partial<ConstructorParameters<typeof Simulation>[0]> = {}): Simulation {
  const sim = new Simulation({ seed, nodes: NODES, ...opts });
  for (const id of NODES) sim.start(id);
  sim.runUntil(10_000);
  return sim;
}

function only(sim: Simulation): string {
  const c = sim.carriers();
  assert.equal(c.length, 1, `exactly one carrier at ${sim.now} ms (got ${c.join(",") || "none"})`);
  return c[0] as string;
}

/** Time from `from` until some node other than `old` carries the VIP. */
function takeover(sim: Simulation, old: string, from: number, limit = 60_000): number {
  for (let t = from; t <= from + limit; t += 5) {
    sim.runUntil(t);
    const c = sim.carriers();
    if (c.length === 1 && c[0] !== old) return t - from;
  }
  return Infinity;
}

function carrierChanges(sim: Simulation, from: number, to: number): number {
  return sim.history.filter(([t]) => t >= from && t <= to).length;
}

describe("election simulation: scenarios", () => {
  it("three nodes: exactly one carries the VIP, and it is the Lease holder", () => {
    const sim = boot(1);
    const h = only(sim);
    assert.equal(sim.leaseHolder(), h);
    sim.runUntil(70_000);
    assert.equal(only(sim), h, "no flap in steady state");
    const writes = NODES.map((id) => sim.node(id).writes);
    const total = writes.reduce((a, b) => a + b, 0);
    assert.ok(total <= 70 / 2 + 3, `≤ 0.5 writes/s overall (${total} in 70 s: ${writes.join("/")})`);
  });

  it("holder powered off: another node takes over within leaseDuration + retryPeriod", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.powerOff(h);
      const dt = takeover(sim, h, t0);
      assert.ok(dt <= 6000 + 2000, `seed ${seed}: took ${dt} ms`);
      assert.equal(sim.overlaps.length, 0);
    }
  });

  it("SIGTERM: the next node carries the VIP within ~100 ms (a few round trips)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.signal(h);
      const dt = takeover(sim, h, t0);
      assert.ok(dt <= 150, `seed ${seed}: took ${dt} ms`);
      sim.runUntil(sim.now + 1000);
      assert.equal(sim.node(h).exitCode, 0);
      sim.finish();
      assert.equal(sim.overlaps.length, 0);
    }
  });

  it("cluster-wide brown-out (every request hangs or gets 5xx) for 7 s: zero flaps", () => {
    for (const mode of ["hang", "5xx"] as NetMode[]) {
      for (let seed = 1; seed <= 20; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.setGlobal(mode);
      sim.runUntil(t0 + 7_000);
      sim.setGlobal("ok");
      sim.runUntil(t0 + 40_000);
      assert.equal(only(sim), h, mode);
      assert.equal(carrierChanges(sim, t0, sim.now), 0, `${mode} seed ${seed}: the VIP never moved or went away`);
      }
    }
  });

  it("cluster-wide brown-out longer than leaseDuration + hold: the holder drops, nobody else adds before it did", () => {
    const sim = boot(8);
    const h = only(sim);
    const t0 = sim.now;
    sim.setGlobal("hang");
    sim.runUntil(t0 + 30_000);
    assert.deepEqual(sim.carriers(), [], "dropped after ~12 s, nobody could acquire");
    sim.setGlobal("ok");
    sim.runUntil(t0 + 60_000);
    only(sim);
    sim.finish();
    assert.equal(sim.overlaps.length, 0);
    void h;
  });

  it("holder partitioned from the API (refused): it drops before any follower can acquire", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.setNet(h, "refused");
      const dt = takeover(sim, h, t0);
      assert.ok(dt <= 6000 + 2000 + 500, `seed ${seed}: took ${dt} ms`);
      sim.finish();
      assert.equal(sim.overlaps.length, 0, `seed ${seed}`);
    }
  });

  it("holder's API server dies (health refused): hand-over by release within a probe interval", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.node(h).healthy = false;
      const dt = takeover(sim, h, t0);
      assert.ok(dt <= 1000 + 200, `seed ${seed}: took ${dt} ms`);
      sim.finish();
      assert.equal(sim.overlaps.length, 0);
    }
  });

  it("the holder's API server goes down and its VIP removal keeps failing: the Lease stays renewed meanwhile, so nobody adds a second copy (hardening #11 item 9)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sim = boot(seed);
      const h = only(sim);
      const t0 = sim.now;
      sim.vipFailRate = 1;
      sim.vipFailOps = ["remove"];
      sim.node(h).healthy = false;
      sim.runUntil(t0 + 1500);
      sim.node(h).healthy = true; // back, but `ip addr del` still fails
      sim.runUntil(t0 + 20_000);
      assert.deepEqual(sim.carriers(), [h], `seed ${seed}: the VIP stayed where it was`);
      sim.vipFailRate = 0;
      sim.runUntil(t0 + 40_000);
      sim.finish();
      assert.deepEqual(sim.overlaps, [], `seed ${seed}`);
      assert.equal(sim.carriers().length, 1, `seed ${seed}`);
    }
  });

  it("asymmetric brown-out (only the holder's requests hang): the duplicate-address probe ends it within ~1 s; without a probe ≤ brownoutHold; none with hold 0", () => {
    for (const [hold, probe, bound] of [
      [12000, true, 1100],
      [12000, false, 12000],
      [0, false, 0],
    ] as const) {
      let worst = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const sim = boot(seed, { config: { brownoutHoldMs: hold }, conflictProbe: probe });
        const h = only(sim);
        const t0 = sim.now;
        sim.setNet(h, "hang");
        sim.runUntil(t0 + 40_000);
        sim.finish();
        const c = sim.carriers();
        assert.equal(c.length, 1);
        assert.notEqual(c[0], h, "the VIP moved to a node that can write");
        for (const o of sim.overlaps) worst = Math.max(worst, o.end - o.start);
      }
      assert.ok(worst <= bound, `hold ${hold}, probe ${probe}: worst duplicate ${worst} ms`);
    }
  });
});

/** A random fault schedule; `strict` keeps to faults under which the rules promise no duplicate. */
function chaos(seed: number, strict: boolean, durationMs = 240_000): Simulation {
  // Timers fire up to 100 ms late (a busy Pi's event loop), always.
  const sim = new Simulation({ seed, nodes: NODES, latency: [1, 40], lateApply: strict ? 0 : 0.3, timerJitterMs: 100 });
  const rng = new Rng(seed * 7919);
  for (const id of NODES) sim.start(id);
  let t = 3000;
  while (t < durationMs) {
    t += rng.between(200, 8000);
    const at = t;
    const id = rng.pick(NODES);
    const n = sim.node(id);
    const len = rng.between(500, 20_000);
    const kind = rng.pick(strict ? STRICT_FAULTS : ALL_FAULTS);
    sim.at(at, () => {
      switch (kind) {
        case "powerOff":
          sim.powerOff(id);
          sim.at(at + len, () => sim.start(id));
          break;
        case "crashRestart":
          // The process dies and is restarted quickly (a container restart); its VIP stays meanwhile.
          sim.crashProcess(id);
          sim.at(at + rng.between(100, 1500), () => sim.start(id));
          break;
        case "sigterm":
          sim.signal(id);
          sim.at(at + len, () => sim.start(id));
          break;
        case "partition":
        case "reset":
          sim.setNet(id, kind === "partition" ? "refused" : "reset");
          sim.at(at + len, () => sim.setNet(id, "ok"));
          break;
        case "apiDown":
          n.healthy = false;
          sim.at(at + len, () => (n.healthy = true));
          break;
        case "brownout":
          sim.setGlobal(rng.pick(["hang", "5xx"] as NetMode[]));
          sim.at(at + len, () => sim.setGlobal("ok"));
          break;
        case "slowNode":
          sim.setNet(id, rng.pick(["hang", "5xx"] as NetMode[]));
          sim.at(at + len, () => sim.setNet(id, "ok"));
          break;
        case "clockJump":
          n.wallOffset += rng.between(-7_200_000, 7_200_000);
          break;
        case "latency":
          sim.latency = [1, Math.round(rng.between(5, 800))];
          sim.at(at + len, () => (sim.latency = [1, 40]));
          break;
        case "vipFails":
          // A failed removal at a drop deadline is covered by the kernel's lifetime (rule 8).
          sim.vipFailOps = ["add", "remove"];
          sim.vipFailRate = 0.5;
          sim.at(at + len, () => (sim.vipFailRate = 0));
          break;
        case "fenceFails":
          sim.fenceFailRate = 0.5;
          sim.at(at + len, () => (sim.fenceFailRate = 0));
          break;
        case "crash":
          // kill -9 and a kubelet back-off: no process for a while; the kernel removes the VIP (rule 8).
          sim.crashProcess(id);
          watchOrphan(sim, id, at, len);
          sim.at(at + len, () => sim.start(id));
          break;
        case "pause":
          // SIGSTOP … SIGCONT: the holder that wakes believing it still holds.
          sim.pause(id, at + len);
          watchOrphan(sim, id, at, len);
          break;
        case "healthTimeouts":
          n.healthTimeout = true;
          sim.at(at + len, () => (n.healthTimeout = false));
          break;
        case "watchLost":
          sim.loseWatch(id, at + len);
          break;
      }
    });
  }
  sim.runUntil(durationMs);
  return sim;
}

const STRICT_FAULTS = ["powerOff", "crashRestart", "crash", "pause", "sigterm", "partition", "reset", "apiDown", "brownout", "clockJump", "latency", "vipFails", "fenceFails", "healthTimeouts", "watchLost"] as const;

/** Orphans: a node whose agent is dead or stopped still carrying the VIP FENCE_BOUND ms later. */
const FENCE_BOUND = 1000 + KERNEL_LATE_MS;
const orphans = new WeakMap<Simulation, string[]>();
function watchOrphan(sim: Simulation, id: string, at: number, len: number): void {
  if (len <= FENCE_BOUND + APPLY_MS) return;
  // A lifetime sent just before the stop still lands within APPLY.
  sim.at(at + FENCE_BOUND + APPLY_MS, () => {
    const n = sim.node(id);
    const stopped = !n.alive || sim.now < n.pausedUntil;
    if (stopped && n.vip) (orphans.get(sim) ?? orphans.set(sim, []).get(sim))?.push(`${id} still carries the VIP ${FENCE_BOUND + APPLY_MS} ms after its agent stopped at ${Math.round(at)}`);
  });
}
const ALL_FAULTS = [...STRICT_FAULTS, "slowNode"] as const;

/** Clear every fault, restart every node, and check the cluster settles on exactly one carrier. */
function heal(sim: Simulation): void {
  sim.setGlobal("ok");
  sim.latency = [1, 40];
  sim.vipLatency = [1, 5];
  sim.vipFailRate = 0;
  sim.fenceFailRate = 0;
  for (const id of NODES) {
    const n = sim.node(id);
    n.healthy = true;
    n.healthTimeout = false;
    sim.setNet(id, "ok");
    if (!n.alive) sim.start(id);
  }
  sim.runUntil(sim.now + 30_000);
}

describe("election simulation: randomized fault schedules (seeded)", () => {
  it("never two carriers of the VIP at once under crashes, partitions, resets, cluster-wide brown-outs, API-server loss and probe timeouts, SIGTERM, clock jumps, slow and failing VIP operations, a deleted Lease, lost watches, late timers", (t) => {
    const SEEDS = 120;
    let vipFailures = 0;
    let expiries = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sim = chaos(seed, true);
      vipFailures += sim.vipFailures;
      // Events later than the schedule still run; let them drain, then heal.
      heal(sim);
      sim.finish();
      assert.deepEqual(sim.overlaps, [], `seed ${seed}: duplicate VIP`);
      assert.deepEqual(orphans.get(sim) ?? [], [], `seed ${seed}: orphaned VIP`);
      expiries += sim.expiries;
      const c = sim.carriers();
      assert.equal(c.length, 1, `seed ${seed}: settles on one carrier (got ${c.join(",") || "none"})`);
      assert.equal(sim.leaseHolder(), c[0], `seed ${seed}: the carrier holds the Lease`);
    }
    t.diagnostic(`${vipFailures} VIP operations failed, ${expiries} copies run out in the kernel across ${SEEDS} schedules`);
    assert.ok(expiries > 20, "the schedules did leave copies to the kernel's lifetime");
    assert.ok(vipFailures > 50, "the schedules did feed failing VIP operations");
  });

  it("with asymmetric brown-outs and writes that land after a timeout: any duplicate ends at the next duplicate-address probe", (t) => {
    let worst = 0;
    let count = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const sim = chaos(seed, false);
      heal(sim);
      sim.finish();
      for (const o of sim.overlaps) {
        worst = Math.max(worst, o.end - o.start);
        count++;
      }
      assert.equal(sim.carriers().length, 1, `seed ${seed}: settles on one carrier`);
    }
    t.diagnostic(`worst duplicate window ${worst} ms (${count} windows in 80 runs)`);
    assert.ok(worst <= 1500, `worst duplicate window ${worst} ms (${count} windows in 80 runs)`);
  });
});
