// The installer against the project's fake Kubernetes API (src/lab/fakeapi:
// real REST paths, discovery, bearer tokens): uninstall deletes what k3s
// applied, the cluster scan finds a kube-vip DaemonSet, and kubeconfig's
// /readyz check goes through it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig, type Config } from "../config/index.ts";
import { doctor, install, MemoryReporter, NodeFs, uninstall } from "../installer/index.ts";
import { httpsReadyz, kubeconfig, KubeObjectDeleter } from "./index.ts";
import { FakeChecker } from "../installer/testing/fakes.ts";
import { startFakeApi, RESOURCE_TYPES, type FakeApi, type KubeObject } from "../lab/fakeapi/index.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";

let api: FakeApi;
const dirs: string[] = [];
const config: Config = resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0" } });

before(async () => {
  api = await startFakeApi({ port: 0, tokens: ["admin"] });
});
after(async () => {
  await api.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const r = mkdtempSync(join(tmpdir(), "k3vip-fakeapi-"));
  dirs.push(r);
  mkdirSync(join(r, "etc/rancher/k3s"), { recursive: true });
  // A running k3s server keeps its token here (the heartbeat key is derived from it).
  mkdirSync(join(r, "var/lib/rancher/k3s/server"), { recursive: true });
  writeFileSync(join(r, "var/lib/rancher/k3s/server/token"), "K10aa::server:cluster-token\n", { mode: 0o600 });
  writeFileSync(join(r, "etc/rancher/k3s/k3s.yaml"), `apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster: {server: '${api.url ?? ""}', insecure-skip-tls-verify: true}\nusers:\n- name: default\n  user: {token: admin}\ncontexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n`, { mode: 0o600 });
  return r;
}

const typeOf = (o: Record<string, unknown>) => {
  const [group, version] = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/") : ["", String(o.apiVersion)];
  const t = RESOURCE_TYPES.find((x) => x.group === group && x.version === version && x.kind === o.kind);
  if (!t) throw new Error(`fake API has no ${String(o.kind)}`);
  return t;
};
/** What k3s's deploy controller would do with the manifest. */
function k3sApplies(objs: Record<string, unknown>[]): void {
  for (const o of objs) {
    const ns = (o.metadata as { namespace?: string }).namespace ?? "";
    api.store.create(typeOf(o), ns, structuredClone(o) as KubeObject);
  }
}
const count = (objs: Record<string, unknown>[]) => objs.filter((o) => api.store.list(typeOf(o), (o.metadata as { namespace?: string }).namespace ?? null).some((x) => x.metadata.name === (o.metadata as { name: string }).name)).length;
const deps = () => ({ fs: new NodeFs(), checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0", kube: (p: string) => KubeObjectDeleter.fromFile(p) });

describe("installer against the fake API", () => {
  it("uninstall deletes every object k3s applied from the manifest (with the distro's kubeconfig)", async () => {
    const r = root();
    await install({ config, root: r, preflight: false }, deps());
    const objs = addonObjects({ ...config, distro: "k3s" });
    k3sApplies(objs);
    assert.equal(count(objs), objs.length);
    const u = await uninstall({ root: r }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects, deleter: (p) => KubeObjectDeleter.fromFile(p) });
    assert.deepEqual(u.notes, []);
    assert.deepEqual(u.commands, []);
    assert.equal(u.objects.filter((o) => o.outcome === "deleted").length, objs.length);
    assert.equal(count(objs), 0);
    assert.ok((api.stats().admin?.byVerb["DELETE daemonsets"] ?? 0) >= 1);
  });

  it("doctor's cluster scan finds a kube-vip DaemonSet running in the cluster", async () => {
    const r = root();
    api.store.create(RESOURCE_TYPES.find((t) => t.kind === "DaemonSet")!, "kube-system", {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "kube-vip-ds", namespace: "kube-system" },
      spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "kube-vip", image: "ghcr.io/kube-vip/kube-vip:v0.8.9", env: [{ name: "vip_address", value: "192.168.0.10" }] }] } } },
    });
    try {
      const d = await doctor({ root: r, config, kubeconfig: join(r, "etc/rancher/k3s/k3s.yaml") }, { fs: new NodeFs(), checker: new FakeChecker(), manifestName: ADDON_FILENAME, kube: (p) => KubeObjectDeleter.fromFile(p) });
      const kv = d.checks.find((c) => c.id === "kube-vip");
      assert.equal(kv?.status, "fail");
      assert.equal(kv?.detail, "the cluster (API): DaemonSet kube-vip-ds (ghcr.io/kube-vip/kube-vip:v0.8.9) serving 192.168.0.10 would fight k3vip for the VIP");
      assert.equal(d.checks.find((c) => c.id === "cluster")?.status, "ok");
    } finally {
      api.store.delete(RESOURCE_TYPES.find((t) => t.kind === "DaemonSet")!, "kube-system", "kube-vip-ds");
    }
  });

  it("kubeconfig's /readyz check goes through the API with the token", async () => {
    const r = root();
    const res = await kubeconfig({ root: r, vip: "192.168.0.10", apiPort: 6443, out: join(r, "vip.yaml"), checkServer: api.url ?? "" }, { fs: new NodeFs(), now: () => new Date(0), readyz: httpsReadyz });
    assert.equal(res.readyz?.ok, true, res.readyz?.message);
    // A running k3s server keeps its token here (the heartbeat key is derived from it).
  mkdirSync(join(r, "var/lib/rancher/k3s/server"), { recursive: true });
  writeFileSync(join(r, "var/lib/rancher/k3s/server/token"), "K10aa::server:cluster-token\n", { mode: 0o600 });
  writeFileSync(join(r, "etc/rancher/k3s/k3s.yaml"), `apiVersion: v1\nkind: Config\nclusters:\n- name: d\n  cluster: {server: 'https://127.0.0.1:6443'}\nusers:\n- name: d\n  user: {token: wrong}\ncontexts:\n- name: d\n  context: {cluster: d, user: d}\ncurrent-context: d\n`);
    const bad = await kubeconfig({ root: r, vip: "192.168.0.10", apiPort: 6443, checkServer: api.url ?? "" }, { fs: new NodeFs(), now: () => new Date(0), readyz: httpsReadyz });
    assert.equal(bad.readyz?.ok, false);
    assert.match(bad.readyz?.message ?? "", /HTTP 401: the API rejected the kubeconfig's credentials/);
  });
});
