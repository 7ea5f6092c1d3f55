// `k3vip status`: the Lease read through the real client against the fake
// API, the agents' /metrics scraped from loopback, and the text/JSON output.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { microTime } from "../agent/index.ts";
import { fakeApiKubeconfig, resourceType, startFakeApi, type FakeApi } from "../lab/fakeapi/index.ts";
import { formatAgents, formatStatus, leaseStatus, parseAgentMetrics } from "./index.ts";

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const run = promisify(execFile);

describe("status formatting", () => {
  const where = { lease: "kube-system/k3vip-cp", server: "https://127.0.0.1:6443" };
  const now = Date.UTC(2026, 10, 29, 21, 0, 0);
  const spec = (holder: string, renewAgoMs: number) => ({
    holderIdentity: holder,
    leaseDurationSeconds: 6,
    acquireTime: microTime(now - 300_000),
    renewTime: microTime(now - renewAgoMs),
    leaseTransitions: 4,
  });

  it("holder, since, renew age, transitions", () => {
    const st = leaseStatus({ spec: spec("srv2", 1500), resourceVersion: "9" }, where, now);
    assert.equal(st.holder, "srv2");
    assert.equal(st.renewAgeSeconds, 1.5);
    assert.equal(st.expired, false);
    const text = formatStatus(st, now);
    assert.match(text, /holder: +srv2\n/);
    assert.match(text, /since: +2026-11-29T20:55:00\.000000Z \(5m0s ago\)/);
    assert.match(text, /last renew: +1\.5 s ago \(lease duration 6 s\)/);
    assert.match(text, /transitions: +4/);
  });

  it("expired, released and absent", () => {
    assert.match(formatStatus(leaseStatus({ spec: spec("srv2", 40_000), resourceVersion: "9" }, where, now), now), /srv2 +\(EXPIRED/);
    const released = leaseStatus({ spec: spec("", 100), resourceVersion: "9" }, where, now);
    assert.equal(released.holder, null);
    assert.equal(released.expired, false);
    assert.match(formatStatus(released, now), /holder: +none \(released/);
    assert.match(formatStatus(leaseStatus(null, where, now), now), /^No Lease kube-system\/k3vip-cp/);
  });

  it("agent gauges from Prometheus text", () => {
    const text = "# HELP k3vip_leader x\n# TYPE k3vip_leader gauge\nk3vip_leader 1\nk3vip_vip_held 1\nk3vip_apiserver_healthy 0\n";
    assert.deepEqual(parseAgentMetrics(text), { leader: true, vipHeld: true, apiServerHealthy: false, ready: null });
    const table = formatAgents([
      { node: "srv1", address: "10.0.0.1", reachable: true, leader: true, vipHeld: true, apiServerHealthy: true, ready: true },
      { node: "srv2", address: "10.0.0.2", reachable: false, error: "ECONNREFUSED", leader: null, vipHeld: null, apiServerHealthy: null, ready: null },
    ]);
    assert.match(table, /^SERVER +ADDRESS +LEADER +VIP +API SERVER OK +READY\n/);
    assert.match(table, /srv1 +10\.0\.0\.1 +yes +yes +yes +yes\n/);
    assert.match(table, /srv2 +10\.0\.0\.2 +- +- +- +unreachable: ECONNREFUSED\n/);
  });
});

describe("k3vip status against the fake API", () => {
  let api: FakeApi;
  let metrics: Server;
  let dir: string;
  let kubeconfig: string;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k3vip-status-"));
    api = await startFakeApi({ port: 0 });
    metrics = createServer((_req, res) => res.end("k3vip_leader 1\nk3vip_vip_held 1\nk3vip_apiserver_healthy 1\nk3vip_ready 1\n"));
    await new Promise<void>((r) => metrics.listen(0, "127.0.0.1", r));
    port = (metrics.address() as AddressInfo).port;
    kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, fakeApiKubeconfig(api.url ?? "", "admin"));
    const node = (name: string, ip: string, cp: boolean) => ({
      metadata: { name, labels: cp ? { "node-role.kubernetes.io/control-plane": "true" } : {} },
      status: { addresses: [{ type: "InternalIP", address: ip }] },
    });
    api.store.create(resourceType("nodes"), "", node("srv1", "127.0.0.1", true));
    api.store.create(resourceType("nodes"), "", node("srv2", "127.0.0.2", true)); // nothing listens there
    api.store.create(resourceType("nodes"), "", node("agent1", "127.0.0.3", false));
    const t = microTime(Date.now() - 1000);
    api.store.create(resourceType("leases", "coordination.k8s.io"), "kube-system", {
      metadata: { name: "k3vip-cp" },
      // Long enough that a slow machine never sees it expire mid-test (expiry has its own test above).
      spec: { holderIdentity: "srv1", leaseDurationSeconds: 3600, acquireTime: t, renewTime: t, leaseTransitions: 2 },
    });
  });
  after(async () => {
    await api.close();
    metrics.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("--json: the Lease and each server's agent (workers are not asked)", async () => {
    const r = await run(process.execPath, ["--import", "tsx", MAIN, "status", "--kubeconfig", kubeconfig, "--metrics-port", String(port), "--json"], { encoding: "utf8" });
    const st = JSON.parse(r.stdout) as { holder: string; transitions: number; agents: { node: string; reachable: boolean; leader: boolean | null }[] };
    assert.equal(st.holder, "srv1");
    assert.equal(st.transitions, 2);
    assert.deepEqual(
      st.agents.map((a) => [a.node, a.reachable, a.leader]),
      [
        ["srv1", true, true],
        ["srv2", false, null],
      ],
    );
  });

  it("text output, and a clear error for a bad --metrics-port", async () => {
    const r = await run(process.execPath, ["--import", "tsx", MAIN, "status", "--kubeconfig", kubeconfig, "--metrics-port", String(port)], { encoding: "utf8" });
    assert.match(r.stdout, /holder: +srv1\n/);
    assert.match(r.stdout, /srv1 +127\.0\.0\.1 +yes +yes +yes +yes/);
    await assert.rejects(run(process.execPath, ["--import", "tsx", MAIN, "status", "--kubeconfig", kubeconfig, "--metrics-port", "http"], { encoding: "utf8" }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /--metrics-port "http" is not a port number/);
      return true;
    });
  });

  it("--watch --json prints one line per change", async () => {
    const p = spawn(process.execPath, ["--import", "tsx", MAIN, "status", "--kubeconfig", kubeconfig, "--watch", "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    const lines: { event: string; holder: string | null }[] = [];
    const rl = createInterface({ input: p.stdout });
    rl.on("line", (l) => lines.push(JSON.parse(l) as { event: string; holder: string | null }));
    try {
      const until = async (n: number) => {
        for (let i = 0; i < 400 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      };
      await until(2); // INITIAL, then the watch's ADDED
      const cur = api.store.get(resourceType("leases", "coordination.k8s.io"), "kube-system", "k3vip-cp");
      api.store.update(resourceType("leases", "coordination.k8s.io"), "kube-system", { ...cur, spec: { ...(cur.spec as object), holderIdentity: "srv3" } });
      await until(3);
      assert.equal(lines[0]?.event, "INITIAL");
      assert.equal(lines[0]?.holder, "srv1");
      assert.equal(lines.at(-1)?.event, "MODIFIED");
      assert.equal(lines.at(-1)?.holder, "srv3");
    } finally {
      p.kill("SIGINT");
      await new Promise((r) => p.once("exit", r));
    }
  });
});
