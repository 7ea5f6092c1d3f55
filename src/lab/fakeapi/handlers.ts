// API requests on the store: get, list, create (POST), update (PUT), patch, delete.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeContext } from "./context.ts";
import { fixedGet } from "./discovery.ts";
import { sendJson, sendStatus } from "./io.ts";
import { jsonPatch, mergePatch } from "./patch.ts";
import { filterByField, filterByLabel, isWatch, route, type Route } from "./route.ts";
import { count } from "./stats.ts";
import { ApiError, apiVersionOf, type KubeObject, type Store } from "./store.ts";
import { checkNamespace, invalid, parseObject, validate } from "./validate.ts";
import { startWatch } from "./watch.ts";

/** One authenticated API request, its body read. */
export interface Call {
  req: IncomingMessage;
  url: URL;
  /** The URL path without trailing slashes. */
  path: string;
  body: string;
  client: string;
}

type Answer = [code: number, body: unknown];

/** Handle one API request; `silent` = apply it but don't answer (the caller drops or hangs). */
export function serve(ctx: FakeContext, call: Call, res: ServerResponse, silent: boolean): void {
  const method = call.req.method ?? "GET";
  count(ctx, call.client, method, call.path, call.url);
  try {
    if (method === "GET") {
      const fixed = fixedGet(call.path, ctx.gitVersion);
      if (fixed !== undefined) {
        if (silent) return;
        if (typeof fixed === "string") res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(fixed);
        else sendJson(res, 200, fixed);
        return;
      }
    }
    const r = route(call.path);
    if (!r) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    if (method === "GET" && isWatch(call.url)) {
      if (!silent) startWatch(ctx, res, call.url, r, call.client);
      return;
    }
    const [code, obj] = apply(ctx.store, method, call, r);
    if (!silent) sendJson(res, code, obj);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (!silent) sendStatus(res, e);
  }
}

function apply(store: Store, method: string, call: Call, r: Route): Answer {
  switch (method) {
    case "GET":
      return get(store, call.url, r);
    case "POST":
      return create(store, call.body, r);
    case "PUT":
      return replace(store, call.body, r);
    case "PATCH":
      return patch(store, call, r);
    case "DELETE":
      return remove(store, call.body, r);
    default:
      throw new ApiError(405, "MethodNotAllowed", `method ${method} is not allowed`);
  }
}

function get(store: Store, url: URL, r: Route): Answer {
  if (r.name !== null) return [200, store.get(r.rt, r.ns ?? "", r.name)];
  const items = filterByLabel(filterByField(store.list(r.rt, r.ns), url.searchParams.get("fieldSelector")), url.searchParams.get("labelSelector"));
  return [200, { kind: `${r.rt.kind}List`, apiVersion: apiVersionOf(r.rt), metadata: { resourceVersion: String(store.resourceVersion) }, items }];
}

function create(store: Store, body: string, r: Route): Answer {
  if (r.name !== null) throw new ApiError(405, "MethodNotAllowed", "POST to a named object is not allowed");
  const obj = parseObject(body, r);
  if (!obj.metadata.name && typeof obj.metadata.generateName === "string") obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
  if (!obj.metadata.name) throw invalid(r.rt, "", "metadata.name: Required value: name or generateName is required");
  if (obj.metadata.resourceVersion) throw invalid(r.rt, obj.metadata.name, "metadata.resourceVersion: Invalid value: resourceVersion should not be set on objects to be created");
  checkNamespace(obj, r);
  validate(r.rt, obj);
  return [201, store.create(r.rt, r.ns ?? "", obj)];
}

function replace(store: Store, body: string, r: Route): Answer {
  if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "PUT needs an object name");
  const obj = parseObject(body, r);
  if (obj.metadata.name !== r.name) throw new ApiError(400, "BadRequest", `the name of the object (${obj.metadata.name}) does not match the name on the URL (${r.name})`);
  checkNamespace(obj, r);
  validate(r.rt, obj);
  return [200, store.update(r.rt, r.ns ?? "", obj)];
}

function patch(store: Store, call: Call, r: Route): Answer {
  if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "PATCH needs an object name");
  const type = (call.req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
  if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json" && type !== "application/json-patch+json") {
    throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
  }
  const cur = store.get(r.rt, r.ns ?? "", r.name);
  let body: unknown;
  try {
    body = JSON.parse(call.body || "null");
  } catch {
    throw new ApiError(400, "BadRequest", "the patch is not valid JSON");
  }
  const patched = type === "application/json-patch+json" ? jsonPatch(cur, body) : (mergePatch(cur, body) as KubeObject);
  // A patch carrying metadata.resourceVersion is a precondition; otherwise it applies to the current version.
  const pm = (body as { metadata?: { resourceVersion?: string } } | null)?.metadata;
  const rv = pm?.resourceVersion ?? cur.metadata.resourceVersion;
  if (rv !== undefined) patched.metadata.resourceVersion = rv;
  patched.metadata.name = r.name;
  validate(r.rt, patched);
  return [200, store.update(r.rt, r.ns ?? "", patched)];
}

function remove(store: Store, body: string, r: Route): Answer {
  if (r.name === null) throw new ApiError(405, "MethodNotAllowed", "deleting a collection is not supported by the fake API");
  let pre: string | undefined;
  if (body) {
    try {
      pre = (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }).preconditions?.resourceVersion;
    } catch {
      /* not DeleteOptions */
    }
  }
  return [200, store.delete(r.rt, r.ns ?? "", r.name, pre)];
}
