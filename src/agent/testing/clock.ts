// A manual clock for runner tests: time moves only when a test says so, and
// timers fire in order with promises settled in between (no sleeping).
import type { Clock } from "../runner.ts";

export class ManualClock implements Clock {
  mono = 1000;
  wall = Date.UTC(2026, 10, 29, 20, 0, 0);
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;
  now() {
    return { mono: this.mono, wall: this.wall + this.mono };
  }
  setTimer(ms: number, fn: () => void): unknown {
    const id = ++this.id;
    this.timers.set(id, { at: this.mono + Math.max(0, ms), fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward, firing timers in order and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.mono = Math.max(this.mono, next[1].at);
      next[1].fn();
      await settle();
    }
    this.mono = end;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
