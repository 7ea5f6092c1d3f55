// The metrics server on loopback: names from port.ts, endpoints, and a
// clear error when the port is taken.
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { UsageError } from "../../config/index.ts";
import { parseMetricsAddr, startMetricsServer } from "./index.ts";
import { FakeAgentMetrics } from "./testing/fake.ts";

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe("metrics server", () => {
  it("serves the agent's metrics and default process metrics on /metrics", async () => {
    const s = await startMetricsServer({ metricsAddr: "127.0.0.1:0" });
    try {
      const m = s.metrics;
      m.setLeader(true);
      m.setVipHeld(true);
      m.setApiHealthy(true);
      m.leaseWrite("renew", true);
      m.leaseWrite("renew", false);
      m.leaseWrite("acquire", true);
      m.apiRequest("PUT", "200", 0.012);
      m.failover(1.5);
      const { status, body } = await get(`${s.url}/metrics`);
      assert.equal(status, 200);
      for (const line of [
        "k3vip_leader 1",
        "k3vip_vip_held 1",
        "k3vip_apiserver_healthy 1",
        "k3vip_lease_renew_total 2",
        "k3vip_lease_renew_failures_total 1",
        "k3vip_lease_acquire_total 1",
        "k3vip_lease_acquire_failures_total 0",
        "k3vip_lease_release_total 0",
        'k3vip_api_request_duration_seconds_count{verb="PUT",code="200"} 1',
        "k3vip_failover_duration_seconds_sum 1.5",
        "k3vip_ready 0",
      ]) {
        assert.ok(body.split("\n").includes(line), `missing ${line}`);
      }
      assert.match(body, /^process_resident_memory_bytes \d+/m);
      assert.match(body, /^nodejs_eventloop_lag_seconds /m);
      m.setLeader(false);
      assert.ok((await get(`${s.url}/metrics`)).body.split("\n").includes("k3vip_leader 0"));
    } finally {
      await s.close();
    }
  });

  it("answers /healthz while alive and /readyz only after setReady(true)", async () => {
    let alive = true;
    const s = await startMetricsServer({ metricsAddr: "[::1]:0" }, { isAlive: () => alive });
    try {
      assert.match(s.url, /^http:\/\/\[::1\]:\d+$/);
      assert.equal((await get(`${s.url}/healthz`)).status, 200);
      assert.equal((await get(`${s.url}/readyz`)).status, 503);
      s.metrics.setReady(true);
      assert.equal((await get(`${s.url}/readyz`)).status, 200);
      s.metrics.setReady(false);
      assert.equal((await get(`${s.url}/readyz`)).status, 503);
      alive = false;
      assert.equal((await get(`${s.url}/healthz`)).status, 503);
      assert.equal((await get(`${s.url}/nope`)).status, 404);
    } finally {
      await s.close();
    }
  });

  it("refuses a taken port with an error naming --metrics-addr, K3VIP_METRICS_ADDR and the value", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await assert.rejects(startMetricsServer({ metricsAddr: `127.0.0.1:${port}` }), (e: Error) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.message.includes("\n"), false);
        assert.match(e.message, new RegExp(`--metrics-addr \\(K3VIP_METRICS_ADDR\\) "127\\.0\\.0\\.1:${port}" cannot be used: port ${port} is already in use`));
        return true;
      });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it("waits for a taken port when asked (kube-vip's :2112 during a swap), telling once", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    let told = 0;
    const starting = startMetricsServer({ metricsAddr: `127.0.0.1:${port}` }, { waitInUseMs: 10_000, onInUse: () => told++ });
    await new Promise((r) => setTimeout(r, 1500));
    await new Promise((r) => blocker.close(r));
    const s = await starting;
    try {
      assert.equal(told, 1);
      assert.equal((await get(`${s.url}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it("parses listen addresses like the config model", () => {
    assert.deepEqual(parseMetricsAddr(":2112"), { host: undefined, port: 2112 });
    assert.deepEqual(parseMetricsAddr("0.0.0.0:9100"), { host: "0.0.0.0", port: 9100 });
    assert.deepEqual(parseMetricsAddr("[::1]:2112"), { host: "::1", port: 2112 });
    assert.throws(() => parseMetricsAddr("2112"), UsageError);
  });

  it("FakeAgentMetrics keeps values and rejects impossible durations", () => {
    const f = new FakeAgentMetrics();
    f.setLeader(true);
    f.leaseWrite("renew", false);
    f.leaseWrite("renew", true);
    assert.equal(f.leader, true);
    assert.equal(f.count("renew"), 2);
    assert.equal(f.count("renew", false), 1);
    assert.throws(() => f.failover(-1), /negative/);
  });
});
