import type { AgentMetrics } from "../port.ts";

/** AgentMetrics for unit tests: keeps the last values and counts, no registry. */
export class FakeAgentMetrics implements AgentMetrics {
  leader = false;
  vipHeld = false;
  apiHealthy: boolean | undefined;
  ready = false;
  readonly writes: { kind: "acquire" | "renew" | "release"; ok: boolean }[] = [];
  readonly apiRequests: { verb: string; code: string; seconds: number }[] = [];
  readonly failovers: number[] = [];
  readonly heartbeatDrops: string[] = [];

  heartbeatDropped(reason: string): void {
    this.heartbeatDrops.push(reason);
  }

  setLeader(leader: boolean): void {
    this.leader = leader;
  }
  setVipHeld(held: boolean): void {
    this.vipHeld = held;
  }
  leaseWrite(kind: "acquire" | "renew" | "release", ok: boolean): void {
    this.writes.push({ kind, ok });
  }
  apiRequest(verb: string, code: string, seconds: number): void {
    if (!(seconds >= 0)) throw new Error(`FakeAgentMetrics.apiRequest: negative or NaN duration ${seconds}`);
    this.apiRequests.push({ verb, code, seconds });
  }
  failover(seconds: number): void {
    if (!(seconds >= 0)) throw new Error(`FakeAgentMetrics.failover: negative or NaN duration ${seconds}`);
    this.failovers.push(seconds);
  }
  setApiHealthy(ok: boolean): void {
    this.apiHealthy = ok;
  }
  setReady(ready: boolean): void {
    this.ready = ready;
  }
  /** Count of writes of one kind (and outcome, when given). */
  count(kind: "acquire" | "renew" | "release", ok?: boolean): number {
    return this.writes.filter((w) => w.kind === kind && (ok === undefined || w.ok === ok)).length;
  }
}
