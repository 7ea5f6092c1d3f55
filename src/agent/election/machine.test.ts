import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APPLY_MS, fenceSeconds, initialState, KERNEL_LATE_MS, microTime, step, type ElectionState } from "./machine.ts";
import { SIM_CONFIG } from "./testing/sim.ts";
import type { ElectionAction, ElectionConfig, ElectionEvent, LeaseObject, LeaseResult, LeaseSpec, TimerName } from "./types.ts";

const CFG: ElectionConfig = { identity: "srv1", ...SIM_CONFIG };

type Auto = {
  get?: () => LeaseResult;
  write?: (a: Extract<ElectionAction, { type: "createLease" | "updateLease" }>) => LeaseResult;
  probe?: () => { ok: boolean; reason: string };
  vip?: boolean;
  /** Lifetime refreshes succeed at once unless false (then they stay pending until answered). */
  fence?: boolean;
};

/**
 * Drives one machine: feed events at chosen times and look at the actions.
 * `auto` answers requests at once (like a fast API / VIP adapter) where set;
 * requests without an auto answer stay pending until the test answers them.
 */
class Driver {
  state: ElectionState;
  mono = 0;
  wallOffset = 1_800_000_000_000;
  actions: ElectionAction[] = [];
  all: ElectionAction[] = [];
  timers = new Map<TimerName, number>();
  rv = 10;
  auto: Auto = {};

  constructor(config: Partial<ElectionConfig> = {}) {
    this.state = initialState({ ...CFG, ...config });
  }
  send(ev: ElectionEvent): ElectionAction[] {
    const r = step(this.state, ev, { mono: this.mono, wall: this.mono + this.wallOffset });
    this.state = r.state;
    this.actions = r.actions;
    this.all.push(...r.actions);
    for (const a of r.actions) {
      if (a.type === "timer") {
        if (a.at === null) this.timers.delete(a.name);
        else this.timers.set(a.name, a.at);
      }
    }
    const produced = [...r.actions];
    for (const a of r.actions) {
      const reply = this.autoReply(a);
      if (reply) produced.push(...this.send(reply));
    }
    this.actions = produced;
    return produced;
  }
  private autoReply(a: ElectionAction): ElectionEvent | null {
    if (a.type === "getLease" && this.auto.get) return { type: "lease", result: this.auto.get() };
    if ((a.type === "createLease" || a.type === "updateLease") && this.auto.write) return { type: "lease", result: this.auto.write(a) };
    if (a.type === "probe" && this.auto.probe) return { type: "health", ...this.auto.probe() };
    if (a.type === "vip" && this.auto.vip && a.op !== "check") return { type: "vip", op: a.op, ok: true };
    if (a.type === "fence" && this.auto.fence !== false) return { type: "fence", ok: true };
    return null;
  }
  /** Advance time, firing due timers in order (what the runner does). */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let next: [TimerName, number] | null = null;
      for (const [name, at] of this.timers) if (at <= end && (!next || at < next[1])) next = [name, at];
      if (!next) break;
      this.mono = Math.max(this.mono, next[1]);
      this.timers.delete(next[0]);
      this.send({ type: "timer", name: next[0] });
    }
    this.mono = end;
  }
  has<T extends ElectionAction["type"]>(type: T, pred: (a: Extract<ElectionAction, { type: T }>) => boolean = () => true): boolean {
    return this.actions.some((a) => a.type === type && pred(a as Extract<ElectionAction, { type: T }>));
  }
  find<T extends ElectionAction["type"]>(type: T): Extract<ElectionAction, { type: T }> | undefined {
    return this.actions.find((a) => a.type === type) as Extract<ElectionAction, { type: T }> | undefined;
  }
  lease(holder: string, renew = this.mono): LeaseObject {
    return { spec: spec(holder, microTime(renew + this.wallOffset)), resourceVersion: String(++this.rv) };
  }
  ok(sp: LeaseSpec): LeaseResult {
    return { ok: true, lease: { spec: sp, resourceVersion: String(++this.rv) } };
  }
  /** Start with a healthy API server, no VIP on the interface, and the Lease `initial` (null = absent). */
  boot(initial: LeaseObject | null): void {
    this.send({ type: "start" });
    this.send({ type: "vip", op: "check", ok: true, held: false });
    this.send({ type: "health", ok: true, reason: "ok" });
    this.send({ type: "lease", result: initial ? { ok: true, lease: initial } : { ok: false, error: "notFound", message: "not found" } });
  }
  /** Boot and become leader through a create; then the API answers every write with success, probes are ok. */
  bootLeader(): void {
    this.auto = { write: (a) => this.ok(a.spec), probe: () => ({ ok: true, reason: "ok" }), vip: true };
    this.boot(null);
    assert.equal(this.state.phase, "leader");
    assert.deepEqual(this.vipOps(), ["add"]);
  }
  vipOps(): string[] {
    return this.all.filter((a) => a.type === "vip" && a.op !== "announce" && a.op !== "check").map((a) => (a as { op: string }).op);
  }
  writes(): Extract<ElectionAction, { type: "createLease" | "updateLease" }>[] {
    return this.all.filter((a) => a.type === "createLease" || a.type === "updateLease");
  }
  /** Index in `all` of the first action matching. */
  indexOf(pred: (a: ElectionAction) => boolean): number {
    return this.all.findIndex(pred);
  }
}

