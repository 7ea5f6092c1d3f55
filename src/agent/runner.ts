// The thin, effectful shell around the pure election core: it feeds events
// into `step`, executes the actions through the ports (Lease, VIP, health,
// metrics, timers, log) and feeds their results back. The core keeps at most
// one Lease request, one VIP operation and one probe in flight; the runner
// only has to deliver answers in order (JavaScript's single thread does).
import { initialState, step, type ElectionAction, type ElectionConfig, type ElectionEvent, type ElectionState, type Instant, type LeaseObject, type LeaseResult, type LogLevel, type TimerName } from "./election/index.ts";
import type { HealthProbe } from "./health/index.ts";
import type { AgentMetrics } from "./metrics/index.ts";
import type { Vip, VipPort } from "./vip/index.ts";
import type { LeasePort, LeaseWatch } from "./lease.ts";
import type { LogFormat } from "../config/index.ts";
import type { Heartbeat, HeartbeatPort, PeerAddress, PeerDirectory } from "./peers/index.ts";

/** Time and timers. Real: performance.now() (monotonic) and Date.now(); tests use a manual clock. */
export interface Clock {
  now(): Instant;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => ({ mono: performance.now(), wall: Date.now() }),
  setTimer: (ms, fn) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, string | number | boolean>): void;
}

/** One line per entry: `time level msg key=value…` or one JSON object. */
export function createLogger(format: LogFormat, base: Record<string, string>, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return {
    log(level, msg, fields = {}) {
      const time = new Date().toISOString();
      if (format === "json") {
        write(`${JSON.stringify({ time, level, msg, ...base, ...fields })}\n`);
        return;
      }
      const kv = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
        .join(" ");
      write(`${time} ${level.padEnd(5)} ${msg}${kv ? ` ${kv}` : ""}\n`);
    },
  };
}

/** Does another host answer for the VIP on its segment? (see rule 3 of the election) */
export interface ConflictProbe {
  check(vip: Vip): Promise<{ result: "clear" | "conflict" | "unusable"; detail: string }>;
}

export interface RunnerDeps {
  config: ElectionConfig;
  vip: Vip;
  lease: LeasePort;
  vipPort: VipPort;
  health: HealthProbe;
  metrics: AgentMetrics;
  logger: Logger;
  /** Duplicate-address probe; without one, a brown-out is bounded by brownoutHold alone. */
  conflict?: ConflictProbe;
  clock?: Clock;
  /** Wait before re-opening a watch that ended (ms). Default 1000. */
  watchRetryMs?: number;
  /** After SIGTERM, give up waiting for the VIP removal and release after this long (ms). Default 10000. */
  shutdownTimeoutMs?: number;
  /** Peer heartbeats (rules 10–14): the transport and where the peers are. Without them, the Lease's rules alone. */
  peers?: { port: HeartbeatPort; directory: PeerDirectory; refreshMs?: number };
  /** A boot id for this process's heartbeats (random by default). */
  boot?: bigint;
}

/** Runs the election until it exits (SIGTERM handled, or a fatal VIP error). */
export class AgentRunner {
  private state: ElectionState;
  private readonly clock: Clock;
  private readonly timers = new Map<TimerName, unknown>();
  private watch: LeaseWatch | null = null;
  private watchTimer: unknown = null;
  private stopped = false;
  private resolveExit: (code: number) => void = () => undefined;
  readonly exited: Promise<number>;
  private lastEventAt = 0;
  /** The peers as last listed (kept when a listing fails: heartbeats go on while the API is down). */
  private peerList: PeerAddress[] = [];
  private peerTimer: unknown = null;

