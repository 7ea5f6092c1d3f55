// The preflight checks (also `k3vip doctor`). Each yields ✓/!/✗/- with one
// line of detail and one line of fix. Host probes go through HostProbe, and
// are skipped when there is none (`--root`).
import ipaddr from "ipaddr.js";
import type { Config } from "../../config/index.ts";
import type { DatastoreChecker, TlsFiles } from "../datastore/check.ts";
import { maskDatastore, type Datastore } from "../datastore/url.ts";
import type { Detection } from "../detect.ts";
import type { Layout } from "../layout.ts";
import { servicelbEnabled, type Found } from "./conflicts.ts";
import type { HostProbe } from "./host.ts";
import { ambiguousInterface, interfaceForVip, markText, vipCopies, familyOf, type IpLink } from "../../net/index.ts";

export type Status = "ok" | "warn" | "fail" | "skip";

export interface Check {
  id: string;
  title: string;
  status: Status;
  detail: string;
  fix?: string;
}

export interface PreflightInput {
  config: Config;
  layout: Layout;
  detection: Detection;
  /** --root given: no host probing. */
  rootGiven: boolean;
  /** The drop-in joins through the VIP: another server is expected to hold it. */
  join: boolean;
  /** --migrate: an old kube-vip manifest will be removed. */
  migrate: boolean;
  datastore?: { endpoint: Datastore; tls: TlsFiles };
  host?: HostProbe;
  checker: DatastoreChecker;
  /** Load balancers found in the manifests and static-pod dirs. */
  found: Found[];
  /** Parsed config.yaml and drop-ins (ours as it will be, included). */
  configs: Record<string, unknown>[];
  /** The VIP a previous k3vip install on this node serves (state record). */
  previousVip?: string;
}

const SKIP_ROOT = "--root given: the host is not probed";

export async function runPreflight(i: PreflightInput): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const { config: c, layout } = i;

  if (i.rootGiven) add({ id: "root", title: "privileges", status: "ok", detail: `writing under ${layout.root}` });
  else {
    const uid = i.host?.uid() ?? -1;
    add(uid === 0 ? { id: "root", title: "privileges", status: "ok", detail: "running as root" } : { id: "root", title: "privileges", status: "fail", detail: `running as uid ${uid}`, fix: "run with sudo, or give --root <dir> to prepare a tree" });
  }
  add({ id: "distro", title: "distribution", status: i.detection.found ? "ok" : "warn", detail: `${layout.distro}: ${i.detection.reason}`, ...(i.detection.found ? {} : { fix: "fine when installing before k3s/RKE2; otherwise give --distro" }) });

  let ifaces: IpLink[] | undefined;
  if (!i.host) add({ id: "interface", title: "interface", status: "skip", detail: SKIP_ROOT });
  else {
    try {
      ifaces = await i.host.interfaces();
      checks.push(...interfaceChecks(c, ifaces));
    } catch (e) {
      add({ id: "interface", title: "interface", status: "fail", detail: `cannot list interfaces: ${(e as Error).message}`, fix: "install iproute2 (ip)" });
    }
  }

  if (!i.host || !ifaces) add({ id: "vip-free", title: "VIP not in use", status: "skip", detail: i.host ? "no interface" : SKIP_ROOT });
  else add(await vipFree(i, i.host, ifaces));

  if (!i.host) add({ id: "ports", title: "ports", status: "skip", detail: SKIP_ROOT });
  else checks.push(...(await portChecks(i, i.host)));

  checks.push(...lbChecks(i));

  if (!i.host) add({ id: "serving-cert", title: "API certificate", status: "skip", detail: SKIP_ROOT });
  else add(await certCheck(i, i.host));

  if (i.datastore) {
    const r = await i.checker.check(i.datastore.endpoint, i.datastore.tls);
    const where = maskDatastore(i.datastore.endpoint.raw);
    add({ id: "datastore", title: "datastore", status: r.outcome === "ok" ? "ok" : "fail", detail: r.outcome === "ok" ? r.message : `${where}: ${r.message}`, ...(r.fix ? { fix: r.fix } : {}) });
  }
  return checks;
}

const isUp = (l: IpLink): boolean => l.flags?.includes("UP") === true;

