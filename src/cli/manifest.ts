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
    let config = configFromCommand(cmd, "install");
    // Each control-plane node renders its own static Pod: a random key each would never match.
    if (kind === "pod" && config.heartbeatPort !== 0 && config.heartbeatKey === "") {
      throw new UsageError("--heartbeat-key is required for a static Pod (every control-plane node renders its own, and their agents must share the key): give each node the same key, e.g. --heartbeat-key $(head -c 32 /dev/urandom | base64) once, or turn heartbeats off with --heartbeat-port 0");
    }
    // The add-on is printed for one `kubectl apply`: a fresh random heartbeat key unless given.
    if (config.heartbeatPort !== 0 && config.heartbeatKey === "") {
      const { randomBytes } = await import("node:crypto");
      config = { ...config, heartbeatKey: randomBytes(32).toString("hex") };
    }
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
      if (config.heartbeatPort !== 0 || config.bgp.peers.some((p) => p.password !== undefined)) {
        // kubelet cannot resolve Secrets for static Pods.
        process.stderr.write("k3vip: warning: a static Pod cannot use Secrets: the heartbeat key (and any BGP peer password) sits in the Pod's env, readable by anyone who can get Pods in its namespace; give every control-plane node the same --heartbeat-key\n");
      }
      process.stdout.write(renderStaticPod(config, { output }));
      return;
    }
    process.stdout.write(renderAddon(config, { output }));
  });
}
