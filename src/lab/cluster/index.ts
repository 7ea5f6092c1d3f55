export { LabCluster, type AgentContext, type LabClusterOptions, type Pinger } from "./cluster.ts";
export { analyzeTrial, percentile, type TrialStats } from "./analyze.ts";
export {
  runTrial,
  singleHolder,
  SCENARIOS,
  CHAOS_SCENARIOS,
  HOLD_FAULTS,
  type ApiControl,
  type ClockControl,
  type FaultParams,
  type Scenario,
  type TrialOptions,
  type TrialResult,
  type TrialTimings,
} from "./scenarios.ts";
export { SampleLog, analyzeSamples, firstWithout, type Sample, type SampleStats, type SampleWindow } from "./samples.ts";