function interfaceChecks(c: Config, ifaces: IpLink[]): Check[] {
  // One rule for "which interface holds the VIP" (src/host): the agent's own.
  const holds = (l: IpLink) => interfaceForVip([l], c.vip) !== undefined;
  const found = c.interface ? undefined : interfaceForVip(ifaces, c.vip);
  if (found && found.ties.length > 0) return [{ id: "interface", title: "interface", status: "fail", detail: ambiguousInterface(found, c.vip), fix: "give --interface with the one that should carry the VIP" }];
  const iface = c.interface ? ifaces.find((x) => x.ifname === c.interface) : ifaces.find((l) => l.ifname === found?.name);
  const out: Check[] = [];
  if (!iface) {
    if (c.interface) out.push({ id: "interface", title: "interface", status: "fail", detail: `${c.interface} does not exist (have: ${ifaces.map((x) => x.ifname).join(", ")})`, fix: "give --interface with one of those names" });
    else out.push({ id: "interface", title: "interface", status: c.mode === "arp" ? "fail" : "ok", detail: `no interface has a subnet holding ${c.vip}`, ...(c.mode === "arp" ? { fix: "give --interface, or pick a VIP on the servers' LAN" } : {}) });
    return out;
  }
  const name = iface.ifname;
  out.push(isUp(iface) ? { id: "interface", title: "interface", status: "ok", detail: `${name} is up` } : { id: "interface", title: "interface", status: "fail", detail: `${name} is down`, fix: `ip link set ${name} up` });
  if (c.mode === "arp") {
    const subnets = iface.addr_info.map((a) => `${a.local}/${a.prefixlen}`).join(", ") || "no addresses";
    out.push(
      holds(iface)
        ? { id: "vip-subnet", title: "VIP subnet", status: "ok", detail: `${c.vip} is inside a subnet of ${name}` }
        : { id: "vip-subnet", title: "VIP subnet", status: "warn", detail: `${c.vip} is outside ${name}'s subnets (${subnets}): clients on the LAN may not reach it by ARP`, fix: "pick a free address in the servers' subnet, or use --mode bgp" },
    );
  }
  return out;
}

async function vipFree(i: PreflightInput, host: HostProbe, ifaces: IpLink[]): Promise<Check> {
  const c = i.config;
  const title = "VIP not in use";
  const copies = vipCopies(ifaces, c.vip);
  const own = copies.find((x) => x.own);
  if (own) return { id: "vip-free", title, status: "fail", detail: `${c.vip} is this node's own address on ${own.ifname} (/${own.entry.prefixlen})`, fix: "pick a free address in the subnet" };
  const other = copies.find((x) => !x.ours);
  if (other) {
    const detail = `${c.vip} is on ${other.ifname} as /${other.entry.prefixlen} without k3vip's mark (${markText(other.ifname, familyOf(c.vip))}): another program holds it`;
    if (i.migrate) return { id: "vip-free", title, status: "warn", detail: `${detail}; if it is the kube-vip --migrate removes, it goes when kube-vip stops`, fix: "otherwise stop whatever added it" };
    return { id: "vip-free", title, status: "fail", detail, fix: "stop it (an old kube-vip? then use --migrate) or pick a free address in the subnet" };
  }
  const mine = copies[0];
  if (mine) return { id: "vip-free", title, status: "ok", detail: `${c.vip} is on ${mine.ifname} with k3vip's mark (held by k3vip here)` };
  const found = interfaceForVip(ifaces, c.vip);
  const iface = c.interface || (found?.ties.length === 0 ? found.name : undefined);
  if (!iface) return { id: "vip-free", title, status: "skip", detail: "no interface to probe on" };
  try {
    const r = await host.duplicateAddress(iface, c.vip);
    if (!r.inUse) return { id: "vip-free", title, status: "ok", detail: `nobody answers for ${c.vip} on ${iface}` };
    const by = r.by ? ` (${r.by})` : "";
    if (i.join) return { id: "vip-free", title, status: "ok", detail: `${c.vip} is answered${by}: expected when joining, another server holds it` };
    if (i.previousVip === c.vip) return { id: "vip-free", title, status: "warn", detail: `${c.vip} is answered${by}; k3vip was installed here with this VIP, so another server may hold it`, fix: "if no other k3vip server runs, find the host using it (ip neigh)" };
    return { id: "vip-free", title, status: "fail", detail: `${c.vip} is already used on ${iface}${by}`, fix: "pick a free address, or stop whatever holds it (an old kube-vip? then use --migrate)" };
  } catch (e) {
    return { id: "vip-free", title, status: "warn", detail: `could not probe: ${(e as Error).message}`, fix: "install iputils-arping (IPv4) or ndisc6 (IPv6)" };
  }
}

