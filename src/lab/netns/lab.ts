// A throwaway L2 segment made of network namespaces: a bridge namespace
// (br0), N server namespaces and a client namespace, each wired to the bridge
// by a veth pair. Every name carries the run's id, so parallel runs and other
// engineers' tests never collide, and the host's own interfaces, routes and
// sysctls are never touched: every command runs with `ip -n <ns>` or inside
// `ip netns exec <ns>`.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { run, type CommandResult, type RunOptions } from "../../host/index.ts";
import { LabProcess, type SpawnOptions } from "./process.ts";

/** Addresses of the lab segment (RFC 2544 benchmarking range and a ULA). */
export const LAB_NET4 = "198.18.0";
export const LAB_NET6 = "fd00:6b33:";
export const LAB_VIP4 = "198.18.0.10";
export const LAB_VIP6 = "fd00:6b33::10";
export const LAB_CLIENT4 = "198.18.0.100";
export const LAB_CLIENT6 = "fd00:6b33::100";
/** Interface name inside server and client namespaces. */
export const LAB_IF = "eth0";

export interface LabNode {
  /** Short name: srv1, srv2, …, or client. */
  name: string;
  /** Namespace name (unique per run). */
  ns: string;
  ipv4: string;
  ipv6: string;
  /** Interface name inside the namespace. */
  ifname: string;
  /** Veth end in the bridge namespace (the "switch port"). */
  port: string;
}

/** tc netem parameters for Lab.netem. */
export interface NetemSpec {
  lossPct: number;
  delayMs: number;
  jitterMs: number;
}

export interface LabOptions {
  /** Number of server namespaces (1–9). Default 3. */
  servers?: number;
  /** Prefix of namespace names. Default "k3vl". */
  prefix?: string;
}

/** Thrown when the machine cannot run the lab (not root, no `ip netns`). */
export class LabUnavailableError extends Error {
  override readonly name = "LabUnavailableError";
}

const live = new Set<Lab>();
let handlersInstalled = false;

/** Refuses clearly when the lab cannot run here. */
export async function assertLabSupported(): Promise<void> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new LabUnavailableError("the network-namespace lab needs root (it creates namespaces, veth pairs and a bridge): run it with sudo");
  }
  try {
    await run(["ip", "netns", "list"], { timeoutMs: 5000 });
  } catch (e) {
    throw new LabUnavailableError(`the lab needs iproute2 with network namespaces (\`ip netns list\` failed: ${(e as Error).message}); install iproute2 and run as root`, {
      cause: e,
    });
  }
}

export class Lab {
  readonly servers: LabNode[] = [];
  readonly client: LabNode;
  readonly bridgeNs: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private destroyed = false;

  private constructor(readonly id: string, servers: number) {
    this.bridgeNs = `${id}-br`;
    for (let i = 1; i <= servers; i++) {
      const name = `srv${i}`;
      this.servers.push({ name, ns: `${id}-${name}`, ipv4: `${LAB_NET4}.${10 + i}`, ipv6: `${LAB_NET6}:${10 + i}`, ifname: LAB_IF, port: name });
    }
    this.client = { name: "client", ns: `${id}-cli`, ipv4: LAB_CLIENT4, ipv6: LAB_CLIENT6, ifname: LAB_IF, port: "client" };
  }