function spec(holder: string, renew: string): LeaseSpec {
  return { holderIdentity: holder, leaseDurationSeconds: 6, acquireTime: renew, renewTime: renew, leaseTransitions: 3 };
}


const healthy = () => ({ ok: true, reason: "ok" });

describe("election: start", () => {
  it("checks for a stale VIP, reads the Lease and probes the API server at once", () => {
    const d = new Driver();
    d.send({ type: "start" });
    assert.ok(d.has("vip", (a) => a.op === "check"));
    assert.ok(d.has("getLease"));
    assert.ok(d.has("probe"));
    assert.equal(d.writes().length, 0);
  });

  it("removes a VIP left on the interface before the Lease is even read", () => {
    const d = new Driver();
    d.send({ type: "start" });
    d.send({ type: "vip", op: "check", ok: true, held: true });
    assert.ok(d.has("vip", (a) => a.op === "remove"));
    assert.ok(d.has("log", (a) => /stale/.test(a.reason)));
  });

  it("removes a stale VIP even if the Lease names this node, then re-adds it after one successful write", () => {
    const d = new Driver();
    d.auto = { write: (a) => d.ok(a.spec), vip: true };
    d.send({ type: "start" });
    d.send({ type: "vip", op: "check", ok: true, held: true });
    d.send({ type: "health", ok: true, reason: "ok" });
    d.send({ type: "lease", result: { ok: true, lease: d.lease("srv1") } });
    const [u] = d.writes();
    assert.ok(u && u.type === "updateLease" && u.purpose === "acquire" && u.spec.holderIdentity === "srv1", "writes at once: the Lease is ours");
    assert.equal(u.spec.leaseTransitions, 3, "no new transition for the same holder");
    assert.deepEqual(d.vipOps(), ["remove", "add"]);
  });
});

