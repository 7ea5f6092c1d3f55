// Public face of the agent: the runner around the pure election core, and the
// ports it drives (Lease, VIP, local API-server health, duplicate-address
// probe, metrics). The real adapters live in src/kube and src/host and are
// wired in src/cli/run-agent.ts; fakes for tests live in each testing/.
export { AgentRunner, createLogger, systemClock, type Clock, type ConflictProbe, type Logger, type RunnerDeps } from "./runner.ts";
export { electionConfig, initialState, microTime, step, type ElectionState, type Phase, type StepResult } from "./election/index.ts";
export type * from "./election/types.ts";
export { awaitHandover, type HandoverDeps, type HandoverResult } from "./handover.ts";
export { LeaseError, type LeasePort, type LeaseWatch, type WatchKind } from "./lease.ts";
export { toVip, type Vip, type VipPort } from "./vip/index.ts";
export type { HealthProbe, HealthResult } from "./health/index.ts";
export { createAgentMetrics, parseMetricsAddr, startMetricsServer, type AgentMetrics, type MetricsServer, type MetricsServerOptions } from "./metrics/index.ts";
export { decodeHeartbeat, encodeHeartbeat, ReplayGuard, type DropReason, type Heartbeat, type HeartbeatPort, type PeerAddress, type PeerDirectory } from "./peers/index.ts";
