// Gratuitous ARP with whichever arping the node has. iputils' and busybox's
// arping share the flags we need (-U request, -A reply, -c, -I); Habets'
// arping does not (-i is the interface there, -A means something else), so it
// is detected and refused with a clear message rather than misused.
import { CommandError } from "./exec.ts";
import type { Runner } from "./ip.ts";

export type ArpingFlavor = "iputils" | "busybox";

export interface Arping {
  /** argv prefix, e.g. ["arping"] or ["busybox", "arping"]. */
  argv: readonly string[];
  flavor: ArpingFlavor;
}

export class ArpingUnavailableError extends Error {
  override readonly name = "ArpingUnavailableError";
}

/** Candidates tried when no binary is configured: the image ships iputils' arping. */
const AUTO_CANDIDATES: readonly (readonly string[])[] = [["arping"], ["busybox", "arping"]];

function classify(text: string): ArpingFlavor | "habets" | undefined {
  if (/iputils/i.test(text)) return "iputils";
  if (/habets/i.test(text)) return "habets";
  if (/busybox/i.test(text)) return "busybox";
  return undefined;
}

async function probe(runner: Runner, argv: readonly string[]): Promise<{ flavor?: ArpingFlavor | "habets" | undefined; error?: string }> {
  try {
    const r = await runner([...argv, "-V"]);
    return { flavor: classify(r.stdout + r.stderr) };
  } catch (e) {
    // busybox prints its usage (with its name) and exits 1 on -V.
    if (e instanceof CommandError && e.exitCode !== undefined) {
      const flavor = classify(e.stderr);
      return flavor ? { flavor } : { error: e.message };
    }
    return { error: (e as Error).message };
  }
}

/**
 * Finds a usable arping. `configured` is a command line such as "arping",
 * "/usr/bin/arping" or "busybox arping"; empty or "auto" tries `arping`, then
 * `busybox arping`.
 */
export async function detectArping(runner: Runner, configured = "auto"): Promise<Arping> {
  const candidates = configured === "" || configured === "auto" ? AUTO_CANDIDATES : [configured.trim().split(/\s+/)];
  const tried: string[] = [];
  for (const argv of candidates) {
    const r = await probe(runner, argv);
    if (r.flavor === "iputils" || r.flavor === "busybox") return { argv, flavor: r.flavor };
    if (r.flavor === "habets") {
      throw new ArpingUnavailableError(
        `${argv.join(" ")} is Thomas Habets' arping, whose flags differ (no -U/-A for gratuitous ARP); install iputils-arping or use busybox's ("busybox arping")`,
      );
    }
    tried.push(`${argv.join(" ")} (${r.error ?? "unknown arping"})`);
  }
  throw new ArpingUnavailableError(`no usable arping for gratuitous ARP: tried ${tried.join("; ")}; install iputils-arping or busybox`);
}

export interface Burst {
  /** Packets of each kind (request and reply). */
  count: number;
  /** Milliseconds between packets of one kind. */
  intervalMs: number;
}

export const DEFAULT_BURST: Burst = { count: 3, intervalMs: 100 };

/**
 * Sends `count` ARP requests (-U) and `count` ARP replies (-A) for `address`,
 * `intervalMs` apart. Some hosts update their cache only from requests, some
 * only from replies (RFC 5227 §3 prefers requests; Cisco gear honours
 * replies), so both go out. One `-c 1` process per packet: neither arping can
 * send faster than one per second by itself.
 */
export async function arpBurst(
  runner: Runner,
  arping: Arping,
  dev: string,
  address: string,
  burst: Burst = DEFAULT_BURST,
  /** Checked between rounds and after failures: false = the VIP was removed meanwhile (a release), stop quietly. */
  stillHeld: () => Promise<boolean> = () => Promise.resolve(true),
): Promise<void> {
  // Each send is settled as it is created: one that fails while the burst
  // sleeps (the VIP was removed mid-burst on SIGTERM) must not become an
  // unhandled rejection, which would end the process with the Lease held.
  const sends: Promise<PromiseSettledResult<unknown>>[] = [];
  for (let i = 0; i < burst.count; i++) {
    if (i > 0) {
      await sleep(burst.intervalMs);
      if (!(await stillHeld())) break;
    }
    for (const mode of ["-U", "-A"]) {
      sends.push(
        runner([...arping.argv, mode, "-c", "1", "-I", dev, address]).then(
          (value): PromiseSettledResult<unknown> => ({ status: "fulfilled", value }),
          (reason: unknown): PromiseSettledResult<unknown> => ({ status: "rejected", reason }),
        ),
      );
    }
  }
  const results = await Promise.all(sends);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  // One lost packet is no failure; every packet failing is (interface gone,
  // no permission) — unless the VIP was removed under us (a release).
  if (failed.length === results.length && failed[0] && (await stillHeld())) throw failed[0].reason;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
