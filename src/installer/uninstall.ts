// `k3vip uninstall`: undo exactly what the state record lists, then delete
// the add-on's objects through the API (k3s does not when a manifest file is
// removed), or print the kubectl command that does.
import { basename } from "node:path";
import { DISTROS, type Config, type Distro } from "../config/index.ts";
import { applyPlan, ApplyError } from "./apply.ts";
import { guardPlan } from "./confine.ts";
import type { Fs } from "./fs.ts";
import { InstallerError } from "./errors.ts";
import { readCurrent, readState } from "./gather.ts";
import { ApiUnreachable, kubectlDelete, kubectlRef, type ObjectDeleter } from "./kube.ts";
import { layoutFor, type Layout } from "./layout.ts";
import { isNoop, planDiff, planUninstall } from "./plan.ts";
import type { HostProbe } from "./preflight/host.ts";
import type { Reporter } from "./report.ts";
import { withRootSession, type Session } from "./session.ts";
import { sysctlKey } from "./sysctl.ts";
import { toHost, toRoot, type StateRecord } from "./state.ts";

export interface UninstallOptions {
  root: string;
  distro?: Distro;
  dryRun?: boolean;
  /** Kubeconfig for the API delete; default: the distro's (k3s.yaml / rke2.yaml). */
  kubeconfig?: string;
  /** Default true. */
  deleteObjects?: boolean;
}

export interface UninstallDeps {
  fs: Fs;
  reporter: Reporter;
  /** The add-on's objects for a config (src/render's addonObjects). */
  objects: (config: Config) => Record<string, unknown>[];
  /** Builds an API client from a kubeconfig file; undefined = no API. */
  deleter?: (kubeconfigPath: string) => ObjectDeleter;
  /** /proc/sys on the live host, to put back the sysctls install changed (never used with --root). */
  sysctl?: Pick<HostProbe, "readSysctl" | "writeSysctl">;
}

export interface UninstallResult {
  status: "removed" | "nothing-installed" | "dry-run";
  distro?: Distro;
  changes: { path: string; kind: string; label: string }[];
  notes: string[];
  /** What happened to the add-on's objects in the cluster. */
  objects: { ref: string; outcome: "deleted" | "absent" | "not-deleted" }[];
  /** Commands to run by hand when the API was not reachable. */
  commands: string[];
  diff?: string;
}

/**
 * Puts back the running sysctls install changed on this host, when they still
 * hold k3vip's value (someone who changed them since owns them). Without a
 * record (installed under --root) the running value stays until the next boot.
 */
async function restoreSysctls(o: UninstallOptions, d: UninstallDeps, layout: Layout, state: StateRecord, dryRun: boolean): Promise<string[]> {
  const notes: string[] = [];
  const records = state.sysctls ?? [];
  if (o.root !== "" || !d.sysctl) {
    for (const r of records) notes.push(`${sysctlKey(r.path)} keeps its running value ${r.value} until the next boot (it was ${r.before}: sysctl -w ${sysctlKey(r.path)}=${r.before})`);
    return notes;
  }
  if (records.length === 0 && state.files.some((f) => f.path === toHost(layout, layout.sysctlFile))) {
    notes.push(`the sysctls in ${toHost(layout, layout.sysctlFile)} keep their running values until the next boot (k3vip did not set them on this host, so it has no earlier value to restore)`);
  }
  for (const r of records) {
    const key = sysctlKey(r.path);
    const now = await d.sysctl.readSysctl(r.path).catch(() => undefined);
    if (now === undefined || now !== r.value || r.before === r.value) continue;
    if (dryRun) {
      notes.push(`would restore ${key} = ${r.before} (now ${now})`);
      continue;
    }
    try {
      await d.sysctl.writeSysctl(r.path, r.before);
      notes.push(`restored ${key} = ${r.before} (k3vip had set ${r.value})`);
    } catch (e) {
      notes.push(`could not restore ${key} = ${r.before} (${(e as Error).message}): run sysctl -w ${key}=${r.before}`);
    }
  }
  return notes;
}

/** The config and layout of the k3vip install under `root` (any distro), if any. */
export async function findState(fs: Fs, root: string, distro: Distro | undefined): Promise<{ layout: Layout; state: StateRecord } | undefined> {
  for (const d of distro ? [distro] : DISTROS) {
    const layout = layoutFor(d, root);
    const state = await readState(fs, layout);
    if (state) return { layout: layoutFor(d, root, state.config.apiPort), state };
  }
  return undefined;
}

export async function uninstall(o: UninstallOptions, d: UninstallDeps): Promise<UninstallResult> {
  return withRootSession(d.fs, o.root, { ...(o.dryRun ? { dryRun: true } : {}) }, (session) => uninstallIn(o, d, session));
}

