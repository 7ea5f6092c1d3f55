// The fake API's object store: one global, monotonic resourceVersion (like
// etcd's revision), optimistic concurrency, and a bounded event history so a
// watch can resume from a resourceVersion (or is told 410 Expired).
import { randomUUID } from "node:crypto";

export interface ResourceType {
  group: string; // "" = core
  version: string;
  /** Plural, lower case: the path segment. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** What k3vip's agent, installer and uninstall touch; a real API server has more. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true },
  { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false },
  { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
  { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true },
  { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true },
  { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true },
  { group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false },
  { group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
];

/** The known type for a resource plural (and group), e.g. resourceType("leases", "coordination.k8s.io"). */
export function resourceType(resource: string, group = ""): ResourceType {
  const t = RESOURCE_TYPES.find((x) => x.resource === resource && x.group === group);
  if (!t) throw new Error(`fake API: no resource ${resource}${group ? `.${group}` : ""}`);
  return t;
}

function sameType(a: ResourceType, b: ResourceType): boolean {
  return a.group === b.group && a.resource === b.resource;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `leases.coordination.k8s.io`, as the API names a resource in messages. */
export function qualified(t: ResourceType): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

export type KubeObject = Record<string, unknown> & { metadata: Meta };
export interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  [k: string]: unknown;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";
export interface StoreEvent {
  type: EventType;
  rv: number;
  rt: ResourceType;
  namespace: string;
  object: KubeObject;
}

/** A failure the API server reports as a Status object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const clone = <T>(v: T): T => structuredClone(v);

export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private readonly historyLimit = 1000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.history.length > 0 ? (this.history[0] as StoreEvent).rv - 1 : this.rv;
  }

  private key(rt: ResourceType, ns: string, name: string): string {
    return `${rt.group}/${rt.resource}/${rt.namespaced ? ns : ""}/${name}`;
  }

  get(rt: ResourceType, ns: string, name: string): KubeObject {
    const o = this.objects.get(this.key(rt, ns, name));
    if (!o) throw notFound(rt, name);
    return clone(o);
  }

  list(rt: ResourceType, ns: string | null): KubeObject[] {
    const prefix = `${rt.group}/${rt.resource}/`;
    const out: KubeObject[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(prefix)) continue;
      if (rt.namespaced && ns !== null && o.metadata.namespace !== ns) continue;
      out.push(clone(o));
    }
    return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  create(rt: ResourceType, ns: string, obj: KubeObject): KubeObject {
    const name = obj.metadata.name;
    const k = this.key(rt, ns, name);
    if (this.objects.has(k)) throw new ApiError(409, "AlreadyExists", `${qualified(rt)} "${name}" already exists`, { name, group: rt.group, kind: rt.resource });
    const o = clone(obj);
    o.apiVersion = apiVersionOf(rt);
    o.kind = rt.kind;
    o.metadata = { ...o.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"), resourceVersion: String(++this.rv) };
    if (rt.namespaced) o.metadata.namespace = ns;
    else delete o.metadata.namespace;
    this.objects.set(k, o);
    this.emit("ADDED", rt, ns, o);
    return clone(o);
  }

  /** Replace; `obj.metadata.resourceVersion`, when set, must match (optimistic concurrency). */
  update(rt: ResourceType, ns: string, obj: KubeObject): KubeObject {
    const name = obj.metadata.name;
    const k = this.key(rt, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw notFound(rt, name);
    const want = obj.metadata.resourceVersion;
    if (want !== undefined && want !== "" && want !== cur.metadata.resourceVersion) throw conflict(rt, name);
    const o = clone(obj);
    o.apiVersion = apiVersionOf(rt);
    o.kind = rt.kind;
    // Server-owned metadata survives a replace.
    o.metadata = { ...o.metadata };
    for (const k of ["uid", "creationTimestamp", "namespace"] as const) {
      const v = cur.metadata[k];
      if (v === undefined) delete o.metadata[k];
      else o.metadata[k] = v;
    }
    // An update that changes nothing is a no-op and keeps the resourceVersion, like the real API.
    const { resourceVersion: _a, ...curMeta } = cur.metadata;
    const { resourceVersion: _b, ...newMeta } = o.metadata;
    if (JSON.stringify({ ...cur, metadata: curMeta }) === JSON.stringify({ ...o, metadata: newMeta })) return clone(cur);
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, o);
    this.emit("MODIFIED", rt, ns, o);
    return clone(o);
  }

  delete(rt: ResourceType, ns: string, name: string, precondition?: string): KubeObject {
    const k = this.key(rt, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw notFound(rt, name);
    if (precondition && precondition !== cur.metadata.resourceVersion) throw conflict(rt, name);
    this.objects.delete(k);
    const o = clone(cur);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit("DELETED", rt, ns, o);
    return clone(o);
  }

  /** Events after `rv` for a resource type (and namespace); null if `rv` is too old to resume from. */
  since(rv: number, rt: ResourceType, ns: string | null): StoreEvent[] | null {
    if (rv < this.oldestResumable) return null;
    return this.history.filter((e) => e.rv > rv && sameType(e.rt, rt) && (ns === null || !rt.namespaced || e.namespace === ns));
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(type: EventType, rt: ResourceType, ns: string, object: KubeObject): void {
    const e: StoreEvent = { type, rv: this.rv, rt, namespace: rt.namespaced ? ns : "", object: clone(object) };
    this.history.push(e);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const fn of this.listeners) fn(e);
  }
}

export function notFound(rt: ResourceType, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualified(rt)} "${name}" not found`, { name, group: rt.group, kind: rt.resource });
}

export function conflict(rt: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: rt.group, kind: rt.resource },
  );
}
