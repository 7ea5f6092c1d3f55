// The one place that builds the root command and maps errors to messages and
// exit codes, shared by the full CLI (main.ts) and the agent-only entry
// (agent-main.ts) the image ships.
import { Command, CommanderError } from "commander";
import { RuntimeError, UsageError } from "../config/index.ts";
import { VERSION } from "../version.ts";

export function newProgram(): Command {
  return new Command("k3vip")
    .description("One highly available API address (a virtual IP) for k3s and RKE2 clusters")
    .version(VERSION)
    .option("--debug", "print stack traces of errors")
    .configureOutput({ outputError: (text, write) => write(`k3vip: ${text.replace(/^error: /, "")}`) })
    .exitOverride();
}

/** Parses argv and runs the command; sets process.exitCode from the outcome. */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = reportError(e, program.opts<{ debug?: boolean }>().debug === true);
  }
}

/** The one place that maps errors to messages and exit codes. */
function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // Commander already printed its message (help, version, unknown option).
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
    return 2;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`k3vip: ${e.message}\n`);
    return 2;
  }
  if (e instanceof RuntimeError) {
    process.stderr.write(`k3vip: ${e.message}\n`);
    if (debug && e.cause instanceof Error) process.stderr.write(`${e.cause.stack ?? e.cause.message}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`k3vip: ${err.message ?? String(e)}\n`);
  if (debug) process.stderr.write(`${err.stack ?? ""}\n`);
  else process.stderr.write("k3vip: (run with --debug for details)\n");
  return 1;
}