async function uninstallIn(o: UninstallOptions, d: UninstallDeps, session: Session): Promise<UninstallResult> {
  const { fs, reporter } = d;
  const found = await findState(fs, o.root, o.distro);
  if (!found) return { status: "nothing-installed", changes: [], notes: [...session.notes, `no k3vip state record under ${o.root || "/"}: nothing to remove`], objects: [], commands: [] };
  const { layout, state } = found;
  const current = await readCurrent(fs, layout, [], state);
  const entries = new Map<string, string[]>();
  const modes = new Map<string, number>();
  for (const hd of state.dirs) {
    const abs = toRoot(layout, hd);
    const list = await fs.list(abs);
    if (list) entries.set(abs, list);
    const st = await fs.stat(abs);
    if (st) modes.set(abs, st.mode);
  }
  const plan = planUninstall(layout, state, current, entries, modes);
  await guardPlan(fs, o.root, plan);
  const changes = plan.files.filter((f) => !f.internal && f.kind !== "unchanged").map((f) => ({ path: f.path, kind: f.kind, label: f.label }));
  const objs = d.objects(state.config);
  // Stop the agents first (they release the VIP), then their permissions.
  const order = (o2: Record<string, unknown>) => (o2.kind === "DaemonSet" ? 0 : o2.kind === "ServiceAccount" ? 2 : 1);
  const addon = { apiVersion: "k3s.cattle.io/v1", kind: "Addon", metadata: { name: "k3vip", namespace: "kube-system" } };
  const manifest = state.files.find((f) => f.label === "manifest");
  if (manifest) addon.metadata.name = basename(manifest.path).replace(/\.(ya?ml|json)$/, "");
  // The namespace k3vip created (never kube-system) stays: deleting it would
  // delete whatever else someone put there since.
  const ns = objs.find((x) => x.kind === "Namespace");
  const toDelete = [...objs.filter((x) => x !== ns).sort((a, b) => order(a) - order(b)), addon];
  const nsNote = ns ? [`the namespace ${state.config.namespace} stays (other things may live there): kubectl delete namespace ${state.config.namespace} once it holds nothing you need`] : [];
  const result: UninstallResult = { status: "removed", distro: layout.distro, changes, notes: [...session.notes, ...plan.notes, ...nsNote], objects: [], commands: [] };

  if (o.dryRun) {
    result.notes.push(...(await restoreSysctls(o, d, layout, state, true)));
    return { ...result, status: "dry-run", diff: planDiff(plan, []), commands: kubectlDelete(toDelete) };
  }
  if (!isNoop(plan)) {
    try {
      await reporter.step(`remove k3vip's files for ${layout.distro}`, async () => result.notes.push(...(await applyPlan(fs, plan, { journalDir: await session.journalDir(plan, layout.stateDir) })).notes));
    } catch (e) {
      if (e instanceof ApplyError) throw new InstallerError(`${e.message}. Fix that, then run k3vip uninstall again`);
      throw e;
    }
  }
  result.notes.push(...(await restoreSysctls(o, d, layout, state, false)));

  if (o.deleteObjects === false) {
    result.commands = kubectlDelete(toDelete);
    return result;
  }
  const kubeconfig = o.kubeconfig ?? layout.kubeconfig;
  const kcExists = (await fs.stat(kubeconfig)) !== undefined;
  if (!d.deleter || !kcExists) {
    result.commands = kubectlDelete(toDelete);
    result.notes.push(`no kubeconfig at ${kubeconfig}: delete the add-on's objects with the command(s) below`);
    return result;
  }
  const deleter = d.deleter(kubeconfig);
  let failedAt = -1;
  let failure: unknown;
  await reporter
    .step("delete the add-on's objects through the API", async () => {
      for (const [i, obj] of toDelete.entries()) {
        try {
          result.objects.push({ ref: kubectlRef(obj), outcome: await deleter.delete(obj) });
        } catch (e) {
          failedAt = i;
          failure = e;
          throw e;
        }
      }
    })
    .catch(() => undefined);
  if (failedAt >= 0) {
    const rest = toDelete.slice(failedAt);
    for (const r of rest) result.objects.push({ ref: kubectlRef(r), outcome: "not-deleted" });
    result.commands = kubectlDelete(rest);
    const why = ((failure as Error).message ?? String(failure)).split("\n")[0] ?? "";
    result.notes.push(`${failure instanceof ApiUnreachable ? "the API is not reachable" : "the API refused a delete"} (${why}): run the command(s) below`);
  }
  return result;
}
