// Heartbeats over UDP on the node network: one socket bound to the
// heartbeat port on every address (the agent runs with hostNetwork), one
// datagram per peer per beat. Every datagram is checked (MAC, then replay)
// before anything of it is used; what fails is counted by reason.
import { createSocket, type Socket } from "node:dgram";
// The peers' face, not the agent's: the lab's netns tools load host/ and must not pull in prom-client.
import { decodeHeartbeat, encodeHeartbeat, ReplayGuard, type DropReason, type Heartbeat, type HeartbeatPort, type PeerAddress } from "../agent/peers/index.ts";

export interface UdpHeartbeatOptions {
  port: number;
  family: 4 | 6;
  key: Buffer;
  /** Address to bind (default: every address of the family). */
  bind?: string;
  onHeartbeat: (hb: Heartbeat) => void;
  onDrop?: (reason: DropReason | "send") => void;
  /** Wall clock for the replay window (tests). */
  wallNow?: () => number;
}

export class UdpHeartbeats implements HeartbeatPort {
  private readonly socket: Socket;
  private readonly guard = new ReplayGuard();
  readonly ready: Promise<void>;

  constructor(private readonly o: UdpHeartbeatOptions) {
    this.socket = createSocket({ type: o.family === 4 ? "udp4" : "udp6", reuseAddr: false });
    this.socket.on("message", (msg) => this.receive(msg));
    // A send error (no route while a link is down) is a lost datagram, not a crash.
    this.socket.on("error", () => o.onDrop?.("send"));
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.bind({ port: o.port, address: o.bind ?? (o.family === 4 ? "0.0.0.0" : "::") }, () => {
        this.socket.off("error", reject);
        resolve();
      });
    });
  }

  /** The bound port (port 0 in tests). */
  get port(): number {
    return this.socket.address().port;
  }

  private receive(msg: Buffer): void {
    const d = decodeHeartbeat(msg, this.o.key);
    if (!d.ok) {
      this.o.onDrop?.(d.reason);
      return;
    }
    const g = this.guard.accept(d.hb, (this.o.wallNow ?? Date.now)());
    if (!g.ok) {
      this.o.onDrop?.(g.reason);
      return;
    }
    this.o.onHeartbeat(d.hb);
  }

  send(hb: Heartbeat, to: readonly PeerAddress[]): void {
    const buf = encodeHeartbeat(hb, this.o.key);
    for (const p of to) {
      if (p.node === hb.node) continue;
      this.socket.send(buf, this.o.port, p.address, (err) => {
        if (err) this.o.onDrop?.("send");
      });
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
