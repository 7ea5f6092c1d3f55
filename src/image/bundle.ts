// Runs a built image without containerd: skopeo converts the archive (umoci
// 0.4 cannot read zstd layers) to an OCI dir, umoci unpacks it into an OCI
// runtime bundle, and runcConfig() tightens its config.json to what the
// DaemonSet grants: host network (the namespace runc is started in),
// NET_ADMIN + NET_RAW only, read-only rootfs. Used by the lab test and the
// benchmark.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tool } from "./sources.ts";

/** Unpacks `archive` (OCI archive, tag `tag`) into an OCI runtime bundle at `dir`; returns the bundle dir. */
export async function unpackBundle(archive: string, tag: string, work: string, name: string): Promise<string> {
  mkdirSync(work, { recursive: true });
  const layout = join(work, `${name}-oci`);
  const bundle = join(work, `${name}-bundle`);
  // skopeo decompresses zstd (and so checks the layers) and re-stores them gzip for umoci.
  await tool("skopeo", ["copy", "--quiet", `oci-archive:${archive}:${tag}`, `oci:${layout}:${tag}`, "--dest-compress-format", "gzip"]);
  await tool("umoci", ["unpack", "--image", `${layout}:${tag}`, bundle]);
  return bundle;
}

export interface RuncOptions {
  /** Replaces process.args (default: the image's entrypoint + cmd, as umoci wrote them). */
  args?: string[];
  /** Appended to the image's env. */
  env?: string[];
  /** Capabilities the process gets (default NET_ADMIN, NET_RAW). */
  capabilities?: string[];
  /**
   * Network namespace to join (e.g. /run/netns/<name>); default none, so the
   * container shares runc's. Joining by path lets runc start from the host's
   * mount namespace: under `ip netns exec` it finds no cgroup mounts (ip
   * remounts /sys).
   */
  netns?: string;
  /** Read-only bind mounts: host path → container path. */
  binds?: { source: string; destination: string }[];
}

type Json = Record<string, unknown>;

/**
 * umoci's config.json → one for `runc run` inside a lab namespace: no user
 * or new network namespace (the container shares the namespace runc starts
 * in, or joins `netns`, like hostNetwork), no uid/gid mappings, only the given capabilities, a
 * read-only rootfs, no terminal. Pure.
 */
export function runcConfig(config: Json, o: RuncOptions = {}): Json {
  const c = structuredClone(config);
  const linux = (c.linux ?? {}) as Json;
  const namespaces: Json[] = ((linux.namespaces ?? []) as { type: string }[]).filter((n) => n.type !== "user" && n.type !== "network");
  if (o.netns) namespaces.push({ type: "network", path: o.netns });
  linux.namespaces = namespaces;
  delete linux.uidMappings;
  delete linux.gidMappings;
  c.linux = linux;
  const proc = (c.process ?? {}) as Json;
  const caps = (o.capabilities ?? ["CAP_NET_ADMIN", "CAP_NET_RAW"]).map((x) => (x.startsWith("CAP_") ? x : `CAP_${x}`));
  proc.capabilities = { bounding: caps, effective: caps, permitted: caps };
  proc.terminal = false;
  proc.noNewPrivileges = true;
  if (o.args) proc.args = o.args;
  if (o.env) proc.env = [...((proc.env ?? []) as string[]), ...o.env];
  c.process = proc;
  c.root = { ...((c.root ?? {}) as Json), readonly: true };
  const mounts = (c.mounts ?? []) as Json[];
  for (const b of o.binds ?? []) mounts.push({ destination: b.destination, type: "bind", source: b.source, options: ["rbind", "ro"] });
  c.mounts = mounts;
  return c;
}

/** Rewrites `<bundle>/config.json` with runcConfig(), always starting from umoci's original. */
export function configureBundle(bundle: string, o: RuncOptions = {}): Json {
  const file = join(bundle, "config.json");
  const orig = join(bundle, "config.umoci.json");
  if (!existsSync(orig)) copyFileSync(file, orig);
  const c = runcConfig(JSON.parse(readFileSync(orig, "utf8")) as Json, o);
  writeFileSync(file, JSON.stringify(c, null, 2));
  return c;
}

/**
 * A second bundle dir for another container of the same unpacked image: its
 * own config.json (from umoci's, via runcConfig) whose root points at the
 * shared, read-only rootfs. Several lab nodes run one image this way.
 */
export function sharedRootBundle(bundle: string, dir: string, o: RuncOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const orig = join(bundle, existsSync(join(bundle, "config.umoci.json")) ? "config.umoci.json" : "config.json");
  const c = runcConfig(JSON.parse(readFileSync(orig, "utf8")) as Json, o);
  c.root = { path: join(bundle, "rootfs"), readonly: true };
  writeFileSync(join(dir, "config.json"), JSON.stringify(c, null, 2));
  return dir;
}
