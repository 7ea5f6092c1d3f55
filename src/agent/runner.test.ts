// The runner with fake ports and a manual clock (no sleeping). Three runners
// against the fake API through the real Lease adapter: src/kube/runner.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { microTime, type ElectionConfig } from "./election/index.ts";
import { SIM_CONFIG } from "./election/testing/sim.ts";
import { FakeHealthProbe } from "./health/testing/fake.ts";
import { FakeAgentMetrics } from "./metrics/testing/fake.ts";
import { AgentRunner, createLogger, type Logger } from "./runner.ts";
import { FakeLeasePort } from "./testing/fake-lease.ts";
import { ManualClock } from "./testing/clock.ts";
import { FakeVipPort } from "./vip/testing/fake.ts";
import type { Vip } from "./vip/index.ts";

const VIP: Vip = { address: "198.18.0.10", family: 4, interface: "eth0" };

const CFG = (identity: string, over: Partial<ElectionConfig> = {}): ElectionConfig => ({ identity, ...SIM_CONFIG, ...over });

function quietLogger(lines: string[] = []): Logger {
  return createLogger("json", { node: "test" }, (l) => lines.push(l));
}

/** One runner over fakes, with a shared ordered log of side effects. */
function rig(lease = new FakeLeasePort()) {
  const clock = new ManualClock();
  const vipPort = new FakeVipPort();
  const health = new FakeHealthProbe();
  const metrics = new FakeAgentMetrics();
  const lines: string[] = [];
  const runner = new AgentRunner({ config: CFG("srv1"), vip: VIP, lease, vipPort, health, metrics, logger: quietLogger(lines), clock, watchRetryMs: 500 });
  return { clock, vipPort, health, metrics, lease, runner, lines };
}

describe("AgentRunner with fake ports", () => {
  it("acquires an absent Lease, adds and announces the VIP, renews every retry period", async () => {
    const r = rig();
    void r.runner.run();
    await r.clock.advance(0);
    assert.equal(r.lease.lease?.spec.holderIdentity, "srv1");
    assert.ok(r.vipPort.isHeld(VIP));
    assert.ok(r.vipPort.announcements >= 1);
    assert.equal(r.metrics.leader, true);
    assert.equal(r.metrics.vipHeld, true);
    assert.equal(r.metrics.ready, true);
    const writes = () => r.lease.calls.filter((c) => c !== "get").length;
    const before = writes();
    await r.clock.advance(20_000);
    assert.equal(writes() - before, 10, "one renew per 2 s");
    assert.ok(r.lines.some((l) => /acquired the Lease/.test(l)));
    assert.ok(r.lines.every((l) => JSON.parse(l) as unknown), "JSON log lines");
  });

  it("removes a stale VIP at start when another node holds the Lease", async () => {
    const lease = new FakeLeasePort();
    const t = microTime(Date.now());
    lease.write({ holderIdentity: "srv2", leaseDurationSeconds: 6, acquireTime: t, renewTime: t, leaseTransitions: 1 });
    const r = rig(lease);
    await r.vipPort.add(VIP);
    void r.runner.run();
    await r.clock.advance(0);
    assert.equal(r.vipPort.isHeld(VIP), false);
    assert.equal(r.metrics.leader, false);
  });

  it("takes over at once when the watch shows the holder's release", async () => {
    const lease = new FakeLeasePort();
    const t = microTime(Date.now());
    lease.write({ holderIdentity: "srv2", leaseDurationSeconds: 6, acquireTime: t, renewTime: t, leaseTransitions: 1 });
    const r = rig(lease);
    void r.runner.run();
    await r.clock.advance(500);
    assert.equal(r.vipPort.isHeld(VIP), false);
    lease.write({ holderIdentity: "", leaseDurationSeconds: 1, acquireTime: t, renewTime: t, leaseTransitions: 1 });
    await r.clock.advance(0); // no time passes: the watch event alone triggers the acquire
    assert.equal(lease.lease?.spec.holderIdentity, "srv1");
    assert.equal(lease.lease?.spec.leaseTransitions, 2);
    assert.ok(r.vipPort.isHeld(VIP));
    assert.equal(r.metrics.failovers.length, 1);
  });

  it("SIGTERM: the VIP goes first, then the Lease is released, then run() resolves 0", async () => {
    const r = rig();
    const exited = r.runner.run();
    await r.clock.advance(3000);
    const order: string[] = [];
    const origRemove = r.vipPort.remove.bind(r.vipPort);
    r.vipPort.remove = (v) => {
      order.push("vip.remove");
      return origRemove(v);
    };
    const origUpdate = r.lease.update.bind(r.lease);
    r.lease.update = (spec, rv) => {
      order.push(`lease.update holder=${spec.holderIdentity || '""'} duration=${spec.leaseDurationSeconds}`);
      return origUpdate(spec, rv);
    };
    r.runner.signal("SIGTERM");
    await r.clock.advance(0);
    assert.equal(await exited, 0);
    assert.deepEqual(order, ["vip.remove", 'lease.update holder="" duration=1']);
    assert.equal(r.lease.lease?.spec.holderIdentity, "");
    assert.equal(r.vipPort.isHeld(VIP), false);
  });

  it("SIGTERM with a slow removal: the release waits for it; with a failing one: exit 1, the Lease not released (hardening #11 item 9)", async () => {
    const r = rig();
    const exited = r.runner.run();
    await r.clock.advance(3000);
    const go = r.vipPort.slow("remove");
    r.runner.signal("SIGTERM");
    await r.clock.advance(2000);
    assert.equal(r.lease.lease?.spec.holderIdentity, "srv1", "no release while the removal has not answered");
    assert.equal(r.vipPort.isHeld(VIP), true);
    go();
    await r.clock.advance(0);
    assert.equal(await exited, 0);
    assert.equal(r.lease.lease?.spec.holderIdentity, "");

    const f = rig();
    const exited2 = f.runner.run();
    await f.clock.advance(3000);
    f.vipPort.failing.add("remove");
    f.runner.signal("SIGTERM");
    await f.clock.advance(100);
    assert.equal(await exited2, 1);
    assert.equal(f.lease.lease?.spec.holderIdentity, "srv1", "left to expire: a follower must not add a second copy");
    assert.equal(f.vipPort.isHeld(VIP), true);
  });

  it("watch ends are re-opened", async () => {
    const r = rig();
    void r.runner.run();
    await r.clock.advance(0);
    r.lease.endWatches(new Error("connection reset"));
    await r.clock.advance(600);
    const t = microTime(Date.now());
    r.lease.write({ holderIdentity: "srv3", leaseDurationSeconds: 6, acquireTime: t, renewTime: t, leaseTransitions: 9 });
    await r.clock.advance(0);
    assert.equal(r.vipPort.isHeld(VIP), false, "the re-opened watch delivered the new holder");
  });

  it("local API server down → VIP removed and Lease released; back up → re-acquired", async () => {
    const r = rig();
    void r.runner.run();
    await r.clock.advance(2000);
    r.health.set(false, "connection refused");
    await r.clock.advance(1000);
    assert.equal(r.vipPort.isHeld(VIP), false);
    assert.equal(r.lease.lease?.spec.holderIdentity, "");
    assert.equal(r.metrics.apiHealthy, false);
    await r.clock.advance(10_000);
    assert.equal(r.vipPort.isHeld(VIP), false, "never while down");
    r.health.set(true);
    await r.clock.advance(1000);
    assert.ok(r.vipPort.isHeld(VIP));
  });
});
