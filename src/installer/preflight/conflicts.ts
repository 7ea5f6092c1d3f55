// Other things that announce addresses on the LAN, found from files the
// distribution applies (manifests dir, static pods) and its config. Pure over
// the texts; the caller reads them through the Fs port.
import { parseAllDocuments } from "yaml";
import { kubeVipLease, kubeVipServes } from "../../config/index.ts";

export interface Found {
  what: "kube-vip" | "metallb" | "cilium-l2" | "servicelb";
  /** The file it was found in. */
  file: string;
  detail: string;
  /** For kube-vip: the VIP it serves, if set in its env. */
  vip?: string;
  /** For kube-vip: what its env turns on (cp_enable, svc_enable) and its control-plane Lease. */
  kubeVip?: { controlPlane: boolean; services: boolean; lease: string };
  /** Seen through the API (running somewhere), not in a file here: --migrate cannot remove it. */
  viaApi?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function containers(o: Obj): Obj[] {
  const spec = isObj(o.spec) ? o.spec : {};
  const podSpec = o.kind === "Pod" ? spec : isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec : {};
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
  return [...arr(podSpec.containers), ...arr(podSpec.initContainers)].filter(isObj);
}

/** A container's plain env values (valueFrom entries are left out). */
function envMap(c: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Array.isArray(c.env) ? c.env.filter(isObj) : []) {
    if (typeof e.name === "string" && typeof e.value === "string") out[e.name] = e.value;
  }
  return out;
}

/** Scans one manifest file's objects. Unparseable files are reported by the caller, not here. */
export function scanManifest(file: string, text: string): Found[] {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).flatMap((d) => ("errors" in d && d.errors.length > 0 ? [] : [d.toJS() as unknown]));
  } catch {
    return [];
  }
  return scanObjects(file, docs);
}

/** Scans objects (from a file, or listed through the API) for other VIP / load-balancer announcers. */
export function scanObjects(file: string, docs: unknown[]): Found[] {
  const found: Found[] = [];
  const objs = docs.flatMap((d): unknown[] => (isObj(d) && d.kind === "List" && Array.isArray(d.items) ? (d.items as unknown[]) : [d])).filter(isObj);
  for (const o of objs) {
    const kind = typeof o.kind === "string" ? o.kind : "";
    const api = typeof o.apiVersion === "string" ? o.apiVersion : "";
    const name = isObj(o.metadata) && typeof o.metadata.name === "string" ? o.metadata.name : "";
    for (const c of containers(o)) {
      const image = typeof c.image === "string" ? c.image : "";
      if (/(^|\/)kube-vip(:|@|$)/.test(image)) {
        const env = envMap(c);
        // address beats vip_address; empty is unset (kube-vip's rules).
        const vip = env.address || env.vip_address || undefined;
        const kubeVip = { ...kubeVipServes(env), lease: kubeVipLease(env) };
        found.push({ what: "kube-vip", file, detail: `${kind} ${name} (${image})${vip ? ` serving ${vip}` : ""}`, ...(vip ? { vip } : {}), kubeVip });
      } else if (/metallb/.test(image)) found.push({ what: "metallb", file, detail: `${kind} ${name} (${image})` });
    }
    if (api.startsWith("metallb.io/")) found.push({ what: "metallb", file, detail: `${kind} ${name}` });
    if (kind === "CiliumL2AnnouncementPolicy") found.push({ what: "cilium-l2", file, detail: `${kind} ${name}` });
    if ((kind === "HelmChart" || kind === "HelmChartConfig") && isObj(o.spec)) {
      const chart = typeof o.spec.chart === "string" ? o.spec.chart : name;
      const values = typeof o.spec.valuesContent === "string" ? o.spec.valuesContent : "";
      if (/metallb/.test(chart)) found.push({ what: "metallb", file, detail: `${kind} ${name}` });
      if (/cilium/.test(chart) && /l2announcements:\s*\n\s*enabled:\s*true|l2announcements\.enabled[=:]\s*true/.test(values)) {
        found.push({ what: "cilium-l2", file, detail: `${kind} ${name} enables l2announcements` });
      }
      if (/kube-vip/.test(chart)) found.push({ what: "kube-vip", file, detail: `${kind} ${name}` });
    }
  }
  return dedupe(found);
}

function dedupe(f: Found[]): Found[] {
  const seen = new Set<string>();
  return f.filter((x) => {
    const k = `${x.what} ${x.file} ${x.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Whether the merged k3s config leaves servicelb on (k3s: on unless disabled; RKE2: off unless enabled). */
export function servicelbEnabled(distro: "k3s" | "rke2", configs: Obj[]): boolean {
  if (distro === "rke2") return configs.some((c) => c["enable-servicelb"] === true);
  const disabled = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(",") : []).map((s) => s.trim()).includes("servicelb");
  return !configs.some((c) => disabled(c.disable) || disabled(c["disable+"]) || c["disable-servicelb"] === true);
}
