// Fault injection: latency, 5xx, hang, drop and refuse, per client or global.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeContext } from "./context.ts";
import { sendStatus } from "./io.ts";
import { ApiError } from "./store.ts";
import { closeWatches } from "./watch.ts";

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

function faultFor(ctx: FakeContext, client: string): Fault | null {
  return ctx.faults.clients[client] ?? ctx.faults.global;
}

export function setFault(ctx: FakeContext, client: string | null, fault: Fault | null): void {
  const set = ctx.faults;
  const before = client === null ? set.global : set.clients[client];
  if (client === null) set.global = fault;
  else if (fault) set.clients[client] = fault;
  else delete set.clients[client];
  // Lifting (or setting) a connection fault ends the affected watch streams, like a dead TCP connection.
  const severs = (f: Fault | null | undefined) => !!f && (f.hang === true || f.refuse === true || f.drop === true);
  if (severs(before) || severs(fault)) closeWatches(ctx, client ?? undefined);
  if (before?.hang && !fault?.hang) releaseHung(ctx);
}

export function clearFaults(ctx: FakeContext): void {
  const set = ctx.faults;
  const hadConnFaults = set.global !== null || Object.keys(set.clients).length > 0;
  set.global = null;
  set.clients = {};
  releaseHung(ctx);
  if (hadConnFaults) closeWatches(ctx);
}

function releaseHung(ctx: FakeContext): void {
  for (const res of ctx.hung) res.destroy();
  ctx.hung.clear();
}

/** A partitioned or hung client's watch stream is silent; it is closed when the fault is lifted. */
export function silenced(ctx: FakeContext, client: string): boolean {
  const f = faultFor(ctx, client);
  return !!f && !!(f.hang || f.refuse || f.drop) && (f.rate ?? 1) >= 1;
}

/**
 * Run one API request under its client's fault. `serve(silent)` handles it
 * (silent = apply it but don't answer); `count` only counts it.
 */
export async function withFault(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, client: string, serve: (silent: boolean) => void, count: () => void): Promise<void> {
  const fault = faultFor(ctx, client);
  if (fault?.latencyMs) await sleep(fault.latencyMs);
  const hits = fault ? Math.random() < (fault.rate ?? 1) : false;
  const isWrite = req.method !== "GET" && req.method !== "HEAD";
  if (fault && hits) {
    if (fault.refuse) {
      req.socket.destroy();
      return;
    }
    if (fault.hang) {
      if (fault.apply && isWrite) serve(true);
      else count();
      ctx.hung.add(res);
      res.on("close", () => ctx.hung.delete(res));
      return;
    }
    if (fault.status) {
      count();
      return sendStatus(res, statusError(fault.status));
    }
    if (fault.drop) {
      serve(true);
      req.socket.destroy();
      return;
    }
  }
  serve(false);
}

function statusError(code: number): ApiError {
  if (code === 504) return new ApiError(code, "Timeout", "Timeout: request did not complete within requested timeout");
  return new ApiError(code, code === 503 ? "ServiceUnavailable" : "InternalError", "etcdserver: request timed out");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
