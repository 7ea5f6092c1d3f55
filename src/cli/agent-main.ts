// Entry point of the agent-only bundle (dist/agent.mjs, /opt/k3vip/k3vip.mjs
// in the image): the same `k3vip agent` command as the full CLI, without the
// installer, image builder and status code, so a Raspberry Pi server does
// not keep ~40 MiB of parsed code it never runs (src/image/agent-entry.ts
// has the figures). runAgent is imported statically on purpose: see
// agent-command.ts.
import { runAgent } from "./run-agent.ts";
import { defineAgentCommand } from "./agent-command.ts";
import { newProgram, runProgram } from "./program.ts";

const program = newProgram();
defineAgentCommand(program, runAgent);
await runProgram(program);
