import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { decodeHeartbeat, encodeHeartbeat, MAC_BYTES, NEVER, ReplayGuard, type Heartbeat } from "./codec.ts";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef", "utf8");
const hb = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  node: "srv1",
  boot: 0x1122334455667788n,
  seq: 42n,
  wallMs: 1_800_000_000_000,
  holding: true,
  leader: true,
  apiOk: true,
  holderSilent: false,
  holderApiDown: false,
  transitions: 7,
  holder: "srv1",
  holderSeq: 41n,
  silentMs: 0,
  apiAgoMs: 120,
  ...over,
});

describe("heartbeat codec", () => {
  it("round-trips every field and flag", () => {
    for (const h of [
      hb(),
      hb({ holding: false, leader: false, apiOk: false, holderSilent: true, holderApiDown: true, holder: "", holderSeq: 0n, silentMs: NEVER, apiAgoMs: NEVER }),
      hb({ node: "ünïcode-node.example.com", holder: "x".repeat(253), boot: 2n ** 64n - 1n, seq: 2n ** 63n }),
    ]) {
      const d = decodeHeartbeat(encodeHeartbeat(h, KEY), KEY);
      assert.ok(d.ok);
      assert.deepEqual(d.hb, h);
    }
  });

  it("a fixed datagram decodes to the same fields (the format is stable)", () => {
    const buf = encodeHeartbeat(hb(), KEY);
    assert.equal(buf.subarray(0, 4).toString(), "k3hb");
    assert.equal(buf[4], 1, "version");
    assert.equal(buf[5], 1 | 2 | 4, "flags: holding, leader, API ok");
    assert.equal(buf.length, 4 + 1 + 1 + 1 + 4 + 8 + 8 + 8 + 4 + 1 + 4 + 8 + 4 + 4 + MAC_BYTES);
    assert.equal(buf.toString("hex", 0, 11), "6b336862" + "01" + "07" + "04" + Buffer.from("srv1").toString("hex"));
  });

  it("drops a datagram signed with another key, or with any single bit flipped", () => {
    const buf = encodeHeartbeat(hb(), KEY);
    assert.deepEqual(decodeHeartbeat(buf, randomBytes(32)), { ok: false, reason: "mac" });
    for (let i = 5; i < buf.length; i++) {
      const b = Buffer.from(buf);
      b[i] = (b[i] ?? 0) ^ 0x01;
      const d = decodeHeartbeat(b, KEY);
      assert.equal(d.ok, false, `bit flip at byte ${i} accepted`);
    }
  });

  it("never throws on garbage: short, wrong magic, wrong version, truncated, or lengths past the end (even when signed)", () => {
    const good = encodeHeartbeat(hb(), KEY);
    assert.deepEqual(decodeHeartbeat(Buffer.alloc(3), KEY), { ok: false, reason: "short" });
    assert.deepEqual(decodeHeartbeat(Buffer.concat([Buffer.from("xxxx"), good.subarray(4)]), KEY), { ok: false, reason: "magic" });
    const v2 = Buffer.from(good);
    v2[4] = 2;
    assert.deepEqual(decodeHeartbeat(v2, KEY), { ok: false, reason: "version" });
    assert.equal(decodeHeartbeat(good.subarray(0, good.length - 1), KEY).ok, false);
    // A signed body whose name length points past the end: malformed, not a crash.
    const body = Buffer.from(good.subarray(0, good.length - MAC_BYTES));
    body[6] = 250;
    const forged = Buffer.concat([body, createHmac("sha256", KEY).update(body).digest().subarray(0, MAC_BYTES)]);
    assert.deepEqual(decodeHeartbeat(forged, KEY), { ok: false, reason: "malformed" });
    for (let i = 0; i < 2000; i++) assert.equal(decodeHeartbeat(randomBytes(Math.floor(Math.random() * 80)), KEY).ok, false);
  });

  it("refuses to encode names it could not carry, or a short key", () => {
    assert.throws(() => encodeHeartbeat(hb({ node: "" }), KEY), /node name/);
    assert.throws(() => encodeHeartbeat(hb({ node: "x".repeat(254) }), KEY), /node name/);
    assert.throws(() => encodeHeartbeat(hb(), Buffer.alloc(8)), /at least 16 bytes/);
  });
});

