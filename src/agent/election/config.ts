import type { Config } from "../../config/index.ts";
import type { ElectionConfig } from "./types.ts";

/**
 * The election's timings from the config model (seconds → ms).
 *
 * brownoutHold defaults to two lease durations (12 s with the defaults). A
 * cluster-wide brown-out (every Lease write times out or gets a 5xx) then
 * causes no flap if it ends within about leaseDuration + brownoutHold −
 * 2 × retryPeriod − one request (≈ 12.5 s by default; renews that land late,
 * as on slow SD-card etcd, never drop the VIP at all). The price is the
 * worst-case duplicate window of an ASYMMETRIC brown-out — only the holder's
 * writes fail while its own API server still answers /livez and another
 * node's writes succeed — which is brownoutHold (12 s), unless the holder
 * sees the new holder earlier through any read, watch event or 409.
 * Partitions (connection refused/reset) and a dead local API server never
 * get this extension: the holder drops before anyone else may acquire.
 */
export function electionConfig(config: Config, identity: string, overrides: Partial<ElectionConfig> = {}): ElectionConfig {
  const ms = (s: number) => Math.round(s * 1000);
  return {
    identity,
    leaseDurationMs: ms(config.leaseDuration),
    renewDeadlineMs: ms(config.renewDeadline),
    retryPeriodMs: ms(config.retryPeriod),
    brownoutHoldMs: 2 * ms(config.leaseDuration),
    healthIntervalMs: 1000,
    healthFailures: 3,
    announceRefreshMs: ms(config.arpRefresh),
    fenceLifetimeS: 1,
    fenceRefreshMs: 200,
    // Heartbeats every 200 ms when the agent has a heartbeat port (and key); a holder is silent after 3 missed.
    heartbeatMs: config.heartbeatPort > 0 ? 200 : 0,
    silenceMs: 600,
    takeover: config.takeover,
    steadyRenewMs: Math.max(ms(config.retryPeriod), ms(config.leaseDuration) - 1000),
    ...overrides,
  };
}
