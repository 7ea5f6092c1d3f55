// `k3vip install`: options → (read tree) → preflight → plan → diff or apply.
import { isAbsolute, join } from "node:path";
import ipaddr from "ipaddr.js";
import { archAlias, archiveFileName, badValue, defaults, hostArch, UsageError, type Arch, type Config, type Distro } from "../config/index.ts";
import { applyPlan, ApplyError } from "./apply.ts";
import type { DatastoreChecker, TlsFiles } from "./datastore/check.ts";
import { datastoreSecrets, maskDatastore, parseDatastore, type Datastore } from "./datastore/url.ts";
import { detectDistro } from "./detect.ts";
import { configConflicts, dropinSecrets, dropinValues, renderDropin, type DropinInput } from "./dropin.ts";
import { missingDirs, type Fs } from "./fs.ts";
import { findLoadBalancers, InstallerError, readCurrent, readState, readUserConfigs } from "./gather.ts";
import { layoutFor, type Layout } from "./layout.ts";
import { isNoop, neededDirs, PlanConflict, planDiff, planInstall, type DesiredFile, type Plan } from "./plan.ts";
import { runPreflight, formatCheck, type Check } from "./preflight/checks.ts";
import type { HostProbe } from "./preflight/host.ts";
import type { Reporter } from "./report.ts";
import { parseAllDocuments } from "yaml";
import { kubectlDelete, type ClusterProbe, type KubeAccess, type ObjectDeleter } from "./kube.ts";
import type { Found } from "./preflight/conflicts.ts";
import { toHost, toRoot, type StateRecord } from "./state.ts";
import { planSysctls, renderSysctlFile, vipSysctls, type SysctlAction, type SysctlRecord } from "./sysctl.ts";
import { foreignVipProblem, interfaceForVip } from "../net/index.ts";

export interface InstallOptions {
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
  /** An image archive to place in the airgap images dir (named `archiveFileName(arch)`, its compression suffix kept). */
  imageArchive?: string;
  /**
   * Without --image-archive: place the archive of `imageArch` from the
   * `images` port (shipped → cache → build), unless the config names a
   * registry image other than the default (the archive's tag). The CLI's
   * default; off for callers that don't ask.
   */
  autoImageArchive?: boolean;
  /** The archive's architecture (the node's, not necessarily this host's under --root). */
  imageArch?: Arch;
  /** Kubeconfig for the cluster scan and --migrate's deletes; default the distro's on the real host. */
  kubeconfig?: string;
  /** More files for the same plan (image placement adds its archive here). */
  extraFiles?: (layout: Layout) => Promise<DesiredFile[]> | DesiredFile[];
}

export interface InstallDeps {
  fs: Fs;
  /** Undefined = no host probing (always so with --root). */
  host?: HostProbe;
  checker: DatastoreChecker;
  /** The add-on manifest for a config (src/render's renderAddon). */
  render: (config: Config) => string;
  /** File name in the manifests dir (src/render's ADDON_FILENAME). */
  manifestName: string;
  reporter: Reporter;
  version: string;
  /** API access from a kubeconfig file (optional: without it only files are checked). */
  kube?: (kubeconfigPath: string) => KubeAccess;
  /** The image archive for an arch (src/image's imageArchiveFor): needed for autoImageArchive. */
  images?: (arch: Arch) => Promise<ImageArchive>;
}

export interface ImageArchive {
  path: string;
  /** The reference the archive is tagged with. */
  ref: string;
  source: string;
}

