import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toVip } from "../index.ts";
import { FakeVipPort } from "./fake.ts";

describe("FakeVipPort", () => {
  const vip = toVip("192.168.1.10", "eth0");
  it("tracks the address and refuses to announce what it does not hold", async () => {
    const f = new FakeVipPort();
    await assert.rejects(f.announce(vip), /not on eth0/);
    await f.add(vip);
    assert.equal(await f.held(vip), true);
    await f.announce(vip);
    await f.remove(vip);
    assert.equal(await f.held(vip), false);
    assert.equal(f.announcements, 1);
    assert.deepEqual(
      f.log.map((x) => x.op),
      ["announce", "add", "held", "announce", "remove", "held"],
    );
  });
  it("rejects an unresolved interface or a family mismatch, and injects failures once", async () => {
    const f = new FakeVipPort();
    await assert.rejects(f.add({ address: "192.168.1.10", family: 4, interface: "" }), /empty interface/);
    await assert.rejects(f.add({ address: "192.168.1.10", family: 6, interface: "eth0" }), /not IPv6/);
    f.failNext("add", new Error("EPERM"));
    await assert.rejects(f.add(vip), /EPERM/);
    await f.add(vip);
    assert.equal(f.isHeld(vip), true);
  });
});
