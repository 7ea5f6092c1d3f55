// The VIP on the node, as the election needs it: the port (add, remove,
// announce, held) that src/host implements with `ip` and arping, and a
// stateful fake for tests in testing/.
import ipaddr from "ipaddr.js";
import type { Vip } from "./port.ts";

export type { Vip, VipPort } from "./port.ts";

/** Builds the port's Vip from an address and a resolved interface. */
export function toVip(address: string, iface: string): Vip {
  const family = ipaddr.process(address).kind() === "ipv4" ? 4 : 6;
  return { address, family, interface: iface };
}
