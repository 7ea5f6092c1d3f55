// The one declarative table from flag / environment names to config fields.
// CLI flags, K3VIP_* variables, kube-vip aliases, install.sh variables,
// docs/options.md and the DaemonSet's env are all generated from it.
import type { Config } from "./model.ts";
import { DISTROS, LOG_FORMATS, MODES, PULL_POLICIES, TAKEOVERS } from "./model.ts";
import {
  formatPeers,
  maskPeers,
  parseBool,
  parseDnsLabel,
  parseDnsSubdomain,
  parseEnum,
  parseHeartbeatKey,
  parseImage,
  parseInteger,
  parseInterface,
  parseLeaseRef,
  parseListenAddr,
  parsePeers,
  parsePools,
  parseRouterId,
  parseSeconds,
  parseVip,
} from "./values.ts";

/** Where an option is read. `agent` options are also rendered into the DaemonSet env. */
export type Scope = "install" | "agent";

export interface OptionSpec {
  /** Dotted path into Config, e.g. "bgp.localAs". */
  key: string;
  /** Long flag without dashes, e.g. "lease-duration". */
  flag: string;
  /** Environment variable, K3VIP_<NAME>. */
  env: string;
  /**
   * kube-vip names `manifest`, `install` and install.sh read for this option:
   * its installer script's and its agent's plain ones, in rising precedence
   * (address beats vip_address, as in kube-vip); an empty value is unset. The
   * agent reads every kube-vip name through kubevip.ts instead.
   */
  aliases: string[];
  /** Placeholder for help, e.g. "<seconds>". */
  arg: string;
  description: string;
  scopes: Scope[];
  /** A secret value (masked in output). */
  secret?: boolean;
  /** The raw value as a message may echo it (secret parts masked). */
  mask?: (raw: string) => string;
  parse: (raw: string) => unknown;
  /** Config value → the raw string the agent reads back from its env. */
  format: (value: unknown) => string;
}

const str = (v: unknown): string => String(v);
const list = (v: unknown): string => (v as string[]).join(",");

function opt(key: string, flag: string, arg: string, description: string, parse: (raw: string) => unknown, more: Partial<OptionSpec> = {}): OptionSpec {
  const env = `K3VIP_${flag.toUpperCase().replace(/-/g, "_")}`;
  return { key, flag, env, aliases: [], arg, description, scopes: ["install", "agent"], parse, format: str, ...more };
}

