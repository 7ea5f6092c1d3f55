// Request bodies: parsing objects and the checks the real API server makes.
import { ApiError, type KubeObject, type ResourceType } from "./store.ts";
import type { Route } from "./route.ts";

// RFC 3339 with exactly six fractional digits: Go's metav1.MicroTime layout.
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

export function parseObject(body: string, r: Route): KubeObject {
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch {
    throw new ApiError(400, "BadRequest", "the body of the request is not valid JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ApiError(400, "BadRequest", "the body of the request is not an object");
  const obj = o as KubeObject;
  if (typeof obj.metadata !== "object" || obj.metadata === null) obj.metadata = { name: "" };
  if (obj.kind !== undefined && obj.kind !== r.rt.kind) throw new ApiError(400, "BadRequest", `the kind ${JSON.stringify(obj.kind)} does not match ${r.rt.kind}`);
  return obj;
}

export function checkNamespace(obj: KubeObject, r: Route): void {
  const ns = obj.metadata.namespace;
  if (r.rt.namespaced && ns !== undefined && ns !== "" && ns !== r.ns) {
    throw new ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
  }
}

export function invalid(rt: ResourceType, name: string, cause: string): ApiError {
  return new ApiError(422, "Invalid", `${rt.kind} "${name}" is invalid: ${cause}`, { name, group: rt.group, kind: rt.kind });
}

/** The checks the real API server's Lease validation and JSON decoding make. */
export function validate(rt: ResourceType, obj: KubeObject): void {
  if (rt.resource !== "leases") return;
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  for (const f of ["acquireTime", "renewTime"]) {
    const v = spec[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string" || !MICRO_TIME.test(v)) {
      // metav1.MicroTime only parses RFC 3339 with six fractional digits.
      throw new ApiError(400, "BadRequest", `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
    }
  }
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && (typeof d !== "number" || !Number.isInteger(d))) {
    throw new ApiError(400, "BadRequest", `Lease in version "v1" cannot be handled as a Lease: spec.leaseDurationSeconds: readUint32: unexpected character`);
  }
  if (typeof d === "number" && d <= 0) throw invalid(rt, obj.metadata.name, "spec.leaseDurationSeconds: Invalid value: must be greater than 0");
  const t = spec.leaseTransitions;
  if (typeof t === "number" && t < 0) throw invalid(rt, obj.metadata.name, "spec.leaseTransitions: Invalid value: must be greater than or equal to 0");
}
