// Kubernetes API wiring shared by the agent and the CLI: the adapters of the
// agent's LeasePort and HealthProbe, and `k3vip status`. @kubernetes/client-node
// is imported only inside this folder.
export { loadKubeConfig, probeCredentials, type KubeConfigSource, type LoadedKubeConfig } from "./config.ts";
export { KubeLeasePort, classify, toLeaseObject, type KubeLeaseOptions } from "./lease.ts";
export { ApiServerHealthProbe, classifyError, createHealthProbe, type HealthProbeOptions } from "./health.ts";
export { leaseStatus, formatStatus, formatStatusLine, formatAgents, parseAgentMetrics, type LeaseStatus, type AgentView } from "./status.ts";
export { serverNodes, agentViews } from "./agents.ts";
export { KubeObjectDeleter } from "./cluster.ts";
export { kubeconfig, httpsReadyz, defaultContextName, HOME_KUBECONFIG, type KubeconfigOptions, type KubeconfigResult, type ReadyzResult } from "./kubeconfig.ts";
export { KubePeerDirectory, pickAddress } from "./peers.ts";
