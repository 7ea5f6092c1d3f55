// Watch streams: JSON lines of {type, object}, fed by the store's events.
import type { ServerResponse } from "node:http";
import type { FakeContext } from "./context.ts";
import { writeEvent } from "./io.ts";
import { fieldName, type Route } from "./route.ts";
import { apiVersionOf, type ResourceType, type StoreEvent } from "./store.ts";

export interface Watcher {
  client: string;
  rt: ResourceType;
  ns: string | null;
  name: string | null;
  res: ServerResponse;
}

function matches(w: Watcher, e: StoreEvent): boolean {
  return e.rt.group === w.rt.group && e.rt.resource === w.rt.resource && (w.ns === null || e.namespace === w.ns) && (w.name === null || e.object.metadata.name === w.name);
}

export function startWatch(ctx: FakeContext, res: ServerResponse, url: URL, r: Route, client: string): void {
  const { store } = ctx;
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
  ctx.watchers.add(w);
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
    ctx.watchers.delete(w);
    clearTimeout(timer);
    clearInterval(bookmark);
  });
}

/** Send a store event to the watches it matches, except those of `silenced` clients. */
export function broadcast(ctx: FakeContext, e: StoreEvent, silenced: (client: string) => boolean): void {
  for (const w of ctx.watchers) {
    if (!matches(w, e) || silenced(w.client)) continue;
    writeEvent(w.res, e.type, e.object);
  }
}

export function closeWatches(ctx: FakeContext, client?: string): void {
  for (const w of ctx.watchers) {
    if (client === undefined || w.client === client) {
      ctx.watchers.delete(w);
      w.res.destroy();
    }
  }
}
