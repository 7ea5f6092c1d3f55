import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { KUBE_VIP_ENV, OPTIONS, resolveConfig, translateKubeVip, UsageError } from "./index.ts";

const V = "0.1.0";
const FIXTURES = new URL("../../test/fixtures/kube-vip/", import.meta.url);
const refused = (env: Record<string, string>, re: RegExp) =>
  assert.throws(
    () => resolveConfig({ scope: "agent", version: V, env }),
    (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
  );

/** The env a kube-vip DaemonSet's container gets: plain values, and fieldRef spec.nodeName as the kubelet fills it. */
function fixtureEnv(file: string): Record<string, string> {
  type Env = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } };
  const ds = parse(readFileSync(new URL(file, FIXTURES), "utf8")) as { spec: { template: { spec: { containers: { env: Env[] }[] } } } };
  const env: Record<string, string> = {};
  for (const e of ds.spec.template.spec.containers[0]?.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName") env[e.name] = "Server-1";
    else env[e.name] = e.value ?? "";
  }
  return env;
}

describe("kube-vip's environment (hardening #11 item 7)", () => {
  it("the table holds every name kube-vip reads, and no other (its source at bee5cfe, plus older names)", () => {
    const names = readFileSync(new URL("env-names.txt", FIXTURES), "utf8")
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    assert.ok(names.length >= 100, `${names.length} names`);
    assert.deepEqual(
      names.filter((n) => !(n in KUBE_VIP_ENV)),
      [],
      "names kube-vip reads that k3vip says nothing about",
    );
    assert.deepEqual(
      Object.keys(KUBE_VIP_ENV).filter((n) => !names.includes(n)),
      [],
      "names k3vip claims kube-vip reads",
    );
  });

  // A value each mapped name accepts, with what it needs beside it.
  const MAPPED_VALUES: Record<string, Record<string, string>> = {
    address: { address: "10.0.0.5" },
    vip_address: { vip_address: "10.0.0.5" },
    vip_interface: { vip_interface: "eth1" },
    vip_subnet: { vip_subnet: "24" },
    vip_cidr: { vip_cidr: "24" },
    port: { port: "6444" },
    prometheus_server: { prometheus_server: ":2113" },
    vip_arpRate: { vip_arpRate: "5000" },
    cp_namespace: { cp_namespace: "infra" },
    vip_leaseduration: { vip_leaseduration: "15" },
    vip_renewdeadline: { vip_renewdeadline: "5" },
    vip_retryperiod: { vip_retryperiod: "1" },
    vip_leasename: { vip_leasename: "my-lock" },
    vip_leaderelection: { vip_leaderelection: "true" },
    vip_arp: { vip_arp: "true" },
    cp_enable: { cp_enable: "true" },
    svc_enable: { svc_enable: "false" },
    vip_packet: { vip_packet: "false" },
  };

  it("every mapped name sets its option, and a bad value blames the kube-vip name", () => {
    for (const [name, d] of Object.entries(KUBE_VIP_ENV)) {
      if (d.kind !== "mapped") continue;
      const env = MAPPED_VALUES[name];
      assert.ok(env, `${name}: add a value to MAPPED_VALUES`);
      const t = translateKubeVip(env);
      assert.equal(t.from[d.to], name, `${name} → ${d.to}`);
      assert.ok(OPTIONS.some((o) => o.env === d.to && o.scopes.includes("agent")), `${d.to} is an agent option`);
      // The agent resolves it (with a VIP where the entry is not the VIP).
      resolveConfig({ scope: "agent", version: V, env: { K3VIP_VIP: "10.0.0.5", ...env } });
    }
    refused({ address: "10.0.0.300" }, /^address "10\.0\.0\.300" is not an IPv4 or IPv6 address/);
    refused({ address: "10.0.0.5", vip_leaseduration: "x" }, /^vip_leaseduration "x" is not a number of seconds/);
    refused({ address: "10.0.0.5", cp_namespace: "Kube_System" }, /^cp_namespace "Kube_System" is not a valid Kubernetes name/);
    refused({ address: "10.0.0.5", vip_leasename: "a/b/c" }, /^vip_leasename "a\/b\/c" is not a Lease as namespace\/name/);
    refused({ address: "10.0.0.5", vip_leaderelection: "false" }, /^vip_leaderelection "false" works only in BGP mode/);
    refused({ address: "10.0.0.5", cp_enable: "false" }, /^cp_enable "false" is not supported in this version/);
    refused({ address: "10.0.0.5", vip_packet: "true" }, /^vip_packet "true" is not supported in this version/);
  });

  it("every refused name stops the agent when true, naming it; false is fine", () => {
    for (const [name, d] of Object.entries(KUBE_VIP_ENV)) {
      if (d.kind !== "refused") continue;
      refused({ address: "10.0.0.5", [name]: "true" }, new RegExp(`^${name} "true" is not supported in this version: .+; remove it \\(or set it to false\\)`));
      refused({ address: "10.0.0.5", [name]: "T" }, new RegExp(`^${name} "T" is not supported`));
      assert.deepEqual(translateKubeVip({ [name]: "false" }).ignored, [], name);
    }
  });

  it("every ignored name is reported by name, secrets masked; empty values are unset and silent", () => {
    for (const [name, d] of Object.entries(KUBE_VIP_ENV)) {
      if (d.kind !== "ignored") continue;
      const t = translateKubeVip({ [name]: "s3cret-value" });
      assert.equal(t.ignored.length, 1, name);
      assert.match(t.ignored[0] ?? "", new RegExp(`^${name}=.*: not supported, ignored \\(.+\\)$`));
      if (name.includes("pass")) assert.doesNotMatch(t.ignored[0] ?? "", /s3cret/);
      assert.deepEqual(translateKubeVip({ [name]: "" }).ignored, [], `${name} empty`);
      assert.deepEqual(t.env, {}, `${name} sets nothing`);
    }
    assert.deepEqual(translateKubeVip({ EGRESS_CLEAN: "true" }).ignored, ["egress_clean=true: not supported, ignored (services mode (LoadBalancer Services) is not in this version)"]);
  });

  it("kube-vip's own rules: address beats vip_address, Go booleans, one mode, one VIP, vip_arpRate in ms, vip_subnet's IPv4 part", () => {
    assert.equal(translateKubeVip({ vip_address: "10.0.0.4", address: "10.0.0.5" }).env.K3VIP_VIP, "10.0.0.5");
    assert.equal(translateKubeVip({ vip_address: "10.0.0.4", address: "" }).env.K3VIP_VIP, "10.0.0.4");
    assert.throws(() => translateKubeVip({ cp_enable: "yes" }), /^UsageError: cp_enable "yes" is not a boolean/);
    assert.equal(translateKubeVip({ cp_enable: "True" }).env.K3VIP_CONTROL_PLANE, "true");
    assert.throws(() => translateKubeVip({ vip_arp: "false" }), /no valid kube-vip mode detected/);
    assert.throws(() => translateKubeVip({ address: "10.0.0.5,fd00::5" }), /lists 2 VIPs \(dual stack\): k3vip serves one control-plane VIP/);
    assert.equal(translateKubeVip({ vip_arpRate: "200" }).env.K3VIP_ARP_REFRESH, "3");
    assert.equal(translateKubeVip({ vip_arpRate: "1500" }).env.K3VIP_ARP_REFRESH, "1.5");
    assert.equal(translateKubeVip({ vip_subnet: "32,128" }).env.K3VIP_VIP_SUBNET, "32");
    assert.equal(translateKubeVip({ address: "fd00::5", vip_subnet: "32,64" }).env.K3VIP_VIP_SUBNET, "64");
    assert.equal(translateKubeVip({ vip_subnet: "24", vip_cidr: "16" }).from.K3VIP_VIP_SUBNET, "vip_subnet");
    assert.equal(translateKubeVip({ vip_interface: "auto" }).env.K3VIP_INTERFACE, "");
    assert.equal(translateKubeVip({ vip_nodename: "Server-1" }).nodeName, "server-1");
    assert.equal(translateKubeVip({ vip_leasename: "kv/lock" }).env.K3VIP_HANDOVER_LEASE, "kv/lock");
    assert.equal(translateKubeVip({ cp_namespace: "kv" }).env.K3VIP_HANDOVER_LEASE, "kv/plndr-cp-lock");
    // K3VIP_* beats kube-vip's names.
    assert.equal(resolveConfig({ scope: "agent", version: V, env: { address: "10.0.0.5", K3VIP_VIP: "10.0.0.6" } }).vip, "10.0.0.6");
  });

  it("shape 1 (ARP, control plane + services): refused on svc_enable, with what to do; without it, mapped whole", () => {
    const env = fixtureEnv("arp-services.yaml");
    refused(env, /^svc_enable "true" is not supported in this version: LoadBalancer Services get no VIPs from k3vip yet; turn it off, and keep another load balancer for Services \(kube-vip with cp_enable=false/);
    const c = resolveConfig({ scope: "agent", version: V, env: { ...env, svc_enable: "false" } });
    assert.deepEqual(
      { vip: c.vip, iface: c.interface, subnet: c.vipSubnet, port: c.apiPort, ns: c.namespace, times: [c.leaseDuration, c.renewDeadline, c.retryPeriod], mode: c.mode, handover: c.handoverLease },
      { vip: "192.168.0.40", iface: "ens160", subnet: 32, port: 6443, ns: "kube-system", times: [5, 3, 1], mode: "arp", handover: "kube-system/plndr-cp-lock" },
    );
    assert.deepEqual(translateKubeVip(env).ignored, []);
  });

  it("shape 2 (vip_cidr, cp_namespace, vip_ddns, generator extras): mapped, the rest reported by name", () => {
    const env = fixtureEnv("arp-cidr.yaml");
    const c = resolveConfig({ scope: "agent", version: V, env });
    assert.deepEqual([c.vip, c.interface, c.vipSubnet, c.namespace, c.metricsAddr, c.handoverLease], ["192.168.0.1", "eth0", 24, "kube-system", ":2112", "kube-system/plndr-cp-lock"]);
    assert.deepEqual([c.leaseDuration, c.renewDeadline, c.retryPeriod], [15, 10, 2]);
    const t = translateKubeVip(env);
    assert.equal(t.nodeName, "server-1");
    assert.deepEqual(
      t.ignored.map((l) => l.split("=")[0]),
      ["vip_loglevel", "dns_mode", "dhcp_mode"],
    );
    refused({ ...env, vip_ddns: "true" }, /^vip_ddns "true" is not supported in this version: the VIP would be a DNS name/);
  });

  it("shape 3 (BGP): refused on bgp_enable, naming it", () => {
    refused(fixtureEnv("bgp.yaml"), /^bgp_enable "true" is not supported in this version: BGP is not in this version/);
  });

  it("shape 4 (the kube-vip.io/k3s script's vip_address/port): mapped whole", () => {
    const env = fixtureEnv("k3s-script.yaml");
    const c = resolveConfig({ scope: "agent", version: V, env });
    assert.deepEqual([c.vip, c.interface, c.vipSubnet, c.apiPort, c.namespace, c.controlPlane, c.services.enabled], ["192.168.0.40", "eth0", 32, 6443, "kube-system", true, false]);
    assert.deepEqual(translateKubeVip(env).ignored, []);
  });
});
