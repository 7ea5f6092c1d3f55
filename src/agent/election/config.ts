import type { Config } from "../../config/index.ts";
import type { ElectionConfig } from "./types.ts";

/**
 * The election's timings from the config model (seconds → ms). The brown-out
 * hold defaults to one lease duration: a cluster-wide brown-out up to
 * 2 × leaseDuration since the last good renew causes no flap, and an
 * asymmetric one can give a duplicate VIP for at most one lease duration.
 */
export function electionConfig(config: Config, identity: string, overrides: Partial<ElectionConfig> = {}): ElectionConfig {
  const ms = (s: number) => Math.round(s * 1000);
  return {
    identity,
    leaseDurationMs: ms(config.leaseDuration),
    renewDeadlineMs: ms(config.renewDeadline),
    retryPeriodMs: ms(config.retryPeriod),
    brownoutHoldMs: ms(config.leaseDuration),
    healthIntervalMs: 1000,
    healthFailures: 3,
    announceRefreshMs: ms(config.arpRefresh),
    ...overrides,
  };
}
