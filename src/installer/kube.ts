// Kubernetes API adapter for uninstall: delete the add-on's objects, since
// k3s leaves them running when the manifest file goes.
import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { scanObjects, type Found } from "./preflight/conflicts.ts";

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

export class ApiUnreachable extends Error {}

const CLUSTER = "the cluster (API)";

export class KubeObjectDeleter implements KubeAccess {
  private readonly api: KubernetesObjectApi;
  constructor(private readonly kc: KubeConfig) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  /**
   * DaemonSets everywhere, kube-system pods (static pods show up there as
   * mirror pods), MetalLB pools and Cilium L2 policies. Absent CRDs are no
   * finding; an unreachable API throws ApiUnreachable.
   */
  async scan(): Promise<Found[]> {
    const objs: unknown[] = [];
    // A resource this API does not serve (404) holds nothing to find.
    const list = async <T>(what: string, call: () => Promise<{ items: T[] }>): Promise<T[]> => {
      try {
        return (await call()).items;
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return [];
        if (e instanceof ApiException) throw new Error(`listing ${what}: HTTP ${e.code}`);
        throw new ApiUnreachable((e as Error).message, { cause: e });
      }
    };
    const ds = await list("daemonsets", () => this.kc.makeApiClient(AppsV1Api).listDaemonSetForAllNamespaces());
    objs.push(...ds.map((i) => ({ ...i, apiVersion: "apps/v1", kind: "DaemonSet" })));
    const pods = await list("pods", () => this.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "kube-system" }));
    objs.push(...pods.map((i) => ({ ...i, apiVersion: "v1", kind: "Pod" })));
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    for (const [group, version, plural, kind] of [
      ["metallb.io", "v1beta1", "ipaddresspools", "IPAddressPool"],
      ["cilium.io", "v2alpha1", "ciliuml2announcementpolicies", "CiliumL2AnnouncementPolicy"],
    ] as const) {
      try {
        const list = (await custom.listClusterCustomObject({ group, version, plural })) as { items?: unknown[] };
        objs.push(...(list.items ?? []).map((i) => ({ apiVersion: `${group}/${version}`, kind, ...(i as object) })));
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) throw new ApiUnreachable((e as Error).message, { cause: e });
      }
    }
    return scanObjects(CLUSTER, objs).map((f) => ({ ...f, viaApi: true }));
  }

  static fromFile(path: string): KubeObjectDeleter {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new KubeObjectDeleter(kc);
  }

  async delete(obj: Record<string, unknown>): Promise<DeleteOutcome> {
    try {
      await this.api.delete(obj, undefined, undefined, undefined, undefined, "Foreground");
      return "deleted";
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return "absent";
      // Discovery found no such resource type (e.g. no Addon CRD): nothing to delete.
      if (e instanceof Error && /Unrecognized API version and kind|resource .* not found/i.test(e.message)) return "absent";
      if (e instanceof ApiException) throw new Error(`HTTP ${e.code}: ${typeof e.body === "string" ? e.body.slice(0, 200) : JSON.stringify(e.body).slice(0, 200)}`);
      throw new ApiUnreachable((e as Error).message, { cause: e });
    }
  }
}

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
