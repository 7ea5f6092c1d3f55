// Planted secrets never reach any output (hardening #11 item 4): a full
// install → update → doctor → uninstall cycle through the built CLI, every
// --dry-run and --json, and the bad-value messages of k3vip and install.sh,
// with the token, the datastore passwords (old and new) and BGP passwords
// planted; stdout and stderr of every run are grepped. Before, uninstall
// --dry-run printed the token and password on its '-' lines, install
// --dry-run printed the old ones, and a bad --bgp-peers or an unknown
// datastore scheme echoed the password.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { tempRoots } from "../installer/testing/tree.ts";

const CLI = join(process.cwd(), "dist/k3vip.mjs");
const INSTALL_SH = join(process.cwd(), "install.sh");
const tmpRoot = tempRoots("k3vip-secrets-");
const PLANTED = /PLANTED/;

before(() => execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }));

interface Run {
  what: string;
  status: number | null;
  out: string;
}
const runs: Run[] = [];
function k3vip(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, CI: "true", ...env } });
  const run = { what: `k3vip ${args.join(" ")}`, status: r.status, out: `${r.stdout}\n${r.stderr}` };
  runs.push(run);
  return run;
}
function sh(args: string[], env: Record<string, string>): Run {
  const r = spawnSync("dash", [INSTALL_SH, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  const run = { what: `install.sh ${args.join(" ")}`, status: r.status, out: `${r.stdout}\n${r.stderr}` };
  runs.push(run);
  return run;
}

describe("planted secrets in every output", () => {
  it("install, update, doctor, uninstall, each with --dry-run and --json, and bad values: no output holds a planted secret", () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
    writeFileSync(join(root, "etc/rancher/k3s/config.yaml"), "write-kubeconfig-mode: '0644'\n");
    const base = ["--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-image-archive", "--no-preflight"];
    const v1 = [...base, "--token", "K10PLANTED-TOKEN-ONE::server:a", "--datastore", "mysql://k3s:PLANTED-DBPW-ONE@tcp(127.0.0.1:1)/kubernetes"];
    const v2 = [...base, "--token", "K10PLANTED-TOKEN-TWO::server:b", "--datastore", "postgres://k3s:PLANTED-DBPW-TWO@127.0.0.1:1/k3s"];

    for (const extra of [["--dry-run"], ["--dry-run", "--json"], [], ["--json"]]) assert.equal(k3vip(["install", ...v1, ...extra]).status, 0);
    // The update: the diff's '-' side holds the old token and password.
    for (const extra of [["--dry-run"], ["--dry-run", "--json"]]) {
      const r = k3vip(["install", ...v2, ...extra]);
      assert.equal(r.status, 0, r.out);
      const diff = extra.includes("--json") ? ((JSON.parse(r.out.split("\n\n")[0] ?? r.out) as { diff: string }).diff) : r.out;
      assert.match(diff, /^-token: "?\*\*\*\*"?$/m, "the old token's line is there, masked");
    }
    assert.equal(k3vip(["install", ...v2]).status, 0);
    // doctor dials the datastore (nothing listens on port 1): its failure is reported, masked.
    for (const extra of [[], ["--json"]]) assert.notEqual(k3vip(["doctor", "--root", root, ...extra]).status, null);
    for (const extra of [["--dry-run"], ["--dry-run", "--json"]]) {
      const r = k3vip(["uninstall", "--root", root, "--no-delete-objects", ...extra]);
      assert.equal(r.status, 0, r.out);
      if (!extra.includes("--json")) assert.match(r.out, /^-token: "?\*\*\*\*"?$/m);
    }
    assert.equal(k3vip(["uninstall", "--root", root, "--no-delete-objects", "--json"]).status, 0);

    // Bad values that used to be echoed whole.
    assert.equal(k3vip(["manifest", "--vip", "192.168.0.10", "--mode", "bgp", "--bgp-as", "65000", "--bgp-peers", "192.168.0.1:65001:PLANTED-BGP-ONE:999"]).status, 2);
    assert.equal(k3vip(["manifest", "--vip", "192.168.0.10", "--mode", "bgp", "--bgp-as", "65000", "--bgp-peers", "[fd00::1:65001:PLANTED-BGP-TWO"]).status, 2);
    assert.equal(k3vip(["manifest", "--vip", "192.168.0.10", "--mode", "bgp", "--bgp-as", "65000", "--bgp-peers", "192.168.0.1:65001:PLANTED-BGP-THREE"]).status, 2);
    assert.equal(k3vip(["agent", "--node-name", "n1"], { K3VIP_VIP: "192.168.0.10", K3VIP_BGP_PEERS: "192.168.0.1:x:PLANTED-BGP-FOUR" }).status, 2);
    assert.equal(k3vip(["install", ...base, "--dry-run", "--datastore", "foo://k3s:PLANTED-DBPW-THREE@db/k3s"]).status, 2);
    assert.equal(k3vip(["install", ...base, "--dry-run", "--datastore", "mysql://k3s:PLANTED-DBPW-FOUR@tcp(db:port)/k3s"]).status, 2);
    assert.equal(k3vip(["install", ...base, "--dry-run", "--token", "PLANTED-TOKEN-THREE with space"]).status, 2);
    assert.equal(sh(["--print"], { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_MODE: "bgp", K3VIP_BGP_AS: "65000", K3VIP_BGP_PEERS: "192.168.0.1:65001:PLANTED-BGP-FIVE:999" }).status, 2);
    assert.equal(sh(["--print"], { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_MODE: "bgp", K3VIP_BGP_AS: "65000", K3VIP_BGP_PEERS: "[fd00::1:65001:PLANTED-BGP-SIX" }).status, 2);

    const leaks = runs.filter((r) => PLANTED.test(r.out)).map((r) => `${r.what}:\n${r.out.split("\n").filter((l) => PLANTED.test(l)).join("\n")}`);
    assert.deepEqual(leaks, []);
    process.stdout.write(`# ${runs.length} runs grepped for planted secrets: none found\n`);
  });
});
