// The installer's KubeAccess port against a real API server (client-node):
// scan for other announcers, delete the add-on's objects on uninstall.
import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { ApiUnreachable, scanObjects, type DeleteOutcome, type Found, type KubeAccess } from "../installer/index.ts";

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
