// What preflight needs from the host, as a port: `--root` never calls it,
// tests fake it (testing/fakes.ts), and src/host/preflight.ts is the real
// adapter (the lab runs it inside its own network namespace).
import type { IpLink } from "../../net/index.ts";

export interface DadResult {
  inUse: boolean;
  /** Who answered (MAC), when in use. */
  by?: string;
}

export interface HostProbe {
  uid(): number;
  /** Every interface with its addresses (`ip -j addr show`). */
  interfaces(): Promise<IpLink[]>;
  /** Duplicate-address probe for `addr` on `iface` (ARP DAD for IPv4, NS for IPv6). */
  duplicateAddress(iface: string, addr: string): Promise<DadResult>;
  tcpReachable(host: string, port: number): Promise<boolean>;
  /** True when nothing listens on host:port (we could bind it). */
  portFree(host: string, port: number): Promise<boolean>;
  /** The serving certificate's subjectAltName string ("DNS:a, IP Address:1.2.3.4"), or undefined if no TLS there. */
  servingCertSans(host: string, port: number): Promise<string | undefined>;
  /** A sysctl's running value (`path` relative to /proc/sys); undefined when it does not exist. */
  readSysctl(path: string): Promise<string | undefined>;
  writeSysctl(path: string, value: string): Promise<void>;
}
