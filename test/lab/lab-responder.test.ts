// The responder in server namespaces: answers health and /whoami itself,
// forwards API calls (with the bearer token, streaming) to an upstream on a
// unix socket, and stopping it looks like a dead API server.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Lab, makeLabCerts, spawnResponder, type LabCerts, type LabNode, type LabProcess } from "../../src/lab/index.ts";

const CLIENT = fileURLToPath(new URL("../../src/lab/responder/client.ts", import.meta.url));

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

describe("lab responder", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3vl-resp-"));
  const sock = join(tmp, "api.sock");
  let lab: Lab;
  let certs: LabCerts;
  let upstream: Server;
  const seen: Seen[] = [];
  let watchClosed = 0;
  const responders: LabProcess[] = [];

  before(async () => {
    upstream = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body });
        if (req.url?.includes("watch=true")) {
          // First event now, then hold the stream open like a real watch.
          res.writeHead(200, { "content-type": "application/json" });
          res.write(`${JSON.stringify({ type: "ADDED", object: { kind: "Lease", metadata: { name: "k3vip-cp" } } })}\n`);
          res.on("close", () => watchClosed++);
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ kind: "Lease", echo: body, method: req.method }));
      });
    });
    await new Promise<void>((r) => upstream.listen(sock, r));
    [lab, certs] = await Promise.all([Lab.create({ servers: 2 }), makeLabCerts(join(tmp, "pki"))]);
    for (const s of lab.servers) responders.push(await spawnResponder(lab, s, { certs, upstreamSocket: sock }));
  });
  after(async () => {
    await lab?.destroy();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    rmSync(tmp, { recursive: true, force: true });
  });

  async function call(url: string, extra: string[] = [], from: LabNode = lab.client): Promise<{ status?: number; servedBy?: string; body?: string; error?: string }> {
    const r = await lab.exec(from.ns, [process.execPath, "--import", "tsx", CLIENT, "--ca", certs.caFile, "--url", url, ...extra], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout) as { status?: number; servedBy?: string; body?: string; error?: string };
  }
  const at = (n: LabNode, path: string, v6 = false) => `https://${v6 ? `[${n.ipv6}]` : n.ipv4}:6443${path}`;

  it("tells who served a request, over IPv4 and IPv6, with a certificate the lab CA verifies", async () => {
    const [s1, s2] = lab.servers as [LabNode, LabNode];
    assert.deepEqual(await call(at(s1, "/whoami")), { status: 200, servedBy: "srv1", body: "srv1\n" });
    assert.deepEqual(await call(at(s2, "/whoami", true)), { status: 200, servedBy: "srv2", body: "srv2\n" });
    assert.equal((await call(at(s1, "/livez"))).status, 200);
    assert.equal((await call(at(s2, "/readyz", true))).status, 200);
  });

  it("forwards API requests to the upstream socket with the Authorization header and body", async () => {
    seen.length = 0;
    const lease = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/k3vip-cp";
    const r = await call(at(lab.servers[0]!, lease), ["--method", "PUT", "--header", "authorization: Bearer node-srv1", "--header", "content-type: application/json", "--body", '{"spec":{}}']);
    assert.equal(r.status, 200);
    assert.equal(r.servedBy, "srv1");
    assert.deepEqual(JSON.parse(r.body!), { kind: "Lease", echo: '{"spec":{}}', method: "PUT" });
    assert.deepEqual(seen, [{ method: "PUT", url: lease, auth: "Bearer node-srv1", body: '{"spec":{}}' }]);
  });

  it("streams watch events as they come and closes the upstream watch when the client leaves", async () => {
    watchClosed = 0;
    const r = await call(at(lab.servers[1]!, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=true"), ["--first-chunk", "--header", "authorization: Bearer node-srv2"]);
    // The upstream never ends this stream: seeing the event proves it was not buffered.
    assert.equal(r.status, 200);
    assert.match(r.body!, /"type":"ADDED"/);
    for (let i = 0; i < 100 && watchClosed === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(watchClosed, 1, "upstream watch closed after the client went away");
  });

  it("answers 503 Status when the upstream is gone, and connection refused once stopped", async () => {
    const other = await spawnResponder(lab, lab.servers[0]!, { certs, upstreamSocket: join(tmp, "missing.sock"), port: 6444 });
    const r = await call(`https://${lab.servers[0]!.ipv4}:6444/api/v1/namespaces`);
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body!).reason, "ServiceUnavailable");
    await other.stop();
    await responders[0]!.stop();
    assert.deepEqual(await call(at(lab.servers[0]!, "/livez")), { error: "ECONNREFUSED" });
    assert.deepEqual(await call(at(lab.servers[0]!, "/whoami", true)), { error: "ECONNREFUSED" });
    // Bring it back: the same node serves again.
    responders[0] = await spawnResponder(lab, lab.servers[0]!, { certs, upstreamSocket: sock });
    assert.equal((await call(at(lab.servers[0]!, "/whoami"))).servedBy, "srv1");
  });

  it("with its cable pulled still serves /livez locally but fails API calls like an apiserver without etcd quorum", async () => {
    const s2 = lab.servers[1]!;
    const lease = "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/k3vip-cp";
    seen.length = 0;
    await lab.linkDown(s2);
    try {
      assert.equal((await call("https://127.0.0.1:6443/livez", [], s2)).status, 200);
      const r = await call(lease, ["--header", "authorization: Bearer node-srv2"], s2);
      assert.equal(r.status, 500);
      assert.equal(JSON.parse(r.body!).message, "etcdserver: no leader");
      assert.deepEqual(seen, [], "nothing reached the upstream");
    } finally {
      await lab.linkUp(s2);
    }
    assert.equal((await call(lease, ["--header", "authorization: Bearer node-srv2"], s2)).status, 200);
    assert.equal(seen.length, 1);
  });
});
