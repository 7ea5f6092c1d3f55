// The /_fake/ endpoints, so a benchmark in another process can drive the fake:
// faults (GET, PUT/POST, DELETE), stats (GET, DELETE), watches (DELETE).
import type { ServerResponse } from "node:http";
import type { FakeContext } from "./context.ts";
import { clearFaults, setFault, type Fault } from "./faults.ts";
import { sendJson } from "./io.ts";
import { closeWatches } from "./watch.ts";

interface FaultsBody {
  global?: Fault | null;
  clients?: Record<string, Fault | null>;
  client?: string;
  fault?: Fault | null;
}

export function admin(ctx: FakeContext, method: string, path: string, body: string, res: ServerResponse): void {
  try {
    if (path === "/_fake/faults") {
      if (method === "GET") return sendJson(res, 200, ctx.faults);
      if (method === "DELETE") {
        clearFaults(ctx);
        return sendJson(res, 200, ctx.faults);
      }
      if (method === "PUT" || method === "POST") {
        const b = JSON.parse(body || "{}") as FaultsBody;
        if ("global" in b) setFault(ctx, null, b.global ?? null);
        for (const [c, f] of Object.entries(b.clients ?? {})) setFault(ctx, c, f);
        if (b.client !== undefined) setFault(ctx, b.client, b.fault ?? null);
        return sendJson(res, 200, ctx.faults);
      }
    }
    if (path === "/_fake/stats") {
      if (method === "GET") return sendJson(res, 200, { resourceVersion: ctx.store.resourceVersion, clients: Object.fromEntries(ctx.stats) });
      if (method === "DELETE") {
        ctx.stats.clear();
        return sendJson(res, 200, { clients: {} });
      }
    }
    if (path === "/_fake/watches" && method === "DELETE") {
      closeWatches(ctx);
      return sendJson(res, 200, {});
    }
    sendJson(res, 404, { error: `no ${method} ${path}` });
  } catch (e) {
    sendJson(res, 400, { error: (e as Error).message });
  }
}
