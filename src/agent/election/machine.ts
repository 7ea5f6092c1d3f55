/**
 * The Lease election as a pure state machine: `step(state, event, now)`
 * returns the next state and the actions for the runner. No I/O, no clock:
 * `now.mono` (monotonic ms) drives every timeout, `now.wall` only fills the
 * Lease's timestamps, so wall-clock jumps and skew between nodes change
 * nothing.
 *
 * The algorithm is client-go's LeaderElector (leaseDuration > renewDeadline >
 * 1.2 × retryPeriod; a follower judges expiry from its OWN observation time
 * of the last change of the Lease, never from the remote renewTime) plus
 * these rules:
 *
 * 1. Acquire only after a write with this node as holder succeeded (the
 *    resourceVersion precondition makes that write exclusive); only then add
 *    the VIP and announce it. Never try to acquire while the local API server
 *    is unhealthy (or not yet probed).
 * 2. A 409 is answered by a re-read, never by a blind overwrite. A holder
 *    that sees another holder (re-read, poll or watch event) or a released
 *    Lease removes the VIP at once.
 * 3. Let T be the monotonic time the holder SENT its last renew that
 *    succeeded. Any follower saw that write at or after T and waits a full
 *    leaseDuration from its own observation, so it cannot acquire before
 *    T + leaseDuration. The holder therefore removes the VIP:
 *    - at T + renewDeadline when a renew failed "hard" since T: connection
 *      refused/reset (its own API server is down or unreachable: a
 *      partition), an unexpected error, or a 409 not yet resolved by a
 *      re-read. This is before any follower can acquire: no duplicate.
 *    - at once when its local API server probes unhealthy (a refused probe,
 *      or `healthFailures` failed probes in a row); it then releases the Lease
 *      (best effort) so a healthy node takes over without waiting.
 *    - during a brown-out (every failure since T is a timeout or a 5xx, and
 *      its own API server probes healthy) it KEEPS the VIP until
 *      T + leaseDuration + brownoutHold. When the whole cluster's datastore
 *      is slow, followers' writes fail too, so nobody else can acquire: no
 *      flap. A follower whose own requests failed since the Lease last
 *      changed saw the brown-out too, so it waits leaseDuration +
 *      brownoutHold from its observation: after a cluster-wide brown-out the
 *      old holder has dropped the VIP before anyone else may write (and if
 *      the brown-out ended sooner, the holder's renew wins and nobody moves).
 *      While it keeps the VIP past T + renewDeadline it probes the segment
 *      every second (ARP duplicate-address detection / neighbour
 *      solicitation): if another host answers for the VIP (a node whose
 *      writes succeed took over: an asymmetric partition such as this node's
 *      datastore link being cut) or its own interface lost carrier, it drops
 *      the VIP at once. A renew that timed out but landed is recognised later (its
 *      renewTime shows up in a read, a watch event or a 409 re-read) and
 *      moves T forward, so slow-but-working etcd never drops the VIP.
 * 4. Worst-case duplicate window: only an ASYMMETRIC brown-out (the holder's
 *    Lease requests time out or get 5xx while its API server answers probes,
 *    and another node's writes succeed) can give two holders: the other node
 *    acquires at ≥ T + leaseDuration and the old holder drops at its next
 *    duplicate-address probe (≤ 1 s + one probe when both still share the
 *    segment), and at the latest at T + leaseDuration + brownoutHold (when
 *    the probe can't tell, e.g. no arping/ndisc6), or as soon as any read,
 *    watch event or 409 shows it the new holder. Window ≤ brownoutHold (default: two
 *    lease durations, see config.ts). brownoutHold = 0 removes
 *    the window, but a brown-out longer than about leaseDuration then drops
 *    the VIP on every node until the API recovers.
 * 5. SIGTERM: remove the VIP first, then release the Lease (holder "",
 *    leaseDurationSeconds 1, like client-go's ReleaseOnCancel); followers
 *    watch the Lease and act on a release at once.
 * 6. On start k3vip's own copy of the VIP is removed before anything else,
 *    even if the Lease still names this node: the previous process's last
 *    renew time is unknown, so its copy cannot be proven safe. It comes back
 *    one successful write later. (The VipPort only ever reports, adds and
 *    removes the copy carrying k3vip's mark, never the node's own address.)
 * 7. API writes: the holder writes once per retryPeriod; followers only read
 *    (and watch), and write only when the Lease is released or expired.
 * 8. The kernel-enforced fence (docs/design/failover.md). Let R be the
 *    moment rule 3 removes the VIP (`vipDeadline`). The VIP is added, and
 *    its lifetime extended every fenceRefreshMs, with valid_lft N where
 *    N = min(fenceLifetimeS, ⌊(R − now − KERNEL_LATE − APPLY) / 1000⌋) ≥ 1.
 *    The kernel deletes it at most N s + KERNEL_LATE after the change was
 *    applied, and the change is applied within APPLY of being sent, so the
 *    address is gone by R even if this process is frozen or killed the
 *    moment after; and, refreshed every fenceRefreshMs, within
 *    fenceLifetimeS + KERNEL_LATE of the process stopping. When N < 1 no
 *    refresh is sent: the copy expires on its own before R. A removal waits
 *    for the refresh in flight (the adapter settles it only once applied or
 *    impossible), since `ip addr change` re-creates a missing address.
 * 9. A process that was stopped finds out from its own timers (one overdue
 *    by more than STALL_MS): it renews at once and, until a renew sent since
 *    lands, neither refreshes the VIP's lifetime nor claims the brown-out
 *    extension of rule 3 (which also needs evidence: a renew that failed
 *    soft or is still unanswered). A holder frozen past its Lease thus
 *    wakes, finds its deadline passed and removes what is left of its VIP;
 *    the kernel removed it long before (rule 8).
 */
import { ackedSince, candidateRank, holderGaveUp, majority, peersReachedApi, selfSilent, takeoverBacked, type FollowerView, type Heard, type Heartbeat } from "../peers/index.ts";
import type {
  ElectionAction,
  ElectionConfig,
  ElectionEvent,
  Instant,
  LeaseObject,
  LeaseResult,
  LeaseSpec,
  LogLevel,
  TimerName,
  VipOp,
  WritePurpose,
} from "./types.ts";

export type Phase = "init" | "follower" | "leader" | "stopping" | "stopped";

interface Inflight {
  op: "get" | "create" | "update";
  purpose: WritePurpose | "read";
  sentAt: number;
  /** Why this node tries to acquire (for the transition log line). */
  reason: string;
  /** The holder before this write, and when we last saw it change (failover metric). */
  prevHolder: string | null;
  seenAt: number;
}

