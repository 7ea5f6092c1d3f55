// Host probes behind one port: `--root` never calls them, tests fake them,
// and the lab runs the real adapter inside its own network namespace.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { parseIpAddrJson, type IpLink } from "../../net/index.ts";


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

export class ProbeError extends Error {}

interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (optionally behind a prefix such as `ip netns exec <ns>`); never throws on exit codes. */
function run(argv: string[], timeoutMs: number): Promise<ExecResult> {
  const [cmd = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") {
        reject(new ProbeError(`${argv.join(" ")} failed: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr });
    });
  });
}

export class RealHostProbe implements HostProbe {
  /**
   * `prefix` runs the probing commands (ip, arping, ndisc6) elsewhere, e.g.
   * ["ip", "netns", "exec", "k3v-…"]; the socket probes stay in this process.
   */
  constructor(
    private readonly prefix: string[] = [],
    private readonly timeoutMs = 5000,
  ) {}

  uid(): number {
    return process.getuid?.() ?? -1;
  }

  async interfaces(): Promise<IpLink[]> {
    const r = await run([...this.prefix, "ip", "-j", "addr", "show"], this.timeoutMs);
    if (r.code !== 0) throw new ProbeError(`ip -j addr show exited ${r.code}: ${r.stderr.trim()}`);
    return parseIpAddrJson(r.stdout);
  }

  async duplicateAddress(iface: string, addr: string): Promise<DadResult> {
    if (addr.includes(":")) {
      // ndisc6 sends a Neighbor Solicitation and exits 0 when someone answers.
      const r = await run([...this.prefix, "ndisc6", "-1", "-r", "2", "-w", "700", addr, iface], this.timeoutMs);
      const mac = /Target link-layer address:\s*([0-9A-Fa-f:]+)/.exec(r.stdout)?.[1];
      if (r.code === 0 && mac) return { inUse: true, by: mac };
      if (/No response/i.test(r.stdout + r.stderr) || r.code === 2) return { inUse: false };
      throw new ProbeError(`ndisc6 ${addr} ${iface} failed: ${(r.stderr || r.stdout).trim()}`);
    }
    // iputils arping -D: duplicate address detection (source 0.0.0.0, RFC 5227);
    // exit 0 = nobody answered, 1 = a reply came.
    const r = await run([...this.prefix, "arping", "-D", "-c", "2", "-w", "3", "-I", iface, addr], this.timeoutMs);
    const mac = /reply from \S+ \[([0-9A-Fa-f:]+)\]/i.exec(r.stdout)?.[1];
    if (r.code === 0) return { inUse: false };
    if (r.code === 1 && mac) return { inUse: true, by: mac };
    throw new ProbeError(`arping -D -I ${iface} ${addr} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
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

  async readSysctl(path: string): Promise<string | undefined> {
    const file = `/proc/sys/${path}`;
    if (this.prefix.length === 0) {
      try {
        return (await readFile(file, "utf8")).trim();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    }
    // /proc/sys/net shows the namespace of whoever opens it: read from inside the prefix.
    const r = await run([...this.prefix, "cat", file], this.timeoutMs);
    if (r.code === 0) return r.stdout.trim();
    if (/No such file/i.test(r.stderr)) return undefined;
    throw new ProbeError(`reading ${file} failed: ${r.stderr.trim()}`);
  }

  async writeSysctl(path: string, value: string): Promise<void> {
    const file = `/proc/sys/${path}`;
    if (this.prefix.length === 0) {
      await writeFile(file, value);
      return;
    }
    const r = await run([...this.prefix, "sh", "-c", 'printf %s "$1" > "$2"', "sh", value, file], this.timeoutMs);
    if (r.code !== 0) throw new ProbeError(`writing ${file} failed: ${r.stderr.trim()}`);
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
