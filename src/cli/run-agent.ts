// The agent the DaemonSet runs, composed: the real adapters (the Lease and
// the health probe from src/kube, the VIP and the duplicate-address probe
// from src/host, Prometheus metrics) wired to the agent's runner around the
// pure election core.
import { existsSync } from "node:fs";
import { AgentRunner, awaitHandover, createLogger, electionConfig, startMetricsServer, systemClock, toVip, type Logger } from "../agent/index.ts";
import { RuntimeError, translateKubeVip, UsageError, type Config } from "../config/index.ts";
import { createVipPort, listHostAddrs, SegmentConflictProbe, UdpHeartbeats } from "../host/index.ts";
import { createHealthProbe, KubeLeasePort, KubePeerDirectory, loadKubeConfig, probeCredentials } from "../kube/index.ts";
import { ambiguousInterface, foreignVipProblem, interfaceForVip } from "../net/index.ts";

export interface AgentOptions {
  config: Config;
  /** This node's name (the Lease holderIdentity): $NODE_NAME from the downward API. */
  nodeName: string;
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runAgent(opts: AgentOptions): Promise<number> {
  const { config, nodeName } = opts;
  if (config.mode !== "arp") throw new UsageError(`--mode "${config.mode}" is not supported by this agent build yet (valid: arp)`);
  const logger = createLogger(config.logFormat, { node: nodeName });

  const links = await listHostAddrs();
  // Never run with a VIP that is the node's own address: removing "the VIP"
  // would take the server off the network.
  const own = foreignVipProblem(links, config.vip, { ownOnly: true });
  if (own) throw new UsageError(`--vip: ${own}`);
  const found = config.interface ? undefined : interfaceForVip(links, config.vip);
  if (found && found.ties.length > 0) throw new UsageError(`--interface is empty and ${ambiguousInterface(found, config.vip)}; set --interface (K3VIP_INTERFACE, kube-vip vip_interface) to the one that should carry it`);
  const iface = config.interface || found?.name;
  if (!iface) {
    throw new UsageError(`--interface is empty and no interface has an address whose subnet holds the VIP ${config.vip}; set --interface (K3VIP_INTERFACE, kube-vip vip_interface) to the interface that should carry it`);
  }
  const vip = toVip(config.vip, iface);
  // A copy another program added (kube-vip during a migration) is left alone:
  // the VIP is not added here while it is there.
  const other = foreignVipProblem(links, config.vip);

  const env = opts.env ?? process.env;
  const hbKey = config.heartbeatPort > 0 ? heartbeatKey(config.heartbeatKey) : undefined;
  const kube = loadKubeConfig({ ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), env, apiPort: config.apiPort, exists: existsSync });
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>;
  // /healthz asks the runner, which exists only once the metrics server is up.
  const ref: { runner?: AgentRunner } = {};
  try {
    metricsServer = await startMetricsServer(config, {
      isAlive: () => ref.runner?.alive() ?? true,
      waitInUseMs: 60_000,
      onInUse: () => logger.log("warn", "the metrics port is in use; retrying for up to 60 s (kube-vip's metrics server, on the same default :2112, stops with its pod)", { metrics: config.metricsAddr }),
    });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new RuntimeError((e as Error).message, 1, { cause: e });
  }
  const metrics = metricsServer.metrics;
  const ec = electionConfig(config, nodeName);
  // Each request must end well before the renew deadline so the core can retry (or give up) in time.
  const timeoutMs = Math.min(10_000, Math.max(500, Math.round(ec.renewDeadlineMs / 2)));
  const lease = new KubeLeasePort(kube.kc, {
    namespace: config.namespace,
    name: config.leaseName,
    timeoutMs,
    onRequest: (verb, code, seconds) => metrics.apiRequest(verb, code, seconds),
  });
  const creds = probeCredentials(kube);
  const health = createHealthProbe(config, { timeoutMs: Math.min(2000, ec.healthIntervalMs), ...(creds ?? {}) });
  const vipPort = createVipPort({ warn: (m) => logger.log("warn", m) });

