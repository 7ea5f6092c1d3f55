/**
 * A pure discrete-event simulation of several nodes running the election
 * core against one shared, simulated Lease API: seeded randomness, simulated
 * time, fault injection (partitions, brown-outs, crashes, health loss,
 * SIGTERM, clock jumps). Used by the property tests to check that two nodes
 * never carry the VIP at the same simulated time. No I/O, no real time.
 */
import { initialState, step, type ElectionState } from "../machine.ts";
import type { ElectionAction, ElectionConfig, ElectionEvent, LeaseObject, LeaseResult, LeaseSpec, TimerName } from "../types.ts";

/** mulberry32: small, fast, good enough for fault schedules. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
}

/** How a node's requests fare: ok, refused at once (partition), hang until the client timeout, 5xx, or reset after reaching the server. */
/** writeHang: writes hang, reads are served (a datastore whose writes stall behind a lock, reads from a replica or cache). */
export type NetMode = "ok" | "refused" | "hang" | "5xx" | "reset" | "writeHang";

export interface SimNode {
  id: string;
  alive: boolean;
  /** Process incarnation: answers addressed to a dead process are dropped. */
  gen: number;
  state: ElectionState;
  timers: Map<TimerName, number>;
  net: NetMode;
  healthy: boolean;
  /** The local API server's probe hangs until its timeout (a streak of timeouts, not a refusal). */
  healthTimeout: boolean;
  /** Wall clock offset (clock skew / jumps); never used for timeouts. */
  wallOffset: number;
  /** The VIP is (or may be) on this node's interface: from the moment add is issued until remove completes. */
  vip: boolean;
  watchStale: boolean;
  /** When the kernel deletes the VIP (its lifetime runs out); Infinity: valid forever. */
  vipExpiry: number;
  /** The process incarnation whose add (or refresh) put the current copy there. */
  vipGen: number;
  /** The process is stopped (SIGSTOP, a frozen cgroup) until then: its events wait; the kernel does not. */
  pausedUntil: number;
  exitCode: number | null;
  writes: number;
  logs: string[];
}

export interface Overlap {
  start: number;
  end: number;
  nodes: string[];
}

export interface SimOptions {
  seed: number;
  nodes: string[];
  config?: Partial<ElectionConfig>;
  /** One-way network latency range (ms). */
  latency?: [number, number];
  /** The adapter's per-request timeout (ms). */
  requestTimeoutMs?: number;
  /** Probability that a hung or reset write is applied by the server anyway. */
  lateApply?: number;
  /** Nodes can tell whether another host answers for the VIP (ARP DAD). Default true. */
  conflictProbe?: boolean;
  /** How long an `ip` add/remove/announce takes (ms): slow under load, default 1–5. */
  vipLatency?: [number, number];
  /** Probability that an add or remove fails (the address stays as it was). */
  vipFailRate?: number;
  /** Event-loop stalls: every timer fires up to this late (ms). */
  timerJitterMs?: number;
  /** How long a health probe waits before it times out (ms). */
  probeTimeoutMs?: number;
}

/** How long a woken (SIGCONT) holder may take to remove a copy it finds past its deadline: one `ip addr del`. */
export const WAKE_MS = 20;

export interface SimSamples {
  zeroMs: number;
  dupMs: number;
  dupReachableMs: number;
  reachableWindows: [number, number, string][];
}

interface Queued {
  at: number;
  seq: number;
  fn: () => void;
}

export const SIM_CONFIG: Omit<ElectionConfig, "identity"> = {
  leaseDurationMs: 6000,
  renewDeadlineMs: 4000,
  retryPeriodMs: 2000,
  brownoutHoldMs: 6000,
  healthIntervalMs: 1000,
  healthFailures: 3,
  announceRefreshMs: 10000,
  fenceLifetimeS: 1,
  fenceRefreshMs: 200,
  heartbeatMs: 0,
  silenceMs: 600,
  takeover: "early",
  steadyRenewMs: 5000,
};

