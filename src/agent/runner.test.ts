// The runner with fake ports and a manual clock (no sleeping), then three
// runners in one process against the fake API through the real client-node
// Lease adapter.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { FakeLeasePort, KubeLeasePort } from "../kube/index.ts";
import { startFakeApi, type FakeApi } from "../lab/fakeapi/index.ts";
import { microTime, type ElectionConfig } from "./election/index.ts";
import { SIM_CONFIG } from "./election/sim.ts";
import { FakeHealthProbe } from "./health/index.ts";
import { FakeAgentMetrics } from "./metrics/index.ts";
import { AgentRunner, createLogger, type Clock, type Logger } from "./runner.ts";
import { FakeVipPort, type Vip } from "./vip/index.ts";

const VIP: Vip = { address: "198.18.0.10", family: 4, interface: "eth0" };

class ManualClock implements Clock {
  mono = 1000;
  wall = Date.UTC(2026, 10, 29, 20, 0, 0);
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;
  now() {
    return { mono: this.mono, wall: this.wall + this.mono };
  }
  setTimer(ms: number, fn: () => void): unknown {
    const id = ++this.id;
    this.timers.set(id, { at: this.mono + Math.max(0, ms), fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward, firing timers in order and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.mono = Math.max(this.mono, next[1].at);
      next[1].fn();
      await settle();
    }
    this.mono = end;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

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

describe("three runners against the fake API (real client-node adapter, real time, short timings)", () => {
  let api: FakeApi;
  before(async () => {
    api = await startFakeApi({ port: 0 });
  });
  after(async () => {
    await api.close();
  });

  function node(name: string) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: api.url ?? "", skipTLSVerify: true }],
      users: [{ name, token: name }],
      contexts: [{ name: "c", cluster: "fake", user: name }],
      currentContext: "c",
    });
    const vipPort = new FakeVipPort();
    const health = new FakeHealthProbe();
    const lease = new KubeLeasePort(kc, { namespace: "kube-system", name: "k3vip-cp", timeoutMs: 300 });
    const runner = new AgentRunner({
      config: CFG(name, { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 200, brownoutHoldMs: 1000, healthIntervalMs: 100 }),
      vip: VIP,
      lease,
      vipPort,
      health,
      metrics: new FakeAgentMetrics(),
      logger: quietLogger(),
      watchRetryMs: 100,
    });
    const exited = runner.run();
    return { name, runner, vipPort, health, exited };
  }

  it("one holder; SIGTERM hands over; a partitioned holder loses the VIP to another; never two", async () => {
    const nodes = ["srv1", "srv2", "srv3"].map(node);
    const holders = () => nodes.filter((n) => n.vipPort.isHeld(VIP)).map((n) => n.name);
    let maxAtOnce = 0;
    const sampler = setInterval(() => (maxAtOnce = Math.max(maxAtOnce, holders().length)), 2);
    try {
      await until(() => holders().length === 1, 5000);
      const first = holders()[0] as string;
      const firstNode = nodes.find((n) => n.name === first);
      assert.ok(firstNode);
      firstNode.runner.signal("SIGTERM");
      assert.equal(await firstNode.exited, 0);
      await until(() => holders().length === 1 && holders()[0] !== first, 3000);
      const second = holders()[0] as string;
      // Partition the new holder from the API: connections reset before being served.
      api.setFault(second, { refuse: true });
      await until(() => holders().length === 1 && holders()[0] !== second, 5000);
      api.setFault(second, null);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(holders().length, 1);
      assert.equal(maxAtOnce, 1, "never two VIP holders at once");
    } finally {
      clearInterval(sampler);
      for (const n of nodes) n.runner.signal("SIGTERM");
      await Promise.all(nodes.map((n) => n.exited));
    }
  });
});

async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
