export { LabCluster, type AgentContext, type LabClusterOptions, type Pinger } from "./cluster.ts";
export { analyzeTrial, percentile, type TrialStats } from "./analyze.ts";
export { runTrial, singleHolder, SCENARIOS, type ApiControl, type Scenario, type TrialResult, type TrialTimings } from "./scenarios.ts";
