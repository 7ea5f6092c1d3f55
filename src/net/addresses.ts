// The node's addresses as `ip -j addr show` prints them (JSON; never scrape
// the text form), and the rules every k3vip component applies to them: which
// interface carries the VIP, which copy of the VIP is k3vip's own (its mark),
// and when the VIP is the node's own address. Pure: no I/O here.
import ipaddr from "ipaddr.js";

export interface IpAddrInfo {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  scope?: string;
  /** IPv4 only: the address label (`eth0`, `eth0:k3vip`). */
  label?: string;
  /** Present and true for flags `ip -j` prints as booleans. */
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
  secondary?: boolean;
  nodad?: boolean;
  noprefixroute?: boolean;
  optimistic?: boolean;
  dynamic?: boolean;
  /** Seconds; 4294967295 = forever. */
  valid_life_time?: number;
  preferred_life_time?: number;
}

export interface IpLink {
  ifname: string;
  flags?: string[];
  operstate?: string;
  /** The link-layer (MAC) address. */
  address?: string;
  addr_info: IpAddrInfo[];
}

/** Parses `ip -j addr show` output; throws with the start of the text when it is not the JSON we expect. */
export function parseIpAddrJson(text: string): IpLink[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim() === "" ? "[]" : text);
  } catch (e) {
    throw new Error(`could not parse \`ip -j addr show\` output as JSON (starts with ${JSON.stringify(text.slice(0, 60))})`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new Error("`ip -j addr show` did not return a JSON array");
  // `ip -j` prints an empty object for links it skips; keep only real entries.
  return (parsed as Partial<IpLink>[])
    .filter((l): l is IpLink => typeof l.ifname === "string")
    .map((l) => ({ ...l, addr_info: Array.isArray(l.addr_info) ? l.addr_info : [] }));
}

/** Canonical text of an address, so "fd00:6b33:0::10" and "fd00:6b33::10" compare equal. */
export function canonicalIp(address: string): string {
  return ipaddr.process(address).toString();
}

/** Whether two address texts name the same address (false when either is not one). */
export function sameIp(a: string, b: string): boolean {
  try {
    return canonicalIp(a) === canonicalIp(b);
  } catch {
    return false;
  }
}

export const hostBits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

export function familyOf(address: string): 4 | 6 {
  return ipaddr.process(address).kind() === "ipv4" ? 4 : 6;
}

/** The address entry for `address` on `link`, if any. */
export function findAddr(link: IpLink | undefined, address: string): IpAddrInfo | undefined {
  return link?.addr_info.find((a) => sameIp(a.local, address));
}

/** The interface that carries the VIP, when none is configured. */
export interface VipInterface {
  name: string;
  /** The prefix length of the subnet that holds the VIP. */
  prefix: number;
  /** Other interfaces whose subnet holds the VIP with the same prefix: the choice is ambiguous. */
  ties: string[];
}

/**
 * The one rule for "which interface carries the VIP" when none is given
 * (the agent, preflight, the installer's sysctls; install.sh's awk
 * `detect_line` is its parity-tested copy): among the node's own subnets
 * that hold the VIP — global scope, not loopback, not a host route (/32,
 * /128), not the VIP itself — the longest prefix wins. Two interfaces with
 * that same prefix are a tie the caller reports, never a silent pick.
 */
export function interfaceForVip(links: readonly IpLink[], vip: string): VipInterface | undefined {
  const target = ipaddr.process(vip);
  const want = target.toString();
  let best: VipInterface | undefined;
  for (const link of links) {
    if (link.flags?.includes("LOOPBACK") || link.ifname === "lo") continue;
    for (const a of link.addr_info) {
      const bits = a.family === "inet" ? 32 : 128;
      if (a.prefixlen >= bits || (a.scope !== undefined && a.scope !== "global")) continue;
      let addr;
      try {
        addr = ipaddr.process(a.local);
      } catch {
        continue;
      }
      if (addr.kind() !== target.kind() || addr.toString() === want || !target.match(addr, a.prefixlen)) continue;
      if (!best || a.prefixlen > best.prefix) best = { name: link.ifname, prefix: a.prefixlen, ties: [] };
      else if (a.prefixlen === best.prefix && link.ifname !== best.name && !best.ties.includes(link.ifname)) best.ties.push(link.ifname);
    }
  }
  return best;
}

/** One line for a tie: several interfaces hold the VIP's subnet. */
export function ambiguousInterface(m: VipInterface, vip: string): string {
  return `several interfaces have a subnet holding the VIP ${vip} (${[m.name, ...m.ties].join(", ")})`;
}

// ---------------------------------------------------------------- the mark
//
// k3vip removes only an address it could have added itself, never one of the
// node's (a VIP equal to the node's address once took a server off the
// network). Its copy of the VIP carries a mark nothing else sets together:
// - IPv4: /32, `noprefixroute`, and the label `<if>:k3vip` (shortened to
//   `<if>:k3` for interface names of 10–12 characters: a label is at most 15
//   characters and iproute2 wants it to start with the interface name).
//   Names of 13–15 characters cannot carry a label: /32 + noprefixroute then.
// - IPv6: /128, `noprefixroute`, and preferred lifetime 0 (deprecated, so it
//   is never picked as a source address: see agent/vip/README.md).

const LABEL_MAX = 15;

/** The IPv4 label k3vip gives its copy of the VIP on `iface`, or undefined when the name leaves no room. */
export function vipLabel(iface: string): string | undefined {
  for (const suffix of ["k3vip", "k3"]) {
    const label = `${iface}:${suffix}`;
    if (label.length <= LABEL_MAX) return label;
  }
  return undefined;
}

/** Whether `a` (an entry equal to the VIP on `iface`) carries k3vip's mark. */
export function isMarked(a: IpAddrInfo, iface: string): boolean {
  if (a.noprefixroute !== true) return false;
  if (a.family === "inet") {
    if (a.prefixlen !== 32) return false;
    const label = vipLabel(iface);
    return label === undefined || a.label === label;
  }
  return a.prefixlen === 128 && (a.preferred_life_time === 0 || a.deprecated === true);
}

/** One copy of the VIP found on the node. */
export interface VipCopy {
  ifname: string;
  entry: IpAddrInfo;
  /** Carries k3vip's mark: k3vip may remove it. */
  ours: boolean;
  /** The node's own address (a subnet prefix, not a host route). */
  own: boolean;
}

/** Every copy of `vip` on any of `links`. */
export function vipCopies(links: readonly IpLink[], vip: string): VipCopy[] {
  const out: VipCopy[] = [];
  for (const link of links) {
    for (const a of link.addr_info) {
      if (!sameIp(a.local, vip)) continue;
      const bits = a.family === "inet" ? 32 : 128;
      out.push({ ifname: link.ifname, entry: a, ours: isMarked(a, link.ifname), own: a.prefixlen < bits });
    }
  }
  return out;
}

/**
 * The one-line refusal when `vip` is an address of this node that k3vip did
 * not add, or undefined. `ownOnly`: report only the node's own addresses
 * (subnet prefixes), not host routes another program added (the installer
 * leaves those to its preflight, which knows about --migrate).
 */
export function foreignVipProblem(links: readonly IpLink[], vip: string, opts: { ownOnly?: boolean } = {}): string | undefined {
  const copies = vipCopies(links, vip).filter((c) => !c.ours);
  const own = copies.find((c) => c.own);
  if (own) return `the VIP ${vip} is this node's own address on ${own.ifname} (${vip}/${own.entry.prefixlen}); pick a free address in the subnet`;
  const other = copies[0];
  if (!other || opts.ownOnly) return undefined;
  return `the VIP ${vip} is on ${other.ifname} as /${other.entry.prefixlen} without k3vip's mark (${markText(other.ifname, familyOf(vip))}): another program added it (kube-vip? keepalived?); stop it, or pick a free address in the subnet`;
}

/** How k3vip's mark looks on `iface`, for messages and docs. */
export function markText(iface: string, family: 4 | 6): string {
  if (family === 6) return "/128 noprefixroute, preferred_lft 0";
  const label = vipLabel(iface);
  return label ? `/32 noprefixroute, label ${label}` : "/32 noprefixroute";
}
