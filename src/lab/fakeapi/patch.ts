// PATCH bodies: JSON merge patch (also used for strategic merge) and JSON patch.
import { ApiError, type KubeObject } from "./store.ts";

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, remove, replace, test (enough for clients that use it). */
export function jsonPatch(doc: KubeObject, patch: unknown): KubeObject {
  if (!Array.isArray(patch)) throw new ApiError(400, "BadRequest", "a JSON patch must be an array");
  const root: { v: unknown } = { v: structuredClone(doc) };
  for (const op of patch as { op: string; path: string; value?: unknown }[]) {
    const keys = op.path.split("/").slice(1).map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    let parent: Record<string, unknown> = root;
    let key = "v";
    for (const k of keys) {
      parent = parent[key] as Record<string, unknown>;
      key = k;
      if (typeof parent !== "object" || parent === null) throw new ApiError(422, "Invalid", `JSON patch path ${op.path} does not exist`);
    }
    switch (op.op) {
      case "add":
      case "replace":
        if (Array.isArray(parent) && key === "-") (parent as unknown[]).push(op.value);
        else parent[key] = structuredClone(op.value);
        break;
      case "remove":
        delete parent[key];
        break;
      case "test":
        if (JSON.stringify(parent[key]) !== JSON.stringify(op.value)) throw new ApiError(422, "Invalid", `JSON patch test failed at ${op.path}`);
        break;
      default:
        throw new ApiError(422, "Invalid", `JSON patch op ${op.op} is not supported by the fake API`);
    }
  }
  return root.v as KubeObject;
}
