// The real adapter of the agent's LeasePort (src/agent/lease.ts): client-node's
// KubeConfig for connecting and auth, a small typed client for the Lease
// calls (see rest.ts for why not CoordinationV1Api).
import type { KubeConfig, V1Lease } from "@kubernetes/client-node";
import { LeaseError, type LeaseObject, type LeasePort, type LeaseSpec, type LeaseWatch, type WatchKind } from "../agent/index.ts";
import { kubeJson, kubeOpen, readWatch } from "./rest.ts";

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED", "ENOENT", "ERR_SOCKET_CLOSED"]);

/** What a failed request means to the election (see ApiErrorKind). */
export function classify(e: unknown, timeoutMs?: number): LeaseError {
  if (e instanceof LeaseError) return e;
  // An HTTP answer: our KubeHttpError or client-node's ApiException (both carry a numeric code and the body).
  const http = e as { code?: unknown; body?: unknown } | null;
  if (typeof http?.code === "number") {
    const code = http.code;
    const body = http.body;
    const msg = statusMessage(body) ?? `HTTP ${code}`;
    if (code === 409) return new LeaseError("conflict", msg, code, { cause: e });
    if (code === 404) return new LeaseError("notFound", msg, code, { cause: e });
    if (code >= 500 || code === 429) return new LeaseError("http5xx", `HTTP ${code}: ${msg}`, code, { cause: e });
    return new LeaseError("other", `HTTP ${code}: ${msg}`, code, { cause: e });
  }
  const err = e as { name?: string; code?: string; errno?: string; type?: string; message?: string };
  if (err?.name === "AbortError" || err?.name === "TimeoutError" || err?.type === "aborted" || err?.code === "ETIMEDOUT" || err?.type === "request-timeout") {
    return new LeaseError("timeout", timeoutMs ? `no answer within ${timeoutMs} ms` : "timed out", undefined, { cause: e });
  }
  const code = err?.code ?? err?.errno;
  const message = err?.message ?? String(e);
  if ((code && CONNECTION_CODES.has(code)) || /socket hang up|ECONNREFUSED|ECONNRESET|other side closed/i.test(message)) {
    return new LeaseError("refused", message, undefined, { cause: e });
  }
  return new LeaseError("other", message, undefined, { cause: e });
}

