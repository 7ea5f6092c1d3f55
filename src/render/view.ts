// The flat view the manifest templates render from. Flat on purpose:
// install.sh renders the same templates with a tiny awk mustache (only
// `{{name}}` and standalone `{{#flag}}`/`{{^flag}}`/`{{/flag}}` lines) and
// must compute exactly these values from the same inputs.
import { createHash } from "node:crypto";
import { getPath, OPTIONS, type Config } from "../config/index.ts";
import { VERSION } from "../version.ts";

export type ViewValue = string | number | boolean;
export type View = Record<string, ViewValue>;

/** "bgp.localAs" → "bgpLocalAs": the view key of an option. */
export function viewKey(optionKey: string): string {
  return optionKey.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Every option as the string the agent reads back from its env (so the
 * template shows exactly what agentEnv() gives), plus a few derived values.
 * Booleans are only for sections; strings render JSON-quoted, numbers raw.
 */
export function buildView(config: Config, version: string = VERSION): View {
  const view: View = {};
  for (const o of OPTIONS) view[viewKey(o.key)] = o.format(getPath(config, o.key));
  const { host, port } = splitListenAddr(config.metricsAddr);
  view.version = version;
  view.services = config.services.enabled;
  // k3s applies the add-on's objects in file order: a namespace of k3vip's own comes first.
  view.ownNamespace = config.namespace !== "kube-system";
  // kube-vip's Lease, read (get only) while handing over: a rule in k3vip's
  // Role when it lives in k3vip's namespace, else a Role of its own there.
  const [hns = "", hname = ""] = config.handoverLease.split("/");
  view.handoverSameNamespace = config.handoverLease !== "" && hns === config.namespace;
  view.handoverOtherNamespace = config.handoverLease !== "" && hns !== config.namespace;
  view.handoverNamespace = hns;
  view.handoverName = hname;
  view.metricsPort = port;
  // Heartbeats: list Nodes (k3vip-peers), and a digest of the key on the pod
  // template so that a new key rolls every agent (install.sh: sha256sum).
  view.heartbeats = config.heartbeatPort !== 0;
  view.heartbeatKeyDigest = heartbeatKeyDigest(config.heartbeatKey);
  view.heartbeatContainerPort = config.heartbeatPort;
  // hostNetwork: the kubelet probes the pod IP (= node IP) unless told
  // otherwise; an agent bound to one address must be probed there.
  view.hasMetricsHost = host !== "" && !isUnspecified(host);
  view.metricsHost = view.hasMetricsHost ? host : "";
  return view;
}

/** The first 16 hex digits of the key's SHA-256: tells keys apart, reveals nothing usable. */
export function heartbeatKeyDigest(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex").slice(0, 16);
}

/** `[host]:port` → bare host ("" when none) and numeric port. */
export function splitListenAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  let host = addr.slice(0, i);
  if (host.startsWith("[")) host = host.slice(1, -1);
  return { host, port: Number(addr.slice(i + 1)) };
}

/** 0.0.0.0 or any spelling of :: — "listen everywhere", no probe host. */
function isUnspecified(host: string): boolean {
  if (host.includes(":")) return /^[0:]*$/.test(host);
  return host === "0.0.0.0";
}