export interface ElectionState {
  readonly config: ElectionConfig;
  phase: Phase;
  // Local API server health.
  healthy: boolean | null;
  failStreak: number;
  healthReason: string;
  probing: boolean;
  nextProbeAt: number;
  // What this node last saw of the Lease.
  lease: LeaseObject | null;
  /** A read has answered (with the Lease or with 404). */
  leaseKnown: boolean;
  absent: boolean;
  /** Monotonic time the Lease last changed as seen from here (-Infinity: never seen). */
  observedAt: number;
  lastDurationMs: number;
  /**
   * One of our own Lease requests failed since the Lease last changed. Then
   * the API may be browned out for everyone, the holder may be keeping the
   * VIP past expiry (rule 3), and we wait brownoutHold longer before taking it.
   */
  troubled: boolean;
  // The one Lease request in flight, and when to send the next.
  inflight: Inflight | null;
  lastAttemptAt: number;
  lastWriteAt: number;
  readNow: boolean;
  attemptNow: boolean;
  // Holder bookkeeping (rule 3).
  renewedAt: number | null;
  hardFailure: string | null;
  /**
   * Evidence of a brown-out since T: a renew timed out or got a 5xx. Only
   * then does the holder keep the VIP past T + leaseDuration (rule 3); a
   * holder that merely did not renew (it was stopped) has none.
   */
  softFailure: boolean;
  /** When the first renew that failed soft since T was sent (rule 15). */
  softFailureSentAt: number | null;
  /** Rule 15: when the read that tells a cut-off holder from a brown-out was sent (one per failure episode). */
  cutOffProbeAt: number | null;
  /** A follower's last stall (rule 9): its observations restart then. */
  wokeAt: number;
  /** The event loop was found stalled (rule 9) and no renew sent since has landed. */
  stalledAt: number | null;
  /** A 409 on renew not yet explained by a re-read. */
  conflict: boolean;
  lastError: string;
  /** renewTimes this node wrote as holder, to recognise writes that landed after a timeout. */
  sent: { renewTime: string; sentAt: number }[];
  acquireBlockedUntil: number;
  releasePending: boolean;
  /** When this node became leader, the time the old holder was last seen alive (failover metric). */
  failoverFrom: number | null;
  // The VIP.
  vipHave: boolean | null;
  /** The add, remove or check in flight. */
  vipOp: VipOp | null;
  /** An announcement burst in flight: a removal does not wait for it. */
  announcing: boolean;
  announceDue: boolean;
  announcesSinceAdd: number;
  nextAnnounceAt: number;
  vipRetryAt: number | null;
  /** When the VIP operation in flight was sent. */
  vipOpAt: number;
  /** The lifetime (s) the add in flight sets. */
  vipOpLifetimeS: number;
  // The kernel fence (rule 8).
  fencing: boolean;
  fenceSentAt: number;
  fenceSentS: number;
  nextFenceAt: number;
  fenceFailures: number;
  /** Latest moment the kernel may still carry our copy from the lifetimes set so far (-Infinity: none set). */
  fenceUntil: number;
  // Heartbeats (rules 10–13).
  boot: bigint;
  hbSeq: bigint;
  /** Our recent heartbeats: seq → send time (acks name a seq). */
  hbLog: { seq: bigint; at: number }[];
  nextHbAt: number;
  hbDue: boolean;
  /** The servers that run an agent (this one included); empty = unknown. */
  servers: string[];
  /** The last heartbeat accepted from each peer, and when it arrived. */
  heard: Map<string, Heard>;
  startedAt: number;
  /** When a fast takeover first became backed by a majority (candidates wait by rank from here). */
  backedAt: number | null;
  /** "fenced" takeover: no VIP before this (the old holder's copy has run out by then). */
  vipNotBefore: number;
  /** When a Lease request last succeeded (told to peers). */
  lastApiOkAt: number;
  /** A duplicate-address probe is in flight; when the next is due. */
  conflictProbing: boolean;
  nextConflictAt: number;
  // Timers as last armed, so actions are only emitted on change.
  timers: Record<TimerName, number | null>;
  ready: boolean;
}

export interface StepResult {
  state: ElectionState;
  actions: ElectionAction[];
}

export function initialState(config: ElectionConfig): ElectionState {
  return {
    config,
    phase: "init",
    healthy: null,
    failStreak: 0,
    healthReason: "not probed yet",
    probing: false,
    nextProbeAt: -Infinity,
    lease: null,
    leaseKnown: false,
    absent: false,
    observedAt: -Infinity,
    lastDurationMs: config.leaseDurationMs,
    troubled: false,
    inflight: null,
    lastAttemptAt: -Infinity,
    lastWriteAt: -Infinity,
    readNow: false,
    attemptNow: false,
    renewedAt: null,
    hardFailure: null,
    softFailure: false,
    softFailureSentAt: null,
    cutOffProbeAt: null,
    wokeAt: -Infinity,
    stalledAt: null,
    conflict: false,
    lastError: "",
    sent: [],
    acquireBlockedUntil: -Infinity,
    releasePending: false,
    failoverFrom: null,
    vipHave: null,
    vipOp: null,
    announcing: false,
    announceDue: false,
    announcesSinceAdd: 0,
    nextAnnounceAt: Infinity,
    vipRetryAt: null,
    vipOpAt: -Infinity,
    vipOpLifetimeS: 0,
    fencing: false,
    fenceSentAt: -Infinity,
    fenceSentS: 0,
    nextFenceAt: -Infinity,
    fenceFailures: 0,
    fenceUntil: -Infinity,
    boot: 0n,
    hbSeq: 0n,
    hbLog: [],
    nextHbAt: -Infinity,
    hbDue: false,
    servers: [],
    heard: new Map(),
    startedAt: 0,
    backedAt: null,
    vipNotBefore: -Infinity,
    lastApiOkAt: -Infinity,
    conflictProbing: false,
    nextConflictAt: -Infinity,
    timers: { lease: null, health: null, deadline: null, announce: null, conflict: null, fence: null, heartbeat: null },
    ready: false,
  };
}

/** Lease MicroTime: RFC 3339 with exactly six fractional digits, as the API server requires. */
export function microTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace(/Z$/, "000Z");
}

const DROP_MARGIN_MS = 250;
/**
 * Rule 8. The kernel deletes an expired address from a delayed work item:
 * up to 250 ms late (ADDRCONF_TIMER_FUZZ) plus scheduling; measured 18–243 ms
 * late for valid_lft 1. A lifetime change reaches the kernel within APPLY of
 * being sent (a pipe write to a running `ip -batch`).
 */
export const KERNEL_LATE_MS = 300;
export const APPLY_MS = 100;
/** Rule 9: a timer this late means the process was stopped, not merely busy. */
export const STALL_MS = 400;
/** Rule 11: margin between a holder's heartbeat deadline and the earliest fast takeover (a write after a silent majority). */
export const HB_MARGIN_MS = 100;
/** Rule 13: how long a dead or frozen holder's copy may outlast its deadline R: 1 s lifetime + KERNEL_LATE + APPLY. */
export const FENCE_WAIT_MS = 1000 + KERNEL_LATE_MS + APPLY_MS;
/**
 * Rule 14, heartbeats blocked (a firewall): a follower takes over fast only
 * from a holder it heard within TAKEOVER_HORIZON_MS; a holder keeps the
 * heartbeat rules (renewing fast while unacknowledged) until it has heard no
 * peer for HB_FALLBACK_MS, twice as long. Both sides then fall back to the
 * Lease's rules, the followers first, so none takes over fast from a holder
 * that already renews at the Lease's pace.
 */
export const TAKEOVER_HORIZON_MS = 10_000;
export const HB_FALLBACK_MS = 2 * TAKEOVER_HORIZON_MS;
const CONFLICT_INTERVAL_MS = 1000;

const REFUSED_PROBE = /refused|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|reset|unreachable/i;

class Step {
  readonly out: ElectionAction[] = [];
  constructor(
    readonly s: ElectionState,
    readonly now: Instant,
  ) {}
  get c(): ElectionConfig {
    return this.s.config;
  }
  get t(): number {
    return this.now.mono;
  }
  emit(a: ElectionAction): void {
    this.out.push(a);
  }
  log(level: LogLevel, msg: string, reason: string, fields?: Record<string, string | number | boolean>): void {
    this.emit(fields ? { type: "log", level, msg, reason, fields } : { type: "log", level, msg, reason });
  }
}

