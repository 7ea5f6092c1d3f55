// The netns lab itself: it builds a working L2 segment, and whatever happens
// (a failing test body, a failing build, a signal, an uncaught error) it
// leaves no namespace and no process behind.
import assert from "node:assert/strict";
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Lab, listLabNamespaces, withLab } from "../../src/lab/netns/index.ts";

const repo = new URL("../..", import.meta.url).pathname;

/** Whether `pid` is a live (not zombie) process, after giving a dying one a moment. */
async function alive(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  for (let i = 0; i < 40; i++) {
    let stat = "";
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return false;
    }
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe("lab harness", () => {
  const tmp = mkdtempSync(join(tmpdir(), "k3vl-test-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("builds a bridge, three servers and a client that reach each other over IPv4 and IPv6", async () => {
    await withLab(async (lab) => {
      assert.equal(lab.servers.length, 3);
      assert.deepEqual(
        lab.servers.map((s) => [s.ipv4, s.ipv6]),
        [
          ["198.18.0.11", "fd00:6b33::11"],
          ["198.18.0.12", "fd00:6b33::12"],
          ["198.18.0.13", "fd00:6b33::13"],
        ],
      );
      for (const s of lab.servers) {
        await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "2", s.ipv4]);
        await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "2", s.ipv6]);
      }
      assert.equal(await lab.readSysctl(lab.client.ns, "net.ipv4.conf.all.arp_accept"), "1");
      // Namespaces are isolated from the host: the server sees only lo and eth0.
      const links = JSON.parse((await lab.exec(lab.servers[0]!.ns, ["ip", "-j", "link", "show"])).stdout) as { ifname: string }[];
      assert.deepEqual(links.map((l) => l.ifname).sort(), ["eth0", "lo"]);
    });
  });

  it("link-down cuts a server off and link-up restores it", async () => {
    await withLab(
      async (lab) => {
        const s = lab.servers[0]!;
        await lab.linkDown(s);
        await assert.rejects(lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "1", s.ipv4]));
        await lab.linkUp(s);
        // The carrier comes back at once, the neighbour entry may need a retry.
        let ok = false;
        for (let i = 0; i < 5 && !ok; i++) {
          ok = await lab.exec(lab.client.ns, ["busybox", "ping", "-c", "1", "-W", "1", s.ipv4]).then(
            () => true,
            () => false,
          );
        }
        assert.ok(ok, "server reachable again after link-up");
      },
      { servers: 1 },
    );
  });

  it("removes namespaces and kills processes when the test body throws", async () => {
    let names: readonly string[] = [];
    let pid: number | undefined;
    await assert.rejects(
      withLab(
        async (lab) => {
          names = lab.namespaceNames;
          const p = lab.spawn(lab.servers[0]!.ns, ["sleep", "300"]);
          pid = p.pid;
          // A stray process started outside our bookkeeping dies with its namespace too.
          await lab.exec(lab.servers[0]!.ns, ["sh", "-c", "setsid sleep 301 >/dev/null 2>&1 &"]);
          throw new Error("boom");
        },
        { servers: 1 },
      ),
      /boom/,
    );
    assert.ok(names.length > 0);
    const prefix = names[0]!.replace(/-br$/, "");
    assert.deepEqual(await listLabNamespaces(prefix), []);
    assert.equal(await alive(pid), false, "spawned process is gone");
    const strays = spawnSync("pgrep", ["-f", "sleep 301"], { encoding: "utf8" }).stdout.trim();
    assert.equal(strays, "", "no stray process left");
  });

  it("removes what it built when building fails half-way", async () => {
    // A prefix sized so the bridge namespace's name just fits in NAME_MAX
    // and the first server's does not: the build fails after one namespace.
    const fixed = `-${process.pid}-xxxx-br`.length;
    const prefix = `k3vlfail${"x".repeat(255 - fixed - 8)}`;
    await assert.rejects(Lab.create({ prefix, servers: 1 }));
    assert.deepEqual(await listLabNamespaces(prefix), []);
  });

  for (const [how, code] of [
    ["SIGINT", "setTimeout(() => process.kill(process.pid, 'SIGINT'), 50);"],
    ["SIGTERM", "setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);"],
    ["an uncaught error", "setTimeout(() => { throw new Error('uncaught in lab user'); }, 50);"],
  ] as const) {
    it(`cleans up when its process ends by ${how}`, async () => {
      const prefix = `k3vlsig${Math.floor(Math.random() * 1e6)}`;
      const script = join(tmp, `lab-${prefix}.mts`);
      writeFileSync(
        script,
        `import { Lab } from ${JSON.stringify(join(repo, "src/lab/netns/index.ts"))};
const lab = await Lab.create({ prefix: ${JSON.stringify(prefix)}, servers: 1 });
const p = lab.spawn(lab.servers[0].ns, ["sleep", "300"]);
console.log("PID", p.pid);
${code}
setInterval(() => {}, 1000);
`,
      );
      const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: repo, encoding: "utf8", timeout: 30_000 });
      const pid = Number(/PID (\d+)/.exec(r.stdout)?.[1]);
      assert.ok(pid > 0, `child printed its process: ${r.stdout} ${r.stderr}`);
      assert.notEqual(r.status, 0);
      assert.deepEqual(await listLabNamespaces(prefix), []);
      assert.equal(await alive(pid), false);
    });
  }

  it("refuses clearly when not root or when `ip` is missing", async () => {
    const script = join(tmp, "guard.mts");
    writeFileSync(
      script,
      `import { Lab } from ${JSON.stringify(join(repo, "src/lab/netns/index.ts"))};
try { await Lab.create(); } catch (e) { console.log(e.name + ": " + e.message); process.exit(3); }
`,
      { mode: 0o644 },
    );
    // Bundled into one file in a world-readable dir, so uid 65534 can run it
    // wherever the checkout is (it used to skip under /root).
    const bundle = join(tmp, "guard.mjs");
    await build({ entryPoints: [script], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "silent" });
    chmodSync(tmp, 0o755);
    chmodSync(bundle, 0o644);
    const nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    const asNobody = spawnSync("setpriv", [...nobody, process.execPath, bundle], { cwd: "/", encoding: "utf8", timeout: 30_000 });
    assert.equal(asNobody.status, 3, asNobody.stderr);
    assert.match(asNobody.stdout, /^LabUnavailableError: the network-namespace lab needs root .*run it with sudo/);
    const noIp = spawnSync(process.execPath, [bundle], { encoding: "utf8", timeout: 30_000, env: { ...process.env, PATH: "/nonexistent" } });
    assert.equal(noIp.status, 3, noIp.stderr);
    assert.match(noIp.stdout, /^LabUnavailableError: the lab needs iproute2 with network namespaces .*spawn ip ENOENT/);
  });
});
