// The local API server's health, as the election needs it: the port that
// src/kube implements (an HTTPS /livez probe) and a scripted fake in testing/.
export type { HealthProbe, HealthResult } from "./port.ts";
