// Swapping kube-vip for k3vip never makes two holders (hardening #11 item 7).
// A stand-in behaves as kube-vip's ARP control plane does (src/lab/kubevip:
// renews kube-system/plndr-cp-lock, holds the VIP as a plain /32, on SIGTERM
// releases the Lease and then deletes the VIP); three real `k3vip agent`s
// start beside it. Every server's addresses are watched with `ip monitor`
// (exact add/delete times) and sampled every 10 ms: at no moment do two
// nodes carry the VIP.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { startFakeApi, type FakeApi } from "../../src/lab/fakeapi/index.ts";
import { LabCluster, type LabProcess } from "../../src/lab/index.ts";

const BUNDLE = fileURLToPath(new URL("../../dist/k3vip.mjs", import.meta.url));
const STANDIN = fileURLToPath(new URL("../../src/lab/kubevip/standin.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** "[2026-12-03T12:24:07.461314]" → ms (one clock for every namespace: the host's). */
function stamp(line: string): number {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\]/.exec(line);
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000;
}

interface Watch {
  /** [node, time, +1 add / -1 delete] of the VIP, in arrival order. */
  events: [string, number, number][];
  procs: LabProcess[];
}

describe("kube-vip → k3vip swap in the lab (hardening #11 item 7)", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3v-swap-"));
  let api: FakeApi;
  let cluster: LabCluster;
  const logs = new Map<string, string[]>();
  let watch: Watch;
  let standin: LabProcess | undefined;

  const startStandin = async (name: string) => {
    const node = cluster.lab.server(name);
    standin = cluster.lab.spawn(
      node.ns,
      [process.execPath, "--import", "tsx", STANDIN, "--kubeconfig", await cluster.kubeconfig(node), "--node", name, "--vip", cluster.vip, "--interface", node.ifname, "--lease-duration", "5"],
      { cwd: REPO, onLine: (l) => (logs.get(`kube-vip@${name}`) ?? logs.set(`kube-vip@${name}`, []).get(`kube-vip@${name}`))?.push(l) },
    );
    await cluster.waitForHolders((h) => h.length === 1 && h[0] === name, 15_000, "the stand-in kube-vip holds the VIP");
  };

  /** `ip monitor address` in every server, ready once each has seen a marker address come and go. */
  const startWatch = async (): Promise<Watch> => {
    const w: Watch = { events: [], procs: [] };
    await Promise.all(
      cluster.servers.map(async (s) => {
        let ready: () => void = () => undefined;
        const seen = new Promise<void>((r) => (ready = r));
        w.procs.push(
          cluster.lab.spawn(s.ns, ["ip", "-ts", "-o", "monitor", "address"], {
            onLine: (l) => {
              if (l.includes("127.0.0.9/32")) ready();
              if (!l.includes(` ${cluster.vip}/`)) return;
              w.events.push([s.name, stamp(l), /\] Deleted /.test(l) ? -1 : 1]);
            },
          }),
        );
        // Readiness: the monitor has printed a marker added after it started.
        for (let i = 0; i < 50; i++) {
          await cluster.lab.exec(s.ns, ["ip", "addr", "add", "127.0.0.9/32", "dev", "lo"]).catch(() => undefined);
          await cluster.lab.exec(s.ns, ["ip", "addr", "del", "127.0.0.9/32", "dev", "lo"]).catch(() => undefined);
          const ok = await Promise.race([seen.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
          if (ok) break;
        }
      }),
    );
    return w;
  };

  /** The longest time two nodes carried the VIP at once, from the monitor's events (ms). */
  const overlapMs = (w: Watch, initial: Record<string, number>): number => {
    const have = { ...initial };
    let worst = 0;
    let since: number | undefined;
    for (const [node, t, d] of [...w.events].sort((a, b) => a[1] - b[1])) {
      have[node] = Math.max(0, (have[node] ?? 0) + d);
      const n = Object.values(have).filter((x) => x > 0).length;
      if (n >= 2 && since === undefined) since = t;
      if (n < 2 && since !== undefined) {
        worst = Math.max(worst, t - since);
        since = undefined;
      }
    }
    return since === undefined ? worst : Infinity;
  };

  /** Samples holders (10 ms apart) until `stop()`: how many samples, how many with two or more, ms per sample. */
  const sampler = () => {
    let running = true;
    let samples = 0;
    let doubles = 0;
    const t0 = Date.now();
    const done = (async () => {
      while (running) {
        const h = await cluster.holders();
        samples++;
        if (h.length >= 2) doubles++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await done;
        return { samples, doubles, every: Math.round((Date.now() - t0) / Math.max(1, samples)) };
      },
    };
  };

  before(async () => {
    if (!existsSync(BUNDLE)) spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    api = await startFakeApi({ socket: join(tmp, "api.sock") });
    cluster = await LabCluster.create({
      servers: 3,
      prefix: "k3vkv",
      upstreamSocket: join(tmp, "api.sock"),
      agentArgv: (ctx) => [process.execPath, BUNDLE, "agent", "--vip", ctx.vip, "--interface", ctx.node.ifname, "--kubeconfig", ctx.kubeconfig, "--node-name", ctx.node.name, "--metrics-addr", ctx.metricsAddr, "--heartbeat-port", "0"],
      onAgentLine: (node, line) => (logs.get(node.name) ?? logs.set(node.name, []).get(node.name))?.push(line),
    });
  });
  after(async () => {
    for (const p of watch?.procs ?? []) await p.stop(500);
    await standin?.stop(500);
    await cluster?.destroy();
    await api?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("SIGTERM (kube-vip's pods deleted by --migrate): k3vip waits, then takes over with no moment of two holders", async () => {
    await startStandin("srv1");
    watch = await startWatch();
    const s = sampler();
    for (const n of cluster.servers) await cluster.startAgent(n.name);
    // Give the agents time to start and to be tempted.
    const t0 = Date.now();
    while (!cluster.servers.every((n) => (logs.get(n.name) ?? []).some((l) => l.includes("waiting for kube-vip to hand over the VIP")))) {
      if (Date.now() - t0 > 20_000) assert.fail(`agents never said they wait: ${JSON.stringify(Object.fromEntries(logs))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await cluster.holders(), ["srv1"], "only kube-vip holds the VIP while its Lease is renewed");
    const before = watch.events.length;
    await standin?.stop(5000);
    standin = undefined;
    const [holder] = await cluster.waitForHolders((h) => h.length === 1 && watch.events.length > before + 1, 20_000, "k3vip took over");
    await new Promise((r) => setTimeout(r, 500));
    const { samples, doubles, every } = await s.stop();
    const overlap = overlapMs(watch, { srv1: 1 });
    const del = watch.events.find((e) => e[2] === -1 && e[0] === "srv1");
    const add = watch.events.find((e) => e[2] === 1 && del !== undefined && e[1] >= del[1]);
    console.log(`# SIGTERM swap: ${samples} samples (one per ${every} ms), ${doubles} with two holders; ip monitor: longest overlap ${overlap} ms; VIP gap (kube-vip's delete → k3vip's add on ${holder}) ${del && add ? Math.round(add[1] - del[1]) : "?"} ms`);
    assert.equal(doubles, 0);
    assert.equal(overlap, 0);
    assert.ok(logs.get(holder ?? "")?.some((l) => l.includes("kube-vip handed over the VIP")));
    for (const n of cluster.servers) await cluster.stopAgent(n.name);
    for (const p of watch.procs) await p.stop(500);
  });

  it("SIGKILL (kube-vip dies and leaves the VIP): k3vip waits past the Lease's expiry for as long as the VIP answers", async () => {
    await startStandin("srv2");
    watch = await startWatch();
    const s = sampler();
    for (const n of cluster.servers) await cluster.startAgent(n.name);
    await new Promise((r) => setTimeout(r, 2000));
    standin?.signal("SIGKILL");
    await standin?.exited;
    standin = undefined;
    // The Lease expires after 5 s unchanged; then srv2 has the VIP (plain), the others hear it answer.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(await cluster.holders(), ["srv2"], "nobody adds the VIP while kube-vip's copy answers");
    const others = cluster.servers.filter((n) => n.name !== "srv2").map((n) => logs.get(n.name) ?? []);
    assert.ok(others.every((l) => l.some((x) => x.includes("kube-vip's Lease expired") && x.includes("the VIP still answers elsewhere"))), "the others say why they wait");
    assert.ok((logs.get("srv2") ?? []).some((x) => x.includes("the VIP is still on this node, not added by k3vip")));
    // The operator removes the orphan, as docs/kube-vip.md says.
    const srv2 = cluster.lab.server("srv2");
    await cluster.lab.exec(srv2.ns, ["ip", "addr", "del", `${cluster.vip}/32`, "dev", srv2.ifname]);
    await cluster.waitForHolders((h) => h.length === 1, 20_000, "k3vip took over after the orphan went");
    const { samples, doubles, every } = await s.stop();
    const overlap = overlapMs(watch, { srv2: 1 });
    console.log(`# SIGKILL swap: ${samples} samples (one per ${every} ms), ${doubles} with two holders; ip monitor: longest overlap ${overlap} ms`);
    assert.equal(doubles, 0);
    assert.equal(overlap, 0);
  });
});
