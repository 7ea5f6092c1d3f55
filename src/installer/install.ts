// `k3vip install`: options → (read tree) → preflight → plan → diff or apply.
import { isAbsolute, join } from "node:path";
import ipaddr from "ipaddr.js";
import { badValue, maskSecrets, UsageError, type Config, type Distro } from "../config/index.ts";
import { foreignVipProblem } from "../net/index.ts";
import { applyPlan, ApplyError } from "./apply.ts";
import { guardPlan } from "./confine.ts";
import { kubeAccess, scanCluster } from "./cluster.ts";
import type { DatastoreChecker, TlsFiles } from "./datastore/check.ts";
import { datastoreSecrets, maskDatastore, parseDatastore, type Datastore } from "./datastore/url.ts";
import { detectDistro } from "./detect.ts";
import { configConflicts, dropinSecrets, dropinValues, renderDropin, type DropinInput } from "./dropin.ts";
import { missingDirs, type Fs } from "./fs.ts";
import { resolveHeartbeatKey, TOKEN_MAX, type KeySource } from "./heartbeat-key.ts";
import { InstallerError } from "./errors.ts";
import { findLoadBalancers, readCurrent, readState, readUserConfigs } from "./gather.ts";
import { archiveSuffix, imageFile, type ImageDeps, type ImageOptions, type ImageSummary } from "./image.ts";
import type { KubeAccess } from "./kube.ts";
import { layoutFor, type Layout } from "./layout.ts";
import { deleteMigrated, objectsIn } from "./migrate.ts";
import { isNoop, neededDirs, PlanConflict, planDiff, planInstall, type DesiredFile, type Plan } from "./plan.ts";
import { formatCheck, runPreflight, servicesOnly, type Check } from "./preflight/checks.ts";
import { withRootSession, type Session } from "./session.ts";
import type { HostProbe } from "./preflight/host.ts";
import type { Reporter } from "./report.ts";
import { toHost, toRoot } from "./state.ts";
import { applySysctls, sysctlPlan } from "./sysctl-apply.ts";
import type { SysctlAction } from "./sysctl.ts";

export interface InstallOptions extends ImageOptions {
  config: Config;
  /** "" = the real host; else every path is prefixed and the host is not probed. */
  root: string;
  /** --distro given explicitly (else detected). */
  distro?: Distro;
  datastore?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  clusterInit?: boolean;
  join?: boolean;
  token?: string;
  tokenFile?: string;
  tlsSans?: string[];
  /** Remove an existing kube-vip manifest / static pod (backed up, restored by uninstall). */
  migrate?: boolean;
  dryRun?: boolean;
  /** Default true. */
  preflight?: boolean;
  /** Kubeconfig for the cluster scan and --migrate's deletes; default the distro's on the real host. */
  kubeconfig?: string;
  /** More files for the same plan (image placement adds its archive here). */
  extraFiles?: (layout: Layout) => Promise<DesiredFile[]> | DesiredFile[];
}

export interface InstallDeps extends ImageDeps {
  /** Undefined = no host probing (always so with --root). */
  host?: HostProbe;
  checker: DatastoreChecker;
  /** The add-on manifest for a config (src/render's renderAddon). */
  render: (config: Config) => string;
  /** File name in the manifests dir (src/render's ADDON_FILENAME). */
  manifestName: string;
  reporter: Reporter;
  /** API access from a kubeconfig file (optional: without it only files are checked). */
  kube?: (kubeconfigPath: string) => KubeAccess;
  /** A new random heartbeat key (default 32 random bytes as hex); tests pin it. */
  randomKey?: () => string;
}