describe("election: acquire", () => {
  it("creates an absent Lease and adds the VIP only after the write succeeded", () => {
    const d = new Driver();
    d.boot(null);
    const c = d.find("createLease");
    assert.ok(c);
    assert.equal(c.spec.holderIdentity, "srv1");
    assert.equal(c.spec.leaseDurationSeconds, 6);
    assert.equal(c.spec.leaseTransitions, 0);
    assert.match(c.spec.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(d.vipOps().length, 0, "no VIP before the write answered");
    d.send({ type: "lease", result: d.ok(c.spec) });
    assert.deepEqual(d.vipOps(), ["add"]);
    assert.ok(d.has("log", (a) => a.msg.startsWith("acquired") && a.reason === "no Lease yet"));
    d.send({ type: "vip", op: "add", ok: true });
    assert.ok(d.has("vip", (a) => a.op === "announce"), "announces right after adding");
  });

  it("never acquires while the local API server is down or not yet probed", () => {
    const d = new Driver();
    d.send({ type: "start" });
    d.send({ type: "vip", op: "check", ok: true, held: false });
    d.send({ type: "lease", result: { ok: false, error: "notFound", message: "" } });
    assert.equal(d.writes().length, 0, "health unknown: no write");
    d.auto = { get: () => ({ ok: false, error: "notFound", message: "" }), probe: () => ({ ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" }) };
    d.send({ type: "health", ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" });
    d.advance(30_000);
    assert.equal(d.writes().length, 0);
    d.auto = {};
    d.send({ type: "health", ok: true, reason: "ok" });
    assert.ok(d.has("createLease"), "acquires at once when healthy again");
  });

  it("a follower acquires when the holder stops renewing, judged from its own observation time", () => {
    const d = new Driver();
    // The holder's renewTime is an hour in the past by our wall clock (skew): irrelevant.
    const stale: LeaseObject = { spec: spec("srv2", microTime(d.wallOffset - 3_600_000)), resourceVersion: "50" };
    d.auto = { get: () => ({ ok: true, lease: stale }), probe: healthy };
    d.boot(stale);
    d.advance(5_999);
    assert.equal(d.writes().length, 0, "not before leaseDuration since the observation");
    d.advance(1);
    const [u] = d.writes();
    assert.ok(u && u.type === "updateLease", "writes right at expiry (a timer, not the next poll)");
    assert.equal(u.resourceVersion, "50");
    assert.equal(u.spec.leaseTransitions, 4);
    d.send({ type: "lease", result: d.ok(u.spec) });
    assert.ok(d.has("log", (a) => /srv2 stopped renewing \(no change for 6.0 s\)/.test(a.reason)));
  });

  it("each change observed restarts the follower's expiry clock; followers never write", () => {
    const d = new Driver();
    d.auto = { get: () => ({ ok: true, lease: d.lease("srv2") }), probe: healthy };
    d.boot(d.lease("srv2"));
    d.advance(120_000);
    assert.equal(d.writes().length, 0);
    const polls = d.all.filter((a) => a.type === "getLease").length;
    assert.ok(polls >= 60 && polls <= 62, `polls once per retry period (${polls})`);
  });

  it("a follower takes over at once when the watch shows a release", () => {
    const d = new Driver();
    d.boot(d.lease("srv2"));
    d.mono = 500;
    const released: LeaseObject = { spec: { ...spec("", microTime(d.wallOffset)), leaseDurationSeconds: 1 }, resourceVersion: "77" };
    d.send({ type: "watch", kind: "MODIFIED", lease: released });
    const u = d.find("updateLease");
    assert.ok(u && u.purpose === "acquire", "acquires on the watch event, no poll needed");
    assert.equal(u.resourceVersion, "77");
  });

  it("409 on acquire re-reads and waits again (never overwrites)", () => {
    const d = new Driver();
    d.auto = { get: () => ({ ok: true, lease: { spec: spec("srv2", "x"), resourceVersion: "50" } }), probe: healthy };
    d.boot({ spec: spec("srv2", "x"), resourceVersion: "50" });
    d.advance(6000);
    assert.equal(d.writes().length, 1);
    d.auto.get = () => ({ ok: true, lease: d.lease("srv3") });
    d.send({ type: "lease", result: { ok: false, error: "conflict", message: "the object has been modified" } });
    assert.equal(d.writes().length, 1, "no second write");
    assert.equal(d.state.phase, "follower");
    assert.equal(d.state.lease?.spec.holderIdentity, "srv3");
    assert.equal(d.state.observedAt, 6000, "the new holder's expiry counts from now");
    assert.deepEqual(d.vipOps(), []);
  });

  it("an AlreadyExists on create re-reads", () => {
    const d = new Driver();
    d.boot(null);
    assert.ok(d.find("createLease"));
    d.send({ type: "lease", result: { ok: false, error: "conflict", message: "already exists" } });
    assert.ok(d.has("getLease"));
  });
});

describe("election: holder", () => {
  it("renews once per retry period (0.5 writes/s with defaults) and refreshes the announcement", () => {
    const d = new Driver();
    d.bootLeader();
    const before = d.writes().length;
    d.advance(60_000);
    assert.equal(d.writes().length - before, 30);
    assert.deepEqual(d.vipOps(), ["add"], "no flap");
    assert.equal(d.all.filter((a) => a.type === "vip" && a.op === "announce").length, 7, "at acquire, 1 s later, then every arpRefresh");
    assert.ok(d.writes().every((w) => w.type === "createLease" || w.purpose === "renew"));
  });

  it("a 409 on renew re-reads; another holder means the VIP goes at once", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "conflict", message: "modified" });
    d.auto.get = () => ({ ok: true, lease: d.lease("srv2") });
    d.advance(2000);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.equal(d.state.phase, "follower");
    assert.ok(d.all.some((a) => a.type === "metric" && a.update.kind === "leader" && !a.update.value));
  });

  it("a watch event naming another holder removes the VIP at once", () => {
    const d = new Driver();
    d.bootLeader();
    d.advance(700);
    d.send({ type: "watch", kind: "MODIFIED", lease: d.lease("srv3") });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.ok(d.has("log", (a) => /srv3/.test(a.reason)));
  });

  it("its own renews coming back on the watch change nothing", () => {
    const d = new Driver();
    d.bootLeader();
    const old = d.state.lease as LeaseObject;
    d.advance(2000);
    d.send({ type: "watch", kind: "MODIFIED", lease: old });
    assert.equal(d.state.lease?.resourceVersion, String(d.rv), "keeps the newer version");
    assert.deepEqual(d.vipOps(), ["add"]);
  });

  it("a renew that timed out but landed is recognised: the 409 re-read shows our renewTime and we renew again", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = { probe: healthy, vip: true };
    d.advance(2000);
    const lost = d.find("updateLease");
    assert.ok(lost);
    d.mono = 3500;
    d.send({ type: "lease", result: { ok: false, error: "timeout", message: "no answer in 1500 ms" } });
    d.advance(500);
    d.send({ type: "lease", result: { ok: false, error: "conflict", message: "modified" } });
    d.send({ type: "lease", result: { ok: true, lease: { spec: lost.spec, resourceVersion: "99" } } });
    assert.equal(d.state.renewedAt, 2000, "T moves to when the landed renew was sent");
    const again = d.find("updateLease");
    assert.ok(again && again.resourceVersion === "99", "renews at once against the new version");
    assert.deepEqual(d.vipOps(), ["add"]);
  });

  it("brown-out: renews time out or get 5xx for 9 s while the API server is healthy → zero flaps", () => {
    const d = new Driver();
    d.bootLeader();
    const T = d.state.renewedAt ?? 0;
    let n = 0;
    d.auto.write = () => ({ ok: false, error: n++ % 2 ? "timeout" : "http5xx", message: "" });
    d.advance(9_000); // renews at 2, 4, 6, 8 s fail; the one at 10 s succeeds
    assert.deepEqual(d.vipOps(), ["add"], "kept through the brown-out");
    d.auto.write = (a) => d.ok(a.spec);
    d.advance(2000);
    assert.equal(d.state.phase, "leader");
    assert.ok((d.state.renewedAt ?? 0) > T);
    assert.deepEqual(d.vipOps(), ["add"]);
  });

  it("brown-out longer than leaseDuration + brownoutHold: the holder drops the VIP at T + 12 s − 250 ms", () => {
    const d = new Driver();
    d.bootLeader();
    const T = d.state.renewedAt ?? 0;
    d.auto.write = () => ({ ok: false, error: "timeout", message: "" });
    d.advance(11_749);
    assert.deepEqual(d.vipOps(), ["add"]);
    d.advance(1);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.equal(d.mono, T + 11_750);
  });

  it("brownoutHold 0: drops at lease expiry − 250 ms", () => {
    const d = new Driver({ brownoutHoldMs: 0 });
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "http5xx", message: "HTTP 504" });
    d.advance(5_749);
    assert.deepEqual(d.vipOps(), ["add"]);
    d.advance(1);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
  });

  it("partition (connection refused): the holder drops at T + renewDeadline, before any follower may acquire", () => {
    const d = new Driver();
    d.bootLeader();
    const T = d.state.renewedAt ?? 0;
    d.auto.write = () => ({ ok: false, error: "refused", message: "connect ECONNREFUSED 127.0.0.1:6443" });
    d.advance(3_999);
    assert.deepEqual(d.vipOps(), ["add"]);
    d.advance(1);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.equal(d.mono, T + 4000);
    assert.ok(d.has("log", (a) => /no successful renew for 4.0 s/.test(a.reason)));
  });

  it("a brown-out turning into a partition shortens the deadline", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "timeout", message: "" });
    d.advance(5000);
    assert.deepEqual(d.vipOps(), ["add"]);
    delete d.auto.write;
    d.advance(1000);
    d.send({ type: "lease", result: { ok: false, error: "refused", message: "ECONNRESET" } });
    assert.deepEqual(d.vipOps(), ["add", "remove"], "already past T + renewDeadline: at once");
  });

  it("local API server refused once → VIP removed at once, then the Lease released", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = {};
    d.advance(500);
    d.send({ type: "health", ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.equal(d.find("updateLease"), undefined, "release waits for the VIP to be gone");
    d.send({ type: "vip", op: "remove", ok: true });
    const u = d.find("updateLease");
    assert.ok(u && u.purpose === "release" && u.spec.holderIdentity === "" && u.spec.leaseDurationSeconds === 1);
    d.send({ type: "lease", result: { ok: true, lease: { spec: u.spec, resourceVersion: "500" } } });
    d.send({ type: "watch", kind: "MODIFIED", lease: { spec: u.spec, resourceVersion: "500" } });
    assert.equal(d.find("updateLease"), undefined, "does not re-acquire its own release while unhealthy");
  });

  it("a sign that the local API server went (its probe connection closed) probes at once, not at the next interval", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = { write: (a) => d.ok(a.spec), vip: true }; // probes now stay pending until answered
    d.advance(200);
    assert.equal(d.has("probe"), false);
    d.send({ type: "healthSuspect", reason: "the connection to the local API server closed" });
    assert.equal(d.has("probe"), true, "probed at once");
    d.send({ type: "healthSuspect", reason: "again" });
    assert.equal(d.has("probe"), false, "one probe in flight at a time");
    d.send({ type: "health", ok: false, reason: "connection refused" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    // A benign close (the server dropped an idle connection): the probe answers ok, nothing moves.
    const e = new Driver();
    e.bootLeader();
    e.auto = { write: (a) => e.ok(a.spec), vip: true };
    e.advance(300);
    e.send({ type: "healthSuspect", reason: "idle close" });
    e.send({ type: "health", ok: true, reason: "ok" });
    assert.deepEqual(e.vipOps(), ["add"]);
    assert.equal(e.state.phase, "leader");
  });

  it("a holder whose API server died tells its peers it no longer carries the VIP the moment the removal is done (they may take over then)", () => {
    const d = new Driver({ heartbeatMs: 200, silenceMs: 600 });
    d.bootLeader();
    d.send({ type: "peers", servers: ["srv1", "srv2", "srv3"] });
    d.advance(300);
    d.auto = {};
    d.send({ type: "health", ok: false, reason: "connection refused" });
    const first = d.find("heartbeat");
    assert.ok(first && !first.hb.leader && !first.hb.apiOk && first.hb.holding, "gave up, but the copy is still there");
    d.mono += 20;
    d.send({ type: "vip", op: "remove", ok: true });
    const next = d.find("heartbeat");
    assert.ok(next && !next.hb.holding && !next.hb.leader, "sent at once, 20 ms later, not at the next 200 ms tick");
  });

  it("sustained probe failures (3 in a row) → down; fewer → still up", () => {
    const d = new Driver();
    d.bootLeader();
    const fail = (reason: string) => d.send({ type: "health", ok: false, reason });
    fail("timeout after 1000 ms");
    fail("HTTP 500");
    assert.deepEqual(d.vipOps(), ["add"]);
    d.send({ type: "health", ok: true, reason: "ok" });
    fail("timeout after 1000 ms");
    fail("timeout after 1000 ms");
    assert.deepEqual(d.vipOps(), ["add"], "the streak restarted");
    fail("timeout after 1000 ms");
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.ok(d.all.some((a) => a.type === "updateLease" && a.purpose === "release"));
  });

  it("SIGTERM: VIP removed first, then the Lease released (holder \"\", 1 s), then exit", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = { vip: false };
    d.advance(2000); // a renew is now in flight
    const renew = d.find("updateLease");
    assert.ok(renew);
    d.send({ type: "vip", op: "announce", ok: true }); // the follow-up burst 1 s after taking over
    d.send({ type: "signal", signal: "SIGTERM" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    d.send({ type: "lease", result: d.ok(renew.spec) }); // the renew answers late
    assert.equal(d.find("updateLease"), undefined, "not while the VIP may still be up");
    d.send({ type: "vip", op: "remove", ok: true });
    const u = d.find("updateLease");
    assert.ok(u && u.purpose === "release");
    assert.equal(u.spec.holderIdentity, "");
    assert.equal(u.spec.leaseDurationSeconds, 1);
    assert.equal(u.resourceVersion, String(d.rv), "against the renew's version");
    assert.ok(!d.has("exit"));
    d.send({ type: "lease", result: { ok: true, lease: { spec: u.spec, resourceVersion: "700" } } });
    assert.ok(d.has("exit", (a) => a.code === 0));
    assert.equal(d.state.phase, "stopped");
    assert.equal(d.send({ type: "timer", name: "lease" }).length, 0, "a stopped machine does nothing");
  });

  it("SIGTERM on a follower: no Lease write, just exit", () => {
    const d = new Driver();
    d.boot(d.lease("srv2"));
    d.send({ type: "signal", signal: "SIGTERM" });
    assert.ok(d.has("exit"));
    assert.equal(d.writes().length, 0);
  });

  it("wall-clock jumps change nothing: timeouts run on the monotonic clock", () => {
    const run = (jump: boolean) => {
      const d = new Driver();
      d.bootLeader();
      let i = 0;
      d.auto.write = () => {
        if (jump) d.wallOffset += (i++ % 2 ? 1 : -1) * 3_600_000 * 5; // ±5 h per renew
        return { ok: false, error: "timeout", message: "" };
      };
      d.advance(30_000);
      return d.all.filter((a) => a.type !== "createLease" && a.type !== "updateLease");
    };
    assert.deepEqual(run(true), run(false));
  });

  it("could not add the VIP → gives the Lease back and does not retry for a lease duration", () => {
    const d = new Driver();
    d.boot(null);
    const c = d.find("createLease");
    assert.ok(c);
    d.send({ type: "lease", result: d.ok(c.spec) });
    d.send({ type: "vip", op: "add", ok: false, error: "Cannot find device eth9" });
    assert.ok(d.has("vip", (a) => a.op === "remove"));
    d.send({ type: "vip", op: "remove", ok: true });
    const u = d.find("updateLease");
    assert.ok(u && u.purpose === "release");
    d.send({ type: "lease", result: d.ok(u.spec) });
    assert.equal(d.find("updateLease"), undefined, "does not take its own release back at once");
  });

  it("the Lease deleted under the holder: re-created at once", () => {
    const d = new Driver();
    d.bootLeader();
    d.mono += 300;
    d.send({ type: "watch", kind: "DELETED", lease: d.state.lease as LeaseObject });
    assert.ok(d.all.filter((a) => a.type === "createLease").length === 2);
    assert.equal(d.state.phase, "leader");
  });
});

describe("election: followers in a brown-out", () => {
  it("a follower whose own requests fail waits leaseDuration + brownoutHold before writing", () => {
    const d = new Driver();
    d.boot(d.lease("srv2"));
    d.auto = { get: () => ({ ok: false, error: "timeout", message: "" }), write: () => ({ ok: false, error: "timeout", message: "" }), probe: healthy };
    d.advance(20_000);
    const first = d.indexOf((a) => a.type === "updateLease");
    assert.ok(first > 0);
    // The write came from the timer at 12 s: find the last timer action before it.
    const atTimes = d.all.slice(0, first).filter((a) => a.type === "timer" && a.name === "lease" && a.at !== null) as { at: number }[];
    assert.equal(atTimes[atTimes.length - 1]?.at, 12_000);
  });

  it("a follower without errors of its own takes over after leaseDuration", () => {
    const d = new Driver();
    const l = d.lease("srv2");
    d.auto = { get: () => ({ ok: true, lease: l }), probe: healthy };
    d.boot(l);
    d.advance(5_999);
    assert.equal(d.writes().length, 0);
    d.advance(1);
    assert.equal(d.writes().length, 1);
  });
});

describe("election: config from the config model", () => {
  it("defaults: 6/4/2 s, brown-out hold of two lease durations, and the holder survives a 12 s cluster-wide brown-out", async () => {
    const { electionConfig } = await import("./config.ts");
    const { defaults } = await import("../../config/index.ts");
    const ec = electionConfig(defaults("0.0.0"), "srv1");
    assert.deepEqual([ec.leaseDurationMs, ec.renewDeadlineMs, ec.retryPeriodMs, ec.brownoutHoldMs], [6000, 4000, 2000, 12000]);
    const d = new Driver(ec);
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "http5xx", message: "HTTP 504" });
    d.advance(12_000);
    d.auto.write = (a) => d.ok(a.spec);
    d.advance(2000);
    assert.deepEqual(d.vipOps(), ["add"], "zero flaps");
  });
});

