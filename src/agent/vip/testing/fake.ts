// A stateful fake VipPort for unit tests: it keeps which VIPs are "on" which
// interface and throws on misuse (announcing a VIP that is not held, or two
// families mixed up), like MetalLB's fakes, instead of counting calls.
import type { Vip, VipPort } from "../port.ts";

export type VipOp = "add" | "remove" | "announce" | "held";

export class FakeVipPort implements VipPort {
  /** interface → addresses currently "on" it. */
  readonly addresses = new Map<string, Set<string>>();
  /** Every call in order, for assertions on sequences (remove before release …). */
  readonly log: { op: VipOp; vip: Vip }[] = [];
  announcements = 0;
  /** Make the next call of `op` fail with `error` (once). */
  private failures = new Map<VipOp, Error>();

  failNext(op: VipOp, error: Error = new Error(`fake ${op} failure`)): void {
    this.failures.set(op, error);
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
    if (vip.interface === "") throw new Error(`FakeVipPort.${op}: empty interface (the VIP's interface must be resolved first)`);
    const isV6 = vip.address.includes(":");
    if ((vip.family === 6) !== isV6) throw new Error(`FakeVipPort.${op}: ${vip.address} is not IPv${vip.family}`);
  }

  /** Runs `body` after the misuse checks, as a settled promise (never a synchronous throw). */
  private call<T>(op: VipOp, vip: Vip, body: () => T): Promise<T> {
    try {
      this.check(op, vip);
      return Promise.resolve(body());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  add(vip: Vip): Promise<void> {
    return this.call("add", vip, () => {
      let set = this.addresses.get(vip.interface);
      if (!set) this.addresses.set(vip.interface, (set = new Set()));
      set.add(vip.address);
    });
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
