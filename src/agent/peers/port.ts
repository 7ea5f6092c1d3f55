import type { Heartbeat } from "./codec.ts";

/** A server that runs an agent, and the node address its heartbeats go to. */
export interface PeerAddress {
  node: string;
  address: string;
}

/** Sends heartbeats; what arrives is handed to the callback given when it was made. Real: UDP (src/host/heartbeat.ts). */
export interface HeartbeatPort {
  send(hb: Heartbeat, to: readonly PeerAddress[]): void;
  close(): Promise<void>;
}

/** The servers (this one included) with their addresses. Real: control-plane Nodes from the API (src/kube/peers.ts). */
export interface PeerDirectory {
  list(): Promise<PeerAddress[]>;
}
