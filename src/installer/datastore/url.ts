// k3s/kine datastore endpoints, parsed without I/O so a typo is reported
// precisely before anything is written or dialled.
//   mysql://user:pass@tcp(host:3306)/db   (Go MySQL DSN behind a mysql:// scheme)
//   postgres://user:pass@host:5432/db?sslmode=verify-full
//   https://etcd1:2379,https://etcd2:2379
import { badValue, type UsageError } from "../../config/index.ts";

export interface SqlEndpoint {
  kind: "mysql" | "postgres";
  user: string;
  password: string;
  host: string;
  port: number;
  /** kine's default is "kubernetes" when the DSN names none. */
  database: string;
  params: Record<string, string>;
  raw: string;
}

export interface EtcdEndpoint {
  kind: "etcd";
  urls: URL[];
  raw: string;
}

export type Datastore = SqlEndpoint | EtcdEndpoint;

export const DEFAULT_DATABASE = "kubernetes";
const PG_SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
const MYSQL_EXAMPLE = "example: mysql://user:pass@tcp(db.example:3306)/kubernetes";
const PG_EXAMPLE = "example: postgres://user:pass@db.example:5432/kubernetes?sslmode=verify-full";
const ETCD_EXAMPLE = "example: https://etcd1:2379,https://etcd2:2379";

/**
 * The endpoint with its password replaced, for every message and diff: any
 * `scheme://user:password@…` (an unknown scheme too), up to the last '@'
 * (a MySQL DSN's password may hold one).
 */
export function maskDatastore(raw: string): string {
  const m = /^([a-z0-9+.-]*:\/\/)(.*)$/is.exec(raw);
  if (!m) return raw;
  const [, scheme = "", rest = ""] = m;
  const at = rest.lastIndexOf("@");
  const colon = rest.indexOf(":");
  if (at > 0 && colon >= 0 && colon < at) return `${scheme}${rest.slice(0, colon)}:****${rest.slice(at)}`;
  return raw;
}

/** The datastore's secrets (for masking in other texts). */
export function datastoreSecrets(d: Datastore): string[] {
  return d.kind === "etcd" || d.password === "" ? [] : [d.password, encodeURIComponent(d.password)];
}

export function parseDatastore(raw: string, option = "--datastore"): Datastore {
  const bad = (problem: string): UsageError => badValue(option, maskDatastore(raw), problem);
  // A line break would be written into the drop-in as a YAML block scalar k3s reads differently.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) throw bad(`holds a control character (a line break?): give the endpoint on one line (${MYSQL_EXAMPLE})`);
  if (raw.trim() !== raw || raw === "") throw bad(`is empty or has spaces around it (${MYSQL_EXAMPLE})`);
  const scheme = /^([a-z0-9+]+):\/\//.exec(raw)?.[1];
  if (scheme === "mysql") return parseMysql(raw, bad);
  if (scheme === "postgres" || scheme === "postgresql") return parsePostgres(raw, bad);
  if (scheme === "http" || scheme === "https") return parseEtcd(raw, bad);
  if (scheme === "sqlite") throw bad("is SQLite, which serves one server only; a VIP needs several servers: use MySQL, PostgreSQL, etcd or --cluster-init");
  if (scheme === "tcp" || raw.startsWith("tcp(")) throw bad(`lacks the mysql:// scheme (${MYSQL_EXAMPLE})`);
  throw bad(`has an unknown scheme; use mysql://, postgres:// or https:// (etcd) (${MYSQL_EXAMPLE})`);
}

// Go's MySQL DSN: [user[:pass]@][net[(addr)]]/dbname[?params]; the password
// may hold '@' and '/', so split at the last '@' and the first '/' after it.
function parseMysql(raw: string, bad: (p: string) => UsageError): SqlEndpoint {
  const rest = raw.slice("mysql://".length);
  const at = rest.lastIndexOf("@");
  const userinfo = at >= 0 ? rest.slice(0, at) : "";
  const tail = at >= 0 ? rest.slice(at + 1) : rest;
  const slash = tail.indexOf("/");
  if (slash < 0) throw bad(`has no "/" before the database name (${MYSQL_EXAMPLE})`);
  const netAddr = tail.slice(0, slash);
  const [dbPart = "", query = ""] = tail.slice(slash + 1).split("?", 2);
  const colon = userinfo.indexOf(":");
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const password = colon >= 0 ? userinfo.slice(colon + 1) : "";
  let host = "127.0.0.1";
  let port = 3306;
  if (netAddr !== "" && netAddr !== "tcp") {
    const m = /^tcp\((.*)\)$/.exec(netAddr);
    if (!m) {
      if (netAddr.startsWith("unix(")) throw bad("uses a unix socket; the VIP's servers need a network address: tcp(host:port)");
      throw bad(`needs the address in k3s's MySQL form tcp(host:port), not ${JSON.stringify(netAddr)} (${MYSQL_EXAMPLE})`);
    }
    const hp = splitHostPort(m[1] ?? "", 3306);
    if (!hp) throw bad(`has an address tcp(${m[1] ?? ""}) that is not host:port (${MYSQL_EXAMPLE})`);
    ({ host, port } = hp);
  }
  if (/[^A-Za-z0-9_$-]/.test(dbPart)) throw bad(`has a database name ${JSON.stringify(dbPart)} with characters MySQL needs quoted; use letters, digits, '_', '-'`);
  return { kind: "mysql", user, password, host, port, database: dbPart || DEFAULT_DATABASE, params: parseQuery(query), raw };
}

function parsePostgres(raw: string, bad: (p: string) => UsageError): SqlEndpoint {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad(`is not a valid URL; percent-encode special characters in the password (${PG_EXAMPLE})`);
  }
  if (u.hostname === "") throw bad(`has no host (${PG_EXAMPLE})`);
  const params = Object.fromEntries(u.searchParams.entries());
  const sslmode = params.sslmode;
  if (sslmode !== undefined && !PG_SSLMODES.includes(sslmode)) throw bad(`has sslmode=${sslmode}; valid: ${PG_SSLMODES.join(", ")}`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (database.includes("/")) throw bad(`has a database name ${JSON.stringify(database)} with '/' (${PG_EXAMPLE})`);
  return {
    kind: "postgres",
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? 5432 : Number(u.port),
    database: database || DEFAULT_DATABASE,
    params,
    raw,
  };
}

function parseEtcd(raw: string, bad: (p: string) => UsageError): EtcdEndpoint {
  const urls = raw.split(",").map((part) => {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw bad(`has ${JSON.stringify(part)}, which is not a URL (${ETCD_EXAMPLE})`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw bad(`mixes schemes: ${JSON.stringify(part)}; etcd endpoints are all http(s):// (${ETCD_EXAMPLE})`);
    if (u.port === "") throw bad(`has ${JSON.stringify(part)} without a port (${ETCD_EXAMPLE})`);
    if ((u.pathname !== "/" && u.pathname !== "") || u.search !== "" || u.username !== "") throw bad(`has ${JSON.stringify(part)} with a path, query or user; give scheme://host:port only (${ETCD_EXAMPLE})`);
    return u;
  });
  return { kind: "etcd", urls, raw };
}

function splitHostPort(s: string, defPort: number): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const port = m[2] === undefined ? defPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? "").replace(/^\[(.*)\]$/, "$1"), port };
}

function parseQuery(q: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(q).entries());
}
