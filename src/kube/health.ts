// Is this node's own API server serving?
//
// Endpoint: `/livez?exclude=etcd`, not `/readyz`. /readyz includes the etcd
// (and etcd-readiness) checks, which fail on *every* server at once during a
// datastore brown-out (slow SD card, etcd leader election, kine on a busy
// MySQL). Gating the VIP on it would make a brown-out look like "my API
// server is down" everywhere, and the holder would drop the VIP exactly when
// the cluster needs it to stay put. /livez answers while the process serves
// HTTP; its own etcd check (present in many versions) is excluded for the same
// reason. Whether the datastore is healthy shows up in the Lease writes,
// which the election already handles (a holder keeps the VIP through failed
// renews; nobody else can take it while the Lease cannot be written).
//
// TLS: verified against the ServiceAccount CA when it exists (k3s and RKE2
// serving certificates carry 127.0.0.1), so we know we reached an API server
// and not whatever else bound the port. Without a CA the probe goes to
// loopback without verification: nothing on the wire to trust or protect.
//
// Auth: k3s disables anonymous auth, so /livez needs a token: the
// ServiceAccount token, re-read on every probe (the kubelet rotates it).
// 401/403 still mean "the API server is serving" (it ran authentication to
// answer): a rotated or rejected token is a configuration problem shared by
// all servers and must not move the VIP.
//
// Connection: one kept-alive TLS connection, reused by every probe (no
// handshake per probe, which counts on a Pi), and watched between probes.
// When the API server process dies its kernel closes that connection at
// once, so `watch` tells the election to probe now, and the fresh
// connection is refused: a crash is seen in milliseconds, not at the next
// interval. A probe that fails on the reused connection is retried once on a
// new one before it counts (the server may have closed it as idle just then).
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import type { Socket } from "node:net";
import { connect } from "node:net";
import type { HealthProbe, HealthResult } from "../agent/index.ts";
import { RKE2_SUPERVISOR_PORT, type Config } from "../config/index.ts";
import { SA_DIR } from "./config.ts";


export interface HealthProbeOptions {
  /** Full URL to probe. Default: https://127.0.0.1:<apiPort>/livez?exclude=etcd. */
  url?: string;
  /** Bearer token. Default: the ServiceAccount token file, when present. */
  token?: string;
  tokenFile?: string;
  /** PEM CA to verify the serving certificate. Default: the ServiceAccount CA, when present. */
  ca?: string;
  caFile?: string;
  /** Skip certificate verification (loopback only makes sense). */
  insecure?: boolean;
  /** Milliseconds before a probe counts as timed out. Default 2000. */
  timeoutMs?: number;
  /** Also require a TCP connect to this port on 127.0.0.1. Default: 9345 for RKE2, none for k3s; false = none. */
  supervisorPort?: number | false;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Turns a Node socket/TLS error into one short phrase. */
export function classifyError(e: unknown, timeoutMs: number): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ETIMEDOUT":
    case "ABORT_TIMEOUT":
      return `timeout after ${timeoutMs} ms`;
    case "ECONNRESET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable";
    default:
      if (typeof code === "string" && /^(ERR_TLS|ERR_SSL|UNABLE_TO_|CERT_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)|CERT/.test(code)) return `TLS error: ${code}`;
      return `error: ${(e as Error | undefined)?.message ?? String(e)}`;
  }
}

class TimeoutError extends Error {
  readonly code = "ABORT_TIMEOUT";
}

export class ApiServerHealthProbe implements HealthProbe {
  readonly url: URL;
  private readonly timeoutMs: number;
  private readonly supervisorPort: number | undefined;

  constructor(
    config: Pick<Config, "apiPort" | "distro">,
    private readonly opts: HealthProbeOptions = {},
  ) {
    this.url = new URL(opts.url ?? `https://127.0.0.1:${config.apiPort}/livez?exclude=etcd`);
    this.timeoutMs = opts.timeoutMs ?? 2000;
    const sup = opts.supervisorPort ?? (config.distro === "rke2" ? RKE2_SUPERVISOR_PORT : false);
    this.supervisorPort = sup === false ? undefined : sup;
  }

  private agent: Agent | null = null;
  private agentKey = "";
  private readonly watched = new WeakSet<Socket>();
  private readonly judged = new WeakSet<Socket>();
  private suspect: ((reason: string) => void) | null = null;
  private inFlight = 0;

  watch(suspect: (reason: string) => void): void {
    this.suspect = suspect;
  }

  /** Closes the kept-alive connection (tests; the agent just exits). */
  close(): void {
    this.agent?.destroy();
    this.agent = null;
  }

