export type { AgentMetrics } from "./port.ts";
export { startMetricsServer, createAgentMetrics, parseMetricsAddr, type MetricsServer, type MetricsServerOptions } from "./server.ts";
