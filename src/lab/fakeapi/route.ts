// Request paths and query parameters: which resource a path names, selectors.
import { RESOURCE_TYPES, type KubeObject, type ResourceType } from "./store.ts";

export interface Route {
  rt: ResourceType;
  ns: string | null;
  name: string | null;
}

export function route(path: string): Route | null {
  const parts = path.split("/").filter(Boolean);
  let group = "";
  let version: string;
  let rest: string[];
  if (parts[0] === "api") {
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis") {
    group = parts[1] ?? "";
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else return null;
  let ns: string | null = null;
  // namespaces/<ns>/<resource>[/<name>] — but "namespaces[/<name>]" alone is the Namespace resource.
  if (rest[0] === "namespaces" && rest.length >= 3) {
    ns = rest[1] ?? null;
    rest = rest.slice(2);
  }
  const rt = RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === rest[0]);
  if (!rt || rest.length > 2) return null;
  if (rt.namespaced && ns === null && rest.length === 2) return null;
  if (!rt.namespaced && ns !== null) return null;
  return { rt, ns, name: rest[1] ?? null };
}

export function isWatch(url: URL): boolean {
  const watch = url.searchParams.get("watch");
  return watch === "true" || watch === "1";
}

/** The name in a `metadata.name=…` field selector, the only field selector supported. */
export function fieldName(selector: string | null): string | null {
  if (!selector) return null;
  const m = /(?:^|,)metadata\.name=([^,]+)/.exec(selector);
  return m?.[1] ?? null;
}

export function filterByField(items: KubeObject[], selector: string | null): KubeObject[] {
  const name = fieldName(selector);
  return name === null ? items : items.filter((o) => o.metadata.name === name);
}

/** Label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma separated (no set-based `in`/`notin`). */
export function filterByLabel(items: KubeObject[], selector: string | null): KubeObject[] {
  if (!selector) return items;
  const terms = selector.split(",").map((t) => t.trim()).filter(Boolean);
  return items.filter((o) => {
    const labels = (o.metadata.labels ?? {}) as Record<string, string>;
    return terms.every((t) => {
      let m: RegExpExecArray | null;
      if ((m = /^([^!=]+)!=(.*)$/.exec(t))) return labels[m[1] ?? ""] !== m[2];
      if ((m = /^([^!=]+)==?(.*)$/.exec(t))) return labels[m[1] ?? ""] === m[2];
      if (t.startsWith("!")) return !(t.slice(1) in labels);
      return t in labels;
    });
  });
}
