// The node's network, for the agent and the installer's preflight alike:
// running `ip`, arping and ndisc6, reading and changing addresses and
// sysctls, probing for a duplicate address. The rules about addresses are
// pure and live in src/net; the ports these adapters implement live with
// their users (the agent's VipPort and ConflictProbe, the installer's
// HostProbe).
import { listAddrs, type Runner } from "./ip.ts";
import { interfaceForVip, type IpLink, type VipInterface } from "../net/index.ts";

export { CommandError, formatArgv, run, type CommandResult, type RunOptions } from "./exec.ts";
export { defaultRunner, listAddrs, type Runner } from "./ip.ts";
export { ArpingUnavailableError, detectArping, type Arping, type Burst } from "./arping.ts";
export { IpVipPort, VipError, createVipPort, type VipPortOptions } from "./vip.ts";
export { IpBatch, IpBatchError, type IpBatchOptions, type IpLineChannel } from "./ipbatch.ts";
export { SegmentConflictProbe, type ConflictProbeOptions } from "./conflict.ts";
export { probeDuplicate, type DadOptions, type DadResult } from "./dad.ts";
export { RealHostProbe, type RealHostProbeOptions } from "./preflight.ts";
export { procSysctl, runnerSysctl, sysctlKey, type SysctlAccess } from "./sysctl.ts";

/** Every interface and address of the node (`ip -j addr show`). */
export function listHostAddrs(opts: { run?: Runner } = {}): Promise<IpLink[]> {
  return listAddrs(opts.run);
}

/** The interface whose subnet holds `vip`, and that subnet's prefix length. */
export async function findInterfaceForVip(vip: string, opts: { run?: Runner } = {}): Promise<VipInterface | undefined> {
  return interfaceForVip(await listHostAddrs(opts), vip);
}
export { UdpHeartbeats, type UdpHeartbeatOptions } from "./heartbeat.ts";
