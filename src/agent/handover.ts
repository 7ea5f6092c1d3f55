// The handover from kube-vip (docs/kube-vip.md). kube-vip elects on its own
// Lease (plndr-cp-lock) and k3vip on another, so nothing in k3vip's election
// stops both from holding the VIP during a swap. Before its first election the
// agent therefore waits until:
//   1. kube-vip's Lease is gone, released (holder ""), or expired as client-go
//      judges it: unchanged for its leaseDurationSeconds while we watch;
//   2. then, if kube-vip's Lease was there at all, the VIP answers nowhere:
//      no copy on this node that k3vip did not add, and two duplicate-address
//      probes in a row get no answer (kube-vip releases its Lease *before* it
//      deletes the VIP, so a released Lease alone is not enough).
// It skips all of that as soon as k3vip's own Lease is live (another agent
// passed this gate: from there on k3vip's election keeps one holder).
import type { LeaseObject } from "./election/index.ts";
import { LeaseError } from "./lease.ts";
import type { Clock, ConflictProbe, Logger } from "./runner.ts";
import type { Vip } from "./vip/index.ts";

export interface HandoverDeps {
  /** kube-vip's Lease (`namespace/name`, for messages). */
  lease: string;
  /** Reads kube-vip's Lease; a `notFound` LeaseError when there is none. */
  peer: () => Promise<LeaseObject>;
  /** Reads k3vip's own Lease; a `notFound` LeaseError when there is none. */
  own: () => Promise<LeaseObject>;
  /** A copy of the VIP on this node that k3vip did not add (kube-vip's), described; undefined when none. */
  localCopy: () => Promise<string | undefined>;
  conflict: ConflictProbe;
  vip: Vip;
  clock: Clock;
  logger: Logger;
  /** Between polls of the Leases (ms). Default 500. */
  pollMs?: number;
}

export type HandoverResult = { open: true; reason: string } | { open: false; reason: "stopped" };

type Seen = { rv: string; since: number };

/** Waits for kube-vip to let go; resolves { open: false } when `signal` aborts first. */
export async function awaitHandover(d: HandoverDeps, signal: AbortSignal): Promise<HandoverResult> {
  const poll = d.pollMs ?? 500;
  let peerSeen: Seen | undefined;
  let ownSeen: Seen | undefined;
  let peerWasThere = false;
  let lastWait = "";
  let clearInARow = 0;
  let warned = false;
  const wait = (why: string, fields: Record<string, string | number> = {}) => {
    if (why !== lastWait) d.logger.log("info", `waiting for kube-vip to hand over the VIP: ${why}`, { lease: d.lease, ...fields });
    lastWait = why;
  };
  while (!signal.aborted) {
    const now = d.clock.now();
    // k3vip's own Lease live (renewed while we watch, or fresh by the clock): another agent passed this gate.
    const own = await read(d.own);
    if (own.kind === "lease" && own.lease.spec.holderIdentity !== "") {
      const fresh = own.lease.spec.renewTime !== null && Date.parse(own.lease.spec.renewTime) + own.lease.spec.leaseDurationSeconds * 1000 > now.wall;
      const renewed = ownSeen !== undefined && ownSeen.rv !== own.lease.resourceVersion;
      if (fresh || renewed) return done(d, lastWait, `k3vip's Lease is held by ${own.lease.spec.holderIdentity}`);
      ownSeen ??= { rv: own.lease.resourceVersion, since: now.mono };
    }
    const peer = await read(d.peer);
    let free: string | undefined;
    if (peer.kind === "absent") {
      if (!peerWasThere) return done(d, lastWait, `no kube-vip Lease ${d.lease}`);
      free = "kube-vip's Lease was deleted";
    } else if (peer.kind === "forbidden") {
      if (!warned) d.logger.log("warn", "cannot read kube-vip's Lease: the handover is judged by the VIP alone", { lease: d.lease, reason: peer.detail });
      warned = true;
      free = "kube-vip's Lease is unreadable";
    } else if (peer.kind === "error") {
      wait("the API server does not answer", { reason: peer.detail });
    } else {
      peerWasThere = true;
      const l = peer.lease;
      if (peerSeen?.rv !== l.resourceVersion) peerSeen = { rv: l.resourceVersion, since: now.mono };
      if (l.spec.holderIdentity === "") free = "kube-vip released its Lease";
      else if (now.mono - peerSeen.since >= l.spec.leaseDurationSeconds * 1000) free = `kube-vip's Lease expired (${l.spec.holderIdentity} stopped renewing it)`;
      else wait(`kube-vip's Lease is held by ${l.spec.holderIdentity}`);
    }
    if (free === undefined) clearInARow = 0;
    else {
      const copy = await d.localCopy();
      if (copy !== undefined) {
        clearInARow = 0;
        wait(`${free}, but the VIP is still on this node, not added by k3vip`, { reason: copy });
      } else {
        const r = await d.conflict.check(d.vip).catch((e: unknown) => ({ result: "unknown" as const, detail: e instanceof Error ? e.message : String(e) }));
        if (r.result === "clear") {
          if (++clearInARow >= 2) return done(d, lastWait, `${free} and the VIP answers nowhere`);
          continue;
        }
        clearInARow = 0;
        wait(`${free}, but ${r.result === "conflict" ? "the VIP still answers elsewhere" : "the VIP cannot be probed here"}`, { reason: r.detail });
      }
    }
    await sleep(d.clock, poll, signal);
  }
  return { open: false, reason: "stopped" };
}

function done(d: HandoverDeps, waited: string, reason: string): HandoverResult {
  d.logger.log("info", waited === "" ? "no kube-vip to hand over from" : "kube-vip handed over the VIP", { lease: d.lease, reason });
  return { open: true, reason };
}

type Read = { kind: "lease"; lease: LeaseObject } | { kind: "absent" } | { kind: "forbidden"; detail: string } | { kind: "error"; detail: string };

async function read(get: () => Promise<LeaseObject>): Promise<Read> {
  try {
    return { kind: "lease", lease: await get() };
  } catch (e) {
    if (e instanceof LeaseError && e.kind === "notFound") return { kind: "absent" };
    const detail = e instanceof Error ? e.message : String(e);
    // A ServiceAccount without `get` on that Lease (a hand-made manifest): go by the VIP.
    if (e instanceof LeaseError && e.status === 403) return { kind: "forbidden", detail };
    return { kind: "error", detail };
  }
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.setTimer(ms, () => {
      signal.removeEventListener("abort", stop);
      resolve();
    });
    const stop = () => {
      clock.clearTimer(t);
      resolve();
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}
