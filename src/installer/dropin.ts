// The config.yaml.d drop-in: k3s/RKE2 merge every *.yaml in config.yaml.d
// over config.yaml in lexical order; a later file replaces a key, and
// `key+:` appends to a list key instead (k3s "Multiple Config Files"). So the
// drop-in appends to tls-san/disable and only sets scalars the user's config
// doesn't set differently.
import { parseDocument, stringify, YAMLParseError } from "yaml";
import type { Distro } from "../config/index.ts";

export const DROPIN_MARKER = "# Written by k3vip";

export interface DropinInput {
  distro: Distro;
  vip: string;
  tlsSans: string[];
  datastore?: { endpoint: string; cafile?: string; certfile?: string; keyfile?: string };
  clusterInit: boolean;
  /** `server:` URL when joining through the VIP. */
  join?: { server: string; token: string };
  /** Token for the first server, so the others can join with the same one. */
  token?: string;
  disableServicelb: boolean;
}

/** The drop-in's keys and values (what k3s sees after the merge). */
export function dropinValues(i: DropinInput): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  v["tls-san+"] = [...new Set([i.vip, ...i.tlsSans])];
  if (i.datastore) {
    v["datastore-endpoint"] = i.datastore.endpoint;
    if (i.datastore.cafile) v["datastore-cafile"] = i.datastore.cafile;
    if (i.datastore.certfile) v["datastore-certfile"] = i.datastore.certfile;
    if (i.datastore.keyfile) v["datastore-keyfile"] = i.datastore.keyfile;
  }
  if (i.clusterInit) v["cluster-init"] = true;
  if (i.join) {
    v.server = i.join.server;
    v.token = i.join.token;
  } else if (i.token) v.token = i.token;
  if (i.disableServicelb && i.distro === "k3s") v["disable+"] = ["servicelb"];
  return v;
}

export function renderDropin(i: DropinInput): string {
  const head = `${DROPIN_MARKER}: \`k3vip install\` rewrites it and \`k3vip uninstall\` removes it.\n# Put your own settings in ../config.yaml or another file in this directory.\n`;
  return head + stringify(dropinValues(i), { lineWidth: 0 });
}

/** The secrets inside a drop-in (masked in diffs and messages). */
export function dropinSecrets(i: DropinInput): string[] {
  return [i.join?.token, i.token].filter((s): s is string => typeof s === "string" && s !== "");
}

export class ConfigFileError extends Error {}

/** Parses one k3s config file; throws ConfigFileError naming the file and line. */
export function parseConfigFile(path: string, text: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err instanceof YAMLParseError && err.linePos ? ` line ${err.linePos[0].line}` : "";
    throw new ConfigFileError(`${path}${line} is not valid YAML (${(err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}); fix it, nothing was changed`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ConfigFileError(`${path} is not a YAML mapping of k3s options; fix it, nothing was changed`);
  return value as Record<string, unknown>;
}

// Options k3s takes once: a different value elsewhere would be silently
// overridden (or override ours), so both sides must agree.
const SCALAR_KEYS = ["datastore-endpoint", "datastore-cafile", "datastore-certfile", "datastore-keyfile", "cluster-init", "server", "token"];

/**
 * Finds settings in the user's config files that contradict the drop-in.
 * `files` are the user's config.yaml and other drop-ins, in k3s merge order.
 */
export function configConflicts(files: { path: string; values: Record<string, unknown>; afterOurs?: boolean }[], ours: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const f of files) {
    // A plain `key:` in a file merged after ours replaces the list we append to.
    if (f.afterOurs) {
      for (const key of ["tls-san", "disable"]) {
        if (f.values[key] !== undefined && ours[`${key}+`] !== undefined) {
          out.push(`${f.path} sets ${key}: after k3vip's drop-in, which replaces the list k3vip appends to (${key === "tls-san" ? "the VIP would drop out of the certificate" : "servicelb would come back"}): write ${key}+: there instead`);
        }
      }
    }
    for (const key of SCALAR_KEYS) {
      const theirs = f.values[key];
      const mine = ours[key];
      if (theirs === undefined || mine === undefined) continue;
      if (JSON.stringify(theirs) !== JSON.stringify(mine)) {
        const show = key === "token" ? "a different token" : key === "datastore-endpoint" ? "a different datastore-endpoint" : `${key}: ${JSON.stringify(theirs)}`;
        out.push(`${f.path} sets ${show}; k3vip would set ${key === "token" || key === "datastore-endpoint" ? "another" : JSON.stringify(mine)}: remove it there or change the k3vip flags to match`);
      }
    }
    // Embedded etcd and an external datastore exclude each other.
    if (f.values["datastore-endpoint"] !== undefined && ours["cluster-init"] === true) {
      out.push(`${f.path} sets datastore-endpoint, which excludes --cluster-init (embedded etcd): drop one of them`);
    }
    if (f.values["cluster-init"] === true && ours["datastore-endpoint"] !== undefined) {
      out.push(`${f.path} sets cluster-init, which excludes --datastore: drop one of them`);
    }
  }
  return out;
}
