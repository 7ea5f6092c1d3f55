// The containerised agent: the amd64 image, unpacked with umoci, runs under
// runc in each lab server namespace (host network, NET_ADMIN + NET_RAW only,
// read-only rootfs), pointed at the node's stand-in API server. It must take
// the Lease and hold the VIP exactly like the bare process, and release both
// on SIGTERM (runc forwards the signal to the agent).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { sharedRootBundle, unpackBundle } from "../../src/image/bundle.ts";
import { buildImage, ENTRYPOINT } from "../../src/image/index.ts";
import { parseAllDocuments } from "yaml";
import { resolveConfig } from "../../src/config/index.ts";
import { startFakeApi, type FakeApi } from "../../src/lab/fakeapi/index.ts";
import { renderAddon } from "../../src/render/index.ts";
import { LabCluster, type AgentContext } from "../../src/lab/index.ts";
import { VERSION } from "../../src/version.ts";
import { AGENT_BUNDLE } from "../../src/image/agent-entry.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
// The agent-only bundle the image ships.
const DIST = join(REPO, AGENT_BUNDLE);
// Heartbeats on, as shipped (one key for all; the fake API lists no Nodes, so each agent hears only itself).
const HB_KEY = randomBytes(32).toString("hex");
const LEASES = { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true };

