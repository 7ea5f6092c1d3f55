// One lab cluster per describe(): real agents started from the sources with
// their logs kept, one holder settled, the client pinging (and, when asked,
// the in-namespace samplers running) before the first test; everything
// stopped after the last, even when a test failed.
import { after, before } from "node:test";
import { singleHolder, type Pinger } from "../../src/lab/index.ts";
import { startLabCluster, type RunningLab, type StartOptions } from "../../src/lab/cluster/run.ts";

export interface LabClusterFixture {
  /** Set once before() ran. */
  readonly run: RunningLab;
  readonly pinger: Pinger;
  /** Every agent's log line, in order. */
  readonly agentLog: string[];
}

export function useLabCluster(opts: Omit<StartOptions, "fromSource" | "verbose" | "log">, extra: { samplers?: boolean; beforeClose?: (run: RunningLab) => void } = {}): LabClusterFixture {
  let run: RunningLab | undefined;
  let pinger: Pinger | undefined;
  const agentLog: string[] = [];
  before(async () => {
    run = await startLabCluster({ ...opts, fromSource: true, verbose: true, log: (l) => agentLog.push(l) });
    await singleHolder(run.cluster, 60_000);
    if (extra.samplers) await run.cluster.startSamplers(10);
    pinger = await run.cluster.startPinger(10);
  });
  after(async () => {
    if (run) extra.beforeClose?.(run);
    await pinger?.stop();
    await run?.close();
  });
  const ready = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`the lab cluster's ${what} is not up (its before() failed)`);
    return x;
  };
  return {
    get run() {
      return ready(run, "agents");
    },
    get pinger() {
      return ready(pinger, "client");
    },
    agentLog,
  };
}