function statusMessage(body: unknown): string | undefined {
  let b: unknown = body;
  if (typeof body === "string") {
    try {
      b = JSON.parse(body);
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  const m = (b as { message?: unknown } | null)?.message;
  return typeof m === "string" ? m : undefined;
}

/** Lease MicroTime back to our string form (six fractional digits, UTC). */
function micro(v: unknown): string | null {
  if (v === undefined || v === null || v === "") return null;
  const d = v instanceof Date ? v : typeof v === "string" || typeof v === "number" ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/Z$/, "000Z");
}

/** A Lease as JSON (an answer or a watch event; or a typed V1Lease) → LeaseObject. */
export function toLeaseObject(l: V1Lease | Record<string, unknown>): LeaseObject {
  const o = l as { metadata?: { resourceVersion?: string }; spec?: Record<string, unknown> };
  const s = o.spec ?? {};
  return {
    resourceVersion: o.metadata?.resourceVersion ?? "",
    spec: {
      holderIdentity: typeof s.holderIdentity === "string" ? s.holderIdentity : "",
      leaseDurationSeconds: typeof s.leaseDurationSeconds === "number" ? s.leaseDurationSeconds : 0,
      acquireTime: micro(s.acquireTime),
      renewTime: micro(s.renewTime),
      leaseTransitions: typeof s.leaseTransitions === "number" ? s.leaseTransitions : 0,
    },
  };
}

export interface KubeLeaseOptions {
  namespace: string;
  name: string;
  /** Per-request timeout; keep it shorter than renewDeadline. */
  timeoutMs: number;
  /** Called after every request (metrics: k3vip_api_request_duration_seconds). */
  onRequest?: (verb: string, code: string, seconds: number) => void;
  /** Server-side watch timeout; the stream is re-opened after it (like client-go's reflector). */
  watchTimeoutSeconds?: number;
}

/** A coordination.k8s.io/v1 Lease on the wire (MicroTime as a string, as LeaseSpec already holds it). */
interface LeaseJson {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { holderIdentity: string; leaseDurationSeconds: number; leaseTransitions: number; acquireTime?: string; renewTime?: string };
}

/** The real adapter: GET/POST/PUT of the one Lease and a watch on it, over rest.ts. */
export class KubeLeasePort implements LeasePort {
  /** Labels and annotations of the Lease as last seen, so a replace keeps them. */
  private meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
  private readonly collection: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubeLeaseOptions,
  ) {
    this.collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
  }

  private async call(verb: "GET" | "POST" | "PUT", path: string, body?: LeaseJson): Promise<LeaseObject> {
    const t0 = performance.now();
    try {
      const l = (await kubeJson(this.kc, { method: verb, path, ...(body ? { body } : {}), signal: AbortSignal.timeout(this.opts.timeoutMs) })) as V1Lease;
      this.opts.onRequest?.(verb, "200", (performance.now() - t0) / 1000);
      this.meta = { ...(l.metadata?.labels ? { labels: l.metadata.labels } : {}), ...(l.metadata?.annotations ? { annotations: l.metadata.annotations } : {}) };
      return toLeaseObject(l);
    } catch (e) {
      const err = classify(e, this.opts.timeoutMs);
      this.opts.onRequest?.(verb, err.status ? String(err.status) : err.kind, (performance.now() - t0) / 1000);
      throw err;
    }
  }

  /** The Lease as JSON: MicroTime strings as the API server expects them (RFC 3339, six fractional digits). */
  private body(spec: LeaseSpec, resourceVersion?: string): LeaseJson {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace, ...this.meta, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: spec.holderIdentity,
        leaseDurationSeconds: spec.leaseDurationSeconds,
        leaseTransitions: spec.leaseTransitions,
        ...(spec.acquireTime ? { acquireTime: spec.acquireTime } : {}),
        ...(spec.renewTime ? { renewTime: spec.renewTime } : {}),
      },
    };
  }

  private item(): string {
    return `${this.collection}/${encodeURIComponent(this.opts.name)}`;
  }

  get(): Promise<LeaseObject> {
    return this.call("GET", this.item());
  }

  create(spec: LeaseSpec): Promise<LeaseObject> {
    return this.call("POST", this.collection, this.body(spec));
  }

  update(spec: LeaseSpec, resourceVersion: string): Promise<LeaseObject> {
    return this.call("PUT", this.item(), this.body(spec, resourceVersion));
  }

  async watch(onEvent: (kind: WatchKind, lease: LeaseObject) => void, onEnd: (err: Error | null) => void): Promise<LeaseWatch> {
    const query = new URLSearchParams({ watch: "true", fieldSelector: `metadata.name=${this.opts.name}`, timeoutSeconds: String(this.opts.watchTimeoutSeconds ?? 300) });
    const controller = new AbortController();
    // An API server that never answers the watch (hung) must not block the
    // stream forever: give up on it and let the caller open another.
    // (Polling keeps the election correct meanwhile.)
    const connectMs = Math.max(5000, this.opts.timeoutMs * 2);
    const timer = setTimeout(() => controller.abort(), connectMs);
    let res;
    try {
      res = await kubeOpen(this.kc, { method: "GET", path: `${this.collection}?${query.toString()}`, signal: controller.signal });
    } catch (e) {
      if (controller.signal.aborted) throw new LeaseError("timeout", `watch not answered within ${connectMs} ms`, undefined, { cause: e });
      throw classify(e);
    } finally {
      clearTimeout(timer);
    }
    let stopped = false;
    readWatch(
      res,
      (type, obj) => {
        if (stopped) return;
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") onEvent(type, toLeaseObject(obj as Record<string, unknown>));
        else if (type === "ERROR") {
          stopped = true;
          controller.abort();
          onEnd(new LeaseError("other", statusMessage(obj) ?? "watch error"));
        }
      },
      (err) => {
        if (stopped) return;
        stopped = true;
        onEnd(err ? classify(err) : null);
      },
    );
    return {
      stop: () => {
        stopped = true;
        controller.abort();
      },
    };
  }
}
