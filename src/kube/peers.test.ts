import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pickAddress } from "./peers.ts";

describe("peer addresses from Node status", () => {
  const addrs = [
    { type: "Hostname", address: "srv1" },
    { type: "ExternalIP", address: "203.0.113.5" },
    { type: "InternalIP", address: "fd00::5" },
    { type: "InternalIP", address: "192.168.0.5" },
  ];
  it("the InternalIP of the VIP's family, then the ExternalIP", () => {
    assert.equal(pickAddress(addrs, 4), "192.168.0.5");
    assert.equal(pickAddress(addrs, 6), "fd00::5");
    assert.equal(pickAddress(addrs.filter((a) => a.address !== "192.168.0.5"), 4), "203.0.113.5");
    assert.equal(pickAddress([{ type: "Hostname", address: "srv1" }], 4), undefined);
  });
});
