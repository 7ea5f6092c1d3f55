// The small Lease client (rest.ts + KubeLeasePort) beyond the basics in
// lease.test.ts: what a replace keeps, auth failures, watch stop/errors, and
// the watch stream parser against a server that splits events across writes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeApiKubeconfig, resourceType, startFakeApi, type FakeApi } from "../lab/fakeapi/index.ts";
import type { LeaseObject } from "../agent/index.ts";
import { KubeLeasePort, loadKubeConfig } from "./index.ts";
import type { WatchKind } from "../agent/index.ts";
import { leaseSpec, rejectsWith } from "./testing/lease.ts";
import { KubeHttpError, kubeJson } from "./rest.ts";

let api: FakeApi;
let dir: string;
const leaseType = () => resourceType("leases", "coordination.k8s.io");

function kubeconfigFile(token: string, server: string): string {
  const path = join(dir, `${token}-${Math.random().toString(36).slice(2)}.kubeconfig`);
  writeFileSync(path, fakeApiKubeconfig(server, token));
  return path;
}

function port(token: string, server = api.url ?? "", name = "k3vip-cp"): KubeLeasePort {
  const { kc } = loadKubeConfig({ kubeconfig: kubeconfigFile(token, server) });
  return new KubeLeasePort(kc, { namespace: "kube-system", name, timeoutMs: 1000 });
}

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "k3vip-rest-"));
  api = await startFakeApi({ port: 0, tokens: ["srv1", "srv2"] });
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the Lease client against the fake API", () => {
  it("a replace keeps the Lease's labels and annotations (someone else's metadata is not ours to drop)", async () => {
    api.store.create(leaseType(), "kube-system", {
      metadata: { name: "labelled", labels: { team: "infra" }, annotations: { note: "keep me" } },
      spec: { holderIdentity: "", leaseDurationSeconds: 6, leaseTransitions: 0 },
    });
    const p = port("srv1", api.url, "labelled");
    const l = await p.get();
    await p.update(leaseSpec("srv1"), l.resourceVersion);
    const raw = api.store.get(leaseType(), "kube-system", "labelled") as unknown as { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { holderIdentity: string } };
    assert.equal(raw.spec.holderIdentity, "srv1");
    assert.deepEqual(raw.metadata.labels, { team: "infra" });
    assert.deepEqual(raw.metadata.annotations, { note: "keep me" });
  });

  it("an unknown token is a 401: classified 'other' with the status, not a conflict or an outage", async () => {
    const e = await rejectsWith(port("intruder").get(), "other");
    assert.equal(e.status, 401);
    const w = await rejectsWith(
      port("intruder").watch(
        () => undefined,
        () => undefined,
      ),
      "other",
    );
    assert.equal(w.status, 401);
  });

  it("kubeJson sends the bearer token from the kubeconfig and reports non-2xx as KubeHttpError with the body", async () => {
    const { kc } = loadKubeConfig({ kubeconfig: kubeconfigFile("srv2", api.url ?? "") });
    api.resetStats();
    await assert.rejects(kubeJson(kc, { method: "GET", path: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/absent" }), (e: unknown) => {
      assert.ok(e instanceof KubeHttpError);
      assert.equal(e.code, 404);
      assert.match(e.body, /not found/);
      return true;
    });
    assert.equal(api.stats().srv2?.reads, 1, "counted under the kubeconfig's token");
  });

  it("watch.stop() ends the stream without calling onEnd; later changes are not delivered", async () => {
    const p = port("srv1", api.url, "stopped");
    const events: [WatchKind, LeaseObject][] = [];
    let ended = false;
    const w = await p.watch(
      (k, l) => events.push([k, l]),
      () => (ended = true),
    );
    const created = await port("srv2", api.url, "stopped").create(leaseSpec("srv2"));
    await waitFor(() => events.length === 1);
    w.stop();
    await port("srv2", api.url, "stopped").update(leaseSpec("srv2"), created.resourceVersion);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events.length, 1);
    assert.equal(ended, false);
  });
});

describe("the watch stream parser", () => {
  let server: Server;
  let url: string;
  before(async () => {
    // Events split mid-line across writes, a blank line, a line that is not JSON, then the server ends the stream.
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const ev = (rv: string, holder: string) => JSON.stringify({ type: "MODIFIED", object: { metadata: { resourceVersion: rv }, spec: { holderIdentity: holder, leaseDurationSeconds: 6, renewTime: "2026-11-29T20:00:00.123000Z" } } });
      const all = `${ev("1", "a")}\n\nnot json\n${ev("2", "b")}\n`;
      res.write(all.slice(0, 17));
      setTimeout(() => {
        res.write(all.slice(17, 120));
        setTimeout(() => res.end(all.slice(120)), 10);
      }, 10);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("reassembles split events, skips junk, and reports a normal end as null", async () => {
    const events: [WatchKind, LeaseObject][] = [];
    let ended: Error | null | undefined;
    await port("srv1", url).watch(
      (k, l) => events.push([k, l]),
      (e) => (ended = e),
    );
    await waitFor(() => ended !== undefined);
    assert.equal(ended, null);
    assert.deepEqual(
      events.map(([k, l]) => [k, l.resourceVersion, l.spec.holderIdentity, l.spec.renewTime]),
      [
        ["MODIFIED", "1", "a", "2026-11-29T20:00:00.123000Z"],
        ["MODIFIED", "2", "b", "2026-11-29T20:00:00.123000Z"],
      ],
    );
  });
});
