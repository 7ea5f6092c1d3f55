// The real Lease adapter (client-node CoordinationV1Api + Watch) against the
// fake API server over HTTP: the same requests a real kube-apiserver gets.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeApiKubeconfig, resourceType, startFakeApi, type FakeApi } from "../lab/fakeapi/index.ts";
import { microTime, type LeaseObject } from "../agent/index.ts";
import { KubeLeasePort, loadKubeConfig } from "./index.ts";
import type { WatchKind } from "../agent/index.ts";
import { leaseSpec, rejectsWith } from "./testing/lease.ts";

let api: FakeApi;
let dir: string;

function kubeconfig(token: string, server = api.url ?? ""): string {
  const path = join(dir, `${token}.kubeconfig`);
  writeFileSync(path, fakeApiKubeconfig(server, token));
  return path;
}

function port(token: string, timeoutMs = 500, server?: string): KubeLeasePort {
  const { kc } = loadKubeConfig({ kubeconfig: kubeconfig(token, server) });
  return new KubeLeasePort(kc, { namespace: "kube-system", name: "k3vip-cp", timeoutMs });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "k3vip-kube-"));
  api = await startFakeApi({ port: 0 });
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.clearFaults();
  try {
    api.store.delete(leaseType(), "kube-system", "k3vip-cp");
  } catch {
    /* absent */
  }
});

const leaseType = () => resourceType("leases", "coordination.k8s.io");

describe("KubeLeasePort against the fake API", () => {
  it("404 → create → get → update with resourceVersion → 409 on a stale version", async () => {
    const p = port("srv1");
    await rejectsWith(p.get(), "notFound");
    const created = await p.create(leaseSpec("srv1", Date.UTC(2026, 10, 29, 20, 0, 0, 123)));
    assert.equal(created.spec.holderIdentity, "srv1");
    assert.equal(created.spec.renewTime, "2026-11-29T20:00:00.123000Z", "MicroTime round-trips with six digits");
    assert.match(created.resourceVersion, /^\d+$/);
    const got = await p.get();
    assert.deepEqual(got, created);
    const renewed = await p.update({ ...created.spec, renewTime: microTime(Date.now()) }, created.resourceVersion);
    assert.notEqual(renewed.resourceVersion, created.resourceVersion);
    const e = await rejectsWith(p.update(leaseSpec("srv1"), created.resourceVersion), "conflict");
    assert.equal(e.status, 409);
    assert.match(e.message, /the object has been modified/);
    await rejectsWith(p.create(leaseSpec("srv2")), "conflict"); // AlreadyExists is a 409 too
  });

  it("stores what a real client sends: the raw object has the Lease fields and MicroTime strings", async () => {
    const p = port("srv1");
    await p.create(leaseSpec("srv1", Date.UTC(2026, 0, 2, 3, 4, 5, 6)));
    const raw = api.store.get(leaseType(), "kube-system", "k3vip-cp") as unknown as { spec: Record<string, unknown>; metadata: { namespace: string } };
    assert.equal(raw.spec.renewTime, "2026-01-02T03:04:05.006000Z");
    assert.equal(raw.spec.holderIdentity, "srv1");
    assert.equal(raw.spec.leaseDurationSeconds, 6);
    assert.equal(raw.metadata.namespace, "kube-system");
  });

  it("counts writes per client (bearer token = client name)", async () => {
    api.resetStats();
    const a = port("srv1");
    const b = port("srv2");
    const l = await a.create(leaseSpec("srv1"));
    await a.update(leaseSpec("srv1"), l.resourceVersion);
    await b.get();
    const s = api.stats();
    assert.equal(s.srv1?.writes, 2);
    assert.equal(s.srv1?.byVerb["PUT leases"], 1);
    assert.equal(s.srv2?.reads, 1);
    assert.equal(s.srv2?.writes, 0);
  });

  it("watch: current state first, then MODIFIED and DELETED; only this Lease", async () => {
    const p = port("srv1");
    const first = await p.create(leaseSpec("srv1"));
    const events: [WatchKind, LeaseObject][] = [];
    let ended: Error | null | undefined;
    const w = await p.watch(
      (k, l) => events.push([k, l]),
      (e) => (ended = e),
    );

    await waitFor(() => events.length === 1);
    assert.equal(events[0]?.[0], "ADDED");
    assert.equal(events[0]?.[1].resourceVersion, first.resourceVersion);
    // Another Lease in the namespace is not ours.
    api.store.create(leaseType(), "kube-system", { metadata: { name: "other" }, spec: { holderIdentity: "x" } });
    const second = await port("srv2").update(leaseSpec("srv2"), first.resourceVersion);
    await waitFor(() => events.length === 2);
    assert.equal(events[1]?.[0], "MODIFIED");
    assert.equal(events[1]?.[1].spec.holderIdentity, "srv2");
    assert.equal(events[1]?.[1].resourceVersion, second.resourceVersion);
    api.store.delete(leaseType(), "kube-system", "k3vip-cp");
    await waitFor(() => events.length === 3);
    assert.equal(events[2]?.[0], "DELETED");
    api.store.delete(leaseType(), "kube-system", "other");
    api.closeWatches();
    await waitFor(() => ended !== undefined);
    w.stop();
  });

  it("classifies failures: 5xx, timeout (hang), refused (partition), reset after commit", async () => {
    const p = port("srv1", 300);
    const l = await p.create(leaseSpec("srv1"));
    api.setFault("srv1", { status: 500 });
    const e5 = await rejectsWith(p.update(leaseSpec("srv1"), l.resourceVersion), "http5xx");
    assert.equal(e5.status, 500);
    api.setFault("srv1", { status: 504 });
    await rejectsWith(p.get(), "http5xx");
    api.setFault("srv1", { hang: true });
    // Ended by the adapter's own per-request timeout (how fast: not a test's business).
    assert.match((await rejectsWith(p.get(), "timeout")).message, /no answer within 300 ms/);
    api.setFault("srv1", { refuse: true });
    await rejectsWith(p.get(), "refused");
    // The write lands, the answer is lost: a later write with the old version conflicts.
    api.setFault("srv1", { drop: true });
    await rejectsWith(p.update({ ...leaseSpec("srv1"), leaseTransitions: 7 }, l.resourceVersion), "refused");
    api.setFault("srv1", null);
    assert.equal((await p.get()).spec.leaseTransitions, 7);
    // Faults are per client: srv2 is unaffected by srv1's.
    api.setFault("srv1", { hang: true });
    assert.equal((await port("srv2").get()).spec.leaseTransitions, 7);
  });

  it("a hung write that still commits (apply) shows up on the next read", async () => {
    const p = port("srv1", 300);
    const l = await p.create(leaseSpec("srv1"));
    api.setFault("srv1", { hang: true, apply: true });
    await rejectsWith(p.update({ ...leaseSpec("srv1"), leaseTransitions: 3 }, l.resourceVersion), "timeout");
    api.setFault("srv1", null);
    assert.equal((await p.get()).spec.leaseTransitions, 3);
  });

  it("connection refused when nothing listens (this node's API server is down)", async () => {
    const dead = await startFakeApi({ port: 0 });
    const url = dead.url ?? "";
    await dead.close();
    await rejectsWith(port("srv1", 500, url).get(), "refused");
  });

  it("the admin endpoint sets faults from another process", async () => {
    const r = await fetch(`${api.url}/_fake/faults`, { method: "PUT", body: JSON.stringify({ clients: { srv3: { status: 503 } } }) });
    assert.equal(r.status, 200);
    await rejectsWith(port("srv3").get(), "http5xx");
    await fetch(`${api.url}/_fake/faults`, { method: "DELETE" });
    await rejectsWith(port("srv3").get(), "notFound");
  });
});