export function step(state: ElectionState, event: ElectionEvent, now: Instant): StepResult {
  const s: ElectionState = { ...state, sent: [...state.sent], timers: { ...state.timers }, lease: state.lease };
  const x = new Step(s, now);
  if (s.phase === "stopped") return { state: s, actions: [] };
  detectStall(x);
  switch (event.type) {
    case "start":
      onStart(x, event.boot ?? 0n);
      break;
    case "peers":
      s.servers = [...new Set(event.servers)].sort();
      break;
    case "heartbeat":
      onHeartbeat(x, event.hb);
      break;
    case "timer":
      s.timers[event.name] = null;
      break;
    case "lease":
      onLeaseResult(x, event.result);
      break;
    case "watch":
      onWatch(x, event.kind, event.lease);
      break;
    case "health":
      onHealth(x, event.ok, event.reason);
      break;
    case "healthSuspect":
      // A probe in flight answers soon anyway; otherwise probe now (a dead server refuses the new connection).
      if (!s.probing) s.nextProbeAt = Math.min(s.nextProbeAt, x.t);
      break;
    case "vip":
      onVip(x, event.op, event.ok, event.held, event.error);
      break;
    case "signal":
      onSignal(x, event.signal);
      break;
    case "conflict":
      onConflict(x, event.result, event.detail);
      break;
    case "fence":
      onFence(x, event.ok, event.error);
      break;
  }
  settle(x);
  return { state: s, actions: x.out };
}

// ---------------------------------------------------------------- events

/**
 * Rule 9: a timer overdue by more than STALL_MS means this process did not
 * run (SIGSTOP, a frozen cgroup, swap): everything it believes may be stale,
 * and the kernel may have let the VIP run out meanwhile. Until a renew sent
 * from now on lands, the holder neither refreshes the VIP's lifetime (a
 * refresh re-creates a copy that ran out) nor keeps the VIP past the Lease's
 * expiry. The renew goes out at once.
 */
function detectStall(x: Step): void {
  const { s } = x;
  let due = Infinity;
  for (const at of Object.values(s.timers)) if (at !== null && at < due) due = at;
  const late = x.t - due;
  if (!(late > STALL_MS)) return;
  if (s.phase === "follower") {
    // It saw nothing while it slept: the holder's silence and the Lease's age count from now,
    // as after a restart. Else it could take over (or vote a takeover) from a holder that renewed,
    // or held through a brown-out the others saw, while this node was stopped.
    s.wokeAt = x.t;
    s.observedAt = Math.max(s.observedAt, x.t);
    s.readNow = true;
    return;
  }
  if (s.phase !== "leader") return;
  if (s.stalledAt === null) x.log("warn", "this process was stalled; renewing before refreshing the VIP's lifetime", `a timer fired ${Math.round(late)} ms late`);
  s.stalledAt = x.t;
  s.attemptNow = true;
}

function onStart(x: Step, boot: bigint): void {
  const { s } = x;
  s.phase = "init";
  s.boot = boot;
  s.startedAt = x.t;
  s.nextHbAt = x.t;
  s.readNow = true;
  s.nextProbeAt = x.t;
  // Rule 6: find (and then remove) a VIP left by a crashed predecessor.
  s.vipOp = "check";
  x.emit({ type: "vip", op: "check" });
  x.emit({ type: "metric", update: { kind: "leader", value: false } });
  x.emit({ type: "metric", update: { kind: "vipHeld", value: false } });
  x.emit({ type: "metric", update: { kind: "ready", value: false } });
}

function onLeaseResult(x: Step, result: LeaseResult): void {
  const { s } = x;
  const req = s.inflight;
  s.inflight = null;
  if (!req) return;
  if (s.phase === "init") s.phase = "follower";
  const write = req.op !== "get";
  const purpose = req.purpose === "read" ? null : req.purpose;
  if (write && purpose) x.emit({ type: "metric", update: { kind: "leaseWrite", purpose, ok: result.ok } });

  if (result.ok) {
    s.lastApiOkAt = x.t;
    markReady(x);
    observe(x, result.lease);
    if (purpose === "release") {
      s.releasePending = false;
      x.log("info", "released the Lease", s.phase === "stopping" ? "shutting down" : s.lastError || "giving up", { transitions: result.lease.spec.leaseTransitions });
      return;
    }
    if (write) {
      // Our write with ourselves as holder succeeded: we hold the Lease since req.sentAt.
      confirm(x, req.sentAt);
      if (s.phase === "leader") return;
      if (s.phase === "stopping" || s.healthy !== true || x.t < s.acquireBlockedUntil) {
        // It landed after we gave up (shutdown, health loss, VIP failure): hand it back.
        s.releasePending = true;
        return;
      }
      // The holder as of sending: our own write may come back on the watch before its answer.
      becomeLeader(x, req.reason || "a renew sent before giving up succeeded", req.prevHolder, req.seenAt);
      return;
    }
    afterRead(x);
    return;
  }

  // Failures.
  if (result.error === "conflict" || result.error === "notFound") s.lastApiOkAt = x.t;
  if (result.error !== "conflict" && result.error !== "notFound") s.troubled = true;
  if (result.error !== "conflict" && result.error !== "notFound") s.lastError = `${result.error}: ${result.message}`;
  if (purpose === "release" && result.error !== "conflict") {
    // Nothing more to do: a failed release only means followers wait for expiry.
    s.releasePending = false;
    x.log("warn", "could not release the Lease", `${result.error}: ${result.message}`);
    return;
  }
  switch (result.error) {
    case "conflict":
      // Someone else wrote (or the Lease exists already): re-read, never overwrite blindly.
      s.readNow = true;
      if (s.phase === "leader") s.conflict = true;
      return;
    case "notFound":
      markReady(x);
      if (!s.absent && s.lease) changed(x);
      s.lease = null;
      s.absent = true;
      s.leaseKnown = true;
      if (s.phase === "leader" || s.phase === "stopping") s.attemptNow = s.phase === "leader";
      if (s.phase === "stopping") s.releasePending = false;
      return;
    case "timeout":
    case "http5xx":
      if (s.phase === "leader" && purpose === "renew") {
        s.softFailure = true;
        s.softFailureSentAt ??= req.sentAt;
      }
      // A 5xx answered: the API is reachable, only busy.
      if (result.error === "timeout") cutOffProbeFailed(x, req, result.error);
      return; // a brown-out: keep what we have (rule 3)
    case "refused":
    case "other":
      if (cutOffProbeFailed(x, req, result.error)) return;
      if (s.phase === "leader") s.hardFailure ??= `${result.error}: ${result.message}`;
      return;
  }
}

function onWatch(x: Step, kind: "ADDED" | "MODIFIED" | "DELETED", lease: LeaseObject): void {
  const { s } = x;
  if (kind === "DELETED") {
    if (!s.absent) changed(x);
    s.lease = null;
    s.absent = true;
    s.leaseKnown = true;
    // The holder re-creates it at once; a follower waits a lease duration from now.
    if (s.phase === "leader") s.attemptNow = true;
    return;
  }
  const self = x.c.identity;
  if (s.phase === "leader" && lease.spec.holderIdentity === self) {
    // Our own write coming back: adopt it only if it proves a newer renew landed
    // (a watch event can lag our write's answer and carry an older version).
    const sentAt = matchSent(x, lease.spec);
    if (sentAt !== null && (s.renewedAt === null || sentAt > s.renewedAt)) {
      observe(x, lease);
      confirm(x, sentAt);
    }
    return;
  }
  observe(x, lease);
  if (s.phase === "init") return;
  afterRead(x);
}