export interface InstallResult {
  status: "applied" | "up-to-date" | "dry-run";
  distro: Distro;
  changes: { path: string; kind: string; label: string }[];
  checks: Check[];
  notes: string[];
  /** --dry-run: the unified diff (secrets masked). */
  diff?: string;
  image: ImageSummary;
  /** Running host sysctls changed now (or, with --dry-run, that would be): IPv6 VIPs only. */
  sysctls: SysctlAction[];
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Install-only flag rules (pure). Throws UsageError. */
export function validateInstallOptions(o: InstallOptions): void {
  if (o.clusterInit && o.join) throw new UsageError("--cluster-init and --join exclude each other: --cluster-init on the first server, --join on the others");
  if (o.datastore !== undefined && (o.clusterInit || o.join)) {
    throw new UsageError(`--datastore excludes --${o.clusterInit ? "cluster-init" : "join"}: with an external datastore every server gets the same --datastore and --token, without --join`);
  }
  if (o.token !== undefined && o.tokenFile !== undefined) throw new UsageError("--token and --token-file exclude each other: give one");
  if (o.join && o.token === undefined && o.tokenFile === undefined) throw new UsageError("--join needs the cluster's token: give --token or --token-file (k3s: /var/lib/rancher/k3s/server/token on the first server)");
  if (o.token !== undefined && (o.token === "" || /\s/.test(o.token))) throw new UsageError('--token "****" is empty or has white space: give the token from the first server');
  for (const [flag, v] of [["--datastore-cafile", o.datastoreCafile], ["--datastore-certfile", o.datastoreCertfile], ["--datastore-keyfile", o.datastoreKeyfile]] as const) {
    if (v === undefined) continue;
    if (o.datastore === undefined) throw new UsageError(`${flag} needs --datastore`);
    if (!isAbsolute(v)) throw badValue(flag, v, "is not an absolute path; k3s reads it at start, from any directory");
  }
  if ((o.datastoreCertfile === undefined) !== (o.datastoreKeyfile === undefined)) throw new UsageError("--datastore-certfile and --datastore-keyfile come together: give both or neither");
  for (const san of o.tlsSans ?? []) {
    if (!ipaddr.isValid(san) && !HOSTNAME.test(san)) throw badValue("--tls-san", san, "is not an IP address or DNS name (example: k8s.example.com)");
  }
  if (o.root !== "" && !isAbsolute(o.root)) throw badValue("--root", o.root, "is not an absolute path (example: /tmp/image-root)");
  if (o.datastore !== undefined) parseDatastore(o.datastore);
  if (o.imageArchive !== undefined) archiveSuffix(o.imageArchive);
}

export async function install(o: InstallOptions, d: InstallDeps): Promise<InstallResult> {
  validateInstallOptions(o);
  if (o.root !== "" && !(await d.fs.stat(o.root))?.isDir) throw badValue("--root", o.root, "is not an existing directory");
  return withRootSession(d.fs, o.root, { ...(o.dryRun ? { dryRun: true } : {}) }, (session) => installIn(o, d, session));
}

async function installIn(o: InstallOptions, d: InstallDeps, session: Session): Promise<InstallResult> {
  const { fs, reporter } = d;
  const detection = await detectDistro(fs, o.root, o.distro);
  const layout = layoutFor(detection.distro, o.root, o.config.apiPort);
  const datastore: Datastore | undefined = o.datastore === undefined ? undefined : parseDatastore(o.datastore);
  const tls: TlsFiles = {
    ...(o.datastoreCafile ? { cafile: o.datastoreCafile } : {}),
    ...(o.datastoreCertfile ? { certfile: o.datastoreCertfile } : {}),
    ...(o.datastoreKeyfile ? { keyfile: o.datastoreKeyfile } : {}),
  };
  await checkReadable(fs, o.root, tls);
  if (o.root === "" && d.host) await refuseOwnAddress(d.host, o.config.vip);
  const token = o.tokenFile !== undefined ? await readToken(fs, o.tokenFile) : o.token;
  const manifestPath = join(layout.manifestsDir, d.manifestName);
  let keySource: KeySource | undefined;
  let config: Config = { ...o.config, distro: detection.distro };
  if (config.heartbeatPort !== 0) {
    const k = await resolveHeartbeatKey(fs, { given: config.heartbeatKey, token, tokenFile: layout.serverTokenFile, manifest: manifestPath, root: o.root, ...(d.randomKey ? { random: d.randomKey } : {}) });
    config = { ...config, heartbeatKey: k.key };
    keySource = k.from;
  }

  const state = await readState(fs, layout);
  const userConfigs = await readUserConfigs(fs, layout);
  const vipHost = config.vip.includes(":") ? `[${config.vip}]` : config.vip;
  const dropin: DropinInput = {
    distro: layout.distro,
    vip: config.vip,
    tlsSans: o.tlsSans ?? [],
    clusterInit: o.clusterInit === true,
    disableServicelb: config.services.enabled,
    ...(datastore ? { datastore: { endpoint: datastore.raw, ...tls } } : {}),
    ...(o.join && token ? { join: { server: `https://${vipHost}:${layout.joinPort}`, token } } : token ? { token } : {}),
  };
  const ours = dropinValues(dropin);
  const conflicts = configConflicts(userConfigs, ours);
  if (conflicts.length > 0) throw new InstallerError(`${conflicts.join("; ")}. Nothing was changed.`);

  const desired: DesiredFile[] = [
    { path: manifestPath, content: Buffer.from(d.render(config)), mode: 0o600, label: "manifest", secret: config.heartbeatKey !== "" || config.bgp.peers.some((p) => p.password) },
    { path: layout.dropinFile, content: Buffer.from(renderDropin(dropin)), mode: 0o600, label: "drop-in", secret: true },
  ];
  const sysctl = await sysctlPlan(config, layout, o.root === "" ? d.host : undefined, state);
  if (sysctl.file) desired.push(sysctl.file);
  const image = await imageFile(o, d, config, layout);
  if (image.file) desired.push(image.file);
  if (o.extraFiles) desired.push(...(await o.extraFiles(layout)));

  const found = await findLoadBalancers(fs, layout, new Set([manifestPath]));
  // A kube-vip for Services only (cp_enable not true) stays: it does not announce the control-plane VIP.
  const remove = o.migrate ? [...new Set(found.filter((f) => f.what === "kube-vip" && !servicesOnly(f)).map((f) => f.file))].map((path) => ({ path, label: "kube-vip manifest" })) : [];
  const removedObjects = o.migrate ? await objectsIn(fs, remove.map((r) => r.path)) : [];
  const access = await kubeAccess(fs, o, layout, d.kube);
  let clusterCheck: Check | undefined;
  if (access && o.preflight !== false) {
    const scan = await scanCluster(access, found, removedObjects);
    found.push(...scan.found);
    clusterCheck = scan.check;
  }

  let checks: Check[] = [];
  if (o.preflight !== false) {
    const pre = o.root ? undefined : d.host;
    checks = await reporter.step("preflight checks", async () => {
      const cs = await runPreflight({
        config,
        layout,
        detection,
        rootGiven: o.root !== "",
        join: o.join === true,
        migrate: o.migrate === true,
        ...(datastore ? { datastore: { endpoint: datastore, tls } } : {}),
        ...(pre ? { host: pre } : {}),
        checker: d.checker,
        found,
        configs: [...userConfigs.map((u) => u.values), ours],
        ...(state ? { previousVip: state.config.vip } : {}),
      });
      if (clusterCheck) cs.push(clusterCheck);
      for (const c of cs) reporter.line(`  ${formatCheck(c).replace(/\n/g, "\n  ")}`);
      const failed = cs.filter((c) => c.status === "fail");
      if (failed.length > 0) {
        throw new InstallerError(`preflight failed: ${failed.map((c) => `${c.title}: ${c.detail}`).join("; ")}. Nothing was changed; fix the ✗ lines above (or skip the checks with --no-preflight)`);
      }
      return cs;
    });
  }

  const current = await readCurrent(fs, layout, [...desired.map((x) => x.path), ...remove.map((r) => r.path)], state);
  const tracked = new Set((state?.files ?? []).map((f) => toRoot(layout, f.path)));
  const needBackups = remove.some((r) => current.has(r.path)) || desired.some((x) => current.has(x.path) && !tracked.has(x.path));
  const dirs = await dirsToCreate(fs, layout, desired, needBackups);
  let plan: Plan;
  try {
    plan = planInstall({ layout, config, version: d.version, desired, remove, current, state, missingDirs: dirs, sysctls: sysctl.record });
  } catch (e) {
    if (e instanceof PlanConflict) throw new InstallerError(`${e.message}. Nothing was changed.`);
    throw e;
  }
  await guardPlan(fs, o.root, plan);
  const secrets = [...(datastore ? datastoreSecrets(datastore) : []), ...dropinSecrets(dropin), ...config.bgp.peers.flatMap((p) => (p.password ? [p.password] : [])), config.heartbeatKey];
  const changes = plan.files.filter((f) => !f.internal && f.kind !== "unchanged").map((f) => ({ path: f.path, kind: f.kind, label: f.label }));
  const keyNotes = keySource === "random" ? [randomKeyNote(layout)] : [];
  const base = { distro: layout.distro, changes, checks, notes: [...session.notes, ...plan.notes, ...sysctl.notes, ...keyNotes, ...image.notes], image: image.summary, sysctls: sysctl.actions };

  if (o.dryRun) return { ...base, status: "dry-run", diff: planDiff(plan, secrets) + sysctl.actions.map((a) => `${a.kind} sysctl ${a.key} = ${a.value} (now ${a.before ?? "?"})\n`).join("") };
  if (isNoop(plan) && sysctl.actions.length === 0) return { ...base, status: "up-to-date" };
  try {
    await reporter.step(`write ${changes.length} file${changes.length === 1 ? "" : "s"} for ${layout.distro}`, async () => base.notes.push(...(await applyPlan(fs, plan, { journalDir: await session.journalDir(plan, layout.stateDir) })).notes));
  } catch (e) {
    if (e instanceof ApplyError) throw new InstallerError(`${maskSecrets(e.message, secrets)}${e.undoFailures.length === 0 ? ". Free the space or fix the permission, then run again" : ""}`);
    throw e;
  }
  base.notes.push(...afterNotes(o, layout, detection.found, plan, datastore, checks));
  if (d.host && o.root === "") base.notes.push(...(await applySysctls(d.host, sysctl.actions, layout)));
  else if (plan.files.some((f) => f.path === layout.sysctlFile && f.kind !== "unchanged" && f.kind !== "delete")) {
    base.notes.push(`${toHost(layout, layout.sysctlFile)} takes effect when the node boots (systemd-sysctl, or sysctl --system): it lets the kernel announce the IPv6 VIP by an unsolicited NA`);
  }
  if (removedObjects.length > 0) base.notes.push(...(await deleteMigrated(removedObjects, access, reporter)));
  return { ...base, status: "applied" };
}

/** No token to derive the heartbeat key from: what the other servers need so that the agents hear each other. */
export function randomKeyNote(layout: Layout): string {
  return `made a random heartbeat key: no cluster token was found (--token, --token-file, ${toHost(layout, layout.serverTokenFile)}). Every server needs the same key: run this install again once ${layout.distro} has started here (the key then comes from the cluster token, as on the other servers), or give every server the same --heartbeat-key`;
}

/** What to run next so the running server picks the change up. */
export function afterNotes(o: InstallOptions, layout: Layout, installed: boolean, plan: Plan, datastore: Datastore | undefined, checks: Check[]): string[] {
  const notes: string[] = [];
  const svc = layout.distro === "k3s" ? "k3s" : "rke2-server";
  const dropinChanged = plan.files.some((f) => f.path === layout.dropinFile && f.kind !== "unchanged");
  if (installed && o.root === "" && dropinChanged) {
    notes.push(`${layout.distro} reads ${layout.dropinFile} at start: run \`systemctl restart ${svc}\` to apply tls-san${datastore ? `/datastore (${maskDatastore(datastore.raw)})` : ""}`);
    if (checks.some((c) => c.id === "serving-cert" && c.status === "warn")) {
      notes.push(`if the serving certificate still lacks the VIP after the restart: systemctl stop ${svc} && ${layout.distro} certificate rotate && systemctl start ${svc}`);
    }
  }
  const archive = plan.files.find((f) => f.label === "image archive" && (f.kind === "create" || f.kind === "update"));
  if (archive && installed && o.root === "") {
    // k3s/RKE2 import new files in agent/images/ live only since v1.31.5/v1.32.0; older ones at start.
    notes.push(layout.distro === "k3s" ? `import it now: k3s ctr images import ${archive.path}` : `import it now: /var/lib/rancher/rke2/bin/ctr --address /run/k3s/containerd/containerd.sock -n k8s.io images import ${archive.path}`);
  } else if (archive) {
    notes.push(`${layout.distro} imports ${toHost(layout, archive.path)} when it starts (no registry needed)`);
  }
  return notes;
}

async function dirsToCreate(fs: Fs, layout: Layout, desired: DesiredFile[], withBackups: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const dir of neededDirs(layout, desired, withBackups)) for (const m of await missingDirs(fs, dir)) if (!out.includes(m)) out.push(m);
  // Parents first, whatever order the files came in.
  return out.sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

/**
 * A VIP equal to one of this node's own addresses would be taken off the
 * node by whoever "releases the VIP": refuse it before anything is written,
 * with or without preflight (no `ip` here: preflight reports that).
 */
export async function refuseOwnAddress(host: HostProbe, vip: string): Promise<void> {
  const links = await host.interfaces().catch(() => undefined);
  const problem = links && foreignVipProblem(links, vip, { ownOnly: true });
  if (problem) throw new UsageError(`--vip: ${problem}`);
}

async function checkReadable(fs: Fs, root: string, tls: TlsFiles): Promise<void> {
  for (const [flag, p] of [["--datastore-cafile", tls.cafile], ["--datastore-certfile", tls.certfile], ["--datastore-keyfile", tls.keyfile]] as const) {
    if (p === undefined) continue;
    const candidates = root ? [join(root, p), p] : [p];
    let ok = false;
    let why = "does not exist";
    for (const c of candidates) {
      try {
        if (await fs.read(c)) {
          ok = true;
          break;
        }
      } catch (e) {
        why = `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      }
    }
    if (!ok) throw new InstallerError(`${flag} ${p} ${why}; nothing was changed. Give a readable PEM file`);
  }
}


async function readToken(fs: Fs, path: string): Promise<string> {
  const gone = `--token-file ${path} does not exist; nothing was changed (k3s keeps it at /var/lib/rancher/k3s/server/token on the first server)`;
  let b: Buffer | undefined;
  try {
    const st = await fs.stat(path);
    if (!st) throw new InstallerError(gone);
    if (!st.isFile) throw new InstallerError(`--token-file ${path} is not a regular file (a directory, device or pipe); nothing was changed`);
    if (st.size > TOKEN_MAX) throw new InstallerError(`--token-file ${path} holds ${st.size} bytes, far more than a token; nothing was changed`);
    b = await fs.read(path);
  } catch (e) {
    if (e instanceof InstallerError) throw e;
    throw new InstallerError(`--token-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed`);
  }
  if (!b) throw new InstallerError(gone);
  const t = b.toString("utf8").trim();
  if (t === "" || /\s/.test(t)) throw new InstallerError(`--token-file ${path} is empty or holds more than one word; nothing was changed`);
  return t;
}
