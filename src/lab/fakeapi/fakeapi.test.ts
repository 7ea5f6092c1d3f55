// The fake API's REST semantics, checked with plain HTTP (what any client
// sees) and with client-node's generic object client (what uninstall uses).
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import {  } from "../../installer/index.ts";
import { KubeObjectDeleter } from "../../kube/index.ts";
import { resourceType, startFakeApi, type FakeApi } from "./index.ts";
import { KubeConfig } from "@kubernetes/client-node";

let api: FakeApi;
let dir: string;
const LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

// Tests read arbitrary API JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  body: Json;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: "Bearer tester", "content-type": "application/json", ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, body: parsed };
}

const lease = (name: string, holder: string, rv?: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name, ...(rv ? { resourceVersion: rv } : {}) },
  spec: { holderIdentity: holder, leaseDurationSeconds: 6, renewTime: "2026-11-29T20:00:00.000000Z" },
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "k3vip-fakeapi-"));
  api = await startFakeApi({ port: 0, socket: join(dir, "api.sock") });
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("fake API: REST semantics", () => {
  it("create, AlreadyExists, get, stale update → Conflict, NotFound, with Status bodies", async () => {
    const c = await call("POST", LEASES, lease("a", "srv1"));
    assert.equal(c.status, 201);
    assert.equal(c.body.metadata.namespace, "kube-system");
    assert.ok(c.body.metadata.uid);
    const dup = await call("POST", LEASES, lease("a", "srv2"));
    assert.equal(dup.status, 409);
    assert.deepEqual({ kind: dup.body.kind, reason: dup.body.reason, code: dup.body.code }, { kind: "Status", reason: "AlreadyExists", code: 409 });
    assert.equal(dup.body.message, 'leases.coordination.k8s.io "a" already exists');
    const rv = c.body.metadata.resourceVersion as string;
    const u = await call("PUT", `${LEASES}/a`, lease("a", "srv2", rv));
    assert.equal(u.status, 200);
    assert.ok(Number(u.body.metadata.resourceVersion) > Number(rv), "global, monotonic resourceVersion");
    const stale = await call("PUT", `${LEASES}/a`, lease("a", "srv3", rv));
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, "Conflict");
    assert.match(stale.body.message, /the object has been modified; please apply your changes to the latest version and try again/);
    const nf = await call("GET", `${LEASES}/nope`);
    assert.equal(nf.status, 404);
    assert.equal(nf.body.reason, "NotFound");
    assert.equal(nf.body.message, 'leases.coordination.k8s.io "nope" not found');
    assert.equal((await call("PUT", `${LEASES}/nope`, lease("nope", "x"))).status, 404, "no create on update for Leases");
    assert.equal((await call("PUT", `${LEASES}/a`, lease("b", "x"))).status, 400, "name must match the URL");
  });

  it("rejects a MicroTime without six fractional digits, like metav1.MicroTime does", async () => {
    const bad = { ...lease("t", "x"), spec: { holderIdentity: "x", renewTime: "2026-11-29T20:00:00.123Z" } };
    const r = await call("POST", LEASES, bad);
    assert.equal(r.status, 400);
    assert.equal(r.body.reason, "BadRequest");
  });

  it("merge-patch, list, delete", async () => {
    await call("POST", LEASES, lease("p", "srv1"));
    const p = await call("PATCH", `${LEASES}/p`, { spec: { holderIdentity: "", leaseDurationSeconds: 1 } }, { "content-type": "application/merge-patch+json" });
    assert.equal(p.status, 200);
    assert.equal(p.body.spec.holderIdentity, "");
    assert.equal(p.body.spec.renewTime, "2026-11-29T20:00:00.000000Z", "untouched fields stay");
    assert.equal((await call("PATCH", `${LEASES}/p`, { spec: {} }, { "content-type": "text/plain" })).status, 415);
    const l = await call("GET", LEASES);
    assert.equal(l.body.kind, "LeaseList");
    assert.ok(l.body.items.some((i: { metadata: { name: string } }) => i.metadata.name === "p"));
    const sel = await call("GET", `${LEASES}?fieldSelector=metadata.name%3Dp`);
    assert.equal(sel.body.items.length, 1);
    assert.equal((await call("DELETE", `${LEASES}/p`)).status, 200);
    assert.equal((await call("DELETE", `${LEASES}/p`)).status, 404);
  });

  it("watch: resumes after a resourceVersion; a compacted one gets 410 Expired", async () => {
    const c = await call("POST", LEASES, lease("w", "srv1"));
    const rv = c.body.metadata.resourceVersion as string;
    await call("PUT", `${LEASES}/w`, lease("w", "srv2"));
    const events = await readWatch(`${LEASES}?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dw`, 1);
    assert.equal(events[0]?.type, "MODIFIED");
    assert.equal(events[0]?.object.spec.holderIdentity, "srv2");
    const old = await readWatch(`${LEASES}?watch=true&resourceVersion=1`, 1);
    assert.equal(old[0]?.type, "ERROR");
    assert.equal(old[0]?.object.code, 410);
    assert.equal(old[0]?.object.reason, "Expired");
  });

  it("discovery, /version, /livez", async () => {
    assert.equal((await call("GET", "/livez")).body, "ok");
    assert.match((await call("GET", "/version")).body.gitVersion, /^v1\./);
    const apps = await call("GET", "/apis/apps/v1");
    assert.equal(apps.body.kind, "APIResourceList");
    assert.ok(apps.body.resources.some((r: { name: string }) => r.name === "daemonsets"));
    const groups = await call("GET", "/apis");
    assert.ok(groups.body.groups.some((g: { name: string }) => g.name === "coordination.k8s.io"));
  });

  it("uninstall's client-node object deleter works against it (discovery + DELETE)", async () => {
    api.store.create(resourceType("daemonsets", "apps"), "kube-system", { metadata: { name: "k3vip" }, spec: {} });
    api.store.create(resourceType("clusterroles", "rbac.authorization.k8s.io"), "", { metadata: { name: "k3vip" }, rules: [] });
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: "f", server: api.url ?? "", skipTLSVerify: true }], users: [{ name: "u", token: "installer" }], contexts: [{ name: "c", cluster: "f", user: "u" }], currentContext: "c" });
    const d = new KubeObjectDeleter(kc);
    assert.equal(await d.delete({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "k3vip", namespace: "kube-system" } }), "deleted");
    assert.equal(await d.delete({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "k3vip", namespace: "kube-system" } }), "absent");
    assert.equal(await d.delete({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "k3vip" } }), "deleted");
    assert.equal(api.store.list(resourceType("clusterroles", "rbac.authorization.k8s.io"), null).length, 0);
  });

  it("serves the same API on the unix socket (for the lab's responders)", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: api.socket, path: "/version", headers: { authorization: "Bearer x" } }, (res) => {
        let s = "";
        res.on("data", (c: Buffer) => (s += c.toString()));
        res.on("end", () => resolve(s));
      });
      req.on("error", reject);
      req.end();
    });
    assert.match(body, /gitVersion/);
  });

  it("latency and 5xx faults per client; unknown tokens are 401 when tokens are configured", async () => {
    // (How long the injected latency really is: npm run bench:timings.)
    api.setFault("slow", { latencyMs: 150 });
    assert.equal((await fetch(`${api.url}/version`, { headers: { authorization: "Bearer slow" } })).status, 200);
    api.setFault(null, { status: 503 });
    assert.equal((await call("GET", `${LEASES}/a`)).status, 503);
    assert.equal((await call("GET", `${LEASES}/a`)).body.reason, "ServiceUnavailable");
    api.clearFaults();
    const strict = await startFakeApi({ port: 0, tokens: ["srv1"] });
    try {
      assert.equal((await fetch(`${strict.url}/version`, { headers: { authorization: "Bearer intruder" } })).status, 401);
      assert.equal((await fetch(`${strict.url}/version`, { headers: { authorization: "Bearer srv1" } })).status, 200);
    } finally {
      await strict.close();
    }
  });

  it("runs as a process and prints its URL", async () => {
    const main = fileURLToPath(new URL("./main.ts", import.meta.url));
    const sock = join(dir, "proc.sock");
    const p = spawn(process.execPath, ["--import", "tsx", main, "--port", "0", "--socket", sock], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: p.stdout }).once("line", resolve));
      const info = JSON.parse(line) as { url: string; socket: string };
      assert.equal(info.socket, sock);
      const r = await fetch(`${info.url}/livez`);
      assert.equal(await r.text(), "ok");
    } finally {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("exit", r));
    }
  });
});

async function readWatch(path: string, n: number): Promise<{ type: string; object: Json }[]> {
  const ctl = new AbortController();
  const r = await fetch(`${api.url}${path}`, { headers: { authorization: "Bearer tester" }, signal: ctl.signal });
  const out: { type: string; object: Json }[] = [];
  const reader = r.body?.getReader();
  let buf = "";
  while (reader && out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      out.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Json });
      buf = buf.slice(i + 1);
    }
  }
  ctl.abort();
  return out;
}
