// The done-when commands, exactly, through the built CLI
// (`npm run build` → node dist/k3vip.mjs): install under --root, a second run
// says up to date, uninstall leaves the tree as before; for k3s with MySQL,
// RKE2, and --cluster-init/--join. Plus exit codes, --dry-run and --json.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { archiveCacheKey, archiveFileName, defaultImageRef, hostArch } from "../image/index.ts";
import { standInArchive } from "../image/testing/archive.ts";
import { snapshotTree } from "../installer/testing/tree.ts";
import { AGENT_BUNDLE } from "../image/index.ts";

const CLI = join(process.cwd(), "dist/k3vip.mjs");
// `k3vip install --airgap` places this machine's image archive, from a cache
// keyed on the bundle: seed a private cache as a build would have left it (a
// small stand-in archive: an OCI layout naming the image, without the blobs),
// so these tests stay fast and offline. test/lab/image-install.test.ts does
// the same with a real archive. Without --airgap no archive is placed.
const ARCH = hostArch();
const ARCHIVE = archiveFileName(ARCH);
const ARCHIVE_BYTES = standInArchive(defaultImageRef(), `stand-in OCI archive for ${ARCH}`);
const cache = mkdtempSync(join(tmpdir(), "k3vip-cli-cache-"));
const roots: string[] = [];
const tmpRoot = () => {
  const r = mkdtempSync(join(tmpdir(), "k3vip-cli-"));
  roots.push(r);
  return r;
};
before(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  mkdirSync(join(cache, "archives"));
  writeFileSync(join(cache, "archives", ARCHIVE), ARCHIVE_BYTES);
  // The image holds the agent-only bundle beside the CLI: the cache is keyed on that file.
  writeFileSync(join(cache, "archives", `${ARCHIVE}.key`), archiveCacheKey(ARCH, join(process.cwd(), AGENT_BUNDLE)));
});
after(() => {
  for (const r of [...roots, cache]) rmSync(r, { recursive: true, force: true });
});

function k3vip(args: string[], env: Record<string, string> = {}) {
  // Not a TTY: plain lines, no spinner escape codes.
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, K3VIP_VIP: undefined, vipAddress: undefined, K3VIP_CACHE: cache, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function roundTrip(extra: string[], expect: { dropin: string; manifest: string; dropinHas: RegExp[] }) {
  const root = tmpRoot();
  const before = snapshotTree(root);
  const base = ["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", ...extra, "--no-preflight"];
  const r1 = k3vip(base);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stdout, "");
  const distro = expect.dropin.split("/")[2] ?? "";
  if (extra.includes("--airgap")) {
    assert.match(r1.stderr, /✓ write 3 files for/);
    assert.deepEqual(readFileSync(join(root, "var/lib/rancher", distro, "agent/images", ARCHIVE)), ARCHIVE_BYTES);
    assert.match(r1.stderr, new RegExp(`^image: ghcr\\.io/k3vip/k3vip:v\\S+ from \\S+/${ARCHIVE} \\(${ARCH}, cache\\)$`, "m"));
  } else {
    assert.match(r1.stderr, /✓ write 2 files for/);
    assert.equal(existsSync(join(root, "var/lib/rancher", distro, "agent/images")), false, "no archive: the node pulls");
    assert.match(r1.stderr, /^image: ghcr\.io\/k3vip\/k3vip:v\S+, pulled by the node \(no archive placed; --airgap places one for a server that cannot pull\)$/m);
  }
  const dropin = readFileSync(join(root, expect.dropin), "utf8");
  for (const re of expect.dropinHas) assert.match(dropin, re);
  assert.match(readFileSync(join(root, expect.manifest), "utf8"), /kind: DaemonSet/);
  const r2 = k3vip(base);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /up to date/);
  const r3 = k3vip(["uninstall", "--root", root]);
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /kubectl delete --ignore-not-found -n kube-system daemonset\.apps\/k3vip/);
  assert.deepEqual(snapshotTree(root), before);
}

