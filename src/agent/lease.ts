// The Lease as the election needs it: the port the runner drives, which
// src/kube implements against the API server and testing/ fakes in memory.
import type { ApiErrorKind, LeaseObject, LeaseSpec } from "./election/index.ts";

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
