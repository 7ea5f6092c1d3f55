import type { Config } from "./model.ts";
import { getPath, OPTIONS } from "./options.ts";

/**
 * The agent's environment for a Config: every agent-scope option as its
 * K3VIP_* variable, in table order. Reading it back with resolveConfig
 * (scope "agent") yields the same Config.
 */
export function agentEnv(config: Config): { name: string; value: string; secret: boolean }[] {
  return OPTIONS.filter((o) => o.scopes.includes("agent")).map((o) => ({
    name: o.env,
    value: o.format(getPath(config, o.key)),
    secret: o.secret === true,
  }));
}
