// `k3vip kubeconfig`: the distro's admin kubeconfig, pointed at the VIP,
// renamed, written (--out) or merged (--merge, backup first), then checked
// with GET /readyz through the VIP. Parsing and writing go through
// @kubernetes/client-node's KubeConfig, never sed; files are written through
// the installer's Fs port and plan (atomic, backed up).
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { dirname, join } from "node:path";
import { KubeConfig, type Cluster, type Context, type User } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { UsageError, type Distro } from "../config/index.ts";
import { applyPlan, ApplyError, detectDistro, InstallerError, layoutFor, missingDirs, type FileChange, type Fs, type Plan } from "../installer/index.ts";

export interface KubeconfigOptions {
  root: string;
  distro?: Distro;
  vip: string;
  apiPort: number;
  /** Source kubeconfig; default the distro's (k3s.yaml / rke2.yaml). */
  from?: string;
  /** Name for cluster, user and context; default derived from the VIP. */
  context?: string;
  out?: string;
  /** Merge into this file (the CLI passes ~/.kube/config). */
  merge?: string;
  /** Make the new context current when merging. */
  use?: boolean;
  /** Default true. */
  check?: boolean;
  /**
   * Test-only: connect the /readyz check here (https://127.0.0.1:port)
   * instead of the VIP, while still requiring the certificate to name the VIP.
   */
  checkServer?: string;
}

export interface ReadyzResult {
  ok: boolean;
  message: string;
  fix?: string;
}

export interface KubeconfigDeps {
  fs: Fs;
  now: () => Date;
  readyz?: (kc: KubeConfig, vip: string, connectTo: string | undefined) => Promise<ReadyzResult>;
}

export interface KubeconfigResult {
  context: string;
  server: string;
  /** Where it was written; undefined = printed (the YAML is in `yaml`). */
  written?: string;
  backup?: string;
  yaml: string;
  note?: string;
  readyz?: ReadyzResult;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function defaultContextName(vip: string): string {
  return `k3vip-${vip.replace(/[.:]/g, "-")}`;
}

export function vipServer(vip: string, port: number): string {
  return `https://${vip.includes(":") ? `[${vip}]` : vip}:${port}`;
}

function load(path: string, text: string): KubeConfig {
  if (text.trim() === "") throw new InstallerError(`${path} is empty, not a kubeconfig (k3s/RKE2 write it when they start: are they running?); nothing was changed`);
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new InstallerError(`${path} is not a valid kubeconfig (${(e as Error).message.split("\n")[0] ?? ""}); nothing was changed`);
  }
  return kc;
}

/** Pure: the current context of `kc`, renamed to `name` and pointed at the VIP. */
export function rewrite(kc: KubeConfig, path: string, vip: string, port: number, name: string): { kc: KubeConfig; previous: string } {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (!ctx) throw new InstallerError(`${path} has no current context; nothing was changed`);
  const cluster = kc.getCluster(ctx.cluster);
  const user = kc.getUser(ctx.user);
  if (!cluster || !user) throw new InstallerError(`${path}: context ${ctx.name} names a missing cluster or user; nothing was changed`);
  const server = vipServer(vip, port);
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ ...cluster, name, server }],
    users: [{ ...user, name }],
    contexts: [{ ...ctx, name, cluster: name, user: name }],
    currentContext: name,
  });
  let host = "";
  try {
    host = new URL(cluster.server).hostname;
  } catch {
    host = "";
  }
  return { kc: out, previous: LOOPBACK.has(host) || host === vip || host === `[${vip}]` ? "" : cluster.server };
}

/** Pure: `add`'s entries replace same-named ones in `base`; the rest stays. */
export function merge(base: KubeConfig, add: KubeConfig, use: boolean): KubeConfig {
  const names = <T extends { name: string }>(a: T[], b: T[]) => [...a.filter((x) => !b.some((y) => y.name === x.name)), ...b];
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: names<Cluster>(base.getClusters(), add.getClusters()),
    users: names<User>(base.getUsers(), add.getUsers()),
    contexts: names<Context>(base.getContexts(), add.getContexts()),
    currentContext: use || base.getCurrentContext() === "" ? add.getCurrentContext() : base.getCurrentContext(),
  });
  return out;
}

