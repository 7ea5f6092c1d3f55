// The real adapter of the installer's HostProbe port: the node's interfaces,
// the duplicate-address probe and sysctls through a runner (which a test can
// aim at a lab namespace), and the socket probes (TCP, TLS, bind) in this
// process.
import { createConnection, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { HostProbe } from "../installer/index.ts";
import type { IpLink } from "../net/index.ts";
import { detectArping, type Arping } from "./arping.ts";
import { probeDuplicate, type DadResult } from "./dad.ts";
import { run } from "./exec.ts";
import { listAddrs, type Runner } from "./ip.ts";
import { procSysctl, runnerSysctl, type SysctlAccess } from "./sysctl.ts";

export interface RealHostProbeOptions {
  /** Runs ip, arping, ndisc6 (and, when given, the sysctl reads and writes) elsewhere, e.g. in a lab namespace. */
  run?: Runner;
  timeoutMs?: number;
}

export class RealHostProbe implements HostProbe {
  private readonly run: Runner;
  private readonly sysctl: SysctlAccess;
  private readonly timeoutMs: number;
  private arping: Promise<Arping> | undefined;

  constructor(opts: RealHostProbeOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.run = opts.run ?? ((argv) => run(argv, { timeoutMs: this.timeoutMs }));
    this.sysctl = opts.run ? runnerSysctl(opts.run) : procSysctl;
  }

  uid(): number {
    return process.getuid?.() ?? -1;
  }

  interfaces(): Promise<IpLink[]> {
    return listAddrs(this.run);
  }

  async duplicateAddress(iface: string, addr: string): Promise<DadResult> {
    const link = (await listAddrs(this.run, iface).catch(() => []))[0];
    return probeDuplicate(this.run, iface, addr, {
      tries: 2,
      waitMs: addr.includes(":") ? 700 : 1000,
      ownMac: link?.address?.toLowerCase(),
      arping: () => (this.arping ??= detectArping(this.run)),
    });
  }

  tcpReachable(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createConnection({ host, port, timeout: this.timeoutMs });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("timeout", () => {
        s.destroy();
        resolve(false);
      });
      s.once("error", () => resolve(false));
    });
  }

  portFree(host: string, port: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? resolve(false) : reject(e)));
      srv.listen({ host: host || undefined, port, exclusive: true }, () => srv.close(() => resolve(true)));
    });
  }

  readSysctl(path: string): Promise<string | undefined> {
    return this.sysctl.read(path);
  }

  writeSysctl(path: string, value: string): Promise<void> {
    return this.sysctl.write(path, value);
  }

  servingCertSans(host: string, port: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      // Reading the certificate, not trusting it: k3s's CA is not ours to know here.
      const s = tlsConnect({ host, port, rejectUnauthorized: false, timeout: this.timeoutMs, servername: host.includes(":") || /^[0-9.]+$/.test(host) ? "" : host });
      s.once("secureConnect", () => {
        const cert = s.getPeerCertificate();
        s.destroy();
        resolve(cert.subjectaltname ?? "");
      });
      s.once("timeout", () => {
        s.destroy();
        resolve(undefined);
      });
      s.once("error", () => resolve(undefined));
    });
  }
}
