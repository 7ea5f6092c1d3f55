// Adds the config model's options to a commander command and reads them back.
import { Option, type Command } from "commander";
import { OPTIONS, resolveConfig, type Config, type Scope } from "../config/index.ts";
import { VERSION } from "../version.ts";

const isBool = (arg: string): boolean => arg === "<bool>";

/**
 * Adds `--<flag> <arg>` for every option of the config model. A boolean
 * also works bare (`--services` = true) and negated (`--no-services`), as
 * well as with a value (`--services false`); install.sh takes the same forms.
 */
export function addConfigOptions(cmd: Command): Command {
  for (const o of OPTIONS) {
    if (isBool(o.arg)) {
      cmd.addOption(new Option(`--${o.flag} [bool]`, `${o.description} [env ${o.env}]`));
      cmd.addOption(new Option(`--no-${o.flag}`, `the same as --${o.flag} false`));
    } else cmd.addOption(new Option(`--${o.flag} ${o.arg}`, `${o.description} [env ${o.env}]`));
  }
  return cmd;
}

/** The raw flag values the user gave, keyed by flag name. */
export function configFlags(cmd: Command): Record<string, string | undefined> {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, string | undefined> = {};
  for (const o of OPTIONS) {
    const attr = new Option(`--${o.flag} ${o.arg}`).attributeName();
    const v = opts[attr];
    if (typeof v === "string") flags[o.flag] = v;
    else if (typeof v === "boolean" && isBool(o.arg)) flags[o.flag] = String(v);
  }
  return flags;
}

/** Flags + environment → a validated Config (throws UsageError). */
export function configFromCommand(cmd: Command, scope: Scope, env: NodeJS.ProcessEnv = process.env): Config {
  return resolveConfig({ flags: configFlags(cmd), env, scope, version: VERSION });
}
