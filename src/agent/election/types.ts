// Vocabulary of the election core: what it reads (events) and what it asks
// the runner to do (actions). Nothing here does I/O.
import type { Heartbeat } from "../peers/index.ts";

/** coordination.k8s.io/v1 LeaseSpec, as the election reads and writes it. */
export interface LeaseSpec {
  /** Node name of the holder; "" = released (nobody holds it). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** RFC 3339 MicroTime strings (wall clock, informational only). */
  acquireTime: string | null;
  renewTime: string | null;
  leaseTransitions: number;
}

/** A Lease as read from the API: its spec and the resourceVersion to write against. */
export interface LeaseObject {
  spec: LeaseSpec;
  resourceVersion: string;
}

/**
 * How a Lease request failed. `timeout` and `http5xx` mean the API is slow or
 * its datastore is failing (a brown-out); `refused` means the connection to
 * this node's own API server failed (refused, reset, unreachable): it is down
 * or we are cut off from it.
 */
export type ApiErrorKind = "conflict" | "notFound" | "timeout" | "http5xx" | "refused" | "other";

export type LeaseResult = { ok: true; lease: LeaseObject } | { ok: false; error: ApiErrorKind; message: string };

/** Now, twice: `mono` (performance.now based, ms) drives every timeout; `wall` (epoch ms) only fills Lease timestamps. */
export interface Instant {
  mono: number;
  wall: number;
}

export type TimerName = "lease" | "health" | "deadline" | "announce" | "conflict" | "fence" | "heartbeat";
export type WritePurpose = "acquire" | "renew" | "release";
export type VipOp = "add" | "remove" | "announce" | "check";

export type ElectionEvent =
  /** `boot`: this process's random heartbeat boot id. */
  | { type: "start"; boot?: bigint }
  /** The servers (node names, this one included) that run an agent, from the API; cached by the runner. */
  | { type: "peers"; servers: string[] }
  /** A heartbeat from a peer that passed the MAC and replay checks. */
  | { type: "heartbeat"; hb: Heartbeat }
  | { type: "timer"; name: TimerName }
  /** The answer to the one Lease request in flight. */
  | { type: "lease"; result: LeaseResult }
  | { type: "watch"; kind: "ADDED" | "MODIFIED" | "DELETED"; lease: LeaseObject }
  /** One probe of the local API server. */
  | { type: "health"; ok: boolean; reason: string }
  /** A sign between probes that the local API server may have gone: probe now. */
  | { type: "healthSuspect"; reason: string }
  /** The answer to the one VIP operation in flight; `held` answers `check`. */
  | { type: "vip"; op: VipOp; ok: boolean; held?: boolean; error?: string }
  | { type: "signal"; signal: "SIGTERM" | "SIGINT" }
  /**
   * The answer to the one lifetime refresh in flight (see the fence in
   * machine.ts). The adapter settles it only once the kernel applied the
   * change or can no longer apply it.
   */
  | { type: "fence"; ok: boolean; error?: string }
  /**
   * The answer to a duplicate-address probe for the VIP (ARP DAD / neighbour
   * solicitation): another host answers for it (`conflict`), nobody does
   * (`clear`), this node's interface cannot carry it (`unusable`: no carrier),
   * or no answer could be had (`unknown`).
   */
  | { type: "conflict"; result: ConflictResult; detail: string };

export type ConflictResult = "clear" | "conflict" | "unusable" | "unknown";

export type MetricUpdate =
  | { kind: "leader"; value: boolean }
  | { kind: "vipHeld"; value: boolean }
  | { kind: "apiHealthy"; value: boolean }
  | { kind: "ready"; value: boolean }
  | { kind: "leaseWrite"; purpose: WritePurpose; ok: boolean }
  | { kind: "failover"; seconds: number };

export type LogLevel = "info" | "warn" | "error";

export type ElectionAction =
  | { type: "getLease" }
  | { type: "createLease"; spec: LeaseSpec; purpose: WritePurpose }
  | { type: "updateLease"; spec: LeaseSpec; resourceVersion: string; purpose: WritePurpose }
  /** `lifetimeS` (add only): the address's kernel lifetime (valid_lft) in whole seconds; 0 = forever (no fence). */
  | { type: "vip"; op: VipOp; lifetimeS?: number }
  /** Send this heartbeat to every peer. */
  | { type: "heartbeat"; hb: Heartbeat }
  /** Extend the VIP's kernel lifetime to `lifetimeS` seconds from now (`ip addr change … valid_lft N`). */
  | { type: "fence"; lifetimeS: number }
  | { type: "probe" }
  /** Is another host answering for the VIP? (only while renews fail: see rule 3) */
  | { type: "probeConflict" }
  /** (Re)arm the named one-shot timer at monotonic time `at`; null = cancel it. */
  | { type: "timer"; name: TimerName; at: number | null }
  | { type: "metric"; update: MetricUpdate }
  /** One line: `msg` says what happened, `reason` why. */
  | { type: "log"; level: LogLevel; msg: string; reason: string; fields?: Record<string, string | number | boolean> }
  | { type: "exit"; code: number };

/** Timings in milliseconds, plus the rules' knobs. */
export interface ElectionConfig {
  /** This node's name: the Lease holderIdentity. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /**
   * How long past lease expiry (last good renew + leaseDuration) a holder
   * keeps the VIP while renews only time out or get 5xx and its own API
   * server is healthy. This is the worst-case duplicate window of an
   * asymmetric brown-out; 0 = drop at lease expiry like client-go would.
   */
  brownoutHoldMs: number;
  /** Interval between local API server probes. */
  healthIntervalMs: number;
  /** Consecutive failed probes that mean "down" (a refused connection counts at once). */
  healthFailures: number;
  /** Interval of gratuitous ARP / unsolicited NA refreshes while holding the VIP. */
  announceRefreshMs: number;
  /**
   * The kernel-enforced fence: the VIP carries a kernel lifetime (valid_lft)
   * of at most this many whole seconds, extended every `fenceRefreshMs` while
   * this node may hold it. A killed or frozen agent's VIP is then deleted by
   * the kernel within fenceLifetimeS + the kernel's lateness (≤ 0.3 s). 0 =
   * no fence (valid_lft forever, the VIP stays until removed).
   */
  fenceLifetimeS: number;
  fenceRefreshMs: number;
  /** Interval of peer heartbeats; 0 = none (the Lease rules alone). */
  heartbeatMs: number;
  /** A follower finds the holder silent after this long without a heartbeat from it. */
  silenceMs: number;
  /**
   * After a takeover from a holder that did not release: "early" adds the
   * VIP at once (a dead or frozen old holder's copy may linger until its
   * kernel lifetime ends, ≤ 1.4 s); "fenced" waits that long first.
   */
  takeover: "early" | "fenced";
  /** Renew interval while every peer acknowledges the holder's heartbeats. */
  steadyRenewMs: number;
}
