// A stateful fake VipPort for unit tests: it keeps which VIPs are "on" which
// interface and throws on misuse (announcing a VIP that is not held, or two
// families mixed up), like MetalLB's fakes, instead of counting calls.
import type { Vip, VipPort } from "../port.ts";

export type VipOp = "add" | "remove" | "announce" | "held" | "refresh";

export class FakeVipPort implements VipPort {
  /** interface → addresses currently "on" it. */
  readonly addresses = new Map<string, Set<string>>();
  /** Every call in order, for assertions on sequences (remove before release …). */
  readonly log: { op: VipOp; vip: Vip }[] = [];
  announcements = 0;
  /** address → the lifetime (s) last set by add or refresh; 0 = forever. */
  readonly lifetimes = new Map<string, number>();
  /** Make the next call of `op` fail with `error` (once). */
  private failures = new Map<VipOp, Error>();
  /** Calls of these ops fail until cleared (a node where `ip` keeps failing). */
  readonly failing = new Set<VipOp>();
  /** Calls of these ops wait until the test lets them go (a slow `ip`). */
  private readonly held_ = new Map<VipOp, Promise<void>>();

  failNext(op: VipOp, error: Error = new Error(`fake ${op} failure`)): void {
    this.failures.set(op, error);
  }

  /** Every `op` from now on waits (still not applied) until the returned function is called. */
  slow(op: VipOp): () => void {
    let go = (): void => undefined;
    this.held_.set(op, new Promise<void>((r) => (go = r)));
    return () => {
      this.held_.delete(op);
      go();
    };
  }

  isHeld(vip: Vip): boolean {
    return this.addresses.get(vip.interface)?.has(vip.address) ?? false;
  }

  private check(op: VipOp, vip: Vip): void {
    this.log.push({ op, vip });
    const f = this.failures.get(op);
    if (f) {
      this.failures.delete(op);
      throw f;
    }
    if (this.failing.has(op)) throw new Error(`fake ${op} failure (RTNETLINK answers: Operation not permitted)`);
    if (vip.interface === "") throw new Error(`FakeVipPort.${op}: empty interface (the VIP's interface must be resolved first)`);
    const isV6 = vip.address.includes(":");
    if ((vip.family === 6) !== isV6) throw new Error(`FakeVipPort.${op}: ${vip.address} is not IPv${vip.family}`);
  }

  /** Runs `body` after the misuse checks, as a settled promise (never a synchronous throw); a slow op waits first. */
  private call<T>(op: VipOp, vip: Vip, body: () => T): Promise<T> {
    const wait = this.held_.get(op);
    if (wait) return wait.then(() => this.call(op, vip, body));
    try {
      this.check(op, vip);
      return Promise.resolve(body());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  add(vip: Vip, lifetimeS = 0): Promise<void> {
    return this.call("add", vip, () => this.put(vip, lifetimeS));
  }

  private put(vip: Vip, lifetimeS: number): void {
    if (!Number.isInteger(lifetimeS) || lifetimeS < 0) throw new Error(`FakeVipPort: lifetime ${lifetimeS} is not whole seconds ≥ 0`);
    let set = this.addresses.get(vip.interface);
    if (!set) this.addresses.set(vip.interface, (set = new Set()));
    set.add(vip.address);
    this.lifetimes.set(vip.address, lifetimeS);
  }

  /** Like `ip addr change`: a missing address is created again. */
  refresh(vip: Vip, lifetimeS: number): Promise<void> {
    return this.call("refresh", vip, () => {
      if (lifetimeS < 1) throw new Error(`FakeVipPort.refresh: lifetime ${lifetimeS} (the kernel refuses valid_lft 0)`);
      this.put(vip, lifetimeS);
    });
  }

  /** The kernel let the address run out. */
  expire(vip: Vip): void {
    this.addresses.get(vip.interface)?.delete(vip.address);
  }

  remove(vip: Vip): Promise<void> {
    return this.call("remove", vip, () => {
      this.addresses.get(vip.interface)?.delete(vip.address);
    });
  }

  announce(vip: Vip): Promise<void> {
    return this.call("announce", vip, () => {
      if (!this.isHeld(vip)) throw new Error(`FakeVipPort.announce: ${vip.address} is not on ${vip.interface} (announcing an address the node does not carry would steal it)`);
      this.announcements++;
    });
  }

  held(vip: Vip): Promise<boolean> {
    return this.call("held", vip, () => this.isHeld(vip));
  }
}