function onHealth(x: Step, ok: boolean, reason: string): void {
  const { s } = x;
  s.probing = false;
  s.nextProbeAt = x.t + x.c.healthIntervalMs;
  const was = s.healthy;
  if (ok) {
    s.failStreak = 0;
    s.healthy = true;
  } else {
    s.failStreak++;
    if (REFUSED_PROBE.test(reason) || s.failStreak >= x.c.healthFailures) s.healthy = false;
  }
  s.healthReason = reason;
  if (s.healthy !== was && s.healthy !== null) {
    x.emit({ type: "metric", update: { kind: "apiHealthy", value: s.healthy } });
    if (s.healthy) x.log("info", "local API server healthy", reason);
    else x.log("warn", "local API server down", ok ? reason : `${reason} (${s.failStreak} failed probe${s.failStreak > 1 ? "s" : ""})`);
  }
}

function onVip(x: Step, op: VipOp, ok: boolean, held: boolean | undefined, error: string | undefined): void {
  const { s } = x;
  if (op === "announce") s.announcing = false;
  else s.vipOp = null;
  const why = error ?? "unknown error";
  switch (op) {
    case "check":
      if (!ok) {
        x.log("warn", "could not check whether the VIP is on the interface; removing it to be safe", why);
        s.vipHave = true;
      } else {
        s.vipHave = held === true;
        if (s.vipHave && s.phase !== "leader") x.log("warn", "found k3vip's copy of the VIP on the interface at start; removing it", "left by a previous run (stale after a crash)");
      }
      return;
    case "add":
      if (ok) {
        s.vipHave = true;
        if (s.vipOpLifetimeS > 0) s.fenceUntil = Math.max(s.fenceUntil, s.vipOpAt + s.vipOpLifetimeS * 1000 + KERNEL_LATE_MS);
        s.nextFenceAt = x.t + x.c.fenceRefreshMs;
        s.announceDue = true;
        s.announcesSinceAdd = 0;
        x.emit({ type: "metric", update: { kind: "vipHeld", value: true } });
        x.log("info", "VIP added", "this node holds the Lease");
        if (s.failoverFrom !== null) {
          x.emit({ type: "metric", update: { kind: "failover", seconds: Math.max(0, x.t - s.failoverFrom) / 1000 } });
          s.failoverFrom = null;
        }
        return;
      }
      // Without the VIP, holding the Lease only blocks healthy nodes: give it back.
      s.vipHave = true; // may be half there; removal is idempotent
      s.acquireBlockedUntil = x.t + x.c.leaseDurationMs;
      if (s.phase === "leader") loseLeadership(x, "warn", `could not add the VIP: ${why}`, true);
      return;
    case "remove":
      if (ok) {
        s.vipHave = false;
        s.vipRetryAt = null;
        // Peers wait for "not holding" before a fast takeover from a holder that gave up: tell them now, not in up to one interval.
        s.hbDue = true;
        x.emit({ type: "metric", update: { kind: "vipHeld", value: false } });
        x.log("info", "VIP removed", s.phase === "stopping" ? "shutting down" : "not the holder");
        return;
      }
      s.vipHave = true;
      if (s.phase === "stopping") {
        // Releasing now would let a follower add a second copy: exit and leave the Lease to expire.
        x.log("error", "could not remove the VIP; exiting without releasing the Lease", why);
        stop(x, 1);
        return;
      }
      s.vipRetryAt = x.t + x.c.retryPeriodMs;
      x.log("error", "could not remove the VIP; retrying", why);
      return;
    case "announce":
      s.announceDue = false;
      // A second burst a second after taking over, for clients that missed the
      // first (or heard a late one from the old holder); then the refresh rate.
      s.announcesSinceAdd++;
      s.nextAnnounceAt = x.t + (s.announcesSinceAdd === 1 ? Math.min(1000, x.c.announceRefreshMs) : x.c.announceRefreshMs);
      // A burst cut short by our own removal is expected, not worth a warning.
      if (!ok && s.phase === "leader" && s.vipHave) x.log("warn", "could not announce the VIP", why);
      return;
  }
}

/**
 * Rule 10: a peer's heartbeat. It refreshes what we heard of that peer; a
 * peer that carries the VIP or holds the Lease under a later term than ours
 * makes a holder give the VIP up at once (rule 2 by another path), and
 * anyone re-read the Lease.
 */
function onHeartbeat(x: Step, hb: Heartbeat): void {
  const { s, c } = x;
  if (hb.node === c.identity) return;
  const heard = new Map(s.heard);
  heard.set(hb.node, { hb, at: x.t });
  s.heard = heard;
  // Our next heartbeat acknowledges the holder's at once (rule 11): the holder's proof is then one round trip old, not a whole interval.
  if (s.phase !== "leader" && hb.node === holderName(x) && hb.leader) s.hbDue = true;
  if (!(hb.leader || hb.holding)) return;
  const ours = s.lease?.spec.leaseTransitions ?? -1;
  const known = s.lease?.spec.holderIdentity ?? "";
  if (hb.transitions > ours || (hb.transitions === ours && hb.node !== known)) {
    s.readNow = true;
    if (s.phase === "leader" && hb.transitions > ours) {
      loseLeadership(x, "warn", `${hb.node} says it holds the Lease (transitions ${hb.transitions} > ${ours})`, false);
    }
  }
}

/** Heartbeats are in use: an interval, and a known set of at least two servers including this one. */
function hbOn(x: Step): boolean {
  const { s, c } = x;
  return c.heartbeatMs > 0 && s.servers.length >= 2 && s.servers.includes(c.identity);
}

/** …and some peer was heard lately: with none heard for HB_FALLBACK_MS the Lease's rules alone apply (heartbeats blocked). */
function hbLive(x: Step): boolean {
  const { s } = x;
  if (!hbOn(x)) return false;
  for (const [name, h] of s.heard) if (s.servers.includes(name) && x.t - h.at < HB_FALLBACK_MS) return true;
  return false;
}

function holderName(x: Step): string {
  const { s } = x;
  return s.absent || !s.lease ? "" : s.lease.spec.holderIdentity;
}

function followerView(x: Step): FollowerView {
  const { s, c } = x;
  const holder = holderName(x);
  const h = s.heard.get(holder);
  return {
    self: c.identity,
    servers: s.servers,
    holder,
    heard: s.heard,
    heardHolderAt: Math.max(s.startedAt, s.wokeAt, h?.at ?? -Infinity),
    now: x.t,
    silenceMs: c.silenceMs,
    freshMs: c.silenceMs,
  };
}

/** The holder's acknowledgements (rule 11): majority and all-peer send times. */
function acks(x: Step): { majority: number | null; all: number | null } {
  const { s, c } = x;
  return ackedSince(c.identity, s.servers, s.heard, { boot: s.boot, sent: s.hbLog }, x.t);
}

/** A peer's fresh heartbeat says it cannot hear us. */
function peersSaySilent(x: Step): boolean {
  const { s, c } = x;
  for (const [, h] of s.heard) if (x.t - h.at < c.silenceMs && h.hb.holder === c.identity && h.hb.holderSilent) return true;
  return false;
}