async function portChecks(i: PreflightInput, host: HostProbe): Promise<Check[]> {
  const out: Check[] = [];
  for (const port of i.layout.apiPorts) {
    const up = await host.tcpReachable("127.0.0.1", port);
    const label = port === i.config.apiPort ? "API server" : "supervisor";
    if (up) out.push({ id: `port-${port}`, title: `${label} port ${port}`, status: "ok", detail: `reachable on 127.0.0.1:${port}` });
    else if (!i.detection.found) out.push({ id: `port-${port}`, title: `${label} port ${port}`, status: "skip", detail: `${i.layout.distro} is not installed yet` });
    else out.push({ id: `port-${port}`, title: `${label} port ${port}`, status: "warn", detail: `nothing answers on 127.0.0.1:${port}`, fix: `start ${i.layout.distro} (systemctl start ${i.layout.distro === "k3s" ? "k3s" : "rke2-server"}); the VIP forwards nowhere until it listens` });
  }
  const m = /^(.*):([0-9]+)$/.exec(i.config.metricsAddr);
  const mhost = (m?.[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  const mport = Number(m?.[2] ?? 0);
  try {
    const free = await host.portFree(mhost, mport);
    out.push(free ? { id: "metrics-port", title: `metrics port ${mport}`, status: "ok", detail: "free" } : { id: "metrics-port", title: `metrics port ${mport}`, status: i.previousVip ? "warn" : "fail", detail: `${i.config.metricsAddr} is in use${i.previousVip ? " (k3vip's own agent, if it runs here)" : ""}`, fix: "free it or give --metrics-addr another port (the agent uses host networking)" });
  } catch (e) {
    out.push({ id: "metrics-port", title: `metrics port ${mport}`, status: "warn", detail: `could not check: ${(e as Error).message}` });
  }
  return out;
}

/** A kube-vip for LoadBalancer Services only: it never announces the control-plane VIP. */
export function servicesOnly(f: Found): boolean {
  return f.kubeVip !== undefined && f.kubeVip.services && !f.kubeVip.controlPlane;
}

function lbChecks(i: PreflightInput): Check[] {
  const out: Check[] = [];
  const c = i.config;
  for (const f of i.found.filter((x) => x.what === "kube-vip")) {
    if (servicesOnly(f)) {
      out.push({ id: "kube-vip", title: "kube-vip", status: "ok", detail: `${f.file}: ${f.detail} serves only LoadBalancer Services (cp_enable is not true): it leaves the control-plane VIP to k3vip${i.migrate ? "; --migrate leaves it in place" : ""}` });
    } else if (f.viaApi) {
      const static_ = f.detail.startsWith("Pod ");
      out.push({ id: "kube-vip", title: "kube-vip", status: "fail", detail: `${f.file}: ${f.detail} would fight k3vip for the VIP`, fix: static_ ? `remove kube-vip's static pod file from ${i.layout.podManifestsDir.replace(i.layout.root, "")} on the node running it` : "delete it with kubectl (it does not come from this server's manifests dir)" });
    } else if (i.migrate && f.kubeVip?.services) {
      out.push({
        id: "kube-vip",
        title: "kube-vip",
        status: "fail",
        detail: `${f.file}: ${f.detail} also serves LoadBalancer Services (svc_enable "true"), which k3vip does not in this version: --migrate would take their addresses away`,
        fix: `keep kube-vip for Services: set cp_enable to "false" in it and run again without --migrate; or set svc_enable to "false" there if no Service uses it`,
      });
    } else if (i.migrate && f.kubeVip && f.kubeVip.lease !== c.handoverLease) {
      out.push({ id: "kube-vip", title: "kube-vip", status: "fail", detail: `${f.file}: ${f.detail} elects on the Lease ${f.kubeVip.lease}, but the agent would wait on ${c.handoverLease || "none (--handover-lease is empty)"} before taking over`, fix: `add --handover-lease ${f.kubeVip.lease}` });
    } else if (i.migrate) {
      const same = f.vip === undefined || f.vip === c.vip;
      out.push({ id: "kube-vip", title: "kube-vip", status: same ? "ok" : "warn", detail: `${f.file}: ${f.detail} will be removed (backed up) by --migrate`, ...(same ? {} : { fix: `it served ${f.vip ?? "?"}; k3vip serves ${c.vip}: clients and the certificate must use the new address` }) });
    } else {
      out.push({ id: "kube-vip", title: "kube-vip", status: "fail", detail: `${f.file}: ${f.detail} would fight k3vip for the VIP`, fix: `run again with --migrate${f.vip && f.vip !== c.vip ? "" : " (same VIP)"} to remove it, or remove it yourself` });
    }
  }
  for (const f of i.found.filter((x) => x.what === "metallb" || x.what === "cilium-l2")) {
    const name = f.what === "metallb" ? "MetalLB" : "Cilium L2 announcements";
    out.push({ id: f.what, title: name, status: c.services.enabled ? "fail" : "warn", detail: `${f.file}: ${f.detail}`, fix: c.services.enabled ? `${name} also answers for LoadBalancer IPs: turn off k3vip's services mode (--services false) or remove ${name}` : `keep its address pools away from ${c.vip}` });
  }
  if (c.services.enabled) {
    const on = servicelbEnabled(i.layout.distro, i.configs);
    out.push(on ? { id: "servicelb", title: "servicelb", status: "fail", detail: `${i.layout.distro === "rke2" ? "enable-servicelb: true" : "servicelb"} is on and would also answer for LoadBalancer Services`, fix: i.layout.distro === "rke2" ? "remove enable-servicelb from the RKE2 config" : "remove it from your config" } : { id: "servicelb", title: "servicelb", status: "ok", detail: i.layout.distro === "k3s" ? "disabled by the k3vip drop-in (disable+: [servicelb])" : "off" });
  }
  if (out.length === 0) out.push({ id: "load-balancers", title: "other load balancers", status: "ok", detail: "no kube-vip, MetalLB or Cilium L2 found in the manifests" });
  return out;
}

async function certCheck(i: PreflightInput, host: HostProbe): Promise<Check> {
  const title = "API certificate";
  const sans = await host.servingCertSans("127.0.0.1", i.config.apiPort);
  if (sans === undefined) return { id: "serving-cert", title, status: "skip", detail: `no TLS on 127.0.0.1:${i.config.apiPort} (API server not running)` };
  const want = ipaddr.parse(i.config.vip).toNormalizedString();
  const has = sans
    .split(",")
    .map((s) => s.trim())
    .some((s) => {
      const m = /^IP Address:(.+)$/.exec(s);
      if (!m?.[1]) return false;
      try {
        return ipaddr.parse(m[1]).toNormalizedString() === want;
      } catch {
        return false;
      }
    });
  if (has) return { id: "serving-cert", title, status: "ok", detail: `serving certificate names ${i.config.vip}` };
  const svc = i.layout.distro === "k3s" ? "k3s" : "rke2-server";
  return {
    id: "serving-cert",
    title,
    status: "warn",
    detail: `the serving certificate on 127.0.0.1:${i.config.apiPort} lacks ${i.config.vip} (SANs: ${sans || "none"})`,
    fix: `after install, restart to add the drop-in's tls-san: systemctl restart ${svc} (if it still lacks it: ${i.layout.distro} certificate rotate, then restart)`,
  };
}

export const SYMBOL: Record<Status, string> = { ok: "✓", warn: "!", fail: "✗", skip: "-" };

export function formatCheck(c: Check): string {
  return `${SYMBOL[c.status]} ${c.title}: ${c.detail}${c.fix && c.status !== "ok" ? `\n    fix: ${c.fix}` : ""}`;
}
