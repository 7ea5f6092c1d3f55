// `k3vip status`: the agents' own view, from each server's /metrics.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { parseAgentMetrics, type AgentView } from "./status.ts";

/** Server nodes (control-plane label, as k3s and RKE2 set it) and their InternalIP. */
export async function serverNodes(kc: KubeConfig): Promise<{ name: string; address: string }[]> {
  const api = kc.makeApiClient(CoreV1Api);
  const list = await api.listNode({ labelSelector: "node-role.kubernetes.io/control-plane=true" });
  return list.items.map((n) => ({
    name: n.metadata?.name ?? "",
    address: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "",
  }));
}

/** Scrapes http://<address>:<port>/metrics of every server's agent (the DaemonSet uses the host network). */
export async function agentViews(nodes: { name: string; address: string }[], port: number, timeoutMs = 1500): Promise<AgentView[]> {
  return Promise.all(
    nodes.map(async (n): Promise<AgentView> => {
      const host = n.address.includes(":") ? `[${n.address}]` : n.address;
      try {
        const r = await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return { node: n.name, address: n.address, reachable: true, ...parseAgentMetrics(await r.text()) };
      } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        return { node: n.name, address: n.address, reachable: false, error: err.cause?.code ?? err.message, leader: null, vipHeld: null, apiServerHealthy: null, ready: null };
      }
    }),
  );
}