  async probe(): Promise<HealthResult> {
    this.inFlight++;
    try {
      return await this.probeOnce();
    } finally {
      this.inFlight--;
    }
  }

  private async probeOnce(): Promise<HealthResult> {
    const started = performance.now();
    const done = (ok: boolean, reason: string): HealthResult => ({ ok, reason, latencyMs: Math.round((performance.now() - started) * 10) / 10 });
    const [token, ca] = await Promise.all([
      this.opts.token !== undefined ? this.opts.token : readOptional(this.opts.tokenFile ?? `${SA_DIR}/token`),
      this.opts.ca !== undefined ? this.opts.ca : this.opts.insecure ? undefined : readOptional(this.opts.caFile ?? `${SA_DIR}/ca.crt`),
    ]);
    let status: number;
    try {
      status = await this.get(token?.trim(), ca).catch((e: unknown) => {
        if (!(e instanceof ReusedSocketError)) throw e;
        return this.get(token?.trim(), ca);
      });
    } catch (e) {
      return done(false, classifyError(e instanceof ReusedSocketError ? e.cause : e, this.timeoutMs));
    }
    if (status === 401 || status === 403) {
      // Serving, but our token was refused (see the header comment).
      if (!(await this.supervisorOk())) return done(false, `supervisor port ${this.supervisorPort}: ${this.lastSupervisorError}`);
      return done(true, `HTTP ${status} (serving; token rejected)`);
    }
    if (status < 200 || status >= 300) return done(false, `HTTP ${status}`);
    if (!(await this.supervisorOk())) return done(false, `supervisor port ${this.supervisorPort}: ${this.lastSupervisorError}`);
    return done(true, "ok");
  }

  private lastSupervisorError = "";

  private async supervisorOk(): Promise<boolean> {
    if (this.supervisorPort === undefined) return true;
    const port = this.supervisorPort;
    try {
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port });
        const timer = setTimeout(() => {
          s.destroy();
          reject(new TimeoutError("timeout"));
        }, this.timeoutMs);
        s.once("connect", () => {
          clearTimeout(timer);
          s.destroy();
          resolve();
        });
        s.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      return true;
    } catch (e) {
      this.lastSupervisorError = classifyError(e, this.timeoutMs);
      return false;
    }
  }

  /** The kept-alive agent for this CA (a rotated CA gets a new connection). */
  private agentFor(ca: string | undefined): Agent {
    const key = ca ?? "";
    if (this.agent && this.agentKey === key) return this.agent;
    this.agent?.destroy();
    this.agentKey = key;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    return this.agent;
  }

  /** One GET, on the kept-alive connection when there is one. A failure on a reused connection rejects with ReusedSocketError. */
  private get(token: string | undefined, ca: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: "text/plain" };
      if (token) headers.authorization = `Bearer ${token}`;
      const req = request(this.url, {
        method: "GET",
        agent: this.agentFor(ca),
        headers,
        ...(ca !== undefined ? { ca } : {}),
        rejectUnauthorized: ca !== undefined && this.opts.insecure !== true,
      });
      const fail = (e: Error) => {
        clearTimeout(timer);
        if (req.socket) this.judged.add(req.socket); // this probe's result already counts its close
        reject(req.reusedSocket && !(e instanceof TimeoutError) ? new ReusedSocketError(e) : e);
      };
      const timer = setTimeout(() => req.destroy(new TimeoutError("timeout")), this.timeoutMs);
      req.once("socket", (sock: Socket) => this.watchSocket(sock));
      req.once("response", (res) => {
        res.resume();
        res.once("end", () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.once("error", fail);
      });
      req.once("error", fail);
      req.end();
    });
  }

  /** Between probes, the connection closing is the first sign of a dead server. */
  private watchSocket(sock: Socket): void {
    if (this.watched.has(sock)) return;
    this.watched.add(sock);
    sock.once("close", () => {
      // Closed while idle (not during a probe, which judges for itself, nor by close()): worth a probe now.
      if (this.agent !== null && this.inFlight === 0 && !this.judged.has(sock)) this.suspect?.("the connection to the local API server closed");
    });
  }
}

/** A probe failed on a kept-alive connection: retried once on a new one before it counts. */
class ReusedSocketError extends Error {
  constructor(override readonly cause: unknown) {
    super("failed on a reused connection");
  }
}

export function createHealthProbe(config: Pick<Config, "apiPort" | "distro">, opts: HealthProbeOptions = {}): HealthProbe {
  return new ApiServerHealthProbe(config, opts);
}
