// kube-vip's environment, as the agent meets it when a user swaps kube-vip's
// DaemonSet for k3vip's and keeps the env block: every name kube-vip reads
// (pkg/kubevip/config_envvar.go at kube-vip bee5cfe, 2026-08, and the older
// names manifests still carry) is either translated to a k3vip option,
// refused when ignoring it would change what the cluster gets, or reported by
// name as not supported and ignored. kube-vip's own rules are kept: an empty
// value is unset, `address` beats `vip_address`, booleans are Go's, one mode.
// The agent applies it below the K3VIP_* variables (resolve.ts); the table
// also makes docs/kube-vip.md.
import { UsageError } from "./errors.ts";

export type KubeVipDisposition =
  /** Becomes the K3VIP_* option named. */
  | { kind: "mapped"; to: string }
  /** Read for something else k3vip does (noted at `why`). */
  | { kind: "used"; why: string }
  /** Refused when true: ignoring it would change what the cluster gets. */
  | { kind: "refused"; why: string }
  /** Not supported: ignored, and reported by name. */
  | { kind: "ignored"; why: string };

const ignored = (why: string): KubeVipDisposition => ({ kind: "ignored", why });
const refusedIfTrue = (why: string): KubeVipDisposition => ({ kind: "refused", why });
const SERVICES = "services mode (LoadBalancer Services) is not in this version";
const BGP = "BGP is not in this version";

// Go's strconv.ParseBool, which kube-vip uses: anything else is fatal there.
const GO_TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const GO_FALSE = ["0", "f", "F", "FALSE", "false", "False"];

function goBool(name: string, raw: string): boolean {
  if (GO_TRUE.includes(raw)) return true;
  if (GO_FALSE.includes(raw)) return false;
  throw new UsageError(`${name} "${raw}" is not a boolean: kube-vip and k3vip read it as true or false (also 1/0, t/f, TRUE/FALSE, True/False)`);
}

