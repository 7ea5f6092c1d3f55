// Sysctls of the network namespace an adapter works in. Keys are paths
// relative to /proc/sys with slashes (net/ipv6/conf/eth0.100/ndisc_notify):
// interface names may hold dots, which the dotted form cannot tell apart.
import { readFile, writeFile } from "node:fs/promises";
import { CommandError } from "./exec.ts";
export { sysctlKey } from "../net/index.ts";
import type { Runner } from "./ip.ts";

export interface SysctlAccess {
  /** The running value; undefined when the key does not exist. */
  read(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
}


/** /proc/sys of this process (its network namespace). */
export const procSysctl: SysctlAccess = {
  async read(path) {
    try {
      return (await readFile(`/proc/sys/${path}`, "utf8")).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  },
  async write(path, value) {
    await writeFile(`/proc/sys/${path}`, value);
  },
};

/**
 * /proc/sys read and written through a runner, so a runner aimed at another
 * namespace (`ip netns exec …`) never touches this one's: /proc/sys/net shows
 * the namespace of whoever opens it.
 */
export function runnerSysctl(run: Runner): SysctlAccess {
  return {
    async read(path) {
      try {
        return (await run(["cat", `/proc/sys/${path}`])).stdout.trim();
      } catch (e) {
        if (e instanceof CommandError && /No such file/i.test(e.stderr)) return undefined;
        throw e;
      }
    },
    async write(path, value) {
      await run(["sh", "-c", 'printf %s "$1" > "$2"', "sh", value, `/proc/sys/${path}`]);
    },
  };
}
