// install.sh against k3vip's own resolve + render: same inputs, same bytes
// (or the same one-line usage message), under dash, dash+mawk and busybox sh.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaultImageRef, hostArch } from "../src/image/index.ts";
import { standInArchive } from "../src/image/testing/archive.ts";
import { placedArchiveName, renderSysctlFile, vipSysctls } from "../src/installer/index.ts";
import { keyFromToken } from "../src/installer/heartbeat-key.ts";
import { ADDON_FILENAME } from "../src/render/index.ts";
import { VERSION } from "../src/version.ts";
import { fakeCommand, INSTALL_SH, k3vip, runInstallSh, runners, scratchDir, shMessage, TEST_HEARTBEAT_KEY, type Inputs } from "./testing/install-sh.ts";

const RUNNERS = runners();
const V4 = { vip: "192.168.0.10", interface: "eth0" };
const PEERS4 = "192.168.0.1:65001::false,192.168.0.2:65002:s3cr3t:true";

/** ≥ 20 option combinations, via flags, K3VIP_* variables and kube-vip's names. */
const COMBOS: [string, Inputs][] = [
  ["issue example (kube-vip names)", { env: { vipAddress: "192.168.0.10", vipInterface: "ens192" } }],
  ["flags only", { flags: { vip: "192.168.0.10", interface: "ens192" } }],
  ["K3VIP_* only", { env: { K3VIP_VIP: "10.0.0.5", K3VIP_INTERFACE: "eth1" } }],
  ["flags beat K3VIP_* beat aliases", { env: { vipAddress: "10.0.0.1", K3VIP_VIP: "10.0.0.2", vipInterface: "a0", K3VIP_INTERFACE: "b0" }, flags: { vip: "10.0.0.3" } }],
  ["IPv6 VIP", { flags: { vip: "2001:db8::10", interface: "eth0" } }],
  ["IPv6 VIP with embedded IPv4 and upper case", { flags: { vip: "2001:DB8::192.168.0.10", interface: "eth0", "vip-subnet": "64" } }],
  ["rke2", { flags: { ...V4, distro: "rke2" } }],
  ["custom image and pull policy", { flags: { ...V4, image: "registry.local:5000/k3vip/k3vip:dev-1", "image-pull-policy": "Always" } }],
  ["image by digest", { flags: { ...V4, image: `ghcr.io/k3vip/k3vip@sha256:${"ab".repeat(32)}`, "image-pull-policy": "Never" } }],
  ["fenced takeover", { flags: { ...V4, takeover: "fenced", "heartbeat-port": "0" } }],
  ["the shortest lease that carries the kernel lifetime", { flags: { ...V4, "lease-duration": "3", "renew-deadline": "2", "retry-period": "1" } }],
  ["lease timings normalised like JS numbers", { flags: { ...V4, "lease-duration": "015", "renew-deadline": "10.500", "retry-period": "2.0" } }],
  ["sub-second timings", { env: { ...k3(V4), K3VIP_LEASE_DURATION: "3", K3VIP_RENEW_DEADLINE: "2.5", K3VIP_RETRY_PERIOD: "0.25", K3VIP_ARP_REFRESH: "0.5" } }],
  ["namespace and lease name", { flags: { ...V4, namespace: "k3vip-system", "lease-name": "plndr-cp-lock.v2" } }],
  ["metrics on a host", { flags: { ...V4, "metrics-addr": "192.168.0.11:9100" } }],
  ["metrics on IPv6 loopback", { flags: { ...V4, "metrics-addr": "[::1]:02112" } }],
  ["metrics on 0.0.0.0 (no probe host)", { flags: { ...V4, "metrics-addr": "0.0.0.0:2112" } }],
  ["metrics on [::] (no probe host)", { flags: { ...V4, "metrics-addr": "[0:0::0]:2112" } }],
  ["API port, VIP subnet, log format", { flags: { ...V4, "api-port": "06443", "vip-subnet": "24", "log-format": "json" } }],
  ["kube-vip names for an IPv6 VIP with a subnet", { env: { vipAddress: "fd00:6b33::10", vipInterface: "eth0", K3VIP_VIP_SUBNET: "64", K3VIP_NAMESPACE: "k3vip" } }],
];

function k3(o: { vip: string; interface: string }): Record<string, string> {
  return { K3VIP_VIP: o.vip, K3VIP_INTERFACE: o.interface };
}

