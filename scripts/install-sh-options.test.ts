// install.sh's awk option parsers against src/config's, value by value:
// the same formatted value (what the agent env gets) or the same message.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { OPTIONS, Problem } from "../src/config/index.ts";
import { installSh } from "./gen.ts";

const dir = mkdtempSync(join(tmpdir(), "k3vip-awk-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const embedded = /<<'K3VIP_AWK'\n([\s\S]*?)\nK3VIP_AWK\n/.exec(installSh())?.[1];
assert.ok(embedded, "install.sh embeds the awk engine");
const awkFile = join(dir, "k3vip.awk");
writeFileSync(awkFile, `${embedded}\n`);

const AWKS = (
  [
    ["gawk", ["gawk"]],
    ["mawk", ["mawk"]],
    ["busybox awk", ["busybox", "awk"]],
  ] as [string, string[]][]
).filter(([, cmd]) => spawnSync(cmd[0]!, [...cmd.slice(1), "-f", "/dev/null"], { input: "" }).status === 0);

/** Values per option key (besides the shared ones below). */
const VALUES: Record<string, string[]> = {
  vip: ["192.168.0.10", "2001:db8::1", "10.0.0.1/8", "fe80::1", "::ffff:10.0.0.1", "localhost"],
  interface: ["eth0", "", "br-lan.100", "wg@0", "a:b", "1234567890123456", "123456789012345", ".", "..", "a b", "é"],
  mode: ["arp", "bgp", "BGP", "ospf", ""],
  distro: ["k3s", "rke2", "k8s", "K3S"],
  namespace: ["kube-system", "a", "-a", "a-", "A", `${"a".repeat(63)}`, `${"a".repeat(64)}`, "a.b"],
  handoverLease: ["", "kube-system/plndr-cp-lock", "a/b.c", "a", "a/b/c", "/b", "a/", "A/b", "a/B", "a-/b", "a/.b", `${"a".repeat(63)}/b`, `${"a".repeat(64)}/b`, `a/${"b".repeat(253)}`, `a/${"b".repeat(254)}`],
  leaseName: ["k3vip-cp", "a.b.c", "a..b", ".a", "a.", "A", `${"a".repeat(253)}`, `${"a".repeat(254)}`, "a-.b"],
  leaseDuration: ["6", "06", "6.0", "6.10", "0.1", "0.09", "3600", "3600.001", "1.2345", "-1", "1e3", ".5", "5.", " 5", "0", "00.500"],
  image: [
    "ghcr.io/k3vip/k3vip:v0.1.0", "k3vip", "k3vip:latest", "localhost:5000/a/b:c", "a:b/c", "Upper/case", "a//b", "a/b:",
    `a@sha256:${"0".repeat(64)}`, `a:t@sha256:${"f".repeat(64)}`, `a@sha256:${"0".repeat(63)}`, `a:${"t".repeat(128)}`, `a:${"t".repeat(129)}`,
    "a:-x", "a:_x", "a.b-c_d/e__f", "host:99999/a", "a_/b", "registry.io:443/ns/img:1.2.3-rc.1",
  ],
  imagePullPolicy: ["IfNotPresent", "Always", "Never", "never"],
  metricsAddr: [":2112", "0.0.0.0:2112", "[::1]:2112", "[::]:1", ":65535", ":65536", ":0", "2112", "localhost:2112", "[::1]", "1.2.3.4:", ":002112", ":02112", "[fe80::1%lo]:1", "[1.2.3.4]:5", "1.2.3:4"],
  apiPort: ["6443", "0", "1", "65535", "65536", "06443", "-1", "6443.0", "", "0x10"],
  vipSubnet: ["0", "24", "128", "129", "032"],
  leaderElection: ["true", "false", "TRUE", "Yes", "on", "OFF", "1", "0", "", "y", "truee"],
  "bgp.localAs": ["65000", "0", "4294967295", "4294967296", "0065000", "99999999999999999999"],
  "bgp.routerId": ["", "10.0.0.1", "10.0.0.256", "::1", "1.2.3"],
  "bgp.peers": [
    "", " ", "10.0.0.1:65000", "10.0.0.1:65000::false", "10.0.0.1:065000:pw:true", "10.0.0.1:65000:pw:3:10.0.0.2", "10.0.0.1:65000:pw:0",
    "10.0.0.1:65000:pw:256", "10.0.0.1:65000:pw:TRUE", "[2001:db8::1]:65000", "[2001:db8::1]:65000:pw:false:2001:db8::2", "[2001:db8::1]:65000::1:[2001:db8::2]",
    "[2001:db8::1", "[2001:db8::1]x", "[2001:db8::1]", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:4294967296", "10.0.0.1:as",
    "a,b", "10.0.0.1:1,,10.0.0.2:2", " 10.0.0.1:1 , 10.0.0.2:2 ", "10.0.0.1:1::1:notip", "10.0.0.1:1::1:[10.0.0.2]", "2001:db8::1:65000",
    '10.0.0.1:1:p"w\\:true', "10.0.0.1:1:pä:false",
    // Control characters and white space (hardening #11 item 6): refused alike, never trimmed from a secret.
    "10.0.0.1:65000:pw\u007f", "10.0.0.1:65000:p\u009fw:true", "10.0.0.1:65000:pw\ufffe", "10.0.0.1:65000:p\u0001w",
    "10.0.0.1:65000:secret ", "10.0.0.1:65000:secret\t", "10.0.0.1:65000: pw:false", "10.0.0.1:65000:pw :false", "10.0.0.1:65000:pw:false ",
    "10.0.0.1:65000:p w:false", "10.0.0.1:65000:pw\v", "\u00a010.0.0.1:65000", "10.0.0.1:65000\u3000", "10.0.0.1:65000:pw\r", " \t10.0.0.1:1 ,\t10.0.0.2:2\t",
    "10.0.0.1:65000:p\u0085w", "10.0.0.1:65000:\ufeffpw",
  ],
  "services.pools": [
    "", "10.0.0.0/24", "10.0.0.0/33", "10.0.0.1-10.0.0.9", "10.0.0.9-10.0.0.1", "10.0.0.1-10.0.0.1", "10.0.0.1-fd00::1", "fd00::/64", "fd00::/129",
    "fd00::1-fd00::ff", "fd00::ff-fd00::1", "a-b-c", "10.0.0.0/8, 10.1.0.1-10.1.0.2 ,fd00::/120", "10.0.0.0", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/024", "x/8", "10.0.0.1 - 10.0.0.2",
    "10.0.0.0/0024", "10.0.0.0/00", "fd00::/0128", "10.0.0.0/24\u00a0", "\u000b10.0.0.0/24", "10.0.0.0/24,\u200910.1.0.0/24",
  ],
  logFormat: ["text", "json", "JSON", "logfmt"],
  heartbeatPort: ["0", "9446", "65535", "65536", "-1", "09446", "", "x"],
  takeover: ["early", "fenced", "Fenced", "late", ""],
  heartbeatKey: ["", "00112233445566778899aabbccddeeff", "00112233445566778899aabbccddee", "0011223344556677889 9aabbccddeeff", "AAECAwQFBgcICQoLDA0ODw==", "AAECAwQFBgcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0ODw=", "AAECAwQFBgcICQoLDA0O", "AAECAwQFBgcICQoLDA0ODw==x", " AAECAwQFBgcICQoLDA0ODw==", "g0112233445566778899aabbccddeeff"],
};
const SHARED = ["", "x", "1", "true", "-", "0.5"];

describe("awk option parsers = src/config parsers", () => {
  const cases: [number, string, string][] = [];
  OPTIONS.forEach((o, i) => {
    const key = o.key === "renewDeadline" || o.key === "retryPeriod" || o.key === "arpRefresh" ? "leaseDuration" : o.key;
    const vals = VALUES[key] ?? (o.key === "controlPlane" || o.key.endsWith("equinixMetal") || o.key === "services.enabled" ? VALUES.leaderElection : []);
    assert.ok(vals && vals.length > 0, `no test values for ${o.key}`);
    for (const raw of [...new Set([...vals, ...SHARED])]) {
      let want: string;
      try {
        want = `ok\t${o.format(o.parse(raw))}`;
      } catch (e) {
        if (!(e instanceof Problem)) throw e;
        want = `SRC ${JSON.stringify(o.mask ? o.mask(raw) : raw)} ${e.message}`;
      }
      cases.push([i + 1, raw, want]);
    }
  });
  const input = cases.map(([n, raw]) => `${n}\t${raw}`).join("\n") + "\n";
  for (const [name, cmd] of AWKS) {
    it(`${name}: ${cases.length} values over ${OPTIONS.length} options`, () => {
      const res = spawnSync(cmd[0]!, [...cmd.slice(1), "-v", "op=optcheck", "-f", awkFile], { input, encoding: "utf8", env: { LC_ALL: "C", PATH: process.env.PATH ?? "" } });
      assert.equal(res.status, 0, res.stderr);
      const got = res.stdout.split("\n").slice(0, -1);
      assert.equal(got.length, cases.length);
      const diffs = cases.flatMap(([n, raw, want], i) => (got[i] === want ? [] : [`${OPTIONS[n - 1]!.key} ${JSON.stringify(raw)}: awk ${got[i]} | js ${want}`]));
      assert.deepEqual(diffs, []);
    });
  }
});
