// --migrate: the kube-vip manifests it removes (backed up, restored by
// uninstall) and the objects k3s leaves running after their file is gone.
import { parseAllDocuments } from "yaml";
import type { Fs } from "./fs.ts";
import { kubectlDelete, type ObjectDeleter } from "./kube.ts";
import type { Reporter } from "./report.ts";

export async function objectsIn(fs: Fs, paths: string[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const p of paths) {
    const b = await fs.read(p);
    if (!b) continue;
    for (const doc of parseAllDocuments(b.toString("utf8"))) {
      const v: unknown = doc.errors.length === 0 ? doc.toJS() : undefined;
      if (v && typeof v === "object" && !Array.isArray(v) && "kind" in v && "metadata" in v) out.push(v);
    }
  }
  return out;
}

/** k3s leaves a removed manifest's objects running: delete the migrated kube-vip's, or say how. */
export async function deleteMigrated(objs: Record<string, unknown>[], access: ObjectDeleter | undefined, reporter: Reporter): Promise<string[]> {
  const withNs = objs.map((o) => {
    const meta = (o.metadata ?? {}) as { namespace?: string };
    // kube-vip's manifests are namespaced to kube-system when they say nothing.
    return o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding" || meta.namespace ? o : { ...o, metadata: { ...meta, namespace: "kube-system" } };
  });
  if (!access) return [`k3s keeps the old kube-vip objects running after their manifest is gone: delete them with ${kubectlDelete(withNs).join(" && ")}`];
  const notes: string[] = [];
  await reporter
    .step("delete the migrated kube-vip objects through the API", async () => {
      for (const [i, o] of withNs.entries()) {
        try {
          await access.delete(o);
        } catch (e) {
          notes.push(`could not delete the old kube-vip objects (${(e as Error).message.split("\n")[0] ?? ""}): run ${kubectlDelete(withNs.slice(i)).join(" && ")}`);
          throw e;
        }
      }
    })
    .catch(() => undefined);
  return notes;
}