/**
 * Our copy of the VIP may be on the interface: we added it and have not
 * removed it, unless every lifetime we set has run out (rule 8). Told to
 * peers whatever our phase: a failed removal keeps a copy up.
 */
function mayCarry(x: Step): boolean {
  const { s, c } = x;
  if (s.vipHave !== true && s.vipOp !== "add") return false;
  if (c.fenceLifetimeS <= 0 || s.fencing || s.vipOp === "add") return true;
  return x.t < s.fenceUntil;
}

function heartbeatStep(x: Step): void {
  const { s, c } = x;
  if (c.heartbeatMs <= 0 || s.phase === "init" || s.phase === "stopped") return;
  if (!s.hbDue && x.t < s.nextHbAt) return;
  s.hbDue = false;
  s.nextHbAt = x.t + c.heartbeatMs;
  const leader = s.phase === "leader";
  const holder = leader ? c.identity : holderName(x);
  const v = followerView(x);
  s.hbSeq += 1n;
  const hb: Heartbeat = {
    node: c.identity,
    boot: s.boot,
    seq: s.hbSeq,
    wallMs: x.now.wall,
    holding: mayCarry(x),
    leader,
    apiOk: s.healthy === true,
    holderSilent: !leader && holder !== "" && selfSilent(v),
    holderApiDown: !leader && holder !== "" && holderGaveUp(v),
    transitions: s.lease?.spec.leaseTransitions ?? 0,
    holder,
    holderSeq: holder !== "" && holder !== c.identity ? (s.heard.get(holder)?.hb.seq ?? 0n) : 0n,
    silentMs: holder !== "" && holder !== c.identity ? x.t - v.heardHolderAt : 0,
    apiAgoMs: Number.isFinite(s.lastApiOkAt) ? x.t - s.lastApiOkAt : 0xffffffff,
  };
  s.hbLog = [...s.hbLog.slice(-63), { seq: s.hbSeq, at: x.t }];
  x.emit({ type: "heartbeat", hb });
}

function onFence(x: Step, ok: boolean, error: string | undefined): void {
  const { s } = x;
  s.fencing = false;
  if (ok) {
    s.fenceUntil = Math.max(s.fenceUntil, s.fenceSentAt + s.fenceSentS * 1000 + KERNEL_LATE_MS);
    if (s.fenceFailures > 0) x.log("info", "VIP lifetime refreshed again", `after ${s.fenceFailures} failed refresh${s.fenceFailures > 1 ? "es" : ""}`);
    s.fenceFailures = 0;
    return;
  }
  // The copy expires on its own (rule 8): that is the fence doing its job, not a reason to drop the Lease.
  if (s.fenceFailures++ === 0) x.log("warn", "could not refresh the VIP's lifetime; the kernel removes it when it runs out", error ?? "unknown error");
}

function onConflict(x: Step, result: string, detail: string): void {
  const { s } = x;
  s.conflictProbing = false;
  s.nextConflictAt = x.t + CONFLICT_INTERVAL_MS;
  if (!atRisk(x)) return;
  if (result === "conflict") loseLeadership(x, "warn", `another host answers for the VIP while our renews fail (${detail}): it took over`, false);
  else if (result === "unusable") loseLeadership(x, "warn", `the VIP's interface cannot carry it while our renews fail (${detail})`, false);
}

/** The holder keeps the VIP past client-go's give-up point (a brown-out, rule 3): check the segment. */
function atRisk(x: Step): boolean {
  const { s } = x;
  return s.phase === "leader" && s.renewedAt !== null && x.t >= s.renewedAt + x.c.renewDeadlineMs && s.vipHave === true;
}

function onSignal(x: Step, signal: string): void {
  const { s } = x;
  if (s.phase === "stopping") return;
  const holding = s.phase === "leader" || s.lease?.spec.holderIdentity === x.c.identity;
  s.phase = "stopping";
  s.releasePending = holding && !s.absent;
  x.emit({ type: "metric", update: { kind: "leader", value: false } });
  x.log("info", "stopping", holding ? `${signal}: removing the VIP, then releasing the Lease` : signal);
}

// ---------------------------------------------------------------- helpers

function markReady(x: Step): void {
  if (x.s.ready) return;
  x.s.ready = true;
  x.emit({ type: "metric", update: { kind: "ready", value: true } });
}

function sameSpec(a: LeaseSpec, b: LeaseSpec): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** Record a Lease as seen now. Like client-go, a changed record restarts the follower's expiry clock. */
function observe(x: Step, lease: LeaseObject): void {
  const { s } = x;
  if (s.absent || !s.lease || !sameSpec(s.lease.spec, lease.spec)) changed(x);
  s.lease = lease;
  s.absent = false;
  s.leaseKnown = true;
  s.lastDurationMs = Math.max(1, lease.spec.leaseDurationSeconds) * 1000;
  if (lease.spec.holderIdentity === x.c.identity) {
    const sentAt = matchSent(x, lease.spec);
    if (sentAt !== null && s.phase === "leader" && (s.renewedAt === null || sentAt > s.renewedAt)) confirm(x, sentAt);
  }
}

function changed(x: Step): void {
  x.s.observedAt = x.t;
  x.s.troubled = false;
  x.s.hbDue = true; // peers learn the new term (and whom we acknowledge) at once
}

function matchSent(x: Step, spec: LeaseSpec): number | null {
  const hit = x.s.sent.find((e) => e.renewTime === spec.renewTime);
  return hit ? hit.sentAt : null;
}

/** A write with us as holder, sent at `sentAt`, is known to have landed. */
function confirm(x: Step, sentAt: number): void {
  const { s } = x;
  if (s.renewedAt === null || sentAt >= s.renewedAt) {
    s.renewedAt = sentAt;
    s.hardFailure = null;
    s.softFailure = false;
    s.softFailureSentAt = null;
    s.cutOffProbeAt = null;
    s.lastError = "";
  }
  if (s.stalledAt !== null && sentAt >= s.stalledAt) s.stalledAt = null;
  s.sent = s.sent.filter((e) => e.sentAt > sentAt);
}

/** A read (poll, 409 re-read or watch event) answered: act on what it shows. */
function afterRead(x: Step): void {
  const { s } = x;
  const lease = s.lease;
  if (!lease) return;
  const holder = lease.spec.holderIdentity;
  if (s.phase === "leader") {
    if (holder !== x.c.identity) {
      loseLeadership(x, "warn", holder === "" ? "the Lease was released by someone else" : `the Lease is held by ${holder}`, false);
    } else if (s.conflict) {
      // The conflicting write was our own (a renew that timed out but landed) or
      // a foreign edit that kept us as holder: renew again now, against the new version.
      s.conflict = false;
      s.attemptNow = true;
    }
  } else if (s.phase === "stopping" && holder !== x.c.identity) {
    s.releasePending = false;
  }
}

function becomeLeader(x: Step, reason: string, prevHolder: string | null, seenBefore: number): void {
  const { s } = x;
  s.phase = "leader";
  s.hbDue = true;
  s.backedAt = null;
  // Rule 13: the old holder did not release; with live heartbeats its copy may outlast its deadline by FENCE_WAIT_MS.
  if (x.c.takeover === "fenced" && prevHolder && prevHolder !== x.c.identity && hbLive(x)) s.vipNotBefore = x.t + FENCE_WAIT_MS;
  s.acquireBlockedUntil = -Infinity;
  s.failoverFrom = prevHolder !== null && prevHolder !== x.c.identity && Number.isFinite(seenBefore) ? seenBefore : null;
  x.emit({ type: "metric", update: { kind: "leader", value: true } });
  x.log("info", "acquired the Lease; adding the VIP", reason, prevHolder ? { previousHolder: prevHolder } : undefined);
}

