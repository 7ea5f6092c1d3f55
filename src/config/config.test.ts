import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentEnv, parseSources, resolveConfig, UsageError } from "./index.ts";

const V = "0.1.0";
const bad = (sources: Parameters<typeof resolveConfig>[0], re: RegExp) =>
  assert.throws(() => resolveConfig(sources), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"));

describe("resolveConfig", () => {
  it("layers defaults < kube-vip aliases < K3VIP_* < flags", () => {
    const c = resolveConfig({
      scope: "install",
      version: V,
      env: { vipAddress: "192.168.0.10", vipInterface: "eth0", K3VIP_INTERFACE: "ens192" },
      flags: { "lease-duration": "10" },
    });
    assert.equal(c.vip, "192.168.0.10");
    assert.equal(c.interface, "ens192");
    assert.equal(c.leaseDuration, 10);
    assert.equal(c.renewDeadline, 4);
    assert.equal(c.namespace, "kube-system");
  });

  it("installers read kube-vip's plain names: empty is unset, address beats vip_address, the name is blamed (#11 item 7)", () => {
    const c = resolveConfig({ scope: "install", version: V, env: { vip_address: "10.0.0.4", address: "10.0.0.5", vip_interface: "", vipInterface: "eth1", port: "6444", cp_namespace: "infra", vip_leaseduration: "15", vip_renewdeadline: "10", vip_retryperiod: "2", prometheus_server: ":2113" } });
    assert.equal(c.vip, "10.0.0.5");
    assert.equal(c.interface, "eth1");
    assert.equal(c.apiPort, 6444);
    assert.equal(c.namespace, "infra");
    assert.deepEqual([c.leaseDuration, c.renewDeadline, c.retryPeriod], [15, 10, 2]);
    assert.equal(c.metricsAddr, ":2113");
    assert.equal(resolveConfig({ scope: "install", version: V, env: { address: "", vip_address: "10.0.0.4" } }).vip, "10.0.0.4");
    bad({ scope: "install", version: V, env: { vip_address: "10.0.0.4", address: "nope" } }, /^address "nope" is not an IPv4 or IPv6 address/);
    bad({ scope: "install", version: V, env: { address: "10.0.0.5", vip_renewdeadline: "20" } }, /^vip_renewdeadline "20" must be shorter than the lease duration/);
  });

  it("round-trips through the agent env (every option, the ones still to come included)", () => {
    const c = parseSources({ scope: "install", version: V, flags: { vip: "2001:db8::10", mode: "bgp", "bgp-as": "65000", "bgp-peers": "[2001:db8::1]:65001:pw:3:2001:db8::2", services: "true", "services-pools": "10.1.0.0/29,10.2.0.1-10.2.0.9" } });
    const env = Object.fromEntries(agentEnv(c).map((e) => [e.name, e.value]));
    const back = parseSources({ scope: "agent", version: V, env });
    assert.deepEqual({ ...back, image: c.image, imagePullPolicy: c.imagePullPolicy }, c);
    const plain = resolveConfig({ scope: "install", version: V, flags: { vip: "2001:db8::10", "lease-duration": "9", "log-format": "json" } });
    const back2 = resolveConfig({ scope: "agent", version: V, env: Object.fromEntries(agentEnv(plain).map((e) => [e.name, e.value])) });
    assert.deepEqual({ ...back2, image: plain.image, imagePullPolicy: plain.imagePullPolicy }, plain);
  });

  it("refuses what this version's agent does not run, naming the option (hardening #11 item 5)", () => {
    const flags = { vip: "192.168.0.10" };
    bad({ scope: "install", version: V, flags: { ...flags, mode: "bgp", "bgp-as": "65000", "bgp-peers": "10.0.0.1:65001" } }, /^--mode "bgp" is not supported in this version: k3vip announces the VIP by ARP\/NDP only/);
    bad({ scope: "install", version: V, flags: { ...flags, services: "true", "services-pools": "10.1.0.0/29" } }, /^--services "true" is not supported in this version/);
    bad({ scope: "install", version: V, flags: { ...flags, "control-plane": "false" } }, /^--control-plane "false" is not supported in this version/);
    bad({ scope: "install", version: V, flags: { ...flags, "equinix-metal": "true" } }, /^--equinix-metal "true" is not supported in this version/);
    bad({ scope: "install", version: V, flags: { ...flags, "bgp-as": "65000" } }, /^--bgp-as "65000" is not supported in this version: it is for BGP mode/);
    bad({ scope: "install", version: V, flags: { ...flags, "bgp-peers": "10.0.0.1:65001:s3cret" } }, /^--bgp-peers is not supported in this version: it is for BGP mode/);
    bad({ scope: "agent", version: V, env: { K3VIP_VIP: "10.0.0.5", bgp_enable: "true" } }, /^bgp_enable "true" is not supported in this version: BGP is not in this version/);
    bad({ scope: "agent", version: V, env: { K3VIP_VIP: "10.0.0.5", svc_enable: "true" } }, /^svc_enable "true" is not supported in this version: LoadBalancer Services get no VIPs from k3vip yet; turn it off/);
  });

  it("rejects bad input with one line naming option, value and what is valid", () => {
    bad({ scope: "install", version: V, flags: { vip: "300.1.1.1" } }, /^--vip "300.1.1.1" is not an IPv4 or IPv6 address/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.10/24" } }, /^--vip "192.168.0.10\/24" is a CIDR/);
    bad({ scope: "install", version: V, env: { vipAddress: "224.0.0.5" } }, /^vipAddress "224.0.0.5" is a multicast address/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.255", "vip-subnet": "24" } }, /^--vip "192.168.0.255" is the broadcast address of 192.168.0.0\/24/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.0", "vip-subnet": "24" } }, /^--vip "192.168.0.0" is the network address/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.10", interface: "this-name-is-too-long" } }, /^--interface "this-name-is-too-long" is not a valid Linux interface name/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.10", "renew-deadline": "6" } }, /^--renew-deadline "6" must be shorter than the lease duration/);
    bad({ scope: "install", version: V, flags: { vip: "192.168.0.10", distro: "k8s" } }, /^--distro "k8s" is not one of: k3s, rke2/);
    bad({ scope: "install", version: V, flags: {} }, /^--vip is required/);
    bad({ scope: "agent", version: V, env: { K3VIP_VIP: "10.0.0.1", K3VIP_BGP_PEERS: "10.0.0.1:notanas" } }, /^K3VIP_BGP_PEERS "10.0.0.1:notanas" has peer "10.0.0.1" without a valid AS number/);
  });
});
