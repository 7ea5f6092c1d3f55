// Kubernetes API adapter for uninstall: delete the add-on's objects, since
// k3s leaves them running when the manifest file goes.
import { ApiException, KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";

export type DeleteOutcome = "deleted" | "absent";

export interface ObjectDeleter {
  delete(obj: Record<string, unknown>): Promise<DeleteOutcome>;
}

export class ApiUnreachable extends Error {}

export class KubeObjectDeleter implements ObjectDeleter {
  private readonly api: KubernetesObjectApi;
  constructor(kc: KubeConfig) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
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