function loseLeadership(x: Step, level: LogLevel, reason: string, release: boolean): void {
  const { s } = x;
  s.phase = "follower";
  s.hbDue = true;
  s.renewedAt = null;
  s.hardFailure = null;
  s.softFailure = false;
  s.softFailureSentAt = null;
  s.cutOffProbeAt = null;
  s.stalledAt = null;
  s.conflict = false;
  s.failoverFrom = null;
  s.releasePending = release && !s.absent && s.lease?.spec.holderIdentity === x.c.identity;
  x.emit({ type: "metric", update: { kind: "leader", value: false } });
  x.log(level, "gave up the VIP", reason);
}

function stop(x: Step, code: number): void {
  x.s.phase = "stopped";
  for (const name of Object.keys(x.s.timers) as TimerName[]) {
    if (x.s.timers[name] !== null) {
      x.s.timers[name] = null;
      x.emit({ type: "timer", name, at: null });
    }
  }
  x.emit({ type: "exit", code });
}

/** When a follower may write: the Lease is released, expired (from our observation), ours, or absent. */
function expiryAt(x: Step): number {
  const { s } = x;
  if (s.absent || !s.lease) return s.observedAt + s.lastDurationMs + (s.troubled ? x.c.brownoutHoldMs : 0);
  const holder = s.lease.spec.holderIdentity;
  if (holder === "" || holder === x.c.identity) return s.observedAt;
  return s.observedAt + s.lastDurationMs + (s.troubled ? x.c.brownoutHoldMs : 0);
}

/** Rule 3: when the holder must have removed the VIP if no renew succeeds before. */
function vipDeadline(x: Step): number | null {
  const lease = leaseDeadline(x);
  if (lease === null || !hbLive(x)) return lease;
  const { s, c } = x;
  // Cut off from the API (refused, reset) or its own API server down: no extension. It drops the VIP,
  // and its next heartbeat says it no longer leads, which lets the peers take over at once.
  if (s.healthy !== true || s.hardFailure !== null) return lease;
  const T = s.renewedAt ?? -Infinity;
  const a = acks(x);
  // Rule 11: no fast takeover before a silent majority (≥ S_q + silence) that also saw no Lease change for silenceMs (≥ T + silence).
  const fast = Math.max(a.majority === null ? -Infinity : a.majority + c.silenceMs, T + c.silenceMs) - HB_MARGIN_MS;
  // Rule 12: while every peer hears us, none takes over on the Lease's expiry either (a brown-out is held for any length).
  const slow = a.all !== null && !s.conflict && s.stalledAt === null ? Math.max(lease, a.all + c.silenceMs - HB_MARGIN_MS) : lease;
  return Math.min(fast, slow);
}

/** Rule 3 alone: when the holder must have removed the VIP by the Lease's rules. */
function leaseDeadline(x: Step): number | null {
  const { s, c } = x;
  if (s.phase !== "leader" || s.renewedAt === null) return null;
  const hard = s.renewedAt + c.renewDeadlineMs;
  if (s.hardFailure !== null || s.healthy !== true) return hard;
  // A 409 may be a follower's takeover, which cannot land before T + leaseDuration: no brown-out extension.
  // Nor without evidence of a brown-out: a renew that failed soft, or one still waiting for its answer.
  // A holder that was stopped (SIGSTOP, a frozen cgroup) and so never tried has none (rule 9).
  const evidence = s.softFailure || (s.inflight !== null && s.inflight.purpose === "renew");
  if (s.conflict || !evidence || s.stalledAt !== null) return Math.max(hard, s.renewedAt + c.leaseDurationMs - DROP_MARGIN_MS);
  // The margin covers removing the VIP before a follower's first write can even land.
  return Math.max(hard, s.renewedAt + c.leaseDurationMs + c.brownoutHoldMs - DROP_MARGIN_MS);
}

// ---------------------------------------------------------------- settle

/** After every event: enforce the rules, then start whatever is due. */
function settle(x: Step): void {
  const { s } = x;
  if (s.phase === "stopped") return;
  if (s.phase === "leader" && s.healthy === false) {
    loseLeadership(x, "warn", `local API server down: ${s.healthReason}`, true);
  }
  const deadline = vipDeadline(x);
  if (deadline !== null && x.t >= deadline) {
    const since = ((x.t - (s.renewedAt ?? x.t)) / 1000).toFixed(1);
    loseLeadership(x, "warn", `no successful renew for ${since} s (${s.hardFailure ?? (s.conflict ? "a 409 not yet explained by a re-read" : s.lastError || "no answer")})`, false);
  }
  reconcileVip(x);
  if (isStopped(s)) return;
  leaseStep(x);
  if (isStopped(s)) return;
  probeStep(x);
  conflictStep(x);
  fenceStep(x);
  heartbeatStep(x);
  armTimers(x);
}

/** Rule 8: the lifetime (s) an add or refresh sent now may set; 0 = none is safe (or, with the fence off, forever). */
export function fenceSeconds(c: ElectionConfig, deadline: number | null, now: number): number {
  if (deadline === null) return 0;
  return Math.max(0, Math.min(c.fenceLifetimeS, Math.floor((deadline - now - KERNEL_LATE_MS - APPLY_MS) / 1000)));
}

/**
 * The lifetime an add or refresh may set now. By the Lease's rules it ends
 * before R (rule 8). With live heartbeats R is under a second ahead, less
 * than the kernel's smallest lifetime: the copy then gets 1 s while R has
 * not passed, and may outlast R by up to 1 s + KERNEL_LATE + APPLY if this
 * process stops right after (rule 13 bounds what a successor does then).
 */
function lifetimeNow(x: Step): number {
  const { c } = x;
  const r = vipDeadline(x);
  if (!hbLive(x)) return fenceSeconds(c, r, x.t);
  return r !== null && x.t < r ? Math.min(1, c.fenceLifetimeS) : 0;
}

function fenceStep(x: Step): void {
  const { s, c } = x;
  if (c.fenceLifetimeS <= 0 || s.phase !== "leader" || s.vipHave !== true || s.vipOp !== null || s.fencing || s.stalledAt !== null || x.t < s.nextFenceAt) return;
  s.nextFenceAt = x.t + c.fenceRefreshMs;
  const n = lifetimeNow(x);
  if (n < 1) return; // too close to the deadline: let the copy run out (it ends before R)
  s.fencing = true;
  s.fenceSentAt = x.t;
  s.fenceSentS = n;
  x.emit({ type: "fence", lifetimeS: n });
}

function conflictStep(x: Step): void {
  const { s } = x;
  if (s.conflictProbing || !atRisk(x) || x.t < s.nextConflictAt) return;
  s.conflictProbing = true;
  x.emit({ type: "probeConflict" });
}

// A function, so TypeScript doesn't narrow `phase` across calls that change it.
function isStopped(s: ElectionState): boolean {
  return s.phase === "stopped";
}

