// Layers the sources into one validated Config:
// defaults < kube-vip's names < K3VIP_* variables < flags.
import { badValue, UsageError } from "./errors.ts";
import { defaults, type Config } from "./model.ts";
import { translateKubeVip } from "./kubevip.ts";
import { OPTIONS, setPath, type OptionSpec, type Scope } from "./options.ts";
import { networkOrBroadcast, parseIp, Problem } from "./values.ts";

export interface Sources {
  /** Flag values by flag name without dashes (e.g. "lease-duration"). */
  flags?: Record<string, string | undefined>;
  /** Environment (process.env or install.sh variables). */
  env?: Record<string, string | undefined>;
  /** Who reads: the installers (kube-vip's plain names) or the agent (all of kube-vip's names, kubevip.ts). */
  scope: Scope;
  version: string;
}

function apply(config: Config, o: OptionSpec, source: string, raw: string): void {
  try {
    setPath(config, o.key, o.parse(raw));
  } catch (e) {
    if (e instanceof Problem) throw badValue(source, o.mask ? o.mask(raw) : raw, e.message);
    throw e;
  }
}

/** Parse every source into a Config and check it as a whole. Throws UsageError. */
export function resolveConfig(sources: Sources): Config {
  const { config, name } = parse(sources);
  validateConfig(config, name);
  return config;
}

/**
 * Every source parsed, value by value, without the cross-field rules (nor
 * the not-yet-supported ones): the renderer's tests use it for the parts of
 * the templates whose features are still to come.
 */
export function parseSources(sources: Sources): Config {
  return parse(sources).config;
}

function parse(sources: Sources): { config: Config; name: (key: string) => string } {
  const config = defaults(sources.version);
  const env = sources.env ?? {};
  const flags = sources.flags ?? {};
  // The agent reads kube-vip's whole environment (a DaemonSet's env block kept
  // in a swap); the installers only its plain names (OptionSpec.aliases).
  const kubeVip = sources.scope === "agent" ? translateKubeVip(env) : undefined;
  const names = new Map<string, string>();
  for (const o of OPTIONS) {
    const set = (source: string, raw: string) => {
      apply(config, o, source, raw);
      names.set(o.key, source);
    };
    if (kubeVip) {
      const raw = kubeVip.env[o.env];
      if (raw !== undefined) set(kubeVip.from[o.env] ?? o.env, raw);
    } else {
      for (const a of o.aliases) {
        const raw = env[a];
        // kube-vip's rule: empty is unset (its manifests carry `- name: vip_address` with no value).
        if (raw !== undefined && raw !== "") set(a, raw);
      }
    }
    const fromEnv = env[o.env];
    if (fromEnv !== undefined) set(o.env, fromEnv);
    const fromFlag = flags[o.flag];
    if (fromFlag !== undefined) set(`--${o.flag}`, fromFlag);
  }
  // A rule about an option nobody set blames its flag.
  const name = (key: string) => names.get(key) ?? `--${OPTIONS.find((x) => x.key === key)?.flag ?? key}`;
  return { config, name };
}

/**
 * The rule from now on: an option is accepted only when the agent built from
 * this version runs it; until a feature lands, asking for it fails at render
 * time (manifest, install, install.sh, the agent) instead of crash-looping or
 * being ignored. install.sh's awk `validate` holds the same list. Each
 * feature lifts its line when it lands (BGP: issue 10; services later).
 */
export const NOT_YET = "is not supported in this version";

function notYetSupported(c: Config, name: (key: string) => string): void {
  const no = (key: string, value: string, why: string) => badValue(name(key), value, `${NOT_YET}: ${why}`);
  if (c.mode !== "arp") throw no("mode", c.mode, "k3vip announces the VIP by ARP/NDP only (valid: arp)");
  if (!c.controlPlane) throw no("controlPlane", "false", "the control-plane VIP is all k3vip serves");
  if (c.bgp.equinixMetal) throw no("bgp.equinixMetal", "true", "BGP is not in this version");
  if (c.services.enabled) throw no("services.enabled", "true", "LoadBalancer Services get no VIPs from k3vip yet; turn it off, and keep another load balancer for Services (kube-vip with cp_enable=false, MetalLB, servicelb) if any use one");
  // Options of those features, set on their own, would be silently ignored: refuse them too.
  if (c.bgp.localAs !== 0) throw no("bgp.localAs", String(c.bgp.localAs), "it is for BGP mode, which this version does not have");
  if (c.bgp.routerId !== "") throw no("bgp.routerId", c.bgp.routerId, "it is for BGP mode, which this version does not have");
  if (c.bgp.peers.length > 0) throw new UsageError(`${name("bgp.peers")} ${NOT_YET}: it is for BGP mode, which this version does not have`);
  if (c.services.pools.length > 0) throw no("services.pools", c.services.pools.join(","), "it is for services mode, which this version does not have");
}