describe("replay protection", () => {
  const NOW = 1_800_000_000_000;
  it("within one process: only growing seq; a replayed or reordered older datagram is dropped", () => {
    const g = new ReplayGuard();
    assert.deepEqual(g.accept(hb({ seq: 5n, wallMs: NOW }), NOW), { ok: true });
    assert.deepEqual(g.accept(hb({ seq: 5n, wallMs: NOW }), NOW), { ok: false, reason: "replay" });
    assert.deepEqual(g.accept(hb({ seq: 4n, wallMs: NOW }), NOW), { ok: false, reason: "replay" });
    assert.deepEqual(g.accept(hb({ seq: 6n, wallMs: NOW + 200 }), NOW), { ok: true });
  });
  it("a restarted agent (new boot) is accepted only with a later wall clock; the old process's datagrams are not", () => {
    const g = new ReplayGuard();
    assert.ok(g.accept(hb({ boot: 1n, seq: 900n, wallMs: NOW }), NOW).ok);
    assert.ok(g.accept(hb({ boot: 2n, seq: 1n, wallMs: NOW + 1000 }), NOW + 1000).ok, "new process, seq starts over");
    assert.deepEqual(g.accept(hb({ boot: 1n, seq: 901n, wallMs: NOW + 500 }), NOW + 1000), { ok: false, reason: "replay" });
  });
  it("nothing older (or newer) than the window by this node's clock", () => {
    const g = new ReplayGuard(30_000);
    assert.deepEqual(g.accept(hb({ wallMs: NOW - 30_001 }), NOW), { ok: false, reason: "stale" });
    assert.deepEqual(g.accept(hb({ wallMs: NOW + 30_001 }), NOW), { ok: false, reason: "stale" });
    assert.ok(g.accept(hb({ wallMs: NOW - 29_000 }), NOW).ok);
  });
  it("a running peer whose wall clock jumps (an NTP step, either way) is still heard; its next boot needs a clock within the window", () => {
    const g = new ReplayGuard(30_000);
    assert.ok(g.accept(hb({ boot: 7n, seq: 1n, wallMs: NOW }), NOW).ok);
    assert.ok(g.accept(hb({ boot: 7n, seq: 2n, wallMs: NOW + 3_600_000 }), NOW + 200).ok, "an hour ahead");
    assert.ok(g.accept(hb({ boot: 7n, seq: 3n, wallMs: NOW - 3_600_000 }), NOW + 400).ok, "an hour behind");
    assert.deepEqual(g.accept(hb({ boot: 7n, seq: 3n, wallMs: NOW }), NOW + 600), { ok: false, reason: "replay" }, "seq still rules within a boot");
    assert.deepEqual(g.accept(hb({ boot: 8n, seq: 1n, wallMs: NOW + 3_600_000 }), NOW + 800), { ok: false, reason: "stale" }, "a new boot an hour ahead");
    assert.ok(g.accept(hb({ boot: 8n, seq: 2n, wallMs: NOW + 900 }), NOW + 900).ok, "once its clock is right");
  });
  it("a receiver that just started admits nobody's datagram from outside the window (a replay hours later)", () => {
    const g = new ReplayGuard(30_000);
    assert.deepEqual(g.accept(hb({ boot: 7n, seq: 1n, wallMs: NOW - 3_600_000 }), NOW), { ok: false, reason: "stale" });
  });
  it("senders are tracked apart", () => {
    const g = new ReplayGuard();
    assert.ok(g.accept(hb({ node: "a", seq: 10n, wallMs: NOW }), NOW).ok);
    assert.ok(g.accept(hb({ node: "b", seq: 1n, wallMs: NOW }), NOW).ok);
  });
});