/** Features this version's agent does not run: both tools refuse them with the same line (hardening #11 item 5). */
const NOT_YET: [string, Inputs][] = [
  ["BGP IPv4", { flags: { ...V4, mode: "bgp", "bgp-as": "65000", "bgp-router-id": "192.168.0.3", "bgp-peers": PEERS4 } }],
  ["BGP IPv6 peers, source, TTL, quotes and backslash in password", { flags: { vip: "2001:db8::10", interface: "eth0", mode: "bgp", "bgp-as": "0065000", "bgp-peers": ' [2001:db8::1]:65001:p"w\\x:3:[2001:db8::2] , 10.0.0.1:4294967295::true:10.0.0.2' } }],
  ["BGP ECMP without leader election", { env: { ...k3(V4), K3VIP_MODE: "bgp", K3VIP_BGP_AS: "65000", K3VIP_BGP_PEERS: "10.0.0.1:65001", K3VIP_LEADER_ELECTION: "no" } }],
  ["Equinix Metal needs no peers", { flags: { ...V4, mode: "bgp", "equinix-metal": "TRUE" } }],
  ["services mode", { flags: { ...V4, services: "on", "services-pools": "192.168.0.200/29, 192.168.0.220-192.168.0.230,fd00::/120" } }],
  ["control plane off, services on", { flags: { ...V4, "control-plane": "0", services: "yes", "services-pools": "10.1.0.0/24" } }],
  ["everything at once (rke2, v6, bgp, services)", { env: { K3VIP_DISTRO: "rke2", K3VIP_NAMESPACE: "infra", K3VIP_IMAGE: "example.org/k3vip:1.2.3" }, flags: { vip: "fd00:6b33::10", interface: "br0.100", mode: "bgp", "bgp-as": "64512", "bgp-peers": "[fd00:6b33::1]:64513", services: "true", "services-pools": "fd00:6b33::100-fd00:6b33::1ff", "metrics-addr": "[fd00:6b33::10]:2112", "leader-election": "false" } }],
  ["BGP options without BGP mode", { flags: { ...V4, "bgp-as": "65000" } }],
  ["a pool without services mode", { env: { ...k3(V4), K3VIP_SERVICES_POOLS: "10.1.0.0/24" } }],
];

describe("install.sh --print = k3vip manifest, byte for byte", () => {
  assert.ok(COMBOS.length >= 18);
  for (const [name, inputs] of COMBOS) {
    const want = k3vip(inputs);
    for (const r of RUNNERS) {
      it(`${name} [${r.name}]`, () => {
        assert.ok(want.ok, `k3vip refused: ${want.ok ? "" : want.message}`);
        // Interface detection is tested below; here it must not kick in.
        const noIp = fakeCommand("ip", "exit 1");
        const got = runInstallSh(r, inputs, ["--print"], [noIp]);
        assert.equal(got.stderr, "");
        assert.equal(got.status, 0);
        assert.equal(got.stdout, want.out);
      });
    }
  }

  for (const [name, inputs] of NOT_YET) {
    const want = k3vip(inputs);
    for (const r of RUNNERS) {
      it(`not in this version: ${name} [${r.name}]`, () => {
        assert.ok(!want.ok && / is not supported in this version: /.test(want.message), want.ok ? "k3vip accepted it" : want.message);
        const got = runInstallSh(r, inputs, ["--print"], [fakeCommand("ip", "exit 1")]);
        assert.equal(got.status, 2);
        assert.equal(got.stdout, "");
        assert.equal(shMessage(got.stderr), want.message);
      });
    }
  }

  it("the issue's example through the real CLI: `k3vip manifest` and `sh install.sh --print`", () => {
    const cli = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "manifest", "--vip", "192.168.0.10", "--interface", "ens192"], {
      encoding: "utf8",
      cwd: join(import.meta.dirname, ".."),
      env: { PATH: process.env.PATH ?? "", K3VIP_HEARTBEAT_KEY: TEST_HEARTBEAT_KEY },
    });
    assert.equal(cli.status, 0, cli.stderr);
    for (const shell of ["sh", "dash", "busybox"]) {
      const sh = spawnSync(shell, [...(shell === "busybox" ? ["sh"] : []), INSTALL_SH, "--print"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", vipAddress: "192.168.0.10", vipInterface: "ens192", K3VIP_HEARTBEAT_KEY: TEST_HEARTBEAT_KEY },
      });
      assert.equal(sh.status, 0, sh.stderr);
      assert.equal(sh.stdout, cli.stdout, shell);
    }
  });

  it("reads the script from stdin (curl | sh) and `sh -s -- --flags`", () => {
    const script = readFileSync(INSTALL_SH);
    const want = k3vip({ flags: { vip: "192.168.0.10", interface: "eth0" } });
    assert.ok(want.ok);
    for (const [cmd, args, env] of [
      ["dash", [], { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_PRINT: "1" }],
      ["dash", ["-s", "--", "--vip", "192.168.0.10", "--interface=eth0", "--print"], {}],
      ["busybox", ["sh", "-s", "-", "--print", "--vip=192.168.0.10", "--interface", "eth0"], {}],
    ] as const) {
      const res = spawnSync(cmd, args, { input: script, encoding: "utf8", env: { PATH: process.env.PATH ?? "", K3VIP_HEARTBEAT_KEY: TEST_HEARTBEAT_KEY, ...env } });
      assert.equal(res.status, 0, res.stderr);
      assert.equal(res.stdout, want.out);
    }
  });
});

