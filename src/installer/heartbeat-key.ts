// The heartbeat key every server's agent must share (the Secret
// k3vip-secrets, K3VIP_HEARTBEAT_KEY). Each server runs its own install, so
// the key must come out the same on each without the servers talking:
//   1. --heartbeat-key / K3VIP_HEARTBEAT_KEY, when given;
//   2. derived from the cluster token (--token, --token-file, or the
//      distribution's server/token file): the one secret every server shares;
//   3. the key of the manifest installed here (a re-run keeps it);
//   4. a random one, with a note on what the other servers need.
// The token comes before the kept key so that a server installed before its
// cluster had a token converges on the others' key when it is run again.
// install.sh does the same steps with sha256sum and od (resolve_heartbeat_key).
import { createHash, randomBytes } from "node:crypto";
import { parseHeartbeatKey, Problem } from "../config/index.ts";
import { guardPath } from "./confine.ts";
import type { Fs } from "./fs.ts";

/** Prefix of the derivation: changing it changes every derived key. */
export const HEARTBEAT_KEY_CONTEXT = "k3vip-heartbeat-key-v1:";

export type KeySource = "given" | "token" | "kept" | "random";

/**
 * The shared part of a k3s/RKE2 token: `K10<ca-hash>::<user>:<password>`
 * → password, so the full token of one server's token file and the short
 * token another server joined with give the same key. A short token is kept whole.
 */
export function tokenSecret(token: string): string {
  const t = token.trim();
  const i = t.indexOf("::");
  if (i < 0) return t;
  const rest = t.slice(i + 2);
  const j = rest.indexOf(":");
  return j < 0 ? rest : rest.slice(j + 1);
}

/** 64 hex digits: SHA-256 of the context and the token's shared part. */
export function keyFromToken(token: string): string {
  return createHash("sha256").update(HEARTBEAT_KEY_CONTEXT + tokenSecret(token), "utf8").digest("hex");
}

/** The key in an installed manifest's Secret, if it is a valid one (the line install.sh's sed reads too). */
export function keptKey(manifest: string): string | undefined {
  const m = /^ {2}K3VIP_HEARTBEAT_KEY: "([0-9A-Za-z+/=]+)"$/m.exec(manifest);
  if (!m?.[1]) return undefined;
  try {
    return parseHeartbeatKey(m[1]) === "" ? undefined : m[1];
  } catch (e) {
    if (e instanceof Problem) return undefined;
    throw e;
  }
}

export interface KeyInputs {
  given: string;
  /** --token / --token-file / the join token. */
  token: string | undefined;
  /** The distribution's server token file (read when no token was given). */
  tokenFile: string;
  /** The manifest this install writes (its current key is kept). */
  manifest: string;
  root: string;
  random?: () => string;
}

/** A token file is a small regular file: a device (/dev/zero) or a FIFO would never end. */
export const TOKEN_MAX = 64 * 1024;

/** A small regular file's trimmed text; undefined when absent, unreadable or not a token. */
async function readSmall(fs: Fs, root: string, path: string): Promise<string | undefined> {
  await guardPath(fs, root, path);
  const st = await fs.stat(path).catch(() => undefined);
  if (!st?.isFile || st.size > TOKEN_MAX) return undefined;
  const b = await fs.read(path).catch(() => undefined);
  const t = b?.toString("utf8").trim();
  return t && !/\s/.test(t) ? t : undefined;
}

export async function resolveHeartbeatKey(fs: Fs, i: KeyInputs): Promise<{ key: string; from: KeySource }> {
  if (i.given !== "") return { key: i.given, from: "given" };
  const token = i.token ?? (await readSmall(fs, i.root, i.tokenFile));
  if (token !== undefined) return { key: keyFromToken(token), from: "token" };
  await guardPath(fs, i.root, i.manifest);
  const current = await fs.read(i.manifest).catch(() => undefined);
  const kept = current ? keptKey(current.toString("utf8")) : undefined;
  if (kept !== undefined) return { key: kept, from: "kept" };
  return { key: (i.random ?? (() => randomBytes(32).toString("hex")))(), from: "random" };
}
