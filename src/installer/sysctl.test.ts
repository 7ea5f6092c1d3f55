// The IPv6 sysctl the installer writes (the agent's pod cannot: /proc/sys is
// read-only there): the pure pieces, the file in the plan under --root, and
// the live host through the host port (FakeHost's /proc/sys) on a tree that
// stands in for "/".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSources, resolveConfig, UsageError, type Config } from "../config/index.ts";
import { doctor, install, MemoryReporter, NodeFs, planSysctls, renderSysctlFile, sysctlKey, uninstall, vipSysctls, type Fs, type InstallOptions } from "./index.ts";
import { FakeChecker, FakeHost, netIf, RebasedFs } from "./testing/fakes.ts";
import { snapshotTree, tempRoots } from "./testing/tree.ts";
import { addonObjects, ADDON_FILENAME, renderAddon } from "../render/index.ts";

const tmpRoot = tempRoots("k3vip-sysctl-");

const cfg = (flags: Record<string, string> = {}): Config => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "fd00:6b33::10", interface: "eth0", ...flags } });
const deps = (host?: FakeHost, fs: Fs = new NodeFs()) => ({ fs, checker: new FakeChecker(), render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter: new MemoryReporter(), version: "0.1.0", ...(host ? { host } : {}) });
const opts = (root: string, o: Partial<InstallOptions> = {}): InstallOptions => ({ config: cfg(), root, preflight: false, ...o });
const FILE = "etc/sysctl.d/90-k3vip.conf";
const NOTIFY = "net/ipv6/conf/eth0/ndisc_notify";

describe("sysctl pieces (pure)", () => {
  it("IPv6 in ARP mode needs ndisc_notify on its interface; IPv4 and BGP need nothing", () => {
    assert.deepEqual(vipSysctls(cfg(), "eth0"), [{ path: NOTIFY, value: "1" }]);
    assert.deepEqual(vipSysctls(cfg({ vip: "192.168.0.10" }), "eth0"), []);
    assert.deepEqual(vipSysctls({ vip: "fd00:6b33::10", mode: "bgp" }, "eth0"), []);
    // Unknown interface: conf.all (OR-ed with every device's by the kernel) and conf.default (devices made later).
    assert.deepEqual(vipSysctls(cfg(), undefined).map((s) => s.path), ["net/ipv6/conf/all/ndisc_notify", "net/ipv6/conf/default/ndisc_notify"]);
  });

  it("writes dotted keys, and the slash form for an interface name with a dot (VLAN eth0.100)", () => {
    assert.equal(sysctlKey(NOTIFY), "net.ipv6.conf.eth0.ndisc_notify");
    assert.equal(sysctlKey("net/ipv6/conf/eth0.100/ndisc_notify"), "net/ipv6/conf/eth0.100/ndisc_notify");
    const text = renderSysctlFile([{ path: "net/ipv6/conf/eth0.100/ndisc_notify", value: "1" }]);
    assert.match(text, /^net\/ipv6\/conf\/eth0\.100\/ndisc_notify = 1$/m);
    assert.ok(text.split("\n").filter((l) => l && !l.startsWith("#")).length === 1);
  });

  it("plans set/restore from live values and keeps the value found before k3vip's first run", () => {
    const want = [{ path: NOTIFY, value: "1" }];
    assert.deepEqual(planSysctls(want, new Map([[NOTIFY, "0"]]), []), {
      actions: [{ path: NOTIFY, key: "net.ipv6.conf.eth0.ndisc_notify", value: "1", before: "0", kind: "set", applied: false }],
      record: [{ path: NOTIFY, value: "1", before: "0" }],
    });
    // Second run: nothing to do, the original "0" is kept.
    assert.deepEqual(planSysctls(want, new Map([[NOTIFY, "1"]]), [{ path: NOTIFY, value: "1", before: "0" }]), { actions: [], record: [{ path: NOTIFY, value: "1", before: "0" }] });
    // No longer wanted (VIP now IPv4): put back ours only.
    assert.equal(planSysctls([], new Map([[NOTIFY, "1"]]), [{ path: NOTIFY, value: "1", before: "0" }]).actions[0]?.kind, "restore");
    assert.deepEqual(planSysctls([], new Map([[NOTIFY, "1"]]), [{ path: NOTIFY, value: "1", before: "1" }]).actions, []);
    // A key that does not exist now (interface missing): nothing to set, nothing recorded.
    assert.deepEqual(planSysctls(want, new Map(), []), { actions: [], record: [] });
  });
});

