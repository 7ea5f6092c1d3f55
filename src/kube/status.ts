// `k3vip status`: who holds the VIP according to the Lease.
import type { LeaseObject } from "../agent/index.ts";

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

/** One server's agent as its /metrics tell it (null fields: not reachable / not exported). */
export interface AgentView {
  node: string;
  address: string;
  reachable: boolean;
  error?: string;
  leader: boolean | null;
  vipHeld: boolean | null;
  apiServerHealthy: boolean | null;
  ready: boolean | null;
}

/** Reads the gauges k3vip's agent exports from a Prometheus text page. */
export function parseAgentMetrics(text: string): Pick<AgentView, "leader" | "vipHeld" | "apiServerHealthy" | "ready"> {
  const gauge = (name: string): boolean | null => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
    return m ? Number(m[1]) === 1 : null;
  };
  return { leader: gauge("k3vip_leader"), vipHeld: gauge("k3vip_vip_held"), apiServerHealthy: gauge("k3vip_apiserver_healthy"), ready: gauge("k3vip_ready") };
}

export function formatAgents(agents: AgentView[]): string {
  if (agents.length === 0) return "";
  const yn = (v: boolean | null) => (v === null ? "?" : v ? "yes" : "no");
  const rows = agents.map((a) =>
    a.reachable ? [a.node, a.address, yn(a.leader), yn(a.vipHeld), yn(a.apiServerHealthy), yn(a.ready)] : [a.node, a.address, "-", "-", "-", `unreachable: ${a.error ?? ""}`],
  );
  const head = ["SERVER", "ADDRESS", "LEADER", "VIP", "API SERVER OK", "READY"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