describe("election: announcements", () => {
  it("neither the removal nor the release waits for a running ARP burst (no announcement can leave once the address is gone)", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = {};
    d.advance(1000); // the follow-up burst starts and stays in flight
    assert.ok(d.has("vip", (a) => a.op === "announce"));
    d.send({ type: "signal", signal: "SIGTERM" });
    assert.ok(d.has("vip", (a) => a.op === "remove"), "removed at once");
    d.send({ type: "vip", op: "remove", ok: true });
    const u = d.find("updateLease");
    assert.ok(u && u.purpose === "release", "released right after the removal");
    d.send({ type: "vip", op: "announce", ok: false, error: "arping: bind: Cannot assign requested address" });
    assert.ok(!d.all.some((a) => a.type === "log" && a.level === "warn" && /announce/.test(a.msg)), "a burst cut short by our own removal is no warning");
  });
});

describe("election: duplicate-address probe while renews fail", () => {
  it("no probe while renews succeed; probes from T + renewDeadline; another host answering → VIP removed at once", () => {
    const d = new Driver();
    d.bootLeader();
    d.advance(30_000);
    assert.ok(!d.all.some((a) => a.type === "probeConflict"), "never while renewing fine");
    const T = d.state.renewedAt ?? 0;
    d.auto.write = () => ({ ok: false, error: "http5xx", message: "HTTP 503" });
    d.advance(3000);
    assert.ok(!d.all.some((a) => a.type === "probeConflict"), "not before T + renewDeadline");
    d.advance(1000);
    assert.ok(d.has("probeConflict"));
    assert.equal(d.mono, T + 4000);
    d.send({ type: "conflict", result: "clear", detail: "no ARP reply" });
    d.advance(1000);
    assert.ok(d.has("probeConflict"), "again a second later");
    assert.deepEqual(d.vipOps(), ["add"], "kept while nobody else answers");
    d.send({ type: "conflict", result: "conflict", detail: "another host answered" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.ok(d.has("log", (a) => /another host answers for the VIP/.test(a.reason)));
    assert.equal(d.state.phase, "follower");
  });

  it("no carrier on the interface while renews fail → VIP removed", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "timeout", message: "" });
    d.advance(4000);
    d.send({ type: "conflict", result: "unusable", detail: "eth0 has no carrier" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
  });

  it("an answer that arrives after renews recovered changes nothing", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.write = () => ({ ok: false, error: "timeout", message: "" });
    d.advance(4000);
    assert.ok(d.has("probeConflict"));
    d.auto.write = (a) => d.ok(a.spec);
    d.advance(2000);
    d.send({ type: "conflict", result: "conflict", detail: "late" });
    assert.deepEqual(d.vipOps(), ["add"]);
  });
});

