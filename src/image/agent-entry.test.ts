// The agent's start command (src/image/agent-entry.ts): its Node flags are
// accepted by this Node, leave WebAssembly (Node's fetch) working, and the
// agent bundle answers --help under them. The image tests run the same
// command under each arch's own Node (qemu for arm).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AGENT_BUNDLE, AGENT_COMMAND, AGENT_NODE_FLAGS, AGENT_PATH, CLI_LINK, NODE_PATH } from "./agent-entry.ts";
import { agentEntries } from "./rootfs.ts";

const REPO = new URL("../..", import.meta.url).pathname;

describe("agent entry", () => {
  it("the command is node, the flags, the bundle", () => {
    assert.deepEqual(AGENT_COMMAND, [NODE_PATH, ...AGENT_NODE_FLAGS, AGENT_PATH]);
    for (const f of AGENT_NODE_FLAGS) assert.match(f, /^--[a-z-]+(=\S+)?$/);
  });

  it("this Node accepts the flags (an unknown one would stop node with 'bad option') and WebAssembly stays available", () => {
    const out = execFileSync(process.execPath, [...AGENT_NODE_FLAGS, "-e", "process.stdout.write(typeof WebAssembly)"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(out, "object");
    assert.throws(() => execFileSync(process.execPath, ["--no-such-v8-flag-k3vip", "-e", "0"], { stdio: "ignore" }), "the check above can fail");
  });

  it("the agent bundle runs `agent --help` under the flags", () => {
    const bundle = join(REPO, AGENT_BUNDLE);
    if (!existsSync(bundle)) execFileSync(process.execPath, [join(REPO, "scripts/build.mjs")], { stdio: "inherit" });
    const r = execFileSync(process.execPath, [...AGENT_NODE_FLAGS, bundle, "agent", "--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.match(r, /^Usage: k3vip agent\|manager /);
    assert.match(r, /--lease-duration/);
    // kube-vip's DaemonSet runs `manager`: a swap that keeps its args starts the agent.
    const m = execFileSync(process.execPath, [...AGENT_NODE_FLAGS, bundle, "manager", "--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(m, r);
  });

  it("the agent layer: the bundle runs under its own name with the image's node, and `k3vip` on PATH points at it", () => {
    const [bundle, link, ...rest] = agentEntries(Buffer.from("#!/usr/bin/env node\nimport 'x';\n"));
    assert.deepEqual(rest, []);
    assert.deepEqual(bundle, { type: "file", path: AGENT_PATH, mode: 0o755, data: Buffer.from(`#!${NODE_PATH}\nimport 'x';\n`) });
    // Relative, so it also resolves in an unpacked rootfs (qemu -L, umoci bundles).
    assert.deepEqual(link, { type: "symlink", path: CLI_LINK, target: "../../../opt/k3vip/k3vip.mjs" });
    assert.equal(CLI_LINK, "/usr/local/bin/k3vip");
    // A bundle without a shebang line gets one, nothing of it is lost.
    assert.deepEqual(agentEntries(Buffer.from("0;\n"))[0], { type: "file", path: AGENT_PATH, mode: 0o755, data: Buffer.from(`#!${NODE_PATH}\n0;\n`) });
  });

  it("the real bundle starts with the one line agentEntries replaces", () => {
    const bundle = join(REPO, AGENT_BUNDLE);
    if (!existsSync(bundle)) execFileSync(process.execPath, [join(REPO, "scripts/build.mjs")], { stdio: "inherit" });
    const first = agentEntries(readFileSync(bundle))[0];
    assert.ok(first?.type === "file");
    const data = Buffer.from(first.data);
    assert.equal(data.subarray(0, data.indexOf(0x0a) + 1).toString(), `#!${NODE_PATH}\n`);
    assert.ok(data.subarray(data.indexOf(0x0a) + 1).equals(readFileSync(bundle).subarray(readFileSync(bundle).indexOf(0x0a) + 1)));
  });
});