/** Bad inputs from the issue, plus the edges of every parser. */
const BAD: [string, Inputs][] = [
  ["invalid IPv4", { flags: { vip: "300.1.1.1" } }],
  ["IPv4 with a leading zero", { env: { vipAddress: "192.168.0.010" } }],
  ["three-part IPv4", { flags: { vip: "10.1.1" } }],
  ["hostname", { flags: { vip: "example.com" } }],
  ["invalid IPv6", { flags: { vip: "2001:db8:::1" } }],
  ["IPv6 with two ::", { flags: { vip: "2001::db8::1" } }],
  ["IPv6 with 9 groups", { flags: { vip: "1:2:3:4:5:6:7:8:9" } }],
  ["IPv6 group of 5 digits", { flags: { vip: "2001:db8::12345" } }],
  ["IPv6 with a zone", { flags: { vip: "fe80::1%eth0" } }],
  ["multicast", { env: { vipAddress: "224.0.0.5" } }],
  ["IPv6 multicast", { flags: { vip: "ff02::1" } }],
  ["loopback", { flags: { vip: "127.0.0.1" } }],
  ["IPv6 loopback", { flags: { vip: "::1" } }],
  ["unspecified", { flags: { vip: "0.0.0.0" } }],
  ["IPv6 unspecified", { flags: { vip: "::" } }],
  ["link-local", { flags: { vip: "169.254.10.1" } }],
  ["IPv6 link-local", { flags: { vip: "fe80::1" } }],
  ["limited broadcast", { flags: { vip: "255.255.255.255" } }],
  ["IPv4-mapped IPv6", { flags: { vip: "::ffff:192.168.0.10" } }],
  ["network address", { flags: { vip: "192.168.0.0", "vip-subnet": "24" } }],
  ["broadcast address", { flags: { vip: "192.168.0.255", "vip-subnet": "24" } }],
  ["broadcast of a /20", { flags: { vip: "10.0.15.255", "vip-subnet": "20" } }],
  ["IPv6 network address", { flags: { vip: "2001:db8:0:0:1::", "vip-subnet": "80" } }],
  ["IPv6 subnet longer than 32 for v4", { flags: { vip: "192.168.0.10", "vip-subnet": "33" } }],
  ["CIDR where an address is expected", { flags: { vip: "192.168.0.10/24" } }],
  ["interface name too long", { flags: { vip: "192.168.0.10", interface: "this-name-is-too-long" } }],
  ["interface name with a slash", { env: { vipAddress: "192.168.0.10", vipInterface: "eth0/1" } }],
  ["interface ..", { flags: { vip: "192.168.0.10", interface: ".." } }],
  ["BGP without AS", { flags: { vip: "192.168.0.10", mode: "bgp" } }],
  ["BGP without peers", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000" } }],
  ["BGP peer without AS", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "10.0.0.1" } }],
  ["BGP peer with bad address", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "10.0.0.300:65001" } }],
  ["BGP peer unclosed [", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "[2001:db8::1:65001" } }],
  ["BGP peer junk after ]", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "[2001:db8::1]x:65001" } }],
  ["BGP peer bad multihop", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "10.0.0.1:65001::256" } }],
  ["BGP peer bad source", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "10.0.0.1:65001::1:nope" } }],
  ["BGP AS too big", { flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "4294967296" } }],
  ["BGP router ID not IPv4", { flags: { vip: "192.168.0.10", "bgp-router-id": "2001:db8::1" } }],
  ["renew deadline = lease duration", { flags: { vip: "192.168.0.10", "renew-deadline": "6" } }],
  ["renew deadline > lease duration", { env: { K3VIP_VIP: "192.168.0.10", K3VIP_LEASE_DURATION: "5", K3VIP_RENEW_DEADLINE: "8" } }],
  ["retry period too long for the renew deadline", { flags: { vip: "192.168.0.10", "retry-period": "3.5" } }],
  ["retry period limit with decimals", { flags: { vip: "192.168.0.10", "lease-duration": "10", "renew-deadline": "5", "retry-period": "4.2" } }],
  ["fractional lease duration", { flags: { vip: "192.168.0.10", "lease-duration": "6.5" } }],
  ["a heartbeat key under 16 bytes (masked in the message)", { flags: { vip: "192.168.0.10", "heartbeat-key": "00112233445566778899aabbccddee" } }],
  ["a heartbeat key with a space at its edge", { env: { K3VIP_VIP: "192.168.0.10", K3VIP_HEARTBEAT_KEY: " AAECAwQFBgcICQoLDA0ODw==" } }],
  ["lease too short for the kernel lifetime between renews", { flags: { vip: "192.168.0.10", "lease-duration": "3", "renew-deadline": "2.5", "retry-period": "1.5" } }],
  ["lease short for the kernel lifetime, by a millisecond", { flags: { vip: "192.168.0.10", "lease-duration": "3", "renew-deadline": "2", "retry-period": "1.001" } }],
  ["seconds with 4 decimals", { flags: { vip: "192.168.0.10", "retry-period": "1.2345" } }],
  ["seconds out of range", { flags: { vip: "192.168.0.10", "arp-refresh": "0.05" } }],
  ["negative seconds", { flags: { vip: "192.168.0.10", "arp-refresh": "-1" } }],
  ["unknown distro", { flags: { vip: "192.168.0.10", distro: "k8s" } }],
  ["unknown mode", { env: { K3VIP_VIP: "192.168.0.10", K3VIP_MODE: "ARP" } }],
  ["bad pull policy", { flags: { vip: "192.168.0.10", "image-pull-policy": "always" } }],
  ["bad image", { flags: { vip: "192.168.0.10", image: "Ghcr.io/K3vip" } }],
  ["bad namespace", { flags: { vip: "192.168.0.10", namespace: "Kube_System" } }],
  ["bad lease name", { flags: { vip: "192.168.0.10", "lease-name": "-lease" } }],
  ["bad metrics address", { flags: { vip: "192.168.0.10", "metrics-addr": "2112" } }],
  ["metrics port 0", { flags: { vip: "192.168.0.10", "metrics-addr": ":0" } }],
  ["metrics host not an IP", { flags: { vip: "192.168.0.10", "metrics-addr": "1.2.3:2112" } }],
  ["API port out of range", { flags: { vip: "192.168.0.10", "api-port": "65536" } }],
  ["not a boolean", { flags: { vip: "192.168.0.10", services: "maybe" } }],
  ["services without pools", { flags: { vip: "192.168.0.10", services: "true" } }],
  ["pool range reversed", { flags: { vip: "192.168.0.10", services: "true", "services-pools": "10.0.0.9-10.0.0.1" } }],
  ["pool range mixing families", { flags: { vip: "192.168.0.10", services: "true", "services-pools": "10.0.0.1-fd00::1" } }],
  ["pool not a CIDR", { flags: { vip: "192.168.0.10", services: "true", "services-pools": "10.0.0.0/33" } }],
  ["ARP without leader election", { flags: { vip: "192.168.0.10", "leader-election": "false" } }],
  ["VIP missing", { env: { vipInterface: "eth0" } }],
  ["alias blamed when it is the source", { env: { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_MODE: "bgp" } }],
  ["control character in a value", { flags: { vip: "192.168.0.10\t" } }],
];

