// Local API-server health probe (see probe.ts for /livez vs /readyz, TLS and auth).
import type { Config } from "../../config/index.ts";
import { ApiServerHealthProbe, type HealthProbeOptions } from "./probe.ts";
import type { HealthProbe } from "./port.ts";

export type { HealthProbe, HealthResult } from "./port.ts";
export { ApiServerHealthProbe, classifyError, SA_DIR, RKE2_SUPERVISOR_PORT, type HealthProbeOptions } from "./probe.ts";
export { FakeHealthProbe } from "./fake.ts";

export function createHealthProbe(config: Pick<Config, "apiPort" | "distro">, opts: HealthProbeOptions = {}): HealthProbe {
  return new ApiServerHealthProbe(config, opts);
}
