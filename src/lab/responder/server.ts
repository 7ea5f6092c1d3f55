// Stands in for one server node's kube-apiserver in the lab. It answers the
// health endpoints itself, tells who served a request (GET /whoami and the
// x-k3vip-served-by header on every answer), and forwards everything else —
// Lease reads and writes, watch streams — to the shared fake API over a unix
// socket, Authorization header included (the fake API tells clients apart by
// bearer token). Stopping the process is "this node's API server is down":
// health probes and Lease writes through it both get connection refused.
//
// With `uplink`, API calls are forwarded only while that interface has
// carrier: a server whose cable is pulled cannot reach its datastore peers,
// so (like kube-apiserver over an etcd member without quorum) it still
// serves /livez but answers API calls with 500 "etcdserver: no leader".
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";

export const SERVED_BY_HEADER = "x-k3vip-served-by";

export interface ResponderOptions {
  /** Server name reported by /whoami, e.g. "srv1". */
  name: string;
  cert: string;
  key: string;
  /** Unix socket of the upstream (fake) API. */
  upstreamSocket: string;
  /** Port to listen on (all addresses, IPv4 and IPv6). Default 6443; 0 = any. */
  port?: number;
  /** Host to listen on. Default "::" (dual stack: 0.0.0.0 and [::]). */
  host?: string;
  /** Interface whose carrier gates forwarding (see above); none = always forward. */
  uplink?: string;
}

/** Carrier of an interface in this process's network namespace (ip netns exec mounts its sysfs). */
export function hasCarrier(ifname: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, "utf8").trim() === "1";
  } catch {
    // Reading carrier of an interface that is down fails with EINVAL.
    return false;
  }
}

export interface Responder {
  port: number;
  close(): Promise<void>;
}

/** Hop-by-hop headers are per connection and must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "proxy-authorization", "proxy-authenticate"]);

function forwardHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

export async function startResponder(opts: ResponderOptions): Promise<Responder> {
  const served = { [SERVED_BY_HEADER]: opts.name };
  const server: Server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/livez" || path === "/readyz" || path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain", ...served }).end("ok");
      return;
    }
    if (path === "/whoami") {
      res.writeHead(200, { "content-type": "text/plain", ...served }).end(`${opts.name}\n`);
      return;
    }
    if (opts.uplink !== undefined && !hasCarrier(opts.uplink)) {
      req.resume();
      const body = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "etcdserver: no leader", reason: "InternalError", code: 500 });
      res.writeHead(500, { "content-type": "application/json", ...served }).end(body);
      return;
    }
    const up = httpRequest({ socketPath: opts.upstreamSocket, method: req.method, path: req.url, headers: forwardHeaders(req.headers) }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, { ...forwardHeaders(upRes.headers), ...served });
      // Watch streams: send each event as it arrives.
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on("error", () => res.destroy());
    });
    up.on("error", (e) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // What kube-apiserver answers when its storage is unreachable.
      const body = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: `upstream unavailable: ${e.message}`, reason: "ServiceUnavailable", code: 503 });
      res.writeHead(503, { "content-type": "application/json", ...served }).end(body);
    });
    // The client went away (watch closed): stop the upstream request too.
    res.on("close", () => up.destroy());
    req.pipe(up);
  });
  // Watches are long-lived: no idle or request timeouts on our side.
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: opts.port ?? 6443, host: opts.host ?? "::", ipv6Only: false }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
