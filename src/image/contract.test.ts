// The contract between the image and the DaemonSet that runs it: the
// manifest's default image is the tag the archive carries, its command/args
// are the image's entrypoint/cmd, and the container gets what the lab's runc
// config grants (NET_ADMIN + NET_RAW, read-only rootfs).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { resolveConfig } from "../config/index.ts";
import { CMD, ENTRYPOINT, defaultImageRef } from "./index.ts";
import { renderAddon } from "../render/index.ts";
import { VERSION } from "../version.ts";

interface Container {
  image: string;
  imagePullPolicy: string;
  command: string[];
  args: string[];
  securityContext: { readOnlyRootFilesystem: boolean; privileged: boolean; capabilities: { add: string[]; drop: string[] } };
}

function daemonSetContainer(): Container {
  const config = resolveConfig({ scope: "install", version: VERSION, flags: { vip: "192.168.0.10", interface: "eth0" } });
  const docs = parseAllDocuments(renderAddon(config)).map((d) => d.toJSON() as { kind: string; spec?: { template?: { spec?: { containers?: Container[] } } } });
  const ds = docs.find((d) => d.kind === "DaemonSet");
  const c = ds?.spec?.template?.spec?.containers?.[0];
  assert.ok(c, "the add-on has a DaemonSet with a container");
  return c;
}

describe("image ↔ DaemonSet contract", () => {
  it("the DaemonSet's default image is the tag `k3vip image build` writes, kept if present", () => {
    const c = daemonSetContainer();
    assert.equal(c.image, defaultImageRef());
    assert.equal(c.imagePullPolicy, "IfNotPresent");
  });

  it("command and args are the image's entrypoint and cmd", () => {
    const c = daemonSetContainer();
    assert.deepEqual(c.command, ENTRYPOINT);
    assert.deepEqual(c.args, CMD);
  });

  it("the container gets what the lab's runc test grants: NET_ADMIN and NET_RAW, read-only rootfs", () => {
    const s = daemonSetContainer().securityContext;
    assert.equal(s.readOnlyRootFilesystem, true);
    assert.equal(s.privileged, false);
    assert.deepEqual([...s.capabilities.add].sort(), ["NET_ADMIN", "NET_RAW"]);
    assert.deepEqual(s.capabilities.drop, ["ALL"]);
  });
});
