// Entry point: parse → call a use case → print. No logic here.
// Each command file defines its flags and lazy-imports its use case.
import { registerCommands } from "./commands.ts";
import { newProgram, runProgram } from "./program.ts";

const program = newProgram();
registerCommands(program);
await runProgram(program);