describe("install --root: the sysctl.d file in the plan", () => {
  it("IPv6 VIP: writes 90-k3vip.conf 0644, then up to date; uninstall restores the tree", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = await install(opts(root), deps());
    assert.equal(r.status, "applied");
    assert.deepEqual(r.sysctls, []);
    const file = join(root, FILE);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    const text = readFileSync(file, "utf8");
    assert.deepEqual(text.split("\n").filter((l) => l && !l.startsWith("#")), ["net.ipv6.conf.eth0.ndisc_notify = 1"]);
    assert.ok(r.changes.some((c) => c.label === "sysctl.d file" && c.kind === "create"));
    assert.ok(r.notes.some((n) => n.includes("/etc/sysctl.d/90-k3vip.conf takes effect when the node boots")), r.notes.join("\n"));
    const state = JSON.parse(readFileSync(join(root, "var/lib/rancher/k3s/k3vip/state.json"), "utf8")) as { files: { path: string }[]; sysctls?: unknown };
    assert.ok(state.files.some((f) => f.path === "/etc/sysctl.d/90-k3vip.conf"));
    assert.equal(state.sysctls, undefined, "nothing running was changed under --root");
    assert.equal((await install(opts(root), deps())).status, "up-to-date");
    const u = await uninstall({ root }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
    assert.equal(u.status, "removed");
    assert.deepEqual(snapshotTree(root), before);
  });

  it("over install.sh's copy: the same bytes, so the file is unchanged (kept as the original for uninstall)", async () => {
    const root = tmpRoot();
    const sh = spawnSync("dash", [join(import.meta.dirname, "../../install.sh"), "--root", root, "--vip", "fd00:6b33::10", "--interface", "eth0"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: tmpdir() } });
    assert.equal(sh.status, 0, sh.stderr);
    const r = await install(opts(root), deps());
    assert.deepEqual(r.changes.filter((c) => c.label === "sysctl.d file"), []);
    await uninstall({ root }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
    assert.equal(readFileSync(join(root, FILE), "utf8"), renderSysctlFile(vipSysctls(cfg(), "eth0")), "install.sh's file is back");
  });

  it("no --interface under --root: conf.all and conf.default", async () => {
    const root = tmpRoot();
    await install(opts(root, { config: cfg({ interface: "" }) }), deps());
    assert.deepEqual(readFileSync(join(root, FILE), "utf8").split("\n").filter((l) => l && !l.startsWith("#")), ["net.ipv6.conf.all.ndisc_notify = 1", "net.ipv6.conf.default.ndisc_notify = 1"]);
  });

  it("IPv4 VIP and BGP mode: no sysctl file", async () => {
    for (const c of [cfg({ vip: "192.168.0.10" }), parseSources({ scope: "install", version: "0.1.0", flags: { vip: "fd00:6b33::10", interface: "eth0", mode: "bgp", "bgp-as": "65001", "bgp-peers": "[fd00:6b33::1]:65000", "bgp-routerid": "10.0.0.2" } })]) {
      const root = tmpRoot();
      const r = await install(opts(root, { config: c }), deps());
      assert.equal(r.status, "applied");
      assert.ok(!r.changes.some((ch) => ch.label === "sysctl.d file"));
      assert.equal(statSync(join(root, "etc/sysctl.d"), { throwIfNoEntry: false }), undefined);
    }
  });

  it("switching the VIP to IPv4 removes the file", async () => {
    const root = tmpRoot();
    await install(opts(root), deps());
    const r = await install(opts(root, { config: cfg({ vip: "192.168.0.10" }) }), deps());
    assert.ok(r.changes.some((c) => c.label === "sysctl.d file" && c.kind === "delete"), JSON.stringify(r.changes));
    assert.equal(statSync(join(root, FILE), { throwIfNoEntry: false }), undefined);
  });

  it("--dry-run shows the file and writes nothing", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = await install(opts(root, { dryRun: true }), deps());
    assert.equal(r.status, "dry-run");
    assert.match(r.diff ?? "", /\+\+\+ .*etc\/sysctl\.d\/90-k3vip\.conf/);
    assert.match(r.diff ?? "", /^\+net\.ipv6\.conf\.eth0\.ndisc_notify = 1$/m);
    assert.deepEqual(snapshotTree(root), before);
  });
});

