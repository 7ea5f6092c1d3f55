// The agent's duplicate-address probe (its ConflictProbe port), used by a
// holder whose Lease renews fail (a brown-out or an asymmetric partition, see
// the election's rule 3): if another host already answers for the VIP, a node
// whose writes succeed took over and we must let go now, not at the end of
// the brown-out hold. The probe itself is dad.ts. No carrier on the
// interface means the VIP is unreachable here whatever the Lease says.
import { readFile } from "node:fs/promises";
import type { ConflictProbe, Vip } from "../agent/index.ts";
import { detectArping, type Arping } from "./arping.ts";
import { probeDuplicate } from "./dad.ts";
import { run } from "./exec.ts";
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
    const ownMac = vip.family === 6 ? (await this.readSys(vip.interface, "address"))?.toLowerCase() : undefined;
    const r = await probeDuplicate(this.run, vip.interface, vip.address, {
      tries: 1,
      waitMs: vip.family === 4 ? 1000 : 500,
      ownMac,
      arping: () => (this.arping ??= detectArping(this.run, this.opts.arping)),
    });
    if (!r.inUse) return { result: "clear", detail: vip.family === 4 ? "no ARP reply" : "no other neighbour advertisement" };
    const who = r.by ?? "another host";
    return { result: "conflict", detail: vip.family === 4 ? `${who} answered an ARP probe for ${vip.address} on ${vip.interface}` : `${who} answered a neighbour solicitation for ${vip.address}` };
  }
}
