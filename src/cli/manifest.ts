import { Option, type Command } from "commander";
import { addConfigOptions, configFromCommand } from "./options.ts";

export function registerManifest(program: Command): void {
  const cmd = program
    .command("manifest")
    .description("Print the k3vip add-on (RBAC + DaemonSet) as YAML for the distribution's manifests dir; `manifest pod`: a kubeadm static Pod")
    .argument("[kind]", "addon (default): the k3s/RKE2 add-on; pod: a static Pod for kubeadm's /etc/kubernetes/manifests/")
    .addOption(new Option("-o, --output <format>", "yaml (multi-document) or json (a v1 List)").choices(["yaml", "json"]).default("yaml"));
  addConfigOptions(cmd).action(async (kind: string | undefined) => {
    const { UsageError } = await import("../config/index.ts");
    if (kind !== undefined && kind !== "addon" && kind !== "pod") {
      throw new UsageError(`manifest kind ${JSON.stringify(kind)} is not one of: addon, pod`);
    }
    const config = configFromCommand(cmd, "install");
    // Rendered here, the manifest usually runs here: refuse this node's own
    // address as the VIP (no `ip`, e.g. on a laptop: nothing to check).
    const { listHostAddrs } = await import("../host/index.ts");
    const { foreignVipProblem } = await import("../net/index.ts");
    const links = await listHostAddrs().catch(() => undefined);
    const own = links && foreignVipProblem(links, config.vip, { ownOnly: true });
    if (own) throw new UsageError(`--vip: ${own}`);
    const output = cmd.opts<{ output: "yaml" | "json" }>().output;
    const { renderAddon, renderStaticPod } = await import("../render/index.ts");
    if (kind === "pod") {
      if (config.bgp.peers.some((p) => p.password !== undefined)) {
        // kubelet cannot resolve Secrets for static Pods.
        process.stderr.write("k3vip: warning: a static Pod cannot use Secrets: the BGP peer passwords sit in the Pod's env, readable by anyone who can get Pods in its namespace\n");
      }
      process.stdout.write(renderStaticPod(config, { output }));
      return;
    }
    process.stdout.write(renderAddon(config, { output }));
  });
}