export class Simulation {
  now = 0;
  readonly rng: Rng;
  readonly nodes = new Map<string, SimNode>();
  readonly overlaps: Overlap[] = [];
  /** Every moment the set of VIP carriers changed: [time, carriers]. */
  readonly history: [number, string[]][] = [];
  global: NetMode = "ok";
  latency: [number, number];
  readonly timeoutMs: number;
  readonly lateApply: number;
  vipLatency: [number, number];
  vipFailRate: number;
  /** Which VIP operations vipFailRate applies to. */
  vipFailOps: ("add" | "remove")[] = ["add", "remove"];
  timerJitterMs: number;
  /** Failed VIP operations, for the report. */
  vipFailures = 0;
  /** Lifetime refreshes reach the kernel within 1..this many ms (≤ APPLY_MS in the real adapter). */
  fenceLatencyMax = 20;
  /** Probability that a lifetime refresh fails (the copy then runs out). */
  fenceFailRate = 0;
  /** Copies the kernel deleted because their lifetime ran out. */
  expiries = 0;
  /** Heartbeats: loss probability, one-way latency, nodes cut off from all peers (both ways). */
  hbLoss = 0;
  hbLatency: [number, number] = [1, 5];
  readonly hbCut = new Set<string>();
  /** One way only: nodes whose heartbeats reach no peer (mute), nodes that hear no peer (deaf). */
  readonly hbMute = new Set<string>();
  readonly hbDeaf = new Set<string>();
  heartbeats = 0;
  private readonly hbLast = new Map<string, { boot: bigint; seq: bigint }>();
  /** Every lifetime set: when, and when it runs out. */
  readonly fenceSets: { node: string; at: number; expiry: number }[] = [];
  private queue: Queued[] = [];
  private seq = 0;
  private lease: { spec: LeaseSpec; rv: number } | null = null;
  private rv = 100;
  private openOverlap: Overlap | null = null;

  constructor(readonly opts: SimOptions) {
    this.rng = new Rng(opts.seed);
    this.latency = opts.latency ?? [1, 20];
    this.timeoutMs = opts.requestTimeoutMs ?? 2000;
    this.lateApply = opts.lateApply ?? 0;
    this.vipLatency = opts.vipLatency ?? [1, 5];
    this.vipFailRate = opts.vipFailRate ?? 0;
    this.timerJitterMs = opts.timerJitterMs ?? 0;
    for (const id of opts.nodes) {
      this.nodes.set(id, {
        id,
        alive: false,
        gen: 0,
        state: initialState(this.cfg(id)),
        timers: new Map(),
        net: "ok",
        healthy: true,
        healthTimeout: false,
        wallOffset: 0,
        vip: false,
        watchStale: false,
        vipExpiry: Infinity,
        vipGen: -1,
        pausedUntil: -Infinity,
        exitCode: null,
        writes: 0,
        logs: [],
      });
    }
  }

