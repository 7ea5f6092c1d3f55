// Helpers shared by the Lease adapter's tests (lease.test.ts, rest.test.ts).
import assert from "node:assert/strict";
import { microTime, type LeaseSpec } from "../../agent/index.ts";
import { LeaseError } from "../../agent/index.ts";

/** A Lease spec held by `holder`, acquired and renewed at `wall`. */
export function leaseSpec(holder: string, wall = Date.now()): LeaseSpec {
  const t = microTime(wall);
  return { holderIdentity: holder, leaseDurationSeconds: 6, acquireTime: t, renewTime: t, leaseTransitions: 0 };
}

/** Asserts `p` rejects with a LeaseError of `kind` and returns it. */
export async function rejectsWith(p: Promise<unknown>, kind: string): Promise<LeaseError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LeaseError, `a LeaseError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail(`expected a ${kind} error`);
}
