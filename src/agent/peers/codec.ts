// The heartbeat datagram: plain encode/decode over bytes, with an HMAC, so a
// captured packet can be tested and a forged or altered one is dropped.
//
// Layout (big-endian), version 1:
//   0  "k3hb"            magic
//   4  u8  version       1
//   5  u8  flags         HOLDING | LEADER | API_OK | HOLDER_SILENT | HOLDER_API_DOWN
//   6  u8  name length   then the sender's node name (UTF-8, 1–253 bytes)
//      u64 boot          random per agent process
//      u64 seq           per boot, strictly increasing
//      u64 wallMs        sender's wall clock at send (freshness window only)
//      u32 transitions   the Lease's leaseTransitions as the sender last saw it
//      u8  holder length then the Lease holder's name as the sender sees it (0–253)
//      u64 holderSeq     the last seq the sender received from that holder (0: none)
//      u32 silentMs      ms since the sender last heard that holder (0xffffffff: never)
//      u32 apiAgoMs      ms since the sender's last successful cluster API request (0xffffffff: never)
//      16 bytes          HMAC-SHA256 over everything before it, truncated
import { createHmac, timingSafeEqual } from "node:crypto";

export const MAGIC = Buffer.from("k3hb", "ascii");
export const VERSION = 1;
export const MAC_BYTES = 16;
export const NEVER = 0xffffffff;
const MAX_NAME = 253;

export const FLAG = {
  /** The sender carries the VIP now. */
  HOLDING: 1,
  /** The sender holds the Lease (as far as it knows). */
  LEADER: 2,
  /** The sender's local API server serves. */
  API_OK: 4,
  /** The sender has not heard the holder for the silence threshold. */
  HOLDER_SILENT: 8,
  /** The holder told the sender its local API server is down. */
  HOLDER_API_DOWN: 16,
} as const;

export interface Heartbeat {
  node: string;
  boot: bigint;
  seq: bigint;
  wallMs: number;
  holding: boolean;
  leader: boolean;
  apiOk: boolean;
  holderSilent: boolean;
  holderApiDown: boolean;
  transitions: number;
  /** The Lease holder as the sender sees it ("" = none), and what it heard of it. */
  holder: string;
  holderSeq: bigint;
  silentMs: number;
  apiAgoMs: number;
}

export class HeartbeatError extends Error {
  override readonly name = "HeartbeatError";
}

function nameBytes(what: string, s: string, min: number): Buffer {
  const b = Buffer.from(s, "utf8");
  if (b.length < min || b.length > MAX_NAME) throw new HeartbeatError(`${what} must be ${min}–${MAX_NAME} bytes, got ${b.length}`);
  return b;
}

const u32 = (n: number) => Math.max(0, Math.min(NEVER, Math.round(n)));

/** The datagram for `hb`, signed with `key`. */
export function encodeHeartbeat(hb: Heartbeat, key: Buffer): Buffer {
  if (key.length < 16) throw new HeartbeatError("heartbeat key must be at least 16 bytes");
  const name = nameBytes("node name", hb.node, 1);
  const holder = nameBytes("holder name", hb.holder, 0);
  const body = Buffer.alloc(4 + 1 + 1 + 1 + name.length + 8 + 8 + 8 + 4 + 1 + holder.length + 8 + 4 + 4);
  let o = 0;
  o += MAGIC.copy(body, o);
  o = body.writeUInt8(VERSION, o);
  const flags = (hb.holding ? FLAG.HOLDING : 0) | (hb.leader ? FLAG.LEADER : 0) | (hb.apiOk ? FLAG.API_OK : 0) | (hb.holderSilent ? FLAG.HOLDER_SILENT : 0) | (hb.holderApiDown ? FLAG.HOLDER_API_DOWN : 0);
  o = body.writeUInt8(flags, o);
  o = body.writeUInt8(name.length, o);
  o += name.copy(body, o);
  o = body.writeBigUInt64BE(BigInt.asUintN(64, hb.boot), o);
  o = body.writeBigUInt64BE(BigInt.asUintN(64, hb.seq), o);
  o = body.writeBigUInt64BE(BigInt(Math.max(0, Math.trunc(hb.wallMs))), o);
  o = body.writeUInt32BE(u32(hb.transitions), o);
  o = body.writeUInt8(holder.length, o);
  o += holder.copy(body, o);
  o = body.writeBigUInt64BE(BigInt.asUintN(64, hb.holderSeq), o);
  o = body.writeUInt32BE(u32(hb.silentMs), o);
  body.writeUInt32BE(u32(hb.apiAgoMs), o);
  return Buffer.concat([body, mac(key, body)]);
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac("sha256", key).update(body).digest().subarray(0, MAC_BYTES);
}