describe("election: VIP operations that fail (hardening #11 item 9)", () => {
  it("health lost, the removal fails: the Lease is not released while the VIP may still be up; it is retried, then released", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = { probe: () => ({ ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" }) };
    d.advance(500);
    d.send({ type: "health", ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    d.send({ type: "vip", op: "remove", ok: false, error: "RTNETLINK answers: Operation not permitted" });
    assert.equal(d.state.vipHave, true, "a failed removal leaves the VIP counted as present");
    assert.ok(!d.all.some((a) => a.type === "updateLease" && a.purpose === "release"), "no release while the address is on the interface");
    assert.ok(d.has("log", (a) => a.level === "error" && /could not remove the VIP/.test(a.msg)));
    d.advance(CFG.retryPeriodMs);
    assert.deepEqual(d.vipOps(), ["add", "remove", "remove"], "retried after a retry period");
    assert.ok(!d.all.some((a) => a.type === "updateLease" && a.purpose === "release"));
    // Meanwhile it keeps the Lease renewed (the VIP may still be up): here its own API server refuses.
    const guard = d.writes().filter((a) => a.purpose === "renew").at(-1);
    assert.ok(guard && guard.spec.holderIdentity === "srv1", "a guarding renew, not a lapse");
    d.send({ type: "lease", result: { ok: false, error: "refused", message: "connect ECONNREFUSED" } });
    d.send({ type: "vip", op: "remove", ok: true });
    assert.ok(d.all.some((a) => a.type === "updateLease" && a.purpose === "release"), "released once the VIP is gone");
  });

  it("another holder seen, the removal fails: the node keeps trying, never claims the VIP gone", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = { probe: healthy };
    d.send({ type: "watch", kind: "MODIFIED", lease: d.lease("srv2") });
    d.send({ type: "vip", op: "remove", ok: false, error: "EIO" });
    assert.equal(d.state.vipHave, true);
    for (let i = 0; i < 3; i++) {
      d.advance(CFG.retryPeriodMs);
      d.send({ type: "vip", op: "remove", ok: false, error: "EIO" });
    }
    assert.equal(d.vipOps().filter((o) => o === "remove").length, 4);
    assert.equal(d.state.vipHave, true);
  });

  it("SIGTERM, the removal fails: exit 1 without releasing (a follower must not add a second copy)", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto = {};
    d.send({ type: "signal", signal: "SIGTERM" });
    d.send({ type: "vip", op: "remove", ok: false, error: "EIO" });
    assert.ok(d.has("exit", (a) => a.code === 1));
    assert.ok(!d.all.some((a) => a.type === "updateLease" && a.purpose === "release"));
  });

  it("a check that fails at start is taken as 'present': removed before anything else, never assumed absent", () => {
    const d = new Driver();
    d.send({ type: "start" });
    d.send({ type: "vip", op: "check", ok: false, error: "ip: command not found" });
    assert.equal(d.state.vipHave, true);
    assert.ok(d.has("vip", (a) => a.op === "remove"));
  });

  it("an add that hangs: the Lease is still renewed, and a removal waits for the add to answer", () => {
    const d = new Driver();
    d.auto = { write: (a) => d.ok(a.spec), probe: healthy };
    d.boot(null);
    assert.deepEqual(d.vipOps(), ["add"]);
    d.advance(10_000);
    assert.ok(d.writes().length >= 5, "renews go on while the add hangs");
    d.send({ type: "watch", kind: "MODIFIED", lease: d.lease("srv2") });
    assert.deepEqual(d.vipOps(), ["add"], "one VIP operation at a time");
    d.send({ type: "vip", op: "add", ok: true });
    assert.deepEqual(d.vipOps(), ["add", "remove"], "the late add is undone at once");
  });
});

describe("election: the kernel-enforced fence (rules 8, 9)", () => {
  const fences = (d: Driver) => d.all.filter((a) => a.type === "fence").map((a) => (a as { lifetimeS: number }).lifetimeS);

  it("fenceSeconds: whole seconds that end before the deadline, capped, never below 0", () => {
    const c = { ...CFG, fenceLifetimeS: 1 };
    assert.equal(fenceSeconds(c, null, 0), 0, "no deadline: not the holder");
    assert.equal(fenceSeconds(c, 10_000, 0), 1, "capped at fenceLifetimeS");
    assert.equal(fenceSeconds({ ...c, fenceLifetimeS: 5 }, 10_000, 0), 5);
    assert.equal(fenceSeconds({ ...c, fenceLifetimeS: 30 }, 10_000, 0), 9, "⌊(10000 − 300 − 100) / 1000⌋");
    assert.equal(fenceSeconds(c, 1000 + KERNEL_LATE_MS + APPLY_MS, 0), 1, "exactly one second of right left");
    assert.equal(fenceSeconds(c, 1000 + KERNEL_LATE_MS + APPLY_MS - 1, 0), 0, "a millisecond less: none");
    assert.equal(fenceSeconds(c, 100, 500), 0, "past the deadline");
  });

  it("the VIP is added with a 1 s lifetime and refreshed every 200 ms while the Lease is renewed: 5 refreshes a second, no extra Lease write", () => {
    const d = new Driver();
    d.bootLeader();
    const add = d.all.find((a) => a.type === "vip" && a.op === "add");
    assert.deepEqual(add, { type: "vip", op: "add", lifetimeS: 1 });
    const writes = d.writes().length;
    d.advance(10_000);
    assert.equal(fences(d).length, 50);
    assert.ok(fences(d).every((n) => n === 1));
    assert.equal(d.writes().length - writes, 5, "the Lease is still renewed once per retryPeriod");
    assert.ok(d.state.fenceUntil <= d.mono + 1000 + KERNEL_LATE_MS && d.state.fenceUntil > d.mono + 700);
  });

  it("renews failing hard: the last refresh ends before T + renewDeadline, when the process drops it too", () => {
    const d = new Driver();
    d.bootLeader();
    const T = d.state.renewedAt ?? 0;
    d.auto.write = () => ({ ok: false, error: "refused", message: "connect ECONNREFUSED 127.0.0.1:6443" });
    d.advance(4000);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    const sent = d.all.filter((a) => a.type === "fence").length;
    assert.ok(sent > 0);
    // Every lifetime set ends (with the kernel's lateness) before the deadline T + 4000.
    assert.ok(d.state.fenceUntil <= T + 4000 - APPLY_MS + 1, `fence until ${d.state.fenceUntil - T} ms after T`);
  });

  it("a brown-out keeps the lifetime refreshed up to T + leaseDuration + brownoutHold − 250 ms, and no further", () => {
    const d = new Driver();
    d.bootLeader();
    const T = d.state.renewedAt ?? 0;
    d.auto.write = () => ({ ok: false, error: "timeout", message: "no answer" });
    d.advance(11_500);
    assert.deepEqual(d.vipOps(), ["add"], "kept through the brown-out");
    assert.ok(d.state.fenceUntil > T + 10_000, "still refreshed");
    d.advance(500);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.ok(d.state.fenceUntil <= T + 12_000 - 250, `fence until ${d.state.fenceUntil - T} ms after T`);
  });

  it("a removal waits for the refresh in flight (an `ip addr change` landing after it would re-create the VIP)", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.fence = false;
    d.advance(200);
    assert.equal(d.state.fencing, true);
    d.send({ type: "health", ok: false, reason: "connect ECONNREFUSED 127.0.0.1:6443" });
    assert.equal(d.state.phase, "follower");
    assert.deepEqual(d.vipOps(), ["add"], "not while the refresh may still land");
    d.send({ type: "fence", ok: true });
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
  });

  it("a failed refresh is logged once and costs nothing else: the copy runs out by itself", () => {
    const d = new Driver();
    d.bootLeader();
    d.auto.fence = false;
    for (let i = 0; i < 3; i++) {
      d.advance(200);
      d.send({ type: "fence", ok: false, error: "RTNETLINK answers: Operation not permitted" });
    }
    assert.equal(d.all.filter((a) => a.type === "log" && /could not refresh/.test(a.msg)).length, 1);
    assert.equal(d.state.phase, "leader");
    d.advance(200);
    d.send({ type: "fence", ok: true });
    assert.ok(d.has("log", (a) => /refreshed again/.test(a.msg) && /after 3 failed/.test(a.reason)));
  });

  it("fence off (fenceLifetimeS 0): added for ever, never refreshed", () => {
    const d = new Driver({ fenceLifetimeS: 0 });
    d.bootLeader();
    assert.deepEqual(d.all.find((a) => a.type === "vip" && a.op === "add"), { type: "vip", op: "add", lifetimeS: 0 });
    d.advance(10_000);
    assert.equal(fences(d).length, 0);
  });

  it("a holder stopped past its Lease (SIGSTOP) wakes, refreshes nothing, and removes its VIP at once", () => {
    const d = new Driver();
    d.bootLeader();
    d.advance(300);
    const before = fences(d).length;
    // Frozen for 10 s: nothing runs; then the first overdue timer fires. Another node took the Lease meanwhile.
    d.auto.write = () => ({ ok: false, error: "conflict", message: "the object has been modified" });
    d.auto.get = () => ({ ok: true, lease: d.lease("srv2") });
    d.mono += 10_000;
    d.advance(0);
    assert.equal(fences(d).length, before, "no refresh after the stall");
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.ok(d.has("log", (a) => /stalled/.test(a.msg)));
    d.advance(5000);
    assert.deepEqual(d.vipOps(), ["add", "remove"]);
    assert.equal(d.state.phase, "follower");
  });

  it("a short stall (0.6 s) inside the Lease: one renew at once, refreshes resume once it lands, the VIP stays", () => {
    const d = new Driver();
    d.bootLeader();
    delete d.auto.write;
    d.advance(300);
    const writes = d.writes().length;
    d.mono += 600;
    d.advance(0);
    assert.ok(d.has("log", (a) => /stalled/.test(a.msg)));
    assert.equal(d.writes().length, writes + 1, "renews at once");
    assert.equal(d.state.stalledAt !== null, true);
    const before = fences(d).length;
    d.advance(400);
    assert.equal(fences(d).length, before, "no refresh until the renew lands");
    const u = d.writes().at(-1);
    assert.ok(u);
    d.send({ type: "lease", result: d.ok(u.spec) });
    assert.equal(d.state.stalledAt, null);
    d.advance(200);
    assert.ok(fences(d).length > before);
    assert.deepEqual(d.vipOps(), ["add"]);
  });

});
