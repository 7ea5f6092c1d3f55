import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { foreignVipProblem, interfaceForVip, isMarked, markText, parseIpAddrJson, vipCopies, vipLabel, type IpAddrInfo, type IpLink } from "./addresses.ts";

const link = (ifname: string, addr_info: IpAddrInfo[]): IpLink => ({ ifname, flags: ["BROADCAST", "UP"], addr_info });
const v4 = (local: string, prefixlen: number, more: Partial<IpAddrInfo> = {}): IpAddrInfo => ({ family: "inet", local, prefixlen, scope: "global", ...more });
const v6 = (local: string, prefixlen: number, more: Partial<IpAddrInfo> = {}): IpAddrInfo => ({ family: "inet6", local, prefixlen, scope: "global", ...more });

describe("k3vip's mark on its copy of the VIP", () => {
  it("labels IPv4 copies <if>:k3vip, shortened to fit 15 characters, none when the name leaves no room", () => {
    assert.equal(vipLabel("eth0"), "eth0:k3vip");
    assert.equal(vipLabel("enp0s31f6"), "enp0s31f6:k3vip");
    assert.equal(vipLabel("enp0s20f0u1"), "enp0s20f0u1:k3");
    assert.equal(vipLabel("abcdefghijkl"), "abcdefghijkl:k3");
    assert.equal(vipLabel("enx001122334455"), undefined);
    assert.equal(vipLabel("abcdefghijklm"), undefined);
  });
  it("IPv4: only /32 + noprefixroute + the label counts as ours", () => {
    assert.equal(isMarked(v4("10.0.0.9", 32, { noprefixroute: true, label: "eth0:k3vip" }), "eth0"), true);
    assert.equal(isMarked(v4("10.0.0.9", 32, { label: "eth0:k3vip" }), "eth0"), false, "no noprefixroute");
    assert.equal(isMarked(v4("10.0.0.9", 32, { noprefixroute: true, label: "eth0" }), "eth0"), false, "NetworkManager-style /32");
    assert.equal(isMarked(v4("10.0.0.9", 24, { noprefixroute: true, label: "eth0:k3vip" }), "eth0"), false, "a subnet prefix is never ours");
    assert.equal(isMarked(v4("10.0.0.9", 32, { noprefixroute: true }), "enx001122334455"), true, "no room for a label");
  });
  it("IPv6: only /128 + noprefixroute + preferred_lft 0 counts as ours", () => {
    assert.equal(isMarked(v6("fd00::9", 128, { noprefixroute: true, preferred_life_time: 0, deprecated: true }), "eth0"), true);
    assert.equal(isMarked(v6("fd00::9", 128, { noprefixroute: true, preferred_life_time: 3600 }), "eth0"), false);
    assert.equal(isMarked(v6("fd00::9", 64, { noprefixroute: true, preferred_life_time: 0 }), "eth0"), false);
    assert.equal(isMarked(v6("fd00::9", 128, { preferred_life_time: 0 }), "eth0"), false);
  });
  it("describes the mark for messages", () => {
    assert.equal(markText("eth0", 4), "/32 noprefixroute, label eth0:k3vip");
    assert.equal(markText("eth0", 6), "/128 noprefixroute, preferred_lft 0");
  });
});