describe("bad input: exit 2, one line naming option, value and what is valid, nothing written", () => {
  for (const [name, inputs] of BAD) {
    const want = k3vip(inputs);
    for (const r of RUNNERS) {
      it(`${name} [${r.name}]`, () => {
        assert.ok(!want.ok, "k3vip accepted it");
        const root = scratchDir();
        const got = runInstallSh(r, inputs, ["--root", root]);
        assert.equal(got.status, 2, got.stderr);
        assert.equal(got.stdout, "");
        assert.equal(got.stderr.split("\n").filter(Boolean).length, 1, got.stderr);
        assert.equal(shMessage(got.stderr), want.message);
        assert.deepEqual(readdirSync(root), []);
      });
    }
  }

  for (const r of RUNNERS) {
    it(`unknown option, missing value, stray argument [${r.name}]`, () => {
      for (const [args, re] of [
        [["--vip", "192.168.0.10", "--no-such-option", "x"], /unknown option '--no-such-option'/],
        [["--vip"], /option '--vip' needs a value/],
        [["--vip", "192.168.0.10", "eth0"], /unexpected argument 'eth0'/],
      ] as const) {
        const root = scratchDir();
        const got = runInstallSh(r, {}, ["--root", root, ...args]);
        assert.equal(got.status, 2);
        assert.match(got.stderr, re);
        assert.equal(got.stderr.split("\n").filter(Boolean).length, 1);
        assert.deepEqual(readdirSync(root), []);
      }
    });
  }
});

