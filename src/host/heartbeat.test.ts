// The UDP heartbeat transport on loopback: what arrives signed with the key
// is delivered once; another key, a replay or garbage is dropped and counted.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { describe, it } from "node:test";
import { encodeHeartbeat, type Heartbeat } from "../agent/index.ts";
import { UdpHeartbeats } from "./heartbeat.ts";

const KEY = Buffer.alloc(32, 7);
const hb = (seq: bigint, over: Partial<Heartbeat> = {}): Heartbeat => ({
  node: "srv2",
  boot: 9n,
  seq,
  wallMs: Date.now(),
  holding: false,
  leader: false,
  apiOk: true,
  holderSilent: false,
  holderApiDown: false,
  transitions: 1,
  holder: "srv1",
  holderSeq: 3n,
  silentMs: 10,
  apiAgoMs: 100,
  ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("UDP heartbeats (loopback)", () => {
  it("delivers a signed heartbeat; drops another key's, a replay and garbage, by reason", async () => {
    const got: Heartbeat[] = [];
    const drops: string[] = [];
    const rx = new UdpHeartbeats({ port: 0, family: 4, key: KEY, bind: "127.0.0.1", onHeartbeat: (h) => got.push(h), onDrop: (r) => drops.push(r) });
    await rx.ready;
    const raw = createSocket("udp4");
    const send = (b: Buffer) => new Promise<void>((r) => raw.send(b, rx.port, "127.0.0.1", () => r()));
    try {
      await send(encodeHeartbeat(hb(5n), KEY));
      await send(encodeHeartbeat(hb(5n), KEY)); // replayed
      await send(encodeHeartbeat(hb(6n), Buffer.alloc(32, 8))); // another key
      await send(Buffer.from("not a heartbeat at all"));
      await send(encodeHeartbeat(hb(7n, { boot: 99n, wallMs: Date.now() - 60_000 }), KEY)); // a new boot, too old
      await send(encodeHeartbeat(hb(8n), KEY));
      for (let i = 0; i < 100 && got.length + drops.length < 6; i++) await sleep(10);
      assert.deepEqual(got.map((h) => h.seq), [5n, 8n]);
      assert.deepEqual(drops.sort(), ["mac", "magic", "replay", "stale"]);
    } finally {
      raw.close();
      await rx.close();
    }
  });

  it("sends to every peer but itself, on the heartbeat port", async () => {
    const got: Heartbeat[] = [];
    const rx = new UdpHeartbeats({ port: 0, family: 4, key: KEY, bind: "127.0.0.1", onHeartbeat: (h) => got.push(h) });
    await rx.ready;
    // Every agent listens on the one configured port: the sender binds it on another loopback address.
    const tx = new UdpHeartbeats({ port: rx.port, family: 4, key: KEY, bind: "127.0.0.2", onHeartbeat: () => undefined });
    await tx.ready;
    try {
      tx.send(hb(1n), [
        { node: "srv2", address: "127.0.0.9" },
        { node: "srv1", address: "127.0.0.1" },
      ]);
      for (let i = 0; i < 100 && got.length < 1; i++) await sleep(10);
      assert.equal(got.length, 1, "one datagram: none to itself");
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});