export function toYaml(kc: KubeConfig): string {
  return stringify(JSON.parse(kc.exportConfig()) as unknown, { lineWidth: 0 });
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

export async function kubeconfig(o: KubeconfigOptions, d: KubeconfigDeps): Promise<KubeconfigResult> {
  if (o.out !== undefined && o.merge !== undefined) throw new UsageError("--out and --merge exclude each other: write a new file or merge into ~/.kube/config");
  if (o.use && o.merge === undefined) throw new UsageError("--use needs --merge (it sets the current context of the merged file)");
  const name = o.context ?? defaultContextName(o.vip);
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name)) throw new UsageError(`--context ${JSON.stringify(name)} is not a usable name (letters, digits, '.', '_', '@', '-')`);
  const { fs } = d;
  const from = o.from ?? layoutFor((await detectDistro(fs, o.root, o.distro)).distro, o.root).kubeconfig;
  const src = await fs.read(from).catch((e: unknown) => {
    throw new InstallerError(`cannot read ${from} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run as root, or give --from`);
  });
  if (!src) throw new InstallerError(`${from} does not exist: is k3s/RKE2 installed and started on this server? (or give --from)`);
  const { kc, previous } = rewrite(load(from, src.toString("utf8")), from, o.vip, o.apiPort, name);
  const result: KubeconfigResult = { context: name, server: vipServer(o.vip, o.apiPort), yaml: toYaml(kc) };
  if (previous) result.note = `the source pointed at ${previous}, not at this server's loopback: check it is the right cluster`;
  const target = o.out ?? o.merge;
  if (target !== undefined) {
    const files: FileChange[] = [];
    const existing = await fs.read(target);
    let content = result.yaml;
    const dirStat = await fs.stat(dirname(target));
    const owner = dirStat ? { uid: dirStat.uid, gid: dirStat.gid } : undefined;
    if (o.merge !== undefined && existing) {
      const merged = merge(load(target, existing.toString("utf8")), kc, o.use === true);
      content = toYaml(merged);
      const st = await fs.stat(target);
      const backup = `${target}.k3vip-backup-${stamp(d.now())}`;
      files.push({ kind: "create", path: backup, label: "backup", mode: st?.mode ?? 0o600, content: existing, ...(st ? { owner: { uid: st.uid, gid: st.gid } } : {}) });
      result.backup = backup;
    }
    const st = existing ? await fs.stat(target) : undefined;
    files.push({ kind: existing ? "update" : "create", path: target, label: "kubeconfig", mode: 0o600, content: Buffer.from(content), ...(owner ? { owner } : {}), ...(existing && st ? { before: { content: existing, mode: st.mode } } : {}) });
    const dirs = (await missingDirs(fs, dirname(target))).map((path) => ({ kind: "mkdir" as const, path, mode: 0o700 }));
    const plan: Plan = { dirs, files, notes: [] };
    try {
      await applyPlan(fs, plan);
    } catch (e) {
      if (e instanceof ApplyError) throw new InstallerError(e.message);
      throw e;
    }
    result.written = target;
  }
  if (o.check !== false && d.readyz) result.readyz = await d.readyz(kc, o.vip, o.checkServer);
  return result;
}

/** GET /readyz with the kubeconfig's credentials; the certificate must name the VIP (https). */
export async function httpsReadyz(kc: KubeConfig, vip: string, connectTo: string | undefined, timeoutMs = 5000): Promise<ReadyzResult> {
  const server = kc.getCurrentCluster()?.server ?? "";
  const url = new URL("/readyz", connectTo ?? server);
  const opts: import("node:https").RequestOptions = { method: "GET", timeout: timeoutMs };
  await kc.applyToHTTPSOptions(opts);
  opts.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkServerIdentity(vip, cert);
  // Plain http only for test/lab API servers; k3s and RKE2 always serve TLS.
  const send = url.protocol === "http:" ? httpRequest : request;
  if (url.protocol === "http:") delete opts.agent;
  return new Promise((resolve) => {
    const req = send(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8").trim().slice(0, 200);
        const code = res.statusCode ?? 0;
        if (code === 200) resolve({ ok: true, message: `${server}/readyz: ${body || "ok"}` });
        else if (code === 401 || code === 403) resolve({ ok: false, message: `${server}/readyz: HTTP ${code}: the API rejected the kubeconfig's credentials`, fix: "the source kubeconfig's user is not valid on this cluster" });
        else resolve({ ok: false, message: `${server}/readyz: HTTP ${code} ${body}`, fix: "the API server is not ready: check its log (journalctl -u k3s)" });
      });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => {
      const m = e.message.split("\n")[0] ?? "";
      if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID") resolve({ ok: false, message: `${server}: the serving certificate does not name ${vip} (${m})`, fix: "restart k3s/RKE2 after `k3vip install` so the drop-in's tls-san takes effect" });
      else if (/CERT|SELF_SIGNED|VERIFY/.test(e.code ?? "")) resolve({ ok: false, message: `${server}: certificate not trusted (${e.code ?? m})`, fix: "the kubeconfig's CA does not match the server: take the kubeconfig from this cluster" });
      else resolve({ ok: false, message: `${server}: cannot connect (${e.code ?? m})`, fix: "is the VIP up? run `k3vip doctor` on a server and check the k3vip pods (kubectl -n kube-system get pods -l app.kubernetes.io/name=k3vip)" });
    });
    req.end();
  });
}

export const HOME_KUBECONFIG = (home: string): string => join(home, ".kube", "config");