function reconcileVip(x: Step): void {
  const { s } = x;
  if (s.vipOp !== null) return;
  if (s.vipHave === null) {
    if (s.announcing) return;
    if (s.phase === "init") return;
    s.vipOp = "check";
    x.emit({ type: "vip", op: "check" });
    return;
  }
  const want = s.phase === "leader" && s.healthy === true;
  let op: VipOp | null = null;
  // An add waits for a running announcement (the VIP can't be re-added while it's being announced anyway).
  if (want && !s.vipHave && !s.announcing) op = "add";
  // A removal waits for the lifetime refresh in flight, which could re-create the address after it (rule 8).
  else if (!want && s.vipHave && !s.fencing && (s.vipRetryAt === null || x.t >= s.vipRetryAt)) op = "remove";
  else if (want && s.vipHave && !s.announcing && (s.announceDue || x.t >= s.nextAnnounceAt)) op = "announce";
  if (op === null) return;
  if (op === "announce") {
    s.announcing = true;
    x.emit({ type: "vip", op });
    return;
  }
  // Rule 13 ("fenced"): after taking over from a holder that did not release, wait until its copy has run out.
  if (op === "add" && x.t < s.vipNotBefore) return;
  if (op === "add" && x.c.fenceLifetimeS > 0) {
    const n = lifetimeNow(x);
    // Not even one second of right left: the next renew extends it, or rule 3 ends the leadership.
    if (n < 1) return;
    s.vipOpLifetimeS = n;
    s.vipOp = op;
    s.vipOpAt = x.t;
    x.emit({ type: "vip", op, lifetimeS: n });
    return;
  }
  s.vipOp = op;
  s.vipOpAt = x.t;
  s.vipOpLifetimeS = 0;
  x.emit(op === "add" ? { type: "vip", op, lifetimeS: 0 } : { type: "vip", op });
}

function sendWrite(x: Step, purpose: WritePurpose, spec: LeaseSpec, reason: string): void {
  const { s } = x;
  const prevHolder = s.absent ? null : (s.lease?.spec.holderIdentity ?? null);
  s.inflight = { op: s.absent ? "create" : "update", purpose, sentAt: x.t, reason, prevHolder, seenAt: s.observedAt };
  s.lastAttemptAt = x.t;
  s.lastWriteAt = x.t;
  s.attemptNow = false;
  if (purpose !== "release") {
    s.sent.push({ renewTime: spec.renewTime ?? "", sentAt: x.t });
    if (s.sent.length > 16) s.sent.shift();
  }
  if (s.absent || !s.lease) {
    s.inflight.op = "create";
    x.emit({ type: "createLease", spec, purpose });
  } else {
    x.emit({ type: "updateLease", spec, resourceVersion: s.lease.resourceVersion, purpose });
  }
}

function sendRead(x: Step): void {
  const { s } = x;
  s.inflight = { op: "get", purpose: "read", sentAt: x.t, reason: "", prevHolder: null, seenAt: s.observedAt };
  s.readNow = false;
  s.lastAttemptAt = x.t;
  x.emit({ type: "getLease" });
}

function holderSpec(x: Step): LeaseSpec {
  const { s, c } = x;
  const prev = s.absent ? null : s.lease?.spec;
  const wall = microTime(x.now.wall);
  const ours = prev?.holderIdentity === c.identity;
  return {
    holderIdentity: c.identity,
    leaseDurationSeconds: Math.round(c.leaseDurationMs / 1000),
    acquireTime: ours && prev?.acquireTime ? prev.acquireTime : wall,
    renewTime: wall,
    leaseTransitions: prev ? (ours ? prev.leaseTransitions : prev.leaseTransitions + 1) : 0,
  };
}

function releaseSpec(x: Step): LeaseSpec {
  const wall = microTime(x.now.wall);
  return { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: wall, renewTime: wall, leaseTransitions: x.s.lease?.spec.leaseTransitions ?? 0 };
}

function leaseStep(x: Step): void {
  const { s, c } = x;
  if (s.inflight) return;
  if (s.readNow) return sendRead(x);
  if (s.phase === "stopping") {
    // Rule 5: the VIP goes first, then the Lease.
    // A running ARP burst needs no waiting: arping binds the VIP as its source,
    // so once the address is gone no further announcement can leave this node.
    if (s.vipHave !== false || s.vipOp !== null) return;
    if (s.releasePending && s.lease && !s.absent) return sendWrite(x, "release", releaseSpec(x), "");
    x.log("info", "stopped", s.lease?.spec.holderIdentity === "" ? "VIP removed and Lease released" : "VIP removed");
    stop(x, 0);
    return;
  }
  if (s.phase === "init") return;
  if (s.releasePending) {
    // Like shutdown: the VIP goes before the Lease, or a follower could add a second copy.
    if (s.vipHave !== false || s.vipOp !== null) {
      // Its removal failed or is slow, so the VIP may still be up: keep the
      // Lease renewed meanwhile rather than let it lapse, or a follower would
      // add a second copy at expiry (rule 3). Found by the simulation with
      // failing `ip addr del`.
      if (s.lease && !s.absent && s.lease.spec.holderIdentity === c.identity && x.t >= s.lastAttemptAt + c.retryPeriodMs) sendWrite(x, "renew", holderSpec(x), "");
      return;
    }
    if (s.lease && !s.absent && s.lease.spec.holderIdentity === c.identity) return sendWrite(x, "release", releaseSpec(x), "");
    s.releasePending = false;
  }
  if (s.phase === "leader") {
    if (cutOffSuspected(x)) {
      s.cutOffProbeAt = x.t;
      return sendRead(x);
    }
    if (s.attemptNow || x.t >= s.lastAttemptAt + renewInterval(x)) sendWrite(x, "renew", holderSpec(x), "");
    return;
  }
  // Follower.
  if (!s.leaseKnown) {
    if (x.t >= s.lastAttemptAt + c.retryPeriodMs) sendRead(x);
    return;
  }
  if (fastTakeover(x)) return;
  const exp = expiryAt(x);
  // Rule 12: a holder we hear is alive; its Lease's expiry (a brown-out) is no reason to take over.
  const holder = holderName(x);
  const view = followerView(x);
  const heardAlive = hbLive(x) && holder !== "" && holder !== c.identity && !selfSilent(view) && !holderGaveUp(view);
  const canAcquire = s.healthy === true && x.t >= s.acquireBlockedUntil && x.t >= exp && !heardAlive;
  const due = s.attemptNow || x.t >= s.lastAttemptAt + c.retryPeriodMs;
  // Write at once when the Lease just became free; after a failed write, wait a retry period.
  if (canAcquire && (s.lastWriteAt < exp || x.t >= s.lastWriteAt + c.retryPeriodMs)) {
    return sendWrite(x, "acquire", holderSpec(x), acquireReason(x));
  }
  if (due) sendRead(x);
}

/**
 * Rule 15, a holder cut off from the API alone (its path to the API is
 * broken; its local API server still answers, its peers still hear it). Its
 * renews time out as in a brown-out, which rule 12 would hold for any
 * length. Told apart by evidence: a renew failed soft, and peers' heartbeats
 * say they reached the API after that renew was sent. The holder then reads
 * the Lease once: if that read fails too, the fault is its own path, and it
 * gives up (its heartbeats then say so, and the peers take over at once,
 * rule 11). If the read works, writes alone are failing — a datastore
 * brown-out every writer shares — and it keeps holding. Giving up is always
 * safe; only the holder decides, so no follower acts on a guess.
 */
