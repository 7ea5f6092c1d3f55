// An in-memory `ip` for unit tests of adapters that run `ip -j addr show`,
// `ip addr add` and `ip addr del`: it keeps addresses per interface and
// matches a delete the way the kernel does (address + prefix length, and the
// label when one is given), so a test sees exactly what a real node would
// lose. Anything it does not understand fails the test loudly.
import type { IpAddrInfo, IpLink } from "../../net/index.ts";
import { canonicalIp } from "../../net/index.ts";

export interface FakeCommandError extends Error {
  exitCode: number;
  stderr: string;
}

export type FakeRunner = (argv: readonly string[]) => Promise<{ stdout: string; stderr: string }>;

export class FakeIp {
  readonly links: IpLink[];
  /** Every argv run, in order. */
  readonly calls: string[][] = [];
  /** Other commands (sysctl, arping …): return output or throw. */
  other: (argv: readonly string[]) => { stdout: string; stderr: string } = (argv) => {
    throw new Error(`FakeIp: unexpected command ${argv.join(" ")}`);
  };

  constructor(links: IpLink[]) {
    this.links = links.map((l) => ({ ...l, addr_info: l.addr_info.map((a) => ({ ...a })) }));
  }

  /** The runner to hand to the adapter; `makeError` builds the adapter's CommandError. */
  runner(makeError: (argv: readonly string[], code: number, stderr: string) => Error): FakeRunner {
    return (argv) => {
      this.calls.push([...argv]);
      try {
        return Promise.resolve(this.exec(argv, makeError));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
  }

  /**
   * An `ip -batch` channel onto the same addresses: each line runs as
   * `ip <line>` (and is recorded in `calls` so), a failure rejects with
   * `makeError(message)` as the real channel's IpBatchError would.
   */
  batch(makeError: (message: string) => Error): { exec(line: string): Promise<void>; close(): Promise<void> } {
    return {
      exec: (line) => {
        const argv = ["ip", ...line.split(" ").map((w, i) => (i === 0 && w === "address" ? "addr" : w))];
        this.calls.push(argv);
        try {
          this.exec(argv, (_argv, _code, stderr) => makeError(`ip: ${stderr}`));
          return Promise.resolve();
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
      close: () => Promise.resolve(),
    };
  }

  addresses(ifname: string): IpAddrInfo[] {
    return this.links.find((l) => l.ifname === ifname)?.addr_info ?? [];
  }

  private exec(argv: readonly string[], err: (argv: readonly string[], code: number, stderr: string) => Error): { stdout: string; stderr: string } {
    if (argv[0] !== "ip") return this.other(argv);
    const a = argv.slice(1).filter((x) => x !== "-4" && x !== "-6");
    if (a[0] === "-j" && a[1] === "addr" && a[2] === "show") {
      const dev = a[3] === "dev" ? a[4] : undefined;
      const links = dev ? this.links.filter((l) => l.ifname === dev) : this.links;
      if (dev && links.length === 0) throw err(argv, 1, `Device "${dev}" does not exist.`);
      return { stdout: JSON.stringify(links), stderr: "" };
    }
    if (a[0] === "addr" && (a[1] === "add" || a[1] === "del")) {
      const [addr = "", plen = ""] = (a[2] ?? "").split("/");
      const opts = new Map<string, string>();
      const flags = new Set<string>();
      for (let i = 3; i < a.length; i++) {
        const k = a[i] ?? "";
        if (["dev", "label", "valid_lft", "preferred_lft"].includes(k)) opts.set(k, a[++i] ?? "");
        else flags.add(k);
      }
      const link = this.links.find((l) => l.ifname === opts.get("dev"));
      if (!link) throw err(argv, 1, `Cannot find device "${opts.get("dev") ?? ""}"`);
      const family = addr.includes(":") ? "inet6" : "inet";
      const prefixlen = Number(plen || (family === "inet" ? 32 : 128));
      const same = (x: IpAddrInfo) => canonicalIp(x.local) === canonicalIp(addr) && x.prefixlen === prefixlen && (!opts.has("label") || x.label === opts.get("label"));
      if (a[1] === "del") {
        const i = link.addr_info.findIndex(same);
        if (i < 0) throw err(argv, 2, opts.has("label") ? "Error: ipv4: Address not found." : "RTNETLINK answers: Cannot assign requested address");
        link.addr_info.splice(i, 1);
        return { stdout: "", stderr: "" };
      }
      if (link.addr_info.some((x) => canonicalIp(x.local) === canonicalIp(addr) && x.prefixlen === prefixlen)) throw err(argv, 2, "RTNETLINK answers: File exists");
      const life = (k: string) => (opts.get(k) === undefined || opts.get(k) === "forever" ? 4294967295 : Number(opts.get(k)));
      const entry: IpAddrInfo = { family, local: addr, prefixlen, scope: "global", valid_life_time: life("valid_lft"), preferred_life_time: life("preferred_lft") };
      if (flags.has("noprefixroute")) entry.noprefixroute = true;
      if (family === "inet") entry.label = opts.get("label") ?? link.ifname;
      if (entry.preferred_life_time === 0) entry.deprecated = true;
      if (entry.valid_life_time !== 4294967295) entry.dynamic = true;
      link.addr_info.push(entry);
      return { stdout: "", stderr: "" };
    }
    throw new Error(`FakeIp: unexpected command ${argv.join(" ")}`);
  }
}
