// Secret values found by structure in the files k3vip writes, so every side
// of a diff is masked — also the old token or password of an update, which
// this run was never given. (Values passed on this run are masked too; the
// one masking function is config's maskSecrets.)
import { parseAllDocuments } from "yaml";

/** The password of any `scheme://user:password@…` endpoint (and its URL-encoded and decoded forms). */
export function endpointSecrets(endpoint: string): string[] {
  const m = /^[a-z0-9+.-]+:\/\/([^/]*?)@/i.exec(endpoint) ?? /^[a-z0-9+.-]+:\/\/(.*)@/i.exec(endpoint);
  const userinfo = m?.[1];
  if (!userinfo || !userinfo.includes(":")) return [];
  const pw = userinfo.slice(userinfo.indexOf(":") + 1);
  if (pw === "") return [];
  const out = [pw];
  try {
    out.push(decodeURIComponent(pw));
  } catch {
    /* not URL-encoded */
  }
  out.push(encodeURIComponent(pw));
  return out;
}

const CONFIG_SECRET_KEYS = ["token", "agent-token"];

/**
 * Secrets in a YAML file: every value of a Secret's stringData and data
 * (decoded too), and in a k3s config the tokens and the datastore
 * endpoint's password. Anything that does not parse holds none we can see.
 */
export function yamlSecrets(text: string): string[] {
  const out: string[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return out;
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    let v: unknown;
    try {
      v = doc.errors.length === 0 ? doc.toJS() : undefined;
    } catch {
      v = undefined;
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) continue;
    const o = v as Record<string, unknown>;
    if (o.kind === "Secret") {
      for (const [field, decode] of [["stringData", false], ["data", true]] as const) {
        const m = o[field];
        if (!m || typeof m !== "object") continue;
        for (const val of Object.values(m as Record<string, unknown>)) {
          if (typeof val !== "string" || val === "") continue;
          out.push(val);
          if (decode) out.push(Buffer.from(val, "base64").toString("utf8"));
        }
      }
    }
    for (const k of CONFIG_SECRET_KEYS) if (typeof o[k] === "string" && o[k] !== "") out.push(o[k]);
    if (typeof o["datastore-endpoint"] === "string") out.push(...endpointSecrets(o["datastore-endpoint"]));
  }
  return out.filter((s) => s.length > 0);
}
