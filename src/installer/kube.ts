// What the installer needs from the cluster's API, as ports (src/kube's
// KubeObjectDeleter implements them): delete the add-on's objects on
// uninstall (k3s leaves them running when the manifest file goes), and look
// for other VIP / load-balancer announcers. Plus the kubectl commands to say
// when the API cannot be reached.
import type { Found } from "./preflight/conflicts.ts";

export type DeleteOutcome = "deleted" | "absent";

export interface ObjectDeleter {
  delete(obj: Record<string, unknown>): Promise<DeleteOutcome>;
}

/** Other VIP / load-balancer announcers running in the cluster. */
export interface ClusterProbe {
  scan(): Promise<Found[]>;
}

/** What the installer needs from the API: look for conflicts, delete objects. */
export type KubeAccess = ObjectDeleter & ClusterProbe;

/** The API could not be reached (as opposed to answering with an error). */
export class ApiUnreachable extends Error {}

/** `kind.group/name`, as kubectl takes it. */
export function kubectlRef(obj: Record<string, unknown>): string {
  const str = (v: unknown): string => (typeof v === "string" ? v : "");
  const api = str(obj.apiVersion);
  const group = api.includes("/") ? api.split("/")[0] : "";
  const meta = (obj.metadata ?? {}) as { name?: string };
  return `${str(obj.kind).toLowerCase()}${group ? `.${group}` : ""}/${meta.name ?? ""}`;
}

/** The kubectl commands that delete `objs` (one per namespace, cluster-scoped last). */
export function kubectlDelete(objs: Record<string, unknown>[]): string[] {
  const byNs = new Map<string, string[]>();
  for (const o of objs) {
    const ns = ((o.metadata ?? {}) as { namespace?: string }).namespace ?? "";
    byNs.set(ns, [...(byNs.get(ns) ?? []), kubectlRef(o)]);
  }
  const cmds: string[] = [];
  for (const [ns, refs] of [...byNs].sort((a, b) => (a[0] === "" ? 1 : b[0] === "" ? -1 : a[0].localeCompare(b[0])))) {
    cmds.push(`kubectl delete --ignore-not-found${ns ? ` -n ${ns}` : ""} ${refs.join(" ")}`);
  }
  return cmds;
}
