// `k3vip doctor`: the preflight checks against what is installed now (the
// state record's config and k3vip's own drop-in), or against given flags.
import { join } from "node:path";
import { badValue, UsageError, type Config, type Distro } from "../config/index.ts";
import type { DatastoreChecker, TlsFiles } from "./datastore/check.ts";
import { parseDatastore } from "./datastore/url.ts";
import { detectDistro } from "./detect.ts";
import { parseConfigFile } from "./dropin.ts";
import type { Fs } from "./fs.ts";
import { InstallerError } from "./errors.ts";
import { findLoadBalancers, readState, readUserConfigs } from "./gather.ts";
import { kubeAccess, scanCluster } from "./cluster.ts";
import { refuseOwnAddress } from "./install.ts";
import type { KubeAccess } from "./kube.ts";
import { layoutFor } from "./layout.ts";
import { runPreflight, type Check } from "./preflight/checks.ts";
import type { HostProbe } from "./preflight/host.ts";

export interface DoctorOptions {
  root: string;
  distro?: Distro;
  /** Flags given: check these instead of the installed config. */
  config?: Config;
  /** Kubeconfig for the cluster scan; default the distro's on the real host. */
  kubeconfig?: string;
}

export interface DoctorDeps {
  fs: Fs;
  host?: HostProbe;
  checker: DatastoreChecker;
  manifestName: string;
  kube?: (kubeconfigPath: string) => KubeAccess;
}

export interface DoctorResult {
  distro: Distro;
  checks: Check[];
  ok: boolean;
}

export async function doctor(o: DoctorOptions, d: DoctorDeps): Promise<DoctorResult> {
  if (o.root !== "" && !(await d.fs.stat(o.root))?.isDir) throw badValue("--root", o.root, "is not an existing directory");
  const detection = await detectDistro(d.fs, o.root, o.distro);
  let layout = layoutFor(detection.distro, o.root);
  const state = await readState(d.fs, layout);
  const config = o.config ?? state?.config;
  if (!config) throw new UsageError(`--vip is required: k3vip is not installed under ${layout.stateDir} (example: k3vip doctor --vip 192.168.0.10)`);
  layout = layoutFor(detection.distro, o.root, config.apiPort);
  if (d.host && o.root === "") await refuseOwnAddress(d.host, config.vip);
  const userConfigs = await readUserConfigs(d.fs, layout);
  const ours = await d.fs.read(layout.dropinFile);
  let dropin: Record<string, unknown> = {};
  if (ours) {
    try {
      dropin = parseConfigFile(layout.dropinFile, ours.toString("utf8"));
    } catch (e) {
      throw new InstallerError((e as Error).message);
    }
  }
  const str = (k: string): string | undefined => (typeof dropin[k] === "string" ? (dropin[k]) : undefined);
  const endpoint = str("datastore-endpoint");
  const tls: TlsFiles = {};
  for (const [k, key] of [["cafile", "datastore-cafile"], ["certfile", "datastore-certfile"], ["keyfile", "datastore-keyfile"]] as const) {
    const v = str(key);
    if (v) tls[k] = v;
  }
  let datastore;
  if (endpoint) {
    try {
      datastore = { endpoint: parseDatastore(endpoint, `${layout.dropinFile}: datastore-endpoint`), tls };
    } catch (e) {
      throw new InstallerError((e as Error).message);
    }
  }
  const found = await findLoadBalancers(d.fs, layout, new Set([join(layout.manifestsDir, d.manifestName)]));
  const access = await kubeAccess(d.fs, o, layout, d.kube);
  const scan = access ? await scanCluster(access, found) : undefined;
  if (scan) found.push(...scan.found);
  const checks = await runPreflight({
    config: { ...config, distro: detection.distro },
    layout,
    detection,
    rootGiven: o.root !== "",
    join: dropin.server !== undefined,
    migrate: false,
    ...(datastore ? { datastore } : {}),
    ...(d.host && o.root === "" ? { host: d.host } : {}),
    checker: d.checker,
    found,
    configs: [...userConfigs.map((u) => u.values), dropin],
    ...(state ? { previousVip: state.config.vip } : {}),
  });
  if (scan) checks.push(scan.check);
  return { distro: detection.distro, checks, ok: !checks.some((c) => c.status === "fail") };
}