/** Where the DaemonSet's image comes from, for the summary. */
export interface ImageSummary {
  /** The reference the manifest names. */
  ref: string;
  /** "file" (--image-archive), the images port's source (shipped, cache, built), "registry" or "none" (--no-image-archive). */
  source: string;
  arch?: Arch;
  /** The archive's path in the airgap images dir. */
  archive?: string;
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

/** The compression suffixes k3s and RKE2 import from agent/images/ (they pick the decompressor by name). */
const ARCHIVE_SUFFIXES = [".tar.zst", ".tzst", ".tar.gz", ".tgz", ".tar"];

export function archiveSuffix(file: string): string {
  const s = ARCHIVE_SUFFIXES.find((x) => file.toLowerCase().endsWith(x));
  if (!s) throw badValue("--image-archive", file, "is not a .tar, .tar.gz or .tar.zst file (k3s and RKE2 import only those by name)");
  return s;
}

/** `--arch` → the archive's arch. */
export function parseImageArch(raw: string): Arch {
  const a = archAlias(raw);
  if (!a) throw badValue("--arch", raw, "is not an architecture (valid: amd64, arm64, arm)");
  return a;
}

/** The file name in agent/images/: stable per version and arch, so a rerun is up to date and an upgrade replaces it. */
export function placedArchiveName(arch: Arch, version: string, suffix = ".tar"): string {
  return archiveFileName(arch, version).replace(/\.tar$/, suffix);
}

export async function install(o: InstallOptions, d: InstallDeps): Promise<InstallResult> {
  validateInstallOptions(o);
  const { fs, reporter } = d;
  if (o.root !== "" && !(await fs.stat(o.root))?.isDir) throw badValue("--root", o.root, "is not an existing directory");
  const detection = await detectDistro(fs, o.root, o.distro);
  const config: Config = { ...o.config, distro: detection.distro };
  const layout = layoutFor(detection.distro, o.root, config.apiPort);
  const datastore: Datastore | undefined = o.datastore === undefined ? undefined : parseDatastore(o.datastore);
  const tls: TlsFiles = {
    ...(o.datastoreCafile ? { cafile: o.datastoreCafile } : {}),
    ...(o.datastoreCertfile ? { certfile: o.datastoreCertfile } : {}),
    ...(o.datastoreKeyfile ? { keyfile: o.datastoreKeyfile } : {}),
  };
  await checkReadable(fs, o.root, tls);
  if (o.root === "" && d.host) await refuseOwnAddress(d.host, config.vip);
  const token = o.tokenFile !== undefined ? await readToken(fs, o.tokenFile) : o.token;

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

  const manifestPath = join(layout.manifestsDir, d.manifestName);
  const desired: DesiredFile[] = [
    { path: manifestPath, content: Buffer.from(d.render(config)), mode: 0o600, label: "manifest", secret: config.bgp.peers.some((p) => p.password) },
    { path: layout.dropinFile, content: Buffer.from(renderDropin(dropin)), mode: 0o600, label: "drop-in", secret: true },
  ];
  const sysctl = await sysctlPlan(config, layout, o.root === "" ? d.host : undefined, state);
  if (sysctl.file) desired.push(sysctl.file);
  const image = await imageFile(o, d, config, layout);
  if (image.file) desired.push(image.file);
  if (o.extraFiles) desired.push(...(await o.extraFiles(layout)));

  const found = await findLoadBalancers(fs, layout, new Set([manifestPath]));
  const remove = o.migrate ? [...new Set(found.filter((f) => f.what === "kube-vip").map((f) => f.file))].map((path) => ({ path, label: "kube-vip manifest" })) : [];
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
  const secrets = [...(datastore ? datastoreSecrets(datastore) : []), ...dropinSecrets(dropin), ...config.bgp.peers.flatMap((p) => (p.password ? [p.password] : []))];
  const changes = plan.files.filter((f) => !f.internal && f.kind !== "unchanged").map((f) => ({ path: f.path, kind: f.kind, label: f.label }));
  const base = { distro: layout.distro, changes, checks, notes: [...plan.notes, ...sysctl.notes], image: image.summary, sysctls: sysctl.actions };

  if (o.dryRun) return { ...base, status: "dry-run", diff: planDiff(plan, secrets) + sysctl.actions.map((a) => `${a.kind} sysctl ${a.key} = ${a.value} (now ${a.before ?? "?"})\n`).join("") };
  if (isNoop(plan) && sysctl.actions.length === 0) return { ...base, status: "up-to-date" };
  try {
    await reporter.step(`write ${changes.length} file${changes.length === 1 ? "" : "s"} for ${layout.distro}`, () => applyPlan(fs, plan));
  } catch (e) {
    if (e instanceof ApplyError) throw new InstallerError(`${mask(e.message, secrets)}${e.undoFailures.length === 0 ? ". Free the space or fix the permission, then run again" : ""}`);
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

/**
 * The sysctl.d file an IPv6 VIP needs, and on the live host the running
 * values to change now (read through the host port; --root reads nothing).
 */
async function sysctlPlan(config: Config, layout: Layout, host: HostProbe | undefined, state: StateRecord | undefined): Promise<{ file?: DesiredFile; actions: SysctlAction[]; record: SysctlRecord[]; notes: string[] }> {
  const previous = state?.sysctls ?? [];
  let iface = config.interface || undefined;
  if (!iface && host && config.vip.includes(":")) iface = interfaceForVip(await host.interfaces().catch(() => []), config.vip)?.name;
  const settings = vipSysctls(config, iface);
  const file: DesiredFile | undefined = settings.length > 0 ? { path: layout.sysctlFile, content: Buffer.from(renderSysctlFile(settings)), mode: 0o644, label: "sysctl.d file" } : undefined;
  if (!host) return { ...(file ? { file } : {}), actions: [], record: previous, notes: [] };
  const live = new Map<string, string | undefined>();
  for (const p of new Set([...settings.map((s) => s.path), ...previous.map((r) => r.path)])) live.set(p, await host.readSysctl(p).catch(() => undefined));
  const { actions, record } = planSysctls(settings, live, previous);
  const notes = settings.filter((s) => live.get(s.path) === undefined).map((s) => `/proc/sys/${s.path} does not exist now (is the interface there?): ${toHost(layout, layout.sysctlFile)} applies it at boot`);
  return { ...(file ? { file } : {}), actions, record, notes };
}

/** Changes the running values (after the files are written); a failure is a note, the file still applies at boot. */
async function applySysctls(host: HostProbe, actions: SysctlAction[], layout: Layout): Promise<string[]> {
  const notes: string[] = [];
  for (const a of actions) {
    try {
      await host.writeSysctl(a.path, a.value);
      a.applied = true;
      notes.push(
        a.kind === "set"
          ? `set ${a.key} = ${a.value} now (was ${a.before ?? "?"}) so the kernel announces the IPv6 VIP by an unsolicited NA; ${layout.sysctlFile} keeps it across reboots`
          : `restored ${a.key} = ${a.value} (k3vip had set ${a.before ?? "?"})`,
      );
    } catch (e) {
      a.error = (e as Error).message;
      notes.push(`could not ${a.kind} ${a.key} = ${a.value} now (${a.error})${a.kind === "set" ? `: run sysctl -p ${layout.sysctlFile}, or reboot` : ""}`);
    }
  }
  return notes;
}

/** The archive to place (if any) and what the summary says about the image. Reads it before anything is written. */
async function imageFile(o: InstallOptions, d: InstallDeps, config: Config, layout: Layout): Promise<{ file?: DesiredFile; summary: ImageSummary }> {
  let src: ImageArchive;
  const arch = (): Arch => o.imageArch ?? hostArch();
  if (o.imageArchive !== undefined) {
    src = { path: o.imageArchive, ref: config.image, source: "file" };
  } else if (!o.autoImageArchive) {
    return { summary: { ref: config.image, source: "none" } };
  } else if (config.image !== defaults(d.version).image) {
    return { summary: { ref: config.image, source: "registry" } };
  } else {
    if (!d.images) throw new Error("install: autoImageArchive needs the images port");
    try {
      src = await d.images(arch());
    } catch (e) {
      const why = ((e as Error).message ?? String(e)).split("\n")[0] ?? "";
      throw new InstallerError(
        `could not find or build the ${arch()} image archive (${why}); nothing was changed. Build it where npm and apt-get work (k3vip image build --arch ${arch()} --out k3vip-${arch()}.tar) and give it with --image-archive <file>, use a registry image with --image <ref>, or skip the archive with --no-image-archive`,
        { cause: e },
      );
    }
    // The manifest must name the tag the archive carries, or containerd would pull instead.
    if (src.ref !== config.image) throw new InstallerError(`the image archive ${src.path} is tagged ${src.ref} but the manifest names ${config.image}; nothing was changed`);
  }
  const flag = o.imageArchive !== undefined ? "--image-archive " : "the image archive ";
  const content = await d.fs.read(src.path).catch((e: unknown) => {
    throw new InstallerError(`${flag}${src.path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed`);
  });
  if (!content) throw new InstallerError(`${flag}${src.path} does not exist; nothing was changed`);
  const a = arch();
  const path = join(layout.imagesDir, placedArchiveName(a, d.version, archiveSuffix(src.path)));
  return {
    file: { path, content, mode: 0o644, label: "image archive", binary: true },
    summary: { ref: config.image, source: src.source, arch: a, archive: path },
  };
}

/** The distro's kubeconfig on the real host, or --kubeconfig; none under --root unless given. */
export async function kubeAccess(fs: Fs, o: { root: string; kubeconfig?: string }, layout: Layout, kube: ((p: string) => KubeAccess) | undefined): Promise<KubeAccess | undefined> {
  const path = o.kubeconfig ?? (o.root === "" ? layout.kubeconfig : undefined);
  if (!kube || !path || !(await fs.stat(path))) return undefined;
  try {
    return kube(path);
  } catch {
    return undefined;
  }
}

const SCAN_TIMEOUT_MS = 8000;

const kindName = (f: Found): string => f.detail.split(" (")[0] ?? "";

/**
 * Other announcers running in the cluster. Ones already found in files here,
 * and objects --migrate deletes anyway, are not reported twice.
 */
export async function scanCluster(access: ClusterProbe, fromFiles: Found[], migrating: Record<string, unknown>[] = []): Promise<{ found: Found[]; check: Check }> {
  const title = "cluster scan";
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${SCAN_TIMEOUT_MS / 1000} s`)), SCAN_TIMEOUT_MS);
    });
    const all = await Promise.race([access.scan(), timeout]);
    const names = new Set([...fromFiles.map(kindName), ...migrating.map((m) => `${String(m.kind)} ${String((m.metadata as { name?: unknown } | undefined)?.name)}`)]);
    const found = all.filter((f) => !names.has(kindName(f)));
    return { found, check: { id: "cluster", title, status: "ok", detail: found.length === 0 ? "no kube-vip, MetalLB or Cilium L2 running in the cluster" : `${found.length} finding(s), below` } };
  } catch (e) {
    return { found: [], check: { id: "cluster", title, status: "skip", detail: `API not reachable (${((e as Error).message.split("\n")[0] ?? "").slice(0, 120)}): checked files only` } };
  } finally {
    clearTimeout(timer);
  }
}

async function objectsIn(fs: Fs, paths: string[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const p of paths) {
    const b = await fs.read(p);
    if (!b) continue;
    for (const doc of parseAllDocuments(b.toString("utf8"))) {
      const v: unknown = doc.errors.length === 0 ? doc.toJS() : undefined;
      if (v && typeof v === "object" && !Array.isArray(v) && "kind" in v && "metadata" in v) out.push(v);
    }
  }
  return out;
}

/** k3s leaves a removed manifest's objects running: delete the migrated kube-vip's, or say how. */
async function deleteMigrated(objs: Record<string, unknown>[], access: ObjectDeleter | undefined, reporter: Reporter): Promise<string[]> {
  const withNs = objs.map((o) => {
    const meta = (o.metadata ?? {}) as { namespace?: string };
    // kube-vip's manifests are namespaced to kube-system when they say nothing.
    return o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding" || meta.namespace ? o : { ...o, metadata: { ...meta, namespace: "kube-system" } };
  });
  if (!access) return [`k3s keeps the old kube-vip objects running after their manifest is gone: delete them with ${kubectlDelete(withNs).join(" && ")}`];
  const notes: string[] = [];
  await reporter
    .step("delete the migrated kube-vip objects through the API", async () => {
      for (const [i, o] of withNs.entries()) {
        try {
          await access.delete(o);
        } catch (e) {
          notes.push(`could not delete the old kube-vip objects (${(e as Error).message.split("\n")[0] ?? ""}): run ${kubectlDelete(withNs.slice(i)).join(" && ")}`);
          throw e;
        }
      }
    })
    .catch(() => undefined);
  return notes;
}

function mask(s: string, secrets: string[]): string {
  let out = s;
  for (const sec of secrets.filter((x) => x !== "")) out = out.split(sec).join("****");
  return out;
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
  let b: Buffer | undefined;
  try {
    b = await fs.read(path);
  } catch (e) {
    throw new InstallerError(`--token-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed`);
  }
  if (!b) throw new InstallerError(`--token-file ${path} does not exist; nothing was changed (k3s keeps it at /var/lib/rancher/k3s/server/token on the first server)`);
  const t = b.toString("utf8").trim();
  if (t === "" || /\s/.test(t)) throw new InstallerError(`--token-file ${path} is empty or holds more than one word; nothing was changed`);
  return t;
}
