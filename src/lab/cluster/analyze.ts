// Turns the client's request records into the benchmark's figures. Pure.
//
// - outage: the longest time between two consecutive *successful
//   completions* in the trial window. With a request started every 10 ms,
//   completions normally come every ~10 ms; a failover shows up as one long
//   gap, whether requests fail fast (refused), hang (timeouts) or are late
//   (a SYN sent to the old holder's MAC is retransmitted 1 s later).
// - failed requests: logical requests that still failed after their retries.
// - transitions: how often the answering server changes, in order of
//   request start. A failover scenario expects 1; any more is a flap.
import type { PingRecord } from "../responder/pinger.ts";

export interface TrialStats {
  outageMs: number;
  failedRequests: number;
  requests: number;
  transitions: number;
  flaps: number;
  /** Answers per server. */
  servedBy: Record<string, number>;
  /** Server answering the last successful request in the window. */
  lastServer: string | undefined;
}

export function analyzeTrial(records: readonly PingRecord[], window: { from: number; to: number }, expectedMoves: number): TrialStats {
  const inWindow = records.filter((r) => r.s >= window.from && r.s <= window.to);
  const ok = inWindow.filter((r) => r.by !== null);
  const ends = ok.map((r) => r.e).sort((a, b) => a - b);
  // The gap starts at the last success before the window, if any.
  const before = records.filter((r) => r.by !== null && r.e <= window.from).reduce((m, r) => Math.max(m, r.e), -Infinity);
  let prev = before === -Infinity ? (ends[0] ?? window.from) : before;
  let outage = 0;
  for (const e of ends) {
    outage = Math.max(outage, e - prev);
    prev = Math.max(prev, e);
  }
  // Still no answer when the window closed: the outage lasts at least until then.
  outage = Math.max(outage, window.to - prev);
  const byStart = [...ok].sort((a, b) => a.s - b.s);
  let transitions = 0;
  const servedBy: Record<string, number> = {};
  for (let i = 0; i < byStart.length; i++) {
    const by = byStart[i]!.by as string;
    servedBy[by] = (servedBy[by] ?? 0) + 1;
    if (i > 0 && byStart[i - 1]!.by !== by) transitions++;
  }
  return {
    outageMs: Math.round(outage),
    failedRequests: inWindow.length - ok.length,
    requests: inWindow.length,
    transitions,
    flaps: Math.max(0, transitions - expectedMoves),
    servedBy,
    lastServer: byStart[byStart.length - 1]?.by ?? undefined,
  };
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
