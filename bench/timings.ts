// npm run bench:timings [-- --runs N]
// The wall-clock behaviour tests no longer assert (hardening #11 item 9):
// how long the Lease adapter takes to give up on a hung API server (its
// per-request timeout and its watch-connect timeout), and how close the fake
// API's injected latency is to what was asked. Prints figures; asserts nothing.
import { performance } from "node:perf_hooks";
import { KubeConfig } from "@kubernetes/client-node";
import { startFakeApi } from "../src/lab/fakeapi/index.ts";
import { KubeLeasePort } from "../src/kube/index.ts";

const args = process.argv.slice(2);
const i = args.indexOf("--runs");
const runs = i >= 0 ? Number(args[i + 1] ?? 5) : 5;

function kc(url: string, user: string): KubeConfig {
  const k = new KubeConfig();
  k.loadFromOptions({ clusters: [{ name: "fake", server: url, skipTLSVerify: true }], users: [{ name: user, token: user }], contexts: [{ name: "c", cluster: "fake", user }], currentContext: "c" });
  return k;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]?.toFixed(0)} / median ${s[Math.floor(s.length / 2)]?.toFixed(0)} / max ${s[s.length - 1]?.toFixed(0)} ms`;
};

const api = await startFakeApi({ port: 0 });
try {
  const url = api.url ?? "";
  const req: number[] = [];
  const watch: number[] = [];
  const lat: number[] = [];
  api.setFault("hung", { hang: true });
  for (let r = 0; r < runs; r++) {
    const port = new KubeLeasePort(kc(url, "hung"), { namespace: "kube-system", name: "k3vip-cp", timeoutMs: 300 });
    let t0 = performance.now();
    await port.get().catch(() => undefined);
    req.push(performance.now() - t0);
    const w = new KubeLeasePort(kc(url, "hung"), { namespace: "kube-system", name: "k3vip-cp", timeoutMs: 100 });
    t0 = performance.now();
    await w.watch(() => undefined, () => undefined).catch(() => undefined);
    watch.push(performance.now() - t0);
  }
  api.setFault("slow", { latencyMs: 150 });
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fetch(`${url}/version`, { headers: { authorization: "Bearer slow" } });
    lat.push(performance.now() - t0);
  }
  console.log(`Lease request, API hung, per-request timeout 300 ms: gave up after ${stats(req)}`);
  console.log(`Lease watch, API hung, connect timeout max(5000, 2 × 100) ms: gave up after ${stats(watch)}`);
  console.log(`fake API latency fault of 150 ms: answered after ${stats(lat)}`);
  console.log(JSON.stringify({ runs, request_timeout_ms: req, watch_timeout_ms: watch, injected_latency_ms: lat }));
} finally {
  await api.close();
}
