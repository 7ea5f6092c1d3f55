// Live datastore checks: connect with the endpoint's credentials and TLS
// files the way k3s/kine will, and tell wrong password, unreachable host,
// missing database / permission and TLS trouble apart. Never changes data:
// kine creates the database itself, so here we only check it could.
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import mysql from "mysql2/promise";
import pg from "pg";
import type { Datastore, EtcdEndpoint, SqlEndpoint } from "./url.ts";

export type Outcome = "ok" | "auth" | "unreachable" | "database" | "permission" | "tls" | "tls-files" | "error";

export interface DatastoreResult {
  outcome: Outcome;
  /** One line: what was found. */
  message: string;
  /** One line: what to do (empty when ok). */
  fix: string;
}

export interface TlsFiles {
  cafile?: string;
  certfile?: string;
  keyfile?: string;
}

export interface DatastoreChecker {
  check(d: Datastore, tls: TlsFiles): Promise<DatastoreResult>;
}

interface Pem {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const ok = (message: string): DatastoreResult => ({ outcome: "ok", message, fix: "" });
const code = (e: unknown): string => {
  const c = (e as { code?: unknown }).code;
  return typeof c === "string" || typeof c === "number" ? String(c) : "";
};
const msg = (e: unknown): string => ((e as Error).message ?? String(e)).split("\n")[0] ?? "";

const UNREACHABLE = ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET"];
// Node's verification failures: the server's chain doesn't lead to our CA, or the name doesn't match.
const TLS_VERIFY = [
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
];

function classifyNet(e: unknown, where: string, tls: TlsFiles): DatastoreResult | undefined {
  const c = code(e);
  const m = msg(e);
  if (UNREACHABLE.includes(c) || /timeout|timed out/i.test(m)) {
    return { outcome: "unreachable", message: `cannot reach ${where} (${c || m})`, fix: `check the host and port, that the server listens on the network and that no firewall blocks it` };
  }
  if (TLS_VERIFY.includes(c) || /self[- ]signed|unable to verify|certificate/i.test(m) && !/required|bad certificate|unknown ca/i.test(m)) {
    return {
      outcome: "tls",
      message: `${where}'s certificate is not trusted (${c || m})`,
      fix: tls.cafile ? `--datastore-cafile ${tls.cafile} is not the CA that signed the server's certificate (or the host name is not in it): give the right CA` : "give the CA that signed the server's certificate with --datastore-cafile",
    };
  }
  if (/certificate required|alert number 116|alert handshake failure|bad certificate|unknown ca|alert number 4[28]/i.test(m) || c === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED") {
    return {
      outcome: "tls",
      message: `${where} refused the client certificate (${m})`,
      fix: tls.certfile ? "--datastore-certfile/--datastore-keyfile are not signed by a CA the server trusts: give the right pair" : "the server requires a client certificate: give --datastore-certfile and --datastore-keyfile",
    };
  }
  return undefined;
}

async function loadPem(tls: TlsFiles): Promise<Pem | DatastoreResult> {
  const pem: Pem = {};
  for (const [k, flag, path] of [["ca", "--datastore-cafile", tls.cafile], ["cert", "--datastore-certfile", tls.certfile], ["key", "--datastore-keyfile", tls.keyfile]] as const) {
    if (!path) continue;
    try {
      const b = await readFile(path);
      if (!b.toString("latin1").includes("-----BEGIN ")) return { outcome: "tls-files", message: `${flag} ${path} is not a PEM file`, fix: `give a PEM-encoded ${k === "key" ? "private key" : "certificate"}` };
      pem[k] = b;
    } catch (e) {
      return { outcome: "tls-files", message: `${flag} ${path} cannot be read (${code(e) || msg(e)})`, fix: "check the path and that root can read it" };
    }
  }
  if ((tls.certfile === undefined) !== (tls.keyfile === undefined)) {
    return { outcome: "tls-files", message: "--datastore-certfile and --datastore-keyfile come together", fix: "give both, or neither" };
  }
  return pem;
}

export class LiveDatastoreChecker implements DatastoreChecker {
  constructor(private readonly timeoutMs = 5000) {}

  async check(d: Datastore, tls: TlsFiles): Promise<DatastoreResult> {
    const pem = await loadPem(tls);
    if ("outcome" in pem) return pem;
    if (d.kind === "etcd") return this.etcd(d, pem, tls);
    return d.kind === "mysql" ? this.mysql(d, pem, tls) : this.postgres(d, pem, tls);
  }

