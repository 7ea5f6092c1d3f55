// install.sh's interface detection against real `ip -o addr show` output
// (iproute2 under dash, busybox's applet under busybox sh) in a network
// namespace this test creates and removes.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { INSTALL_SH, k3vip, TEST_HEARTBEAT_KEY } from "../../scripts/testing/install-sh.ts";

const NS = `k3v-${process.pid}-${randomBytes(3).toString("hex")}-inst`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const cleanup = () => spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" });
process.once("SIGINT", () => {
  cleanup();
  process.exit(130);
});

describe("install.sh detects the VIP's interface with real ip", () => {
  before(() => {
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    ip("-n", NS, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1");
    ip("-n", NS, "link", "set", "lan0", "up");
    ip("-n", NS, "link", "set", "lan1", "up");
    ip("-n", NS, "addr", "add", "198.18.0.5/24", "dev", "lan0");
    ip("-n", NS, "addr", "add", "fd00:6b33::5/64", "dev", "lan1", "nodad");
  });
  after(cleanup);

  for (const shell of [["dash"], ["busybox", "sh"]]) {
    for (const [vip, iface] of [
      ["198.18.0.10", "lan0"],
      ["fd00:6b33::10", "lan1"],
    ] as const) {
      it(`${vip} → ${iface} [${shell.join(" ")}]`, () => {
        const res = spawnSync("ip", ["netns", "exec", NS, ...shell, INSTALL_SH, "--print"], {
          encoding: "utf8",
          // The key k3vip() renders with (else install.sh makes a random one).
          env: { PATH: process.env.PATH ?? "", vipAddress: vip, K3VIP_HEARTBEAT_KEY: TEST_HEARTBEAT_KEY },
        });
        assert.equal(res.status, 0, res.stderr);
        const want = k3vip({ env: { vipAddress: vip, vipInterface: iface } });
        assert.ok(want.ok);
        assert.equal(res.stdout, want.out);
      });
    }

    it(`no subnet holds the VIP: exit 2 naming the variable [${shell.join(" ")}]`, () => {
      const res = spawnSync("ip", ["netns", "exec", NS, ...shell, INSTALL_SH, "--print"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", vipAddress: "203.0.113.7" },
      });
      assert.equal(res.status, 2);
      assert.equal(res.stdout, "");
      assert.match(res.stderr, /no interface has an address in a subnet holding the VIP 203\.0\.113\.7.*vipInterface/);
    });
  }
});
