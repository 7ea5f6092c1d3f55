// The sysctls an IPv6 VIP needs on this node, as install steps: the
// sysctl.d file in the plan, and on the live host the running values changed
// through the host port (sysctl.ts holds the pure rules).
import type { Config } from "../config/index.ts";
import { interfaceForVip } from "../net/index.ts";
import type { Layout } from "./layout.ts";
import type { DesiredFile } from "./plan.ts";
import type { HostProbe } from "./preflight/host.ts";
import { toHost, type StateRecord } from "./state.ts";
import { planSysctls, renderSysctlFile, vipSysctls, type SysctlAction, type SysctlRecord } from "./sysctl.ts";

/**
 * The sysctl.d file an IPv6 VIP needs, and on the live host the running
 * values to change now (read through the host port; --root reads nothing).
 */
export async function sysctlPlan(config: Config, layout: Layout, host: HostProbe | undefined, state: StateRecord | undefined): Promise<{ file?: DesiredFile; actions: SysctlAction[]; record: SysctlRecord[]; notes: string[] }> {
  const previous = state?.sysctls ?? [];
  let iface = config.interface || undefined;
  if (!iface && host && config.vip.includes(":")) {
    // A tie leaves the interface unknown: conf.all and conf.default then.
    const found = interfaceForVip(await host.interfaces().catch(() => []), config.vip);
    if (found?.ties.length === 0) iface = found.name;
  }
  const settings = vipSysctls(config, iface);
  const file: DesiredFile | undefined = settings.length > 0 ? { path: layout.sysctlFile, content: Buffer.from(renderSysctlFile(settings)), mode: 0o644, label: "sysctl.d file" } : undefined;
  if (!host) return { ...(file ? { file } : {}), actions: [], record: previous, notes: [] };
  const live = new Map<string, string | undefined>();
  for (const p of new Set([...settings.map((s) => s.path), ...previous.map((r) => r.path)])) live.set(p, await host.readSysctl(p).catch(() => undefined));
  const { actions, record } = planSysctls(settings, live, previous);
  const notes = settings.filter((s) => live.get(s.path) === undefined).map((s) => `/proc/sys/${s.path} does not exist now (is the interface there?): ${toHost(layout, layout.sysctlFile)} applies it at boot`);
  return { ...(file ? { file } : {}), actions, record, notes };
}

/** Changes the running values (after the files are written); a failure is a note, the file still applies at boot. */
export async function applySysctls(host: HostProbe, actions: SysctlAction[], layout: Layout): Promise<string[]> {
  const notes: string[] = [];
  for (const a of actions) {
    try {
      await host.writeSysctl(a.path, a.value);
      a.applied = true;
      notes.push(
        a.kind === "set"
          ? `set ${a.key} = ${a.value} now (was ${a.before ?? "?"}) so the kernel announces the IPv6 VIP by an unsolicited NA; ${layout.sysctlFile} keeps it across reboots`
          : `restored ${a.key} = ${a.value} (k3vip had set ${a.before ?? "?"})`,
      );
    } catch (e) {
      a.error = (e as Error).message;
      notes.push(`could not ${a.kind} ${a.key} = ${a.value} now (${a.error})${a.kind === "set" ? `: run sysctl -p ${layout.sysctlFile}, or reboot` : ""}`);
    }
  }
  return notes;
}
