// Generated files are committed: they must match what `npm run gen` makes now.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { OPTIONS } from "../src/config/index.ts";
import { generate, shKind } from "./gen.ts";

const ROOT = join(import.meta.dirname, "..");

describe("generated files are up to date (run `npm run gen` when this fails)", () => {
  for (const [path, content] of generate()) {
    it(path, () => {
      assert.ok(readFileSync(join(ROOT, path), "utf8") === content, `${path} is stale: run npm run gen and commit it`);
    });
  }

  it("docs/options.md lists every option with its flag, env name and kube-vip names", () => {
    const md = readFileSync(join(ROOT, "docs/options.md"), "utf8");
    for (const o of OPTIONS) {
      const row = md.split("\n").find((l) => l.startsWith(`| \`--${o.flag} `));
      assert.ok(row?.includes(`| \`${o.env}\` |`), `${o.key}: row with flag and env name`);
      for (const a of o.aliases) assert.ok(row?.includes(`\`${a}\``), `${o.key}: alias ${a}`);
    }
  });

  it("install.sh knows how to parse every option (bounds and enums read from src/config)", () => {
    const sh = readFileSync(join(ROOT, "install.sh"), "utf8");
    for (const o of OPTIONS) {
      const kind = shKind(o);
      assert.ok(sh.includes(`KIND[${OPTIONS.indexOf(o) + 1}] = "${kind}"`), o.key);
      assert.ok(sh.includes(`#   - ${o.env} (`), `header documents ${o.env}`);
    }
    assert.equal(shKind(OPTIONS.find((o) => o.key === "apiPort")!), "int 1 65535 6443");
    assert.equal(shKind(OPTIONS.find((o) => o.key === "distro")!), "enum k3s rke2");
  });
});
