import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toVip } from "../agent/index.ts";
import { ArpingUnavailableError, CommandError, detectArping, IpVipPort, VipError, type Runner } from "./index.ts";
import { arpBurst } from "./arping.ts";
import { IpBatchError } from "./ipbatch.ts";
import { FakeIp } from "./testing/fake-ip.ts";

/** A runner that answers `<argv> -V` like a given arping, and records calls. */
function arpingRunner(answers: Record<string, { stdout?: string; stderr?: string; code?: number }>): Runner {
  return (argv) => {
    const key = argv.slice(0, -1).join(" ");
    const a = answers[key];
    if (!a) return Promise.reject(new CommandError(argv, undefined, undefined, "", { cause: new Error("ENOENT") }));
    if (a.code) return Promise.reject(new CommandError(argv, a.code, undefined, a.stderr ?? "", { cause: new Error("exit") }));
    return Promise.resolve({ stdout: a.stdout ?? "", stderr: a.stderr ?? "" });
  };
}

describe("arping detection", () => {
  it("prefers iputils arping", async () => {
    const r = arpingRunner({ arping: { stdout: "arping from iputils 20221126" } });
    assert.deepEqual(await detectArping(r), { argv: ["arping"], flavor: "iputils" });
  });
  it("falls back to busybox arping (which exits 1 on -V with its usage)", async () => {
    const r = arpingRunner({ "busybox arping": { code: 1, stderr: "arping: invalid option -- 'V'\nBusyBox v1.35.0 multi-call binary." } });
    assert.deepEqual(await detectArping(r), { argv: ["busybox", "arping"], flavor: "busybox" });
  });
  it("recognises an arping that is a busybox applet", async () => {
    const r = arpingRunner({ "/bin/arping": { code: 1, stderr: "BusyBox v1.36.1 multi-call binary." } });
    assert.deepEqual(await detectArping(r, "/bin/arping"), { argv: ["/bin/arping"], flavor: "busybox" });
  });
  it("refuses Habets' arping with the fix in the message", async () => {
    const r = arpingRunner({ arping: { stdout: "ARPing 2.21, by Thomas Habets <thomas@habets.se>" } });
    await assert.rejects(detectArping(r), (e: Error) => e instanceof ArpingUnavailableError && /Habets.*iputils-arping/.test(e.message));
  });
  it("says what it tried when nothing works", async () => {
    await assert.rejects(detectArping(arpingRunner({})), /tried arping .*; busybox arping/);
  });
});

