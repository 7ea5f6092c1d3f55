// Uninstall deletes the add-on's objects through the API with the distro's
// kubeconfig (bearer token, cluster CA), DaemonSet first; reports objects
// already gone; prints the exact kubectl command when the API is unreachable
// or refuses. The API is a small HTTPS server on 127.0.0.1 with real REST
// paths and discovery documents.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseSources, type Config } from "../config/index.ts";
import { doctor, install, MemoryReporter, NodeFs, uninstall } from "../installer/index.ts";
import { KubeObjectDeleter } from "./index.ts";
import { FakeChecker } from "../installer/testing/fakes.ts";
import { TestPki } from "../installer/testing/pki.ts";
import { snapshotTree } from "../installer/testing/tree.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";

const TOKEN = "k3vip-test-token";
const RESOURCES: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  "/api/v1": [
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "configmaps", kind: "ConfigMap", namespaced: true },
  ],
  "/apis/apps/v1": [{ name: "daemonsets", kind: "DaemonSet", namespaced: true }],
  "/apis/rbac.authorization.k8s.io/v1": [
    { name: "roles", kind: "Role", namespaced: true },
    { name: "rolebindings", kind: "RoleBinding", namespaced: true },
    { name: "clusterroles", kind: "ClusterRole", namespaced: false },
    { name: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  ],
};

let pki: TestPki;
let server: Server;
let port = 0;
/** Object paths that exist; DELETE removes them. */
let objects = new Set<string>();
let deletes: string[] = [];
let forbid = false;
/** What the list endpoints return (the cluster scan). */
let cluster: { daemonsets: unknown[]; pods: unknown[]; pools: unknown[] | undefined } = { daemonsets: [], pods: [], pools: undefined };
const dirs: string[] = [];

function pathOf(o: Record<string, unknown>): string {
  const [group, version] = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/") : ["", String(o.apiVersion)];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const r = RESOURCES[base]?.find((x) => x.kind === o.kind);
  const meta = o.metadata as { name: string; namespace?: string };
  return `${base}${r?.namespaced ? `/namespaces/${meta.namespace ?? "default"}` : ""}/${r?.name ?? "?"}/${meta.name}`;
}

