// Pure rules about the node's addresses, shared by the agent, the installer
// and the host adapter: the shape of `ip -j addr show`, which interface
// carries the VIP, k3vip's mark on its own copy, and when the VIP is the
// node's own address; sysctl key spelling. No I/O here.
export * from "./addresses.ts";
export { sysctlKey } from "./sysctl.ts";