describe("install.sh writes", () => {
  for (const r of RUNNERS) {
    it(`the manifest atomically under --root for k3s and rke2, messages on stderr only [${r.name}]`, () => {
      for (const distro of ["k3s", "rke2"]) {
        const root = scratchDir();
        const inputs = { env: { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_DISTRO: distro } };
        const want = k3vip(inputs);
        assert.ok(want.ok);
        const got = runInstallSh(r, inputs, ["--root", `${root}/`]);
        assert.equal(got.status, 0, got.stderr);
        assert.equal(got.stdout, "");
        assert.match(got.stderr, /^\[INFO\] {2}Wrote .*k3vip\.yaml/);
        const dir = join(root, "var/lib/rancher", distro, "server/manifests");
        assert.deepEqual(readdirSync(dir), [ADDON_FILENAME], "no temp file left");
        assert.equal(readFileSync(join(dir, ADDON_FILENAME), "utf8"), want.out);
        // The file holds the Secret with BGP passwords: not world-readable.
        assert.equal(statSync(join(dir, ADDON_FILENAME)).mode & 0o077, 0);
        // Re-running replaces it in place.
        const again = runInstallSh(r, { env: { ...inputs.env, K3VIP_ROOT: root, K3VIP_NAMESPACE: "other" } }, []);
        assert.equal(again.status, 0, again.stderr);
        assert.deepEqual(readdirSync(dir), [ADDON_FILENAME]);
        assert.match(readFileSync(join(dir, ADDON_FILENAME), "utf8"), /namespace: "other"/);
      }
    });

    it(`the heartbeat key as k3vip install finds it: from the token file, else kept, else random with a warning [${r.name}]`, () => {
      const base = { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_HEARTBEAT_KEY: "" };
      const manifest = (root: string) => readFileSync(join(root, "var/lib/rancher/k3s/server/manifests", ADDON_FILENAME), "utf8");
      // No token: random (64 hex digits), a warning; a re-run keeps it.
      const root = scratchDir();
      const first = runInstallSh(r, { env: base }, ["--root", root]);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stderr, /\[WARN\] {2}made a random heartbeat key: no cluster token was found/);
      const random = /^ {2}K3VIP_HEARTBEAT_KEY: "([0-9a-f]{64})"$/m.exec(manifest(root))?.[1] ?? "";
      assert.equal(manifest(root), (k3vip({ env: { ...base, K3VIP_HEARTBEAT_KEY: random } }) as { out: string }).out);
      const again = runInstallSh(r, { env: base }, ["--root", root]);
      assert.equal(again.status, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /random heartbeat key/);
      assert.equal(manifest(root), (k3vip({ env: { ...base, K3VIP_HEARTBEAT_KEY: random } }) as { out: string }).out);
      // The distribution's token (full form) now exists: the key k3vip install derives (keyFromToken), the same bytes.
      writeFileSync(join(root, "var/lib/rancher/k3s/server/token"), "K10deadbeef::server:Cl0sterT0ken\n");
      const derived = runInstallSh(r, { env: base }, ["--root", root]);
      assert.equal(derived.status, 0, derived.stderr);
      assert.equal(manifest(root), (k3vip({ env: { ...base, K3VIP_HEARTBEAT_KEY: keyFromToken("Cl0sterT0ken") } }) as { out: string }).out);
      assert.ok(!derived.stderr.includes(keyFromToken("Cl0sterT0ken")) && !derived.stderr.includes("Cl0sterT0ken"), "neither the key nor the token is printed");
    });

    it(`an IPv6 VIP: /etc/sysctl.d/90-k3vip.conf (0644), the same bytes as k3vip install; none for IPv4 [${r.name}]`, () => {
      for (const iface of ["eth0", "eth0.100"]) {
        const root = scratchDir();
        const got = runInstallSh(r, { env: { vipAddress: "fd00:6b33::10", vipInterface: iface } }, ["--root", root]);
        assert.equal(got.status, 0, got.stderr);
        assert.match(got.stderr, /Wrote .*\/etc\/sysctl\.d\/90-k3vip\.conf \(net[./]ipv6[./]conf[./]eth0(\.100)?[./]ndisc_notify = 1\); the node applies it at boot/);
        const dir = join(root, "etc/sysctl.d");
        assert.deepEqual(readdirSync(dir), ["90-k3vip.conf"], "no temp file left");
        assert.equal(readFileSync(join(dir, "90-k3vip.conf"), "utf8"), renderSysctlFile(vipSysctls({ vip: "fd00:6b33::10", mode: "arp" }, iface)));
        assert.equal(statSync(join(dir, "90-k3vip.conf")).mode & 0o777, 0o644);
      }
      for (const env of [
        { vipAddress: "192.168.0.10", vipInterface: "eth0" },
      ]) {
        const root = scratchDir();
        const got = runInstallSh(r, { env }, ["--root", root]);
        assert.equal(got.status, 0, got.stderr);
        assert.deepEqual(readdirSync(root), ["var"], "no etc/sysctl.d");
      }
    });

    it(`a dir it cannot create: exit 1, says what failed and what to do [${r.name}]`, () => {
      const root = scratchDir();
      writeFileSync(join(root, "var"), "a file where a dir should be");
      const got = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0" } }, ["--root", root]);
      assert.equal(got.status, 1);
      assert.match(got.stderr, /^\[ERROR\] {2}cannot create .*\/var\/lib\/rancher\/k3s\/server\/manifests; nothing was written; run as root, or use --print/);
      assert.deepEqual(readdirSync(root), ["var"]);
    });

    it(`--print and K3VIP_PRINT=1 write nothing [${r.name}]`, () => {
      const root = scratchDir();
      for (const [env, args] of [
        [{ K3VIP_ROOT: root, K3VIP_PRINT: "1" }, []],
        [{ K3VIP_ROOT: root }, ["--print"]],
      ] as const) {
        const got = runInstallSh(r, { env: { ...env, vipAddress: "10.0.0.5", vipInterface: "eth0" } }, [...args]);
        assert.equal(got.status, 0, got.stderr);
        assert.match(got.stdout, /kind: DaemonSet/);
        assert.deepEqual(readdirSync(root), []);
      }
    });

    it(`places a local image archive atomically (K3VIP_IMAGE_ARCHIVE hook) [${r.name}]`, () => {
      const root = scratchDir();
      const archive = join(scratchDir(), "k3vip-image-amd64.tar");
      const bytes = standInArchive(defaultImageRef());
      writeFileSync(archive, bytes);
      const got = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: archive, K3VIP_DISTRO: "rke2" } }, ["--root", root, "--arch", "aarch64"]);
      assert.equal(got.status, 0, got.stderr);
      const dir = join(root, "var/lib/rancher/rke2/agent/images");
      // The name `k3vip install` gives the same arch's archive, so each tool replaces the other's copy.
      assert.deepEqual(readdirSync(dir), [placedArchiveName("arm64", VERSION)]);
      assert.deepEqual(readFileSync(join(dir, placedArchiveName("arm64", VERSION))), bytes);
      // Default arch: this machine's (uname -m), compression suffix kept.
      const root2 = scratchDir();
      const zst = join(scratchDir(), "mine.tar.zst");
      writeFileSync(zst, execFileSync("zstd", ["-q", "-c"], { input: bytes }));
      const got2 = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: zst } }, ["--root", root2]);
      assert.equal(got2.status, 0, got2.stderr);
      assert.deepEqual(readdirSync(join(root2, "var/lib/rancher/k3s/agent/images")), [placedArchiveName(hostArch(), VERSION, ".tar.zst")]);
      const badArch = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: archive, K3VIP_ARCH: "riscv64" } }, ["--root", root2]);
      assert.equal(badArch.status, 2);
      assert.match(badArch.stderr, /K3VIP_ARCH "riscv64" is not an architecture \(valid: amd64, arm64, arm\)/);
      const badName = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: join(root2, "x.img") } }, ["--root", root2]);
      assert.equal(badName.status, 2);
      assert.match(badName.stderr, /is not a \.tar, \.tar\.gz or \.tar\.zst file/);
      const missing = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: "/nonexistent.tar" } }, ["--root", scratchDir()]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /K3VIP_IMAGE_ARCHIVE "\/nonexistent.tar" is not a file/);
      // Not an image archive, or one of another image: refused, nothing written (as k3vip install does).
      const root3 = scratchDir();
      const junk = join(scratchDir(), "junk.tar");
      writeFileSync(junk, "root:x:0:0\n");
      const notTar = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: junk } }, ["--root", root3]);
      assert.equal(notTar.status, 1);
      assert.match(notTar.stderr, /junk\.tar is not an image archive .*nothing was written/);
      const other = join(scratchDir(), "other.tar");
      writeFileSync(other, standInArchive("docker.io/library/nginx:1.27"));
      const wrong = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: other } }, ["--root", root3]);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /other\.tar does not hold the DaemonSet's image ghcr\.io\/k3vip\/k3vip:v/);
      assert.deepEqual(readdirSync(root3), []);
    });
  }
});

