// Peer heartbeats: the datagram (codec.ts) and the majority rules (quorum.ts).
export { decodeHeartbeat, encodeHeartbeat, FLAG, HeartbeatError, MAC_BYTES, NEVER, ReplayGuard, type Decoded, type DropReason, type Heartbeat } from "./codec.ts";
export { ackedSince, candidateRank, holderGaveUp, majority, peersReachedApi, selfSilent, silentVoters, takeoverBacked, type FollowerView, type Heard, type SentLog } from "./quorum.ts";
export type { HeartbeatPort, PeerAddress, PeerDirectory } from "./port.ts";
