// One rule for "which interface carries the VIP": src/net's interfaceForVip
// (agent, preflight, installer sysctls) and install.sh's awk copy give the
// same answer — an interface, none, or a tie — for the same node, read with
// real `ip` (JSON for TypeScript, `ip -o` text for awk) in a namespace this
// test creates and removes.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ambiguousInterface, interfaceForVip, parseIpAddrJson } from "../../src/net/index.ts";
import { INSTALL_SH } from "../../scripts/testing/install-sh.ts";

const NS = `k3v-${process.pid}-${randomBytes(3).toString("hex")}-ifr`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const cleanup = () => spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" });
process.once("SIGINT", () => {
  cleanup();
  process.exit(130);
});

describe("the VIP's interface: install.sh's awk rule = src/net's", () => {
  before(() => {
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    for (const [a, b] of [
      ["br0", "x0"],
      ["eth0", "x1"],
      ["eth1", "x2"],
      ["eth2", "x3"],
    ]) {
      ip("-n", NS, "link", "add", a!, "type", "veth", "peer", "name", b!);
      ip("-n", NS, "link", "set", a!, "up");
    }
    ip("-n", NS, "addr", "add", "10.1.0.1/16", "dev", "br0");
    ip("-n", NS, "addr", "add", "10.1.2.5/24", "dev", "eth0");
    ip("-n", NS, "addr", "add", "10.1.2.10/32", "dev", "eth0", "noprefixroute", "label", "eth0:k3vip");
    ip("-n", NS, "addr", "add", "172.16.0.5/12", "dev", "eth1");
    ip("-n", NS, "addr", "add", "172.16.9.9/12", "dev", "eth2");
    ip("-n", NS, "addr", "add", "fd00:6b33::5/64", "dev", "eth1", "nodad");
    ip("-n", NS, "addr", "add", "fd00:6b33::/56", "dev", "eth2", "nodad");
    ip("-n", NS, "addr", "add", "10.9.0.1/24", "dev", "lo");
  });
  after(cleanup);

  it("same interface, none, or the same tie, for every VIP tried", () => {
    const links = parseIpAddrJson(execFileSync("ip", ["-n", NS, "-j", "addr", "show"], { encoding: "utf8" }));
    const text = execFileSync("ip", ["-n", NS, "-o", "addr", "show"], { encoding: "utf8" });
    const awk = execFileSync("sh", ["-c", `sed -n "/^    cat >\\"\\\${TMP_DIR}\\/k3vip.awk\\" <<'K3VIP_AWK'$/,/^K3VIP_AWK$/p" "$1" | sed '1d;$d'`, "sh", INSTALL_SH], { encoding: "utf8" });
    const vips = ["10.1.2.10", "10.1.2.5", "10.1.9.9", "172.16.0.10", "172.31.255.1", "fd00:6b33::10", "fd00:6b33:0:1::10", "fe80::10", "10.9.0.7", "192.0.2.1", "127.0.0.5"];
    for (const vip of vips) {
      const r = spawnSync("awk", ["-v", "op=detect", awk, "-"], { input: text, encoding: "utf8", env: { LC_ALL: "C", __K3VIP_VIP: vip } });
      const want = interfaceForVip(links, vip);
      if (!want) assert.equal(r.status, 3, `${vip}: awk said ${r.stdout}`);
      else if (want.ties.length > 0) {
        assert.equal(r.status, 4, vip);
        assert.match(ambiguousInterface(want, vip), new RegExp(`\\(${r.stdout.trim()}\\)$`), vip);
      } else {
        assert.equal(r.status, 0, vip);
        assert.equal(r.stdout.trim(), want.name, vip);
      }
    }
  });
});
