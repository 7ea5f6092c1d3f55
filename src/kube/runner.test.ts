// Three agent runners in one process against the fake API through the real
// Lease adapter (client-node's KubeConfig, rest.ts), with real time and
// short timings: one holder, a clean hand-over, a partitioned holder gives up.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { AgentRunner, createLogger, type ElectionConfig, type Vip } from "../agent/index.ts";
import { SIM_CONFIG } from "../agent/election/testing/sim.ts";
import { FakeHealthProbe } from "../agent/health/testing/fake.ts";
import { FakeAgentMetrics } from "../agent/metrics/testing/fake.ts";
import { FakeVipPort } from "../agent/vip/testing/fake.ts";
import { startFakeApi, type FakeApi } from "../lab/fakeapi/index.ts";
import { KubeLeasePort } from "./lease.ts";

const VIP: Vip = { address: "198.18.0.10", family: 4, interface: "eth0" };
const CFG = (identity: string, over: Partial<ElectionConfig> = {}): ElectionConfig => ({ identity, ...SIM_CONFIG, ...over });
const quietLogger = () => createLogger("json", { node: "test" }, () => undefined);

describe("three runners against the fake API (real client-node adapter, real time, short timings)", () => {
  let api: FakeApi;
  before(async () => {
    api = await startFakeApi({ port: 0 });
  });
  after(async () => {
    await api.close();
  });

  function node(name: string) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: api.url ?? "", skipTLSVerify: true }],
      users: [{ name, token: name }],
      contexts: [{ name: "c", cluster: "fake", user: name }],
      currentContext: "c",
    });
    const vipPort = new FakeVipPort();
    const health = new FakeHealthProbe();
    const lease = new KubeLeasePort(kc, { namespace: "kube-system", name: "k3vip-cp", timeoutMs: 300 });
    const runner = new AgentRunner({
      // Timings this short cannot carry the 1 s kernel lifetime (validateConfig refuses them): the fence is off here.
      config: CFG(name, { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 200, brownoutHoldMs: 1000, healthIntervalMs: 100, fenceLifetimeS: 0 }),
      vip: VIP,
      lease,
      vipPort,
      health,
      metrics: new FakeAgentMetrics(),
      logger: quietLogger(),
      watchRetryMs: 100,
    });
    const exited = runner.run();
    return { name, runner, vipPort, health, exited };
  }

  it("one holder; SIGTERM hands over; a partitioned holder loses the VIP to another; never two", async () => {
    const nodes = ["srv1", "srv2", "srv3"].map(node);
    const holders = () => nodes.filter((n) => n.vipPort.isHeld(VIP)).map((n) => n.name);
    let maxAtOnce = 0;
    const sampler = setInterval(() => (maxAtOnce = Math.max(maxAtOnce, holders().length)), 2);
    try {
      await until(() => holders().length === 1, 5000);
      const first = holders()[0] as string;
      const firstNode = nodes.find((n) => n.name === first);
      assert.ok(firstNode);
      firstNode.runner.signal("SIGTERM");
      assert.equal(await firstNode.exited, 0);
      await until(() => holders().length === 1 && holders()[0] !== first, 3000);
      const second = holders()[0] as string;
      // Partition the new holder from the API: connections reset before being served.
      api.setFault(second, { refuse: true });
      await until(() => holders().length === 1 && holders()[0] !== second, 5000);
      api.setFault(second, null);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(holders().length, 1);
      assert.equal(maxAtOnce, 1, "never two VIP holders at once");
    } finally {
      clearInterval(sampler);
      for (const n of nodes) n.runner.signal("SIGTERM");
      await Promise.all(nodes.map((n) => n.exited));
    }
  });
});

async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