  constructor(private readonly d: RunnerDeps) {
    this.clock = d.clock ?? systemClock;
    this.state = initialState(d.config);
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Starts the election and the Lease watch; resolves with the exit code. */
  run(): Promise<number> {
    const { d } = this;
    const boot = d.boot ?? BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 53)) * 2048n + BigInt(Math.floor(Math.random() * 2048)));
    this.dispatch({ type: "start", boot });
    d.health.watch?.((reason) => this.dispatch({ type: "healthSuspect", reason }));
    this.openWatch();
    if (d.peers) void this.listPeers();
    return this.exited;
  }

  /** A heartbeat that passed the transport's checks. */
  heartbeat(hb: Heartbeat): void {
    this.dispatch({ type: "heartbeat", hb });
  }

  private async listPeers(): Promise<void> {
    const p = this.d.peers;
    if (!p || this.stopped) return;
    try {
      const list = await p.directory.list();
      if (list.length > 0) {
        this.peerList = list;
        this.dispatch({ type: "peers", servers: list.map((x) => x.node) });
      }
    } catch (e) {
      // Keep the cached list: heartbeats must keep working while the API is down.
      this.d.logger.log("warn", "could not list the servers for heartbeats; keeping the last list", { reason: errorText(e), cached: this.peerList.length });
    }
    if (this.stopped) return;
    this.peerTimer = this.clock.setTimer(p.refreshMs ?? 30_000, () => void this.listPeers());
    (this.peerTimer as { unref?: () => void }).unref?.();
  }

  /** SIGTERM / SIGINT: remove the VIP, release the Lease, exit. */
  signal(signal: "SIGTERM" | "SIGINT"): void {
    if (this.stopped) return;
    this.dispatch({ type: "signal", signal });
    const limit = this.d.shutdownTimeoutMs ?? 10_000;
    const t = this.clock.setTimer(limit, () => {
      if (this.stopped) return;
      this.d.logger.log("error", "shutdown did not finish in time; exiting", { reason: `no answer within ${limit} ms`, vipRemoved: this.state.vipHave === false });
      this.finish(1);
    });
    (t as { unref?: () => void }).unref?.();
  }

  /** The current core state (read-only use: status, tests). */
  get current(): Readonly<ElectionState> {
    return this.state;
  }

  /** The loop is alive: some event (at least the 1 s health probe) was handled recently. */
  alive(maxIdleMs = 30_000): boolean {
    return this.stopped || this.clock.now().mono - this.lastEventAt < maxIdleMs;
  }

  private dispatch(ev: ElectionEvent): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.lastEventAt = now.mono;
    const r = step(this.state, ev, now);
    this.state = r.state;
    for (const a of r.actions) this.execute(a, now);
  }

  private execute(a: ElectionAction, now: Instant): void {
    const { d } = this;
    switch (a.type) {
      case "getLease":
        this.leaseCall(d.lease.get());
        return;
      case "createLease":
        this.leaseCall(d.lease.create(a.spec));
        return;
      case "updateLease":
        this.leaseCall(d.lease.update(a.spec, a.resourceVersion));
        return;
      case "vip": {
        const op = a.op;
        const p = op === "add" ? d.vipPort.add(d.vip, a.lifetimeS ?? 0) : op === "remove" ? d.vipPort.remove(d.vip) : op === "announce" ? d.vipPort.announce(d.vip) : d.vipPort.held(d.vip);
        p.then(
          (held) => this.dispatch({ type: "vip", op, ok: true, ...(op === "check" ? { held: held === true } : {}) }),
          (e: unknown) => this.dispatch({ type: "vip", op, ok: false, error: errorText(e) }),
        );
        return;
      }
      case "heartbeat":
        d.peers?.port.send(a.hb, this.peerList);
        return;
      case "fence":
        d.vipPort.refresh(d.vip, a.lifetimeS).then(
          () => this.dispatch({ type: "fence", ok: true }),
          (e: unknown) => this.dispatch({ type: "fence", ok: false, error: errorText(e) }),
        );
        return;
      case "probe":
        d.health.probe().then(
          (r) => {
            d.metrics.setApiHealthy(r.ok);
            this.dispatch({ type: "health", ok: r.ok, reason: r.reason });
          },
          (e: unknown) => this.dispatch({ type: "health", ok: false, reason: errorText(e) }),
        );
        return;
      case "probeConflict": {
        if (!d.conflict) {
          queueMicrotask(() => this.dispatch({ type: "conflict", result: "unknown", detail: "no duplicate-address probe" }));
          return;
        }
        d.conflict.check(d.vip).then(
          (r) => this.dispatch({ type: "conflict", result: r.result, detail: r.detail }),
          (e: unknown) => this.dispatch({ type: "conflict", result: "unknown", detail: errorText(e) }),
        );
        return;
      }
      case "timer": {
        const old = this.timers.get(a.name);
        if (old !== undefined) this.clock.clearTimer(old);
        this.timers.delete(a.name);
        if (a.at === null) return;
        const name = a.name;
        this.timers.set(
          name,
          this.clock.setTimer(a.at - now.mono, () => {
            this.timers.delete(name);
            this.dispatch({ type: "timer", name });
          }),
        );
        return;
      }
      case "metric": {
        const u = a.update;
        if (u.kind === "leader") d.metrics.setLeader(u.value);
        else if (u.kind === "vipHeld") d.metrics.setVipHeld(u.value);
        else if (u.kind === "apiHealthy") d.metrics.setApiHealthy(u.value);
        else if (u.kind === "ready") d.metrics.setReady(u.value);
        else if (u.kind === "leaseWrite") d.metrics.leaseWrite(u.purpose, u.ok);
        else d.metrics.failover(u.seconds);
        return;
      }
      case "log":
        d.logger.log(a.level, a.msg, { reason: a.reason, ...a.fields });
        return;
      case "exit":
        this.finish(a.code);
        return;
    }
  }

  private leaseCall(p: Promise<LeaseObject>): void {
    p.then(
      (lease) => this.dispatch({ type: "lease", result: { ok: true, lease } }),
      (e: unknown) => this.dispatch({ type: "lease", result: toFailure(e) }),
    );
  }

  private openWatch(): void {
    if (this.stopped) return;
    this.watchTimer = null;
    this.d.lease
      .watch(
        (kind, lease) => this.dispatch({ type: "watch", kind, lease }),
        (err) => {
          this.watch = null;
          if (this.stopped) return;
          // Normal ends (server timeout) re-open at once; errors after a pause.
          this.watchTimer = this.clock.setTimer(err ? (this.d.watchRetryMs ?? 1000) : 0, () => this.openWatch());
        },
      )
      .then(
        (w) => {
          if (this.stopped) w.stop();
          else this.watch = w;
        },
        () => {
          if (!this.stopped) this.watchTimer = this.clock.setTimer(this.d.watchRetryMs ?? 1000, () => this.openWatch());
        },
      );
  }

  private finish(code: number): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimer(t);
    this.timers.clear();
    if (this.watchTimer !== null) this.clock.clearTimer(this.watchTimer);
    if (this.peerTimer !== null) this.clock.clearTimer(this.peerTimer);
    this.watch?.stop();
    this.watch = null;
    this.d.health.close?.();
    this.resolveExit(code);
  }
}

function toFailure(e: unknown): LeaseResult {
  const kind = (e as { kind?: unknown } | null)?.kind;
  const known = ["conflict", "notFound", "timeout", "http5xx", "refused", "other"] as const;
  const k = known.find((x) => x === kind) ?? "other";
  return { ok: false, error: k, message: errorText(e) };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