describe("install.sh downloads an image archive URL (K3VIP_IMAGE_ARCHIVE hook)", () => {
  it("places it atomically, or fails writing nothing", async () => {
    // A loopback HTTP server in its own process (spawnSync blocks this one).
    const server = spawn(process.execPath, [
      "-e",
      `const b = Buffer.from(${JSON.stringify(standInArchive(defaultImageRef()).toString("base64"))}, "base64");
       require("http").createServer((q, s) => { if (q.url.startsWith("/img.tar")) s.end(b); else { s.statusCode = 404; s.end(); } })
        .listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [chunk] = (await once(server.stdout, "data")) as [Buffer];
      const base = `http://127.0.0.1:${chunk.toString().trim()}`;
      for (const r of RUNNERS) {
        const root = scratchDir();
        const got = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: `${base}/img.tar?sig=1`, K3VIP_ARCH: "arm" } }, ["--root", root]);
        assert.equal(got.status, 0, got.stderr);
        assert.deepEqual(readFileSync(join(root, "var/lib/rancher/k3s/agent/images", placedArchiveName("arm", VERSION))), standInArchive(defaultImageRef()));
        const root2 = scratchDir();
        const bad = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE_ARCHIVE: `${base}/missing.tar` } }, ["--root", root2]);
        assert.equal(bad.status, 1);
        assert.match(bad.stderr, /downloading .*missing\.tar failed; nothing was written/);
        assert.deepEqual(readdirSync(root2), []);
      }
    } finally {
      server.kill();
    }
  });
});

