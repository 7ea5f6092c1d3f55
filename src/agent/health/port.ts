export interface HealthResult {
  /** The local API server is serving (its liveness endpoint answered 200). */
  ok: boolean;
  /** One short phrase for logs: "ok", "connection refused", "HTTP 500", "timeout after 1000 ms". */
  reason: string;
  latencyMs: number;
}

/** Probes this node's own API server (and RKE2's supervisor port). */
export interface HealthProbe {
  probe(): Promise<HealthResult>;
  /**
   * Calls `suspect` when a sign appears between probes that the server may
   * have gone (the probe's idle connection was closed), so the election
   * probes again at once instead of at the next interval. A sign, not a
   * verdict: servers also close idle connections on their own.
   */
  watch?(suspect: (reason: string) => void): void;
  /** Drops any connection kept between probes. */
  close?(): void;
}