before(async () => {
  pki = new TestPki("k3s-server-ca");
  const leaf = pki.leaf("k3s", ["IP:127.0.0.1"], "server");
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const json = (code: number, body: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { kind: "Status", code: 401, message: "Unauthorized" });
    const url = new URL(req.url ?? "/", "https://x");
    const list = RESOURCES[url.pathname];
    if (req.method === "GET" && url.pathname === "/apis/apps/v1/daemonsets") return json(200, { kind: "DaemonSetList", apiVersion: "apps/v1", metadata: {}, items: cluster.daemonsets });
    if (req.method === "GET" && url.pathname === "/api/v1/namespaces/kube-system/pods") return json(200, { kind: "PodList", apiVersion: "v1", metadata: {}, items: cluster.pods });
    if (req.method === "GET" && url.pathname === "/apis/metallb.io/v1beta1/ipaddresspools" && cluster.pools) return json(200, { kind: "IPAddressPoolList", apiVersion: "metallb.io/v1beta1", metadata: {}, items: cluster.pools });
    if (req.method === "GET" && list) return json(200, { kind: "APIResourceList", groupVersion: url.pathname.replace(/^\/apis?\//, ""), resources: list.map((r) => ({ ...r, singularName: "", verbs: ["delete", "get"] })) });
    if (req.method === "DELETE") {
      deletes.push(`${url.pathname}?${url.searchParams.toString()}`);
      if (forbid) return json(403, { kind: "Status", code: 403, message: "forbidden: User cannot delete" });
      if (!objects.delete(url.pathname)) return json(404, { kind: "Status", code: 404, reason: "NotFound", message: "not found" });
      return json(200, { kind: "Status", status: "Success" });
    }
    return json(404, { kind: "Status", code: 404, message: `no ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  for (const d of [...dirs, pki.dir]) rmSync(d, { recursive: true, force: true });
});

// BGP (still to come) for its Secret, which uninstall must delete too.
const config: Config = parseSources({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0", mode: "bgp", "bgp-as": "65001", "bgp-peers": "192.168.0.1:65000:peerpw" } });

async function installedRoot(apiPort = port): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "k3vip-unapi-"));
  dirs.push(root);
  mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
  const kc = `apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://127.0.0.1:${apiPort}\n    certificate-authority-data: ${pki.caPem.toString("base64")}\nusers:\n- name: default\n  user:\n    token: ${TOKEN}\ncontexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n`;
  writeFileSync(join(root, "etc/rancher/k3s/k3s.yaml"), kc, { mode: 0o600 });
  await install({ config, root, preflight: false }, { fs: new NodeFs(), checker: new FakeChecker(), render: (c) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0" });
  return root;
}
const kubeDeps = () => ({ fs: new NodeFs(), checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0", kube: (p: string) => KubeObjectDeleter.fromFile(p) });
const run = (root: string) => uninstall({ root }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects, deleter: (p) => KubeObjectDeleter.fromFile(p) });

describe("uninstall deletes the add-on's objects through the API", () => {
  it("deletes every rendered object, DaemonSet first; the Addon type is absent here", async () => {
    const root = await installedRoot();
    const objs = addonObjects({ ...config, distro: "k3s" });
    objects = new Set(objs.map(pathOf));
    deletes = [];
    const r = await run(root);
    assert.equal(r.status, "removed");
    assert.deepEqual(r.commands, []);
    assert.equal(r.objects[0]?.ref, "daemonset.apps/k3vip");
    assert.deepEqual(r.objects.filter((o) => o.outcome === "deleted").length, objs.length);
    assert.deepEqual(r.objects.at(-1), { ref: "addon.k3s.cattle.io/k3vip", outcome: "absent" });
    assert.equal(objects.size, 0);
    assert.match(deletes[0] ?? "", /^\/apis\/apps\/v1\/namespaces\/kube-system\/daemonsets\/k3vip\?.*propagationPolicy=Foreground/);
    assert.equal(deletes.at(-1)?.startsWith("/api/v1/namespaces/kube-system/serviceaccounts/"), true);
    // Only k3s.yaml (the user's) is left.
    assert.deepEqual(Object.keys(snapshotTree(root)), ["etc", "etc/rancher", "etc/rancher/k3s", "etc/rancher/k3s/k3s.yaml"]);
  });

  it("objects already gone are reported as absent", async () => {
    const root = await installedRoot();
    objects = new Set();
    const r = await run(root);
    assert.ok(r.objects.every((o) => o.outcome === "absent"));
  });

  it("API refuses: the remaining objects' kubectl command is printed", async () => {
    const root = await installedRoot();
    forbid = true;
    try {
      const r = await run(root);
      assert.equal(r.objects[0]?.outcome, "not-deleted");
      assert.match(r.notes.join("\n"), /the API refused a delete \(HTTP 403/);
      assert.match(r.commands[0] ?? "", /^kubectl delete --ignore-not-found -n kube-system daemonset\.apps\/k3vip /);
    } finally {
      forbid = false;
    }
  });

  it("API unreachable: files removed, kubectl command printed", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as AddressInfo).port;
    closed.close();
    const root = await installedRoot(deadPort);
    const r = await run(root);
    assert.equal(r.status, "removed");
    assert.match(r.notes.join("\n"), /the API is not reachable/);
    assert.equal(r.commands.length >= 1, true);
    assert.ok(r.objects.every((o) => o.outcome === "not-deleted"));
  });
});

describe("cluster scan and --migrate through the API", () => {
  const kvDs = { metadata: { name: "kube-vip-ds", namespace: "kube-system" }, spec: { template: { spec: { containers: [{ name: "kube-vip", image: "ghcr.io/kube-vip/kube-vip:v0.8.9", env: [{ name: "address", value: "192.168.0.10" }] }] } } } };
  const kvPod = { metadata: { name: "kube-vip-srv2", namespace: "kube-system" }, spec: { containers: [{ name: "kube-vip", image: "ghcr.io/kube-vip/kube-vip:v0.8.9" }] } };
  const kvFile = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kube-vip, namespace: kube-system}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-vip-ds, namespace: kube-system}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: kube-vip, image: 'ghcr.io/kube-vip/kube-vip:v0.8.9', env: [{name: address, value: '192.168.0.10'}]}\n";

  function rootWithKubeVip(): { root: string; kubeconfig: string } {
    const root = mkdtempSync(join(tmpdir(), "k3vip-scan-"));
    dirs.push(root);
    mkdirSync(join(root, "var/lib/rancher/k3s/server/manifests"), { recursive: true });
    writeFileSync(join(root, "var/lib/rancher/k3s/server/manifests/kube-vip.yaml"), kvFile);
    // A running k3s server keeps its token here (the heartbeat key is derived from it).
    writeFileSync(join(root, "var/lib/rancher/k3s/server/token"), "K10aa::server:cluster-token\n", { mode: 0o600 });
    const kubeconfig = join(root, "admin.yaml");
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\n    certificate-authority-data: ${pki.caPem.toString("base64")}\nusers:\n- name: u\n  user: {token: ${TOKEN}}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
    return { root, kubeconfig };
  }

  it("a kube-vip static pod seen only through the API blocks the install; after it is gone, --migrate deletes the old DaemonSet", async () => {
    const { root, kubeconfig } = rootWithKubeVip();
    cluster = { daemonsets: [kvDs], pods: [kvPod], pools: [] };
    objects = new Set(["/apis/apps/v1/namespaces/kube-system/daemonsets/kube-vip-ds", "/api/v1/namespaces/kube-system/serviceaccounts/kube-vip"]);
    deletes = [];
    const before = snapshotTree(root);
    await assert.rejects(install({ config, root, kubeconfig, migrate: true }, kubeDeps()), /preflight failed: kube-vip: the cluster \(API\): Pod kube-vip-srv2 .*would fight k3vip for the VIP/);
    assert.deepEqual(snapshotTree(root), before);
    assert.equal(deletes.length, 0);

    cluster.pods = [];
    const r = await install({ config, root, kubeconfig, migrate: true }, kubeDeps());
    assert.equal(r.status, "applied");
    assert.equal(r.checks.find((c) => c.id === "cluster")?.status, "ok");
    assert.deepEqual(r.notes, []);
    assert.deepEqual(deletes.map((d) => d.split("?")[0]), ["/api/v1/namespaces/kube-system/serviceaccounts/kube-vip", "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-vip-ds"]);
    assert.equal(objects.size, 0);
  });

  it("MetalLB pools in the cluster: a warning, or a failure with services mode on", async () => {
    const { root, kubeconfig } = rootWithKubeVip();
    cluster = { daemonsets: [], pods: [], pools: [{ metadata: { name: "lan" }, spec: { addresses: ["192.168.0.200/29"] } }] };
    const r = await doctor({ root, kubeconfig, config }, { fs: new NodeFs(), checker: new FakeChecker(), manifestName: ADDON_FILENAME, kube: (p) => KubeObjectDeleter.fromFile(p) });
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, c]));
    assert.equal(byId.metallb?.status, "warn");
    assert.equal(byId.metallb?.detail, "the cluster (API): IPAddressPool lan");
    const svc = parseSources({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", services: "true", "services-pools": "192.168.0.100/30" } });
    const r2 = await doctor({ root, kubeconfig, config: svc }, { fs: new NodeFs(), checker: new FakeChecker(), manifestName: ADDON_FILENAME, kube: (p) => KubeObjectDeleter.fromFile(p) });
    assert.equal(r2.checks.find((c) => c.id === "metallb")?.status, "fail");
  });

  it("an unreachable API: the scan is skipped, files are still checked", async () => {
    const { root } = rootWithKubeVip();
    const dead = join(root, "dead.yaml");
    writeFileSync(dead, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
    const r = await doctor({ root, kubeconfig: dead, config }, { fs: new NodeFs(), checker: new FakeChecker(), manifestName: ADDON_FILENAME, kube: (p) => KubeObjectDeleter.fromFile(p) });
    const scan = r.checks.find((c) => c.id === "cluster");
    assert.equal(scan?.status, "skip");
    assert.match(scan?.detail ?? "", /API not reachable .*checked files only/);
    assert.equal(r.checks.find((c) => c.id === "kube-vip")?.status, "fail");
  });

  it("--migrate without API access says which kubectl command removes the old objects", async () => {
    const { root } = rootWithKubeVip();
    const r = await install({ config, root, migrate: true }, kubeDeps());
    assert.match(r.notes.join("\n"), /k3s keeps the old kube-vip objects running .*kubectl delete --ignore-not-found -n kube-system serviceaccount\/kube-vip daemonset\.apps\/kube-vip-ds/);
  });
});

