// Every tool that can see the host refuses a VIP that is one of the node's
// own addresses, with the same one line and exit 2: `k3vip manifest`,
// `k3vip doctor`, `k3vip agent` and install.sh (dash and busybox sh), run
// with real `ip` inside a namespace this test creates and removes. install.sh's
// awk rule is parity-tested against src/host's on the same node.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { foreignVipProblem, parseIpAddrJson } from "../../src/net/index.ts";
import { INSTALL_SH } from "../../scripts/testing/install-sh.ts";

const BUNDLE = fileURLToPath(new URL("../../dist/k3vip.mjs", import.meta.url));
const NS = `k3v-${process.pid}-${randomBytes(3).toString("hex")}-own`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const cleanup = () => spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" });
process.once("SIGINT", () => {
  cleanup();
  process.exit(130);
});
const inNs = (argv: string[], env: Record<string, string> = {}) =>
  spawnSync("ip", ["netns", "exec", NS, ...argv], { encoding: "utf8", timeout: 30_000, env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...env } });

describe("tools refuse the node's own address as the VIP", () => {
  before(() => {
    if (!existsSync(BUNDLE)) spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    ip("-n", NS, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1");
    ip("-n", NS, "link", "set", "lan0", "up");
    ip("-n", NS, "link", "set", "lan1", "up");
    ip("-n", NS, "addr", "add", "198.18.0.5/24", "dev", "lan0");
    ip("-n", NS, "addr", "add", "fd00:6b33::5/64", "dev", "lan1", "nodad");
    // k3vip's own copy of a VIP, and a /32 another program added.
    ip("-n", NS, "addr", "add", "198.18.0.20/32", "dev", "lan0", "noprefixroute", "label", "lan0:k3vip");
    ip("-n", NS, "addr", "add", "198.18.0.21/32", "dev", "lan0");
  });
  after(cleanup);

  const own = [
    ["198.18.0.5", "lan0", 24],
    ["fd00:6b33::5", "lan1", 64],
  ] as const;
  const line = (vip: string, iface: string, plen: number) => `--vip: the VIP ${vip} is this node's own address on ${iface} (${vip}/${plen}); pick a free address in the subnet`;

  for (const [vip, iface, plen] of own) {
    it(`${vip}: manifest, doctor and agent exit 2 with the same one line`, () => {
      for (const argv of [["manifest", "--vip", vip], ["doctor", "--vip", vip], ["agent", "--vip", vip, "--node-name", "n1"]]) {
        const r = inNs([process.execPath, BUNDLE, ...argv]);
        assert.equal(r.status, 2, `${argv[0]}: ${r.stderr}`);
        assert.equal(r.stdout, "", argv[0]);
        assert.equal(r.stderr, `k3vip: ${line(vip, iface, plen)}\n`, argv[0]);
      }
    });
    for (const shell of [["dash"], ["busybox", "sh"]]) {
      it(`${vip}: install.sh exits 2 with that line and writes nothing [${shell.join(" ")}]`, () => {
        for (const args of [["--print"], []]) {
          const r = inNs([...shell, INSTALL_SH, ...args], { vipAddress: vip, vipInterface: iface });
          assert.equal(r.status, 2, r.stderr);
          assert.equal(r.stdout, "");
          assert.equal(r.stderr, `[ERROR]  ${line(vip, iface, plen)}\n`);
        }
      });
    }
  }

  it("k3vip's own copy and another program's /32 are not the node's own address: manifest and install.sh go on", () => {
    for (const vip of ["198.18.0.20", "198.18.0.21", "198.18.0.30"]) {
      assert.equal(inNs([process.execPath, BUNDLE, "manifest", "--vip", vip, "--interface", "lan0"]).status, 0, vip);
      assert.equal(inNs(["dash", INSTALL_SH, "--print"], { vipAddress: vip, vipInterface: "lan0" }).status, 0, vip);
    }
  });

  it("install.sh's awk rule gives src/host's answer for every address of the node and a few others", () => {
    const links = parseIpAddrJson(execFileSync("ip", ["-n", NS, "-j", "addr", "show"], { encoding: "utf8" }));
    const text = execFileSync("ip", ["-n", NS, "-o", "addr", "show"], { encoding: "utf8" });
    const awk = execFileSync("sh", ["-c", `sed -n "/^    cat >\\"\\\${TMP_DIR}\\/k3vip.awk\\" <<'K3VIP_AWK'$/,/^K3VIP_AWK$/p" "$1" | sed '1d;$d'`, "sh", INSTALL_SH], { encoding: "utf8" });
    const vips = [...links.flatMap((l) => l.addr_info.map((a) => a.local)), "198.18.0.6", "fd00:6b33:0::5", "fd00:6b33::6", "127.0.0.2"];
    for (const vip of vips) {
      const r = spawnSync("awk", ["-v", "op=owncheck", awk, "-"], { input: text, encoding: "utf8", env: { LC_ALL: "C", __K3VIP_VIP: vip } });
      const want = foreignVipProblem(links, vip, { ownOnly: true });
      assert.equal(r.status, want ? 2 : 0, `${vip}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout.trim(), want ?? "", vip);
    }
  });
});
