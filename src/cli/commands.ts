// The list of commands. Each module adds one subcommand to the program.
import type { Command } from "commander";
import { registerManifest } from "./manifest.ts";
import { registerImage } from "./image.ts";
import { registerInstall } from "./install.ts";
import { registerUninstall } from "./uninstall.ts";
import { registerKubeconfig } from "./kubeconfig.ts";
import { registerDoctor } from "./doctor.ts";
import { registerAgent } from "./agent.ts";
import { registerStatus } from "./status.ts";

export function registerCommands(program: Command): void {
  registerManifest(program);
  registerImage(program);
  registerInstall(program);
  registerUninstall(program);
  registerKubeconfig(program);
  registerDoctor(program);
  registerAgent(program);
  registerStatus(program);
}