  logStart(logger, { config, nodeName, iface, source: kube.source, server: kube.server, metricsUrl: metricsServer.url, timeoutMs, brownoutHoldMs: ec.brownoutHoldMs });
  // kube-vip's names this agent does not run, one line each (a swap that kept kube-vip's env block).
  for (const line of translateKubeVip(env).ignored) logger.log("warn", `kube-vip ${line}`);
  if (other) logger.log("warn", "the VIP is on this node but not k3vip's: it is not added here until that copy is gone", { reason: other });
  const conflict = new SegmentConflictProbe();
  let udp: UdpHeartbeats | undefined;
  if (hbKey) {
    udp = new UdpHeartbeats({
      port: config.heartbeatPort,
      family: vip.family,
      key: hbKey,
      onHeartbeat: (hb) => ref.runner?.heartbeat(hb),
      onDrop: (reason) => metrics.heartbeatDropped(reason),
    });
    try {
      await udp.ready;
    } catch (e) {
      await metricsServer.close();
      throw new RuntimeError(`cannot listen for heartbeats on UDP port ${config.heartbeatPort}: ${(e as Error).message}; pick another --heartbeat-port (K3VIP_HEARTBEAT_PORT) on every server`, 1, { cause: e });
    }
  }
  const peers = udp ? { port: udp, directory: new KubePeerDirectory(kube.kc, vip.family) } : undefined;
  const runner = new AgentRunner({ config: ec, vip, lease, vipPort, health, metrics, logger, conflict, ...(peers ? { peers } : {}) });
  const stopping = new AbortController();
  const onSignal = (sig: "SIGTERM" | "SIGINT") => () => (ref.runner ? ref.runner.signal(sig) : stopping.abort());
  const term = onSignal("SIGTERM");
  const int = onSignal("SIGINT");
  // A long-running agent must not die on a stray rejected promise in some
  // adapter (it would leave the VIP up and the Lease held until expiry): log it.
  const stray = (e: unknown) => logger.log("error", "unhandled promise rejection (a bug; the agent keeps running)", { reason: e instanceof Error ? e.message : String(e) });
  process.on("SIGTERM", term);
  process.on("SIGINT", int);
  process.on("unhandledRejection", stray);
  try {
    if (config.handoverLease !== "") {
      const [ns = "", name = ""] = config.handoverLease.split("/");
      const peer = new KubeLeasePort(kube.kc, { namespace: ns, name, timeoutMs });
      const h = await awaitHandover(
        {
          lease: config.handoverLease,
          peer: () => peer.get(),
          own: () => lease.get(),
          localCopy: async () => foreignVipProblem(await listHostAddrs(), config.vip) ?? undefined,
          conflict,
          vip,
          clock: systemClock,
          logger,
        },
        stopping.signal,
      );
      // Stopped before the election began: nothing is held, nothing to undo.
      if (!h.open) return 0;
    }
    ref.runner = runner;
    return await runner.run();
  } finally {
    process.off("SIGTERM", term);
    process.off("SIGINT", int);
    process.off("unhandledRejection", stray);
    await metricsServer.close();
    await vipPort.close();
    await udp?.close();
  }
}

function logStart(
  logger: Logger,
  o: { config: Config; nodeName: string; iface: string; source: string; server: string; metricsUrl: string; timeoutMs: number; brownoutHoldMs: number },
): void {
  const c = o.config;
  logger.log("info", "k3vip agent starting", {
    vip: c.vip,
    interface: o.iface,
    lease: `${c.namespace}/${c.leaseName}`,
    api: o.server,
    kubeconfig: o.source,
    leaseDuration: c.leaseDuration,
    renewDeadline: c.renewDeadline,
    retryPeriod: c.retryPeriod,
    brownoutHoldSeconds: o.brownoutHoldMs / 1000,
    requestTimeoutMs: o.timeoutMs,
    metrics: o.metricsUrl,
  });
}

/** K3VIP_HEARTBEAT_KEY: at least 16 bytes, as hex or base64 (a Secret's value). */
export function heartbeatKey(raw: string | undefined): Buffer {
  const v = (raw ?? "").trim();
  if (v === "") throw new UsageError("--heartbeat-port is set but K3VIP_HEARTBEAT_KEY is empty: give every server the same key of at least 16 bytes (hex or base64), e.g. from a Secret: head -c 32 /dev/urandom | base64");
  const key = /^(?:[0-9a-fA-F]{2})+$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  if (key.length < 16) throw new UsageError(`K3VIP_HEARTBEAT_KEY is ${key.length} bytes: it must be at least 16 (hex or base64)`);
  return key;
}