const ms = (s: number): number => Math.round(s * 1000);

/** Milliseconds as seconds with no trailing zeros: 3333 → "3.333", 2000 → "2". */
function secondsText(m: number): string {
  const frac = String(m % 1000).padStart(3, "0").replace(/0+$/, "");
  return `${Math.floor(m / 1000)}${frac ? `.${frac}` : ""}`;
}

/** Cross-field rules. `name` maps a config key to the option name to blame. */
export function validateConfig(c: Config, name: (key: string) => string = (k) => k): void {
  if (c.vip === "") throw new UsageError(`${name("vip")} is required: the virtual IP to serve the API on (example: --vip 192.168.0.10)`);
  const family = parseIp(c.vip).family;
  if (c.vipSubnet > (family === 4 ? 32 : 128)) throw badValue(name("vipSubnet"), String(c.vipSubnet), `is longer than an IPv${family} prefix can be`);
  const nb = networkOrBroadcast(c.vip, c.vipSubnet);
  if (nb) throw badValue(name("vip"), c.vip, nb);
  // client-go's LeaderElector rule: a holder must give up before its Lease
  // expires, and retry at least once more before its renew deadline.
  if (!Number.isInteger(c.leaseDuration)) {
    throw badValue(name("leaseDuration"), String(c.leaseDuration), "must be whole seconds (Lease.leaseDurationSeconds is an integer)");
  }
  // In whole milliseconds (every timing has at most 3 decimals), so that
  // install.sh's awk decides each boundary, and prints each limit, the same.
  const rd = ms(c.renewDeadline);
  const rp = ms(c.retryPeriod);
  if (rd >= ms(c.leaseDuration)) {
    throw badValue(name("renewDeadline"), String(c.renewDeadline), `must be shorter than the lease duration (${c.leaseDuration} s)`);
  }
  if (rd * 10 <= rp * 12) {
    // The largest retry period with rp × 1.2 < rd, exactly: ceil(rd / 1.2) − 1 ms.
    const max = Math.floor((rd * 10 + 11) / 12) - 1;
    throw badValue(name("retryPeriod"), String(c.retryPeriod), `must be at most ${secondsText(max)} s: less than renew deadline / 1.2 (client-go's rule)`);
  }
  // Rule 8 of the election: the VIP's 1 s kernel lifetime is refreshed only while the holder may keep it
  // 1.4 s more, and it may keep it until lease − 0.25 s after a renew: lease − retry ≥ 2 s leaves room for a slow renew.
  if (ms(c.leaseDuration) - rp < 2000) {
    throw badValue(name("leaseDuration"), String(c.leaseDuration), `must be at least the retry period + 2 s (${secondsText(rp + 2000)} s): the VIP's 1 s kernel lifetime is refreshed between renews`);
  }
  // k3vip waits on kube-vip's Lease before electing on its own: one Lease for both would wait forever.
  if (c.handoverLease === `${c.namespace}/${c.leaseName}`) {
    throw badValue(name("handoverLease"), c.handoverLease, "is k3vip's own Lease: it names kube-vip's Lease, which k3vip waits on before its first election (example: kube-system/plndr-cp-lock; empty: none)");
  }
  notYetSupported(c, name);
  if (c.mode === "bgp" && !c.bgp.equinixMetal) {
    if (c.bgp.localAs === 0) throw new UsageError(`${name("bgp.localAs")} is required in BGP mode: the local AS number (example: --bgp-as 65000)`);
    if (c.bgp.peers.length === 0) throw new UsageError(`${name("bgp.peers")} is required in BGP mode: at least one peer (example: --bgp-peers 192.168.0.1:65000)`);
  }
  if (c.mode === "arp" && !c.leaderElection) {
    throw badValue(name("leaderElection"), "false", "works only in BGP mode: in ARP mode two nodes would answer for the VIP");
  }
  if (c.services.enabled && c.services.pools.length === 0) {
    throw new UsageError(`${name("services.pools")} is required when services mode is on (example: --services-pools 192.168.0.200/29)`);
  }
}