describe("install on the live host: the running value through the host port", () => {
  const live = () => {
    const base = tmpRoot();
    const host = new FakeHost();
    host.ifaces = [netIf("eth0", true, ["fd00:6b33::11/64"])];
    return { base, host, fs: new RebasedFs(base) };
  };
  const un = (fs: Fs, host: FakeHost | undefined, dryRun = false) => uninstall({ root: "", dryRun }, { fs, reporter: new MemoryReporter(), objects: addonObjects, ...(host ? { sysctl: host } : {}) });

  it("sets ndisc_notify now, records the old value, is idempotent, and uninstall puts it back", async () => {
    const { base, host, fs } = live();
    const before = snapshotTree(base);
    // --dry-run names the running change and changes nothing.
    const dry = await install(opts("", { distro: "k3s", config: cfg({ interface: "" }), dryRun: true }), deps(host, fs));
    assert.match(dry.diff ?? "", /^set sysctl net\.ipv6\.conf\.eth0\.ndisc_notify = 1 \(now 0\)$/m);
    assert.equal(host.sysctls.get(NOTIFY), "0");
    assert.deepEqual(snapshotTree(base), before);

    // The interface is detected (the one whose subnet holds the VIP), as the agent does.
    const r = await install(opts("", { distro: "k3s", config: cfg({ interface: "" }) }), deps(host, fs));
    assert.equal(r.status, "applied");
    assert.equal(host.sysctls.get(NOTIFY), "1");
    assert.deepEqual(r.sysctls.map((a) => [a.key, a.before, a.applied]), [["net.ipv6.conf.eth0.ndisc_notify", "0", true]]);
    assert.ok(r.notes.some((n) => n.startsWith("set net.ipv6.conf.eth0.ndisc_notify = 1 now (was 0)")), r.notes.join("\n"));
    assert.deepEqual(readFileSync(join(base, FILE), "utf8").split("\n").filter((l) => l && !l.startsWith("#")), ["net.ipv6.conf.eth0.ndisc_notify = 1"]);
    const state = JSON.parse(readFileSync(join(base, "var/lib/rancher/k3s/k3vip/state.json"), "utf8")) as { sysctls?: unknown };
    assert.deepEqual(state.sysctls, [{ path: NOTIFY, value: "1", before: "0" }]);

    const r2 = await install(opts("", { distro: "k3s", config: cfg({ interface: "" }) }), deps(host, fs));
    assert.equal(r2.status, "up-to-date");
    // Reset behind k3vip's back (or a re-created interface): the next run sets it again, the record keeps "0".
    host.sysctls.set(NOTIFY, "0");
    const r3 = await install(opts("", { distro: "k3s", config: cfg({ interface: "" }) }), deps(host, fs));
    assert.equal(r3.status, "applied");
    assert.deepEqual(r3.changes, []);
    assert.equal(host.sysctls.get(NOTIFY), "1");

    const dryUn = await un(fs, host, true);
    assert.ok(dryUn.notes.includes("would restore net.ipv6.conf.eth0.ndisc_notify = 0 (now 1)"), dryUn.notes.join("\n"));
    assert.equal(host.sysctls.get(NOTIFY), "1");
    const u = await un(fs, host);
    assert.equal(u.status, "removed");
    assert.equal(host.sysctls.get(NOTIFY), "0");
    assert.ok(u.notes.includes("restored net.ipv6.conf.eth0.ndisc_notify = 0 (k3vip had set 1)"), u.notes.join("\n"));
    assert.deepEqual(snapshotTree(base), before);
  });

  it("uninstall leaves a value someone changed since, and says so without the host port", async () => {
    const { host, fs } = live();
    await install(opts("", { distro: "k3s" }), deps(host, fs));
    const u = await un(fs, undefined);
    assert.ok(u.notes.some((n) => n.startsWith("net.ipv6.conf.eth0.ndisc_notify keeps its running value 1 until the next boot (it was 0")), u.notes.join("\n"));
    assert.equal(host.sysctls.get(NOTIFY), "1");

    const again = live();
    await install(opts("", { distro: "k3s" }), deps(again.host, again.fs));
    again.host.sysctls.set(NOTIFY, "2");
    await un(again.fs, again.host);
    assert.equal(again.host.sysctls.get(NOTIFY), "2", "not ours any more: kept");
  });

  it("a read-only /proc/sys: the files are still written, the note says how to apply", async () => {
    const { base, host, fs } = live();
    host.sysctlReadOnly = true;
    const r = await install(opts("", { distro: "k3s" }), deps(host, fs));
    assert.equal(r.status, "applied");
    assert.equal(r.sysctls[0]?.applied, false);
    assert.match(r.sysctls[0]?.error ?? "", /EROFS/);
    assert.ok(r.notes.some((n) => /^could not set net\.ipv6\.conf\.eth0\.ndisc_notify = 1 now \(EROFS.*\): run sysctl -p \/etc\/sysctl\.d\/90-k3vip\.conf, or reboot$/.test(n)), r.notes.join("\n"));
    assert.ok(statSync(join(base, FILE)).isFile());
  });

  it("IPv4 VIP on the live host: no file, no sysctl touched", async () => {
    const { host, fs } = live();
    const r = await install(opts("", { distro: "k3s", config: cfg({ vip: "192.168.0.10" }) }), deps(host, fs));
    assert.deepEqual(r.sysctls, []);
    assert.equal(host.sysctls.get(NOTIFY), "0");
    assert.ok(!r.changes.some((c) => c.label === "sysctl.d file"));
  });
});

