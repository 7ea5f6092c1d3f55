// The cluster harness without the real agent: responders per server, agent
// processes started/stopped per node, VIP holders read from the namespaces,
// and the client's records moving with a hand-moved VIP.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { toVip } from "../../src/agent/index.ts";
import { createVipPort } from "../../src/host/index.ts";
import { analyzeTrial, LabCluster, listLabNamespaces } from "../../src/lab/index.ts";

describe("lab cluster harness", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3vl-cluster-"));
  const sock = join(tmp, "api.sock");
  let upstream: Server;
  let cluster: LabCluster;
  const auth: string[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      auth.push(req.headers.authorization ?? "");
      res.end("{}");
    });
    await new Promise<void>((r) => upstream.listen(sock, r));
    // The "agent" here only proves the harness: it prints its context and waits.
    cluster = await LabCluster.create({
      servers: 2,
      upstreamSocket: sock,
      agentArgv: (ctx) => ["sh", "-c", `echo node=${ctx.node.name} kubeconfig=${ctx.kubeconfig}; exec sleep 300`],
    });
  });
  after(async () => {
    await cluster?.destroy();
    upstream?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("starts agents in their namespaces with a kubeconfig for the node's own API server", async () => {
    const p = await cluster.startAgent("srv2");
    for (let i = 0; i < 100 && !p.output().includes("node="); i++) await new Promise((r) => setTimeout(r, 20));
    const m = /node=(\S+) kubeconfig=(\S+)/.exec(p.output());
    assert.equal(m?.[1], "srv2");
    const kc = readFileSync(m[2]!, "utf8");
    assert.match(kc, /server: https:\/\/127\.0\.0\.1:6443/);
    assert.match(kc, /token: k3vip-srv2/);
    assert.ok((await cluster.agentRssMiB("srv2")) !== undefined);
    await cluster.stopAgent("srv2");
    assert.equal(p.running, false);
  });

  it("reads holders from the namespaces and the client follows a hand-moved VIP", async () => {
    const [s1, s2] = cluster.servers;
    const vip = toVip(cluster.vip, "eth0");
    const p1 = createVipPort({ run: (a) => cluster.lab.exec(s1!.ns, a) });
    const p2 = createVipPort({ run: (a) => cluster.lab.exec(s2!.ns, a) });
    assert.deepEqual(await cluster.holders(), []);
    await p1.add(vip);
    await p1.announce(vip);
    assert.deepEqual(await cluster.holders(), ["srv1"]);
    const pinger = await cluster.startPinger();
    try {
      for (let i = 0; i < 200 && pinger.records.filter((r) => r.by).length < 20; i++) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      await p1.remove(vip);
      await p2.add(vip);
      await p2.announce(vip);
      await cluster.waitForHolders((h) => h.join() === "srv2", 2000);
      for (let i = 0; i < 200 && !pinger.records.some((r) => r.s > t0 + 500 && r.by); i++) await new Promise((r) => setTimeout(r, 20));
      await pinger.stop();
      const stats = analyzeTrial(pinger.records, { from: t0 - 200, to: t0 + 500 }, 1);
      assert.equal(stats.lastServer, "srv2");
      assert.equal(stats.transitions, 1);
      assert.equal(stats.failedRequests, 0);
      console.log(`# hand-moved VIP: client outage ${stats.outageMs} ms`);
    } finally {
      await p2.remove(vip);
    }
  });

  it("leaves nothing behind after destroy", async () => {
    const c = await LabCluster.create({ servers: 1, upstreamSocket: sock, agentArgv: () => ["sleep", "300"], prefix: "k3vlc" });
    const agent = await c.startAgent("srv1");
    const prefix = c.lab.id;
    await c.destroy();
    assert.deepEqual(await listLabNamespaces(prefix), []);
    assert.equal(agent.running, false);
  });
});
