// Real `k3vip agent` processes (the built bundle) in lab namespaces, each
// talking to its own stand-in API server, which forwards to the fake API.
// Covers what the failover benchmark does not: an agent killed with -9
// leaves no VIP behind (the kernel's lifetime removes it); `k3vip status`
// and the agents' /metrics tell the same story as the interfaces.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { fakeApiKubeconfig, startFakeApi, type FakeApi } from "../../src/lab/fakeapi/index.ts";
import { LabCluster } from "../../src/lab/index.ts";

const BUNDLE = fileURLToPath(new URL("../../dist/k3vip.mjs", import.meta.url));

describe("k3vip agent in the lab", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3v-elect-"));
  let api: FakeApi;
  let cluster: LabCluster;
  const logs = new Map<string, string[]>();

  before(async () => {
    if (!existsSync(BUNDLE)) spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    // TCP for `k3vip status` from the host, the socket for the responders.
    api = await startFakeApi({ port: 0, socket: join(tmp, "api.sock") });
    cluster = await LabCluster.create({
      servers: 3,
      prefix: "k3vel",
      upstreamSocket: join(tmp, "api.sock"),
      agentArgv: (ctx) => [process.execPath, BUNDLE, "agent", "--vip", ctx.vip, "--interface", ctx.node.ifname, "--kubeconfig", ctx.kubeconfig, "--node-name", ctx.node.name, "--metrics-addr", ctx.metricsAddr, "--log-format", "json", "--heartbeat-port", "0"], // the Lease's rules, which this file tests
      onAgentLine: (node, line) => {
        const l = logs.get(node.name) ?? [];
        l.push(line);
        logs.set(node.name, l);
      },
    });
  });
  after(async () => {
    await cluster?.destroy();
    await api?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("one holder; kill -9: the kernel removes the dead agent's VIP, another node takes over, never two holders", async () => {
    for (const s of cluster.servers) await cluster.startAgent(s.name);
    const [first] = await cluster.waitForHolders((h) => h.length === 1, 20_000, "first holder");
    assert.ok(first);
    await cluster.stopAgent(first, "SIGKILL");
    const t0 = Date.now();
    // No process is left to remove it: the lifetime the agent last set runs out (rule 8).
    await cluster.waitForHolders((h) => !h.includes(first), 10_000, "the dead agent's VIP removed by the kernel");
    const gone = Date.now() - t0;
    let most = 0;
    const h = await cluster.waitForHolders(
      (x) => {
        most = Math.max(most, x.length);
        return x.length === 1;
      },
      20_000,
      "takeover",
    );
    assert.notEqual(h[0], first);
    assert.equal(most, 1, "never two holders");
    console.log(`# the kernel removed the dead agent's VIP ${gone} ms after SIGKILL (sampled every ~25 ms); ${h[0]} took over ${Date.now() - t0} ms after it`);
    await cluster.startAgent(first);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await cluster.holders(), h, "the restarted agent stays a follower");
  });

  it("every log line is one JSON object with the node name", () => {
    const lines = (logs.get(cluster.servers[0]?.name ?? "") ?? []).filter((l) => l.startsWith("{"));
    assert.ok(lines.length > 0);
    for (const l of lines) {
      const o = JSON.parse(l) as { level: string; msg: string; node: string; time: string };
      assert.ok(o.level && o.msg && o.time);
      assert.equal(o.node, cluster.servers[0]?.name);
    }
  });

  it("k3vip status (and --json) names the holder the interfaces show", async () => {
    const [holder] = await cluster.waitForHolders((h) => h.length === 1, 10_000);
    const kc = join(tmp, "status.kubeconfig");
    writeFileSync(kc, fakeApiKubeconfig(api.url ?? "", "admin"));
    // Not spawnSync: the fake API answering it runs in this process.
    const run = promisify(execFile);
    const j = await run(process.execPath, [BUNDLE, "status", "--kubeconfig", kc, "--json"], { encoding: "utf8" });
    const st = JSON.parse(j.stdout) as { holder: string; transitions: number; expired: boolean; renewAgeSeconds: number };
    assert.equal(st.holder, holder);
    assert.ok(st.transitions >= 1);
    assert.equal(st.expired, false);
    assert.equal(st.expired, false, "the holder keeps renewing");
    const t = await run(process.execPath, [BUNDLE, "status", "--kubeconfig", kc], { encoding: "utf8" });
    assert.match(t.stdout, new RegExp(`holder: +${holder}\\b`));
  });

  it("the holder's /metrics say leader 1 and VIP held 1; a follower's say 0", async () => {
    const [holder] = await cluster.waitForHolders((h) => h.length === 1, 10_000);
    for (const s of cluster.servers) {
      const out = await cluster.lab.exec(s.ns, [process.execPath, "-e", "fetch('http://127.0.0.1:2112/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
      const leader = /^k3vip_leader(?:\{[^}]*\})? (\d)/m.exec(out.stdout)?.[1];
      const held = /^k3vip_vip_held(?:\{[^}]*\})? (\d)/m.exec(out.stdout)?.[1];
      const want = s.name === holder ? "1" : "0";
      assert.equal(leader, want, `${s.name} k3vip_leader`);
      assert.equal(held, want, `${s.name} k3vip_vip_held`);
    }
  });

  it("SIGTERM on every agent: no VIP left anywhere, the Lease released", async () => {
    await Promise.all(cluster.servers.map((s) => cluster.stopAgent(s.name, "SIGTERM")));
    assert.deepEqual(await cluster.holders(), []);
    const lease = api.store.list({ group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true }, "kube-system")[0] as { spec: { holderIdentity: string } } | undefined;
    assert.equal(lease?.spec.holderIdentity, "");
  });
});
