// Host sysctls an IPv6 VIP needs, written by the installer (root on the host)
// because the agent cannot: containerd mounts /proc/sys read-only in a
// non-privileged pod, even with hostNetwork and NET_ADMIN.
//
// Kernel semantics (net/ipv6/addrconf.c addrconf_dad_completed(), and
// net/ipv6/ndisc.c ndisc_netdev_event()): an unsolicited NA goes out when
// `idev->cnf.ndisc_notify || devconf_all->ndisc_notify`, i.e. `conf.all` is
// OR-ed with the device's own value; `conf.default` only seeds devices created
// later. So:
// - interface known → only `conf.<if>.ndisc_notify = 1`: the narrowest change,
//   and the key the agent reads back before it trusts the NA;
// - interface unknown (--root without --interface) → `conf.all` (the kernel
//   reads it for every device) and `conf.default` (so devices created after
//   boot also read 1 in their own key, which is what the agent checks).
// accept_dad stays untouched: DAD protects the node's own addresses, so the
// NA still follows DAD (1–2 s) when the agent cannot skip it.
import ipaddr from "ipaddr.js";
import type { Config } from "../config/index.ts";
import { sysctlKey } from "../net/index.ts";

export { sysctlKey };

/** One setting; `path` is relative to /proc/sys with slashes (interface names may hold dots). */
export interface SysctlSetting {
  path: string;
  value: string;
}

/** What the installer did (or would do) to a running value. */
export interface SysctlAction {
  /** Relative to /proc/sys. */
  path: string;
  key: string;
  value: string;
  /** The running value before, when the host was probed. */
  before?: string;
  /** "set": changed now (or would, with --dry-run); "restore": put back what k3vip found. */
  kind: "set" | "restore";
  applied: boolean;
  error?: string;
}

/** In the state record: what k3vip set and what was there before (live host only). */
export interface SysctlRecord {
  path: string;
  value: string;
  before: string;
}

export const SYSCTL_FILE_NAME = "90-k3vip.conf";


/** The settings the VIP needs on this node: none for IPv4 or BGP (gratuitous ARP needs nothing). */
export function vipSysctls(config: Pick<Config, "vip" | "mode">, iface: string | undefined): SysctlSetting[] {
  if (config.mode !== "arp" || !ipaddr.isValid(config.vip) || ipaddr.parse(config.vip).kind() !== "ipv6") return [];
  if (iface) return [{ path: `net/ipv6/conf/${iface}/ndisc_notify`, value: "1" }];
  return ["all", "default"].map((d) => ({ path: `net/ipv6/conf/${d}/ndisc_notify`, value: "1" }));
}

/** The sysctl.d file (systemd-sysctl and procps `sysctl -p` read both key forms). */
export function renderSysctlFile(settings: readonly SysctlSetting[]): string {
  return [
    "# Written by k3vip (k3vip install or install.sh) for an IPv6 VIP.",
    "# The VIP is announced by the kernel's unsolicited Neighbor Advertisement,",
    "# sent only with ndisc_notify=1. The agent's pod cannot set it (/proc/sys is",
    "# read-only in a non-privileged container), so it is set here for every boot.",
    ...settings.map((s) => `${sysctlKey(s.path)} = ${s.value}`),
    "",
  ].join("\n");
}

/** The running values to change: set what differs, restore what a previous run set and this one no longer wants. */
export function planSysctls(desired: readonly SysctlSetting[], live: ReadonlyMap<string, string | undefined>, previous: readonly SysctlRecord[]): { actions: SysctlAction[]; record: SysctlRecord[] } {
  const actions: SysctlAction[] = [];
  const record: SysctlRecord[] = [];
  const prev = new Map(previous.map((p) => [p.path, p]));
  for (const s of desired) {
    const now = live.get(s.path);
    if (now === undefined) continue;
    // Keep the value found before k3vip's first run, not the one it set itself.
    record.push({ path: s.path, value: s.value, before: prev.get(s.path)?.before ?? now });
    if (now !== s.value) actions.push({ path: s.path, key: sysctlKey(s.path), value: s.value, before: now, kind: "set", applied: false });
  }
  const wanted = new Set(desired.map((s) => s.path));
  for (const p of previous) {
    if (wanted.has(p.path)) continue;
    const now = live.get(p.path);
    // Only undo our own value: someone who changed it since owns it now.
    if (now === p.value && p.before !== p.value) actions.push({ path: p.path, key: sysctlKey(p.path), value: p.before, before: now, kind: "restore", applied: false });
  }
  return { actions, record };
}
