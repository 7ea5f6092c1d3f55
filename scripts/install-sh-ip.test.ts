// install.sh's awk IP parser against ipaddr.js (through src/config's
// parseIp/parseVip/networkOrBroadcast) on edge cases and generated
// addresses, under every awk install.sh may meet.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { networkOrBroadcast, parseIp, parseVip, Problem } from "../src/config/index.ts";
import { installSh } from "./gen.ts";

const dir = mkdtempSync(join(tmpdir(), "k3vip-awk-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// The engine exactly as install.sh embeds it.
const awkFile = join(dir, "k3vip.awk");
const embedded = /<<'K3VIP_AWK'\n([\s\S]*?)\nK3VIP_AWK\n/.exec(installSh())?.[1];
assert.ok(embedded, "install.sh embeds the awk engine");
writeFileSync(awkFile, `${embedded}\n`);

const AWKS = ([
  ["gawk", ["gawk"]],
  ["mawk", ["mawk"]],
  ["busybox awk", ["busybox", "awk"]],
] as [string, string[]][]).filter(([, cmd]) => spawnSync(cmd[0]!, [...cmd.slice(1), "-f", "/dev/null"], { input: "" }).status === 0);

function expected(addr: string, prefix: number): string {
  let family: number;
  let text: string;
  try {
    const p = parseIp(addr);
    family = p.family;
    text = p.addr.toString();
  } catch (e) {
    if (e instanceof Problem) return "0|||";
    throw e;
  }
  let range = "unicast";
  try {
    parseVip(addr);
  } catch (e) {
    range = (e as Error).message.replace(/^is (.*); the VIP must be .*$/, "$1");
  }
  return `${family}|${range}|${text}|${networkOrBroadcast(addr, prefix) ?? ""}`;
}

// A small deterministic PRNG: the same cases every run.
let seed = 42;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.floor((seed / 2147483648) * n); // high bits: an LCG's low bits cycle fast
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;

function randomV6(): string {
  const groups = Array.from({ length: 8 }, () => pick([0, 0, 0, 1, 0xffff, 0xfe80, 0xff02, 0x2001, 0xdb8, rnd(65536)]));
  if (rnd(8) === 0) groups.splice(0, 6, 0, 0, 0, 0, 0, pick([0, 0xffff]));
  let parts = groups.map((g) => {
    let h = g.toString(16);
    if (rnd(4) === 0) h = h.padStart(4, "0");
    return rnd(3) === 0 ? h.toUpperCase() : h;
  });
  if (rnd(5) === 0) parts.splice(6, 2, `${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`);
  if (rnd(3) !== 0) {
    // Compress a random run (maybe of non-zero groups: then it is another address, still valid syntax).
    const start = rnd(parts.length);
    const len = 1 + rnd(parts.length - start);
    parts = [...parts.slice(0, start), "", ...parts.slice(start + len)];
    let s = parts.join(":");
    if (start === 0) s = `:${s}`;
    if (start + len === groups.length || parts[parts.length - 1] === "") s = `${s}:`;
    return s.replace(/:::+/, "::");
  }
  return parts.join(":");
}

function mutate(s: string): string {
  const i = rnd(s.length + 1);
  return pick([
    () => s.slice(0, i) + pick([":", ".", "::", "g", "0", "%", "/", " ", "1"]) + s.slice(i),
    () => s.slice(0, i) + s.slice(i + 1),
    () => s.slice(0, i) + s.slice(i, i + 1).repeat(2) + s.slice(i + 1),
  ])();
}

const EDGES = [
  "0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "", " ", "a.b.c.d",
  "127.0.0.1", "126.255.255.255", "128.0.0.1", "169.254.0.1", "169.253.255.255", "224.0.0.0", "223.255.255.255", "239.255.255.255", "240.0.0.1",
  "::", "::1", "::2", "1::", "::ffff:1.2.3.4", "::ffff:0:0", "::fffe:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "1:::2", ":1::", "1::2:", "fe80::", "febf:ffff::", "fec0::1", "ff00::", "feff::", "fe80::1%eth0",
  "2001:db8::1/64", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "0:0:1:0:0:1:0:0", "00000::1",
  "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::256.1.1.1", "::01.2.3.4", "2001:db8::g", "[::1]",
];

describe("awk IP parser = ipaddr.js (family, range, text form, network/broadcast)", () => {
  const cases: [string, number][] = [];
  for (const e of EDGES) cases.push([e, pick([0, 8, 24, 30, 31, 64, 120])]);
  for (let i = 0; i < 1500; i++) {
    const v6 = randomV6();
    cases.push([rnd(4) === 0 ? mutate(v6) : v6, rnd(130)]);
    const v4 = `${pick([0, 10, 127, 169, 192, 224, 255, rnd(256)])}.${rnd(256)}.${pick([0, 255, rnd(256)])}.${pick([0, 255, rnd(256)])}`;
    cases.push([rnd(4) === 0 ? mutate(v4) : v4, rnd(34)]);
  }
  const input = cases.map(([a, p]) => `${a}\t${p}`).join("\n") + "\n";
  const want = cases.map(([a, p]) => expected(a, p));
  for (const [name, cmd] of AWKS) {
    it(`${name}: ${cases.length} addresses`, () => {
      const res = spawnSync(cmd[0]!, [...cmd.slice(1), "-v", "op=ipcheck", "-f", awkFile], { input, encoding: "utf8", env: { LC_ALL: "C", PATH: process.env.PATH ?? "" } });
      assert.equal(res.status, 0, res.stderr);
      const got = res.stdout.split("\n").slice(0, -1);
      assert.equal(got.length, cases.length);
      const diffs = cases.flatMap(([a, p], i) => (got[i] === want[i] ? [] : [`${JSON.stringify(a)}/${p}: awk ${got[i]} js ${want[i]}`]));
      assert.deepEqual(diffs.slice(0, 10), []);
      // The corpus exercises all three outcomes, not just rejections.
      for (const f of ["0", "4", "6"]) {
        const n = want.filter((w) => w.startsWith(`${f}|`)).length;
        assert.ok(n > 300, `family ${f}: only ${n} cases`);
      }
    });
  }
});
