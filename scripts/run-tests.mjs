// Runs node:test over every test file (Node 20 does not expand globs): the
// unit tests next to their code (src/**, scripts/*.test.ts) and the lab tests
// in test/lab/, which need root and `ip netns` (CI has both). `unit` runs
// only the former, `lab` only the latter.
//
// A skipped test fails the run unless it is on ALLOWED_SKIPS below (a green
// run must not hide a test that never ran); the allowed ones are printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Test names that may skip, and why. Empty: every test runs in CI. */
const ALLOWED_SKIPS = new Map([
  // ["a real read-only bind mount: nothing changed, clear error", "needs root for mount (runs in CI, which is root)"],
]);

const only = process.argv[2];
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}
let files = [...find("src"), ...find("scripts"), ...find("test")].sort();
if (only === "unit") files = files.filter((f) => !f.startsWith("test/lab/"));
else if (only === "lab") files = files.filter((f) => f.startsWith("test/lab/"));

const dir = mkdtempSync(join(tmpdir(), "k3vip-tests-"));
const tap = join(dir, "results.tap");
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=tap", `--test-reporter-destination=${tap}`, ...files],
  { stdio: "inherit" },
);
let status = r.status ?? 1;
const skipped = [];
try {
  for (const line of readFileSync(tap, "utf8").split("\n")) {
    const m = /^\s*ok \d+ - (.*?) # SKIP(?: (.*))?$/.exec(line);
    if (m) skipped.push({ name: m[1], reason: m[2] ?? "" });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const allowed = skipped.filter((s) => ALLOWED_SKIPS.has(s.name));
const refused = skipped.filter((s) => !ALLOWED_SKIPS.has(s.name));
if (allowed.length > 0) {
  console.log(`\nskipped, on the allow-list (scripts/run-tests.mjs):`);
  for (const s of allowed) console.log(`  - ${s.name}: ${ALLOWED_SKIPS.get(s.name)}`);
}
if (refused.length > 0) {
  console.error(`\n${refused.length} test(s) skipped that are not on the allow-list in scripts/run-tests.mjs (a skipped test proves nothing):`);
  for (const s of refused) console.error(`  - ${s.name}${s.reason ? ` (${s.reason})` : ""}`);
  if (status === 0) status = 1;
}
process.exit(status);
