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
}
