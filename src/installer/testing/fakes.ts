// Fakes for the installer's ports, for unit tests.
import { join } from "node:path";
import type { Fs } from "../fs.ts";
import { NodeFs } from "../node-fs.ts";
import type { DatastoreChecker, DatastoreResult } from "../datastore/check.ts";
import type { Datastore } from "../datastore/url.ts";
import type { DadResult, HostProbe } from "../preflight/host.ts";
import type { IpAddrInfo, IpLink } from "../../net/index.ts";

/** An interface as `ip -j addr show` prints it, from "address/prefix" strings. */
export function netIf(name: string, up: boolean, cidrs: string[], more: Partial<IpAddrInfo> = {}): IpLink {
  return {
    ifname: name,
    flags: up ? ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"] : ["BROADCAST", "MULTICAST"],
    addr_info: cidrs.map((c) => {
      const [local = "", plen = ""] = c.split("/");
      return { family: local.includes(":") ? "inet6" : "inet", local, prefixlen: Number(plen), scope: "global", ...more };
    }),
  };
}

/** A host described by data; probes answer from it. */
export class FakeHost implements HostProbe {
  uidValue = 0;
  ifaces: IpLink[] = [netIf("eth0", true, ["192.168.0.2/24"])];
  /** addr → MAC of whoever answers. */
  neighbours = new Map<string, string>();
  listening = new Set<number>();
  sans: string | undefined = undefined;
  probed: string[] = [];
  /** /proc/sys by path; a missing key reads as undefined. */
  sysctls = new Map<string, string>([["net/ipv6/conf/eth0/ndisc_notify", "0"], ["net/ipv6/conf/all/ndisc_notify", "0"], ["net/ipv6/conf/default/ndisc_notify", "0"]]);
  /** Set to make writes fail like a read-only /proc/sys. */
  sysctlReadOnly = false;

  uid(): number {
    return this.uidValue;
  }
  interfaces(): Promise<IpLink[]> {
    return Promise.resolve(this.ifaces);
  }
  duplicateAddress(iface: string, addr: string): Promise<DadResult> {
    this.probed.push(`${iface} ${addr}`);
    if (!this.ifaces.some((i) => i.ifname === iface)) return Promise.reject(new Error(`no interface ${iface}`));
    const by = this.neighbours.get(addr);
    return Promise.resolve(by ? { inUse: true, by } : { inUse: false });
  }
  tcpReachable(_host: string, port: number): Promise<boolean> {
    return Promise.resolve(this.listening.has(port));
  }
  portFree(_host: string, port: number): Promise<boolean> {
    return Promise.resolve(!this.listening.has(port));
  }
  servingCertSans(_host: string, port: number): Promise<string | undefined> {
    return Promise.resolve(this.listening.has(port) ? this.sans : undefined);
  }
  readSysctl(path: string): Promise<string | undefined> {
    return Promise.resolve(this.sysctls.get(path));
  }
  writeSysctl(path: string, value: string): Promise<void> {
    if (this.sysctlReadOnly) return Promise.reject(new Error(`EROFS: read-only file system, open '/proc/sys/${path}'`));
    if (!this.sysctls.has(path)) return Promise.reject(new Error(`ENOENT: no such file or directory, open '/proc/sys/${path}'`));
    this.sysctls.set(path, value);
    return Promise.resolve();
  }
}

/** A datastore checker that answers a fixed result and records what it was asked. */
export class FakeChecker implements DatastoreChecker {
  asked: Datastore[] = [];
  constructor(public result: DatastoreResult = { outcome: "ok", message: "fake ok", fix: "" }) {}
  check(d: Datastore): Promise<DatastoreResult> {
    this.asked.push(d);
    return Promise.resolve(this.result);
  }
}

/**
 * "/" of a pretend host: every absolute path lands under `base`, so an
 * install with root "" (which probes the host) writes into a temp dir.
 */
export class RebasedFs implements Fs {
  private readonly inner = new NodeFs();
  constructor(private readonly base: string) {}
  private p = (path: string) => join(this.base, path);
  read = (path: string) => this.inner.read(this.p(path));
  stat = (path: string) => this.inner.stat(this.p(path));
  lstat = (path: string) => this.inner.lstat(this.p(path));
  /** Back in the pretend host's terms; a path outside `base` stays as it is (it left the root). */
  realpath = async (path: string) => {
    const r = await this.inner.realpath(this.p(path));
    if (r === undefined) return undefined;
    return r === this.base ? "/" : r.startsWith(`${this.base}/`) ? r.slice(this.base.length) : r;
  };
  list = (path: string) => this.inner.list(this.p(path));
  mkdir = (path: string, mode: number) => this.inner.mkdir(this.p(path), mode);
  writeAtomic = (path: string, data: Buffer, mode: number) => this.inner.writeAtomic(this.p(path), data, mode);
  unlink = (path: string) => this.inner.unlink(this.p(path));
  rmdir = (path: string) => this.inner.rmdir(this.p(path));
  lock = (path: string, waitMs: number) => this.inner.lock(this.p(path), waitMs);
}
