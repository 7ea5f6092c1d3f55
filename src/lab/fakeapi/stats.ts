// Per-client request counts (/_fake/stats).
import type { FakeContext } from "./context.ts";
import { isWatch, route } from "./route.ts";

export interface ClientStats {
  reads: number;
  writes: number;
  watches: number;
  /** Writes per verb and resource, e.g. "PUT leases": 12. */
  byVerb: Record<string, number>;
}

export function count(ctx: FakeContext, client: string, method: string, path: string, url: URL): void {
  let s = ctx.stats.get(client);
  if (!s) ctx.stats.set(client, (s = { reads: 0, writes: 0, watches: 0, byVerb: {} }));
  if (method === "GET") {
    if (isWatch(url)) s.watches++;
    else s.reads++;
    return;
  }
  s.writes++;
  const r = route(path);
  const key = `${method} ${r ? r.rt.resource : path}`;
  s.byVerb[key] = (s.byVerb[key] ?? 0) + 1;
}
