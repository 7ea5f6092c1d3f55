// install/uninstall through the functions, on real temp trees with the real
// renderer: the file is the interface, so trees are compared byte for byte.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { keyFromToken } from "./heartbeat-key.ts";

import { parseSources, resolveConfig, UsageError, type Config } from "../config/index.ts";
import { install, InstallerError, MemoryReporter, NodeFs, uninstall, type InstallOptions } from "./index.ts";
import { FakeChecker, FakeHost } from "./testing/fakes.ts";
import { snapshotTree, tempRoots } from "./testing/tree.ts";
import { addonObjects, ADDON_FILENAME, heartbeatKeyDigest, renderAddon } from "../render/index.ts";
import { archiveRefs } from "../image/index.ts";
import { standInArchive } from "../image/testing/archive.ts";
import { execFileSync } from "node:child_process";

const tmpRoot = tempRoots("k3vip-inst-");

// A given heartbeat key, so that the manifest is renderAddon(cfg()) byte for byte (key resolution: its own tests).
const KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const cfg = (flags: Record<string, string> = {}): Config => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0", "heartbeat-key": KEY, ...flags } });
const MYSQL = "mysql://root:pw@tcp(127.0.0.1:3306)/kubernetes";

function deps(reporter = new MemoryReporter(), checker = new FakeChecker()) {
  return { fs: new NodeFs(), checker, render: (c: Config) => renderAddon(c), manifestName: ADDON_FILENAME, reporter, version: "0.1.0", inspect: archiveRefs };
}
const un = (root: string, extra: Partial<Parameters<typeof uninstall>[0]> = {}) => uninstall({ root, ...extra }, { fs: new NodeFs(), reporter: new MemoryReporter(), objects: addonObjects });
const opts = (root: string, o: Partial<InstallOptions> = {}): InstallOptions => ({ config: cfg(), root, preflight: false, ...o });
const read = (p: string) => readFileSync(p, "utf8");
const mode = (p: string) => statSync(p).mode & 0o777;

async function rejectsUnchanged(root: string, run: () => Promise<unknown>, re: RegExp, cls: new (...a: never[]) => Error = InstallerError) {
  const before = snapshotTree(root);
  await assert.rejects(run, (e: unknown) => e instanceof cls && re.test((e).message));
  assert.deepEqual(snapshotTree(root), before);
}