/** Every environment name kube-vip reads, and what k3vip does with it. */
export const KUBE_VIP_ENV: Readonly<Record<string, KubeVipDisposition>> = {
  // Where the VIP is and which API it fronts.
  address: { kind: "mapped", to: "K3VIP_VIP" },
  vip_address: { kind: "mapped", to: "K3VIP_VIP" },
  vip_interface: { kind: "mapped", to: "K3VIP_INTERFACE" },
  vip_subnet: { kind: "mapped", to: "K3VIP_VIP_SUBNET" },
  vip_cidr: { kind: "mapped", to: "K3VIP_VIP_SUBNET" },
  port: { kind: "mapped", to: "K3VIP_API_PORT" },
  prometheus_server: { kind: "mapped", to: "K3VIP_METRICS_ADDR" },
  vip_arpRate: { kind: "mapped", to: "K3VIP_ARP_REFRESH" },
  // Election.
  cp_namespace: { kind: "mapped", to: "K3VIP_NAMESPACE" },
  vip_leaseduration: { kind: "mapped", to: "K3VIP_LEASE_DURATION" },
  vip_renewdeadline: { kind: "mapped", to: "K3VIP_RENEW_DEADLINE" },
  vip_retryperiod: { kind: "mapped", to: "K3VIP_RETRY_PERIOD" },
  vip_leasename: { kind: "mapped", to: "K3VIP_HANDOVER_LEASE" },
  vip_nodename: { kind: "used", why: "the Lease holder identity when NODE_NAME is not set (lowercased, as kube-vip does)" },
  vip_leaderelection: { kind: "mapped", to: "K3VIP_LEADER_ELECTION" },
  vip_leaseannotations: ignored("k3vip's Lease carries no extra annotations"),
  // Modes and features.
  vip_arp: { kind: "mapped", to: "K3VIP_MODE" },
  // Mapped to K3VIP_MODE=bgp once BGP lands (issue 10).
  bgp_enable: refusedIfTrue("BGP is not in this version: k3vip announces the VIP by ARP/NDP (vip_arp)"),
  cp_enable: { kind: "mapped", to: "K3VIP_CONTROL_PLANE" },
  svc_enable: { kind: "mapped", to: "K3VIP_SERVICES" },
  vip_ddns: refusedIfTrue("the VIP would be a DNS name k3vip gets by DHCP: not in this version"),
  vip_wireguard: refusedIfTrue("wireguard mode is not in this version"),
  vip_routingtable: refusedIfTrue("routing-table mode is not in this version"),
  lb_enable: refusedIfTrue("the IPVS load balancer on the VIP is not in this version: traffic would no longer be spread over the servers"),
  zebra_enable: refusedIfTrue(`the FRR zebra link is not in this version (${BGP})`),
  enable_node_labeling: refusedIfTrue("k3vip does not label the holder's Node (kube-vip.io/has-ip): something may select on that label"),
  vip_preserve_on_leadership_loss: refusedIfTrue("k3vip always removes the VIP when it stops holding the Lease: keeping it would answer ARP from two nodes"),
  vip_loseleadership: ignored("k3vip drops the VIP when its interface loses carrier while renews fail, and gives up the Lease when its API server is down"),
  vip_loseleadership_timeout_seconds: ignored("see vip_loseleadership"),
  vip_allow_interface_not_up: ignored("k3vip starts with the interface down and adds the VIP when it can"),
  vip_skipdad: ignored("k3vip skips DAD for the VIP by itself where it may (see docs/agent.md)"),
  vip_interfaceloglobal: ignored("k3vip never puts the control-plane VIP on lo"),
  vip_loglevel: ignored("k3vip logs its info, warnings and errors; there are no levels to set"),
  vip_singlenode: ignored("a legacy raft setting kube-vip itself no longer uses"),
  vip_startleader: ignored("a legacy raft setting kube-vip itself no longer uses"),
  vip_configmap: ignored("a legacy setting"),
  instance_name: ignored("names kube-vip's egress tables; k3vip has no egress"),
  cp_detect: ignored("k3vip always talks to this node's own API server (127.0.0.1)"),
  kubernetes_addr: ignored("k3vip always talks to this node's own API server (127.0.0.1)"),
  k8s_config_file: ignored("k3vip uses its ServiceAccount against this node's API server, or KUBECONFIG"),
  config_file: ignored("k3vip reads no config file: every option is a flag or a K3VIP_* variable"),
  health_check_port: ignored("k3vip serves /healthz on its metrics address"),
  dns_mode: ignored("the VIP is an IP address in k3vip"),
  dhcp_mode: ignored("the VIP is an IP address in k3vip"),
  dhcp_backoff_attempts: ignored("the VIP is an IP address in k3vip"),
  control_plane_health_check_address: ignored("k3vip probes this node's API server itself (/livez?exclude=etcd)"),
  control_plane_health_check_period_seconds: ignored("k3vip probes this node's API server itself, every second"),
  control_plane_health_check_timeout_seconds: ignored("k3vip probes this node's API server itself"),
  control_plane_health_check_failure_threshold: ignored("k3vip probes this node's API server itself (3 failures, or one refusal)"),
  control_plane_health_check_ca_path: ignored("k3vip verifies this node's API server with its ServiceAccount CA"),
  debounce_time: ignored("kube-vip itself does not read it from the environment"),
  annotation: ignored(BGP),
  // BGP (read only with bgp_enable).
  bgp_as: ignored(BGP),
  bgp_routerid: ignored(BGP),
  bgp_routerinterface: ignored(BGP),
  bgp_peers: ignored(BGP),
  bgp_peeraddress: ignored(BGP),
  bgp_peeras: ignored(BGP),
  bgp_peerpass: ignored(BGP),
  bgp_multihop: ignored(BGP),
  bgp_sourceif: ignored(BGP),
  bgp_sourceip: ignored(BGP),
  bgp_hold_time: ignored(BGP),
  bgp_keepalive_interval: ignored(BGP),
  bgp_attach_ip_to_interface: ignored(BGP),
  mpbgp_nexthop: ignored(BGP),
  mpbgp_ipv4: ignored(BGP),
  mpbgp_ipv6: ignored(BGP),
  zebra_url: ignored(BGP),
  zebra_version: ignored(BGP),
  zebra_software_name: ignored(BGP),
  // Routing table, IPVS (read only with their modes).
  vip_routingtableid: ignored("routing-table mode is not in this version"),
  vip_routingtabletype: ignored("routing-table mode is not in this version"),
  vip_routingprotocol: ignored("routing-table mode is not in this version"),
  vip_cleanroutingtable: ignored("routing-table mode is not in this version"),
  lb_port: ignored("the IPVS load balancer is not in this version"),
  lb_fwdmethod: ignored("the IPVS load balancer is not in this version"),
  backend_health_check_interval: ignored("the IPVS load balancer is not in this version"),
  // Services (read only with svc_enable) and egress.
  svc_namespace: ignored(SERVICES),
  svc_election: ignored(SERVICES),
  svc_leasename: ignored(SERVICES),
  lb_class_only: ignored(SERVICES),
  lb_class_name: ignored(SERVICES),
  lb_class_legacy_handling: ignored(SERVICES),
  per_service_election_on_demand: ignored(SERVICES),
  vip_servicesinterface: ignored(SERVICES),
  enable_service_security: ignored(SERVICES),
  disable_service_updates: ignored(SERVICES),
  enable_endpoints: ignored(SERVICES),
  mirror_dest_interface: ignored(SERVICES),
  enable_upnp: ignored(SERVICES),
  iptables_backend: ignored(SERVICES),
  egress_podcidr: ignored(SERVICES),
  egress_servicecidr: ignored(SERVICES),
  egress_withnftables: ignored(SERVICES),
  egress_enableinternalsnat: ignored(SERVICES),
  egress_clean: ignored(SERVICES),
  // Removed from kube-vip, still in old manifests.
  vip_packet: { kind: "mapped", to: "K3VIP_EQUINIX_METAL" },
  vip_packetproject: ignored("Equinix Metal metadata peers are not in this version"),
  vip_packetprojectid: ignored("Equinix Metal metadata peers are not in this version"),
  provider_config: ignored("Equinix Metal metadata peers are not in this version"),
  enable_endpointslices: ignored(SERVICES),
  bgp_source_if: ignored(BGP),
  bgp_source_ip: ignored(BGP),
};

