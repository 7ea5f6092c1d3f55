// The short variant of `npm run bench:chaos`: a few seeded random faults
// against real agents with heartbeats; the full run (200 trials) is a
// benchmark. Checked: the report's shape, one holder after every fault, no
// time with two holders that could both reach the API (from the samplers
// inside the server namespaces), and no move on a fault to ride out.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

describe("bench:chaos, short (3 trials, seed 1)", () => {
  it("prints one JSON summary as its last line; every trial settles; 0 ms of two holders that both reach the API", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/chaos.ts", "--trials", "3", "--seed", "1", "--json"], { cwd: REPO, encoding: "utf8", timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const lines = r.stdout.trim().split("\n");
    console.log(lines.map((l) => `# ${l}`).join("\n"));
    const s = JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
    for (const k of ["trials", "failover_p95_ms", "failover_max_ms", "split_brain_ms_total", "split_brain_max_ms", "split_brain_reachable_ms", "orphan_max_ms", "flaps", "api_writes_per_s"]) {
      assert.equal(typeof s[k], "number", `${k} in ${lines.at(-1)}`);
    }
    assert.equal(s["trials"], 3);
    assert.equal(s["unsettled"], 0);
    assert.equal(s["split_brain_reachable_ms"], 0);
    assert.equal(s["moved_on_hold_faults"], 0);
    const perFault = s["per_fault"] as Record<string, Record<string, unknown>>;
    assert.ok(Object.keys(perFault).length > 0);
    for (const [f, x] of Object.entries(perFault)) for (const k of ["p50_ms", "p95_ms", "max_ms", "zero_holder_p50_ms", "zero_holder_p95_ms", "zero_holder_max_ms"]) assert.equal(typeof x[k], "number", `${f}.${k}`);
  });
});
