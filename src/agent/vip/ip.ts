// Reading addresses with `ip -j addr show` (JSON; never scrape the text form).
import ipaddr from "ipaddr.js";
import type { CommandResult } from "./exec.ts";

export type Runner = (argv: readonly string[]) => Promise<CommandResult>;

export interface IpAddrInfo {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  scope?: string;
  /** Present and true for flags `ip -j` prints as booleans. */
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
  secondary?: boolean;
  nodad?: boolean;
  noprefixroute?: boolean;
  optimistic?: boolean;
  preferred_life_time?: number;
}

export interface IpLink {
  ifname: string;
  flags?: string[];
  operstate?: string;
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

export async function listAddrs(runner: Runner, dev?: string): Promise<IpLink[]> {
  const argv = ["ip", "-j", "addr", "show", ...(dev ? ["dev", dev] : [])];
  return parseIpAddrJson((await runner(argv)).stdout);
}

/** Canonical text of an address, so "fd00:6b33:0::10" and "fd00:6b33::10" compare equal. */
export function canonicalIp(address: string): string {
  return ipaddr.process(address).toString();
}

/** The address entry for `address` on `link`, if any. */
export function findAddr(link: IpLink | undefined, address: string): IpAddrInfo | undefined {
  if (!link) return undefined;
  const want = canonicalIp(address);
  return link.addr_info.find((a) => {
    try {
      return canonicalIp(a.local) === want;
    } catch {
      return false;
    }
  });
}

/**
 * The interface whose own subnet holds `vip` (an address other than the VIP
 * itself, with a prefix shorter than a host route). The first match in `ip`'s
 * order wins, which is the kernel's interface order.
 */
export function interfaceForVip(links: IpLink[], vip: string): { name: string; prefix: number } | undefined {
  const target = ipaddr.process(vip);
  const want = target.toString();
  for (const link of links) {
    if (link.flags?.includes("LOOPBACK")) continue;
    for (const a of link.addr_info) {
      const hostBits = a.family === "inet" ? 32 : 128;
      if (a.prefixlen >= hostBits || (a.scope !== undefined && a.scope !== "global")) continue;
      let addr;
      try {
        addr = ipaddr.process(a.local);
      } catch {
        continue;
      }
      if (addr.kind() !== target.kind() || addr.toString() === want) continue;
      if (target.match(addr, a.prefixlen)) return { name: link.ifname, prefix: a.prefixlen };
    }
  }
  return undefined;
}
