// prom-client registry and the HTTP endpoints the DaemonSet probes:
// /metrics (Prometheus), /healthz (the process's event loop answers) and
// /readyz (the agent said it is ready: config valid, first Lease read done).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { UsageError, type Config } from "../../config/index.ts";
import type { AgentMetrics } from "./port.ts";

export interface MetricsServerOptions {
  /** Liveness beyond "the event loop answers", e.g. the agent loop ticked recently. */
  isAlive?: () => boolean;
  /** Registry to use (tests); default a fresh one. */
  registry?: Registry;
  /**
   * Keep retrying, once a second, while the port is in use, for up to this
   * long (ms): in a swap, kube-vip's metrics server (same default, :2112, on
   * the host network) goes away only when its pod has stopped. Default 0.
   */
  waitInUseMs?: number;
  /** Called once when the port is found in use and waitInUseMs allows a wait. */
  onInUse?: () => void;
}

export interface MetricsServer {
  metrics: AgentMetrics;
  registry: Registry;
  /** Base URL, e.g. http://127.0.0.1:2112 (the actual port when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** The option's names, for messages. */
const OPTION = "--metrics-addr (K3VIP_METRICS_ADDR)";

/** ":2112" → all addresses; "0.0.0.0:2112", "[::1]:2112" → that host. */
export function parseMetricsAddr(addr: string): { host: string | undefined; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]*):([0-9]{1,5})$/.exec(addr);
  if (!m) throw new UsageError(`${OPTION} ${JSON.stringify(addr)} is not a listen address (examples: :2112, 0.0.0.0:2112, [::1]:2112)`);
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "");
  return { host: host === "" ? undefined : host, port: Number(m[2]) };
}

/** The real AgentMetrics: the names in port.ts, on `registry`. */
export function createAgentMetrics(registry: Registry): AgentMetrics & { ready(): boolean } {
  const leader = new Gauge({ name: "k3vip_leader", help: "1 while this node holds the Lease.", registers: [registry] });
  const vipHeld = new Gauge({ name: "k3vip_vip_held", help: "1 while this node carries the VIP.", registers: [registry] });
  const apiHealthy = new Gauge({ name: "k3vip_apiserver_healthy", help: "1 while the local API server answered its last health probe.", registers: [registry] });
  const readyGauge = new Gauge({ name: "k3vip_ready", help: "1 once the agent is ready (config valid, first Lease read done).", registers: [registry] });
  const writes = {
    acquire: counterPair(registry, "acquire", "Lease acquire attempts (writes naming this node as a new holder)"),
    renew: counterPair(registry, "renew", "Lease renew attempts by the holder"),
    release: counterPair(registry, "release", "Lease release attempts (holder clears itself on shutdown)"),
  };
  const apiDuration = new Histogram({
    name: "k3vip_api_request_duration_seconds",
    help: "Duration of Kubernetes API requests by verb and HTTP code (or error kind).",
    labelNames: ["verb", "code"],
    // Lease writes land in 5–50 ms normally; SD-card etcd brown-outs reach seconds.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
    registers: [registry],
  });
  const failover = new Histogram({
    name: "k3vip_failover_duration_seconds",
    help: "Seconds from the old holder's last renew or release to this node carrying the VIP.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 6, 8, 12, 20, 30],
    registers: [registry],
  });
  const hbDropped = new Counter({
    name: "k3vip_heartbeat_dropped_total",
    help: "Heartbeat datagrams dropped: bad MAC, replayed, stale, malformed, or a send that failed.",
    labelNames: ["reason"],
    registers: [registry],
  });
  let isReady = false;
  return {
    heartbeatDropped: (reason) => hbDropped.inc({ reason }),
    setLeader: (v) => leader.set(v ? 1 : 0),
    setVipHeld: (v) => vipHeld.set(v ? 1 : 0),
    leaseWrite: (kind, ok) => {
      writes[kind].total.inc();
      if (!ok) writes[kind].failures.inc();
    },
    apiRequest: (verb, code, seconds) => apiDuration.observe({ verb, code }, seconds),
    failover: (seconds) => failover.observe(seconds),
    setApiHealthy: (v) => apiHealthy.set(v ? 1 : 0),
    setReady: (v) => {
      isReady = v;
      readyGauge.set(v ? 1 : 0);
    },
    ready: () => isReady,
  };
}

function counterPair(registry: Registry, kind: string, what: string): { total: Counter; failures: Counter } {
  return {
    total: new Counter({ name: `k3vip_lease_${kind}_total`, help: `${what}.`, registers: [registry] }),
    failures: new Counter({ name: `k3vip_lease_${kind}_failures_total`, help: `${what} that failed.`, registers: [registry] }),
  };
}

function listenError(addr: string, e: NodeJS.ErrnoException, port: number, host: string | undefined): Error {
  switch (e.code) {
    case "EADDRINUSE":
      return new UsageError(`${OPTION} ${JSON.stringify(addr)} cannot be used: port ${port} is already in use on this node; choose a free port (example: :${port === 65535 ? 2113 : port + 1})`);
    case "EADDRNOTAVAIL":
      return new UsageError(`${OPTION} ${JSON.stringify(addr)} cannot be used: ${host ?? "the address"} is not an address of this node (example: :${port})`);
    case "EACCES":
      return new UsageError(`${OPTION} ${JSON.stringify(addr)} cannot be used: port ${port} needs privileges (use a port above 1023, example: :2112)`);
    default:
      return new Error(`metrics server on ${addr} failed to start: ${e.message}`, { cause: e });
  }
}

export async function startMetricsServer(config: Pick<Config, "metricsAddr">, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddr(config.metricsAddr);
  const registry = opts.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createAgentMetrics(registry);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    switch (path) {
      case "/metrics":
        registry.metrics().then(
          (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
          (e: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics collection failed: ${e.message}\n`),
        );
        return;
      case "/healthz": {
        const alive = opts.isAlive?.() ?? true;
        res.writeHead(alive ? 200 : 503, { "content-type": "text/plain" }).end(alive ? "ok\n" : "agent loop stalled\n");
        return;
      }
      case "/readyz": {
        const ready = metrics.ready();
        res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ok\n" : "not ready\n");
        return;
      }
      default:
        res.writeHead(404, { "content-type": "text/plain" }).end("not found (try /metrics, /healthz, /readyz)\n");
    }
  });
  // Probes and scrapes are short; don't let idle keep-alive sockets delay shutdown.
  server.keepAliveTimeout = 5000;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  const giveUpAt = Date.now() + (opts.waitInUseMs ?? 0);
  for (let told = false; ; ) {
    try {
      await listen();
      break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== "EADDRINUSE" || Date.now() >= giveUpAt) throw listenError(config.metricsAddr, err, port, host);
      if (!told) opts.onInUse?.();
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const bound = server.address() as AddressInfo;
  const urlHost = host === undefined ? "127.0.0.1" : bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    metrics,
    registry,
    url: `http://${urlHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
