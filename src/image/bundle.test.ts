// runcConfig: umoci's generated config.json → what the DaemonSet grants.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runcConfig } from "./bundle.ts";

const umoci = {
  ociVersion: "1.0.0",
  process: {
    terminal: true,
    args: ["/usr/local/bin/node", "/opt/k3vip/k3vip.mjs", "agent"],
    env: ["PATH=/usr/bin", "HOME=/"],
    capabilities: { bounding: ["CAP_KILL", "CAP_AUDIT_WRITE"], effective: ["CAP_KILL"], inheritable: ["CAP_KILL"], permitted: ["CAP_KILL"], ambient: ["CAP_KILL"] },
  },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  linux: {
    namespaces: [{ type: "pid" }, { type: "network" }, { type: "user" }, { type: "mount" }],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
  },
};

describe("runcConfig", () => {
  it("drops the user and network namespaces and id mappings, keeps the rest", () => {
    const c = runcConfig(umoci) as typeof umoci;
    assert.deepEqual(c.linux.namespaces, [{ type: "pid" }, { type: "mount" }]);
    assert.equal("uidMappings" in c.linux, false);
    assert.equal("gidMappings" in c.linux, false);
    assert.deepEqual(c.process.args, umoci.process.args);
  });

  it("grants NET_ADMIN and NET_RAW only, no terminal, no new privileges, read-only rootfs", () => {
    const c = runcConfig(umoci) as { process: Record<string, unknown>; root: Record<string, unknown> };
    const caps = ["CAP_NET_ADMIN", "CAP_NET_RAW"];
    assert.deepEqual(c.process.capabilities, { bounding: caps, effective: caps, permitted: caps });
    assert.equal(c.process.terminal, false);
    assert.equal(c.process.noNewPrivileges, true);
    assert.deepEqual(c.root, { path: "rootfs", readonly: true });
  });

  it("joins a named network namespace, binds files read-only, overrides args and adds env", () => {
    const c = runcConfig(umoci, {
      netns: "/run/netns/k3vl-1-srv1",
      args: ["/usr/bin/ip", "-j", "addr"],
      env: ["A=1"],
      binds: [{ source: "/tmp/kc", destination: "/etc/k3vip/kubeconfig" }],
      capabilities: ["NET_ADMIN"],
    }) as { linux: { namespaces: unknown[] }; process: { args: string[]; env: string[]; capabilities: { bounding: string[] } }; mounts: unknown[] };
    assert.deepEqual(c.linux.namespaces.at(-1), { type: "network", path: "/run/netns/k3vl-1-srv1" });
    assert.deepEqual(c.process.args, ["/usr/bin/ip", "-j", "addr"]);
    assert.deepEqual(c.process.env, ["PATH=/usr/bin", "HOME=/", "A=1"]);
    assert.deepEqual(c.process.capabilities.bounding, ["CAP_NET_ADMIN"]);
    assert.deepEqual(c.mounts.at(-1), { destination: "/etc/k3vip/kubeconfig", type: "bind", source: "/tmp/kc", options: ["rbind", "ro"] });
  });

  it("does not modify its input", () => {
    const before = JSON.stringify(umoci);
    runcConfig(umoci, { netns: "/run/netns/x" });
    assert.equal(JSON.stringify(umoci), before);
  });
});
