// Where the agent and `k3vip status` find the Kubernetes API.
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

export interface KubeConfigSource {
  /** --kubeconfig; wins over everything. */
  kubeconfig?: string;
  /** Environment (KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** In-cluster: this node's own API server port (Config.apiPort). */
  apiPort?: number;
  /** Files tried, in order, when nothing else is given (e.g. /etc/rancher/k3s/k3s.yaml for `status`). */
  fallbackFiles?: string[];
  /** Test seam: does this file exist? */
  exists?: (path: string) => boolean;
  /** Test seam: the ServiceAccount mount. */
  serviceAccountDir?: string;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  /** Where it came from, for messages: a file path or "in-cluster ServiceAccount". */
  source: string;
  server: string;
}

/** Where the kubelet mounts the ServiceAccount token and CA. */
export const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * --kubeconfig, else $KUBECONFIG, else a fallback file, else the in-cluster
 * ServiceAccount (token + CA) — but with the server set to this node's own
 * API server, https://127.0.0.1:<apiPort>, instead of the kubernetes Service.
 * The Service load-balances over every server, so through it a node whose
 * own API server is dead would still renew the Lease and keep the VIP; going
 * through its own API server makes "my API server is down" look like "I
 * cannot renew", which is the signal the election acts on. (k3s and RKE2
 * serving certificates include 127.0.0.1.)
 */
export function loadKubeConfig(src: KubeConfigSource): LoadedKubeConfig {
  const kc = new KubeConfig();
  const env = src.env ?? process.env;
  const exists = src.exists ?? (() => false);
  const file = src.kubeconfig || env.KUBECONFIG?.split(":").find((p) => p !== "") || src.fallbackFiles?.find((f) => exists(f));
  if (file) {
    kc.loadFromFile(file);
    return { kc, source: file, server: kc.getCurrentCluster()?.server ?? "" };
  }
  const dir = src.serviceAccountDir ?? SA_DIR;
  const server = `https://127.0.0.1:${src.apiPort ?? 6443}`;
  // Same shape client-node's loadFromCluster builds (token re-read from the file, so rotation works).
  kc.loadFromOptions({
    clusters: [{ name: "local-apiserver", server, caFile: `${dir}/ca.crt`, skipTLSVerify: false }],
    users: [{ name: "serviceaccount", authProvider: { name: "tokenFile", config: { tokenFile: `${dir}/token` } } }],
    contexts: [{ name: "in-cluster", cluster: "local-apiserver", user: "serviceaccount" }],
    currentContext: "in-cluster",
  });
  return { kc, source: "in-cluster ServiceAccount", server };
}

/** How to reach this node's API server for health probes, from the same kubeconfig (CA, token). */
export function probeCredentials(loaded: LoadedKubeConfig): { ca?: string; token?: string; insecure?: boolean } | undefined {
  if (loaded.source === "in-cluster ServiceAccount") return undefined; // the probe reads the ServiceAccount itself
  const cluster = loaded.kc.getCurrentCluster();
  const user = loaded.kc.getCurrentUser();
  const out: { ca?: string; token?: string; insecure?: boolean } = {};
  if (cluster?.caData) out.ca = Buffer.from(cluster.caData, "base64").toString("utf8");
  else if (cluster?.caFile) out.ca = readFileSync(cluster.caFile, "utf8");
  if (cluster?.skipTLSVerify) out.insecure = true;
  if (user?.token) out.token = user.token;
  return out;
}
