// Runs node:test over every test file (Node 20 does not expand globs): the
// unit tests next to their code (src/**, scripts/*.test.ts) and the lab tests
// in test/lab/, which need root and `ip netns` (CI has both). `unit` runs
// only the former, `lab` only the latter.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

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
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
