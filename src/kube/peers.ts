// The servers that run an agent, for heartbeats: the Nodes the DaemonSet's
// affinity selects (labelled control-plane or master), each with its node
// address in the VIP's family. RBAC: list on nodes (a ClusterRole).
import type { KubeConfig } from "@kubernetes/client-node";
import type { PeerAddress, PeerDirectory } from "../agent/index.ts";
import { kubeJson } from "./rest.ts";

interface NodeList {
  items?: { metadata?: { name?: string }; status?: { addresses?: { type?: string; address?: string }[] } }[];
}

const SELECTORS = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];

export class KubePeerDirectory implements PeerDirectory {
  constructor(
    private readonly kc: KubeConfig,
    private readonly family: 4 | 6,
    private readonly timeoutMs = 5000,
  ) {}

  async list(): Promise<PeerAddress[]> {
    const out = new Map<string, string>();
    for (const sel of SELECTORS) {
      const l = (await kubeJson(this.kc, { method: "GET", path: `/api/v1/nodes?labelSelector=${encodeURIComponent(sel)}`, signal: AbortSignal.timeout(this.timeoutMs) })) as NodeList;
      for (const n of l.items ?? []) {
        const name = n.metadata?.name;
        const addr = pickAddress(n.status?.addresses ?? [], this.family);
        if (name && addr) out.set(name, addr);
      }
    }
    return [...out].map(([node, address]) => ({ node, address })).sort((a, b) => a.node.localeCompare(b.node));
  }
}

/** InternalIP first, then ExternalIP, of the VIP's family. */
export function pickAddress(addresses: readonly { type?: string; address?: string }[], family: 4 | 6): string | undefined {
  const ok = (a: string | undefined) => a !== undefined && (family === 6 ? a.includes(":") : /^\d+\.\d+\.\d+\.\d+$/.test(a));
  return addresses.find((a) => a.type === "InternalIP" && ok(a.address))?.address ?? addresses.find((a) => a.type === "ExternalIP" && ok(a.address))?.address;
}
