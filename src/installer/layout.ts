// Where k3s and RKE2 keep what the installer touches. Pure: `root` prefixes
// every path (for tests and image preparation).
import { join } from "node:path";
import { RKE2_SUPERVISOR_PORT, type Distro } from "../config/index.ts";
import { SYSCTL_FILE_NAME } from "./sysctl.ts";

export interface Layout {
  distro: Distro;
  /** "" for the real host, else the --root prefix. */
  root: string;
  manifestsDir: string;
  /** The cluster token the distribution keeps on every server (the heartbeat key is derived from it). */
  serverTokenFile: string;
  configDir: string;
  /** The user's own config.yaml: read, never written. */
  configFile: string;
  dropinDir: string;
  dropinFile: string;
  kubeconfig: string;
  imagesDir: string;
  /** Static pods (kube-vip's static-pod install lands here). */
  podManifestsDir: string;
  dataDir: string;
  stateDir: string;
  stateFile: string;
  backupsDir: string;
  /** Host sysctls the VIP needs (IPv6: ndisc_notify), read at every boot. */
  sysctlFile: string;
  /** Port servers join through: k3s serves it on the API port, RKE2 on its supervisor port. */
  joinPort: number;
  /** Ports that must answer through the VIP. */
  apiPorts: number[];
  /** Binaries whose presence means the distro is installed. */
  binaries: string[];
}

export const DROPIN_NAME = "50-k3vip.yaml";

export function layoutFor(distro: Distro, root = "", apiPort = 6443): Layout {
  const p = (...parts: string[]) => join(root || "/", ...parts);
  const dataDir = p("var/lib/rancher", distro);
  const configDir = p("etc/rancher", distro);
  const stateDir = join(dataDir, "k3vip");
  return {
    distro,
    root,
    manifestsDir: join(dataDir, "server/manifests"),
    serverTokenFile: join(dataDir, "server/token"),
    configDir,
    configFile: join(configDir, "config.yaml"),
    dropinDir: join(configDir, "config.yaml.d"),
    dropinFile: join(configDir, "config.yaml.d", DROPIN_NAME),
    kubeconfig: join(configDir, distro === "k3s" ? "k3s.yaml" : "rke2.yaml"),
    imagesDir: join(dataDir, "agent/images"),
    podManifestsDir: join(dataDir, "agent/pod-manifests"),
    dataDir,
    stateDir,
    stateFile: join(stateDir, "state.json"),
    backupsDir: join(stateDir, "backups"),
    sysctlFile: p("etc/sysctl.d", SYSCTL_FILE_NAME),
    joinPort: distro === "rke2" ? RKE2_SUPERVISOR_PORT : apiPort,
    apiPorts: distro === "rke2" ? [apiPort, RKE2_SUPERVISOR_PORT] : [apiPort],
    binaries: distro === "k3s" ? [p("usr/local/bin/k3s"), p("usr/bin/k3s")] : [p("usr/local/bin/rke2"), p("usr/bin/rke2"), p("opt/rke2/bin/rke2")],
  };
}
