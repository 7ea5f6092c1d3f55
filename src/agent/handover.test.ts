import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LeaseObject } from "./election/index.ts";
import { awaitHandover, type HandoverResult } from "./handover.ts";
import { LeaseError } from "./lease.ts";
import { ManualClock } from "./testing/clock.ts";
import type { Logger } from "./runner.ts";
import { toVip } from "./vip/index.ts";

/** A Lease someone else writes: `renew()` bumps its resourceVersion as a holder's renew does. */
class Held {
  lease: LeaseObject | null;
  error: LeaseError | null = null;
  private rv = 1;
  constructor(holder: string | null, private readonly clock: ManualClock, duration = 15) {
    this.lease = holder === null ? null : { spec: { holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: null, renewTime: this.stamp(), leaseTransitions: 0 }, resourceVersion: "1" };
  }
  private stamp(): string {
    return new Date(this.clock.now().wall).toISOString();
  }
  renew(): void {
    if (this.lease) this.lease = { spec: { ...this.lease.spec, renewTime: this.stamp() }, resourceVersion: String(++this.rv) };
  }
  /** client-go's release: holder "", 1 s. */
  release(): void {
    if (this.lease) this.lease = { spec: { ...this.lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: this.stamp() }, resourceVersion: String(++this.rv) };
  }
  get = (): Promise<LeaseObject> =>
    Promise.resolve().then(() => {
      if (this.error) throw this.error;
      if (!this.lease) throw new LeaseError("notFound", "not found", 404);
      return structuredClone(this.lease);
    });
}

function setup(o: { peer?: string | null; own?: string | null; ownStale?: boolean } = {}) {
  const clock = new ManualClock();
  const peer = new Held(o.peer === undefined ? "server-1" : o.peer, clock);
  const own = new Held(o.own ?? null, clock, 6);
  if (o.ownStale && own.lease) own.lease.spec.renewTime = new Date(clock.now().wall - 60_000).toISOString();
  const probes: string[] = [];
  const world = { answers: false, localCopy: undefined as string | undefined, probes };
  const logs: string[] = [];
  const logger: Logger = { log: (level, msg, f) => logs.push(`${level} ${msg}${f?.reason ? ` (${String(f.reason)})` : ""}`) };
  const ctl = new AbortController();
  let result: HandoverResult | undefined;
  const done = awaitHandover(
    {
      lease: "kube-system/plndr-cp-lock",
      peer: peer.get,
      own: own.get,
      localCopy: () => Promise.resolve(world.localCopy),
      conflict: {
        check: () => {
          probes.push(world.answers ? "conflict" : "clear");
          // A real probe waits ~1 s for an answer.
          return new Promise((r) => clock.setTimer(1000, () => r(world.answers ? { result: "conflict", detail: "aa:bb answered" } : { result: "clear", detail: "no ARP reply" })));
        },
      },
      vip: toVip("192.168.0.40", "eth0"),
      clock,
      logger,
    },
    ctl.signal,
  ).then((r) => (result = r));
  return { clock, peer, own, world, logs, ctl, done, result: () => result };
}

describe("handover from kube-vip (hardening #11 item 7)", () => {
  it("no kube-vip Lease: opens at once, without a probe", async () => {
    const t = setup({ peer: null });
    await t.clock.advance(0);
    assert.deepEqual(t.result(), { open: true, reason: "no kube-vip Lease kube-system/plndr-cp-lock" });
    assert.deepEqual(t.world.probes, []);
    assert.deepEqual(t.logs, ["info no kube-vip to hand over from (no kube-vip Lease kube-system/plndr-cp-lock)"]);
  });

  it("waits while kube-vip renews; after its release, until the VIP answers nowhere twice in a row", async () => {
    const t = setup();
    for (let i = 0; i < 30; i++) {
      await t.clock.advance(1000);
      t.peer.renew();
    }
    assert.equal(t.result(), undefined, "30 s of renews: still waiting");
    assert.deepEqual(t.world.probes, [], "no probe while the Lease is held");
    // kube-vip's SIGTERM: release first, the VIP goes a moment later.
    t.world.answers = true;
    t.peer.release();
    await t.clock.advance(1500);
    assert.equal(t.result(), undefined, "released, but the VIP still answers");
    t.world.answers = false;
    await t.clock.advance(5000);
    assert.deepEqual(t.result(), { open: true, reason: "kube-vip released its Lease and the VIP answers nowhere" });
    assert.deepEqual(t.world.probes.slice(-2), ["clear", "clear"]);
    // (deepEqual above narrowed the array's type to never[])
    assert.ok((t.world.probes as string[]).includes("conflict"));
    assert.deepEqual(t.logs, [
      "info waiting for kube-vip to hand over the VIP: kube-vip's Lease is held by server-1",
      "info waiting for kube-vip to hand over the VIP: kube-vip released its Lease, but the VIP still answers elsewhere (aa:bb answered)",
      "info kube-vip handed over the VIP (kube-vip released its Lease and the VIP answers nowhere)",
    ]);
  });

  it("a holder that stopped renewing: expired only after leaseDurationSeconds unchanged while watched (clocks do not matter)", async () => {
    const t = setup();
    await t.clock.advance(14_000);
    assert.equal(t.result(), undefined);
    assert.deepEqual(t.world.probes, []);
    await t.clock.advance(5000);
    assert.equal(t.result()?.open, true);
    assert.match(t.result()?.reason ?? "", /^kube-vip's Lease expired \(server-1 stopped renewing it\) and the VIP answers nowhere$/);
  });

  it("a copy of the VIP on this node that k3vip did not add holds the wait, whatever the probe says", async () => {
    const t = setup();
    t.peer.release();
    t.world.localCopy = "192.168.0.40/32 on eth0 was not added by k3vip";
    await t.clock.advance(10_000);
    assert.equal(t.result(), undefined);
    assert.deepEqual(t.world.probes, []);
    t.world.localCopy = undefined;
    await t.clock.advance(3000);
    assert.equal(t.result()?.open, true);
  });

  it("k3vip's own Lease live (fresh, or renewed while watched) opens at once; a stale one does not", async () => {
    const fresh = setup({ own: "server-2" });
    await fresh.clock.advance(0);
    assert.deepEqual(fresh.result(), { open: true, reason: "k3vip's Lease is held by server-2" });
    const stale = setup({ own: "server-2", ownStale: true });
    await stale.clock.advance(3000);
    assert.equal(stale.result(), undefined, "a holder left from long ago (uninstalled k3vip) proves nothing");
    stale.own.renew();
    await stale.clock.advance(1000);
    assert.deepEqual(stale.result(), { open: true, reason: "k3vip's Lease is held by server-2" });
  });

  it("kube-vip's Lease unreadable (403): one warning, then the VIP alone decides; API errors just wait", async () => {
    const t = setup();
    t.peer.error = new LeaseError("other", "HTTP 403: forbidden", 403);
    await t.clock.advance(5000);
    assert.equal(t.result()?.open, true);
    assert.equal(t.logs.filter((l) => l.startsWith("warn")).length, 1);
    const down = setup();
    down.peer.error = new LeaseError("refused", "connect ECONNREFUSED 127.0.0.1:6443");
    await down.clock.advance(10_000);
    assert.equal(down.result(), undefined);
    assert.deepEqual(down.world.probes, []);
  });

  it("SIGTERM while waiting: returns at once, not open", async () => {
    const t = setup();
    await t.clock.advance(1000);
    t.ctl.abort();
    await t.clock.advance(0);
    assert.deepEqual(t.result(), { open: false, reason: "stopped" });
  });
});
