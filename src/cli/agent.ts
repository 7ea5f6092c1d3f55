import type { Command } from "commander";
import { defineAgentCommand } from "./agent-command.ts";

export function registerAgent(program: Command): void {
  defineAgentCommand(program, async (opts) => (await import("./run-agent.ts")).runAgent(opts));
}
