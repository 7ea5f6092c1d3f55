// Entry point: parse → call a use case → print. No logic here.
// Each command file defines its flags and lazy-imports its use case.
import { Command, CommanderError } from "commander";
import { UsageError } from "../config/index.ts";
import { VERSION } from "../version.ts";
import { registerCommands } from "./commands.ts";
import { CliError } from "./errors.ts";

const program = new Command("k3vip")
  .description("One highly available API address (a virtual IP) for k3s and RKE2 clusters")
  .version(VERSION)
  .option("--debug", "print stack traces of errors")
  .configureOutput({ outputError: (text, write) => write(`k3vip: ${text.replace(/^error: /, "")}`) })
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e, program.opts<{ debug?: boolean }>().debug === true);
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
  if (e instanceof CliError) {
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
