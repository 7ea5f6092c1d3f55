import type { Command } from "commander";
import { badValue, defaults, optionByKey, Problem, RuntimeError, UsageError } from "../config/index.ts";
import { VERSION } from "../version.ts";

/** Kubeconfigs tried when neither --kubeconfig nor KUBECONFIG is given (run on a server node). */
const DISTRO_KUBECONFIGS = ["/etc/rancher/k3s/k3s.yaml", "/etc/rancher/rke2/rke2.yaml"];

export function registerStatus(program: Command): void {
  const cmd = program
    .command("status")
    .description("Show who holds the VIP (the Lease holder), since when, transitions and the last renew")
    .option("--kubeconfig <path>", `kubeconfig [env KUBECONFIG]; default ${DISTRO_KUBECONFIGS.join(" or ")}`)
    .option("--namespace <name>", "namespace of the Lease [env K3VIP_NAMESPACE]")
    .option("--lease-name <name>", "name of the Lease [env K3VIP_LEASE_NAME]")
    .option("--metrics-port <port>", "also ask each server's agent (its /metrics on this port; 0 = don't)", "2112")
    .option("--json", "print JSON (with --watch: one object per line)")
    .option("--watch", "keep printing on every change until interrupted");
  cmd.action(async () => {
    const o = cmd.opts<{ kubeconfig?: string; namespace?: string; leaseName?: string; metricsPort: string; json?: boolean; watch?: boolean }>();
    const metricsPort = Number(o.metricsPort);
    if (!/^\d+$/.test(o.metricsPort) || metricsPort > 65535) throw new UsageError(`--metrics-port "${o.metricsPort}" is not a port number (0-65535; 0 = don't ask the agents)`);
    const namespace = pick("namespace", o.namespace, "--namespace");
    const leaseName = pick("leaseName", o.leaseName, "--lease-name");
    const { existsSync } = await import("node:fs");
    const kube = await import("../kube/index.ts");
    let loaded;
    try {
      loaded = kube.loadKubeConfig({ ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}), fallbackFiles: DISTRO_KUBECONFIGS, exists: existsSync });
    } catch (e) {
      throw new RuntimeError(`could not load a kubeconfig: ${(e as Error).message}; pass --kubeconfig or set KUBECONFIG`, 1, { cause: e });
    }
    if (loaded.source === "in-cluster ServiceAccount" && !existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")) {
      throw new RuntimeError(`no kubeconfig found (tried ${DISTRO_KUBECONFIGS.join(", ")}); pass --kubeconfig or set KUBECONFIG`);
    }
    const where = { lease: `${namespace}/${leaseName}`, server: loaded.server };
    const port = new kube.KubeLeasePort(loaded.kc, { namespace, name: leaseName, timeoutMs: 10_000 });
    const print = (lease: Parameters<typeof kube.leaseStatus>[0], event?: string) => {
      const st = kube.leaseStatus(lease, where, Date.now());
      if (o.json) process.stdout.write(`${JSON.stringify(event ? { event, ...st } : st)}\n`);
      else process.stdout.write(event ? kube.formatStatusLine(st, event) : kube.formatStatus(st, Date.now()));
    };
    let lease = null;
    try {
      lease = await port.get();
    } catch (e) {
      const err = e as { kind?: string; message: string };
      if (err.kind !== "notFound") throw new RuntimeError(`could not read the Lease ${where.lease} from ${where.server}: ${err.message}`, 1, { cause: e });
    }
    if (!o.watch) {
      let agents: Awaited<ReturnType<typeof kube.agentViews>> = [];
      if (metricsPort > 0) {
        try {
          agents = await kube.agentViews(await kube.serverNodes(loaded.kc), metricsPort);
        } catch (e) {
          process.stderr.write(`k3vip: could not list the server nodes to ask their agents: ${(e as Error).message}\n`);
        }
      }
      const st = kube.leaseStatus(lease, where, Date.now());
      if (o.json) process.stdout.write(`${JSON.stringify({ ...st, agents })}\n`);
      else process.stdout.write(kube.formatStatus(st, Date.now()) + (agents.length > 0 ? `\n${kube.formatAgents(agents)}` : ""));
      return;
    }
    print(lease, "INITIAL");
    await new Promise<void>((resolve) => {
      let w: { stop(): void } | null = null;
      const open = () => {
        void port
          .watch(
            (kind, l) => print(kind === "DELETED" ? null : l, kind),
            (err) => {
              if (err) process.stderr.write(`k3vip: watch ended: ${err.message}; reconnecting\n`);
              setTimeout(open, err ? 1000 : 0);
            },
          )
          .then((x) => (w = x), () => setTimeout(open, 1000));
      };
      open();
      process.once("SIGINT", () => {
        w?.stop();
        resolve();
      });
    });
    process.exit(0);
  });
}

function pick(key: "namespace" | "leaseName", flag: string | undefined, flagName: string): string {
  const o = optionByKey(key);
  const raw = flag ?? process.env[o.env];
  if (raw === undefined) return defaults(VERSION)[key];
  try {
    return o.parse(raw) as string;
  } catch (e) {
    if (e instanceof Problem) throw badValue(flag !== undefined ? flagName : o.env, raw, e.message);
    throw e;
  }
}
