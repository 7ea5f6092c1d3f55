// In-memory LeasePort for unit tests of the runner: resourceVersion
// semantics like the API server, injectable failures, and watch events.
import type { ApiErrorKind, LeaseObject, LeaseSpec } from "../election/index.ts";
import { LeaseError, type LeasePort, type LeaseWatch, type WatchKind } from "../lease.ts";

type Listener = { onEvent: (kind: WatchKind, lease: LeaseObject) => void; onEnd: (err: Error | null) => void };

export class FakeLeasePort implements LeasePort {
  lease: LeaseObject | null = null;
  private rv = 100;
  private readonly listeners = new Set<Listener>();
  /** When set, every request fails with this kind (e.g. "timeout", "refused"). */
  failWith: ApiErrorKind | null = null;
  /** Every request made, in order: "get", "create", "update". */
  readonly calls: string[] = [];

  private fail(): void {
    if (this.failWith) throw new LeaseError(this.failWith, `injected ${this.failWith}`);
  }

  private set(spec: LeaseSpec, kind: WatchKind): LeaseObject {
    this.lease = { spec: { ...spec }, resourceVersion: String(++this.rv) };
    const copy = structuredClone(this.lease);
    for (const l of this.listeners) l.onEvent(kind, copy);
    return structuredClone(this.lease);
  }

  get(): Promise<LeaseObject> {
    this.calls.push("get");
    return Promise.resolve().then(() => {
      this.fail();
      if (!this.lease) throw new LeaseError("notFound", "leases.coordination.k8s.io not found", 404);
      return structuredClone(this.lease);
    });
  }

  create(spec: LeaseSpec): Promise<LeaseObject> {
    this.calls.push("create");
    return Promise.resolve().then(() => {
      this.fail();
      if (this.lease) throw new LeaseError("conflict", "already exists", 409);
      return this.set(spec, "ADDED");
    });
  }

  update(spec: LeaseSpec, resourceVersion: string): Promise<LeaseObject> {
    this.calls.push("update");
    return Promise.resolve().then(() => {
      this.fail();
      if (!this.lease) throw new LeaseError("notFound", "not found", 404);
      if (this.lease.resourceVersion !== resourceVersion) throw new LeaseError("conflict", "the object has been modified", 409);
      return this.set(spec, "MODIFIED");
    });
  }

  /** Another writer (a test playing another node). */
  write(spec: LeaseSpec): LeaseObject {
    return this.set(spec, this.lease ? "MODIFIED" : "ADDED");
  }

  watch(onEvent: (kind: WatchKind, lease: LeaseObject) => void, onEnd: (err: Error | null) => void): Promise<LeaseWatch> {
    const l = { onEvent, onEnd };
    this.listeners.add(l);
    if (this.lease) onEvent("ADDED", structuredClone(this.lease));
    return Promise.resolve({ stop: () => this.listeners.delete(l) });
  }

  /** End every open watch (as an API server restart would). */
  endWatches(err: Error | null = null): void {
    for (const l of [...this.listeners]) {
      this.listeners.delete(l);
      l.onEnd(err);
    }
  }
}
