// The majority decisions of the heartbeat layer, as pure functions over what
// this node has heard. No I/O, no clock: `now` and every `at` are this node's
// monotonic milliseconds (receipt times), never another node's.
//
// The argument (docs/design/failover.md, "Heartbeats"): a follower declares
// the holder silent only `silenceMs` after it last received a heartbeat from
// it. A fast takeover needs a majority of all servers (counting the
// candidate) to declare it silent. The holder counts, for each heartbeat it
// sent, which peers acknowledged receiving it (a peer's own heartbeat names
// the last holder seq it received). If a majority (counting the holder)
// received a heartbeat sent at S, any silent majority shares one node with
// that set, which declared silence no earlier than S + silenceMs. So no
// fast takeover happens before S + silenceMs, and the holder may keep the VIP
// until then (less a margin).
import type { Heartbeat } from "./codec.ts";

/** floor(n / 2) + 1: more than half of all servers. With 2 servers that is both; with 1, itself. */
export function majority(servers: number): number {
  return Math.floor(Math.max(1, servers) / 2) + 1;
}

/** The last heartbeat accepted from a peer, and when it arrived here. */
export interface Heard {
  hb: Heartbeat;
  at: number;
}

/** What the holder sent: seq → send time (a short ring is enough: acks name recent seqs). */
export interface SentLog {
  boot: bigint;
  sent: { seq: bigint; at: number }[];
}

/**
 * The latest send time S such that a majority of `servers` (counting `self`)
 * received a heartbeat of ours sent at or after S; null if no majority ever
 * acknowledged one. `all` is the same for every server at once (null unless
 * every peer acknowledged).
 */
export function ackedSince(self: string, servers: readonly string[], heard: ReadonlyMap<string, Heard>, log: SentLog, now: number): { majority: number | null; all: number | null } {
  const acks: number[] = [];
  let peers = 0;
  for (const name of servers) {
    if (name === self) continue;
    peers++;
    const h = heard.get(name);
    if (!h || h.hb.holder !== self || h.hb.holderSeq === 0n) continue;
    const sent = log.sent.find((e) => e.seq === h.hb.holderSeq);
    if (sent) acks.push(sent.at);
  }
  acks.sort((a, b) => b - a);
  const need = majority(peers + 1) - 1; // the holder itself is one
  const maj = need === 0 ? now : (acks[need - 1] ?? null);
  const all = peers === 0 ? now : acks.length === peers ? (acks[peers - 1] ?? null) : null;
  return { majority: maj, all };
}

export interface FollowerView {
  self: string;
  servers: readonly string[];
  /** The Lease holder this node knows of ("" = none). */
  holder: string;
  heard: ReadonlyMap<string, Heard>;
  /** When this node last received a heartbeat from `holder`, or when this process started if never. */
  heardHolderAt: number;
  now: number;
  silenceMs: number;
  /** Peers' heartbeats older than this are not counted (ms). */
  freshMs: number;
}

/** This node has not heard the holder for silenceMs. */
export function selfSilent(v: FollowerView): boolean {
  return v.now - v.heardHolderAt >= v.silenceMs;
}

/**
 * The holder's own latest heartbeat says it no longer carries the VIP and
 * either its local API server is down or it stopped leading (cut off from
 * the API, it could not release the Lease): it gave up.
 */
export function holderGaveUp(v: FollowerView): boolean {
  const h = v.heard.get(v.holder);
  return h !== undefined && v.now - h.at < v.freshMs && !h.hb.holding && (!h.hb.apiOk || !h.hb.leader);
}

/**
 * Servers (counting this one) that currently find `holder` silent, or were
 * told by it that its API server is down, and so would back a fast takeover.
 */
export function silentVoters(v: FollowerView): string[] {
  const out: string[] = [];
  const gaveUp = holderGaveUp(v);
  if (selfSilent(v) || gaveUp) out.push(v.self);
  // A holder that says it gave up consents itself: with 2 servers that is the majority.
  if (gaveUp) out.push(v.holder);
  for (const name of v.servers) {
    if (name === v.self || name === v.holder) continue;
    const h = v.heard.get(name);
    if (!h || v.now - h.at >= v.freshMs || h.hb.holder !== v.holder) continue;
    if (h.hb.holderSilent || h.hb.holderApiDown) out.push(name);
  }
  return out;
}

/** A majority of all servers backs a fast takeover from `holder`. */
export function takeoverBacked(v: FollowerView): boolean {
  return v.holder !== "" && silentVoters(v).length >= majority(v.servers.length);
}

/**
 * The order in which healthy voters try to take over (never the holder): by name, so every node
 * computes the same order. This node's place in it (0 = first), or -1 when
 * it is not a candidate. The others wait rank × a step before they try, and
 * the Lease's resourceVersion precondition lets exactly one write win.
 */
export function candidateRank(v: FollowerView, selfApiOk: boolean): number {
  if (!selfApiOk) return -1;
  const voters = new Set(silentVoters(v));
  if (!voters.has(v.self)) return -1;
  const healthy = [...voters].filter((n) => n !== v.holder && (n === v.self || (v.heard.get(n)?.hb.apiOk ?? false))).sort();
  return healthy.indexOf(v.self);
}

/**
 * How many peers (not `self`) say, in a fresh heartbeat, that they reached
 * the API at or after `since` (this node's clock). A peer's success time is
 * taken as receipt − apiAgoMs: transit makes that a little late, so callers
 * add a margin to `since`.
 */
export function peersReachedApi(self: string, servers: readonly string[], heard: ReadonlyMap<string, Heard>, now: number, freshMs: number, since: number): number {
  let n = 0;
  for (const name of servers) {
    if (name === self) continue;
    const h = heard.get(name);
    if (!h || now - h.at >= freshMs || h.hb.apiAgoMs >= 0xffffffff) continue;
    if (h.at - h.hb.apiAgoMs >= since) n++;
  }
  return n;
}