describe("a VIP that is an address of this node", () => {
  const links = [
    { ifname: "lo", flags: ["LOOPBACK"], addr_info: [v4("127.0.0.1", 8, { scope: "host" })] },
    link("eth0", [v4("192.168.0.5", 24), v6("fd00:1::5", 64), v4("192.168.0.10", 32, { noprefixroute: true, label: "eth0:k3vip" })]),
    link("eth1", [v4("10.0.0.2", 8), v4("10.0.0.50", 32)]),
  ];
  it("refuses the node's own address with one actionable line, on any interface", () => {
    assert.equal(foreignVipProblem(links, "192.168.0.5"), "the VIP 192.168.0.5 is this node's own address on eth0 (192.168.0.5/24); pick a free address in the subnet");
    assert.match(foreignVipProblem(links, "fd00:1:0::5") ?? "", /fd00:1:0::5 is this node's own address on eth0 .*\/64/);
    assert.match(foreignVipProblem(links, "10.0.0.2", { ownOnly: true }) ?? "", /own address on eth1/);
  });
  it("names a host route another program added, unless only own addresses are asked for", () => {
    assert.match(foreignVipProblem(links, "10.0.0.50") ?? "", /on eth1 as \/32 without k3vip's mark \(\/32 noprefixroute, label eth1:k3vip\)/);
    assert.equal(foreignVipProblem(links, "10.0.0.50", { ownOnly: true }), undefined);
  });
  it("accepts k3vip's own copy and free addresses", () => {
    assert.equal(foreignVipProblem(links, "192.168.0.10"), undefined);
    assert.equal(foreignVipProblem(links, "192.168.0.11"), undefined);
    assert.deepEqual(
      vipCopies(links, "192.168.0.10").map((c) => [c.ifname, c.ours, c.own]),
      [["eth0", true, false]],
    );
  });
});

const IP_J = JSON.stringify([
  { ifindex: 1, ifname: "lo", flags: ["LOOPBACK", "UP"], addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host" }] },
  {
    ifindex: 2,
    ifname: "eth0",
    flags: ["BROADCAST", "UP"],
    addr_info: [
      { family: "inet", local: "192.168.1.5", prefixlen: 24, scope: "global" },
      { family: "inet", local: "192.168.1.10", prefixlen: 32, scope: "global" },
      { family: "inet6", local: "2001:db8::5", prefixlen: 64, scope: "global" },
      { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
    ],
  },
  {},
  { ifindex: 3, ifname: "eth1", flags: ["UP"], addr_info: [{ family: "inet", local: "10.0.0.2", prefixlen: 8, scope: "global" }] },
]);

describe("ip -j addr parsing", () => {
  it("keeps links and their addresses, skipping empty entries", () => {
    const links = parseIpAddrJson(IP_J);
    assert.deepEqual(
      links.map((l) => l.ifname),
      ["lo", "eth0", "eth1"],
    );
  });
  it("rejects text that is not ip's JSON, quoting its start", () => {
    assert.throws(() => parseIpAddrJson("2: eth0: <BROADCAST>"), /could not parse .*"2: eth0/);
  });
  it("finds the interface by subnet, ignoring loopback, host routes, link-local and the VIP itself", () => {
    const links = parseIpAddrJson(IP_J);
    assert.deepEqual(interfaceForVip(links, "192.168.1.10"), { name: "eth0", prefix: 24, ties: [] });
    assert.deepEqual(interfaceForVip(links, "10.9.9.9"), { name: "eth1", prefix: 8, ties: [] });
    assert.deepEqual(interfaceForVip(links, "2001:db8:0::10"), { name: "eth0", prefix: 64, ties: [] });
    assert.equal(interfaceForVip(links, "127.0.0.2"), undefined);
    assert.equal(interfaceForVip(links, "fe80::2"), undefined);
    assert.equal(interfaceForVip(links, "172.16.0.1"), undefined);
  });
});

describe("the interface rule: longest prefix wins, a tie is reported", () => {
  const links = [
    { ifname: "lo", flags: ["LOOPBACK", "UP"], addr_info: [v4("127.0.0.1", 8, { scope: "host" })] },
    link("br0", [v4("10.1.0.1", 16)]),
    link("eth0", [v4("10.1.2.5", 24), v4("10.1.2.10", 32, { noprefixroute: true, label: "eth0:k3vip" })]),
    link("eth1", [v4("172.16.0.5", 12)]),
    link("eth2", [v4("172.16.9.9", 12)]),
  ];
  it("the longest subnet holding the VIP wins, whatever the interface order", () => {
    assert.deepEqual(interfaceForVip(links, "10.1.2.10"), { name: "eth0", prefix: 24, ties: [] });
    assert.deepEqual(interfaceForVip([...links].reverse(), "10.1.2.10"), { name: "eth0", prefix: 24, ties: [] });
    assert.deepEqual(interfaceForVip(links, "10.1.9.9"), { name: "br0", prefix: 16, ties: [] });
  });
  it("two interfaces with the same best prefix are a tie", () => {
    assert.deepEqual(interfaceForVip(links, "172.16.0.10"), { name: "eth1", prefix: 12, ties: ["eth2"] });
  });
});
