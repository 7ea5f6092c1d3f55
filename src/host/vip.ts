// The real VipPort (the agent's port, src/agent/vip/port.ts): `ip` for the address, arping for IPv4 announcements and
// the kernel's own unsolicited Neighbor Advertisement for IPv6.
//
// Only k3vip's own copy: every address it adds carries k3vip's mark
// (src/host/addresses.ts: /32 noprefixroute + label <if>:k3vip, or /128
// noprefixroute deprecated), and held/add/remove look only at a marked copy.
// Any other copy of the VIP — the node's own address, or a /32 another
// program added — is never replaced or removed, and add() refuses beside it.
//
// Never the node's source address (kube-vip #682, #741):
// - IPv4: the VIP is a /32. A /32 shares no subnet with the node's own
//   address, so the kernel keeps the subnet route's preferred source (the
//   node's address) and, for routes without one, picks the first primary
//   address of the interface, which is the node's own (ours is appended after
//   it). The one case left, an interface with no other IPv4 address, is
//   reported by `warnings`.
// - IPv6: the VIP is a /128 with `preferred_lft 0` (deprecated): RFC 6724
//   rule 3 makes source selection avoid it, while it still accepts traffic
//   and answers Neighbor Solicitations. `noprefixroute` keeps the routing
//   table unchanged.
//
// IPv6 announcement (measured in the lab, see docs in index.ts): Debian has no
// ndsend and Node has no raw sockets. With `ndisc_notify=1` the kernel sends
// one unsolicited NA to ff02::1 when an address finishes DAD: 1.0–2.0 s after
// `ip addr add` with default DAD, never with `nodad`. With the interface's
// `accept_dad=0` the kernel skips DAD and sends that NA at once (5–8 ms). So
// add() sets ndisc_notify=1, turns accept_dad off only while adding the VIP,
// and restores it as soon as the VIP left the tentative state. DAD would also
// fail the takeover when the old holder still carries the VIP.
import type { Vip, VipPort } from "../agent/index.ts";
import { foreignVipProblem, isMarked, sameIp, sysctlKey, vipLabel, type IpAddrInfo } from "../net/index.ts";
import { arpBurst, detectArping, DEFAULT_BURST, type Arping, type Burst } from "./arping.ts";
import { CommandError, run } from "./exec.ts";
import { IpBatch, IpBatchError, type IpLineChannel } from "./ipbatch.ts";
import { listAddrs, type Runner } from "./ip.ts";
import { procSysctl, runnerSysctl, type SysctlAccess } from "./sysctl.ts";

/** ip's answer to deleting an address that is not there (older and newer kernels' wording). */
const NOT_THERE = /Cannot assign requested address|not found/i;

export interface VipPortOptions {
  /** Runs a command (default: child_process in this network namespace). */
  run?: Runner;
  /**
   * Sysctl access. Default: /proc/sys when `run` is the default; through
   * `run` otherwise, so a runner aimed at another namespace never touches
   * this one's sysctls.
   */
  sysctl?: SysctlAccess;
  /** arping command line: "auto" (default), "arping", "busybox arping", a path. */
  arping?: string;
  burst?: Burst;
  /** Milliseconds to wait for the IPv6 VIP to leave the tentative state. */
  tentativeWaitMs?: number;
  /** Notes worth a log line (degraded IPv6 announcement, VIP as only address). */
  warn?: (message: string) => void;
  /**
   * Where lifetime refreshes and IPv4 removals go. Default: one long-lived `ip -batch` when
   * `run` is the default; through `run` (a fork each) otherwise.
   */
  batch?: IpLineChannel;
}

export class VipError extends Error {
  override readonly name = "VipError";
}

export class IpVipPort implements VipPort {
  private readonly run: Runner;
  private readonly sysctl: SysctlAccess;
  private readonly burst: Burst;
  private readonly warn: (m: string) => void;
  private arping: Promise<Arping> | undefined;
  private readonly warned = new Set<string>();
  private readonly batch: IpLineChannel | undefined;

  constructor(private readonly opts: VipPortOptions = {}) {
    this.run = opts.run ?? ((argv) => run(argv, { timeoutMs: 10_000 }));
    this.sysctl = opts.sysctl ?? (opts.run ? runnerSysctl(opts.run) : procSysctl);
    this.burst = opts.burst ?? DEFAULT_BURST;
    this.warn = opts.warn ?? (() => undefined);
    this.batch = opts.batch ?? (opts.run ? undefined : new IpBatch());
  }