describe("arpBurst", () => {
  const arping = { argv: ["arping"], flavor: "iputils" } as const;

  it("a send that fails while the burst sleeps is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let calls = 0;
      // The first packet fails after 5 ms, while the burst sleeps 30 ms before the next round.
      const runner: Runner = (argv) => {
        calls++;
        if (calls === 1) return new Promise((_, reject) => setTimeout(() => reject(new Error(`bind: Cannot assign requested address (${argv.join(" ")})`)), 5));
        return Promise.resolve({ stdout: "", stderr: "" });
      };
      await arpBurst(runner, arping, "eth0", "198.18.0.10", { count: 2, intervalMs: 30 });
      await new Promise((r) => setImmediate(r));
      assert.equal(calls, 4);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("fails when every packet fails, with the first error", async () => {
    const runner: Runner = () => Promise.reject(new Error("no such device"));
    await assert.rejects(arpBurst(runner, arping, "eth9", "198.18.0.10", { count: 2, intervalMs: 1 }), /no such device/);
  });
});

describe("arpBurst rounds and releases", () => {
  const arping = { argv: ["arping"], flavor: "iputils" as const };
  const fast = { count: 3, intervalMs: 1 };

  it("sends a request and a reply per round", async () => {
    const calls: string[] = [];
    await arpBurst((argv) => (calls.push(argv.join(" ")), Promise.resolve({ stdout: "", stderr: "" })), arping, "eth0", "192.0.2.10", fast);
    assert.deepEqual(calls, Array.from({ length: 3 }, () => ["arping -U -c 1 -I eth0 192.0.2.10", "arping -A -c 1 -I eth0 192.0.2.10"]).flat());
  });

  it("stops quietly when the VIP was removed mid-burst (a release), even if every send failed", async () => {
    let calls = 0;
    const failing = (argv: readonly string[]) => {
      calls++;
      return Promise.reject(new CommandError(argv, 2, undefined, "bind: Cannot assign requested address", { cause: new Error("exit 2") }));
    };
    await arpBurst(failing, arping, "eth0", "192.0.2.10", fast, () => Promise.resolve(false));
    assert.equal(calls, 2, "no round after the VIP disappeared");
  });
});

describe("IPv6 add with a read-only /proc/sys (the unprivileged pod)", () => {
  // A node whose eth0 carries 2001:db8::5/64; the VIP appears after `ip addr add`.
  function node(allNotify: string) {
    let added = false;
    const argvs: string[][] = [];
    const runner: Runner = (argv) => {
      argvs.push([...argv]);
      if (argv.includes("add")) added = true;
      const addrs = [{ family: "inet6", local: "2001:db8::5", prefixlen: 64, scope: "global" }];
      if (added) addrs.push({ family: "inet6", local: "2001:db8::10", prefixlen: 128, scope: "global" });
      return Promise.resolve({ stdout: JSON.stringify([{ ifindex: 2, ifname: "eth0", flags: ["UP"], addr_info: addrs }]), stderr: "" });
    };
    const sysctl = {
      read: (key: string) => Promise.resolve(key === "net/ipv6/conf/all/ndisc_notify" ? allNotify : "0"),
      write: () => Promise.reject(new Error("EROFS: read-only file system")),
    };
    const warnings: string[] = [];
    const port = new IpVipPort({ run: runner, sysctl, warn: (m) => warnings.push(m) });
    return { port, warnings, argvs };
  }

  it("conf.all.ndisc_notify=1 (the installer's sysctl.d file) counts: no 'will not be announced' warning", async () => {
    const { port, warnings, argvs } = node("1");
    await port.add(toVip("2001:db8::10", "eth0"));
    assert.ok(argvs.some((a) => a.includes("add") && a.includes("2001:db8::10/128")));
    assert.deepEqual(warnings.filter((w) => /will not be announced/.test(w)), []);
  });

  it("neither set and not writable: adds the VIP and warns with the fix", async () => {
    const { port, warnings } = node("0");
    await port.add(toVip("2001:db8::10", "eth0"));
    assert.equal(warnings.filter((w) => /will not be announced/.test(w) && /90-k3vip\.conf/.test(w)).length, 1);
  });
});

describe("the real adapter never touches an address k3vip did not add", () => {
  const node = () =>
    new FakeIp([
      {
        ifname: "eth0",
        flags: ["BROADCAST", "UP"],
        addr_info: [
          { family: "inet", local: "192.168.0.5", prefixlen: 24, scope: "global", label: "eth0" },
          { family: "inet6", local: "fd00:1::5", prefixlen: 64, scope: "global" },
        ],
      },
    ]);
  const portFor = (ip: FakeIp) => new IpVipPort({ run: ip.runner((argv, code, stderr) => new CommandError(argv, code, undefined, stderr, { cause: new Error(stderr) })), sysctl: { read: () => Promise.resolve("1"), write: () => Promise.resolve() } });

  for (const [address, prefix] of [
    ["192.168.0.5", 24],
    ["fd00:1::5", 64],
  ] as const) {
    it(`a VIP equal to the node's own address (${address}/${prefix}): not held, add refused, remove keeps it`, async () => {
      const ip = node();
      const port = portFor(ip);
      const vip = toVip(address, "eth0");
      assert.equal(await port.held(vip), false);
      await assert.rejects(port.add(vip), (e: Error) => e instanceof VipError && /this node's own address on eth0.*pick a free address/.test(e.message));
      await port.remove(vip);
      assert.ok(
        ip.addresses("eth0").some((a) => a.local === address && a.prefixlen === prefix),
        "the node's address is still there",
      );
      assert.ok(!ip.calls.some((c) => c.includes("del")), "no ip addr del was run");
    });
  }

  const batchPortFor = (ip: FakeIp) =>
    new IpVipPort({
      run: ip.runner((argv, code, stderr) => new CommandError(argv, code, undefined, stderr, { cause: new Error(stderr) })),
      sysctl: { read: () => Promise.resolve("1"), write: () => Promise.resolve() },
      batch: ip.batch((m) => new IpBatchError(m)),
    });

  it("IPv4 removal goes down the running ip -batch with k3vip's label, no read or fork first; the kernel's label match keeps the node's own address", async () => {
    const ip = node();
    const port = batchPortFor(ip);
    const vip = toVip("192.168.0.10", "eth0");
    await port.add(vip);
    ip.calls.length = 0;
    await port.remove(vip);
    assert.deepEqual(ip.calls, [["ip", "addr", "del", "192.168.0.10/32", "dev", "eth0", "label", "eth0:k3vip"]]);
    assert.equal(await port.held(vip), false);
    // Gone already (its lifetime ran out): nothing to do, no error.
    ip.calls.length = 0;
    await port.remove(vip);
    assert.equal(ip.calls.length, 1);
    // The node's own address equal to the VIP: the labelled delete matches nothing, the address stays.
    const own = toVip("192.168.0.5", "eth0");
    await port.remove(own);
    assert.ok(ip.addresses("eth0").some((a) => a.local === "192.168.0.5" && a.prefixlen === 24));
    // IPv6 has no label: the careful path (read, then delete only the marked copy).
    const v6 = toVip("fd00:1::10", "eth0");
    await port.add(v6);
    ip.calls.length = 0;
    await port.remove(v6);
    assert.deepEqual(
      ip.calls.map((c) => c.filter((w) => w !== "-6").slice(1, 3).join(" ")),
      ["-j addr", "addr del"],
    );
    await port.remove(toVip("fd00:1::5", "eth0"));
    assert.ok(ip.addresses("eth0").some((a) => a.local === "fd00:1::5"));
  });

  it("a /32 another program added (kube-vip) is neither claimed, replaced nor removed", async () => {
    const ip = node();
    ip.addresses("eth0").push({ family: "inet", local: "192.168.0.10", prefixlen: 32, scope: "global", label: "eth0" });
    const port = portFor(ip);
    const vip = toVip("192.168.0.10", "eth0");
    assert.equal(await port.held(vip), false);
    await assert.rejects(port.add(vip), /without k3vip's mark/);
    await port.remove(vip);
    assert.equal(ip.addresses("eth0").filter((a) => a.local === "192.168.0.10").length, 1);
  });

  it("its own copy carries the mark, and only that copy is removed", async () => {
    const ip = node();
    const port = portFor(ip);
    const vip = toVip("192.168.0.10", "eth0");
    await port.add(vip);
    const entry = ip.addresses("eth0").find((a) => a.local === "192.168.0.10");
    assert.deepEqual([entry?.prefixlen, entry?.label, entry?.noprefixroute], [32, "eth0:k3vip", true]);
    assert.equal(await port.held(vip), true);
    await port.remove(vip);
    assert.equal(await port.held(vip), false);
    assert.deepEqual(
      ip.addresses("eth0").map((a) => a.local),
      ["192.168.0.5", "fd00:1::5"],
    );
    const v6 = toVip("fd00:1::10", "eth0");
    await port.add(v6);
    assert.equal(await port.held(v6), true);
    await port.remove(v6);
    assert.deepEqual(
      ip.addresses("eth0").map((a) => a.local),
      ["192.168.0.5", "fd00:1::5"],
    );
  });
});
