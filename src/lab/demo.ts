// sudo npm run demo
//
// Builds the lab (3 servers and a client in network namespaces), starts the
// fake Kubernetes API, a stand-in API server and a real `k3vip agent` on each
// server, shows who holds the VIP, kills the holder (its agent and API server
// die at once, like a crashed node), prints the failover time the client saw,
// and cleans up — also on Ctrl-C.
import { assertLabSupported, LabUnavailableError } from "./netns/index.ts";
import { analyzeTrial } from "./cluster/analyze.ts";
import { startLabCluster, type RunningLab } from "./cluster/run.ts";
import { singleHolder } from "./cluster/scenarios.ts";

const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  await assertLabSupported();
} catch (e) {
  if (e instanceof LabUnavailableError) {
    process.stderr.write(`demo: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}

let run: RunningLab | undefined;
try {
  say("Building the lab: bridge, srv1..srv3 (198.18.0.11-13), client (198.18.0.100), VIP 198.18.0.10 …");
  // As shipped: heartbeats on (port 9446, one key for all, as the installers make it).
  run = await startLabCluster({ heartbeats: true, log: (l) => process.stderr.write(`${l}\n`) });
  const { cluster } = run;
  say("Started the fake Kubernetes API, a stand-in API server and `k3vip agent` on each server.");
  const t0 = Date.now();
  const holder = await singleHolder(cluster, 30_000);
  say(`${holder} holds the VIP (elected in ${Date.now() - t0} ms).`);
  const pinger = await cluster.startPinger(10);
  await sleep(2000);
  const seen = pinger.records.filter((r) => r.by).at(-1)?.by;
  say(`The client asks https://198.18.0.10:6443/whoami every 10 ms: answered by ${seen ?? "nobody yet"}.`);
  say(`Killing ${holder} (SIGKILL to its agent and its API server) …`);
  const kill = Date.now();
  await Promise.all([cluster.stopAgent(holder, "SIGKILL"), cluster.stopResponder(holder, "SIGKILL")]);
  const others = cluster.servers.map((s) => s.name).filter((n) => n !== holder);
  const after = await cluster.waitForHolders((h) => h.some((x) => others.includes(x)), 30_000, "waiting for a new holder");
  const next = after.find((x) => others.includes(x)) as string;
  for (let i = 0; i < 250 && !pinger.records.some((r) => r.s >= kill && r.by === next); i++) await sleep(20);
  await sleep(1000);
  await pinger.stop();
  const stats = analyzeTrial(pinger.records, { from: kill - 300, to: Date.now() - 500 }, 1);
  say(`${next} took over: the client saw no answer for ${stats.outageMs} ms (${stats.failedRequests} of ${stats.requests} requests failed after retries).`);
  say(`(Defaults: heartbeats every 200 ms — a crashed holder is replaced once a majority has not heard it for 600 ms; the Lease (6 s) is renewed every 5 s while all hear each other.)`);
} catch (e) {
  process.stderr.write(`demo: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  if (run) {
    await run.close();
    say("Cleaned up: namespaces and processes removed.");
  }
}