export const OPTIONS: readonly OptionSpec[] = [
  opt("vip", "vip", "<address>", "The virtual IP: one IPv4 or IPv6 unicast address the API is served on.", parseVip, {
    aliases: ["vipAddress", "vip_address", "address"],
  }),
  opt("interface", "interface", "<name>", "Interface that carries the VIP. Empty: the interface whose subnet holds the VIP.", parseInterface, {
    aliases: ["vipInterface", "vip_interface"],
  }),
  opt("mode", "mode", "<arp|bgp>", "How the VIP is announced: gratuitous ARP / unsolicited NA on the LAN (arp). bgp is not supported in this version.", parseEnum(MODES)),
  opt("distro", "distro", "<k3s|rke2>", "Kubernetes distribution (paths, ports and the RKE2 supervisor port 9345).", parseEnum(DISTROS)),
  opt("namespace", "namespace", "<name>", "Namespace of the agent, its Lease and RBAC.", parseDnsLabel, { aliases: ["cp_namespace"] }),
  opt("leaseName", "lease-name", "<name>", "Name of the coordination.k8s.io Lease used to elect the VIP holder.", parseDnsSubdomain),
  opt("handoverLease", "handover-lease", "<namespace/name>", "kube-vip's control-plane Lease: until it is gone, released or expired, and the VIP answers nowhere, the agent does not start its election, so a swap from kube-vip never has two holders. Empty: no wait.", parseLeaseRef),
  opt("leaseDuration", "lease-duration", "<seconds>", "Seconds a Lease stays valid after its holder's last renew.", parseSeconds, { aliases: ["vip_leaseduration"] }),
  opt("renewDeadline", "renew-deadline", "<seconds>", "Seconds the holder retries a renew before counting it failed.", parseSeconds, { aliases: ["vip_renewdeadline"] }),
  opt("retryPeriod", "retry-period", "<seconds>", "Seconds between election attempts (renews on the holder, polls on followers).", parseSeconds, { aliases: ["vip_retryperiod"] }),
  opt("image", "image", "<ref>", "Agent image reference.", parseImage, { scopes: ["install"] }),
  opt("imagePullPolicy", "image-pull-policy", "<policy>", "Image pull policy: IfNotPresent keeps an airgap-imported image in use.", parseEnum(PULL_POLICIES), {
    scopes: ["install"],
  }),
  opt("metricsAddr", "metrics-addr", "<[host]:port>", "Listen address for /metrics, /healthz and /readyz.", parseListenAddr, { aliases: ["prometheus_server"] }),
  opt("apiPort", "api-port", "<port>", "API server port behind the VIP (RKE2 also serves its supervisor port 9345).", parseInteger(1, 65535, "6443"), { aliases: ["port"] }),
  opt("vipSubnet", "vip-subnet", "<bits>", "Prefix length of the VIP's network, used to refuse its network/broadcast address; 0 = unknown. The VIP is always added as /32 or /128.", parseInteger(0, 128, "24")),
  opt("leaderElection", "leader-election", "<bool>", "Elect one VIP holder. false (every server announces, BGP ECMP) needs BGP mode: not in this version.", parseBool),
  opt("arpRefresh", "arp-refresh", "<seconds>", "Seconds between gratuitous ARP / unsolicited NA refreshes while holding the VIP.", parseSeconds),
  opt("controlPlane", "control-plane", "<bool>", "Serve the control-plane VIP (false is not supported in this version).", parseBool),
  opt("bgp.localAs", "bgp-as", "<asn>", "Local BGP AS number. BGP mode: not supported in this version.", parseInteger(0, 4294967295, "65000")),
  opt("bgp.routerId", "bgp-router-id", "<ipv4>", "BGP router ID. Empty: the node's IPv4 address. BGP mode: not supported in this version.", parseRouterId),
  opt("bgp.peers", "bgp-peers", "<peers>", "BGP peers: address:as[:password[:multihop[:source]]], comma separated (kube-vip format; IPv6 in brackets). BGP mode: not supported in this version.", parsePeers, {
    secret: true,
    mask: maskPeers,
    format: (v) => formatPeers(v as Config["bgp"]["peers"]),
  }),
  opt("bgp.equinixMetal", "equinix-metal", "<bool>", "Read BGP peers, AS and router ID from Equinix Metal's metadata service. Not supported in this version.", parseBool),
  opt("services.enabled", "services", "<bool>", "Also give Services of type LoadBalancer addresses from the pools and announce them. Not supported in this version.", parseBool),
  opt("services.pools", "services-pools", "<pools>", "Address pools for LoadBalancer Services: CIDRs or first-last ranges, comma separated. Services mode: not supported in this version.", parsePools, {
    format: list,
  }),
  opt("logFormat", "log-format", "<text|json>", "Log format of the agent.", parseEnum(LOG_FORMATS)),
  opt("heartbeatPort", "heartbeat-port", "<port>", "UDP port for heartbeats between the agents (every 200 ms; a dead holder is replaced in under a second). 0 = off: the Lease's rules alone.", parseInteger(0, 65535, "9446")),
  opt("heartbeatKey", "heartbeat-key", "<key>", "HMAC key of the heartbeats, the same on every server: at least 16 bytes, hex or base64. Empty: the installer derives it from the cluster token (the same on every server), else keeps the installed one, else makes a random one.", parseHeartbeatKey, {
    secret: true,
    mask: (raw) => (raw === "" ? raw : "****"),
  }),
  opt("takeover", "takeover", "<early|fenced>", "After taking over from a holder that did not hand over: add the VIP at once (early; a dead holder's copy may answer ≤ 1.4 s more) or wait until its kernel lifetime has run out (fenced).", parseEnum(TAKEOVERS)),
];

export function optionByKey(key: string): OptionSpec {
  const o = OPTIONS.find((x) => x.key === key);
  if (!o) throw new Error(`no option ${key}`);
  return o;
}

export function getPath(config: Config, key: string): unknown {
  let cur: unknown = config;
  for (const part of key.split(".")) cur = (cur as Record<string, unknown>)[part];
  return cur;
}

export function setPath(config: Config, key: string, value: unknown): void {
  const parts = key.split(".");
  let cur = config as unknown as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) cur = cur[part] as Record<string, unknown>;
  cur[parts[parts.length - 1] as string] = value;
}
