// Does another host answer for an address on this segment? IPv4: an ARP probe
// with sender 0.0.0.0 (RFC 5227, `arping -D`: exit 1 = a reply came). IPv6: a
// Neighbor Solicitation (`ndisc6`, exit 2 = no response; a reply names the
// answering MAC). Our own MAC is ignored: measured, our stack does not answer
// our own probe, but a copy of the address here must never read as "in use".
// Used by the agent's duplicate-address probe (conflict.ts) and the
// installer's "VIP not in use" check (preflight.ts).
import type { Arping } from "./arping.ts";
import { CommandError } from "./exec.ts";
import type { Runner } from "./ip.ts";

export interface DadResult {
  inUse: boolean;
  /** Who answered (MAC, lower case), when in use. */
  by?: string;
}

export interface DadOptions {
  /** Probes to send (arping -c, ndisc6 -r). */
  tries: number;
  /** How long to wait for an answer to each, in ms. */
  waitMs: number;
  /** This interface's MAC, lower case, ignored in answers. */
  ownMac?: string | undefined;
  /** The arping to use (IPv4 only; detected once by the caller). */
  arping: () => Promise<Arping>;
}

export async function probeDuplicate(run: Runner, iface: string, address: string, o: DadOptions): Promise<DadResult> {
  return address.includes(":") ? ndp(run, iface, address, o) : arp(run, iface, address, o);
}

async function arp(run: Runner, iface: string, address: string, o: DadOptions): Promise<DadResult> {
  const arping = await o.arping();
  const argv = [...arping.argv, "-D", "-c", String(o.tries), "-w", String(Math.max(1, Math.ceil((o.tries * o.waitMs) / 1000))), "-I", iface, address];
  try {
    await run(argv);
    return { inUse: false };
  } catch (e) {
    if (!(e instanceof CommandError) || e.exitCode !== 1) throw e;
    // iputils: "Unicast reply from 198.18.0.10 [AA:BB:…]"; busybox: "… from 198.18.0.10 [aa:bb:…]".
    const out = `${e.stdout}\n${e.stderr}`;
    const by = /from \S+ \[([0-9A-Fa-f:]+)\]/.exec(out)?.[1]?.toLowerCase();
    if (by !== undefined && by === o.ownMac) return { inUse: false };
    return by ? { inUse: true, by } : { inUse: true };
  }
}

async function ndp(run: Runner, iface: string, address: string, o: DadOptions): Promise<DadResult> {
  let out: string;
  try {
    out = (await run(["ndisc6", "-m", "-r", String(o.tries), "-w", String(o.waitMs), address, iface])).stdout;
  } catch (e) {
    if (e instanceof CommandError && e.exitCode === 2) return { inUse: false };
    throw e;
  }
  const macs = [...out.matchAll(/Target link-layer address: ([0-9A-Fa-f:]+)/g)].map((m) => (m[1] ?? "").toLowerCase());
  const others = macs.filter((m) => m !== o.ownMac);
  return others.length > 0 ? { inUse: true, by: others.join(", ") } : { inUse: false };
}
