// The Dockerfile (for buildx users) must produce what `k3vip image build`
// produces: parse its instructions and compare with the builder's constants.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CMD, ENTRYPOINT, PATH_ENV } from "./rootfs.ts";

interface Instr {
  op: string;
  args: string;
}

/** Dockerfile → instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (cur === "" && (line.trim().startsWith("#") || line.trim() === "")) continue;
    if (line.endsWith("\\")) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    const m = /^\s*(\w+)\s+(.*)$/s.exec(cur);
    if (m?.[1] && m[2] !== undefined) out.push({ op: m[1].toUpperCase(), args: m[2].replace(/\s+/g, " ").trim() });
    cur = "";
  }
  return out;
}

const instrs = parseDockerfile(readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8"));
const stages: Instr[][] = [];
for (const i of instrs) {
  if (i.op === "FROM") stages.push([]);
  stages.at(-1)?.push(i);
}
const final = stages.at(-1) ?? [];
const build = stages.find((s) => /\bAS build$/i.test(s[0]?.args ?? "")) ?? [];

describe("Dockerfile", () => {
  it("is multi-stage: a build stage on the build platform, a final stage from scratch", () => {
    assert.equal(stages.length, 2);
    assert.match(build[0]?.args ?? "", /^--platform=\$BUILDPLATFORM \S+ AS build$/);
    assert.equal(final[0]?.args, "scratch");
  });

  it("assembles the rootfs with the builder's own code for $TARGETARCH", () => {
    assert.ok(build.some((i) => i.op === "ARG" && i.args === "TARGETARCH"));
    const runs = build.filter((i) => i.op === "RUN").map((i) => i.args);
    assert.ok(runs.includes("node scripts/build.mjs"), runs.join(" | "));
    assert.ok(runs.includes('node dist/k3vip.mjs image rootfs --arch "$TARGETARCH" --out /rootfs'), runs.join(" | "));
    // `k3vip image rootfs` needs strip for foreign arches, as in .ci/run.
    assert.ok(runs.some((r) => /apt-get install .*binutils-multiarch/.test(r)));
  });

  it("final image: only the rootfs, with the builder's entrypoint, cmd and PATH", () => {
    assert.deepEqual(final.slice(1).map((i) => i.op), ["COPY", "ENV", "ENTRYPOINT", "CMD"]);
    assert.equal(final.find((i) => i.op === "COPY")?.args, "--from=build /rootfs/ /");
    assert.equal(final.find((i) => i.op === "ENV")?.args, PATH_ENV);
    assert.deepEqual(JSON.parse(final.find((i) => i.op === "ENTRYPOINT")?.args ?? "null"), ENTRYPOINT);
    assert.deepEqual(JSON.parse(final.find((i) => i.op === "CMD")?.args ?? "null"), CMD);
  });

  it("the build context has what the build stage copies", () => {
    const ignore = readFileSync(new URL("../../.dockerignore", import.meta.url), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    const copies = build.filter((i) => i.op === "COPY").flatMap((i) => i.args.split(" ").slice(0, -1));
    for (const c of copies) assert.ok(ignore.includes(`!${c}`), `.dockerignore lets ${c} through`);
  });
});
