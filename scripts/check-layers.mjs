// Lists the imports between src/'s top-level folders and fails on a
// forbidden direction (README "Layout"): cli → use cases (agent, installer,
// image) → ports ← adapters (host, kube); config and net are the pure model
// everyone may use; lab (the netns lab, the fake API, the demo) is a driver
// like cli. A port lives with the code that uses it, so an adapter imports
// its user's port types, never the other way round, and no two folders
// import each other. Another folder is reached only through an index.ts
// (tests may also use its testing/). Tests (*.test.ts, testing/) are listed
// apart: they may use any folder's public face.
//   node scripts/check-layers.mjs          check (npm test)
//   node scripts/check-layers.mjs --list   print every folder → folder edge
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** Which folders each folder may import (itself always). "*" = the version file etc. at src/ top. */
const ALLOWED = {
  config: [],
  net: ["config"],
  render: ["config"],
  agent: ["config", "net"],
  installer: ["config", "net", "render"],
  image: ["config"],
  host: ["config", "net", "agent", "installer"],
  kube: ["config", "net", "agent", "installer"],
  cli: ["config", "net", "render", "agent", "installer", "image", "host", "kube"],
  lab: ["config", "net", "render", "agent", "installer", "image", "host", "kube"],
};

const src = resolve(dirname(new URL(import.meta.url).pathname), "..", "src");
function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|mjs|js)$/.test(name)) out.push(p);
  }
  return out;
}
const top = (file) => relative(src, file).split(sep)[0];

const isTest = (file) => /\.test\.ts$/.test(file) || file.split(sep).includes("testing");
const edges = new Map(); // "a → b" → [file, …]
const faces = []; // imports that bypass a folder's public face
for (const file of files(src)) {
  const from = top(file);
  if (from.includes(".")) continue; // src/version.ts and friends
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith(".")) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) continue;
    const to = top(target);
    if (to.includes(".") || to === from) continue;
    const rel = relative(resolve(src, ".."), file);
    // Another folder is reached through an index.ts (its public face); tests
    // may also use its testing/ support.
    const viaFace = target.endsWith(`${sep}index.ts`) || (isTest(file) && target.split(sep).includes("testing"));
    if (!viaFace) faces.push(`${rel} imports ${relative(src, target)}: import ${to}'s index.ts instead`);
    const key = `${from} → ${to}${isTest(file) ? " (test)" : ""}`;
    const list = edges.get(key) ?? [];
    list.push(rel);
    edges.set(key, list);
  }
}

const sorted = [...edges.keys()].sort();
if (process.argv.includes("--list")) {
  for (const k of sorted) {
    console.log(`${k}  (${edges.get(k).length} import${edges.get(k).length === 1 ? "" : "s"})`);
    if (process.argv.includes("-v")) for (const f of new Set(edges.get(k))) console.log(`    ${f}`);
  }
  process.exit(0);
}
const problems = [...faces];
const prod = new Set(sorted.filter((k) => !k.endsWith(" (test)")));
for (const k of sorted) {
  const test = k.endsWith(" (test)");
  const [from, to] = k.replace(" (test)", "").split(" → ");
  const allowed = ALLOWED[from];
  // The directions bind production code; a test may use any folder's public
  // face (a contract test renders the manifest the image must match) and the lab.
  if (!allowed) problems.push(`src/${from}/ is not in scripts/check-layers.mjs: give it its allowed imports`);
  else if (!test && !allowed.includes(to)) problems.push(`${k} is not allowed (${[...new Set(edges.get(k))].join(", ")})`);
  if (!test && prod.has(`${to} → ${from}`) && from < to) problems.push(`${from} and ${to} import each other`);
}
if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} forbidden import direction(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-layers: ${sorted.length} folder edges, all allowed`);
