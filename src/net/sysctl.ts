/** `net/ipv6/conf/eth0/ndisc_notify` → `net.ipv6.conf.eth0.ndisc_notify`; the slash form stays when a part holds a dot (eth0.100), as sysctl(8) and sysctl.d read it. */
export function sysctlKey(path: string): string {
  const parts = path.split("/");
  return parts.some((p) => p.includes(".")) ? path : parts.join(".");
}