describe("k3vip install / uninstall through the built CLI", () => {
  it("k3s + external MySQL (the issue's command)", () => {
    roundTrip(["--datastore", "mysql://root:pw@tcp(127.0.0.1:3306)/kubernetes"], {
      dropin: "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml",
      manifest: "var/lib/rancher/k3s/server/manifests/k3vip.yaml",
      dropinHas: [/^datastore-endpoint: mysql:\/\/root:pw@tcp\(127\.0\.0\.1:3306\)\/kubernetes$/m, /^tls-san\+:\n {2}- 192\.168\.0\.10$/m],
    });
  });

  it("--distro rke2 with the same datastore, --airgap", () => {
    roundTrip(["--distro", "rke2", "--airgap", "--datastore", "mysql://root:pw@tcp(127.0.0.1:3306)/kubernetes"], {
      dropin: "etc/rancher/rke2/config.yaml.d/50-k3vip.yaml",
      manifest: "var/lib/rancher/rke2/server/manifests/k3vip.yaml",
      dropinHas: [/^datastore-endpoint: /m],
    });
  });

  it("--cluster-init, and --join (k3s and RKE2)", () => {
    roundTrip(["--cluster-init", "--airgap"], { dropin: "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml", manifest: "var/lib/rancher/k3s/server/manifests/k3vip.yaml", dropinHas: [/^cluster-init: true$/m] });
    roundTrip(["--join", "--token", "K10abc::server:xyz"], { dropin: "etc/rancher/k3s/config.yaml.d/50-k3vip.yaml", manifest: "var/lib/rancher/k3s/server/manifests/k3vip.yaml", dropinHas: [/^server: https:\/\/192\.168\.0\.10:6443$/m, /^token: K10abc::server:xyz$/m] });
    roundTrip(["--distro", "rke2", "--join", "--token", "K10abc::server:xyz"], { dropin: "etc/rancher/rke2/config.yaml.d/50-k3vip.yaml", manifest: "var/lib/rancher/rke2/server/manifests/k3vip.yaml", dropinHas: [/^server: https:\/\/192\.168\.0\.10:9345$/m] });
  });

  it("--dry-run prints a masked diff on stdout and writes nothing; --json prints a summary", () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const r = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--datastore", "postgres://k3s:Sup3rS3cret@db:5432/k3s", "--dry-run", "--no-preflight"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\+datastore-endpoint: postgres:\/\/k3s:\*\*\*\*@db:5432\/k3s$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /Sup3rS3cret/);
    assert.match(r.stderr, /nothing was written/);
    assert.deepEqual(snapshotTree(root), before);

    const j = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const summary = JSON.parse(j.stdout) as { status: string; changes: { label: string }[]; checks: { id: string }[] };
    assert.equal(summary.status, "applied");
    assert.deepEqual(summary.changes.map((c) => c.label), ["manifest", "drop-in"]);
    assert.deepEqual((JSON.parse(j.stdout) as { image: unknown }).image, { ref: "ghcr.io/k3vip/k3vip:v0.1.0", source: "registry" });
    const a = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--airgap", "--json"]);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual((JSON.parse(a.stdout) as { changes: { label: string }[] }).changes.map((c) => c.label), ["image archive"]);
    assert.deepEqual((JSON.parse(a.stdout) as { image: unknown }).image, { ref: "ghcr.io/k3vip/k3vip:v0.1.0", source: "cache", arch: ARCH, archive: join(root, "var/lib/rancher/k3s/agent/images", ARCHIVE) });
    assert.ok(summary.checks.some((c) => c.id === "root"));
    assert.ok(!j.stderr.includes("\u001b["), "no ANSI escapes when not a TTY");
  });

  it("image: pulled by default; --airgap places the archive (--dry-run names it), --arch picks another, dropping --airgap removes it", () => {
    const root = tmpRoot();
    const base = ["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight"];
    const pull = k3vip([...base, "--dry-run"]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.doesNotMatch(pull.stdout, /agent\/images/);
    assert.match(pull.stderr, /^image: ghcr\.io\/k3vip\/k3vip:v0\.1\.0, pulled by the node/m);

    const dry = k3vip([...base, "--airgap", "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^create ${root}/var/lib/rancher/k3s/agent/images/${ARCHIVE} \\(mode 0644\\): binary, ${ARCHIVE_BYTES.length} bytes$`, "m"));
    assert.doesNotMatch(dry.stdout, /stand-in/);
    assert.equal(k3vip([...base, "--airgap"]).code, 0);

    // Without --airgap the archive goes again (the node pulls), whatever the image.
    const reg = k3vip([...base, "--image", "registry.example.com/k3vip:v9"]);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stderr, /^ {2}delete image archive: .*\n/m);
    assert.match(reg.stderr, /^image: registry\.example\.com\/k3vip:v9, pulled by the node \(no archive placed; --airgap places one for a server that cannot pull\)$/m);
    assert.match(readFileSync(join(root, "var/lib/rancher/k3s/server/manifests/k3vip.yaml"), "utf8"), /image: "registry\.example\.com\/k3vip:v9"/);
    assert.deepEqual(readdirSync(join(root, "var/lib/rancher/k3s/agent/images")), []);

    // --no-image-archive is the default, kept for scripts that say so.
    const none = k3vip([...base, "--no-image-archive"]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /no archive placed/);
    assert.deepEqual(readdirSync(join(root, "var/lib/rancher/k3s/agent/images")), []);

    const bad = k3vip([...base, "--airgap", "--arch", "riscv64"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'k3vip: --arch "riscv64" is not an architecture (valid: amd64, arm64, arm)\n');
    const archAlone = k3vip([...base, "--arch", "arm64"]);
    assert.equal(archAlone.code, 2);
    assert.equal(archAlone.stderr, 'k3vip: --arch "arm64" picks the image archive\'s architecture; it needs --airgap or --image-archive (without them the node pulls its own arch from the image\'s index)\n');
    assert.equal(k3vip([...base, "--airgap", "--no-image-archive"]).stderr, "k3vip: --airgap places an image archive and --no-image-archive places none: give one of them\n");
    const other = k3vip([...base, "--airgap", "--image", "registry.example.com/k3vip:v9"]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /^k3vip: --airgap places the archive of ghcr\.io\/k3vip\/k3vip:v0\.1\.0, not of --image registry\.example\.com\/k3vip:v9/);
  });

  it("image: --airgap where building is impossible (empty cache, no npm or apt-get): exit 1, nothing changed, the ways out named", () => {
    const root = tmpRoot();
    const before = snapshotTree(root);
    const empty = tmpRoot();
    const r = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight", "--airgap", "--arch", "arm64"], { K3VIP_CACHE: join(empty, "cache"), PATH: empty });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^k3vip: could not find or build the arm64 image archive for --airgap \(.+\); nothing was changed\. .*--image-archive <file>.*drop --airgap to let the node pull/m);
    assert.deepEqual(snapshotTree(root), before);
    // The same box without --airgap needs neither: the node pulls.
    const pull = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--interface", "eth0", "--no-preflight"], { K3VIP_CACHE: join(empty, "cache"), PATH: empty });
    assert.equal(pull.code, 0, pull.stderr);
  });

  it("exit codes: 2 for bad usage (one line), 1 for a runtime failure with nothing changed", () => {
    const root = tmpRoot();
    const u = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--datastore", "mysql://root:pw@db:3306/k"]);
    assert.equal(u.code, 2);
    assert.equal(u.stderr, `k3vip: --datastore "mysql://root:****@db:3306/k" needs the address in k3s's MySQL form tcp(host:port), not "db:3306" (example: mysql://user:pass@tcp(db.example:3306)/kubernetes)\n`);
    const d = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--distro", "k8s"]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /^k3vip: --distro "k8s" is not one of: k3s, rke2\n$/);
    writeFileSync(join(root, "x"), "");
    const before = snapshotTree(root);
    const rt = k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--join", "--token-file", join(root, "missing")]);
    assert.equal(rt.code, 1);
    assert.match(rt.stderr, /^k3vip: --token-file .*missing does not exist; nothing was changed/);
    assert.deepEqual(snapshotTree(root), before);
    const doc = k3vip(["doctor", "--root", root]);
    assert.equal(doc.code, 2);
    assert.match(doc.stderr, /--vip is required/);
  });

  it("doctor --root --json over an install", () => {
    const root = tmpRoot();
    assert.equal(k3vip(["install", "--root", root, "--vip", "192.168.0.10", "--no-preflight"]).code, 0);
    const r = k3vip(["doctor", "--root", root, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
    assert.equal(out.ok, true);
    assert.equal(out.checks.find((c) => c.id === "interface")?.status, "skip");
  });

  it("kubeconfig: --out with the VIP from the install, and a failed /readyz exits 1 after writing", () => {
    const root = tmpRoot();
    assert.equal(k3vip(["install", "--root", root, "--vip", "2001:db8::10", "--no-preflight"]).code, 0);
    mkdirSync(join(root, "etc/rancher/k3s"), { recursive: true });
    writeFileSync(join(root, "etc/rancher/k3s/k3s.yaml"), "apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster: {server: 'https://127.0.0.1:6443'}\nusers:\n- name: default\n  user: {token: t}\ncontexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n");
    const out = join(root, "vip.yaml");
    const r = k3vip(["kubeconfig", "--root", root, "--out", out, "--no-check"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(out, "utf8"), /server: https:\/\/\[2001:db8::10\]:6443/);
    assert.match(r.stderr, /✓ wrote context k3vip-2001-db8--10/);
    const printed = k3vip(["kubeconfig", "--root", root, "--vip", "192.168.0.10", "--no-check"]);
    assert.match(printed.stdout, /name: k3vip-192-168-0-10/);
    const bad = k3vip(["kubeconfig", "--root", root, "--out", out, "--check-server", "https://127.0.0.1:1"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /✗ .*cannot connect \(ECONNREFUSED\)/);
  });

  it("on a terminal: ora spinners per step (run in a pty with script(1)); a pty without a size gets plain lines", () => {
    const root = tmpRoot();
    // CI=… makes ora non-interactive (is-interactive), as it should on a CI log: a user's terminal has no CI.
    const inPty = (cmd: string) => execFileSync("script", ["-qec", `unset CI; ${cmd}`, "/dev/null"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30000 });
    const sized = inPty(`stty cols 100 rows 40; K3VIP_CACHE=${cache} ${process.execPath} ${CLI} install --root ${root} --vip 192.168.0.10 --airgap --no-preflight`);
    const ESC = "\u001b";
    assert.ok(sized.includes(`${ESC}[?25l`), "hides the cursor while spinning");
    assert.ok(sized.includes(`\u2714${ESC}[39m find or build the ${ARCH} image archive`), "ora's succeed mark");
    assert.ok(sized.includes(`\u2714${ESC}[39m write 3 files for k3s`), "ora's succeed mark");
    // The archive is up to date: only the manifest and the drop-in change.
    const unsized = inPty(`K3VIP_CACHE=${cache} ${process.execPath} ${CLI} install --root ${root} --vip 192.168.0.11 --airgap --no-preflight`);
    assert.match(unsized, /^\u2713 write 2 files for k3s\r$/m);
  });
});
