// VIP on the node: add/remove the address, announce it (gratuitous ARP /
// unsolicited NA), and read whether it is there. See adapter.ts for why the
// VIP never becomes the node's source address and how IPv6 is announced.
import ipaddr from "ipaddr.js";
import { run } from "../../host/exec.ts";
import { IpVipPort, type VipPortOptions } from "./adapter.ts";
import { interfaceForVip, listAddrs, type IpLink, type Runner } from "./ip.ts";
import type { Vip, VipPort } from "./port.ts";

export type { Vip, VipPort } from "./port.ts";
export { IpVipPort, VipError, type VipPortOptions, type SysctlAccess } from "./adapter.ts";
export { FakeVipPort, type VipOp } from "./fake.ts";
export { CommandError, run, formatArgv, type CommandResult, type RunOptions } from "../../host/exec.ts";
export { ArpingUnavailableError, detectArping, type Arping, type Burst } from "./arping.ts";
export { parseIpAddrJson, type IpLink, type IpAddrInfo, type Runner } from "./ip.ts";

export function createVipPort(opts: VipPortOptions = {}): VipPort {
  return new IpVipPort(opts);
}

/** Every interface and address of the node (`ip -j addr show`). */
export function listHostAddrs(opts: { run?: Runner } = {}): Promise<IpLink[]> {
  return listAddrs(opts.run ?? ((argv: readonly string[]) => run(argv, { timeoutMs: 10_000 })));
}

/** The interface whose subnet holds `vip`, and that subnet's prefix length. */
export async function findInterfaceForVip(vip: string, opts: { run?: Runner } = {}): Promise<{ name: string; prefix: number } | undefined> {
  return interfaceForVip(await listHostAddrs(opts), vip);
}

/** Builds the port's Vip from an address and a resolved interface. */
export function toVip(address: string, iface: string): Vip {
  const family = ipaddr.process(address).kind() === "ipv4" ? 4 : 6;
  return { address, family, interface: iface };
}
