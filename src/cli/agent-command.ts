// The `k3vip agent` command, given the function that runs the agent. The
// full CLI (agent.ts) passes a lazy import, for a fast `k3vip --help`; the
// agent-only bundle (agent-main.ts) passes runAgent itself: a dynamic import
// makes esbuild wrap the imported modules for lazy evaluation, which defeats
// tree shaking of @kubernetes/client-node (~0.8 MB more code in memory).
import type { Command } from "commander";
import { translateKubeVip, UsageError } from "../config/index.ts";
import type { AgentOptions } from "./run-agent.ts";
import { addConfigOptions, configFromCommand } from "./options.ts";

export type RunAgent = (opts: AgentOptions) => Promise<number>;

export function defineAgentCommand(program: Command, run: RunAgent): void {
  const cmd = program
    .command("agent")
    // kube-vip's DaemonSet runs `kube-vip manager`: a swap that keeps its args still starts the agent.
    .alias("manager")
    .description("Run the VIP agent (what the DaemonSet runs): elect one holder through a Lease, carry and announce the VIP")
    .option("--kubeconfig <path>", "kubeconfig to use [env KUBECONFIG]; default: the in-cluster ServiceAccount against this node's own API server (https://127.0.0.1:<api-port>)")
    .option("--node-name <name>", "this node's name, the Lease holder identity [env NODE_NAME]");
  addConfigOptions(cmd).action(async () => {
    const config = configFromCommand(cmd, "agent");
    const o = cmd.opts<{ kubeconfig?: string; nodeName?: string }>();
    // kube-vip's manifests set vip_nodename from the downward API instead.
    const nodeName = o.nodeName ?? (process.env.NODE_NAME || translateKubeVip(process.env).nodeName || "");
    if (nodeName === "") {
      throw new UsageError("NODE_NAME is required: this node's name, the Lease holder identity (the DaemonSet sets it from the downward API, fieldRef spec.nodeName; kube-vip's vip_nodename works too); or pass --node-name");
    }
    process.exitCode = await run({ config, nodeName, ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) });
  });
}