  /** Ends the `ip -batch` child. */
  async close(): Promise<void> {
    await this.batch?.close();
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** The VIP's entries on its interface: k3vip's marked copy, and any other (never touched). */
  private async entries(vip: Vip): Promise<{ ours?: IpAddrInfo; foreign?: IpAddrInfo; problem?: string }> {
    let links;
    try {
      links = await listAddrs(this.run, vip.interface);
    } catch (e) {
      if (e instanceof CommandError && /does not exist|Cannot find device/i.test(e.stderr)) {
        throw new VipError(`interface ${vip.interface} for VIP ${vip.address} does not exist; set --interface (K3VIP_INTERFACE) to one of the node's interfaces`, { cause: e });
      }
      throw e;
    }
    const found = links.find((l) => l.ifname === vip.interface)?.addr_info.filter((a) => sameIp(a.local, vip.address)) ?? [];
    const ours = found.find((a) => isMarked(a, vip.interface));
    const foreign = found.find((a) => !isMarked(a, vip.interface));
    const problem = foreign ? foreignVipProblem(links, vip.address) : undefined;
    return { ...(ours ? { ours } : {}), ...(foreign ? { foreign } : {}), ...(problem ? { problem } : {}) };
  }

  async held(vip: Vip): Promise<boolean> {
    const { ours } = await this.entries(vip);
    // A VIP whose DAD failed is on the interface but answers nothing.
    return ours !== undefined && ours.dadfailed !== true;
  }

  async add(vip: Vip, lifetimeS = 0): Promise<void> {
    const { ours, foreign, problem } = await this.entries(vip);
    // Another copy (the node's own address, or one another program added) is
    // never replaced or removed: adding ours beside it would answer for an
    // address someone else owns.
    if (foreign) throw new VipError(`cannot add the VIP: ${problem ?? `${vip.address} is on ${vip.interface} already, not added by k3vip`}`);
    if (ours && ours.dadfailed !== true) return;
    if (ours) await this.del(vip, ours.prefixlen);
    if (vip.family === 4) {
      await this.addV4(vip, lifetimeS);
    } else {
      await this.addV6(vip, lifetimeS);
    }
  }

  /**
   * `ip addr change` arguments that set the lifetime and keep k3vip's mark:
   * the kernel re-creates a copy that ran out (RTM_NEWADDR with REPLACE but
   * no CREATE still creates), and that copy must be marked too. IPv6 keeps
   * preferred_lft 0 (never a source address).
   */
  private changeArgs(vip: Vip, lifetimeS: number): string[] {
    checkLifetime(lifetimeS, 1);
    if (vip.family === 4) {
      const label = vipLabel(vip.interface);
      return ["address", "change", `${vip.address}/32`, "dev", vip.interface, "noprefixroute", ...(label ? ["label", label] : []), "valid_lft", String(lifetimeS), "preferred_lft", String(lifetimeS)];
    }
    return ["address", "change", `${vip.address}/128`, "dev", vip.interface, "noprefixroute", "valid_lft", String(lifetimeS), "preferred_lft", "0"];
  }

  async refresh(vip: Vip, lifetimeS: number): Promise<void> {
    const args = this.changeArgs(vip, lifetimeS);
    if (this.batch) await this.batch.exec(args.join(" "));
    else await this.run(["ip", ...args]);
  }

  private async addV4(vip: Vip, lifetimeS: number): Promise<void> {
    const label = vipLabel(vip.interface);
    checkLifetime(lifetimeS, 0);
    const life = lifetimeS > 0 ? ["valid_lft", String(lifetimeS), "preferred_lft", String(lifetimeS)] : [];
    await this.run(["ip", "-4", "addr", "add", `${vip.address}/32`, "dev", vip.interface, "noprefixroute", ...(label ? ["label", label] : []), ...life]);
    const link = (await listAddrs(this.run, vip.interface))[0];
    const others = link?.addr_info.filter((a) => a.family === "inet" && a.local !== vip.address && a.scope === "global") ?? [];
    if (others.length === 0) {
      this.warnOnce(
        `only-${vip.interface}`,
        `${vip.interface} has no IPv4 address besides the VIP ${vip.address}: the node's own traffic on it would use the VIP as source (kube-vip #682); give the interface its own address`,
      );
    }
  }

  private async addV6(vip: Vip, lifetimeS: number): Promise<void> {
    checkLifetime(lifetimeS, 0);
    const conf = `net/ipv6/conf/${vip.interface}`;
    // The kernel ORs conf.all.ndisc_notify with the device's (addrconf_dad_completed),
    // so either one set (e.g. by the installer's sysctl.d file) is enough.
    const notify =
      (await this.readSysctl("net/ipv6/conf/all/ndisc_notify")) === "1" ||
      (await this.ensureSysctl(`${conf}/ndisc_notify`, "1", `IPv6 VIP ${vip.address} will not be announced by an unsolicited NA (neighbours learn it only when their cache entry expires); set it on the host (k3vip install writes /etc/sysctl.d/90-k3vip.conf)`));
    let restoreDad: string | undefined;
    if (notify) {
      const [all, own] = await Promise.all([this.readSysctl("net/ipv6/conf/all/accept_dad"), this.readSysctl(`${conf}/accept_dad`)]);
      if (all !== undefined && Number(all) < 1 && own !== undefined && Number(own) >= 1) {
        if (await this.writeSysctl(`${conf}/accept_dad`, "0")) restoreDad = own;
        else this.warnOnce(`dad-${vip.interface}`, `cannot turn off DAD on ${vip.interface} while adding the VIP: its NA goes out after DAD, 1–2 s later`);
      }
    }
    try {
      await this.run(["ip", "-6", "addr", "add", `${vip.address}/128`, "dev", vip.interface, "valid_lft", lifetimeS > 0 ? String(lifetimeS) : "forever", "preferred_lft", "0", "noprefixroute"]);
      if (restoreDad !== undefined) await this.waitNotTentative(vip);
    } finally {
      if (restoreDad !== undefined) await this.writeSysctl(`${conf}/accept_dad`, restoreDad);
    }
  }

  /** The kernel decides DAD (and sends the NA) from a work item just after the add. */
  private async waitNotTentative(vip: Vip): Promise<void> {
    const deadline = Date.now() + (this.opts.tentativeWaitMs ?? 500);
    for (;;) {
      const { ours: a } = await this.entries(vip);
      if (!a || a.tentative !== true || Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async readSysctl(key: string): Promise<string | undefined> {
    try {
      return await this.sysctl.read(key);
    } catch {
      return undefined;
    }
  }

  private async writeSysctl(key: string, value: string): Promise<boolean> {
    try {
      await this.sysctl.write(key, value);
      return true;
    } catch {
      return false;
    }
  }

  /** Makes sure a sysctl has `value`; false (and one warning) when it cannot. */
  private async ensureSysctl(key: string, value: string, consequence: string): Promise<boolean> {
    if ((await this.readSysctl(key)) === value) return true;
    if (await this.writeSysctl(key, value)) return true;
    this.warnOnce(key, `cannot set ${sysctlKey(key)}=${value} (is /proc/sys read-only? the agent needs a privileged container): ${consequence}`);
    return false;
  }

  async remove(vip: Vip): Promise<void> {
    // IPv4 with k3vip's label: the kernel deletes only an entry that carries the label (never the
    // node's own address), so the delete goes straight down the running `ip -batch`, with no read
    // and no fork first. A frozen holder woken after a successor took over (rule 9) drops its copy
    // in milliseconds instead of two forks later (~0.1 s on a busy node).
    const label = vip.family === 4 ? vipLabel(vip.interface) : undefined;
    if (label && this.batch) {
      try {
        await this.batch.exec(`address del ${vip.address}/32 dev ${vip.interface} label ${label}`);
        return;
      } catch (e) {
        if (e instanceof IpBatchError && NOT_THERE.test(e.message)) return;
        // Anything else (the batch child died, the interface is gone): the careful path below says what.
      }
    }
    // Only k3vip's own copy: the node's address equal to the VIP stays.
    const { ours } = await this.entries(vip);
    if (!ours) return;
    await this.del(vip, ours.prefixlen);
  }

  private async del(vip: Vip, prefix: number): Promise<void> {
    try {
      // The label (IPv4) makes the kernel match only k3vip's entry, whatever else changed since the read.
      const label = vip.family === 4 ? vipLabel(vip.interface) : undefined;
      await this.run(["ip", vip.family === 4 ? "-4" : "-6", "addr", "del", `${vip.address}/${prefix}`, "dev", vip.interface, ...(label ? ["label", label] : [])]);
    } catch (e) {
      // Gone between our read and the delete: the goal is reached.
      if (e instanceof CommandError && NOT_THERE.test(e.stderr)) return;
      throw e;
    }
  }

  async announce(vip: Vip): Promise<void> {
    if (!(await this.held(vip))) {
      throw new VipError(`cannot announce VIP ${vip.address}: it is not on ${vip.interface}`);
    }
    if (vip.family === 4) {
      this.arping ??= detectArping(this.run, this.opts.arping);
      // A failed detection is remembered: the error names the fix.
      await arpBurst(this.run, await this.arping, vip.interface, vip.address, this.burst, () => this.held(vip).catch(() => false));
      return;
    }
    // IPv6: the kernel sent the unsolicited NA when add() put the address on
    // (see above). Repeating it needs a raw socket, which neither Node nor the
    // image's tools offer, so a refresh only re-checks that the VIP is usable.
    this.warnOnce(
      `v6-refresh-${vip.interface}`,
      `IPv6 VIP ${vip.address}: the unsolicited NA is sent once by the kernel when the VIP is added; periodic refreshes are not sent (no raw sockets)`,
    );
  }
}

/** Lifetimes are whole seconds; the kernel refuses valid_lft 0 (0 here means forever, for add only). */
function checkLifetime(s: number, min: number): void {
  if (!Number.isInteger(s) || s < min) throw new VipError(`VIP lifetime ${s} s: must be whole seconds ≥ ${min}`);
}

export function createVipPort(opts: VipPortOptions = {}): IpVipPort {
  return new IpVipPort(opts);
}
