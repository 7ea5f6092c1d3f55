// The cluster, seen through the API when a kubeconfig is at hand: other
// announcers running there (kube-vip, MetalLB, Cilium L2), for preflight and
// doctor.
import type { Check } from "./preflight/checks.ts";
import type { Found } from "./preflight/conflicts.ts";
import type { Fs } from "./fs.ts";
import type { ClusterProbe, KubeAccess } from "./kube.ts";
import type { Layout } from "./layout.ts";

/** The distro's kubeconfig on the real host, or --kubeconfig; none under --root unless given. */
export async function kubeAccess(fs: Fs, o: { root: string; kubeconfig?: string }, layout: Layout, kube: ((p: string) => KubeAccess) | undefined): Promise<KubeAccess | undefined> {
  const path = o.kubeconfig ?? (o.root === "" ? layout.kubeconfig : undefined);
  if (!kube || !path || !(await fs.stat(path))) return undefined;
  try {
    return kube(path);
  } catch {
    return undefined;
  }
}

const SCAN_TIMEOUT_MS = 8000;

const kindName = (f: Found): string => f.detail.split(" (")[0] ?? "";

/**
 * Other announcers running in the cluster. Ones already found in files here,
 * and objects --migrate deletes anyway, are not reported twice.
 */
export async function scanCluster(access: ClusterProbe, fromFiles: Found[], migrating: Record<string, unknown>[] = []): Promise<{ found: Found[]; check: Check }> {
  const title = "cluster scan";
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${SCAN_TIMEOUT_MS / 1000} s`)), SCAN_TIMEOUT_MS);
    });
    const all = await Promise.race([access.scan(), timeout]);
    const names = new Set([...fromFiles.map(kindName), ...migrating.map((m) => `${String(m.kind)} ${String((m.metadata as { name?: unknown } | undefined)?.name)}`)]);
    const found = all.filter((f) => !names.has(kindName(f)));
    return { found, check: { id: "cluster", title, status: "ok", detail: found.length === 0 ? "no kube-vip, MetalLB or Cilium L2 running in the cluster" : `${found.length} finding(s), below` } };
  } catch (e) {
    return { found: [], check: { id: "cluster", title, status: "skip", detail: `API not reachable (${((e as Error).message.split("\n")[0] ?? "").slice(0, 120)}): checked files only` } };
  } finally {
    clearTimeout(timer);
  }
}
