// VIP on the node: add/remove the address, announce it (gratuitous ARP /
// unsolicited NA), and read whether it is there. See adapter.ts for why the
// VIP never becomes the node's source address and how IPv6 is announced.
import ipaddr from "ipaddr.js";
import { run } from "./exec.ts";
import { IpVipPort, type VipPortOptions } from "./adapter.ts";
import { interfaceForVip, listAddrs, type Runner } from "./ip.ts";
import type { Vip, VipPort } from "./port.ts";

export type { Vip, VipPort } from "./port.ts";
export { IpVipPort, VipError, type VipPortOptions, type SysctlAccess } from "./adapter.ts";
export { FakeVipPort, type VipOp } from "./fake.ts";
export { CommandError, run, formatArgv, type CommandResult, type RunOptions } from "./exec.ts";
export { ArpingUnavailableError, detectArping, type Arping, type Burst } from "./arping.ts";
export { parseIpAddrJson, type IpLink, type IpAddrInfo, type Runner } from "./ip.ts";

export function createVipPort(opts: VipPortOptions = {}): VipPort {
  return new IpVipPort(opts);
}

/** The interface whose subnet holds `vip`, and that subnet's prefix length. */
export async function findInterfaceForVip(vip: string, opts: { run?: Runner } = {}): Promise<{ name: string; prefix: number } | undefined> {
  const runner = opts.run ?? ((argv: readonly string[]) => run(argv, { timeoutMs: 10_000 }));
  return interfaceForVip(await listAddrs(runner), vip);
}

/** Builds the port's Vip from an address and a resolved interface. */
export function toVip(address: string, iface: string): Vip {
  const family = ipaddr.process(address).kind() === "ipv4" ? 4 : 6;
  return { address, family, interface: iface };
}
