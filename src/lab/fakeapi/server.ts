// A fake Kubernetes API server for tests, the lab and the demo. It speaks the
// real REST paths and semantics the clients use (client-node's typed APIs,
// KubernetesObjectApi with discovery, Watch), so a real kube-apiserver can
// replace it through a kubeconfig:
//   - /api/v1/…, /apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>]:
//     GET (get, list, ?watch=true), POST, PUT (409 on a stale resourceVersion),
//     PATCH (merge-patch and strategic-merge as merge), DELETE
//   - Status bodies (kind Status, reason Conflict/AlreadyExists/NotFound/…)
//   - watches stream JSON lines, resume from a resourceVersion (410 Expired
//     when too old), honour fieldSelector=metadata.name=… and timeoutSeconds
//   - discovery (/api, /apis, /api/v1, /apis/<g>/<v>), /version, /livez, /readyz
// Clients are told apart by bearer token (the token string is the client's
// name). Faults are injected per client or globally: added latency, 5xx,
// hang (no answer), drop (reset after the request), refuse (reset before) —
// settable from TypeScript or over HTTP at /_fake/faults, so a benchmark in
// another process can drive it. /_fake/stats counts reads and writes per client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { rm } from "node:fs/promises";
import { ApiError, apiVersionOf, RESOURCE_TYPES, Store, type KubeObject, type ResourceType, type StoreEvent } from "./store.ts";

export interface Fault {
  /** Milliseconds added before the request is handled. */
  latencyMs?: number;
  /** Answer with this HTTP status (500, 503, 504…) and a Status body instead of serving. */
  status?: number;
  /** Never answer (the client times out). */
  hang?: boolean;
  /** Serve the request, then reset the connection without answering. */
  drop?: boolean;
  /** Reset the connection without serving (a partition). */
  refuse?: boolean;
  /** With hang: the write still takes effect (an answer lost after a commit). */
  apply?: boolean;
  /** Probability (0..1) that status/hang/drop/refuse hits a given request. Default 1. */
  rate?: number;
}

export interface FaultSet {
  global: Fault | null;
  clients: Record<string, Fault>;
}

export interface ClientStats {
  reads: number;
  writes: number;
  watches: number;
  /** Writes per verb and resource, e.g. "PUT leases": 12. */
  byVerb: Record<string, number>;
}

export interface FakeApiOptions {
  /** TCP port on 127.0.0.1 (0 = any free port). Omit for no TCP listener unless no socket is given either. */
  port?: number;
  host?: string;
  /** Unix socket path (the lab's responders proxy to it). */
  socket?: string;
  /** Known tokens; when set, other tokens get 401. Default: any token, its string is the client name. */
  tokens?: string[];
  /** Kubernetes version reported by /version. */
  gitVersion?: string;
}

export interface FakeApi {
  readonly store: Store;
  /** http://127.0.0.1:<port> when listening on TCP. */
  readonly url: string | undefined;
  readonly socket: string | undefined;
  setFault(client: string | null, fault: Fault | null): void;
  faults(): FaultSet;
  clearFaults(): void;
  stats(): Record<string, ClientStats>;
  resetStats(): void;
  /** Close every open watch of `client` (or all), like an API server restart would. */
  closeWatches(client?: string): void;
  close(): Promise<void>;
}

const GROUPS = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => t.group))];
// RFC 3339 with exactly six fractional digits: Go's metav1.MicroTime layout.
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

interface Watcher {
  client: string;
  rt: ResourceType;
  ns: string | null;
  name: string | null;
  res: ServerResponse;
}

interface Route {
  rt: ResourceType;
  ns: string | null;
  name: string | null;
}