describe("install.sh: the node pulls by default; --airgap places the release's archive (K3VIP_RELEASE_URL)", () => {
  it("default: no archive, says the node pulls; K3VIP_ARCH alone is refused, nothing written", () => {
    for (const r of RUNNERS) {
      const root = scratchDir();
      const got = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0" } }, ["--root", root]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(existsSync(join(root, "var/lib/rancher/k3s/agent/images")), false);
      assert.match(got.stderr, new RegExp(`^\\[INFO\\] {2}Image ${defaultImageRef().replace(/[.]/g, "\\.")}: the node pulls it \\(no archive placed; K3VIP_AIRGAP=1 places one for a server that cannot pull\\)$`, "m"));
      const root2 = scratchDir();
      const arch = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_ARCH: "arm64" } }, ["--root", root2]);
      assert.equal(arch.status, 2);
      assert.match(arch.stderr, /^\[ERROR\] {2}K3VIP_ARCH "arm64" picks the image archive's architecture; it needs K3VIP_AIRGAP=1 or K3VIP_IMAGE_ARCHIVE/);
      const bad = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_AIRGAP: "yes" } }, ["--root", root2]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /K3VIP_AIRGAP "yes" is not 1 or 0/);
      const other = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_IMAGE: "registry.example.com/k3vip:v9" } }, ["--root", root2, "--airgap"]);
      assert.equal(other.status, 2);
      assert.match(other.stderr, /K3VIP_AIRGAP places the release's archive of ghcr\.io\/k3vip\/k3vip:v\S+, not of K3VIP_IMAGE registry\.example\.com\/k3vip:v9/);
      assert.deepEqual(readdirSync(root2), []);
      // k3s's own airgap images: still no archive, a warning naming K3VIP_AIRGAP (the note k3vip install prints).
      const root3 = scratchDir();
      mkdirSync(join(root3, "var/lib/rancher/k3s/agent/images"), { recursive: true });
      writeFileSync(join(root3, "var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"), "distro images");
      const offline = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0" } }, ["--root", root3]);
      assert.equal(offline.status, 0, offline.stderr);
      assert.match(offline.stderr, new RegExp(`^\\[WARN\\] {2}/var/lib/rancher/k3s/agent/images holds k3s-airgap-images-amd64\\.tar\\.zst: this server may be air-gapped\\. If it cannot pull ${defaultImageRef().replace(/[.]/g, "\\.")}, run again with K3VIP_AIRGAP=1`, "m"));
      assert.deepEqual(readdirSync(join(root3, "var/lib/rancher/k3s/agent/images")), ["k3s-airgap-images-amd64.tar.zst"]);
    }
  });

  it("--airgap downloads k3vip-v<version>-<arch>.tar from the release URL and places it under the name k3vip install gives it; a failed download writes nothing", async () => {
    const name = (arch: string) => `k3vip-v${VERSION}-${arch}.tar`;
    const server = spawn(process.execPath, [
      "-e",
      `const b = Buffer.from(${JSON.stringify(standInArchive(defaultImageRef(), "release arm").toString("base64"))}, "base64");
       require("http").createServer((q, s) => { if (q.url === "/download/v${VERSION}/${name("arm")}") s.end(b); else { s.statusCode = 404; s.end(); } })
        .listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [chunk] = (await once(server.stdout, "data")) as [Buffer];
      const url = `http://127.0.0.1:${chunk.toString().trim()}/download/v${VERSION}`;
      for (const r of RUNNERS) {
        const root = scratchDir();
        const got = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_RELEASE_URL: url } }, ["--root", root, "--airgap", "--arch", "armv7l"]);
        assert.equal(got.status, 0, got.stderr);
        assert.deepEqual(readdirSync(join(root, "var/lib/rancher/k3s/agent/images")), [placedArchiveName("arm", VERSION)]);
        assert.deepEqual(readFileSync(join(root, "var/lib/rancher/k3s/agent/images", placedArchiveName("arm", VERSION))), standInArchive(defaultImageRef(), "release arm"));
        assert.doesNotMatch(got.stderr, /the node pulls it/);
        // The release has no archive for this arch here (404): nothing written, not even the manifest.
        const root2 = scratchDir();
        const missing = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_RELEASE_URL: url, K3VIP_AIRGAP: "1" } }, ["--root", root2, "--arch", "arm64"]);
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, new RegExp(`downloading ${url.replace(/[.]/g, "\\.")}/${name("arm64").replace(/[.]/g, "\\.")} failed; nothing was written`));
        assert.deepEqual(readdirSync(root2), []);
        // --print writes nothing, even with --airgap.
        const root3 = scratchDir();
        const printed = runInstallSh(r, { env: { vipAddress: "10.0.0.5", vipInterface: "eth0", K3VIP_RELEASE_URL: url } }, ["--root", root3, "--airgap", "--print"]);
        assert.equal(printed.status, 0, printed.stderr);
        assert.match(printed.stderr, /the image archive is ignored with --print/);
        assert.deepEqual(readdirSync(root3), []);
      }
    } finally {
      server.kill();
    }
  });
});

