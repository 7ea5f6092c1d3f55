// Duplicate-address probe for the VIP, used by a holder whose Lease renews
// fail (a brown-out or an asymmetric partition, see the election's rule 3):
// if another host already answers for the VIP, a node whose writes succeed
// took over and we must let go now, not at the end of the brown-out hold.
// IPv4: ARP probe with sender 0.0.0.0 (RFC 5227, `arping -D`): exit 1 = a
// reply came. IPv6: a neighbour solicitation (`ndisc6`): a reply names the
// answering MAC (measured: our own stack does not answer our own probe, but
// we ignore our own MAC anyway). No carrier on the interface means the VIP is
// unreachable here whatever the Lease says.
import { readFile } from "node:fs/promises";
import type { ConflictProbe, Vip } from "../agent/index.ts";
import { detectArping, type Arping } from "./arping.ts";
import { CommandError, run } from "./exec.ts";
import type { Runner } from "./ip.ts";

export interface ConflictProbeOptions {
  run?: Runner;
  /** Reads /sys/class/net/<if>/<attr>; null when unreadable (EINVAL on a down interface). */
  readSys?: (iface: string, attr: string) => Promise<string | null>;
  arping?: string;
}

const defaultRun: Runner = (argv) => run(argv, { timeoutMs: 5000 });

async function defaultReadSys(iface: string, attr: string): Promise<string | null> {
  try {
    return (await readFile(`/sys/class/net/${iface}/${attr}`, "utf8")).trim();
  } catch {
    return null;
  }
}

export class SegmentConflictProbe implements ConflictProbe {
  private arping: Promise<Arping> | undefined;
  private readonly run: Runner;
  private readonly readSys: (iface: string, attr: string) => Promise<string | null>;

  constructor(private readonly opts: ConflictProbeOptions = {}) {
    this.run = opts.run ?? defaultRun;
    this.readSys = opts.readSys ?? defaultReadSys;
  }

  async check(vip: Vip): Promise<{ result: "clear" | "conflict" | "unusable"; detail: string }> {
    const carrier = await this.readSys(vip.interface, "carrier");
    if (carrier !== "1") return { result: "unusable", detail: `${vip.interface} has no carrier` };
    return vip.family === 4 ? this.arp(vip) : this.ndp(vip);
  }

  private async arp(vip: Vip): Promise<{ result: "clear" | "conflict"; detail: string }> {
    this.arping ??= detectArping(this.run, this.opts.arping);
    const a = await this.arping;
    try {
      await this.run([...a.argv, "-D", "-c", "1", "-w", "1", "-I", vip.interface, vip.address]);
      return { result: "clear", detail: "no ARP reply" };
    } catch (e) {
      if (e instanceof CommandError && e.exitCode === 1) return { result: "conflict", detail: `another host answered an ARP probe for ${vip.address} on ${vip.interface}` };
      throw e;
    }
  }

  private async ndp(vip: Vip): Promise<{ result: "clear" | "conflict"; detail: string }> {
    const own = (await this.readSys(vip.interface, "address"))?.toLowerCase();
    let out: string;
    try {
      out = (await this.run(["ndisc6", "-m", "-r", "1", "-w", "500", vip.address, vip.interface])).stdout;
    } catch (e) {
      // ndisc6 exits 2 on "No response".
      if (e instanceof CommandError && e.exitCode === 2) return { result: "clear", detail: "no neighbour advertisement" };
      throw e;
    }
    const macs = [...out.matchAll(/Target link-layer address: ([0-9A-Fa-f:]+)/g)].map((m) => (m[1] ?? "").toLowerCase());
    const others = macs.filter((m) => m !== own);
    return others.length > 0 ? { result: "conflict", detail: `${others.join(", ")} answered a neighbour solicitation for ${vip.address}` } : { result: "clear", detail: "only this node answers" };
  }
}
