// The pure core: plan from in-memory inputs (no I/O), its diff, and the
// progress reporter choice.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { parseSources } from "../config/index.ts";
import { configConflicts, dropinValues, renderDropin } from "./dropin.ts";
import { afterNotes } from "./install.ts";
import { layoutFor } from "./layout.ts";
import { isNoop, planDiff, planInstall, planUninstall, type Current, type DesiredFile } from "./plan.ts";
import { PlainReporter, reporterFor } from "./report.ts";
import { encodeState, sha256, type StateRecord } from "./state.ts";

const layout = layoutFor("k3s", "/r");
// BGP (still to come) only for its peer password, which the state record must never hold.
const config = parseSources({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", mode: "bgp", "bgp-as": "65001", "bgp-peers": "192.168.0.1:65000:peerpw" } });
const M = "/r/var/lib/rancher/k3s/server/manifests/k3vip.yaml";
const D = "/r/etc/rancher/k3s/config.yaml.d/50-k3vip.yaml";
const desired = (m = "manifest v1\n", d = "token: s3cr3t\n"): DesiredFile[] => [
  { path: M, content: Buffer.from(m), mode: 0o600, label: "manifest" },
  { path: D, content: Buffer.from(d), mode: 0o600, label: "drop-in", secret: true },
];
const base = { layout, config, version: "0.1.0", remove: [], missingDirs: [] as string[] };

describe("planInstall (pure)", () => {
  it("fresh tree: creates, records state without secrets, dirs parents first", () => {
    const p = planInstall({ ...base, desired: desired(), current: new Map(), state: undefined, missingDirs: ["/r/etc", "/r/etc/rancher"] });
    assert.deepEqual(p.files.map((f) => [f.kind, f.label]), [["create", "manifest"], ["create", "drop-in"], ["create", "state"]]);
    assert.deepEqual(p.dirs.map((d) => d.path), ["/r/etc", "/r/etc/rancher"]);
    const state = JSON.parse(p.files[2]?.content?.toString() ?? "") as StateRecord;
    assert.deepEqual(state.dirs, ["/etc", "/etc/rancher"]);
    assert.deepEqual(state.files.map((f) => [f.path, f.sha256]), [["/var/lib/rancher/k3s/server/manifests/k3vip.yaml", sha256("manifest v1\n")], ["/etc/rancher/k3s/config.yaml.d/50-k3vip.yaml", sha256("token: s3cr3t\n")]]);
    assert.doesNotMatch(p.files[2]?.content?.toString() ?? "", /peerpw/);
  });

  it("same inputs over the result: a no-op; a changed file: one update", () => {
    const first = planInstall({ ...base, desired: desired(), current: new Map(), state: undefined });
    const state = JSON.parse(first.files[2]?.content?.toString() ?? "") as StateRecord;
    const current = new Map<string, Current>(first.files.map((f) => [f.path, { content: f.content ?? Buffer.alloc(0), mode: f.mode }]));
    assert.equal(isNoop(planInstall({ ...base, desired: desired(), current, state })), true);
    const p = planInstall({ ...base, desired: desired("manifest v2\n"), current, state });
    assert.deepEqual(p.files.filter((f) => f.kind !== "unchanged").map((f) => [f.kind, f.label]), [["update", "manifest"], ["update", "state"]]);
    // A mode change alone is a change too.
    const chmodded = new Map(current);
    chmodded.set(M, { content: Buffer.from("manifest v1\n"), mode: 0o644 });
    const pm = planInstall({ ...base, desired: desired(), current: chmodded, state });
    assert.equal(pm.files.find((f) => f.path === M)?.kind, "update");
    assert.match(planDiff(pm, []), /mode 0644 → 0600/);
  });

  it("a foreign file at the manifest path is backed up first; a foreign drop-in is refused", () => {
    const current = new Map<string, Current>([[M, { content: Buffer.from("# install.sh\n"), mode: 0o644 }]]);
    const p = planInstall({ ...base, desired: desired(), current, state: undefined });
    assert.deepEqual(p.files[0], { kind: "create", path: "/r/var/lib/rancher/k3s/k3vip/backups/var__lib__rancher__k3s__server__manifests__k3vip.yaml", label: "backup of /var/lib/rancher/k3s/server/manifests/k3vip.yaml", mode: 0o644, content: Buffer.from("# install.sh\n"), internal: true });
    assert.throws(() => planInstall({ ...base, desired: desired(), current: new Map([[D, { content: Buffer.from("x: 1\n"), mode: 0o600 }]]), state: undefined }), /50-k3vip\.yaml exists and was not written by k3vip/);
  });

  it("an existing backup is never overwritten: a different one stops the plan, the same one is left as it is", () => {
    const B = "/r/var/lib/rancher/k3s/k3vip/backups/var__lib__rancher__k3s__server__manifests__k3vip.yaml";
    const user = { content: Buffer.from("# the user's file\n"), mode: 0o644 };
    // The record is gone but a backup is there (the crash the journal now prevents): k3vip's own manifest is not "the original".
    const current = new Map<string, Current>([
      [M, { content: Buffer.from("manifest v1\n"), mode: 0o600 }],
      [B, user],
    ]);
    assert.throws(() => planInstall({ ...base, desired: desired(), current, state: undefined }), /k3vip\.yaml already holds an earlier backup .* will not overwrite it/);
    const same = new Map<string, Current>([
      [M, user],
      [B, user],
    ]);
    assert.equal(planInstall({ ...base, desired: desired(), current: same, state: undefined }).files.find((f) => f.path === B)?.kind, "unchanged");
  });

  it("diff: unified, secrets masked, internal files hidden, binary files named", () => {
    const p = planInstall({ ...base, desired: [...desired(), { path: "/r/img.tar", content: Buffer.from([0, 1, 2]), mode: 0o644, label: "image archive", binary: true }], current: new Map(), state: undefined });
    const d = planDiff(p, ["s3cr3t"]);
    assert.match(d, /^--- \/dev\/null\n\+\+\+ \/r\/etc\/rancher\/k3s\/config\.yaml\.d\/50-k3vip\.yaml/m);
    assert.match(d, /^\+token: \*\*\*\*$/m);
    assert.doesNotMatch(d, /s3cr3t|state\.json/);
    assert.match(d, /create \/r\/img\.tar \(mode 0644\): binary, 3 bytes/);
    // The next run without the archive deletes it; the state record knows no
    // "binary" flag, so the diff sniffs the bytes instead of printing a tar.
    const state = JSON.parse(p.files.at(-1)?.content?.toString() ?? "") as StateRecord;
    const current = new Map<string, Current>(p.files.map((f) => [f.path, { content: f.content ?? Buffer.alloc(0), mode: f.mode }]));
    const drop = planInstall({ ...base, desired: desired(), current, state });
    assert.deepEqual(drop.files.filter((f) => f.kind === "delete").map((f) => [f.path, f.binary]), [["/r/img.tar", undefined]]);
    assert.equal(planDiff(drop, []), "delete /r/img.tar: binary, 3 bytes\n");
  });

  it("uninstall plan: deletes what matches, keeps what was edited, removes only emptied dirs", () => {
    const state: StateRecord = { format: 1, k3vip: "0.1.0", distro: "k3s", config, files: [{ path: "/var/lib/rancher/k3s/server/manifests/k3vip.yaml", sha256: sha256("m\n"), mode: 0o600, label: "manifest" }, { path: "/etc/rancher/k3s/config.yaml.d/50-k3vip.yaml", sha256: sha256("d\n"), mode: 0o600, label: "drop-in" }], removed: [], dirs: ["/etc/rancher/k3s/config.yaml.d", "/var/lib/rancher/k3s/server/manifests"] };
    const current = new Map<string, Current>([
      [M, { content: Buffer.from("m\n"), mode: 0o600 }],
      [D, { content: Buffer.from("d edited\n"), mode: 0o600 }],
      [layout.stateFile, { content: encodeState(state), mode: 0o600 }],
    ]);
    const entries = new Map([["/r/etc/rancher/k3s/config.yaml.d", ["50-k3vip.yaml"]], ["/r/var/lib/rancher/k3s/server/manifests", ["k3vip.yaml"]]]);
    const p = planUninstall(layout, state, current, entries, new Map());
    assert.deepEqual(p.files.map((f) => [f.kind, f.label]), [["delete", "manifest"], ["delete", "state"]]);
    assert.deepEqual(p.dirs.map((d) => d.path), ["/r/var/lib/rancher/k3s/server/manifests"]);
    assert.match(p.notes.join("\n"), /kept \/r\/etc\/rancher\/k3s\/config\.yaml\.d\/50-k3vip\.yaml: edited since/);
  });
});

describe("drop-in", () => {
  it("renders k3s's append form and k3vip's marker", () => {
    const text = renderDropin({ distro: "k3s", vip: "192.168.0.10", tlsSans: ["k8s.example.com"], clusterInit: false, disableServicelb: true, datastore: { endpoint: "https://e:2379", cafile: "/ca.pem" } });
    assert.equal(text, "# Written by k3vip: `k3vip install` rewrites it and `k3vip uninstall` removes it.\n# Put your own settings in ../config.yaml or another file in this directory.\ntls-san+:\n  - 192.168.0.10\n  - k8s.example.com\ndatastore-endpoint: https://e:2379\ndatastore-cafile: /ca.pem\ndisable+:\n  - servicelb\n");
    assert.equal(dropinValues({ distro: "rke2", vip: "192.168.0.10", tlsSans: [], clusterInit: false, disableServicelb: true })["disable+"], undefined);
  });

  it("conflicts name the file and the key", () => {
    const ours = dropinValues({ distro: "k3s", vip: "192.168.0.10", tlsSans: [], clusterInit: false, disableServicelb: false, join: { server: "https://192.168.0.10:6443", token: "a" } });
    const c = configConflicts([{ path: "/etc/rancher/k3s/config.yaml", values: { server: "https://10.0.0.1:6443", token: "b", "tls-san": ["x"] } }], ours);
    assert.deepEqual(c, [
      '/etc/rancher/k3s/config.yaml sets server: "https://10.0.0.1:6443"; k3vip would set "https://192.168.0.10:6443": remove it there or change the k3vip flags to match',
      "/etc/rancher/k3s/config.yaml sets a different token; k3vip would set another: remove it there or change the k3vip flags to match",
    ]);
  });
});

describe("after-install notes and output", () => {
  it("tells how to apply a changed drop-in to a running server, and to import an archive", () => {
    const l = layoutFor("k3s");
    const plan = { dirs: [], notes: [], files: [{ kind: "update" as const, path: l.dropinFile, label: "drop-in", mode: 0o600 }, { kind: "create" as const, path: `${l.imagesDir}/k3vip.tar.zst`, label: "image archive", mode: 0o644 }] };
    const notes = afterNotes({ config, root: "" }, l, true, plan, undefined, [{ id: "serving-cert", title: "", status: "warn", detail: "" }]);
    assert.deepEqual(notes, [
      "k3s reads /etc/rancher/k3s/config.yaml.d/50-k3vip.yaml at start: run `systemctl restart k3s` to apply tls-san",
      "if the serving certificate still lacks the VIP after the restart: systemctl stop k3s && k3s certificate rotate && systemctl start k3s",
      "import it now: k3s ctr images import /var/lib/rancher/k3s/agent/images/k3vip.tar.zst",
    ]);
    // Under --root (image preparation) nothing runs yet: the distro imports it at start.
    const lr = layoutFor("k3s", "/tmp/x");
    const planR = { dirs: [], notes: [], files: [{ kind: "create" as const, path: `${lr.imagesDir}/k3vip.tar.zst`, label: "image archive", mode: 0o644 }] };
    assert.deepEqual(afterNotes({ config, root: "/tmp/x" }, lr, true, planR, undefined, []), ["k3s imports /var/lib/rancher/k3s/agent/images/k3vip.tar.zst when it starts (no registry needed)"]);
    // RKE2's ctr talks to its own containerd socket, in the k8s.io namespace.
    const l2 = layoutFor("rke2");
    const plan2 = { dirs: [], notes: [], files: [{ kind: "create" as const, path: `${l2.imagesDir}/k3vip.tar`, label: "image archive", mode: 0o644 }] };
    assert.deepEqual(afterNotes({ config, root: "" }, l2, true, plan2, undefined, []), [
      "import it now: /var/lib/rancher/rke2/bin/ctr --address /run/k3s/containerd/containerd.sock -n k8s.io images import /var/lib/rancher/rke2/agent/images/k3vip.tar",
    ]);
    // A removed archive (e.g. switched to --image) has nothing to import.
    const planD = { dirs: [], notes: [], files: [{ kind: "delete" as const, path: `${l.imagesDir}/k3vip.tar`, label: "image archive", mode: 0o644 }] };
    assert.deepEqual(afterNotes({ config, root: "" }, l, true, planD, undefined, []), []);
  });

  it("spinners only on a TTY without --json", () => {
    const tty = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: true, columns: 80 }) as unknown as NodeJS.WriteStream;
    const pipe = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
    assert.equal(reporterFor(false, tty).constructor.name, "SpinnerReporter");
    assert.ok(reporterFor(true, tty) instanceof PlainReporter);
    assert.ok(reporterFor(false, pipe) instanceof PlainReporter);
  });
});
