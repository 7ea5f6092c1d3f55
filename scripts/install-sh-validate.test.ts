// install.sh's cross-field rules against src/config's validateConfig, at
// every boundary, with values generated from the rules themselves (client-go:
// lease duration > renew deadline > 1.2 × retry period; whole-second leases;
// the VIP prefix; what this version runs): the same accept/refuse decision
// and the same message, under every awk. A `<` where a `<=` belongs, in
// either tool, fails here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { resolveConfig, UsageError } from "../src/config/index.ts";
import { VERSION } from "../src/version.ts";
import { installSh } from "./gen.ts";

const awkProgram = /<<'K3VIP_AWK'\n([\s\S]*?)\nK3VIP_AWK\n/.exec(installSh())?.[1] ?? "";
const AWKS = (
  [
    ["gawk", ["gawk"]],
    ["mawk", ["mawk"]],
    ["busybox awk", ["busybox", "awk"]],
  ] as [string, string[]][]
).filter(([, cmd]) => spawnSync(cmd[0]!, [...cmd.slice(1), "BEGIN {}"], { input: "" }).status === 0);

const secs = (ms: number): string => {
  const f = String(ms % 1000).padStart(3, "0").replace(/0+$/, "");
  return `${Math.floor(ms / 1000)}${f ? `.${f}` : ""}`;
};

/** k3vip's answer: "ok" or its message. */
function ts(env: Record<string, string>): string {
  try {
    resolveConfig({ scope: "install", version: VERSION, env });
    return "ok";
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}

function awk(cmd: string[], env: Record<string, string>): string {
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), "-v", "op=check", awkProgram, "/dev/null"], { encoding: "utf8", env: { LC_ALL: "C", ...env } });
  if (r.status === 0) return "ok";
  assert.equal(r.status, 2, r.stderr);
  return r.stdout.trim();
}

/** Timing triples on both sides of each boundary. */
function timings(): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const rd of [400, 1000, 1201, 2000, 2400, 3333, 375, 4000, 10000, 59999]) {
    const ld = Math.ceil((rd + 1) / 1000);
    const edge = Math.floor((rd * 10 + 11) / 12); // the smallest refused retry period (ms)
    for (const rp of [edge - 1, edge, edge + 1]) {
      if (rp < 100) continue;
      out.push({ K3VIP_LEASE_DURATION: String(ld), K3VIP_RENEW_DEADLINE: secs(rd), K3VIP_RETRY_PERIOD: secs(rp) });
    }
    // renew deadline against the lease duration: equal (refused), 1 ms less (accepted).
    for (const r of [ld * 1000, ld * 1000 - 1]) out.push({ K3VIP_LEASE_DURATION: String(ld), K3VIP_RENEW_DEADLINE: secs(r), K3VIP_RETRY_PERIOD: secs(100) });
  }
  out.push({ K3VIP_LEASE_DURATION: "6.5" }, { K3VIP_RENEW_DEADLINE: "0.375", K3VIP_RETRY_PERIOD: "0.33" });
  return out;
}

const CASES: Record<string, string>[] = [
  ...timings().map((t) => ({ K3VIP_VIP: "192.168.0.10", ...t })),
  ...[0, 1, 23, 24, 30, 31, 32, 33].map((n) => ({ K3VIP_VIP: "10.0.0.255", K3VIP_VIP_SUBNET: String(n) })),
  ...[0, 64, 120, 127, 128, 129].map((n) => ({ K3VIP_VIP: "fd00::", K3VIP_VIP_SUBNET: String(n) })),
  { K3VIP_VIP: "192.168.0.10", K3VIP_LEADER_ELECTION: "false" },
  { K3VIP_VIP: "192.168.0.10", K3VIP_MODE: "bgp" },
  { K3VIP_VIP: "192.168.0.10", K3VIP_CONTROL_PLANE: "false" },
  { K3VIP_VIP: "192.168.0.10", K3VIP_BGP_ROUTER_ID: "10.0.0.1" },
  { K3VIP_VIP: "192.168.0.10", K3VIP_SERVICES_POOLS: "10.1.0.0/24" },
  { K3VIP_VIP: "" },
  // kube-vip's plain names: empty is unset, address beats vip_address, the name is blamed.
  { vip_address: "10.0.0.4", address: "" },
  { vip_address: "10.0.0.4", address: "10.0.0.300" },
  { vipAddress: "10.0.0.4", vip_address: "", address: "10.0.0.5", vip_renewdeadline: "7" },
  { address: "10.0.0.5", cp_namespace: "infra", K3VIP_LEASE_NAME: "plndr-cp-lock", K3VIP_HANDOVER_LEASE: "infra/plndr-cp-lock" },
  { address: "10.0.0.5", K3VIP_HANDOVER_LEASE: "kube-system/k3vip-cp" },
  { address: "10.0.0.5", K3VIP_HANDOVER_LEASE: "kube-system/k3vip-cp", K3VIP_LEASE_NAME: "other" },
  ...["", "a/b", "a/b/c", "/b", "a/", "A/b", "a/B", `${"a".repeat(64)}/b`, "kube-system/x.y"].map((h) => ({ K3VIP_VIP: "10.0.0.5", K3VIP_HANDOVER_LEASE: h })),
];

describe("install.sh's cross-field rules = validateConfig, at every boundary", () => {
  for (const [name, cmd] of AWKS) {
    it(`${name}: ${CASES.length} configurations`, () => {
      let refused = 0;
      const diffs: string[] = [];
      for (const env of CASES) {
        const want = ts(env);
        const got = awk(cmd, env);
        if (want !== "ok") refused++;
        if (got !== want) diffs.push(`${JSON.stringify(env)}: awk ${got} | js ${want}`);
      }
      assert.deepEqual(diffs, []);
      // Both sides of the boundaries: a test that only ever refuses (or accepts) proves nothing.
      assert.ok(refused > 10 && refused < CASES.length - 10, `refused ${refused} of ${CASES.length}`);
    });
  }
});
