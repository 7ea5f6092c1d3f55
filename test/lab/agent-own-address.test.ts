// The agent must never take the node's own address off its interface (it
// once did: a VIP equal to eth0's address was "found at start" and removed,
// leaving the server with no IPv4 address). Real `k3vip agent` processes and
// the real adapter in lab namespaces.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { toVip } from "../../src/agent/index.ts";
import { createVipPort, VipError } from "../../src/host/index.ts";
import { Lab, type LabNode } from "../../src/lab/index.ts";

const BUNDLE = fileURLToPath(new URL("../../dist/k3vip.mjs", import.meta.url));

describe("the node's own address is never the agent's to remove", () => {
  let lab: Lab;
  let srv: LabNode;
  const addrs = async (n: LabNode) => {
    const [link] = JSON.parse((await lab.exec(n.ns, ["ip", "-j", "addr", "show", "dev", n.ifname])).stdout) as { addr_info: { local: string; prefixlen: number }[] }[];
    return link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  };

  before(async () => {
    if (!existsSync(BUNDLE)) spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    lab = await Lab.create({ servers: 1, prefix: "k3vown" });
    srv = lab.servers[0]!;
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: k3vip agent with the VIP set to eth0's own address exits 2 with one line and eth0 keeps it`, async () => {
      const own = family === 4 ? srv.ipv4 : srv.ipv6;
      const before = await addrs(srv);
      const r = spawnSync("ip", ["netns", "exec", srv.ns, process.execPath, BUNDLE, "agent"], {
        env: { ...process.env, K3VIP_VIP: own, K3VIP_INTERFACE: srv.ifname, NODE_NAME: "n1", KUBECONFIG: "/nonexistent" },
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? "", new RegExp(`the VIP ${own} is this node's own address on eth0 .*; pick a free address in the subnet`));
      assert.deepEqual(await addrs(srv), before);
    });
  }

  it("the real adapter: add refused, remove a no-op, for the own address and for an unmarked /32", async () => {
    const port = createVipPort({ run: (argv) => lab.exec(srv.ns, argv) });
    const own = toVip(srv.ipv4, srv.ifname);
    await assert.rejects(port.add(own), (e: Error) => e instanceof VipError && /own address/.test(e.message));
    await port.remove(own);
    assert.ok((await addrs(srv)).includes(`${srv.ipv4}/24`));

    // What kube-vip leaves: a plain /32.
    await lab.exec(srv.ns, ["ip", "addr", "add", "198.18.0.77/32", "dev", srv.ifname]);
    const other = toVip("198.18.0.77", srv.ifname);
    assert.equal(await port.held(other), false);
    await assert.rejects(port.add(other), /without k3vip's mark/);
    await port.remove(other);
    assert.ok((await addrs(srv)).includes("198.18.0.77/32"));
    await lab.exec(srv.ns, ["ip", "addr", "del", "198.18.0.77/32", "dev", srv.ifname]);

    // Its own copy: marked, and removed.
    const vip = toVip("198.18.0.78", srv.ifname);
    await port.add(vip);
    const [link] = JSON.parse((await lab.exec(srv.ns, ["ip", "-j", "addr", "show", "dev", srv.ifname])).stdout) as { addr_info: { local: string; label?: string; noprefixroute?: boolean }[] }[];
    const mine = link!.addr_info.find((a) => a.local === "198.18.0.78");
    assert.deepEqual([mine?.label, mine?.noprefixroute], ["eth0:k3vip", true]);
    await port.remove(vip);
    assert.ok(!(await addrs(srv)).includes("198.18.0.78/32"));
  });
});