function cutOffSuspected(x: Step): boolean {
  const { s, c } = x;
  if (!hbLive(x) || !s.softFailure || s.softFailureSentAt === null || s.cutOffProbeAt !== null || s.stalledAt !== null) return false;
  const n = peersReachedApi(c.identity, s.servers, s.heard, x.t, c.silenceMs, s.softFailureSentAt + HB_MARGIN_MS);
  return n >= Math.max(1, majority(s.servers.length) - 1);
}

/** The rule 15 read failed (no answer, refused): this holder alone is cut off. */
function cutOffProbeFailed(x: Step, req: Inflight, error: string): boolean {
  const { s } = x;
  if (s.phase !== "leader" || req.op !== "get" || s.cutOffProbeAt === null || req.sentAt !== s.cutOffProbeAt) return false;
  const n = peersReachedApi(x.c.identity, s.servers, s.heard, x.t, x.c.silenceMs, (s.softFailureSentAt ?? x.t) + HB_MARGIN_MS);
  loseLeadership(x, "warn", `cut off from the API: a renew and a read failed (${error}) while ${n} peer${n === 1 ? "" : "s"} reached it`, false);
  return true;
}

/**
 * Rule 11, the holder's side: renew rarely while every peer acknowledges our
 * heartbeats, every heartbeat interval as soon as a majority's acks are late
 * or a peer says it cannot hear us (so a holder that reaches the API is
 * never taken over), and every retry period otherwise.
 */
function renewInterval(x: Step): number {
  const { c } = x;
  if (!hbLive(x)) return c.retryPeriodMs;
  const a = acks(x);
  const lateMs = c.heartbeatMs * 1.5;
  if (a.majority === null || x.t - a.majority > lateMs || peersSaySilent(x)) return c.heartbeatMs;
  if (a.all !== null && x.t - a.all <= lateMs) return Math.max(c.retryPeriodMs, c.steadyRenewMs);
  return c.retryPeriodMs;
}

/** Candidates wait their rank × two heartbeat intervals, so the first in order normally wins alone. */
function takeoverWait(x: Step): number {
  const rank = candidateRank(followerView(x), x.s.healthy === true);
  return rank < 0 ? Infinity : rank * 2 * x.c.heartbeatMs;
}

/**
 * Rule 11, the follower's side: a majority of all servers (counting this
 * one) finds the holder silent, or the holder said its API server is down,
 * and no change of the Lease was seen for silenceMs: the best healthy
 * candidate takes the Lease at once, with the resourceVersion it last saw
 * (a 409 means the holder renewed: it lost).
 */
function fastTakeover(x: Step): boolean {
  const { s, c } = x;
  const holder = holderName(x);
  if (!hbLive(x) || s.healthy !== true || s.absent || holder === "" || holder === c.identity || x.t < s.acquireBlockedUntil) {
    s.backedAt = null;
    return false;
  }
  const v = followerView(x);
  const heardAt = s.heard.get(holder)?.at ?? -Infinity;
  if (x.t - heardAt > TAKEOVER_HORIZON_MS || !takeoverBacked(v) || x.t - s.observedAt < c.silenceMs) {
    s.backedAt = null;
    return false;
  }
  s.backedAt ??= x.t;
  if (x.t < s.backedAt + takeoverWait(x)) return false;
  if (s.lastWriteAt >= s.backedAt && x.t < s.lastWriteAt + c.retryPeriodMs) return false;
  const why = holderGaveUp(v) ? `${holder} said its API server is down` : `${holder} silent for ${Math.round(x.t - v.heardHolderAt)} ms`;
  sendWrite(x, "acquire", holderSpec(x), `fast takeover: ${why}, backed by a majority of ${s.servers.length} servers`);
  return true;
}

function acquireReason(x: Step): string {
  const { s, c } = x;
  if (s.absent || !s.lease) return s.observedAt === -Infinity ? "no Lease yet" : "the Lease was deleted";
  const h = s.lease.spec.holderIdentity;
  if (h === "") return "the Lease was released";
  if (h === c.identity) return "the Lease already names this node";
  return `${h} stopped renewing (no change for ${((x.t - s.observedAt) / 1000).toFixed(1)} s)`;
}

function probeStep(x: Step): void {
  const { s } = x;
  if (s.probing || s.phase === "stopping") return;
  if (x.t >= s.nextProbeAt) {
    s.probing = true;
    x.emit({ type: "probe" });
  }
}

function armTimers(x: Step): void {
  const { s, c } = x;
  const want: Record<TimerName, number | null> = { lease: null, health: null, deadline: null, announce: null, conflict: null, fence: null, heartbeat: null };
  if (!s.inflight && s.phase !== "init" && s.phase !== "stopping") {
    // The next poll/renew, or earlier the moment a follower may write. Only
    // future instants: anything due now was done by leaseStep already.
    const candidates = [s.lastAttemptAt + c.retryPeriodMs];
    if (s.phase === "follower" && s.leaseKnown && s.healthy === true) {
      candidates.push(Math.max(expiryAt(x), s.acquireBlockedUntil), s.lastWriteAt + c.retryPeriodMs);
    }
    const future = candidates.filter((t) => t > x.t);
    want.lease = future.length > 0 ? Math.min(...future) : x.t + c.retryPeriodMs;
  }
  if (!s.probing && s.phase !== "stopping") want.health = Math.max(s.nextProbeAt, x.t);
  want.deadline = vipDeadline(x);
  if (s.phase === "leader" && s.renewedAt !== null && !s.conflictProbing) {
    // First probe at the give-up point, then every interval while at risk.
    want.conflict = Math.max(s.renewedAt + c.renewDeadlineMs, s.nextConflictAt);
    if (want.conflict <= x.t) want.conflict = null; // due now: conflictStep sent it (or not at risk)
  }
  if (s.vipOp === null && !s.announcing && s.vipHave === true) {
    if (s.phase === "leader") want.announce = s.nextAnnounceAt === Infinity ? null : s.nextAnnounceAt;
    // A retried removal; none while a lifetime refresh is in flight (its answer settles again), and never
    // in the past: a timer that fires at once and changes nothing would spin (found by the heartbeat simulation).
    else if (s.vipRetryAt !== null && !s.fencing) want.announce = Math.max(s.vipRetryAt, x.t + 1);
  }
  if (c.fenceLifetimeS > 0 && s.phase === "leader" && s.vipHave === true && s.vipOp === null && !s.fencing && s.stalledAt === null && s.nextFenceAt > x.t) want.fence = s.nextFenceAt;
  if (c.heartbeatMs > 0 && s.phase !== "init" && s.phase !== "stopped") want.heartbeat = Math.max(s.nextHbAt, x.t + 1);
  // A fenced takeover's VIP, and the moment a backed fast takeover is this node's turn.
  if (s.phase === "leader" && s.vipHave === false && s.vipNotBefore > x.t) want.announce = s.vipNotBefore;
  if (s.phase === "follower" && s.backedAt !== null) {
    const turn = s.backedAt + takeoverWait(x);
    if (turn > x.t) want.lease = want.lease === null ? turn : Math.min(want.lease, turn);
  }
  // Every timer is a finite time (a non-candidate's takeover turn is Infinity): setTimeout(Infinity) fires after 1 ms.
  for (const name of Object.keys(want) as TimerName[]) if (want[name] !== null && !Number.isFinite(want[name])) want[name] = null;
  for (const name of Object.keys(want) as TimerName[]) {
    if (want[name] !== s.timers[name]) {
      s.timers[name] = want[name];
      x.emit({ type: "timer", name, at: want[name] });
    }
  }
}
