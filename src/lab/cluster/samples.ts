// The in-namespace samplers' lines (sampler.ts), kept per server, and the
// figures they give: time with two or more holders (split brain), the part of
// it where two holders both reached the API with a live agent (the one the
// election promises never happens), time with no holder, and when a node
// stopped carrying the VIP. Pure, apart from the log being appended to.
//
// Between two samples a server is taken to stay as its last sample said.
// sampleGapMaxMs tells how good that assumption was (a sampler starved of CPU
// on a busy machine samples late).

export interface Sample {
  /** Epoch ms. */
  t: number;
  holds: boolean;
  reach: boolean;
  /** The agent's /readyz answered (absent: not sampled). */
  ready?: boolean;
}

export class SampleLog {
  readonly streams = new Map<string, Sample[]>();

  /** Parses one `t holds reach [ready]` line; false if it is not one. */
  pushLine(node: string, line: string): boolean {
    const m = /^(\d+) ([01]) ([01])(?: ([01]))?$/.exec(line.trim());
    if (!m) return false;
    this.push(node, { t: Number(m[1]), holds: m[2] === "1", reach: m[3] === "1", ...(m[4] !== undefined ? { ready: m[4] === "1" } : {}) });
    return true;
  }

  push(node: string, s: Sample): void {
    let xs = this.streams.get(node);
    if (!xs) this.streams.set(node, (xs = []));
    xs.push(s);
  }

  latest(node: string): Sample | undefined {
    return this.streams.get(node)?.at(-1);
  }

  /** Drops samples older than `t`, keeping each server's last one before it (its state at `t`). */
  trim(t: number): void {
    for (const [node, xs] of this.streams) {
      let i = 0;
      while (i + 1 < xs.length && xs[i + 1]!.t < t) i++;
      if (i > 0) this.streams.set(node, xs.slice(i));
    }
  }
}

export interface SampleStats {
  /** Time with two or more holders, in total and the longest stretch. */
  splitBrainMs: number;
  splitBrainMaxMs: number;
  /** Time with two or more holders that each had a live agent and reached the API. */
  splitBrainReachableMs: number;
  splitBrainReachableMaxMs: number;
  /**
   * The same, counting only time both bracketing samples of each holder agree
   * (carrying, reaching, live): a lower bound, where splitBrainReachableMs is
   * the upper one. They differ by at most one sample gap per change, so a
   * lagging sampler shows up here instead of as split brain.
   */
  splitBrainReachableCertainMs: number;
  /** Time with no holder, in total and the longest stretch. */
  zeroHolderMs: number;
  zeroHolderMaxMs: number;
  /** The stretches with two or more holders (the first 20), for the report. */
  splits: SplitStretch[];
  /** Servers that carried the VIP at some sample in the window. */
  heldBy: string[];
  /** Largest gap between two samples of one server in the window (the figures' resolution). */
  sampleGapMaxMs: number;
  /** Samples looked at. */
  samples: number;
}

export interface SplitStretch {
  from: number;
  to: number;
  holders: string[];
  /** Holders with a live agent that reached the API. */
  reachable: string[];
}

export interface SampleWindow {
  from: number;
  to: number;
}

/**
 * `live(node, t)`: false while that node's agent was dead or stopped by the
 * fault. Such a node's copy of the VIP is the kernel's leftover, which cannot
 * answer API clients on the agent's behalf; it counts as split brain, but not
 * as "reachable" split brain.
 */
export function analyzeSamples(streams: ReadonlyMap<string, readonly Sample[]>, window: SampleWindow, live: (node: string, t: number) => boolean = () => true): SampleStats {
  const nodes = [...streams.keys()];
  const state = new Map<string, Sample | undefined>();
  /** Each node's sample after its current one (undefined: none in the window). */
  const following = new Map<string, Sample | undefined>();
  const events: { t: number; node: string; s: Sample; next: Sample | undefined }[] = [];
  let gapMax = 0;
  let samples = 0;
  for (const node of nodes) {
    const xs = streams.get(node) ?? [];
    let before: Sample | undefined;
    let prevT: number | undefined;
    for (const [i, s] of xs.entries()) {
      const next = xs[i + 1] !== undefined && xs[i + 1]!.t <= window.to ? xs[i + 1] : undefined;
      if (s.t < window.from) {
        before = s;
        following.set(node, next);
      } else if (s.t <= window.to) {
        events.push({ t: s.t, node, s, next });
        samples++;
        if (prevT !== undefined) gapMax = Math.max(gapMax, s.t - prevT);
        prevT = s.t;
      }
    }
    state.set(node, before);
  }
  events.sort((a, b) => a.t - b.t);
  const heldBy = new Set<string>();
  for (const [node, s] of state) if (s?.holds) heldBy.add(node);

  const splits: SplitStretch[] = [];
  const acc = { split: 0, splitMax: 0, splitRun: 0, reach: 0, reachMax: 0, reachRun: 0, zero: 0, zeroMax: 0, zeroRun: 0, certain: 0, certainMax: 0, certainRun: 0 };
  const account = (from: number, to: number) => {
    const dt = to - from;
    if (dt <= 0) return;
    const holding: string[] = [];
    const reaching: string[] = [];
    let certain = 0;
    for (const [node, s] of state) {
      if (!s?.holds) continue;
      holding.push(node);
      if (s.reach && live(node, from)) {
        reaching.push(node);
        const n = following.get(node);
        if (n === undefined || (n.holds && n.reach && live(node, to))) certain++;
      }
    }
    const holders = holding.length;
    const reachable = reaching.length;
    if (holders >= 2) {
      const last = splits.at(-1);
      const key = (xs: string[]) => xs.sort().join(",");
      if (last && last.to === from && key(last.holders) === key(holding) && key(last.reachable) === key(reaching)) last.to = to;
      else if (splits.length < 20) splits.push({ from, to, holders: holding.sort(), reachable: reaching.sort() });
    }
    // Each run ends at the first stretch that breaks it; a run that goes on keeps adding.
    const run = (on: boolean, total: "split" | "reach" | "zero" | "certain") => {
      const runKey = `${total}Run` as const;
      const maxKey = `${total}Max` as const;
      if (on) {
        acc[total] += dt;
        acc[runKey] += dt;
        acc[maxKey] = Math.max(acc[maxKey], acc[runKey]);
      } else acc[runKey] = 0;
    };
    run(holders >= 2, "split");
    run(reachable >= 2, "reach");
    run(certain >= 2, "certain");
    run(holders === 0, "zero");
  };
  let t = window.from;
  for (const e of events) {
    account(t, e.t);
    t = Math.max(t, e.t);
    state.set(e.node, e.s);
    following.set(e.node, e.next);
    if (e.s.holds) heldBy.add(e.node);
  }
  account(t, window.to);
  return {
    splitBrainMs: acc.split,
    splitBrainMaxMs: acc.splitMax,
    splitBrainReachableMs: acc.reach,
    splitBrainReachableMaxMs: acc.reachMax,
    splitBrainReachableCertainMs: acc.certain,
    zeroHolderMs: acc.zero,
    zeroHolderMaxMs: acc.zeroMax,
    splits,
    heldBy: [...heldBy].sort(),
    sampleGapMaxMs: gapMax,
    samples,
  };
}

/** First sample of `node` at or after `since` that shows it without the VIP. */
export function firstWithout(streams: ReadonlyMap<string, readonly Sample[]>, node: string, since: number): number | undefined {
  return streams.get(node)?.find((s) => s.t >= since && !s.holds)?.t;
}
