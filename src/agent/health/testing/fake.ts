import type { HealthProbe, HealthResult } from "../port.ts";

/** A scripted HealthProbe for unit tests: returns `next` (settable) and counts probes. */
export class FakeHealthProbe implements HealthProbe {
  probes = 0;
  next: HealthResult = { ok: true, reason: "ok", latencyMs: 1 };
  /** Results used once each, before falling back to `next`. */
  readonly queue: HealthResult[] = [];

  set(ok: boolean, reason = ok ? "ok" : "connection refused"): void {
    this.next = { ok, reason, latencyMs: 1 };
  }

  probe(): Promise<HealthResult> {
    this.probes++;
    return Promise.resolve(this.queue.shift() ?? this.next);
  }
}
