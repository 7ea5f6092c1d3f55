// The duplicate-address probe a holder runs while its renews fail, with the
// real arping / ndisc6 between lab namespaces: another host answering for
// the VIP is seen, our own copy is not, and a cable pull reads as unusable.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toVip } from "../../src/agent/index.ts";
import { createVipPort, SegmentConflictProbe } from "../../src/host/index.ts";
import { Lab, LAB_VIP4, LAB_VIP6, type LabNode } from "../../src/lab/index.ts";

describe("duplicate-address probe (arping -D / ndisc6) in the lab", () => {
  let lab: Lab;
  let a: LabNode;
  let b: LabNode;
  const probeIn = (n: LabNode) =>
    new SegmentConflictProbe({
      run: (argv) => lab.exec(n.ns, argv),
      readSys: async (iface, attr) => {
        try {
          return (await lab.exec(n.ns, ["cat", `/sys/class/net/${iface}/${attr}`])).stdout.trim();
        } catch {
          return null;
        }
      },
    });
  const vipPort = (n: LabNode) => createVipPort({ run: (argv) => lab.exec(n.ns, argv) });

  before(async () => {
    lab = await Lab.create({ servers: 2, prefix: "k3vcp" });
    [a, b] = lab.servers as [LabNode, LabNode];
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const [family, address] of [
    [4, LAB_VIP4],
    [6, LAB_VIP6],
  ] as const) {
    it(`IPv${family}: clear when only we hold it, conflict when another node does`, async () => {
      const vipA = toVip(address, a.ifname);
      const vipB = toVip(address, b.ifname);
      await vipPort(a).add(vipA);
      try {
        assert.equal((await probeIn(a).check(vipA)).result, "clear", "our own copy does not count");
        await vipPort(b).add(vipB);
        try {
          const r = await probeIn(a).check(vipA);
          assert.equal(r.result, "conflict", r.detail);
        } finally {
          await vipPort(b).remove(vipB);
        }
        assert.equal((await probeIn(a).check(vipA)).result, "clear");
      } finally {
        await vipPort(a).remove(vipA);
      }
    });
  }

  it("no carrier (cable pulled at the switch) → unusable", async () => {
    await lab.linkDown(a);
    try {
      const r = await probeIn(a).check(toVip(LAB_VIP4, a.ifname));
      assert.equal(r.result, "unusable", r.detail);
    } finally {
      await lab.linkUp(a);
    }
  });
});
