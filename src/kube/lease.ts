// The Lease as the election sees it: a port with a real adapter on
// client-node's CoordinationV1Api + Watch, and an in-memory fake.
import { ApiException, CoordinationV1Api, KubeConfig, Observable, V1MicroTime, Watch, type RequestContext, type ResponseContext, type V1Lease } from "@kubernetes/client-node";
import type { ApiErrorKind, LeaseObject, LeaseSpec } from "../agent/election/index.ts";

export type WatchKind = "ADDED" | "MODIFIED" | "DELETED";

export interface LeaseWatch {
  stop(): void;
}

export interface LeasePort {
  get(): Promise<LeaseObject>;
  create(spec: LeaseSpec): Promise<LeaseObject>;
  /** Replace, only if the Lease is still at `resourceVersion` (else a `conflict` LeaseError). */
  update(spec: LeaseSpec, resourceVersion: string): Promise<LeaseObject>;
  /** Stream changes of this one Lease; `onEnd` once the stream ends (null = closed normally). */
  watch(onEvent: (kind: WatchKind, lease: LeaseObject) => void, onEnd: (err: Error | null) => void): Promise<LeaseWatch>;
}

/** A failed Lease request, classified for the election. */
export class LeaseError extends Error {
  override readonly name = "LeaseError";
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED", "ENOENT", "ERR_SOCKET_CLOSED"]);

/** What a failed request means to the election (see ApiErrorKind). */
export function classify(e: unknown, timeoutMs?: number): LeaseError {
  if (e instanceof LeaseError) return e;
  if (e instanceof ApiException) {
    const code = e.code;
    const msg = statusMessage(e.body) ?? `HTTP ${code}`;
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

/** A V1Lease (typed, from the API client) or a raw JSON Lease (from a watch) → LeaseObject. */
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

/** The real adapter: CoordinationV1Api for reads and writes, Watch for the stream. */
export class KubeLeasePort implements LeasePort {
  private readonly api: CoordinationV1Api;
  private readonly watcher: Watch;
  /** Labels and annotations of the Lease as last seen, so a replace keeps them. */
  private meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};

  constructor(
    kc: KubeConfig,
    private readonly opts: KubeLeaseOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.watcher = new Watch(kc);
  }

  private options() {
    const ms = this.opts.timeoutMs;
    return {
      middleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(AbortSignal.timeout(ms));
            return new Observable(Promise.resolve(ctx));
          },
          post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
        },
      ],
      middlewareMergeStrategy: "append" as const,
    };
  }

  private async call(verb: string, fn: () => Promise<V1Lease>): Promise<LeaseObject> {
    const t0 = performance.now();
    try {
      const l = await fn();
      this.opts.onRequest?.(verb, "200", (performance.now() - t0) / 1000);
      this.meta = { ...(l.metadata?.labels ? { labels: l.metadata.labels } : {}), ...(l.metadata?.annotations ? { annotations: l.metadata.annotations } : {}) };
      return toLeaseObject(l);
    } catch (e) {
      const err = classify(e, this.opts.timeoutMs);
      this.opts.onRequest?.(verb, err.status ? String(err.status) : err.kind, (performance.now() - t0) / 1000);
      throw err;
    }
  }

  private body(spec: LeaseSpec, resourceVersion?: string): V1Lease {
    const t = (s: string | null) => (s ? new V1MicroTime(s) : undefined);
    const acquireTime = t(spec.acquireTime);
    const renewTime = t(spec.renewTime);
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace, ...this.meta, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: spec.holderIdentity,
        leaseDurationSeconds: spec.leaseDurationSeconds,
        leaseTransitions: spec.leaseTransitions,
        ...(acquireTime ? { acquireTime } : {}),
        ...(renewTime ? { renewTime } : {}),
      },
    };
  }

  get(): Promise<LeaseObject> {
    return this.call("GET", () => this.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace }, this.options()));
  }

  create(spec: LeaseSpec): Promise<LeaseObject> {
    return this.call("POST", () => this.api.createNamespacedLease({ namespace: this.opts.namespace, body: this.body(spec) }, this.options()));
  }

  update(spec: LeaseSpec, resourceVersion: string): Promise<LeaseObject> {
    return this.call("PUT", () => this.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: this.body(spec, resourceVersion) }, this.options()));
  }

  async watch(onEvent: (kind: WatchKind, lease: LeaseObject) => void, onEnd: (err: Error | null) => void): Promise<LeaseWatch> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`;
    let ended = false;
    const end = (err: Error | null) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    let stopped = false;
    const opening = this.watcher.watch(
      path,
      { fieldSelector: `metadata.name=${this.opts.name}`, timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 },
      (type: string, obj: unknown) => {
        if (stopped) return;
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") onEvent(type, toLeaseObject(obj as Record<string, unknown>));
        else if (type === "ERROR") end(new LeaseError("other", statusMessage(obj) ?? "watch error"));
      },
      (err: unknown) => end(err ? classify(err) : null),
    );
    // Watch.watch() resolves only once the server answered; one that never does
    // (a hung API server) must not block the stream forever: give up on it and
    // let the caller open another. (Polling keeps the election correct meanwhile.)
    const connectMs = Math.max(5000, this.opts.timeoutMs * 2);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), connectMs)));
    const controller = await Promise.race([opening, timedOut]);
    clearTimeout(timer);
    if (controller === null) {
      stopped = true;
      void opening.then((c) => c.abort(), () => undefined);
      throw new LeaseError("timeout", `watch not answered within ${connectMs} ms`);
    }
    return {
      stop: () => {
        ended = true;
        stopped = true;
        controller.abort();
      },
    };
  }
}