/** Why a datagram was dropped (counted by reason in the metrics). */
export type DropReason = "short" | "magic" | "version" | "mac" | "malformed" | "stale" | "replay";

export type Decoded = { ok: true; hb: Heartbeat } | { ok: false; reason: DropReason };

/** Checks the MAC first: nothing of an unsigned datagram is read. Never throws. */
export function decodeHeartbeat(buf: Buffer, key: Buffer): Decoded {
  if (buf.length < 4 + 2 + MAC_BYTES) return { ok: false, reason: "short" };
  if (!buf.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: "magic" };
  if (buf.readUInt8(4) !== VERSION) return { ok: false, reason: "version" };
  const body = buf.subarray(0, buf.length - MAC_BYTES);
  const got = buf.subarray(buf.length - MAC_BYTES);
  if (!timingSafeEqual(got, mac(key, body))) return { ok: false, reason: "mac" };
  try {
    let o = 5;
    const flags = body.readUInt8(o++);
    const nl = body.readUInt8(o++);
    if (nl === 0) return { ok: false, reason: "malformed" };
    const node = body.toString("utf8", o, o + nl);
    o += nl;
    const boot = body.readBigUInt64BE(o);
    const seq = body.readBigUInt64BE(o + 8);
    const wallMs = Number(body.readBigUInt64BE(o + 16));
    const transitions = body.readUInt32BE(o + 24);
    o += 28;
    const hl = body.readUInt8(o++);
    const holder = body.toString("utf8", o, o + hl);
    o += hl;
    const holderSeq = body.readBigUInt64BE(o);
    const silentMs = body.readUInt32BE(o + 8);
    const apiAgoMs = body.readUInt32BE(o + 12);
    if (o + 16 !== body.length) return { ok: false, reason: "malformed" };
    return {
      ok: true,
      hb: {
        node,
        boot,
        seq,
        wallMs,
        holding: (flags & FLAG.HOLDING) !== 0,
        leader: (flags & FLAG.LEADER) !== 0,
        apiOk: (flags & FLAG.API_OK) !== 0,
        holderSilent: (flags & FLAG.HOLDER_SILENT) !== 0,
        holderApiDown: (flags & FLAG.HOLDER_API_DOWN) !== 0,
        transitions,
        holder,
        holderSeq,
        silentMs,
        apiAgoMs,
      },
    };
  } catch {
    // A length byte pointing past the end (RangeError from the reads).
    return { ok: false, reason: "malformed" };
  }
}

/**
 * Replay protection per sender. Within one boot (one agent process) seq must
 * grow: a replayed or reordered older datagram is dropped, and the sender's
 * wall clock no longer matters (NTP stepping it, a Pi without an RTC syncing
 * late, must not silence a running peer). A boot is admitted only when its
 * datagram's wall clock is within `windowMs` of the receiver's, and, after a
 * restart of the sender, later than the last datagram accepted from its old
 * boot: an old process's datagrams cannot be replayed after a restart, nor
 * any datagram much later to a receiver that has just started.
 */
export class ReplayGuard {
  private readonly last = new Map<string, { boot: bigint; seq: bigint; wallMs: number }>();
  constructor(private readonly windowMs = 30_000) {}

  accept(hb: Heartbeat, nowWallMs: number): { ok: true } | { ok: false; reason: DropReason } {
    const prev = this.last.get(hb.node);
    if (prev !== undefined && hb.boot === prev.boot) {
      if (hb.seq <= prev.seq) return { ok: false, reason: "replay" };
    } else {
      if (Math.abs(nowWallMs - hb.wallMs) > this.windowMs) return { ok: false, reason: "stale" };
      if (prev !== undefined && hb.wallMs <= prev.wallMs) return { ok: false, reason: "replay" };
    }
    this.last.set(hb.node, { boot: hb.boot, seq: hb.seq, wallMs: hb.wallMs });
    return { ok: true };
  }
}