describe("the amd64 image's agent under runc in the lab", () => {
  const work = mkdtempSync(join(tmpdir(), "k3v-image-agent-"));
  const bundleCopy = join(work, "k3vip.mjs");
  const containers = new Map<string, string>();
  const logs = new Map<string, string[]>();
  let image: string;
  let api: FakeApi;
  let cluster: LabCluster;

  /** runc from this process's mount namespace (`ip netns exec` hides the cgroup mounts runc needs), in the node's netns. */
  function agentArgv(ctx: AgentContext): string[] {
    const id = `k3v-${process.pid}-${ctx.node.name}-${containers.size}`;
    containers.set(ctx.node.name, id);
    const dir = sharedRootBundle(image, join(work, "containers", id), {
      args: [...ENTRYPOINT, "agent", "--vip", ctx.vip, "--interface", ctx.node.ifname, "--kubeconfig", "/etc/k3vip/kubeconfig", "--node-name", ctx.node.name, "--metrics-addr", ctx.metricsAddr, "--heartbeat-key", HB_KEY],
      binds: [{ source: ctx.kubeconfig, destination: "/etc/k3vip/kubeconfig" }],
    });
    return ["nsenter", `--mount=/proc/${process.pid}/ns/mnt`, "--", "runc", "run", "--bundle", dir, id];
  }

  /** The container's cgroup memory charge (what a pod's memory limit applies to) and its anonymous part, from `runc events --stats`. */
  async function cgroupMemory(id: string): Promise<{ usageMiB: number; anonMiB: number }> {
    const ev = JSON.parse((await exec("runc", ["events", "--stats", id])).stdout) as { data: { memory: { usage: { usage: number }; raw?: Record<string, number> } } };
    const raw = ev.data.memory.raw ?? {};
    const anon = raw.total_rss ?? raw.anon ?? Number.NaN; // cgroup v1 : v2
    return { usageMiB: ev.data.memory.usage.usage / 1048576, anonMiB: anon / 1048576 };
  }

  function daemonSetMemoryLimitMiB(): number {
    const config = resolveConfig({ scope: "install", version: VERSION, flags: { vip: "192.168.0.10", interface: "eth0" } });
    const ds = parseAllDocuments(renderAddon(config))
      .map((d) => d.toJSON() as { kind: string; spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } } })
      .find((d) => d.kind === "DaemonSet");
    const raw = ds?.spec.template.spec.containers[0]?.resources.limits.memory ?? "";
    const m = /^(\d+)Mi$/.exec(raw);
    assert.ok(m?.[1], `memory limit ${raw} in Mi`);
    return Number(m[1]);
  }

  function lease(): { spec: { holderIdentity?: string; leaseTransitions?: number } } | undefined {
    return api.store.list(LEASES, "kube-system")[0] as { spec: { holderIdentity?: string; leaseTransitions?: number } } | undefined;
  }

  before(async () => {
    if (!existsSync(DIST)) await exec(process.execPath, [join(REPO, "scripts/build.mjs")]);
    copyFileSync(DIST, bundleCopy);
    const archive = join(work, "amd64.tar");
    await buildImage({ arches: ["amd64"], out: archive, bundle: bundleCopy });
    image = await unpackBundle(archive, `v${VERSION}`, work, "amd64");
    api = await startFakeApi({ socket: join(work, "api.sock") });
    cluster = await LabCluster.create({
      servers: 3,
      prefix: "k3vic",
      upstreamSocket: join(work, "api.sock"),
      agentArgv,
      onAgentLine: (node, line) => {
        const l = logs.get(node.name) ?? [];
        l.push(line);
        logs.set(node.name, l);
      },
    });
  });

  after(async () => {
    for (const id of containers.values()) await exec("runc", ["delete", "--force", id]).catch(() => undefined);
    await cluster?.destroy();
    await api?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("one containerised agent takes the Lease and holds the VIP", async () => {
    for (const s of cluster.servers) await cluster.startAgent(s.name);
    const [holder] = await cluster.waitForHolders((h) => h.length === 1, 30_000, "first holder");
    assert.ok(holder);
    assert.equal(lease()?.spec.holderIdentity, holder);
    // The agents run inside the containers: runc's state names their pid, whose root is the image.
    const id = containers.get(holder) ?? "";
    const state = JSON.parse((await exec("runc", ["state", id])).stdout) as { status: string; pid: number };
    assert.equal(state.status, "running");
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, "utf8").split("\0");
    assert.deepEqual(cmdline.slice(0, ENTRYPOINT.length + 1), [...ENTRYPOINT, "agent"]);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${state.pid}/status`, "utf8"))?.[1];
    const mem = await cgroupMemory(id);
    console.log(`# containerised agent: RSS ${(Number(rss) / 1024).toFixed(1)} MiB; cgroup memory ${mem.usageMiB.toFixed(1)} MiB, of which anonymous ${mem.anonMiB.toFixed(1)} MiB (holder ${holder})`);
    // Anonymous memory cannot be reclaimed: above the DaemonSet's limit the pod is OOM-killed.
    // (File pages of node's text, ~45 MiB of the RSS, count too where this container reads them first, but are reclaimable.)
    console.log(`# the DaemonSet's memory limit: ${daemonSetMemoryLimitMiB()} MiB`);
    // Memory is a figure (npm run bench:image), not a test: only that it was read.
    assert.ok(mem.usageMiB > 0 && mem.anonMiB > 0, `cgroup memory read: ${JSON.stringify(mem)}`);
    // Still exactly one a few renewals later.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await cluster.holders(), [holder]);
  });

  it("SIGTERM to the holder's container: it drops the VIP and releases the Lease, another takes over", async () => {
    const [holder] = await cluster.holders();
    assert.ok(holder);
    const transitions = lease()?.spec.leaseTransitions ?? 0;
    const status = await cluster.agents.get(holder)?.stop(10_000);
    cluster.agents.delete(holder);
    assert.deepEqual(status, { code: 0, signal: null }, "runc passes the agent's clean exit through");
    const [next] = await cluster.waitForHolders((h) => h.length === 1 && h[0] !== holder, 15_000, "takeover after SIGTERM");
    assert.ok(next);
    assert.equal(lease()?.spec.holderIdentity, next);
    assert.ok((lease()?.spec.leaseTransitions ?? 0) > transitions);
    assert.ok(!(await cluster.holders()).includes(holder));
    // Let the new holder's takeover ARP bursts (3 × 100 ms, again 1 s later) finish: see the todo test below.
    await new Promise((r) => setTimeout(r, 3000));
  });

  it("SIGTERM to every container: no VIP anywhere, the Lease released", async () => {
    const running = [...cluster.agents.values()];
    const statuses = await Promise.all(running.map((p) => p.stop(10_000)));
    for (const s of cluster.servers) cluster.agents.delete(s.name);
    assert.deepEqual(await cluster.holders(), []);
    assert.equal(lease()?.spec.holderIdentity ?? "", "", tail());
    for (const st of statuses) assert.deepEqual(st, { code: 0, signal: null }, tail());
  });

  // Regression: a send that failed while arpBurst slept between rounds (the
  // VIP was removed: "arping: bind: Cannot assign requested address") was an
  // unhandled rejection, so Node exited with the Lease held. A rolling upgrade
  // sends SIGTERM right after a takeover like this.
  it("SIGTERM right after a takeover (during its ARP burst) still releases the Lease", async () => {
    for (const s of cluster.servers) await cluster.startAgent(s.name);
    const [first] = await cluster.waitForHolders((h) => h.length === 1, 30_000, "holder");
    assert.ok(first);
    await new Promise((r) => setTimeout(r, 2000));
    await cluster.stopAgent(first, "SIGTERM", 10_000);
    const [next] = await cluster.waitForHolders((h) => h.length === 1 && h[0] !== first, 15_000, "takeover");
    assert.ok(next);
    // SIGTERM within the takeover's ARP burst: a clean exit that hands the
    // Lease to the last node, not a crash that leaves it held until expiry.
    const st = await cluster.agents.get(next)?.stop(10_000);
    cluster.agents.delete(next);
    assert.deepEqual(st, { code: 0, signal: null }, tail());
    const last = cluster.servers.map((s) => s.name).find((n) => n !== first && n !== next);
    await cluster.waitForHolders((h) => h.length === 1 && h[0] === last, 5_000, "second handover");
    assert.equal(lease()?.spec.holderIdentity, last, tail());
  });

  function tail(): string {
    return [...logs].map(([n, l]) => `${n}:\n${l.filter((x) => !/DeprecationWarning|trace-deprecation/.test(x)).slice(-30).join("\n")}`).join("\n");
  }
});