describe("loadKubeConfig", () => {
  it("--kubeconfig wins over KUBECONFIG", () => {
    const a = kubeconfig("a", "http://127.0.0.1:1");
    const b = kubeconfig("b", "http://127.0.0.1:2");
    const r = loadKubeConfig({ kubeconfig: a, env: { KUBECONFIG: b } });
    assert.equal(r.server, "http://127.0.0.1:1");
    assert.equal(loadKubeConfig({ env: { KUBECONFIG: b } }).server, "http://127.0.0.1:2");
  });

  it("a fallback file is used only if it exists", () => {
    const a = kubeconfig("c", "http://127.0.0.1:3");
    assert.equal(loadKubeConfig({ env: {}, fallbackFiles: ["/nonexistent", a], exists: (f) => f === a }).server, "http://127.0.0.1:3");
  });

  it("in-cluster: the ServiceAccount token and CA, but this node's own API server on 127.0.0.1", async () => {
    const sa = mkdtempSync(join(dir, "sa-"));
    writeFileSync(join(sa, "token"), "srv9");
    writeFileSync(join(sa, "ca.crt"), "");
    const r = loadKubeConfig({ env: {}, apiPort: 16443, serviceAccountDir: sa });
    assert.equal(r.server, "https://127.0.0.1:16443");
    assert.equal(r.source, "in-cluster ServiceAccount");
    // The token is read from the file (rotation-safe), sent as a bearer token.
    const opts = await r.kc.applyToFetchOptions({});
    const headers = opts.headers as unknown as { get(name: string): string | null };
    assert.equal(headers.get("Authorization"), "Bearer srv9");
  });
});

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("KubeLeasePort watch against a hung API server", () => {
  it("gives up opening a watch the server never answers (the runner then opens another)", async () => {
    const hung = await startFakeApi({ port: 0 });
    try {
      hung.setFault("srv1", { hang: true });
      const { kc } = loadKubeConfig({ kubeconfig: kubeconfig("srv1", hung.url) });
      const p = new KubeLeasePort(kc, { namespace: "kube-system", name: "k3vip-cp", timeoutMs: 100 });
      const e = await rejectsWith(
        p.watch(
          () => undefined,
          () => undefined,
        ),
        "timeout",
      );
      assert.match(e.message, /watch not answered within 5000 ms/);
    } finally {
      await hung.close();
    }
  });
});
