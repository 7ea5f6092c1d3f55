import type { Command } from "commander";
import { addConfigOptions, configFromCommand } from "./options.ts";

export function registerManifest(program: Command): void {
  const cmd = program
    .command("manifest")
    .description("Print the k3vip add-on (RBAC + DaemonSet) as YAML for the distribution's manifests dir")
    .option("-o, --output <format>", "yaml (multi-document) or json (a v1 List)", "yaml");
  addConfigOptions(cmd).action(async () => {
    const config = configFromCommand(cmd, "install");
    const { renderAddon } = await import("../render/index.ts");
    process.stdout.write(renderAddon(config, { output: cmd.opts<{ output: string }>().output as "yaml" | "json" }));
  });
}
