// `ip` as the adapters run it.
import { parseIpAddrJson, type IpLink } from "../net/index.ts";
import { run, type CommandResult } from "./exec.ts";

/** Runs one command (argv[0] and its arguments); rejects with a CommandError. */
export type Runner = (argv: readonly string[]) => Promise<CommandResult>;

export const defaultRunner: Runner = (argv) => run(argv, { timeoutMs: 10_000 });

/** Every interface and address (`ip -j addr show`, optionally one device). */
export async function listAddrs(runner: Runner = defaultRunner, dev?: string): Promise<IpLink[]> {
  const argv = ["ip", "-j", "addr", "show", ...(dev ? ["dev", dev] : [])];
  return parseIpAddrJson((await runner(argv)).stdout);
}
