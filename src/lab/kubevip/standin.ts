// A stand-in for kube-vip's ARP control plane, as far as a swap to k3vip can
// see it (test/lab/kube-vip-swap.test.ts): it elects on its own Lease
// (kube-system/plndr-cp-lock, holder = node name), holds the VIP as a plain
// /32 (no k3vip mark) while it holds the Lease, and renews every retry period.
// On SIGTERM it does what kube-vip's does (pkg/cluster, client-go's
// ReleaseOnCancel): release the Lease (holder "", 1 s) *first*, then delete
// the VIP, then exit. SIGKILL leaves both behind, as with kube-vip.
//
//   node --import tsx src/lab/kubevip/standin.ts --kubeconfig F --node N --vip V --interface IF [--lease-duration S]
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { microTime, type LeaseObject, type LeaseSpec } from "../../agent/index.ts";
import { KubeLeasePort, loadKubeConfig } from "../../kube/index.ts";

const { values: a } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    node: { type: "string" },
    vip: { type: "string" },
    interface: { type: "string" },
    "lease-duration": { type: "string", default: "5" },
    "retry-ms": { type: "string", default: "1000" },
  },
});
const need = (k: string, v: string | undefined): string => {
  if (!v) throw new Error(`--${k} is required`);
  return v;
};
const node = need("node", a.node);
const vip = need("vip", a.vip);
const iface = need("interface", a.interface);
const duration = Number(a["lease-duration"]);
const retryMs = Number(a["retry-ms"]);
const lease = new KubeLeasePort(loadKubeConfig({ kubeconfig: need("kubeconfig", a.kubeconfig) }).kc, { namespace: "kube-system", name: "plndr-cp-lock", timeoutMs: 2000 });
const log = (msg: string) => process.stderr.write(`kube-vip-standin: ${msg}\n`);
const now = () => microTime(Date.now());

let current: LeaseObject | undefined;
let holding = false;
let stopping = false;

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function addVip(): void {
  // Plain /32 as kube-vip adds it: no label, no noprefixroute.
  ip("addr", "add", `${vip}/32`, "dev", iface);
  try {
    execFileSync("arping", ["-U", "-c", "1", "-I", iface, vip], { stdio: "ignore", timeout: 2000 });
  } catch {
    /* an announcement is best effort, as in kube-vip */
  }
  log(`added ${vip}`);
}

function delVip(): void {
  try {
    ip("addr", "del", `${vip}/32`, "dev", iface);
    log(`deleted ${vip}`);
  } catch {
    /* not there */
  }
}

async function tick(): Promise<void> {
  if (stopping) return;
  const spec = (old?: LeaseSpec): LeaseSpec => ({
    holderIdentity: node,
    leaseDurationSeconds: duration,
    acquireTime: old?.holderIdentity === node ? old.acquireTime : now(),
    renewTime: now(),
    leaseTransitions: (old?.leaseTransitions ?? 0) + (old && old.holderIdentity !== node ? 1 : 0),
  });
  try {
    current = await lease.get().catch(async (e: unknown) => {
      if ((e as { kind?: string }).kind !== "notFound") throw e;
      return lease.create(spec());
    });
    const s = current.spec;
    const free = s.holderIdentity === "" || s.holderIdentity === node;
    if (free) {
      current = await lease.update(spec(s), current.resourceVersion);
      if (!holding && !stopping) {
        addVip();
        holding = true;
      }
    }
  } catch (e) {
    log(`lease: ${(e as Error).message}`);
  }
  if (!stopping) setTimeout(() => void tick(), retryMs);
}

process.on("SIGTERM", () => {
  stopping = true;
  void (async () => {
    // kube-vip's order: the Lease goes first, the VIP after.
    if (holding && current) {
      try {
        const fresh = await lease.get();
        await lease.update({ ...fresh.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now() }, fresh.resourceVersion);
        log("released the Lease");
      } catch (e) {
        log(`release: ${(e as Error).message}`);
      }
    }
    if (holding) delVip();
    process.exit(0);
  })();
});

log(`starting on ${node}`);
void tick();
