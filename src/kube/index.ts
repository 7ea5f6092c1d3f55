// Kubernetes API wiring shared by the agent and the CLI. @kubernetes/client-node
// is imported only inside this folder.
export { loadKubeConfig, probeCredentials, type KubeConfigSource, type LoadedKubeConfig } from "./config.ts";
export { KubeLeasePort, LeaseError, classify, toLeaseObject, type LeasePort, type LeaseWatch, type WatchKind, type KubeLeaseOptions } from "./lease.ts";
export { FakeLeasePort } from "./fake.ts";
export { leaseStatus, formatStatus, formatStatusLine, formatAgents, parseAgentMetrics, type LeaseStatus, type AgentView } from "./status.ts";
export { serverNodes, agentViews } from "./agents.ts";
