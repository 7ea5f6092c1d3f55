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
// This file wires the modules: handlers.ts (CRUD), watch.ts, discovery.ts,
// faults.ts, admin.ts (/_fake/), stats.ts.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { rm } from "node:fs/promises";
import { admin } from "./admin.ts";
import type { FakeContext } from "./context.ts";
import { clearFaults, setFault, silenced, withFault, type Fault, type FaultSet } from "./faults.ts";
import { serve, type Call } from "./handlers.ts";
import { readBody, sendStatus } from "./io.ts";
import { count, type ClientStats } from "./stats.ts";
import { ApiError, Store } from "./store.ts";
import { broadcast, closeWatches } from "./watch.ts";

export { mergePatch } from "./patch.ts";
export type { Fault, FaultSet } from "./faults.ts";
export type { ClientStats } from "./stats.ts";

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

export async function startFakeApi(opts: FakeApiOptions = {}): Promise<FakeApi> {
  const ctx: FakeContext = {
    store: new Store(),
    faults: { global: null, clients: {} },
    hung: new Set(),
    watchers: new Set(),
    stats: new Map(),
    tokens: opts.tokens ? new Set(opts.tokens) : null,
    gitVersion: opts.gitVersion ?? "v1.31.4+k3vip-fake",
  };
  ctx.store.subscribe((e) => broadcast(ctx, e, (client) => silenced(ctx, client)));

  const handler: RequestListener = (req, res) => {
    void handle(ctx, req, res).catch((e: unknown) => {
      if (!res.headersSent) sendStatus(res, new ApiError(500, "InternalError", `fake API: ${(e as Error).message}`));
      else res.destroy();
    });
  };
  const sockets = new Set<Socket>();
  const server = newServer(handler, sockets);
  server.keepAliveTimeout = 30_000;
  const extra: Server[] = [];
  let url: string | undefined;
  const listenTcp = opts.port !== undefined || opts.socket === undefined;
  if (opts.socket) {
    await rm(opts.socket, { force: true });
    const s = listenTcp ? newServer(handler, sockets) : server;
    if (listenTcp) extra.push(s);
    await listen(s, { path: opts.socket });
  }
  if (listenTcp) {
    await listen(server, { port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" });
    const a = server.address() as AddressInfo;
    url = `http://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`;
  }

  return {
    store: ctx.store,
    url,
    socket: opts.socket,
    setFault: (client, fault) => setFault(ctx, client, fault),
    faults: () => structuredClone(ctx.faults),
    clearFaults: () => clearFaults(ctx),
    stats: () => structuredClone(Object.fromEntries(ctx.stats)),
    resetStats: () => ctx.stats.clear(),
    closeWatches: (client) => closeWatches(ctx, client),
    close: async () => {
      for (const w of ctx.watchers) w.res.destroy();
      for (const s of sockets) s.destroy();
      await Promise.all([server, ...extra].map((s) => (s.listening ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve())));
      if (opts.socket) await rm(opts.socket, { force: true });
    },
  };
}

async function handle(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const body = await readBody(req);
  if (path.startsWith("/_fake/")) return admin(ctx, req.method ?? "GET", path, body, res);

  const client = clientOf(ctx, req);
  if (client === null) return sendStatus(res, new ApiError(401, "Unauthorized", "Unauthorized"));
  const call: Call = { req, url, path, body, client };
  await withFault(
    ctx,
    req,
    res,
    client,
    (silent) => serve(ctx, call, res, silent),
    () => count(ctx, client, req.method ?? "GET", path, url),
  );
}

function clientOf(ctx: FakeContext, req: IncomingMessage): string | null {
  const auth = req.headers.authorization ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  const token = m?.[1]?.trim() ?? "";
  if (ctx.tokens) return ctx.tokens.has(token) ? token : null;
  return token || "anonymous";
}

/** A server without request timeouts (watches and hangs stay open) whose connections `close` can reset. */
function newServer(handler: RequestListener, sockets: Set<Socket>): Server {
  const s = createServer(handler);
  s.requestTimeout = 0;
  s.timeout = 0;
  s.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  return s;
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
