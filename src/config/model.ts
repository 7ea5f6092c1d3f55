// The one config model: every CLI flag, environment variable, install.sh
// variable, template value and agent setting is a field of `Config`.

export const MODES = ["arp", "bgp"] as const;
export type Mode = (typeof MODES)[number];

export const DISTROS = ["k3s", "rke2"] as const;
export type Distro = (typeof DISTROS)[number];

export const PULL_POLICIES = ["IfNotPresent", "Always", "Never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export const LOG_FORMATS = ["text", "json"] as const;
export const TAKEOVERS = ["early", "fenced"] as const;
export type Takeover = (typeof TAKEOVERS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface BgpPeer {
  /** Peer address (IPv4 or IPv6 literal). */
  address: string;
  /** Peer AS number (1..4294967295). */
  as: number;
  /** TCP MD5 password (RFC 2385); secret. */
  password?: string;
  /** eBGP multihop TTL; 0 = directly connected (TTL 1). */
  multihop: number;
  /** Local source address for the session. */
  source?: string;
}

export interface Config {
  /** The virtual IP: one IPv4 or IPv6 unicast address, no prefix. */
  vip: string;
  /** Interface to add the VIP to; empty = the one whose subnet holds the VIP. */
  interface: string;
  mode: Mode;
  distro: Distro;
  namespace: string;
  leaseName: string;
  /**
   * kube-vip's control-plane Lease (`namespace/name`; empty: none). The agent
   * starts its election only once that Lease is gone, released or expired and
   * the VIP answers nowhere: a swap from kube-vip never has two holders.
   */
  handoverLease: string;
  /** Seconds a Lease is valid after its last renew (Lease.leaseDurationSeconds). */
  leaseDuration: number;
  /** Seconds the holder keeps trying to renew before it counts the renew as failed. */
  renewDeadline: number;
  /** Seconds between election attempts (renew on the holder, poll on followers). */
  retryPeriod: number;
  image: string;
  imagePullPolicy: PullPolicy;
  /** host:port (or :port) for /metrics, /healthz, /readyz. */
  metricsAddr: string;
  /** The API server port served behind the VIP (kube-vip `port`). */
  apiPort: number;
  /**
   * Prefix length of the network the VIP lives in, used only to reject its
   * network/broadcast address. The VIP itself is always added as /32 (/128).
   */
  vipSubnet: number;
  /** Elect one holder (true) or let every node announce (BGP ECMP only). */
  leaderElection: boolean;
  /** Seconds between gratuitous ARP / unsolicited NA refreshes while holding. */
  arpRefresh: number;
  controlPlane: boolean;
  bgp: {
    localAs: number;
    routerId: string;
    peers: BgpPeer[];
    /** Read peers, AS and router ID from Equinix Metal's metadata service. */
    equinixMetal: boolean;
  };
  services: {
    enabled: boolean;
    /** Address pools: CIDRs or `first-last` ranges. */
    pools: string[];
  };
  logFormat: LogFormat;
  /** UDP port of peer heartbeats; 0 = none (the Lease's rules alone). */
  heartbeatPort: number;
  /** HMAC key of the heartbeats (hex or base64, ≥ 16 bytes); secret. "" = the installers make one. */
  heartbeatKey: string;
  /** After a takeover from a holder that did not release: add the VIP at once, or wait out its kernel lifetime. */
  takeover: Takeover;
}

export const DEFAULT_IMAGE_REPO = "ghcr.io/k3vip/k3vip";

/** RKE2's supervisor (agent join / certificates) listens here on every server. */
export const RKE2_SUPERVISOR_PORT = 9345;

/**
 * Defaults are sized for Raspberry Pi servers whose embedded etcd sits on an
 * SD card: a renew every 2 s keeps API writes at 0.5/s, and a slow renew
 * never drops the VIP (the holder keeps it through a brown-out), so the lease
 * can stay short enough for a failover within ~lease duration.
 * client-go's rule holds: leaseDuration > renewDeadline > 1.2 × retryPeriod.
 */
export function defaults(version: string): Config {
  return {
    vip: "",
    interface: "",
    mode: "arp",
    distro: "k3s",
    namespace: "kube-system",
    leaseName: "k3vip-cp",
    handoverLease: "kube-system/plndr-cp-lock",
    leaseDuration: 6,
    renewDeadline: 4,
    retryPeriod: 2,
    image: `${DEFAULT_IMAGE_REPO}:v${version}`,
    imagePullPolicy: "IfNotPresent",
    metricsAddr: ":2112",
    apiPort: 6443,
    vipSubnet: 0,
    leaderElection: true,
    arpRefresh: 10,
    controlPlane: true,
    bgp: { localAs: 0, routerId: "", peers: [], equinixMetal: false },
    services: { enabled: false, pools: [] },
    logFormat: "text",
    heartbeatPort: 9446,
    heartbeatKey: "",
    takeover: "early",
  };
}
