// `k3vip status`: who holds the VIP according to the Lease.
import type { LeaseObject } from "../agent/election/index.ts";

export interface LeaseStatus {
  lease: string;
  server: string;
  exists: boolean;
  /** null when there is no Lease or nobody holds it (released). */
  holder: string | null;
  acquireTime: string | null;
  renewTime: string | null;
  leaseDurationSeconds: number | null;
  transitions: number | null;
  /** Seconds since renewTime by this machine's clock (skew between nodes shows here). */
  renewAgeSeconds: number | null;
  /** The holder has not renewed within its lease duration (by this machine's clock). */
  expired: boolean;
  resourceVersion: string | null;
}

export function leaseStatus(lease: LeaseObject | null, where: { lease: string; server: string }, nowMs: number): LeaseStatus {
  if (!lease) {
    return { ...where, exists: false, holder: null, acquireTime: null, renewTime: null, leaseDurationSeconds: null, transitions: null, renewAgeSeconds: null, expired: false, resourceVersion: null };
  }
  const s = lease.spec;
  const renew = s.renewTime ? Date.parse(s.renewTime) : NaN;
  const age = Number.isNaN(renew) ? null : Math.round((nowMs - renew) / 100) / 10;
  return {
    ...where,
    exists: true,
    holder: s.holderIdentity || null,
    acquireTime: s.acquireTime,
    renewTime: s.renewTime,
    leaseDurationSeconds: s.leaseDurationSeconds,
    transitions: s.leaseTransitions,
    renewAgeSeconds: age,
    expired: s.holderIdentity !== "" && age !== null && age > s.leaseDurationSeconds,
    resourceVersion: lease.resourceVersion,
  };
}

function ago(seconds: number): string {
  if (seconds < 0) return `${-seconds} s in the future (clock skew)`;
  if (seconds < 120) return `${seconds} s ago`;
  const m = Math.floor(seconds / 60);
  if (m < 120) return `${m}m${Math.floor(seconds % 60)}s ago`;
  return `${Math.floor(m / 60)}h${m % 60}m ago`;
}

/** Human-readable, several lines. */
export function formatStatus(st: LeaseStatus, nowMs: number): string {
  if (!st.exists) return `No Lease ${st.lease} at ${st.server}: no agent has run yet (is the add-on installed? try: k3vip doctor)\n`;
  const lines = [`Lease ${st.lease} (API ${st.server})`];
  if (st.holder === null) lines.push(`  holder:       none (released; a healthy agent takes it within moments)`);
  else lines.push(`  holder:       ${st.holder}${st.expired ? "  (EXPIRED: not renewed within the lease duration)" : ""}`);
  if (st.acquireTime) {
    const since = (nowMs - Date.parse(st.acquireTime)) / 1000;
    lines.push(`  since:        ${st.acquireTime} (${ago(Math.round(since))})`);
  }
  if (st.renewAgeSeconds !== null) lines.push(`  last renew:   ${ago(st.renewAgeSeconds)} (lease duration ${st.leaseDurationSeconds} s)`);
  lines.push(`  transitions:  ${st.transitions}`);
  return `${lines.join("\n")}\n`;
}

/** One line per change, for --watch. */
export function formatStatusLine(st: LeaseStatus, event: string): string {
  const t = new Date().toISOString();
  if (!st.exists) return `${t} ${event} no Lease\n`;
  return `${t} ${event} holder=${st.holder ?? "-"} transitions=${st.transitions} renewAge=${st.renewAgeSeconds ?? "-"}s${st.expired ? " EXPIRED" : ""}\n`;
}