// `ip -o addr show` as iproute2 and busybox print it (checked in a network namespace).
const IP_ADDR = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.5/8 brd 10.255.255.255 scope global eth0\\       valid_lft forever preferred_lft forever
3: ens192    inet 192.168.0.11/24 brd 192.168.0.255 scope global ens192\\       valid_lft forever preferred_lft forever
3: ens192    inet 192.168.0.10/32 scope global ens192\\       valid_lft forever preferred_lft forever
3: ens192    inet6 fd00:6b33::11/64 scope global \\       valid_lft forever preferred_lft forever
3: ens192    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
4: br0    inet 172.16.0.1/16 scope global br0\\       valid_lft forever preferred_lft forever
5: veth1@if4    inet 172.16.5.1/24 scope global veth1\\       valid_lft forever preferred_lft forever
6: dup1    inet 198.18.0.1/24 scope global dup1\\       valid_lft forever preferred_lft forever
7: dup2    inet 198.18.0.2/24 scope global dup2\\       valid_lft forever preferred_lft forever`;

describe("install.sh finds the interface whose subnet holds the VIP", () => {
  const ip = fakeCommand("ip", `[ "$*" = "-o addr show" ] || exit 9\ncat <<'EOF'\n${IP_ADDR}\nEOF`);
  // busybox sh runs its own `ip` applet before PATH: test/lab/install-sh-detect.test.ts
  // covers it (and iproute2) with real addresses in a network namespace.
  for (const r of RUNNERS.filter((x) => x.shell[0] !== "busybox")) {
    it(`picks the longest matching prefix, IPv4 and IPv6 [${r.name}]`, () => {
      for (const [vip, iface] of [
        ["192.168.0.10", "ens192"],
        ["10.1.2.3", "eth0"],
        ["fd00:6b33::10", "ens192"],
        ["172.16.5.9", "veth1"],
        ["172.16.200.9", "br0"],
      ]) {
        const got = runInstallSh(r, { env: { vipAddress: vip! } }, ["--print"], [ip]);
        assert.equal(got.status, 0, got.stderr);
        const want = k3vip({ env: { vipAddress: vip!, vipInterface: iface! } });
        assert.ok(want.ok);
        assert.equal(got.stdout, want.out, vip);
        assert.match(got.stderr, new RegExp(`Interface ${iface} holds`));
      }
    });

    it(`fails clearly when no or several interfaces match [${r.name}]`, () => {
      const none = runInstallSh(r, { env: { vipAddress: "203.0.113.10" } }, ["--print"], [ip]);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /no interface has an address in a subnet holding the VIP 203\.0\.113\.10 .*set vipInterface/);
      const two = runInstallSh(r, { env: { vipAddress: "198.18.0.10" } }, ["--print"], [ip]);
      assert.equal(two.status, 2);
      assert.match(two.stderr, /several interfaces .*\(dup1, dup2\)/);
      const noIp = runInstallSh(r, { env: { vipAddress: "198.18.0.10" } }, ["--print"], [fakeCommand("ip", "exit 1")]);
      assert.equal(noIp.status, 2);
    });
  }
});

describe("install.sh is POSIX sh", () => {
  it("is shellcheck -s sh clean", () => {
    const res = spawnSync("shellcheck", ["-s", "sh", INSTALL_SH], { encoding: "utf8" });
    assert.equal(res.status, 0, res.stdout);
  });

  it("--help prints usage on stdout and exits 0", () => {
    for (const r of RUNNERS) {
      const got = runInstallSh(r, {}, ["--help"]);
      assert.equal(got.status, 0);
      assert.match(got.stdout, /--vip <address> +K3VIP_VIP/);
    }
  });

  it("is executable and leaves no temp dir behind, on success and on bad input", () => {
    assert.ok(statSync(INSTALL_SH).mode & 0o100);
    for (const r of RUNNERS) {
      for (const vip of ["192.168.0.10", "300.0.0.1"]) {
        const tmp = scratchDir();
        runInstallSh(r, { env: { TMPDIR: tmp, vipAddress: vip, vipInterface: "eth0" } });
        assert.deepEqual(readdirSync(tmp), []);
      }
    }
  });
});
