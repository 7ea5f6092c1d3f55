// scripts/release/check-version.sh, the release workflow's first step: the
// tag must be package.json's version, install.sh generated for it, and it
// prints the image reference the workflow pushes (the manifest's default).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaults } from "../../src/config/index.ts";
import { VERSION } from "../../src/version.ts";

const SCRIPT = join(import.meta.dirname, "check-version.sh");
const run = (tag: string) => spawnSync("sh", [SCRIPT, tag], { encoding: "utf8" });

describe("release: check-version.sh", () => {
  it("the right tag: prints the image every installed DaemonSet names", () => {
    const r = run(`v${VERSION}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${defaults(VERSION).image}\n`);
  });

  it("another tag: exit 1, says what to bump, prints nothing", () => {
    const r = run("v99.0.0");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`the tag v99\\.0\\.0 is not v${VERSION.replace(/\./g, "\\.")}, package\\.json's version`));
  });
});
