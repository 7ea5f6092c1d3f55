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

const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("k3vip manifest", () => {
  it("prints the add-on on stdout, nothing on stderr; env and kube-vip names count too", () => {
    const res = k3vip(["manifest", "--interface", "ens192"], { vipAddress: "192.168.0.10", K3VIP_HEARTBEAT_KEY: KEY });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stderr, "");
    assert.equal(res.stdout, renderAddon(resolveConfig({ scope: "install", version: VERSION, flags: { vip: "192.168.0.10", interface: "ens192", "heartbeat-key": KEY } })));
  });

  it("with no heartbeat key given, the add-on gets a fresh random one (in its Secret only), and the static Pod is refused", () => {
    const a = k3vip(["manifest", "--vip", "10.0.0.5", "-o", "json"]);
    const b = k3vip(["manifest", "--vip", "10.0.0.5", "-o", "json"]);
    assert.equal(a.status, 0, a.stderr);
    const keyOf = (out: string) => {
      const items = (JSON.parse(out) as { items: { kind: string; stringData?: Record<string, string> }[] }).items;
      return items.find((i) => i.kind === "Secret")?.stringData?.["K3VIP_HEARTBEAT_KEY"] ?? "";
    };
    assert.match(keyOf(a.stdout), /^[0-9a-f]{64}$/);
    assert.notEqual(keyOf(a.stdout), keyOf(b.stdout));
    assert.equal(a.stdout.split(keyOf(a.stdout)).length, 2, "the key appears once: in the Secret");
    const pod = k3vip(["manifest", "pod", "--vip", "10.0.0.5", "--interface", "eth0"]);
    assert.equal(pod.status, 2);
    assert.match(pod.stderr, /--heartbeat-key is required for a static Pod/);
    assert.equal(pod.stdout, "");
    const off = k3vip(["manifest", "pod", "--vip", "10.0.0.5", "--interface", "eth0", "--heartbeat-port", "0"]);
    assert.equal(off.status, 0, off.stderr);
    assert.equal(off.stderr, "");
  });

  it("--output json prints a List; `manifest pod` a static Pod", () => {
    const json = k3vip(["manifest", "--vip", "10.0.0.5", "-o", "json"]);
    assert.equal(json.status, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { kind: string }).kind, "List");
    const pod = k3vip(["manifest", "pod", "--vip", "10.0.0.5", "--interface", "eth0", "--heartbeat-key", KEY]);
    assert.equal(pod.status, 0, pod.stderr);
    assert.match(pod.stderr, /the heartbeat key .* sits in the Pod's env/);
    assert.equal(pod.stdout, renderStaticPod(resolveConfig({ scope: "install", version: VERSION, flags: { vip: "10.0.0.5", interface: "eth0", "heartbeat-key": KEY } })));
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