  private async mysql(d: SqlEndpoint, pem: Pem, tls: TlsFiles): Promise<DatastoreResult> {
    const where = `MySQL at ${d.host}:${d.port}`;
    const tlsParam = d.params.tls;
    const ssl = pem.ca || pem.cert || (tlsParam !== undefined && tlsParam !== "false") ? { ...pem, rejectUnauthorized: tlsParam !== "skip-verify" } : undefined;
    let conn: mysql.Connection | undefined;
    try {
      conn = await mysql.createConnection({ host: d.host, port: d.port, user: d.user, password: d.password, connectTimeout: this.timeoutMs, ...(ssl ? { ssl } : {}) });
      try {
        await conn.query(`USE \`${d.database}\``);
        return ok(`${where}: user ${d.user} can use database ${d.database}`);
      } catch (e) {
        // MySQL answers "access denied" both for a database the user may not
        // see and for a missing one (so as not to leak names); "unknown
        // database" only when the user has global privileges.
        if (code(e) === "ER_DBACCESS_DENIED_ERROR") {
          return { outcome: "permission", message: `${where}: user ${d.user} may not use database ${d.database} (missing, or not granted) nor create it`, fix: `CREATE DATABASE IF NOT EXISTS \`${d.database}\`; GRANT ALL ON \`${d.database}\`.* TO '${d.user}'@'%'` };
        }
        if (code(e) !== "ER_BAD_DB_ERROR") throw e;
      }
      const [grants] = await conn.query<mysql.RowDataPacket[]>("SHOW GRANTS FOR CURRENT_USER()");
      const lines = grants.map((g) => String(Object.values(g)[0]));
      const escaped = d.database.replace(/_/g, "\\_");
      const canCreate = lines.some((l) => /GRANT (ALL PRIVILEGES|.*\bCREATE\b)/.test(l) && (/ ON \*\.\* /.test(l) || l.includes(`ON \`${d.database}\`.*`) || l.includes(`ON \`${escaped}\`.*`)));
      if (canCreate) return ok(`${where}: database ${d.database} does not exist yet; k3s will create it (user ${d.user} may)`);
      return { outcome: "database", message: `${where}: database ${d.database} does not exist and user ${d.user} may not create it`, fix: `CREATE DATABASE \`${d.database}\`; GRANT ALL ON \`${d.database}\`.* TO '${d.user}'@'%'` };
    } catch (e) {
      const c = code(e);
      if (c === "ER_ACCESS_DENIED_ERROR") return { outcome: "auth", message: `${where} refused user ${d.user}: wrong password or no such user from this host`, fix: "check the user and password in --datastore (and the user's allowed host)" };
      if (c === "ER_DBACCESS_DENIED_ERROR") return { outcome: "permission", message: `${where}: ${msg(e)}`, fix: `GRANT ALL ON \`${d.database}\`.* TO '${d.user}'@'%'` };
      return classifyNet(e, where, tls) ?? { outcome: "error", message: `${where}: ${msg(e)}`, fix: "check the server's log" };
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }

  private async postgres(d: SqlEndpoint, pem: Pem, tls: TlsFiles): Promise<DatastoreResult> {
    const where = `PostgreSQL at ${d.host}:${d.port}`;
    const mode = d.params.sslmode ?? (pem.ca ? "verify-full" : "prefer");
    const ssl =
      mode === "disable" || (mode === "prefer" && !pem.ca && !pem.cert) || mode === "allow"
        ? false
        : { ...pem, rejectUnauthorized: mode === "verify-ca" || mode === "verify-full", ...(mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}) };
    const connect = async (database: string) => {
      const c = new pg.Client({ host: d.host, port: d.port, user: d.user, password: d.password, database, ssl, connectionTimeoutMillis: this.timeoutMs });
      c.on("error", () => undefined);
      await c.connect();
      return c;
    };
    let c: pg.Client | undefined;
    try {
      try {
        c = await connect(d.database);
        return ok(`${where}: user ${d.user} can use database ${d.database}`);
      } catch (e) {
        if (code(e) !== "3D000") throw e;
      }
      // kine connects to the "postgres" database and creates its own when missing.
      c = await connect("postgres");
      const r = await c.query<{ can: boolean }>("SELECT rolsuper OR rolcreatedb AS can FROM pg_roles WHERE rolname = current_user");
      if (r.rows[0]?.can) return ok(`${where}: database ${d.database} does not exist yet; k3s will create it (user ${d.user} may)`);
      return { outcome: "database", message: `${where}: database ${d.database} does not exist and user ${d.user} may not create it`, fix: `CREATE DATABASE "${d.database}" OWNER "${d.user}"` };
    } catch (e) {
      const c2 = code(e);
      if (c2 === "28P01") return { outcome: "auth", message: `${where} refused user ${d.user}: wrong password`, fix: "check the user and password in --datastore" };
      if (c2 === "28000") return { outcome: "auth", message: `${where} refused user ${d.user} (${msg(e)})`, fix: "allow this host and user in pg_hba.conf, or check the user name" };
      if (c2 === "42501") return { outcome: "permission", message: `${where}: user ${d.user} may not connect to ${d.database} (${msg(e)})`, fix: `GRANT CONNECT, CREATE ON DATABASE "${d.database}" TO "${d.user}"` };
      if (/does not support SSL/i.test(msg(e))) return { outcome: "tls", message: `${where} does not offer TLS but sslmode=${mode} requires it`, fix: "enable ssl on the server, or use sslmode=disable on a trusted network" };
      return classifyNet(e, where, tls) ?? { outcome: "error", message: `${where}: ${msg(e)}`, fix: "check the server's log" };
    } finally {
      await c?.end().catch(() => undefined);
    }
  }

  private async etcd(d: EtcdEndpoint, pem: Pem, tls: TlsFiles): Promise<DatastoreResult> {
    const good: string[] = [];
    for (const u of d.urls) {
      const where = `etcd at ${u.host}`;
      try {
        const body = await this.get(new URL("/health", u), pem);
        const health = (JSON.parse(body) as { health?: unknown }).health;
        if (health !== "true" && health !== true) return { outcome: "error", message: `${where} reports unhealthy (${body.trim()})`, fix: "check etcd's log and quorum (etcdctl endpoint health)" };
        good.push(u.host);
      } catch (e) {
        return classifyNet(e, where, tls) ?? { outcome: "error", message: `${where}: ${msg(e)}`, fix: "check etcd's log" };
      }
    }
    return ok(`etcd healthy at ${good.join(", ")}`);
  }

  private get(url: URL, pem: Pem): Promise<string> {
    return new Promise((resolve, reject) => {
      const opts = { timeout: this.timeoutMs, ...(url.protocol === "https:" ? pem : {}) };
      const req = (url.protocol === "https:" ? request : httpRequest)(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 400) reject(new Error(`HTTP ${res.statusCode ?? 0}: ${body.trim()}`));
          else resolve(body);
        });
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end();
    });
  }
}