describe("install (k3s, external MySQL) → up to date → uninstall", () => {
  it("writes manifest and drop-in, then reports up to date, then uninstall restores the tree", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r1 = await install(opts(root, { datastore: MYSQL }), deps());
    assert.equal(r1.status, "applied");
    assert.equal(r1.distro, "k3s");
    const manifest = join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml");
    const dropin = join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml");
    assert.equal(read(manifest), renderAddon({ ...cfg(), distro: "k3s" }));
    assert.equal(mode(dropin), 0o600);
    assert.deepEqual(parse(read(dropin)), { "tls-san+": ["192.168.0.10"], "datastore-endpoint": MYSQL });
    const state = JSON.parse(read(join(root, "var/lib/rancher/k3s/k3vip/state.json"))) as { files: { path: string }[]; dirs: string[] };
    assert.deepEqual(state.files.map((f) => f.path), ["/var/lib/rancher/k3s/server/manifests/k3vip.yaml", "/etc/rancher/k3s/config.yaml.d/50-k3vip.yaml"]);

    const mid = snapshotTree(root);
    const r2 = await install(opts(root, { datastore: MYSQL }), deps());
    assert.equal(r2.status, "up-to-date");
    assert.deepEqual(r2.changes, []);
    assert.deepEqual(snapshotTree(root), mid);

    const u = await un(root);
    assert.equal(u.status, "removed");
    assert.deepEqual(snapshotTree(root), before);
    assert.match(u.commands.join("\n"), /^kubectl delete --ignore-not-found -n kube-system daemonset\.apps\/k3vip .*addon\.k3s\.cattle\.io\/k3vip/m);
    assert.equal((await un(root)).status, "nothing-installed");
  });

  it("a changed option updates only the file it affects", async () => {
    const root = tmpRoot();
    await install(opts(root, { datastore: MYSQL }), deps());
    const manifest = join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml");
    const m1 = read(manifest);
    const r = await install(opts(root, { datastore: MYSQL, tlsSans: ["k8s.example.com"] }), deps());
    assert.deepEqual(r.changes.map((c) => c.label), ["drop-in"]);
    assert.equal(read(manifest), m1);
    const r2 = await install(opts(root, { datastore: MYSQL, tlsSans: ["k8s.example.com"], config: cfg({ "lease-duration": "10", "renew-deadline": "8" }) }), deps());
    assert.deepEqual(r2.changes.map((c) => c.label), ["manifest"]);
  });

  it("keeps a pre-existing manifest (e.g. from install.sh) and restores it on uninstall", async () => {
    const root = tmpRoot();
    const dir = join(root, "var/lib/rancher/k3s/server/manifests");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "k3vip.yaml"), "# from install.sh\n", { mode: 0o644 });
    writeFileSync(join(dir, "other.yaml"), "kind: ConfigMap\n");
    const before = snapshotTree(root);
    await install(opts(root), deps());
    assert.notEqual(read(join(dir, "k3vip.yaml")), "# from install.sh\n");
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("uninstall keeps and reports a file edited since install", async () => {
    const root = tmpRoot();
    await install(opts(root), deps());
    const dropin = join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml");
    writeFileSync(dropin, `${read(dropin)}node-label+: [edited=yes]\n`);
    const u = await un(root);
    assert.match(u.notes.join("\n"), /kept .*50-k3vip\.yaml: edited since k3vip wrote it/);
    assert.match(read(dropin), /edited=yes/);
    assert.throws(() => statSync(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml")));
  });
});

describe("install variants", () => {
  it("RKE2: joins through the supervisor port 9345, paths under rke2", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = await install(opts(root, { distro: "rke2", config: cfg({ distro: "rke2" }), join: true, token: "K10abc::server:s3cr3t" }), deps());
    assert.equal(r.distro, "rke2");
    const d = parse(read(join(root, "etc/rancher/rke2/config.yaml.d/50-k3vip.yaml"))) as Record<string, unknown>;
    assert.deepEqual(d, { "tls-san+": ["192.168.0.10"], server: "https://192.168.0.10:9345", token: "K10abc::server:s3cr3t" });
    assert.ok(statSync(join(root, "var/lib/rancher/rke2/server/manifests/k3vip.yaml")).isFile());
    assert.equal((await install(opts(root, { distro: "rke2", config: cfg({ distro: "rke2" }), join: true, token: "K10abc::server:s3cr3t" }), deps())).status, "up-to-date");
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("detects RKE2 from its directories", async () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc/rancher/rke2"), { recursive: true });
    const r = await install(opts(root), deps());
    assert.equal(r.distro, "rke2");
    mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
    await assert.rejects(install(opts(root), deps()), (e: unknown) => e instanceof UsageError && /--distro is required: found both k3s/.test(e.message));
  });

  it("--cluster-init then --join (IPv6 VIP bracketed), token from a file", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    await install(opts(root, { clusterInit: true, token: "s3cr3t" }), deps());
    const dropin = join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml");
    assert.deepEqual(parse(read(dropin)), { "tls-san+": ["192.168.0.10"], "cluster-init": true, token: "s3cr3t" });
    await un(root);
    assert.deepEqual(snapshotTree(root), before);

    const tokenDir = tmpRoot();
    writeFileSync(join(tokenDir, "token"), "K10xyz::server:abc\n");
    const r = await install(opts(root, { config: cfg({ vip: "2001:db8::10" }), join: true, tokenFile: join(tokenDir, "token") }), deps());
    assert.equal(r.status, "applied");
    assert.deepEqual(parse(read(dropin)), { "tls-san+": ["2001:db8::10"], server: "https://[2001:db8::10]:6443", token: "K10xyz::server:abc" });
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("services mode disables servicelb with k3s's append form", async () => {
    const root = tmpRoot();
    await install(opts(root, { config: parseSources({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0", services: "true", "services-pools": "192.168.0.200/29" } }), tlsSans: ["k8s.example.com", "192.168.0.10"] }), deps());
    assert.deepEqual(parse(read(join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml"))), { "tls-san+": ["192.168.0.10", "k8s.example.com"], "disable+": ["servicelb"] });
  });

  it("--dry-run prints a masked diff and writes nothing", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = await install(opts(root, { datastore: "mysql://root:Pa55w0rd@tcp(db:3306)/k", token: "T0k3nS3cret", dryRun: true }), deps());
    assert.equal(r.status, "dry-run");
    assert.deepEqual(snapshotTree(root), before);
    assert.match(r.diff ?? "", /\+\+\+ .*50-k3vip\.yaml/);
    assert.match(r.diff ?? "", /\+datastore-endpoint: mysql:\/\/root:\*\*\*\*@tcp\(db:3306\)\/k/);
    assert.match(r.diff ?? "", /\+token: \*\*\*\*/);
    assert.doesNotMatch(r.diff ?? "", /Pa55w0rd|T0k3nS3cret/);
    assert.ok(!(r.diff ?? "").includes(KEY), "the heartbeat key is masked");
    assert.match(r.diff ?? "", /\+ {2}K3VIP_HEARTBEAT_KEY: "\*\*\*\*"/);
    assert.match(r.diff ?? "", /\+kind: DaemonSet/);
  });

  it("--migrate removes an old kube-vip manifest (backed up) and uninstall brings it back", async () => {
    const root = tmpRoot();
    const dir = join(root, "var/lib/rancher/k3s/server/manifests");
    mkdirSync(dir, { recursive: true });
    const kv = `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-vip-ds, namespace: kube-system}\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-vip\n        image: ghcr.io/kube-vip/kube-vip:v0.8.0\n        env:\n        - {name: address, value: "192.168.0.10"}\n`;
    writeFileSync(join(dir, "vip.yaml"), kv);
    const before = snapshotTree(root);
    // Without --migrate, preflight refuses (kube-vip would fight for the VIP).
    await rejectsUnchanged(root, () => install(opts(root, { preflight: true }), deps()), /preflight failed: kube-vip: .*vip\.yaml: DaemonSet kube-vip-ds/);
    const r = await install(opts(root, { preflight: true, migrate: true }), deps());
    assert.ok(r.changes.some((c) => c.kind === "delete" && c.path.endsWith("vip.yaml")));
    assert.throws(() => statSync(join(dir, "vip.yaml")));
    assert.equal((await install(opts(root, { preflight: true, migrate: true }), deps())).status, "up-to-date");
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("--image-archive places the archive in the airgap images dir through the same plan", async () => {
    const root = tmpRoot();
    const src = join(tmpRoot(), "my-build.tar.zst");
    writeFileSync(src, execFileSync("zstd", ["-q", "-c"], { input: standInArchive(cfg().image) }));
    const before = snapshotTree(root);
    const r = await install(opts(root, { imageArchive: src, imageArch: "arm64" }), deps());
    assert.ok(r.changes.some((c) => c.label === "image archive"));
    // Named per version and arch (install.sh names it the same), its compression suffix kept: k3s picks the decompressor by name.
    const placed = join(root, "var/lib/rancher/k3s/agent/images/k3vip-v0.1.0-arm64.tar.zst");
    assert.deepEqual(readFileSync(placed), readFileSync(src));
    assert.deepEqual(r.image, { ref: cfg().image, source: "file", arch: "arm64", archive: placed });
    assert.deepEqual(r.notes, ["k3s imports /var/lib/rancher/k3s/agent/images/k3vip-v0.1.0-arm64.tar.zst when it starts (no registry needed)"]);
    assert.equal((await install(opts(root, { imageArchive: src, imageArch: "arm64" }), deps())).status, "up-to-date");
    // Dropping the option later removes the archive this run no longer wants.
    const r2 = await install(opts(root), deps());
    assert.deepEqual(r2.changes.map((c) => [c.kind, c.label]), [["delete", "image archive"]]);
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });
});

describe("the heartbeat key (the same on every server, kept across runs)", () => {
  const noKey = (flags: Record<string, string> = {}) => resolveConfig({ scope: "install", version: "0.1.0", flags: { vip: "192.168.0.10", interface: "eth0", ...flags } });
  const secretKey = (root: string, distro = "k3s") => {
    const objs = parseAllDocuments(read(join(root, `var/lib/rancher/${distro}/server/manifests/k3vip.yaml`))).map((d) => d.toJS() as { kind: string; stringData?: Record<string, string> });
    return objs.find((o) => o.kind === "Secret")?.stringData?.["K3VIP_HEARTBEAT_KEY"] ?? "";
  };
  const withToken = (token: string) => {
    const root = tmpRoot();
    mkdirSync(join(root, "var/lib/rancher/k3s/server"), { recursive: true });
    writeFileSync(join(root, "var/lib/rancher/k3s/server/token"), `${token}\n`, { mode: 0o600 });
    return root;
  };

  it("two servers of one cluster (the token file's full token, a join with the short one) write the same manifest", async () => {
    const a = withToken("K10aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44::server:Cl0sterT0ken");
    const b = tmpRoot();
    await install(opts(a, { config: noKey() }), deps());
    await install(opts(b, { config: noKey(), join: true, token: "Cl0sterT0ken" }), deps());
    const m = (root: string) => read(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"));
    assert.equal(m(a), m(b));
    assert.equal(secretKey(a), keyFromToken("Cl0sterT0ken"));
    assert.equal((await install(opts(a, { config: noKey() }), deps())).status, "up-to-date");
    // The ClusterRole to list Nodes (the peers), and the key's digest on the pod template.
    assert.match(m(a), /name: k3vip-peers[\s\S]*resources: \["nodes"\]\n {4}verbs: \["list"\]/);
    assert.match(m(a), new RegExp(`k3vip.io/heartbeat-key-sha256: "${heartbeatKeyDigest(keyFromToken("Cl0sterT0ken"))}"`));
  });

  it("no token anywhere: a random key and a note; a re-run keeps it; once the distribution has a token the key follows it", async () => {
    const root = tmpRoot();
    const r1 = await install(opts(root, { config: noKey() }), { ...deps(), randomKey: () => "5a".repeat(32) });
    assert.equal(secretKey(root), "5a".repeat(32));
    assert.match(r1.notes.join("\n"), /made a random heartbeat key: no cluster token was found .*Every server needs the same key/);
    const r2 = await install(opts(root, { config: noKey() }), { ...deps(), randomKey: () => "6b".repeat(32) });
    assert.equal(r2.status, "up-to-date");
    assert.doesNotMatch(r2.notes.join("\n"), /random heartbeat key/);
    mkdirSync(join(root, "var/lib/rancher/k3s/server"), { recursive: true });
    writeFileSync(join(root, "var/lib/rancher/k3s/server/token"), "later-token\n");
    const r3 = await install(opts(root, { config: noKey() }), deps());
    assert.deepEqual(r3.changes.map((c) => c.label), ["manifest"]);
    assert.equal(secretKey(root), keyFromToken("later-token"));
  });

  it("--heartbeat-port 0: no key, no ClusterRole, no digest", async () => {
    const root = tmpRoot();
    await install(opts(root, { config: noKey({ "heartbeat-port": "0" }) }), deps());
    const m = read(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"));
    assert.equal(secretKey(root), "");
    assert.doesNotMatch(m, /name: k3vip-peers|k3vip\.io\/heartbeat-key-sha256:|containerPort: 0/);
  });
});

describe("image: pulled by default; --airgap places an archive (the images port: shipped → cache → build)", () => {
  const fakeArchive = (arch: string, ref: string) => {
    const p = join(tmpRoot(), `${arch}.tar`);
    writeFileSync(p, standInArchive(ref, `oci archive for ${arch}`));
    return p;
  };
  const withImages = (asked: string[], ref = cfg().image) => ({
    ...deps(),
    images: (arch: string) => {
      asked.push(arch);
      return Promise.resolve({ path: fakeArchive(arch, ref), ref, source: "cache" });
    },
  });
  const IMAGES = "var/lib/rancher/k3s/agent/images";

  it("places the node's arch archive, is up to date the second time, follows --arch, an upgrade and --image, and uninstall removes it", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const asked: string[] = [];
    const r1 = await install(opts(root, { airgap: true, imageArch: "amd64" }), withImages(asked));
    assert.equal(r1.status, "applied");
    assert.deepEqual(asked, ["amd64"]);
    assert.deepEqual(readFileSync(join(root, IMAGES, "k3vip-v0.1.0-amd64.tar")), standInArchive(cfg().image, "oci archive for amd64"));
    assert.equal(mode(join(root, IMAGES, "k3vip-v0.1.0-amd64.tar")), 0o644);
    assert.deepEqual(r1.image, { ref: "ghcr.io/k3vip/k3vip:v0.1.0", source: "cache", arch: "amd64", archive: join(root, IMAGES, "k3vip-v0.1.0-amd64.tar") });
    // The manifest names the very tag the archive carries, and keeps it if present.
    const manifest = read(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"));
    assert.match(manifest, /image: "ghcr\.io\/k3vip\/k3vip:v0\.1\.0"\n\s+imagePullPolicy: "IfNotPresent"/);
    const state = JSON.parse(read(join(root, "var/lib/rancher/k3s/k3vip/state.json"))) as { files: { path: string; label: string }[] };
    assert.ok(state.files.some((f) => f.path === `/${IMAGES}/k3vip-v0.1.0-amd64.tar` && f.label === "image archive"));

    assert.equal((await install(opts(root, { airgap: true, imageArch: "amd64" }), withImages(asked))).status, "up-to-date");

    const r3 = await install(opts(root, { airgap: true, imageArch: "arm" }), withImages(asked));
    assert.deepEqual(r3.changes.map((c) => [c.kind, c.path.slice(root.length)]), [["create", `/${IMAGES}/k3vip-v0.1.0-arm.tar`], ["delete", `/${IMAGES}/k3vip-v0.1.0-amd64.tar`]]);

    // An upgrade: the new version's archive replaces the old one.
    const up = await install({ ...opts(root, { airgap: true, imageArch: "arm" }), config: resolveConfig({ scope: "install", version: "0.2.0", flags: { vip: "192.168.0.10", interface: "eth0", "heartbeat-key": KEY } }) }, { ...withImages(asked, "ghcr.io/k3vip/k3vip:v0.2.0"), version: "0.2.0" });
    assert.deepEqual(up.changes.filter((c) => c.label === "image archive").map((c) => [c.kind, c.path.slice(root.length)]), [["create", `/${IMAGES}/k3vip-v0.2.0-arm.tar`], ["delete", `/${IMAGES}/k3vip-v0.1.0-arm.tar`]]);

    // Without --airgap the node pulls (here a registry image): the port is not asked, the archive goes.
    const n = asked.length;
    const reg = await install(opts(root, { config: cfg({ image: "registry.example.com/k3vip:v9" }) }), withImages(asked));
    assert.equal(asked.length, n);
    assert.deepEqual(reg.image, { ref: "registry.example.com/k3vip:v9", source: "registry" });
    assert.deepEqual(reg.changes.filter((c) => c.label === "image archive").map((c) => c.kind), ["delete"]);
    assert.deepEqual(readdirSync(join(root, IMAGES)), []);

    await install(opts(root, { airgap: true, imageArch: "amd64" }), withImages(asked));
    await un(root);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("the default: no archive, the images port is never asked, the manifest names the published image", async () => {
    const root = tmpRoot();
    const asked: string[] = [];
    const r = await install(opts(root, { imageArch: "arm64" }), withImages(asked));
    assert.equal(r.status, "applied");
    assert.deepEqual(asked, []);
    assert.deepEqual(r.image, { ref: "ghcr.io/k3vip/k3vip:v0.1.0", source: "registry" });
    assert.ok(!r.changes.some((c) => c.label === "image archive"));
    assert.equal(existsSync(join(root, IMAGES)), false);
    assert.match(read(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml")), /image: "ghcr\.io\/k3vip\/k3vip:v0\.1\.0"\n\s+imagePullPolicy: "IfNotPresent"/);
  });

  it("a server that looks air-gapped (k3s's or RKE2's airgap images in agent/images/): the node still pulls, with a note naming --airgap", async () => {
    for (const [distro, file] of [["k3s", "k3s-airgap-images-arm64.tar.zst"], ["rke2", "rke2-images-core.linux-amd64.tar.gz"]] as const) {
      const root = tmpRoot();
      mkdirSync(join(root, "var/lib/rancher", distro, "agent/images"), { recursive: true });
      writeFileSync(join(root, "var/lib/rancher", distro, "agent/images", file), "distro images");
      mkdirSync(join(root, "etc/rancher", distro), { recursive: true });
      const r = await install(opts(root, { distro }), withImages([]));
      assert.deepEqual(r.image, { ref: "ghcr.io/k3vip/k3vip:v0.1.0", source: "registry" });
      assert.ok(r.notes.includes(`/var/lib/rancher/${distro}/agent/images holds ${file}: this server may be air-gapped. If it cannot pull ghcr.io/k3vip/k3vip:v0.1.0, run again with --airgap (or mirror the image into a registry it reaches: docs/install.md)`), r.notes.join("\n"));
      // With --airgap: no such note.
      const a = await install(opts(root, { distro, airgap: true, imageArch: "arm64" }), withImages([]));
      assert.ok(!a.notes.some((n) => n.includes("may be air-gapped")));
    }
    const plain = await install(opts(tmpRoot()), withImages([]));
    assert.ok(!plain.notes.some((n) => n.includes("may be air-gapped")));
  });

  it("--airgap with another --image: usage error (the port has only the default image's archive), nothing changed", async () => {
    const root = tmpRoot();
    const asked: string[] = [];
    await rejectsUnchanged(
      root,
      () => install(opts(root, { airgap: true, config: cfg({ image: "registry.example.com/k3vip:v9" }) }), withImages(asked)),
      /^--airgap places the archive of ghcr\.io\/k3vip\/k3vip:v0\.1\.0, not of --image registry\.example\.com\/k3vip:v9: give that image's archive with --image-archive <file>/,
      UsageError,
    );
    assert.deepEqual(asked, []);
  });

  it("--dry-run names the archive as a binary file and writes nothing", async () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = await install(opts(root, { airgap: true, imageArch: "arm64", dryRun: true }), withImages([]));
    assert.equal(r.status, "dry-run");
    assert.match(r.diff ?? "", new RegExp(`^create ${root}/${IMAGES}/k3vip-v0\\.1\\.0-arm64\\.tar \\(mode 0644\\): binary, ${standInArchive(cfg().image, "oci archive for arm64").length} bytes$`, "m"));
    assert.doesNotMatch(r.diff ?? "", /oci archive for/);
    assert.deepEqual(snapshotTree(root), before);
  });

  it("cannot find or build it: a clear error that names the ways out, nothing changed", async () => {
    const root = tmpRoot();
    const failing = { ...deps(), images: () => Promise.reject(new Error("apt-get download libc6:arm64 failed (exit 100): Temporary failure resolving 'deb.debian.org'\nmore")) };
    await rejectsUnchanged(
      root,
      () => install(opts(root, { airgap: true, imageArch: "arm64" }), failing),
      /^could not find or build the arm64 image archive for --airgap \(apt-get download libc6:arm64 failed .*'deb\.debian\.org'\); nothing was changed\. .*k3vip-v0\.1\.0-arm64\.tar from the release.*--image-archive <file>.*drop --airgap to let the node pull ghcr\.io\/k3vip\/k3vip:v0\.1\.0$/,
    );
    // An archive tagged differently from the manifest would make containerd pull: refused.
    await rejectsUnchanged(root, () => install(opts(root, { airgap: true, imageArch: "amd64" }), withImages([], "ghcr.io/k3vip/k3vip:v0.0.9")), /is tagged ghcr\.io\/k3vip\/k3vip:v0\.0\.9 but the manifest names ghcr\.io\/k3vip\/k3vip:v0\.1\.0; nothing was changed$/);
    await rejectsUnchanged(root, () => install(opts(root, { imageArchive: join(root, "nope.tar") }), deps()), /^--image-archive .*nope\.tar does not exist; nothing was changed$/);
    await rejectsUnchanged(root, () => install(opts(root, { imageArchive: "/x/k3vip.img" }), deps()), /^--image-archive "\/x\/k3vip\.img" is not a \.tar, \.tar\.gz or \.tar\.zst file/, UsageError);
  });
});

describe("bad input: clear error, nothing changed", () => {
  it("refuses usage errors before touching anything", async () => {
    const root = tmpRoot();
    const u = (o: Partial<InstallOptions>, re: RegExp) => rejectsUnchanged(root, () => install(opts(root, o), deps()), re, UsageError);
    await u({ clusterInit: true, join: true }, /^--cluster-init and --join exclude each other/);
    await u({ join: true }, /^--join needs the cluster's token/);
    await u({ datastore: MYSQL, clusterInit: true }, /^--datastore excludes --cluster-init/);
    await u({ datastore: "mysql://root:pw@db:3306/k" }, /^--datastore "mysql:\/\/root:\*\*\*\*@db:3306\/k" needs the address in k3s's MySQL form/);
    await u({ datastoreCafile: "/ca.pem" }, /^--datastore-cafile needs --datastore/);
    await u({ datastore: MYSQL, datastoreCafile: "ca.pem" }, /^--datastore-cafile "ca.pem" is not an absolute path/);
    await u({ tlsSans: ["not a name"] }, /^--tls-san "not a name" is not an IP address or DNS name/);
    await u({ root: join(root, "missing") }, /^--root ".*missing" is not an existing directory/);
  });

  it("unreadable TLS files and token files", async () => {
    const root = tmpRoot();
    await rejectsUnchanged(root, () => install(opts(root, { datastore: MYSQL, datastoreCafile: "/nonexistent/ca.pem" }), deps()), /^--datastore-cafile \/nonexistent\/ca\.pem does not exist; nothing was changed/);
    await rejectsUnchanged(root, () => install(opts(root, { join: true, tokenFile: "/nonexistent/token" }), deps()), /^--token-file \/nonexistent\/token does not exist/);
    const dir = tmpRoot();
    writeFileSync(join(dir, "empty"), "\n");
    await rejectsUnchanged(root, () => install(opts(root, { join: true, tokenFile: join(dir, "empty") }), deps()), /is empty/);
  });

  it("malformed config.yaml and contradicting settings", async () => {
    const root = tmpRoot();
    const conf = join(root, "etc/rancher/k3s");
    mkdirSync(join(conf, "config.yaml.d"), { recursive: true });
    writeFileSync(join(conf, "config.yaml"), "tls-san:\n  - a\n bad: [\n");
    await rejectsUnchanged(root, () => install(opts(root), deps()), /config\.yaml line \d+ is not valid YAML .*nothing was changed/);
    writeFileSync(join(conf, "config.yaml"), "- just\n- a list\n");
    await rejectsUnchanged(root, () => install(opts(root), deps()), /config\.yaml is not a YAML mapping/);
    writeFileSync(join(conf, "config.yaml"), "cluster-init: true\n");
    await rejectsUnchanged(root, () => install(opts(root, { datastore: MYSQL }), deps()), /config\.yaml sets cluster-init, which excludes --datastore/);
    writeFileSync(join(conf, "config.yaml"), "write-kubeconfig-mode: '0644'\n");
    writeFileSync(join(conf, "config.yaml.d/10-db.yaml"), "datastore-endpoint: postgres://u:secret@h/k\n");
    await rejectsUnchanged(root, () => install(opts(root, { datastore: MYSQL }), deps()), /10-db\.yaml sets a different datastore-endpoint/);
    rmSync(join(conf, "config.yaml.d/10-db.yaml"));
    // A later drop-in with a plain list key would replace k3vip's appended list.
    writeFileSync(join(conf, "config.yaml.d/90-san.yaml"), "tls-san: [other.example]\n");
    await rejectsUnchanged(root, () => install(opts(root), deps()), /90-san\.yaml sets tls-san: after k3vip's drop-in, .*the VIP would drop out of the certificate\): write tls-san\+: there instead/);
    writeFileSync(join(conf, "config.yaml.d/90-san.yaml"), "tls-san+: [other.example]\n");
    writeFileSync(join(conf, "config.yaml.d/10-san.yaml"), "tls-san: [early.example]\n");
    assert.equal((await install(opts(root), deps())).status, "applied");
  });

  it("an existing drop-in k3vip did not write", async () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc/rancher/k3s/config.yaml.d"), { recursive: true });
    writeFileSync(join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml"), "tls-san: [x]\n");
    await rejectsUnchanged(root, () => install(opts(root), deps()), /50-k3vip\.yaml exists and was not written by k3vip/);
  });

  it("a drop-in edited since k3vip wrote it", async () => {
    const root = tmpRoot();
    await install(opts(root), deps());
    const dropin = join(root, "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml");
    writeFileSync(dropin, `${read(dropin)}# mine\n`);
    await rejectsUnchanged(root, () => install(opts(root, { tlsSans: ["x.example"] }), deps()), /was edited since k3vip wrote it/);
  });

  it("a corrupt state record", async () => {
    const root = tmpRoot();
    await install(opts(root), deps());
    writeFileSync(join(root, "var/lib/rancher/k3s/k3vip/state.json"), "{nope");
    await rejectsUnchanged(root, () => install(opts(root), deps()), /state\.json is not valid JSON/);
  });

  it("preflight failures stop the install before any write", async () => {
    const root = tmpRoot();
    const checker = new FakeChecker({ outcome: "auth", message: "refused user root: wrong password", fix: "check the password" });
    await rejectsUnchanged(root, () => install(opts(root, { preflight: true, datastore: MYSQL }), deps(new MemoryReporter(), checker)), /preflight failed: datastore: .*wrong password.*Nothing was changed/);
    assert.equal(checker.asked.length, 1);
  });

  it("a tree where a directory is a file", async () => {
    const root = tmpRoot();
    mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
    writeFileSync(join(root, "etc/rancher/k3s/config.yaml.d"), "");
    chmodSync(root, 0o755);
    // One actionable line (it was a raw ENOTDIR): hardening #11 item 6.
    await rejectsUnchanged(root, () => install(opts(root), deps()), /^\S*config\.yaml\.d is a file where k3vip needs a directory \(for .*\): move it away, then run again; nothing was changed$/, InstallerError);
  });
});

describe("host probing", () => {
  it("--root never probes the host; the real host is probed through the port", async () => {
    const root = tmpRoot();
    const host = new FakeHost();
    await install({ ...opts(root, { preflight: true }) }, { ...deps(), host });
    assert.deepEqual(host.probed, []);
  });
});
