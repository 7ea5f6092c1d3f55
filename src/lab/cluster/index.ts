export { LabCluster, type AgentContext, type LabClusterOptions, type Pinger } from "./cluster.ts";
export { analyzeTrial, percentile, type TrialStats } from "./analyze.ts";
