/** What the agent reports; the real adapter is a prom-client registry. */
export interface AgentMetrics {
  /** This node holds the Lease (k3vip_leader). */
  setLeader(leader: boolean): void;
  /** This node carries the VIP (k3vip_vip_held). */
  setVipHeld(held: boolean): void;
  /** A Lease write finished (k3vip_lease_renew_total / _failures_total, k3vip_lease_acquire_*). */
  leaseWrite(kind: "acquire" | "renew" | "release", ok: boolean): void;
  /** One API request's duration (k3vip_api_request_duration_seconds{verb,code}). */
  apiRequest(verb: string, code: string, seconds: number): void;
  /** Seconds from the old holder's last renew (or release) to this node holding the VIP (k3vip_failover_duration_seconds). */
  failover(seconds: number): void;
  /** Local API server health as last probed (k3vip_apiserver_healthy). */
  setApiHealthy(ok: boolean): void;
  /** The agent is ready (serves /readyz 200): config valid, first Lease read done. */
  setReady(ready: boolean): void;
  /** A heartbeat datagram was dropped: bad MAC, replayed, stale, malformed, or a send that failed (k3vip_heartbeat_dropped_total{reason}). */
  heartbeatDropped(reason: string): void;
}
