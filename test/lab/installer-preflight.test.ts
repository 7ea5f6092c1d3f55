// The real host probes: duplicate-address detection with arping -D (IPv4) and
// ndisc6 (IPv6) inside two network namespaces this test creates, interface
// listing there, and the API certificate / port checks against loopback.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createTlsServer, type Server } from "node:tls";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config/index.ts";
import { layoutFor } from "../../src/installer/index.ts";
import { RealHostProbe, run } from "../../src/host/index.ts";
import { runPreflight } from "../../src/installer/preflight/checks.ts";
import { FakeChecker } from "../../src/installer/testing/fakes.ts";
import { TestPki } from "../../src/installer/testing/pki.ts";
import { freePort } from "../../src/installer/testing/daemons.ts";

const id = `k3v-${process.pid}-${randomBytes(2).toString("hex")}`;
const A = `${id}-a`;
const B = `${id}-b`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
let macB = "";

function cleanup(): void {
  for (const ns of [A, B]) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      /* not there */
    }
  }
}
process.once("SIGINT", () => {
  cleanup();
  process.exit(130);
});

before(() => {
  ip("netns", "add", A);
  ip("netns", "add", B);
  // One veth pair straight between the two namespaces: nothing on the host.
  ip("-n", A, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", B);
  for (const [ns, v4, v6] of [[A, "198.18.0.2/24", "fd00:6b33::2/64"], [B, "198.18.0.3/24", "fd00:6b33::3/64"]] as const) {
    ip("-n", ns, "addr", "add", v4, "dev", "eth0");
    ip("-n", ns, "addr", "add", v6, "dev", "eth0", "nodad");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", "eth0", "up");
  }
  // B holds the "VIP" someone else already uses.
  ip("-n", B, "addr", "add", "198.18.0.10/32", "dev", "eth0");
  ip("-n", B, "addr", "add", "fd00:6b33::10/128", "dev", "eth0", "nodad");
  macB = (JSON.parse(ip("-n", B, "-j", "link", "show", "eth0")) as { address: string }[])[0]?.address ?? "";
});
after(cleanup);

describe("real host probes in a network namespace", () => {
  const probe = () => new RealHostProbe({ run: (argv) => run(["ip", "netns", "exec", A, ...argv], { timeoutMs: 8000 }), timeoutMs: 8000 });

  it("lists the namespace's interfaces from ip -j", async () => {
    const ifs = await probe().interfaces();
    const eth0 = ifs.find((i) => i.ifname === "eth0");
    assert.ok(eth0?.flags?.includes("UP"));
    assert.deepEqual(
      eth0?.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
      ["198.18.0.2/24"],
    );
  });

  it("arping -D finds an IPv4 address in use, with the MAC that answered, and a free one", async () => {
    assert.deepEqual(await probe().duplicateAddress("eth0", "198.18.0.10"), { inUse: true, by: macB.toLowerCase() });
    assert.deepEqual(await probe().duplicateAddress("eth0", "198.18.0.20"), { inUse: false });
    await assert.rejects(probe().duplicateAddress("nope0", "198.18.0.20"), /arping -D .*-I nope0 198\.18\.0\.20/);
  });

  it("ndisc6 finds an IPv6 address in use, and a free one", async () => {
    const used = await probe().duplicateAddress("eth0", "fd00:6b33::10");
    assert.equal(used.inUse, true);
    assert.equal(used.by?.toLowerCase(), macB.toLowerCase());
    assert.deepEqual(await probe().duplicateAddress("eth0", "fd00:6b33::20"), { inUse: false });
  });

  it("preflight: VIP in use fails with the MAC; a free VIP inside the subnet passes", async () => {
    const run = async (vip: string) => {
      const config = resolveConfig({ scope: "install", version: "0.1.0", flags: { vip, interface: "eth0", "metrics-addr": `127.0.0.1:${await freePort()}` } });
      const checks = await runPreflight({ config, layout: layoutFor("k3s"), detection: { distro: "k3s", reason: "test", found: false }, rootGiven: false, join: false, migrate: false, host: probe(), checker: new FakeChecker(), found: [], configs: [] });
      return Object.fromEntries(checks.map((c) => [c.id, c]));
    };
    const used = await run("198.18.0.10");
    assert.equal(used["vip-free"]?.status, "fail");
    assert.match(used["vip-free"]?.detail ?? "", new RegExp(`198\\.18\\.0\\.10 is already used on eth0 \\(${macB}\\)`, "i"));
    const free = await run("198.18.0.20");
    assert.equal(free["vip-free"]?.status, "ok");
    assert.equal(free["vip-subnet"]?.status, "ok");
    assert.equal(free.interface?.detail, "eth0 is up");
  });
});

describe("real loopback probes: API certificate and ports", () => {
  let pki: TestPki;
  let server: Server;
  let port = 0;
  before(async () => {
    pki = new TestPki("k3s-server-ca");
    const leaf = pki.leaf("k3s", ["DNS:kubernetes", "IP:127.0.0.1", "IP:2001:db8::10"], "server");
    server = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it("reads the serving certificate's SANs and compares the VIP (IPv6 normalised)", async () => {
    const host = new RealHostProbe();
    assert.match((await host.servingCertSans("127.0.0.1", port)) ?? "", /IP Address:127\.0\.0\.1/);
    const check = async (vip: string) => {
      const config = resolveConfig({ scope: "install", version: "0.1.0", flags: { vip, "api-port": String(port), "metrics-addr": `127.0.0.1:${await freePort()}` } });
      const cs = await runPreflight({ config, layout: layoutFor("k3s", "", port), detection: { distro: "k3s", reason: "t", found: true }, rootGiven: false, join: false, migrate: false, host, checker: new FakeChecker(), found: [], configs: [] });
      return Object.fromEntries(cs.map((c) => [c.id, c]));
    };
    const has = await check("2001:db8:0::10");
    assert.equal(has["serving-cert"]?.status, "ok");
    assert.equal(has[`port-${port}`]?.status, "ok");
    const lacks = await check("192.168.0.10");
    assert.equal(lacks["serving-cert"]?.status, "warn");
    assert.match(lacks["serving-cert"]?.detail ?? "", /lacks 192\.168\.0\.10/);
  });

  it("port checks: a listening port is reachable and not free; a closed one the reverse", async () => {
    const host = new RealHostProbe();
    assert.equal(await host.tcpReachable("127.0.0.1", port), true);
    assert.equal(await host.portFree("127.0.0.1", port), false);
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await host.tcpReachable("127.0.0.1", port), false);
    assert.equal(await host.portFree("127.0.0.1", port), true);
    assert.equal(await host.servingCertSans("127.0.0.1", port), undefined);
  });
});
