// The kernel-enforced fence on a real kernel: the VIP's lifetime set by
// `ip addr add … valid_lft N` and extended through one long-lived
// `ip -force -batch -` (src/host/ipbatch.ts), in a lab namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toVip } from "../../src/agent/index.ts";
import { createVipPort, IpBatch, type IpVipPort, type Runner } from "../../src/host/index.ts";
import { isMarked, type IpAddrInfo } from "../../src/net/index.ts";
import { Lab, LAB_VIP4, LAB_VIP6, type LabNode } from "../../src/lab/netns/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("kernel lifetime fence (ip addr change through ip -batch)", () => {
  let lab: Lab;
  let srv: LabNode;
  let run: Runner;
  let batch: IpBatch;
  let port: IpVipPort;
  const v4 = () => toVip(LAB_VIP4, "eth0");
  const v6 = () => toVip(LAB_VIP6, "eth0");

  before(async () => {
    lab = await Lab.create({ servers: 1 });
    srv = lab.servers[0]!;
    run = (argv) => lab.exec(srv.ns, argv, { timeoutMs: 10_000 });
    batch = new IpBatch({ argv: ["ip", "-n", srv.ns, "-force", "-batch", "-"] });
    port = createVipPort({ run, batch });
  });
  after(async () => {
    await batch?.close();
    await lab?.destroy();
  });

  async function entry(address: string): Promise<IpAddrInfo | undefined> {
    const [link] = JSON.parse((await run(["ip", "-j", "addr", "show", "dev", "eth0"])).stdout) as { addr_info: IpAddrInfo[] }[];
    return link?.addr_info.find((a) => a.local === address);
  }

  it("add sets the lifetime; a refresh through the batch has been applied when it resolves", async () => {
    await port.add(v4(), 1);
    let e = await entry(LAB_VIP4);
    assert.ok(e && isMarked(e, "eth0"), "k3vip's mark");
    assert.ok((e.valid_life_time ?? 0) <= 1);
    await port.refresh(v4(), 3);
    e = await entry(LAB_VIP4);
    assert.equal(e?.valid_life_time, 3, "applied before refresh() resolved");
    assert.equal(e?.preferred_life_time, 3);
    assert.ok(e && isMarked(e, "eth0"));
    await port.remove(v4());
  });

  it("an IPv4 removal through the batch deletes only k3vip's labelled copy: the node's own address equal to the VIP stays (the kernel matches the label)", async () => {
    await port.add(v4(), 1);
    await port.remove(v4());
    assert.equal(await entry(LAB_VIP4), undefined);
    await port.remove(v4()); // already gone: no error
    await run(["ip", "addr", "add", `${LAB_VIP4}/32`, "dev", "eth0"]); // as the node's own address, unlabelled
    try {
      await port.remove(v4());
      assert.ok(await entry(LAB_VIP4), "the node's own address is still there");
    } finally {
      await run(["ip", "addr", "del", `${LAB_VIP4}/32`, "dev", "eth0"]);
    }
  });

  it("a copy left alone is deleted by the kernel when its lifetime runs out (no process involved)", async () => {
    await port.add(v4(), 1);
    await port.refresh(v4(), 1);
    const t0 = Date.now();
    while ((await entry(LAB_VIP4)) && Date.now() - t0 < 5000) await sleep(10);
    const gone = Date.now() - t0;
    assert.equal(await entry(LAB_VIP4), undefined, "deleted by the kernel");
    assert.ok(gone >= 900, `not before its lifetime (${gone} ms)`);
    console.log(`# valid_lft 1: deleted ${gone} ms after the last refresh (sampled every ~10 ms)`);
  });

  it("`ip addr change` re-creates a copy that ran out, marked (why a removal waits for the refresh in flight)", async () => {
    assert.equal(await entry(LAB_VIP4), undefined);
    await port.refresh(v4(), 2);
    const e = await entry(LAB_VIP4);
    assert.ok(e && isMarked(e, "eth0"), "re-created with k3vip's mark");
    await port.remove(v4());
    assert.equal(await entry(LAB_VIP4), undefined);
  });

  it("IPv6: the lifetime is valid_lft only; preferred_lft stays 0 (never a source address)", async () => {
    await port.add(v6(), 2);
    await port.refresh(v6(), 2);
    const e = await entry(LAB_VIP6);
    assert.ok(e && isMarked(e, "eth0"));
    assert.equal(e.preferred_life_time, 0);
    assert.ok((e.valid_life_time ?? 0) <= 2 && (e.valid_life_time ?? 0) >= 1);
    await port.remove(v6());
  });

  it("an error is the command's own, and the batch keeps working after it", async () => {
    await assert.rejects(port.refresh(toVip(LAB_VIP4, "nosuchdev"), 1), /nosuchdev/);
    await port.add(v4(), 1);
    await port.refresh(v4(), 2);
    assert.equal((await entry(LAB_VIP4))?.valid_life_time, 2);
    await port.remove(v4());
  });

  it("a batch that does not answer is killed, and its command rejected only once it can no longer land", async () => {
    // `sleep` reads nothing and prints nothing: like an `ip` stuck in the kernel.
    const stuck = new IpBatch({ argv: ["sleep", "30"], timeoutMs: 300 });
    const t0 = Date.now();
    const p = stuck.exec("address change 192.0.2.1/32 dev eth0 valid_lft 1 preferred_lft 1");
    const pid = stuck.pid;
    assert.ok(pid);
    await assert.rejects(p, /did not answer within 300 ms/);
    assert.ok(Date.now() - t0 >= 300);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, "the child is gone");
    await stuck.close();
  });

  it("a batch whose child died is started again for the next command", async () => {
    const pid = batch.pid;
    assert.ok(pid);
    process.kill(pid, "SIGKILL");
    await sleep(100);
    await port.add(v4(), 1);
    await port.refresh(v4(), 2);
    assert.notEqual(batch.pid, pid);
    assert.equal((await entry(LAB_VIP4))?.valid_life_time, 2);
    await port.remove(v4());
  });
});
