// A small JSON-over-HTTP client for the few Lease calls the agent makes
// (GET, POST, PUT and a watch of one Lease), on client-node's KubeConfig for
// everything about connecting: server, CA, client certificates, tokens
// (re-read per request, so rotation and exec/OIDC plugins work), proxy-url,
// insecure-skip-tls-verify — applyToHTTPSOptions gives the headers and an
// http(s).Agent carrying the TLS options, exactly what client-node's own
// Watch uses.
//
// Why not CoordinationV1Api: its ObjectSerializer holds a type map of every
// generated model, so using one typed client bundles and keeps in memory the
// whole generated API surface (~1 MB of code, ~20 MiB of the agent's RSS with
// ws, tar and the other API clients it drags in). The agent runs on
// Raspberry Pi servers next to etcd and must stay ≤ 60 MiB (issue 5); the
// Lease is five fields. `k3vip status` keeps the typed clients.
import { request as httpRequest, STATUS_CODES, type Agent, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** A non-2xx answer; `code` and `body` like client-node's ApiException. */
export class KubeHttpError extends Error {
  override readonly name = "KubeHttpError";
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code} ${STATUS_CODES[code] ?? ""}`.trim());
  }
}

export interface KubeRequest {
  method: "GET" | "POST" | "PUT";
  /** Path and query, e.g. /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x. */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** Sends the request; resolves with the response once its headers arrived and its status is 2xx. */
export async function kubeOpen(kc: KubeConfig, req: KubeRequest): Promise<IncomingMessage> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster with a server");
  const url = new URL(server.replace(/\/+$/, "") + req.path);
  const opts: { headers?: OutgoingHttpHeaders; agent?: Agent; auth?: string } = {};
  await kc.applyToHTTPSOptions(opts);
  const headers: OutgoingHttpHeaders = { ...opts.headers, accept: "application/json" };
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = payload.length;
  }
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = send(url, { method: req.method, headers, ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.auth ? { auth: opts.auth } : {}), ...(req.signal ? { signal: req.signal } : {}) }, resolve);
    r.once("error", reject);
    r.end(payload);
  });
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) throw new KubeHttpError(status, await readText(res));
  return res;
}

/** One request, its JSON answer. */
export async function kubeJson(kc: KubeConfig, req: KubeRequest): Promise<unknown> {
  return JSON.parse(await readText(await kubeOpen(kc, req))) as unknown;
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Reads a watch stream: one JSON event per line (kube-apiserver's
 * application/json watch encoding). `onEnd` once: null when the server closed
 * the stream, else the error.
 */
export function readWatch(res: IncomingMessage, onEvent: (type: string, object: unknown) => void, onEnd: (err: Error | null) => void): void {
  let buf = "";
  let ended = false;
  const end = (err: Error | null) => {
    if (ended) return;
    ended = true;
    onEnd(err);
  };
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === "") continue;
      let ev: { type?: unknown; object?: unknown };
      try {
        ev = JSON.parse(line) as { type?: unknown; object?: unknown };
      } catch {
        continue; // like client-node's Watch: a line that is not JSON is skipped
      }
      if (typeof ev.type === "string") onEvent(ev.type, ev.object);
    }
  });
  res.once("error", (e) => end(e));
  res.once("end", () => end(null));
  // An abort or a reset before "end": aborted streams emit "close" without "end".
  res.once("close", () => end(res.complete ? null : Object.assign(new Error("watch stream closed"), { code: "ECONNRESET" })));
}