  /** Builds the lab; on any failure removes whatever was already made. */
  static async create(opts: LabOptions = {}): Promise<Lab> {
    await assertLabSupported();
    const servers = opts.servers ?? 3;
    if (!Number.isInteger(servers) || servers < 1 || servers > 9) throw new RangeError(`servers must be 1..9, got ${servers}`);
    const id = `${opts.prefix ?? "k3vl"}-${process.pid}-${randomBytes(2).toString("hex")}`;
    const lab = new Lab(id, servers);
    live.add(lab);
    installExitHandlers();
    try {
      await lab.build();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  get nodes(): LabNode[] {
    return [...this.servers, this.client];
  }

  server(name: string): LabNode {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`no lab server ${name} (have ${this.servers.map((x) => x.name).join(", ")})`);
    return s;
  }

  private async addNs(ns: string): Promise<void> {
    // Record before creating so a half-made namespace is still removed.
    this.namespaces.push(ns);
    await run(["ip", "netns", "add", ns]);
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }

  private async build(): Promise<void> {
    const br = this.bridgeNs;
    await this.addNs(br);
    await run(["ip", "-n", br, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
    await run(["ip", "-n", br, "link", "set", "br0", "up"]);
    for (const node of this.nodes) {
      await this.addNs(node.ns);
      // Create the pair inside the bridge namespace with its peer placed
      // straight into the node's namespace: the host namespace never sees it.
      await run(["ip", "-n", br, "link", "add", node.port, "type", "veth", "peer", "name", node.ifname, "netns", node.ns]);
      await run(["ip", "-n", br, "link", "set", node.port, "master", "br0", "up"]);
      await run(["ip", "-n", node.ns, "addr", "add", `${node.ipv4}/24`, "dev", node.ifname]);
      // nodad: the lab's own addresses are usable at once (DAD would hold them tentative ~1 s).
      await run(["ip", "-n", node.ns, "addr", "add", `${node.ipv6}/64`, "dev", node.ifname, "nodad"]);
      await run(["ip", "-n", node.ns, "link", "set", node.ifname, "up"]);
    }
    // The client learns the VIP's new MAC from gratuitous ARP even without a prior entry.
    await this.sysctl(this.client.ns, "net.ipv4.conf.all.arp_accept", "1");
    await this.sysctl(this.client.ns, `net.ipv4.conf.${this.client.ifname}.arp_accept`, "1");
  }

  /** Sets a sysctl inside a lab namespace (never on the host). */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    this.assertOwn(ns);
    await run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", `${key}=${value}`]);
  }

  async readSysctl(ns: string, key: string): Promise<string> {
    this.assertOwn(ns);
    const r = await run(["ip", "netns", "exec", ns, "sysctl", "-n", key]);
    return r.stdout.trim();
  }

  /** Runs a command inside a lab namespace and waits for it. */
  exec(ns: string, argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.assertOwn(ns);
    return run(["ip", "netns", "exec", ns, ...argv], opts);
  }

  /** Starts a long-running process inside a lab namespace; it is killed on destroy(). */
  spawn(ns: string, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
    this.assertOwn(ns);
    if (this.destroyed) throw new Error(`lab ${this.id} is already torn down`);
    const p = new LabProcess(["ip", "netns", "exec", ns, ...argv], opts);
    this.processes.add(p);
    void p.exited.then(() => this.processes.delete(p));
    return p;
  }

  /**
   * tcpdump inside a lab namespace, resolved once it says it is listening
   * (no fixed sleep: the capture is up when the first packet may come).
   * Each captured packet's line goes to `onPacket`.
   */
  async tcpdump(ns: string, iface: string, filter: string, onPacket: (line: string) => void, timeoutMs = 10_000): Promise<LabProcess> {
    let ready = (): void => undefined;
    const listening = new Promise<void>((r) => (ready = r));
    const p = this.spawn(ns, ["tcpdump", "-l", "-n", "-tt", "-i", iface, filter], {
      onLine: (line, stream) => {
        if (stream === "stderr" && /listening on/.test(line)) ready();
        else if (stream === "stdout") onPacket(line);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        listening,
        p.exited.then(() => {
          throw new Error(`tcpdump in ${ns} exited before listening: ${p.output()}`);
        }),
        new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error(`tcpdump in ${ns} not listening after ${timeoutMs} ms: ${p.output()}`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return p;
  }

  /** Pulls the server's cable: its switch port goes down, so the server sees no carrier. */
  async linkDown(node: LabNode): Promise<void> {
    await run(["ip", "-n", this.bridgeNs, "link", "set", node.port, "down"]);
  }

  async linkUp(node: LabNode): Promise<void> {
    await run(["ip", "-n", this.bridgeNs, "link", "set", node.port, "up"]);
  }

  /**
   * A bad cable: `tc netem` loss and delay (± jitter, so packets also
   * reorder) on both ends of the server's veth — its eth0 for what it sends,
   * its switch port for what it receives. null removes both.
   */
  async netem(node: LabNode, spec: NetemSpec | null): Promise<void> {
    const ends = [
      { ns: node.ns, dev: node.ifname },
      { ns: this.bridgeNs, dev: node.port },
    ];
    for (const { ns, dev } of ends) {
      if (spec === null) {
        // Deleting a root qdisc that is not there fails: nothing to undo.
        await run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"]).catch(() => undefined);
        continue;
      }
      await run([
        "ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", "netem",
        "loss", `${spec.lossPct}%`, "delay", `${spec.delayMs}ms`, `${spec.jitterMs}ms`,
      ]);
    }
  }

  /**
   * Whether this kernel has the netem qdisc (some VM kernels are built
   * without CONFIG_NET_SCH_NETEM): tried on the bridge namespace's loopback.
   */
  async netemAvailable(): Promise<boolean> {
    const ns = this.bridgeNs;
    try {
      await run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]);
    } catch {
      return false;
    }
    await run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root"]).catch(() => undefined);
    return true;
  }

  /**
   * Random loss without netem: iptables' statistic match drops `lossPct`% of
   * the packets the server receives and sends on its eth0 (not its loopback,
   * where its agent talks to its API server). ARP is not IP, so it passes.
   */
  async randomLoss(node: LabNode, lossPct: number, on: boolean): Promise<void> {
    const p = String(lossPct / 100);
    for (const [chain, dir] of [
      ["INPUT", "-i"],
      ["OUTPUT", "-o"],
    ] as const) {
      await run(["ip", "netns", "exec", node.ns, "iptables", "-w", "5", on ? "-A" : "-D", chain, dir, node.ifname, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"]);
    }
  }

  /**
   * Drops UDP to `port` arriving at (`in`) or leaving (`out`) the server,
   * with iptables inside its namespace only; `on: false` deletes the rule.
   */
  async dropUdp(node: LabNode, port: number, direction: "in" | "out", on: boolean): Promise<void> {
    const chain = direction === "in" ? "INPUT" : "OUTPUT";
    // -w: the xtables lock file is shared by every namespace on the machine.
    await run(["ip", "netns", "exec", node.ns, "iptables", "-w", "5", on ? "-A" : "-D", chain, "-p", "udp", "--dport", String(port), "-j", "DROP"]);
  }

  /** Namespaces this lab made (for tests and diagnostics). */
  get namespaceNames(): readonly string[] {
    return [...this.namespaces];
  }

  private assertOwn(ns: string): void {
    if (!this.namespaces.includes(ns)) throw new Error(`namespace ${ns} is not part of lab ${this.id}`);
  }

  /** Kills every process started in the lab and removes its namespaces. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed && this.namespaces.length === 0) return;
    this.destroyed = true;
    await Promise.all([...this.processes].map((p) => p.stop(500)));
    for (const ns of [...this.namespaces].reverse()) {
      await killNamespacePids(ns);
      await run(["ip", "netns", "del", ns]).catch(() => undefined);
    }
    this.namespaces.length = 0;
    live.delete(this);
  }

  /** Synchronous last-resort cleanup for process 'exit' and signals. */
  destroySync(): void {
    this.destroyed = true;
    for (const p of this.processes) p.killSync();
    for (const ns of [...this.namespaces].reverse()) {
      try {
        const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            /* already gone */
          }
        }
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        /* best effort at exit */
      }
    }
    this.namespaces.length = 0;
    live.delete(this);
  }
}

/** Any process still in the namespace (started by hand, or escaped its group) dies with it. */
async function killNamespacePids(ns: string): Promise<void> {
  let pids: string[] = [];
  try {
    pids = (await run(["ip", "netns", "pids", ns])).stdout.split(/\s+/).filter(Boolean);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const lab of [...live]) lab.destroySync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      for (const lab of [...live]) lab.destroySync();
      process.stderr.write(`lab: ${sig}: namespaces and processes removed\n`);
      process.exit(sig === "SIGINT" ? 130 : sig === "SIGTERM" ? 143 : 129);
    });
  }
}

/** Runs `fn` with a fresh lab and always tears it down. */
export async function withLab<T>(fn: (lab: Lab) => Promise<T>, opts: LabOptions = {}): Promise<T> {
  const lab = await Lab.create(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

/** Lab namespaces currently present whose names start with `prefix` (for leak checks). */
export async function listLabNamespaces(prefix: string): Promise<string[]> {
  const r = await run(["ip", "-j", "netns", "list"]);
  const parsed = r.stdout.trim() === "" ? [] : (JSON.parse(r.stdout) as { name: string }[]);
  return parsed.map((x) => x.name).filter((n) => n.startsWith(prefix));
}
