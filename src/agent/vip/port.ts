/** The VIP as the node carries it: always a /32 (IPv4) or /128 (IPv6). */
export interface Vip {
  address: string;
  family: 4 | 6;
  /** Interface that carries it (already resolved: never empty here). */
  interface: string;
}

/**
 * Side effects on the node's network for one VIP. Every method is idempotent.
 * Real adapter: `ip` + arping (+ kernel unsolicited NA for IPv6); a fake for
 * unit tests.
 */
export interface VipPort {
  /**
   * Add the VIP as a secondary address that never becomes the node's source
   * address, with a kernel lifetime of `lifetimeS` whole seconds (0 or
   * absent: forever).
   */
  add(vip: Vip, lifetimeS?: number): Promise<void>;
  /**
   * Set the VIP's kernel lifetime to `lifetimeS` (≥ 1) seconds from now.
   * Settles only once the kernel applied it or can no longer apply it (the
   * election removes the VIP only after). Like `ip addr change`, it may
   * re-create a copy that just ran out.
   */
  refresh(vip: Vip, lifetimeS: number): Promise<void>;
  /** Remove the VIP (no error when absent). */
  remove(vip: Vip): Promise<void>;
  /** Tell the segment the VIP is here: gratuitous ARP burst (IPv4) / unsolicited NA (IPv6). */
  announce(vip: Vip): Promise<void>;
  /** Whether the VIP is currently on the interface. */
  held(vip: Vip): Promise<boolean>;
}
