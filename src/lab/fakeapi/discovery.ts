// GETs with fixed answers: health, /version and API discovery documents.
import { RESOURCE_TYPES } from "./store.ts";

const GROUPS = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => t.group))];

/** The answer to a GET of `path` (a string is sent as text/plain), or undefined when it is not one of these. */
export function fixedGet(path: string, gitVersion: string): unknown {
  switch (path) {
    case "/livez":
    case "/readyz":
    case "/healthz":
      return "ok";
    case "/version":
      return { major: "1", minor: (/^v1\.(\d+)/.exec(gitVersion)?.[1] ?? "31") + "", gitVersion, gitCommit: "fake", gitTreeState: "clean", buildDate: "2026-01-01T00:00:00Z", goVersion: "go1.22", compiler: "gc", platform: "linux/amd64" };
    case "/api":
      return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] };
    case "/apis":
      return {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: GROUPS.map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: "v1" }], preferredVersion: { groupVersion: `${g}/v1`, version: "v1" } })),
      };
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (m) {
    const group = m[2] ?? "";
    const version = m[1] ?? m[3] ?? "";
    const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
    if (types.length === 0) return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources: types.map((t) => ({ name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] })),
    };
  }
  return undefined;
}
