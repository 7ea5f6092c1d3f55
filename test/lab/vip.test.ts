// The real VIP adapter (`ip`, arping, kernel NA) inside lab namespaces.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toVip, type VipPort } from "../../src/agent/index.ts";
import { createVipPort, findInterfaceForVip, VipError, type Runner } from "../../src/host/index.ts";
import { Lab, LAB_VIP4, LAB_VIP6, type LabNode } from "../../src/lab/netns/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("VIP adapter in a lab namespace", () => {
  let lab: Lab;
  let srv1: LabNode;
  let srv2: LabNode;
  let runIn: (n: LabNode) => Runner;
  let port1: VipPort;
  let port2: VipPort;
  const v4 = () => toVip(LAB_VIP4, "eth0");
  const v6 = () => toVip(LAB_VIP6, "eth0");

  before(async () => {
    lab = await Lab.create({ servers: 2 });
    srv1 = lab.servers[0]!;
    srv2 = lab.servers[1]!;
    runIn = (n) => (argv) => lab.exec(n.ns, argv, { timeoutMs: 10_000 });
    port1 = createVipPort({ run: runIn(srv1) });
    port2 = createVipPort({ run: runIn(srv2), arping: "busybox arping" });
  });
  after(async () => {
    await lab?.destroy();
  });

  async function mac(n: LabNode): Promise<string> {
    const [link] = JSON.parse((await lab.exec(n.ns, ["ip", "-j", "link", "show", "dev", "eth0"])).stdout) as { address: string }[];
    return link!.address;
  }
  async function clientNeigh(address: string): Promise<string | undefined> {
    const entries = JSON.parse((await lab.exec(lab.client.ns, ["ip", "-j", "neigh", "show", "to", address, "dev", "eth0"])).stdout) as { lladdr?: string }[];
    return entries[0]?.lladdr;
  }
  async function addrEntry(n: LabNode, address: string): Promise<Record<string, unknown> | undefined> {
    const [link] = JSON.parse((await lab.exec(n.ns, ["ip", "-j", "addr", "show", "dev", "eth0"])).stdout) as { addr_info: Record<string, unknown>[] }[];
    return link!.addr_info.find((a) => a.local === address);
  }

  it("finds the interface whose subnet holds the VIP", async () => {
    assert.deepEqual(await findInterfaceForVip(LAB_VIP4, { run: runIn(srv1) }), { name: "eth0", prefix: 24, ties: [] });
    assert.deepEqual(await findInterfaceForVip(LAB_VIP6, { run: runIn(srv1) }), { name: "eth0", prefix: 64, ties: [] });
    assert.equal(await findInterfaceForVip("198.19.0.10", { run: runIn(srv1) }), undefined);
  });

  it("adds an IPv4 VIP as /32, idempotently, and removes it", async () => {
    assert.equal(await port1.held(v4()), false);
    await port1.add(v4());
    await port1.add(v4());
    assert.equal(await port1.held(v4()), true);
    assert.equal((await addrEntry(srv1, LAB_VIP4))?.prefixlen, 32);
    await port1.remove(v4());
    await port1.remove(v4());
    assert.equal(await port1.held(v4()), false);
  });

  it("never replaces or removes a copy carrying a subnet prefix (that is the node's own address)", async () => {
    await lab.exec(srv1.ns, ["ip", "addr", "add", `${LAB_VIP4}/24`, "dev", "eth0"]);
    try {
      await assert.rejects(port1.add(v4()), /own address on eth0/);
      await port1.remove(v4());
      assert.equal((await addrEntry(srv1, LAB_VIP4))?.prefixlen, 24);
    } finally {
      await lab.exec(srv1.ns, ["ip", "addr", "del", `${LAB_VIP4}/24`, "dev", "eth0"]);
    }
  });

  it("keeps the node's own IPv4 and IPv6 source address after adding the VIP (kube-vip #682, #741)", async () => {
    await port1.add(v4());
    await port1.add(v6());
    try {
      // A default route via the client makes off-link destinations use route-less source selection too.
      await lab.exec(srv1.ns, ["ip", "route", "replace", "default", "via", lab.client.ipv4]);
      await lab.exec(srv1.ns, ["ip", "-6", "route", "replace", "default", "via", lab.client.ipv6]);
      for (const [dst, want] of [
        [lab.client.ipv4, srv1.ipv4],
        ["198.18.7.7", srv1.ipv4],
        [lab.client.ipv6, srv1.ipv6],
        ["fd00:6b33:1::7", srv1.ipv6],
      ] as const) {
        const [route] = JSON.parse((await lab.exec(srv1.ns, ["ip", "-j", "route", "get", dst])).stdout) as { prefsrc: string }[];
        assert.equal(route?.prefsrc, want, `source for ${dst}`);
      }
      // And real connections: the client's server sees srv1's own address.
      const seen: string[] = [];
      const server = lab.spawn(lab.client.ns, [
        process.execPath,
        "-e",
        "const s=require('net').createServer(c=>{console.log('FROM '+c.remoteAddress);c.end()});s.listen(7000,'::',()=>console.log('LISTENING'))",
      ], { onLine: (l) => l.startsWith("FROM ") && seen.push(l.slice(5)) });
      for (let i = 0; i < 100 && !server.output().includes("LISTENING"); i++) await sleep(20);
      for (const host of [lab.client.ipv4, lab.client.ipv6]) {
        await lab.exec(srv1.ns, [process.execPath, "-e", `require('net').connect(7000, ${JSON.stringify(host)}).on('close',()=>process.exit(0)).on('error',e=>{console.error(e);process.exit(1)})`]);
      }
      for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(20);
      assert.deepEqual(seen.map((s) => s.replace(/^::ffff:/, "")), [srv1.ipv4, srv1.ipv6]);
      await server.stop();
      // The IPv6 VIP is deprecated (never a source) but still answers.
      const e6 = await addrEntry(srv1, LAB_VIP6);
      assert.equal(e6?.prefixlen, 128);
      assert.equal(e6?.preferred_life_time, 0);
      await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "2", LAB_VIP6]);
      await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "2", LAB_VIP4]);
    } finally {
      await lab.exec(srv1.ns, ["ip", "route", "del", "default"]).catch(() => undefined);
      await lab.exec(srv1.ns, ["ip", "-6", "route", "del", "default"]).catch(() => undefined);
      await port1.remove(v4());
      await port1.remove(v6());
    }
  });

  it("moves the client's ARP entry with a gratuitous ARP burst (iputils and busybox arping)", async () => {
    const [mac1, mac2] = [await mac(srv1), await mac(srv2)];
    await port1.add(v4());
    await port1.announce(v4());
    assert.equal(await clientNeigh(LAB_VIP4), mac1, "client learned srv1 from GARP (arp_accept=1)");
    await port1.remove(v4());
    await port2.add(v4());
    await port2.announce(v4());
    assert.equal(await clientNeigh(LAB_VIP4), mac2, "client moved to srv2 (busybox arping)");
    await port2.remove(v4());
  });

  it("announces an IPv6 VIP by the kernel's unsolicited NA right after add, and restores accept_dad", async () => {
    const [mac1, mac2] = [await mac(srv1), await mac(srv2)];
    const lines: string[] = [];
    const tcpdump = await lab.tcpdump(lab.client.ns, "eth0", "icmp6 and ip6[40] == 136", (l) => lines.push(l));
    try {
      const delays: number[] = [];
      for (const [port, node, want] of [
        [port1, srv1, mac1],
        [port2, srv2, mac2],
      ] as const) {
        const t0 = Date.now();
        await port.add(v6());
        await port.announce(v6());
        for (let i = 0; i < 100 && !lines.some((l) => l.includes(`tgt is ${LAB_VIP6}`)); i++) await sleep(10);
        const na = lines.find((l) => l.includes(`tgt is ${LAB_VIP6}`));
        assert.ok(na, `unsolicited NA for the VIP from ${node.name}`);
        delays.push(Math.round(Number(na.split(" ")[0]) * 1000 - t0));
        lines.length = 0;
        assert.equal(await lab.readSysctl(node.ns, "net.ipv6.conf.eth0.accept_dad"), "1", "accept_dad restored");
        assert.equal(await lab.readSysctl(node.ns, "net.ipv6.conf.eth0.ndisc_notify"), "1");
        // The client now reaches the VIP at this node (override flag replaced any old entry).
        await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "2", LAB_VIP6]);
        assert.equal(await clientNeigh(LAB_VIP6), want);
        await port.remove(v6());
      }
      console.log(`# IPv6 unsolicited NA after add (ms): ${delays.join(", ")}`);
    } finally {
      await tcpdump.stop();
    }
  });

  it("refuses to announce a VIP it does not hold, and names a missing interface", async () => {
    await assert.rejects(port1.announce(v4()), VipError);
    await assert.rejects(port1.add(toVip(LAB_VIP4, "nope0")), (e: Error) => e instanceof VipError && /nope0.*--interface/.test(e.message));
  });

  it("reports a failed `ip` with argv, exit code and stderr", async () => {
    const bad = createVipPort({ run: runIn(srv1) });
    // 198.18.0.0/24 host part 0 as /32 on lo works; an IPv6 VIP on a link with IPv6 disabled fails.
    await lab.sysctl(srv1.ns, "net.ipv6.conf.eth0.disable_ipv6", "1");
    try {
      await assert.rejects(bad.add(v6()), (e: Error & { argv?: string[]; exitCode?: number }) => {
        assert.match(e.message, /ip -6 addr add fd00:6b33::10\/128 dev eth0/);
        assert.equal(typeof e.exitCode, "number");
        return true;
      });
    } finally {
      await lab.sysctl(srv1.ns, "net.ipv6.conf.eth0.disable_ipv6", "0");
    }
  });
});
