import type { Command } from "commander";
import { UsageError } from "../config/index.ts";
import { addConfigOptions, configFromCommand } from "./options.ts";

export function registerAgent(program: Command): void {
  const cmd = program
    .command("agent")
    .description("Run the VIP agent (what the DaemonSet runs): elect one holder through a Lease, carry and announce the VIP")
    .option("--kubeconfig <path>", "kubeconfig to use [env KUBECONFIG]; default: the in-cluster ServiceAccount against this node's own API server (https://127.0.0.1:<api-port>)")
    .option("--node-name <name>", "this node's name, the Lease holder identity [env NODE_NAME]");
  addConfigOptions(cmd).action(async () => {
    const config = configFromCommand(cmd, "agent");
    const o = cmd.opts<{ kubeconfig?: string; nodeName?: string }>();
    const nodeName = o.nodeName ?? process.env.NODE_NAME ?? "";
    if (nodeName === "") {
      throw new UsageError("NODE_NAME is required: this node's name, the Lease holder identity (the DaemonSet sets it from the downward API, fieldRef spec.nodeName); or pass --node-name");
    }
    const { runAgent } = await import("../agent/index.ts");
    process.exitCode = await runAgent({ config, nodeName, ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) });
  });
}
