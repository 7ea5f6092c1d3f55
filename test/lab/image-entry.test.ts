// Running the image by hand, as `ctr run` does: ctr's arguments replace
// ENTRYPOINT and CMD alike, so `ctr run IMAGE ID --help` execs "--help".
// The image puts `k3vip` on PATH (a link to the agent bundle, which starts
// with `#!/usr/local/bin/node`), so `ctr run --rm IMAGE ID k3vip agent
// --help` works without a shell. Checked here with runc and the process
// args ctr would set, in a network namespace of this test's own (the amd64
// image, built from the image cache into a temp dir).
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { AGENT_BUNDLE, CLI_LINK } from "../../src/image/agent-entry.ts";
import { configureBundle, unpackBundle } from "../../src/image/bundle.ts";
import { buildImage } from "../../src/image/index.ts";
import { VERSION } from "../../src/version.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "k3v-image-entry-"));
const ns = `k3ventry-${process.pid}`;
const ids: string[] = [];
let bundle = "";

before(async () => {
  if (!existsSync(join(REPO, AGENT_BUNDLE))) execFileSync(process.execPath, [join(REPO, "scripts/build.mjs")], { stdio: "inherit" });
  // A private copy: another `npm run build` must not change the bundle mid-test.
  copyFileSync(join(REPO, AGENT_BUNDLE), join(work, "agent.mjs"));
  const r = await buildImage({ arches: ["amd64"], out: join(work, "amd64.tar"), bundle: join(work, "agent.mjs") });
  bundle = await unpackBundle(r.out, `v${VERSION}`, work, "amd64");
  execFileSync("ip", ["netns", "add", ns]);
});

after(async () => {
  for (const id of ids) await exec("runc", ["delete", "--force", id]).catch(() => undefined);
  spawnSync("ip", ["netns", "delete", ns]);
  rmSync(work, { recursive: true, force: true });
});

/** `ctr run IMAGE ID args…`: the args are the whole process argv, looked up on the image's PATH. */
async function ctrRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  configureBundle(bundle, { netns: `/run/netns/${ns}`, args });
  const id = `k3ventry-${process.pid}-${ids.length}`;
  ids.push(id);
  try {
    const r = await exec("runc", ["run", "--bundle", bundle, id], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

describe("the image run by hand (runc with ctr's process args)", () => {
  it("`k3vip agent --help`: the command on PATH runs the agent under the image's node", async () => {
    const r = await ctrRun(["k3vip", "agent", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: k3vip agent\|manager /);
    const full = await ctrRun([CLI_LINK, "--help"]);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /^Usage: k3vip /);
  });

  it("`--help` alone is what ctr execs, and fails the way the docs say", async () => {
    const r = await ctrRun(["--help"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exec: \\?"--help\\?": executable file not found in \$PATH/);
  });
});