/** kube-vip names read with an upper-case fallback. */
const UPPER_FALLBACK = ["instance_name", "egress_clean"];

/** kube-vip's control-plane Lease when nothing names another (kube-vip cmd/kube-vip.go). */
export const KUBE_VIP_LEASE = "plndr-cp-lock";

export interface KubeVipTranslation {
  /** K3VIP_* values from kube-vip names (lower precedence than the K3VIP_* set directly). */
  env: Record<string, string>;
  /** For each K3VIP_* set here, the kube-vip name it came from (for messages). */
  from: Record<string, string>;
  /** One line per kube-vip name set but not run, for the agent's start log. */
  ignored: string[];
  /** kube-vip's holder identity (vip_nodename, lowercased as kube-vip does), when set. */
  nodeName?: string;
}

const get = (env: Readonly<Record<string, string | undefined>>, name: string): string | undefined => {
  const v = env[name] ?? (UPPER_FALLBACK.includes(name) ? env[name.toUpperCase()] : undefined);
  // kube-vip's rule: an empty value is unset (generated manifests carry many).
  return v === undefined || v === "" ? undefined : v;
};

/**
 * kube-vip's control-plane Lease as `namespace/name`: vip_leasename (which may
 * be `ns/name`) in cp_namespace (kube-vip lease.go NamespaceName; since
 * v1.1 the pod's own namespace comes first, which is kube-system for its
 * manifests, as cp_namespace is).
 */
export function kubeVipLease(env: Readonly<Record<string, string | undefined>>): string {
  const name = get(env, "vip_leasename") ?? KUBE_VIP_LEASE;
  return name.includes("/") ? name : `${get(env, "cp_namespace") ?? "kube-system"}/${name}`;
}

/** What a kube-vip (its env block, as found in a manifest) serves: the control-plane VIP, Services. */
export function kubeVipServes(env: Readonly<Record<string, string | undefined>>): { controlPlane: boolean; services: boolean } {
  const on = (name: string) => GO_TRUE.includes(get(env, name) ?? "");
  return { controlPlane: on("cp_enable"), services: on("svc_enable") };
}

/**
 * kube-vip's names in `env` → K3VIP_* names; the ones not run reported; the
 * ones whose absence would change what the cluster gets refused (a
 * UsageError naming the variable). Values are not checked here beyond what
 * kube-vip itself refuses: the K3VIP_* parsers do that, blaming the kube-vip
 * name through `from`.
 */
