// The list of commands. Each module adds one subcommand to the program.
import type { Command } from "commander";
import { registerManifest } from "./manifest.ts";

export function registerCommands(program: Command): void {
  registerManifest(program);
}
