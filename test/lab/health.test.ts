// The local API-server probe against real HTTPS/TCP servers on loopback
// (certificates made by openssl, as in the lab).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createHealthProbe } from "../../src/kube/index.ts";
import { makeLabCerts, type LabCerts } from "../../src/lab/responder/certs.ts";

describe("API-server health probe", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3vl-health-"));
  let certs: LabCerts;
  let other: LabCerts;
  let server: Server;
  let port = 0;
  let status = 200;
  let hang = false;
  const seen: { url: string; auth: string | undefined }[] = [];

  before(async () => {
    [certs, other] = await Promise.all([makeLabCerts(join(tmp, "a")), makeLabCerts(join(tmp, "b"))]);
    server = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      seen.push({ url: req.url ?? "", auth: req.headers.authorization });
      if (hang) return; // never answers
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "failed");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(tmp, { recursive: true, force: true });
  });

  const cfg = () => ({ apiPort: port, distro: "k3s" as const });

  it("GETs /livez?exclude=etcd on 127.0.0.1:<apiPort> with the token, verifying the CA", async () => {
    status = 200;
    seen.length = 0;
    const r = await createHealthProbe(cfg(), { token: "tok-1", ca: certs.ca }).probe();
    assert.equal(r.ok, true);
    assert.equal(r.reason, "ok");
    assert.ok(r.latencyMs >= 0);
    assert.deepEqual(seen, [{ url: "/livez?exclude=etcd", auth: "Bearer tok-1" }]);
  });

  it("re-reads the token and CA files on every probe (the kubelet rotates the token)", async () => {
    status = 200;
    seen.length = 0;
    const tokenFile = join(tmp, "token");
    const caFile = join(tmp, "ca.crt");
    writeFileSync(caFile, certs.ca);
    writeFileSync(tokenFile, "first\n");
    const p = createHealthProbe(cfg(), { tokenFile, caFile });
    await p.probe();
    writeFileSync(tokenFile, "second\n");
    await p.probe();
    assert.deepEqual(
      seen.map((s) => s.auth),
      ["Bearer first", "Bearer second"],
    );
  });

  it("classifies HTTP errors; 401/403 still mean the server is serving", async () => {
    const p = createHealthProbe(cfg(), { token: "t", ca: certs.ca });
    status = 500;
    assert.deepEqual([(await p.probe()).ok, (await p.probe()).reason], [false, "HTTP 500"]);
    status = 401;
    const r = await p.probe();
    assert.equal(r.ok, true);
    assert.match(r.reason, /HTTP 401 \(serving; token rejected\)/);
    status = 200;
  });

  it("classifies connection refused", async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await createHealthProbe({ apiPort: freePort, distro: "k3s" }, { token: "t", ca: certs.ca }).probe();
    assert.deepEqual([r.ok, r.reason], [false, "connection refused"]);
  });

  it("times out on a server that accepts but never answers", async () => {
    hang = true;
    try {
      const r = await createHealthProbe(cfg(), { token: "t", ca: certs.ca, timeoutMs: 200 }).probe();
      assert.deepEqual([r.ok, r.reason], [false, "timeout after 200 ms"]);
    } finally {
      hang = false;
    }
  });

  it("fails on a certificate from another CA, unless told insecure", async () => {
    const bad = await createHealthProbe(cfg(), { token: "t", ca: other.ca }).probe();
    assert.equal(bad.ok, false);
    assert.match(bad.reason, /^TLS error: /);
    const insecure = await createHealthProbe(cfg(), { token: "t", insecure: true }).probe();
    assert.equal(insecure.ok, true);
  });

  it("honours a URL override (the lab's responder)", async () => {
    seen.length = 0;
    const r = await createHealthProbe({ apiPort: 1, distro: "k3s" }, { url: `https://localhost:${port}/readyz`, token: "t", ca: certs.ca }).probe();
    assert.equal(r.ok, true);
    assert.equal(seen[0]?.url, "/readyz");
  });

  it("on RKE2 also requires the supervisor port to accept connections", async () => {
    const sup = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => sup.listen(0, "127.0.0.1", r));
    const supPort = (sup.address() as AddressInfo).port;
    const rke2 = { apiPort: port, distro: "rke2" as const };
    assert.equal((await createHealthProbe(rke2, { token: "t", ca: certs.ca, supervisorPort: supPort }).probe()).ok, true);
    await new Promise((r) => sup.close(r));
    const r = await createHealthProbe(rke2, { token: "t", ca: certs.ca, supervisorPort: supPort }).probe();
    assert.deepEqual([r.ok, r.reason], [false, `supervisor port ${supPort}: connection refused`]);
  });
  /** A throwaway HTTPS server on loopback: counts TLS connections; `handle` may answer or not. */
  async function serve(handle: (n: number, req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void) {
    let connections = 0;
    let requests = 0;
    const srv = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) => handle(++requests, req, res));
    srv.on("secureConnection", () => connections++);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return {
      srv,
      cfg: { apiPort: (srv.address() as AddressInfo).port, distro: "k3s" as const },
      connections: () => connections,
      stop: async () => {
        srv.closeAllConnections();
        await new Promise((r) => srv.close(r));
      },
    };
  }
  const ok = (_n: number, _req: unknown, res: import("node:http").ServerResponse) => void res.writeHead(200).end("ok");

  it("keeps one TLS connection for every probe (no handshake per probe)", async () => {
    const s = await serve(ok);
    const p = createHealthProbe(s.cfg, { token: "t", ca: certs.ca });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await p.probe()).ok, true);
      assert.equal(s.connections(), 1);
    } finally {
      p.close?.();
      await s.stop();
    }
  });

  it("a server that dies between probes: its connection closing asks for a probe at once, which is refused", async () => {
    const s = await serve(ok);
    const p = createHealthProbe(s.cfg, { token: "t", ca: certs.ca });
    const suspected: { reason: string; at: number }[] = [];
    p.watch?.((reason) => suspected.push({ reason, at: performance.now() }));
    try {
      assert.equal((await p.probe()).ok, true);
      assert.equal(suspected.length, 0);
      const killedAt = performance.now();
      await s.stop(); // as a killed process: the kernel closes its connections
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(suspected.length, 1);
      assert.match(suspected[0]!.reason, /connection to the local API server closed/);
      assert.ok(suspected[0]!.at - killedAt < 100);
      const r = await p.probe();
      assert.deepEqual([r.ok, r.reason], [false, "connection refused"]);
    } finally {
      p.close?.();
    }
  });

  it("a probe whose kept connection the server dropped (idle close race) is retried once on a new one: no false failure", async () => {
    // The second request on the first connection is dropped unanswered, as a server closing an idle connection just then.
    const s = await serve((n, req, res) => {
      if (n === 2) return req.socket.destroy();
      res.writeHead(200).end("ok");
    });
    const p = createHealthProbe(s.cfg, { token: "t", ca: certs.ca });
    try {
      assert.equal((await p.probe()).ok, true);
      const r = await p.probe();
      assert.deepEqual([r.ok, r.reason], [true, "ok"]);
      assert.equal(s.connections(), 2);
    } finally {
      p.close?.();
      await s.stop();
    }
  });

  it("does not ask for a probe when the connection closes during a probe (the probe judges) or after close()", async () => {
    const s = await serve(() => undefined); // never answers
    const p = createHealthProbe(s.cfg, { token: "t", ca: certs.ca, timeoutMs: 150 });
    const suspected: string[] = [];
    p.watch?.((reason) => suspected.push(reason));
    try {
      const r = await p.probe();
      assert.deepEqual([r.ok, r.reason], [false, "timeout after 150 ms"]);
      await new Promise((res) => setTimeout(res, 50));
      assert.deepEqual(suspected, []);
    } finally {
      p.close?.();
      await s.stop();
    }
  });
});