export async function startFakeApi(opts: FakeApiOptions = {}): Promise<FakeApi> {
  const store = new Store();
  const faultSet: FaultSet = { global: null, clients: {} };
  const counts = new Map<string, ClientStats>();
  const watchers = new Set<Watcher>();
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const tokens = opts.tokens ? new Set(opts.tokens) : null;
  const gitVersion = opts.gitVersion ?? "v1.31.4+k3vip-fake";

  const statsFor = (client: string): ClientStats => {
    let s = counts.get(client);
    if (!s) counts.set(client, (s = { reads: 0, writes: 0, watches: 0, byVerb: {} }));
    return s;
  };

  const faultFor = (client: string): Fault | null => faultSet.clients[client] ?? faultSet.global;

  store.subscribe((e) => {
    for (const w of watchers) {
      if (!matches(w, e)) continue;
      const f = faultFor(w.client);
      // A partitioned or hung client's stream is silent; it is closed when the fault is lifted.
      if (f && (f.hang || f.refuse || f.drop) && (f.rate ?? 1) >= 1) continue;
      writeEvent(w.res, e.type, e.object);
    }
  });

  function setFault(client: string | null, fault: Fault | null): void {
    const before = client === null ? faultSet.global : faultSet.clients[client];
    if (client === null) faultSet.global = fault;
    else if (fault) faultSet.clients[client] = fault;
    else delete faultSet.clients[client];
    // Lifting (or setting) a connection fault ends the affected watch streams, like a dead TCP connection.
    const severs = (f: Fault | null | undefined) => !!f && (f.hang === true || f.refuse === true || f.drop === true);
    if (severs(before) || severs(fault)) closeWatches(client ?? undefined);
    if (before?.hang && !fault?.hang) releaseHung();
  }

  function releaseHung(): void {
    for (const res of hung) res.destroy();
    hung.clear();
  }

  function closeWatches(client?: string): void {
    for (const w of watchers) {
      if (client === undefined || w.client === client) {
        watchers.delete(w);
        w.res.destroy();
      }
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendStatus(res, new ApiError(500, "InternalError", `fake API: ${(e as Error).message}`));
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const body = await readBody(req);
    if (path.startsWith("/_fake/")) return admin(req.method ?? "GET", path, body, res);

    const client = clientOf(req);
    if (client === null) return sendStatus(res, new ApiError(401, "Unauthorized", "Unauthorized"));
    const fault = faultFor(client);
    if (fault?.latencyMs) await sleep(fault.latencyMs);
    const hits = fault ? Math.random() < (fault.rate ?? 1) : false;
    const isWrite = req.method !== "GET" && req.method !== "HEAD";
    if (fault && hits) {
      if (fault.refuse) {
        req.socket.destroy();
        return;
      }
      if (fault.hang) {
        if (fault.apply && isWrite) serve(req, res, url, path, body, client, true);
        else count(client, req.method ?? "GET", path, url);
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return;
      }
      if (fault.status) {
        count(client, req.method ?? "GET", path, url);
        return sendStatus(res, new ApiError(fault.status, fault.status === 504 ? "Timeout" : fault.status === 503 ? "ServiceUnavailable" : "InternalError", fault.status === 504 ? "Timeout: request did not complete within requested timeout" : "etcdserver: request timed out"));
      }
      if (fault.drop) {
        serve(req, res, url, path, body, client, true);
        req.socket.destroy();
        return;
      }
    }
    serve(req, res, url, path, body, client, false);
  }

  function count(client: string, method: string, path: string, url: URL): void {
    const s = statsFor(client);
    if (method === "GET") {
      if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") s.watches++;
      else s.reads++;
      return;
    }
    s.writes++;
    const r = route(path);
    const key = `${method} ${r ? r.rt.resource : path}`;
    s.byVerb[key] = (s.byVerb[key] ?? 0) + 1;
  }

  /** Handle one API request; `silent` = apply it but don't answer (the caller drops or hangs). */
  function serve(req: IncomingMessage, res: ServerResponse, url: URL, path: string, body: string, client: string, silent: boolean): void {
    const method = req.method ?? "GET";
    count(client, method, path, url);
    const answer = (code: number, obj: unknown) => {
      if (!silent) sendJson(res, code, obj);
    };
    try {
      if (method === "GET") {
        const fixed = fixedGet(path);
        if (fixed !== undefined) {
          if (typeof fixed === "string") {
            if (!silent) res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(fixed);
          } else answer(200, fixed);
          return;
        }
      }
      const r = route(path);
      if (!r) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      switch (method) {
        case "GET": {
          const watch = url.searchParams.get("watch");
          if (watch === "true" || watch === "1") {
            if (silent) return;
            return startWatch(res, url, r, client);
          }
          if (r.name !== null) return answer(200, store.get(r.rt, r.ns ?? "", r.name));
          const items = filterByLabel(filterByField(store.list(r.rt, r.ns), url.searchParams.get("fieldSelector")), url.searchParams.get("labelSelector"));
          return answer(200, { kind: `${r.rt.kind}List`, apiVersion: apiVersionOf(r.rt), metadata: { resourceVersion: String(store.resourceVersion) }, items });
        }
        case "POST": {
          if (r.name !== null) throw new ApiError(405, "MethodNotAllowed", "POST to a named object is not allowed");
          const obj = parseObject(body, r);
          if (!obj.metadata.name && typeof obj.metadata.generateName === "string") obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
          if (!obj.metadata.name) throw invalid(r.rt, "", "metadata.name: Required value: name or generateName is required");
          if (obj.metadata.resourceVersion) throw invalid(r.rt, obj.metadata.name, "metadata.resourceVersion: Invalid value: resourceVersion should not be set on objects to be created");
          checkNamespace(obj, r);
          validate(r.rt, obj);
          return answer(201, store.create(r.rt, r.ns ?? "", obj));
        }
        case "PUT": {
          if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "PUT needs an object name");
          const obj = parseObject(body, r);
          if (obj.metadata.name !== r.name) throw new ApiError(400, "BadRequest", `the name of the object (${obj.metadata.name}) does not match the name on the URL (${r.name})`);
          checkNamespace(obj, r);
          validate(r.rt, obj);
          return answer(200, store.update(r.rt, r.ns ?? "", obj));
        }
        case "PATCH": {
          if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "PATCH needs an object name");
          const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
          if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json" && type !== "application/json-patch+json") {
            throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
          }
          const cur = store.get(r.rt, r.ns ?? "", r.name);
          let patched: KubeObject;
          let patch: unknown;
          try {
            patch = JSON.parse(body || "null");
          } catch {
            throw new ApiError(400, "BadRequest", "the patch is not valid JSON");
          }
          if (type === "application/json-patch+json") patched = jsonPatch(cur, patch);
          else patched = mergePatch(cur, patch) as KubeObject;
          // A patch carrying metadata.resourceVersion is a precondition; otherwise it applies to the current version.
          const pm = (patch as { metadata?: { resourceVersion?: string } } | null)?.metadata;
          const rv = pm?.resourceVersion ?? cur.metadata.resourceVersion;
          if (rv !== undefined) patched.metadata.resourceVersion = rv;
          patched.metadata.name = r.name;
          validate(r.rt, patched);
          return answer(200, store.update(r.rt, r.ns ?? "", patched));
        }
        case "DELETE": {
          if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "deleting a collection is not supported by the fake API");
          let pre: string | undefined;
          if (body) {
            try {
              pre = (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }).preconditions?.resourceVersion;
            } catch {
              /* not DeleteOptions */
            }
          }
          const gone = store.delete(r.rt, r.ns ?? "", r.name, pre);
          return answer(200, gone);
        }
        default:
          throw new ApiError(405, "MethodNotAllowed", `method ${method} is not allowed`);
      }
    } catch (e) {
      if (e instanceof ApiError) {
        if (!silent) sendStatus(res, e);
        return;
      }
      throw e;
    }
  }

  function startWatch(res: ServerResponse, url: URL, r: Route, client: string): void {
    const field = url.searchParams.get("fieldSelector");
    const name = r.name ?? fieldName(field);
    const w: Watcher = { client, rt: r.rt, ns: r.ns, name, res };
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked", "cache-control": "no-cache" });
    res.flushHeaders();
    const rvParam = url.searchParams.get("resourceVersion");
    if (rvParam && rvParam !== "0") {
      const events = store.since(Number(rvParam), r.rt, r.ns);
      if (events === null) {
        // What the real API does for a compacted resourceVersion: an ERROR event, then the end.
        writeEvent(res, "ERROR", { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${rvParam} (${store.oldestResumable})`, reason: "Expired", code: 410 });
        res.end();
        return;
      }
      for (const e of events) if (matches(w, e)) writeEvent(res, e.type, e.object);
    } else {
      // No resourceVersion: the current state as ADDED events first.
      for (const o of store.list(r.rt, r.ns)) if (name === null || o.metadata.name === name) writeEvent(res, "ADDED", o);
    }
    watchers.add(w);
    const timeout = Number(url.searchParams.get("timeoutSeconds") ?? "0");
    let timer: NodeJS.Timeout | undefined;
    if (timeout > 0) timer = setTimeout(() => res.end(), timeout * 1000);
    let bookmark: NodeJS.Timeout | undefined;
    if (url.searchParams.get("allowWatchBookmarks") === "true") {
      bookmark = setInterval(() => {
        writeEvent(res, "BOOKMARK", { kind: r.rt.kind, apiVersion: apiVersionOf(r.rt), metadata: { resourceVersion: String(store.resourceVersion) } });
      }, 10_000);
    }
    res.on("close", () => {
      watchers.delete(w);
      clearTimeout(timer);
      clearInterval(bookmark);
    });
  }

  function admin(method: string, path: string, body: string, res: ServerResponse): void {
    try {
      if (path === "/_fake/faults") {
        if (method === "GET") return sendJson(res, 200, faultSet);
        if (method === "DELETE") {
          clearFaults();
          return sendJson(res, 200, faultSet);
        }
        if (method === "PUT" || method === "POST") {
          const b = JSON.parse(body || "{}") as { global?: Fault | null; clients?: Record<string, Fault | null>; client?: string; fault?: Fault | null };
          if ("global" in b) setFault(null, b.global ?? null);
          for (const [c, f] of Object.entries(b.clients ?? {})) setFault(c, f);
          if (b.client !== undefined) setFault(b.client, b.fault ?? null);
          return sendJson(res, 200, faultSet);
        }
      }
      if (path === "/_fake/stats") {
        if (method === "GET") return sendJson(res, 200, { resourceVersion: store.resourceVersion, clients: Object.fromEntries(counts) });
        if (method === "DELETE") {
          counts.clear();
          return sendJson(res, 200, { clients: {} });
        }
      }
      if (path === "/_fake/watches" && method === "DELETE") {
        closeWatches();
        return sendJson(res, 200, {});
      }
      sendJson(res, 404, { error: `no ${method} ${path}` });
    } catch (e) {
      sendJson(res, 400, { error: (e as Error).message });
    }
  }

  function clearFaults(): void {
    const hadConnFaults = faultSet.global !== null || Object.keys(faultSet.clients).length > 0;
    faultSet.global = null;
    faultSet.clients = {};
    releaseHung();
    if (hadConnFaults) closeWatches();
  }

  function clientOf(req: IncomingMessage): string | null {
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    const token = m?.[1]?.trim() ?? "";
    if (tokens) return tokens.has(token) ? token : null;
    return token || "anonymous";
  }

  function fixedGet(path: string): unknown {
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

  const server: Server = createServer(handler);
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 30_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const extra: Server[] = [];
  let url: string | undefined;
  const listenTcp = opts.port !== undefined || opts.socket === undefined;
  if (opts.socket) {
    await rm(opts.socket, { force: true });
    const s = listenTcp ? createServer(handler) : server;
    if (listenTcp) {
      s.requestTimeout = 0;
      s.timeout = 0;
      s.on("connection", (c) => {
        sockets.add(c);
        c.on("close", () => sockets.delete(c));
      });
      extra.push(s);
    }
    await listen(s, { path: opts.socket });
  }
  if (listenTcp) {
    await listen(server, { port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" });
    const a = server.address() as AddressInfo;
    url = `http://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`;
  }

  return {
    store,
    url,
    socket: opts.socket,
    setFault,
    faults: () => structuredClone(faultSet),
    clearFaults,
    stats: () => structuredClone(Object.fromEntries(counts)),
    resetStats: () => counts.clear(),
    closeWatches,
    close: async () => {
      for (const w of watchers) w.res.destroy();
      for (const s of sockets) s.destroy();
      await Promise.all([server, ...extra].map((s) => (s.listening ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve())));
      if (opts.socket) await rm(opts.socket, { force: true });
    },
  };
}

// ---------------------------------------------------------------- helpers

function route(path: string): Route | null {
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

function matches(w: Watcher, e: StoreEvent): boolean {
  return e.rt.group === w.rt.group && e.rt.resource === w.rt.resource && (w.ns === null || e.namespace === w.ns) && (w.name === null || e.object.metadata.name === w.name);
}

function fieldName(selector: string | null): string | null {
  if (!selector) return null;
  const m = /(?:^|,)metadata\.name=([^,]+)/.exec(selector);
  return m?.[1] ?? null;
}

function filterByField(items: KubeObject[], selector: string | null): KubeObject[] {
  const name = fieldName(selector);
  return name === null ? items : items.filter((o) => o.metadata.name === name);
}

/** Label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma separated (no set-based `in`/`notin`). */
function filterByLabel(items: KubeObject[], selector: string | null): KubeObject[] {
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

function parseObject(body: string, r: Route): KubeObject {
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

function checkNamespace(obj: KubeObject, r: Route): void {
  const ns = obj.metadata.namespace;
  if (r.rt.namespaced && ns !== undefined && ns !== "" && ns !== r.ns) {
    throw new ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
  }
}

function invalid(rt: ResourceType, name: string, cause: string): ApiError {
  return new ApiError(422, "Invalid", `${rt.kind} "${name}" is invalid: ${cause}`, { name, group: rt.group, kind: rt.kind });
}

/** The checks the real API server's Lease validation and JSON decoding make. */
function validate(rt: ResourceType, obj: KubeObject): void {
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
function jsonPatch(doc: KubeObject, patch: unknown): KubeObject {
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

function writeEvent(res: ServerResponse, type: string, object: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
}

function sendJson(res: ServerResponse, code: number, obj: unknown): void {
  const body = JSON.stringify(obj);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

function sendStatus(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: e.message, reason: e.reason, ...(e.details ? { details: e.details } : {}), code: e.code });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function listen(s: Server, where: { path: string } | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.listen(where, () => {
      s.off("error", reject);
      resolve();
    });
  });
}
