// Real datastores for the lab tests: MariaDB, PostgreSQL and etcd started as
// plain processes on 127.0.0.1 with temp data dirs and free ports, stopped
// by PID. Nothing listens beyond loopback.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Leaf, TestPki } from "./pki.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitPort(port: number, proc: Daemon, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== undefined) throw new Error(`${proc.name} exited (${proc.exitCode}) before listening:\n${proc.log.slice(-30).join("\n")}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${proc.log.slice(-30).join("\n")}`);
}

/** A child process stopped by its PID (SIGTERM, then SIGKILL). */
export class Daemon {
  readonly child: ChildProcess;
  readonly log: string[] = [];
  exitCode: number | string | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    argv: string[],
    readonly dirs: string[],
  ) {
    const [cmd = "", ...args] = argv;
    this.child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    for (const s of [this.child.stdout, this.child.stderr]) s?.on("data", (b: Buffer) => this.log.push(...b.toString("utf8").split("\n").filter(Boolean)));
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exitCode = code ?? signal ?? "?";
        resolve();
      });
      this.child.on("error", (e) => {
        this.log.push(e.message);
        this.exitCode = "spawn error";
        resolve();
      });
    });
    // A crashed test run must not leave daemons behind.
    process.once("exit", () => this.kill("SIGKILL"));
  }

  private kill(sig: NodeJS.Signals): void {
    if (this.exitCode === undefined && this.child.pid) {
      try {
        process.kill(this.child.pid, sig);
      } catch {
        /* already gone */
      }
    }
  }

  async stop(): Promise<void> {
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), 10000);
    await this.exited;
    clearTimeout(t);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export interface Mariadb {
  daemon: Daemon;
  port: number;
  socket: string;
}

/** MariaDB as root on 127.0.0.1 (name resolution off so 'user'@'%' matches TCP from 127.0.0.1). */
export async function startMariadb(): Promise<Mariadb> {
  const dir = mkdtempSync(join(tmpdir(), "k3vip-mariadb-"));
  const data = join(dir, "data");
  execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"], { stdio: "ignore" });
  const port = await freePort();
  const socket = join(dir, "mysqld.sock");
  const daemon = new Daemon(
    "mariadbd",
    ["mariadbd", "--no-defaults", `--datadir=${data}`, "--user=root", `--port=${port}`, "--bind-address=127.0.0.1", `--socket=${socket}`, `--pid-file=${join(dir, "pid")}`, "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M"],
    [dir],
  );
  await waitPort(port, daemon);
  return { daemon, port, socket };
}

/** Runs SQL as MariaDB's root through its unix socket. */
export function mariadbSql(m: Mariadb, sql: string): void {
  execFileSync("mariadb", ["--no-defaults", `--socket=${m.socket}`, "-uroot", "-e", sql], { stdio: ["ignore", "ignore", "pipe"] });
}

export interface Postgres {
  daemon: Daemon;
  port: number;
  superPassword: string;
}

/** PostgreSQL run as the postgres user (it refuses root), with TLS from `pki` when given. */
export async function startPostgres(pki?: { pki: TestPki; server: Leaf }): Promise<Postgres> {
  const bin = execFileSync("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(join(tmpdir(), "k3vip-pg-"));
  chmodSync(dir, 0o700);
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  chownSync(dir, uid, gid);
  const data = join(dir, "data");
  const superPassword = "pg-super-pw";
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, `${superPassword}\n`);
  chownSync(pwfile, uid, gid);
  const asPg = (argv: string[]) => ["runuser", "-u", "postgres", "--", ...argv];
  const [c0 = "", ...a0] = asPg([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--locale=C"]);
  execFileSync(c0, a0, { stdio: "ignore", cwd: dir });
  writeFileSync(join(data, "pg_hba.conf"), "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n");
  const opts = ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "shared_buffers=16MB", "-c", "max_connections=30"];
  if (pki) {
    for (const [src, name, mode] of [[pki.server.cert, "server.crt", 0o644], [pki.server.key, "server.key", 0o600]] as const) {
      copyFileSync(src, join(data, name));
      chmodSync(join(data, name), mode);
      chownSync(join(data, name), uid, gid);
    }
    opts.push("-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key");
  }
  const port = await freePort();
  const daemon = new Daemon("postgres", asPg([join(bin, "postgres"), "-D", data, "-p", String(port), ...opts]), [dir]);
  await waitPort(port, daemon);
  return { daemon, port, superPassword };
}

export interface Etcd {
  daemon: Daemon;
  port: number;
  url: string;
}

/** etcd on 127.0.0.1; with `tls`, https with client-certificate auth against the PKI's CA. */
export async function startEtcd(tls?: { pki: TestPki; server: Leaf }): Promise<Etcd> {
  const dir = mkdtempSync(join(tmpdir(), "k3vip-etcd-"));
  const port = await freePort();
  const peer = await freePort();
  const scheme = tls ? "https" : "http";
  const url = `${scheme}://127.0.0.1:${port}`;
  const argv = [
    "etcd",
    "--name", "k3vip-test",
    "--data-dir", join(dir, "data"),
    "--listen-client-urls", url,
    "--advertise-client-urls", url,
    "--listen-peer-urls", `http://127.0.0.1:${peer}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${peer}`,
    "--initial-cluster", `k3vip-test=http://127.0.0.1:${peer}`,
    "--logger", "zap",
    "--log-level", "error",
  ];
  if (tls) argv.push("--cert-file", tls.server.cert, "--key-file", tls.server.key, "--trusted-ca-file", tls.pki.caCert, "--client-cert-auth");
  const daemon = new Daemon("etcd", argv, [dir]);
  await waitPort(port, daemon);
  return { daemon, port, url };
}
