import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { heartbeatKey } from "./run-agent.ts";

describe("K3VIP_HEARTBEAT_KEY", () => {
  it("hex or base64, at least 16 bytes; empty or short is refused with the fix", () => {
    assert.equal(heartbeatKey("00112233445566778899aabbccddeeff").length, 16);
    assert.equal(heartbeatKey(Buffer.alloc(32, 1).toString("base64")).length, 32);
    assert.throws(() => heartbeatKey(undefined), /K3VIP_HEARTBEAT_KEY is empty: .*head -c 32 \/dev\/urandom \| base64/);
    assert.throws(() => heartbeatKey("abcd"), /2 bytes: it must be at least 16/);
  });
});