  cfg(id: string): ElectionConfig {
    return { ...SIM_CONFIG, ...this.opts.config, identity: id };
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  at(time: number, fn: () => void): void {
    const q: Queued = { at: Math.max(time, this.now), seq: this.seq++, fn };
    // Binary insertion keeps the queue ordered by (at, seq).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.queue[mid] as Queued;
      if (m.at < q.at || (m.at === q.at && m.seq < q.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, q);
  }

  runUntil(time: number): void {
    let same = 0;
    while (this.queue.length > 0 && (this.queue[0] as Queued).at <= time) {
      const q = this.queue.shift() as Queued;
      // A machine that re-arms a timer at a past instant spins without time passing (a busy loop in the agent).
      same = q.at === this.now ? same + 1 : 0;
      if (same > 100_000) throw new Error(`simulation: more than 100000 events at ${this.now} ms without time passing (a timer re-armed in the past?)`);
      this.now = q.at;
      q.fn();
    }
    this.now = time;
  }

  /** Start (or restart) a node's agent process. */
  start(id: string): void {
    const n = this.node(id);
    if (n.alive) return;
    n.alive = true;
    n.gen++;
    n.exitCode = null;
    n.timers.clear();
    n.state = initialState(this.cfg(id));
    n.watchStale = false;
    this.deliver(n, { type: "start", boot: BigInt(n.gen) });
    this.deliver(n, { type: "peers", servers: [...this.nodes.keys()] });
  }

  /** Power off: the process dies and the VIP goes with the machine. */
  powerOff(id: string): void {
    const n = this.node(id);
    n.alive = false;
    this.setVip(n, false);
  }

  /** kill -9 of the agent: the VIP stays on the interface until its lifetime runs out or a new process removes it. */
  crashProcess(id: string): void {
    this.node(id).alive = false;
  }

  /**
   * The local API server process dies: probes are refused from now on, and
   * the probe's kept-alive connection closes (the real adapter's `watch`),
   * which asks for a probe at once. `healthy = false` alone is a server that
   * refuses from the next scheduled probe on.
   */
  apiServerDies(id: string): void {
    const n = this.node(id);
    n.healthy = false;
    if (n.alive) this.later(n, Math.round(this.rng.between(1, 5)), { type: "healthSuspect", reason: "the connection to the local API server closed" });
  }

  /** SIGSTOP now, SIGCONT at `until`: events meanwhile are handled after, in order; the kernel's lifetimes run on. */
  pause(id: string, until: number): void {
    const n = this.node(id);
    n.pausedUntil = Math.max(n.pausedUntil, until);
  }

  signal(id: string): void {
    const n = this.node(id);
    if (n.alive) this.deliver(n, { type: "signal", signal: "SIGTERM" });
  }

  setNet(id: string, mode: NetMode): void {
    this.node(id).net = mode;
    this.reconnectWatches();
  }

  setGlobal(mode: NetMode): void {
    this.global = mode;
    this.reconnectWatches();
  }

  /** The API server deletes the Lease (an admin, a namespace cleanup): watchers see DELETED. */
  deleteLease(): void {
    const snap = this.snapshot();
    if (!snap) return;
    this.lease = null;
    for (const n of this.nodes.values()) {
      if (!n.alive || n.watchStale || this.mode(n) !== "ok") continue;
      const gen = n.gen;
      this.at(this.now + this.lat(), () => {
        if (n.alive && n.gen === gen && !n.watchStale) this.deliver(n, { type: "watch", kind: "DELETED", lease: snap });
      });
    }
  }

  /** A node's watch silently stops delivering (a half-open connection) until `until`, then re-opens. */
  loseWatch(id: string, until: number): void {
    const n = this.node(id);
    n.watchStale = true;
    this.at(until, () => this.reconnectWatches());
  }

  carriers(): string[] {
    return [...this.nodes.values()].filter((n) => n.vip).map((n) => n.id);
  }

  leaseHolder(): string | null {
    return this.lease ? this.lease.spec.holderIdentity : null;
  }

  /**
   * Samples every `everyMs` what the chaos report counts: time with no
   * carrier, with two or more, and with two or more that could each reach
   * the API (process running, API path ok, local API server up).
   */
  sample(everyMs: number, until: number): SimSamples {
    const out: SimSamples = { zeroMs: 0, dupMs: 0, dupReachableMs: 0, reachableWindows: [] };
    let open: number | null = null;
    const tick = () => {
      const carriers = [...this.nodes.values()].filter((n) => n.vip);
      if (carriers.length === 0) out.zeroMs += everyMs;
      if (carriers.length >= 2) out.dupMs += everyMs;
      // A copy counts as reachable when the running process that put it there reaches the API:
      // not a dead predecessor's copy that a restarted agent is about to remove, nor a stopped
      // one's in the few ms a woken holder takes to remove it (WAKE_MS).
      const live = carriers.filter((n) => n.alive && n.vipGen === n.gen && this.now >= n.pausedUntil + WAKE_MS && this.mode(n) === "ok" && n.healthy);
      if (live.length >= 2) {
        out.dupReachableMs += everyMs;
        open ??= this.now;
      } else if (open !== null) {
        out.reachableWindows.push([open, this.now, live.map((n) => n.id).join(",")]);
        open = null;
      }
      if (this.now + everyMs <= until) this.at(this.now + everyMs, tick);
    };
    this.at(this.now, tick);
    return out;
  }

  /** Close any open overlap (call at the end of a run). */
  finish(): void {
    if (this.openOverlap) {
      this.openOverlap.end = this.now;
      this.overlaps.push(this.openOverlap);
      this.openOverlap = null;
    }
  }

  private mode(n: SimNode): NetMode {
    return this.global !== "ok" ? this.global : n.net;
  }

  private reconnectWatches(): void {
    // A watch that broke reconnects once the path works, starting with the current object.
    for (const n of this.nodes.values()) {
      if (this.mode(n) !== "ok") n.watchStale = true;
      if (n.alive && n.watchStale && this.mode(n) === "ok") {
        n.watchStale = false;
        const gen = n.gen;
        const snap = this.snapshot();
        this.at(this.now + this.lat() * 2, () => {
          if (n.alive && n.gen === gen && snap) this.deliver(n, { type: "watch", kind: "ADDED", lease: snap });
        });
      }
    }
  }

  private lat(): number {
    return Math.round(this.rng.between(this.latency[0], this.latency[1]));
  }

  private snapshot(): LeaseObject | null {
    return this.lease ? { spec: { ...this.lease.spec }, resourceVersion: String(this.lease.rv) } : null;
  }

  /** The kernel: the copy is deleted between N s − 20 ms and N s + 250 ms after the lifetime was set (measured 18–243 ms late). */
  private setLifetime(n: SimNode, seconds: number): void {
    if (seconds <= 0) {
      n.vipExpiry = Infinity;
      return;
    }
    const at = this.now + seconds * 1000 + Math.round(this.rng.between(-20, 250));
    n.vipExpiry = at;
    this.fenceSets.push({ node: n.id, at: this.now, expiry: at });
    this.at(at, () => {
      if (n.vipExpiry === at) {
        n.vipExpiry = Infinity;
        this.expiries++;
        this.setVip(n, false);
      }
    });
  }

  private setVip(n: SimNode, on: boolean): void {
    if (n.vip === on) return;
    n.vip = on;
    const c = this.carriers();
    this.history.push([this.now, c]);
    if (c.length > 1 && !this.openOverlap) this.openOverlap = { start: this.now, end: this.now, nodes: c };
    else if (c.length > 1 && this.openOverlap) this.openOverlap.nodes = [...new Set([...this.openOverlap.nodes, ...c])];
    else if (c.length <= 1 && this.openOverlap) {
      this.openOverlap.end = this.now;
      this.overlaps.push(this.openOverlap);
      this.openOverlap = null;
    }
  }

  deliver(n: SimNode, ev: ElectionEvent): void {
    if (!n.alive) return;
    if (this.now < n.pausedUntil) {
      // Queued behind everything already due at SIGCONT: order is kept.
      const gen = n.gen;
      this.at(n.pausedUntil, () => {
        if (n.alive && n.gen === gen) this.deliver(n, ev);
      });
      return;
    }
    const r = step(n.state, ev, { mono: this.now, wall: 1_700_000_000_000 + this.now + n.wallOffset });
    n.state = r.state;
    for (const a of r.actions) this.act(n, a);
  }

  private later(n: SimNode, delay: number, ev: ElectionEvent): void {
    const gen = n.gen;
    this.at(this.now + delay, () => {
      if (n.alive && n.gen === gen) this.deliver(n, ev);
    });
  }

  private act(n: SimNode, a: ElectionAction): void {
    switch (a.type) {
      case "getLease":
      case "createLease":
      case "updateLease":
        this.request(n, a);
        return;
      case "vip": {
        const d = Math.round(this.rng.between(this.vipLatency[0], this.vipLatency[1]));
        // A failed add leaves no address, a failed remove leaves it (as `ip` does).
        const fails = (a.op === "add" || a.op === "remove") && this.vipFailOps.includes(a.op) && this.rng.next() < this.vipFailRate;
        if (fails) this.vipFailures++;
        if (a.op === "add" && !fails) {
          this.setVip(n, true); // counted from the moment it is issued
          n.vipGen = n.gen;
          n.vipExpiry = Infinity; // until the add lands with its lifetime
        }
        const gen = n.gen;
        this.at(this.now + d, () => {
          if (a.op === "remove" && !fails) this.setVip(n, false);
          if (a.op === "add" && !fails && n.vip) this.setLifetime(n, a.lifetimeS ?? 0);
          if (n.alive && n.gen === gen) this.deliver(n, fails ? { type: "vip", op: a.op, ok: false, error: "RTNETLINK answers: Operation not permitted" } : { type: "vip", op: a.op, ok: true, held: n.vip });
        });
        return;
      }
      case "fence": {
        // A running `ip -batch`: applied within APPLY_MS, re-creating a copy that ran out, like the kernel.
        const gen = n.gen;
        const fails = this.fenceFailRate > 0 && this.rng.next() < this.fenceFailRate;
        this.at(this.now + Math.round(this.rng.between(1, this.fenceLatencyMax)), () => {
          if (!fails) {
            this.setVip(n, true);
            n.vipGen = gen;
            this.setLifetime(n, a.lifetimeS);
          }
          if (n.alive && n.gen === gen) this.deliver(n, fails ? { type: "fence", ok: false, error: "RTNETLINK answers: No buffer space available" } : { type: "fence", ok: true });
        });
        return;
      }
      case "probe":
        if (!n.healthy) this.later(n, 2, { type: "health", ok: false, reason: "connection refused" });
        else if (n.healthTimeout) this.later(n, this.opts.probeTimeoutMs ?? 1000, { type: "health", ok: false, reason: "timeout after 1000 ms" });
        else this.later(n, Math.round(this.rng.between(1, 5)), { type: "health", ok: true, reason: "ok" });
        return;
      case "timer": {
        if (a.at === null) {
          n.timers.delete(a.name);
          return;
        }
        // The runner hands this to setTimeout, which turns Infinity into 1 ms.
        if (!Number.isFinite(a.at)) throw new Error(`${n.id}: timer ${a.name} armed at ${a.at}`);
        n.timers.set(a.name, a.at);
        const gen = n.gen;
        const at = a.at;
        // A stalled event loop fires timers late, never early.
        const fire = at + (this.timerJitterMs > 0 ? Math.round(this.rng.between(0, this.timerJitterMs)) : 0);
        this.at(fire, () => {
          if (n.alive && n.gen === gen && n.timers.get(a.name) === at) {
            n.timers.delete(a.name);
            this.deliver(n, { type: "timer", name: a.name });
          }
        });
        return;
      }
      case "probeConflict": {
        // Everyone shares one segment: another carrier answers the probe.
        const others = this.carriers().filter((id) => id !== n.id);
        const result = this.opts.conflictProbe === false ? "unknown" : others.length > 0 ? "conflict" : "clear";
        this.later(n, Math.round(this.rng.between(2, 20)), { type: "conflict", result, detail: others.join(",") });
        return;
      }
      case "heartbeat": {
        // UDP: each datagram is lost, delayed or reordered on its own; the
        // receiver's replay guard drops one older than the last it accepted.
        for (const peer of this.nodes.values()) {
          if (peer === n || this.hbCut.has(n.id) || this.hbCut.has(peer.id) || this.hbMute.has(n.id) || this.hbDeaf.has(peer.id) || this.rng.next() < this.hbLoss) continue;
          const hb = a.hb;
          const d = Math.round(this.rng.between(this.hbLatency[0], this.hbLatency[1]));
          this.at(this.now + d, () => {
            if (!peer.alive || this.hbCut.has(n.id) || this.hbCut.has(peer.id) || this.hbMute.has(n.id) || this.hbDeaf.has(peer.id)) return;
            const key = `${peer.id}<${n.id}`;
            const last = this.hbLast.get(key);
            if (last && last.boot === hb.boot && last.seq >= hb.seq) return;
            this.hbLast.set(key, { boot: hb.boot, seq: hb.seq });
            this.heartbeats++;
            this.deliver(peer, { type: "heartbeat", hb });
          });
        }
        return;
      }
      case "metric":
        return;
      case "log":
        n.logs.push(`${this.now} ${a.level} ${a.msg}: ${a.reason}`);
        return;
      case "exit":
        n.exitCode = a.code;
        n.alive = false;
        return;
    }
  }

  private request(n: SimNode, a: Extract<ElectionAction, { type: "getLease" | "createLease" | "updateLease" }>): void {
    const m = this.mode(n);
    const mode = m === "writeHang" ? (a.type === "getLease" ? "ok" : "hang") : m;
    const reply = (delay: number, result: LeaseResult) => this.later(n, delay, { type: "lease", result });
    if (a.type !== "getLease") n.writes++;
    switch (mode) {
      case "refused":
        n.watchStale = true;
        reply(1, { ok: false, error: "refused", message: "connect ECONNREFUSED" });
        return;
      case "5xx":
        reply(this.lat() * 2, { ok: false, error: "http5xx", message: "HTTP 500" });
        return;
      case "hang":
        n.watchStale = true;
        if (a.type !== "getLease" && this.rng.next() < this.lateApply) this.at(this.now + this.rng.between(0, this.timeoutMs * 2), () => this.serve(a));
        reply(this.timeoutMs, { ok: false, error: "timeout", message: `no answer in ${this.timeoutMs} ms` });
        return;
      case "reset": {
        n.watchStale = true;
        const d = this.lat();
        if (a.type !== "getLease" && this.rng.next() < Math.max(this.lateApply, 0.5)) this.at(this.now + d, () => this.serve(a));
        reply(d * 2, { ok: false, error: "refused", message: "socket hang up (ECONNRESET)" });
        return;
      }
      case "ok": {
        const d1 = this.lat();
        const d2 = this.lat();
        const gen = n.gen;
        this.at(this.now + d1, () => {
          const result = this.serve(a);
          this.at(this.now + d2, () => {
            if (n.alive && n.gen === gen) this.deliver(n, { type: "lease", result });
          });
        });
        return;
      }
    }
  }

  /** The API server: optimistic concurrency on resourceVersion, like the real one. */
  private serve(a: Extract<ElectionAction, { type: "getLease" | "createLease" | "updateLease" }>): LeaseResult {
    if (a.type === "getLease") {
      const snap = this.snapshot();
      return snap ? { ok: true, lease: snap } : { ok: false, error: "notFound", message: "not found" };
    }
    if (a.type === "createLease") {
      if (this.lease) return { ok: false, error: "conflict", message: "already exists" };
    } else {
      if (!this.lease) return { ok: false, error: "notFound", message: "not found" };
      if (String(this.lease.rv) !== a.resourceVersion) return { ok: false, error: "conflict", message: "the object has been modified" };
    }
    this.lease = { spec: { ...a.spec }, rv: ++this.rv };
    const snap = this.snapshot() as LeaseObject;
    for (const n of this.nodes.values()) {
      if (!n.alive) continue;
      if (this.mode(n) !== "ok") n.watchStale = true;
      if (n.watchStale) continue;
      const gen = n.gen;
      this.at(this.now + this.lat(), () => {
        if (n.alive && n.gen === gen && this.mode(n) === "ok" && !n.watchStale) this.deliver(n, { type: "watch", kind: this.rv === 101 ? "ADDED" : "MODIFIED", lease: snap });
      });
    }
    return { ok: true, lease: snap };
  }
}
