// `k3vip manifest` as a user runs it: exit codes, stdout/stderr, formats.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { resolveConfig } from "../config/index.ts";
import { renderAddon, renderStaticPod } from "../render/index.ts";
import { VERSION } from "../version.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const k3vip = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });

describe("k3vip manifest", () => {
  it("prints the add-on on stdout, nothing on stderr; env and kube-vip names count too", () => {
    const res = k3vip(["manifest", "--interface", "ens192"], { vipAddress: "192.168.0.10" });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stderr, "");
    assert.equal(res.stdout, renderAddon(resolveConfig({ scope: "install", version: VERSION, flags: { vip: "192.168.0.10", interface: "ens192" } })));
  });

  it("--output json prints a List; `manifest pod` a static Pod", () => {
    const json = k3vip(["manifest", "--vip", "10.0.0.5", "-o", "json"]);
    assert.equal(json.status, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { kind: string }).kind, "List");
    const pod = k3vip(["manifest", "pod", "--vip", "10.0.0.5", "--interface", "eth0"]);
    assert.equal(pod.status, 0, pod.stderr);
    assert.equal(pod.stderr, "");
    assert.equal(pod.stdout, renderStaticPod(resolveConfig({ scope: "install", version: VERSION, flags: { vip: "10.0.0.5", interface: "eth0" } })));
  });

  for (const [name, args, re] of [
    ["invalid IP", ["--vip", "300.1.1.1"], /^k3vip: --vip "300.1.1.1" is not an IPv4 or IPv6 address/],
    ["multicast", ["--vip", "224.0.0.1"], /multicast address/],
    ["network address", ["--vip", "10.0.0.0", "--vip-subnet", "8"], /network address of 10\.0\.0\.0\/8/],
    ["broadcast address", ["--vip", "10.255.255.255", "--vip-subnet", "8"], /broadcast address of 10\.0\.0\.0\/8/],
    ["CIDR", ["--vip", "10.0.0.5/24"], /is a CIDR/],
    ["interface name", ["--vip", "10.0.0.5", "--interface", "a/b"], /--interface "a\/b" is not a valid Linux interface name/],
    ["BGP (not in this version)", ["--vip", "10.0.0.5", "--mode", "bgp", "--bgp-as", "65000", "--bgp-peers", "10.0.0.1:65001"], /--mode "bgp" is not supported in this version/],
    ["services (not in this version)", ["--vip", "10.0.0.5", "--services", "true", "--services-pools", "10.0.1.0/29"], /--services "true" is not supported in this version/],
    ["renew deadline ≥ lease duration", ["--vip", "10.0.0.5", "--renew-deadline", "7"], /--renew-deadline "7" must be shorter than the lease duration \(6 s\)/],
    ["unknown distro", ["--vip", "10.0.0.5", "--distro", "k0s"], /--distro "k0s" is not one of: k3s, rke2/],
    ["unknown option", ["--vip", "10.0.0.5", "--vip-adress", "x"], /unknown option '--vip-adress'/],
    ["unknown kind", ["pods", "--vip", "10.0.0.5"], /manifest kind "pods" is not one of: addon, pod/],
    ["unknown output", ["--vip", "10.0.0.5", "-o", "xml"], /'xml' is invalid/],
  ] as const) {
    it(`bad input exits 2 with one line naming option, value, what is valid, and prints no manifest: ${name}`, () => {
      const res = k3vip(["manifest", ...args]);
      assert.equal(res.status, 2);
      assert.equal(res.stdout, "");
      assert.match(res.stderr.split("\n")[0]!, re);
      // Commander adds its "(run with --help for usage)" hint line to its own errors.
      assert.ok(res.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("(run with --help")).length === 1, res.stderr);
    });
  }
});