describe("install and doctor refuse a VIP that is this node's own address", () => {
  for (const [vip, cidr] of [
    ["192.168.0.2", "192.168.0.2/24"],
    ["fd00:6b33::11", "fd00:6b33::11/64"],
  ] as const) {
    it(`${vip}: UsageError (exit 2), one line, nothing written — with or without preflight`, async () => {
      const base = tmpRoot();
      const host = new FakeHost();
      host.ifaces = [netIf("eth0", true, [cidr])];
      const fs = new RebasedFs(base);
      const before = snapshotTree(base);
      for (const preflight of [true, false]) {
        await assert.rejects(
          install(opts("", { config: cfg({ vip }), preflight }), deps(host, fs)),
          (e: unknown) => e instanceof UsageError && e.message === `--vip: the VIP ${vip} is this node's own address on eth0 (${cidr}); pick a free address in the subnet` && !e.message.includes("\n"),
        );
      }
      await assert.rejects(doctor({ root: "", config: cfg({ vip }) }, { fs, host, checker: new FakeChecker(), manifestName: ADDON_FILENAME }), (e: unknown) => e instanceof UsageError && /own address on eth0/.test(e.message));
      assert.deepEqual(snapshotTree(base), before);
      assert.deepEqual(host.probed, [], "no ARP probe either");
    });
  }
});