export function translateKubeVip(env: Readonly<Record<string, string | undefined>>): KubeVipTranslation {
  const out: Record<string, string> = {};
  const from: Record<string, string> = {};
  const put = (to: string, value: string | undefined, name: string) => {
    if (value === undefined) return;
    out[to] = value;
    from[to] = name;
  };
  const ignoredLines: string[] = [];
  for (const [name, d] of Object.entries(KUBE_VIP_ENV)) {
    const raw = get(env, name);
    if (raw === undefined) continue;
    if (d.kind === "refused" && goBool(name, raw)) {
      throw new UsageError(`${name} "${raw}" is not supported in this version: ${d.why}; remove it (or set it to false) to run the control-plane VIP with k3vip`);
    }
    if (d.kind === "ignored") ignoredLines.push(`${name}=${/pass/.test(name) ? "****" : raw}: not supported, ignored (${d.why})`);
  }
  // address beats vip_address (kube-vip cluster.go); a dual-stack pair is two VIPs.
  const addrName = get(env, "address") !== undefined ? "address" : "vip_address";
  const address = get(env, addrName);
  if (address !== undefined) {
    const parts = address.split(",").map((p) => p.trim());
    if (parts.length > 1) throw new UsageError(`${addrName} "${address}" lists ${parts.length} VIPs (dual stack): k3vip serves one control-plane VIP; give one address`);
    put("K3VIP_VIP", parts[0], addrName);
  }
  // "auto" is kube-vip's "find it": k3vip's empty interface.
  const iface = get(env, "vip_interface");
  put("K3VIP_INTERFACE", iface === "auto" ? "" : iface, "vip_interface");
  // The VIP's prefix: vip_subnet ("32" or "32,128": IPv4's first), else the older vip_cidr.
  const subnetName = get(env, "vip_subnet") !== undefined ? "vip_subnet" : "vip_cidr";
  const subnet = get(env, subnetName);
  if (subnet !== undefined && !subnet.startsWith("auto")) {
    const [v4, v6] = subnet.split(",").map((p) => p.trim());
    const v6vip = (out.K3VIP_VIP ?? env.K3VIP_VIP ?? "").includes(":");
    put("K3VIP_VIP_SUBNET", v6vip && v6 !== undefined ? v6 : v4, subnetName);
  }
  put("K3VIP_API_PORT", get(env, "port"), "port");
  put("K3VIP_METRICS_ADDR", get(env, "prometheus_server"), "prometheus_server");
  const rate = get(env, "vip_arpRate");
  if (rate !== undefined) {
    if (!/^[0-9]{1,9}$/.test(rate)) throw new UsageError(`vip_arpRate "${rate}" is not a whole number of milliseconds`);
    // kube-vip's milliseconds (below 500 it uses 3000) as k3vip's seconds.
    put("K3VIP_ARP_REFRESH", String((Number(rate) < 500 ? 3000 : Number(rate)) / 1000), "vip_arpRate");
  }
  put("K3VIP_NAMESPACE", get(env, "cp_namespace"), "cp_namespace");
  put("K3VIP_LEASE_DURATION", get(env, "vip_leaseduration"), "vip_leaseduration");
  put("K3VIP_RENEW_DEADLINE", get(env, "vip_renewdeadline"), "vip_renewdeadline");
  put("K3VIP_RETRY_PERIOD", get(env, "vip_retryperiod"), "vip_retryperiod");
  // kube-vip's own Lease, which k3vip waits on (never elects on).
  if (get(env, "vip_leasename") !== undefined || get(env, "cp_namespace") !== undefined) {
    put("K3VIP_HANDOVER_LEASE", kubeVipLease(env), get(env, "vip_leasename") !== undefined ? "vip_leasename" : "cp_namespace");
  }
  // One mode, as kube-vip insists; the ones k3vip lacks were refused above.
  const arp = get(env, "vip_arp");
  if (arp !== undefined && goBool("vip_arp", arp)) put("K3VIP_MODE", "arp", "vip_arp");
  else if (arp !== undefined) throw new UsageError(`vip_arp "${arp}" and no other mode: kube-vip itself refuses to run without one ("no valid kube-vip mode detected"); set vip_arp to true`);
  const bool = (name: string, to: string) => {
    const v = get(env, name);
    if (v !== undefined) put(to, String(goBool(name, v)), name);
  };
  bool("vip_leaderelection", "K3VIP_LEADER_ELECTION");
  bool("cp_enable", "K3VIP_CONTROL_PLANE");
  bool("svc_enable", "K3VIP_SERVICES");
  bool("vip_packet", "K3VIP_EQUINIX_METAL");
  const nodeName = get(env, "vip_nodename")?.toLowerCase();
  return { env: out, from, ignored: ignoredLines, ...(nodeName ? { nodeName } : {}) };
}
