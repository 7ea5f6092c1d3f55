// Parsers for single option values. Each returns the parsed value or throws
// a `Problem` whose text completes `<option> "<value>" …`.
import ipaddr from "ipaddr.js";
import type { BgpPeer } from "./model.ts";

export class Problem extends Error {}

const fail = (text: string): never => {
  throw new Problem(text);
};

export type IpFamily = 4 | 6;

/** Strict IPv4 dotted quad or IPv6 literal (no prefix, no zone). */
export function parseIp(raw: string): { family: IpFamily; addr: ipaddr.IPv4 | ipaddr.IPv6 } {
  if (raw.includes("/")) fail("is a CIDR; give one address without a prefix (example: 192.168.0.10)");
  if (ipaddr.IPv4.isValidFourPartDecimal(raw)) return { family: 4, addr: ipaddr.IPv4.parse(raw) };
  if (!raw.includes("%") && ipaddr.IPv6.isValid(raw)) return { family: 6, addr: ipaddr.IPv6.parse(raw) };
  return fail("is not an IPv4 or IPv6 address (example: 192.168.0.10)");
}

// Ranges a VIP can never be: nothing on a LAN would route or answer ARP for it.
const NOT_UNICAST: Record<string, string> = {
  unspecified: "the unspecified address",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  loopback: "a loopback address",
  linkLocal: "a link-local address",
  ipv4Mapped: "an IPv4-mapped IPv6 address (give the IPv4 address itself)",
};

/** A unicast address usable as a VIP. */
export function parseVip(raw: string): string {
  const { addr } = parseIp(raw);
  const range = addr.range();
  const what = NOT_UNICAST[range];
  if (what) fail(`is ${what}; the VIP must be a unicast address on the servers' network (example: 192.168.0.10)`);
  return raw;
}

/**
 * The network or broadcast address of `prefix` is no host address. Returns a
 * problem text, or undefined when `vip` is a fine host of that subnet.
 */
export function networkOrBroadcast(vip: string, prefix: number): string | undefined {
  const { family, addr } = parseIp(vip);
  const bits = family === 4 ? 32 : 128;
  // /31, /32, /127, /128 have no network/broadcast addresses (RFC 3021).
  if (prefix <= 0 || prefix >= bits - 1) return undefined;
  const network = ipaddr.parse(vip);
  const cidr = `${vip}/${prefix}`;
  const net = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  if (net.toString() === network.toString()) return `is the network address of ${net.toString()}/${prefix}; pick a host address inside it`;
  if (family === 4) {
    const bc = ipaddr.IPv4.broadcastAddressFromCIDR(cidr);
    if (bc.toString() === addr.toString()) return `is the broadcast address of ${net.toString()}/${prefix}; pick a host address inside it`;
  }
  return undefined;
}

// Linux IFNAMSIZ is 16 including the NUL; dev_valid_name() also refuses
// "/", ":" and white space, and "." / "..".
export function parseInterface(raw: string): string {
  if (raw === "") return raw;
  if (raw.length > 15 || raw === "." || raw === ".." || !/^[A-Za-z0-9_.@-]+$/.test(raw)) {
    fail("is not a valid Linux interface name (1-15 letters, digits, '.', '-', '_', '@'; example: eth0)");
  }
  return raw;
}

/** A parser that carries its bounds, so install.sh's awk copy is generated from the model, not from an error text. */
export type EnumParser<T extends string> = ((raw: string) => T) & { values: readonly T[] };
export type IntegerParser = ((raw: string) => number) & { bounds: { min: number; max: number; example: string } };

export function parseEnum<T extends string>(values: readonly T[]): EnumParser<T> {
  const parse = (raw: string): T => {
    const v = values.find((x) => x === raw);
    return v ?? fail(`is not one of: ${values.join(", ")}`);
  };
  return Object.assign(parse, { values });
}

const BOOL_TRUE = ["true", "1", "yes", "on"];
const BOOL_FALSE = ["false", "0", "no", "off", ""];
export function parseBool(raw: string): boolean {
  const v = raw.toLowerCase();
  if (BOOL_TRUE.includes(v)) return true;
  if (BOOL_FALSE.includes(v)) return false;
  return fail("is not a boolean (true or false)");
}

export function parseInteger(min: number, max: number, example: string): IntegerParser {
  const parse = (raw: string): number => {
    if (!/^[0-9]+$/.test(raw)) fail(`is not a whole number from ${min} to ${max} (example: ${example})`);
    const n = Number(raw);
    if (n < min || n > max) fail(`is not a whole number from ${min} to ${max} (example: ${example})`);
    return n;
  };
  return Object.assign(parse, { bounds: { min, max, example } });
}

/** Seconds: a positive decimal with at most 3 decimals, up to one hour. */
export function parseSeconds(raw: string): number {
  if (!/^[0-9]+(\.[0-9]{1,3})?$/.test(raw)) fail("is not a number of seconds (example: 5 or 0.5)");
  const n = Number(raw);
  if (n < 0.1 || n > 3600) fail("is not a number of seconds from 0.1 to 3600");
  return n;
}

// RFC 1123 label, as Kubernetes requires for namespaces.
export function parseDnsLabel(raw: string): string {
  if (raw.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(raw)) {
    fail("is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63; example: kube-system)");
  }
  return raw;
}

// RFC 1123 subdomain, as Kubernetes requires for most object names.
export function parseDnsSubdomain(raw: string): string {
  if (raw.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(raw)) {
    fail("is not a valid Kubernetes object name (lower-case letters, digits, '-' and '.'; example: k3vip-cp)");
  }
  return raw;
}

/** `namespace/name` of a Lease, or empty (none). */
export function parseLeaseRef(raw: string): string {
  if (raw === "") return raw;
  const m = /^([^/]*)\/([^/]*)$/.exec(raw);
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const sub = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (!m || (m[1] ?? "").length > 63 || !label.test(m[1] ?? "") || (m[2] ?? "").length > 253 || !sub.test(m[2] ?? "")) {
    fail("is not a Lease as namespace/name (example: kube-system/plndr-cp-lock; empty: none)");
  }
  return raw;
}

// An image reference as containerd accepts it: [registry/]path[:tag][@digest].
export function parseImage(raw: string): string {
  const re = /^([a-z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
  if (!re.test(raw)) fail("is not an image reference (example: ghcr.io/k3vip/k3vip:v0.1.0)");
  return raw;
}

/**
 * The heartbeat key (K3VIP_HEARTBEAT_KEY): empty (the installers make one),
 * or at least 16 bytes as hex or base64 — a Secret's value, never trimmed.
 */
export function parseHeartbeatKey(raw: string): string {
  if (raw === "") return raw;
  // Hex whenever it can be (as the agent decodes it): 30 hex digits are 15 bytes, not base64.
  if (/^(?:[0-9a-fA-F]{2})+$/.test(raw)) {
    if (raw.length < 32) fail("is not a key of at least 16 bytes as hex or base64 (example: the output of head -c 32 /dev/urandom | base64; empty: the installer makes one)");
    return raw;
  }
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/.test(raw) && (raw.length % 4 === 0 || !raw.includes("=")) ? raw.replace(/=+$/, "") : undefined;
  if (b64 === undefined || Math.floor((b64.length * 3) / 4) < 16) fail("is not a key of at least 16 bytes as hex or base64 (example: the output of head -c 32 /dev/urandom | base64; empty: the installer makes one)");
  return raw;
}

/** `[host]:port` to listen on; host may be empty, an IPv4 or a bracketed IPv6. */
export function parseListenAddr(raw: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]*):([0-9]{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) fail("is not a listen address (examples: :2112, 0.0.0.0:2112, [::1]:2112)");
  const host = m?.[1] ?? "";
  if (host !== "") {
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    parseIp(bare);
  }
  return raw;
}

const ROUTER_ID_EXAMPLE = "(example: 192.168.0.2)";
export function parseRouterId(raw: string): string {
  if (raw === "") return raw;
  if (!ipaddr.IPv4.isValidFourPartDecimal(raw)) fail(`is not a BGP router ID: it must be written as an IPv4 address ${ROUTER_ID_EXAMPLE}`);
  return raw;
}

const PEERS_EXAMPLE = "(format address:as[:password[:multihop[:source]]], comma separated; example: 192.168.0.1:65000::false)";

/**
 * kube-vip's `bgp_peers` format, extended with an optional source:
 * `address:as:password:multihop[:source]`, comma separated. IPv6 addresses
 * go in brackets: `[2001:db8::1]:65000`. multihop is true/false or a TTL.
 */
/**
 * A peer list as it may be echoed in a message: each peer's password field
 * (the third) replaced by ****. A peer whose address cannot be told apart
 * (an unclosed '[') is masked whole. install.sh's awk mask_peer is the same.
 */
export function maskPeers(raw: string): string {
  return raw.split(",").map(maskPeer).join(",");
}

function maskPeer(item: string): string {
  let address: string;
  let rest: string;
  if (item.trimStart().startsWith("[")) {
    const end = item.indexOf("]");
    if (end < 0) return "****";
    address = item.slice(0, end + 1);
    rest = item.slice(end + 1);
    if (!rest.startsWith(":")) return rest === "" ? item : `${address}****`;
    rest = rest.slice(1);
  } else {
    const i = item.indexOf(":");
    if (i < 0) return item;
    address = item.slice(0, i);
    rest = item.slice(i + 1);
  }
  const f = rest.split(":");
  if (f.length >= 2 && f[1] !== "") f[1] = "****";
  return `${address}:${f.join(":")}`;
}

/**
 * Lists (peers, pools) allow ASCII spaces and tabs around their items, and
 * no other white space anywhere (\v, NBSP, a line break …): JavaScript's
 * trim() and awk's differ on those, and a secret must never change silently.
 */
const ODD_SPACE = /[\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const trimItem = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, "");
function checkSpaces(raw: string): void {
  if (ODD_SPACE.test(raw)) fail("holds white space other than spaces or tabs around its commas (a line break, NBSP, \\v …): remove it");
}

/** Characters YAML (and so kubectl) refuses in a Secret: C0 but tab, DEL, C1, U+FFFE/U+FFFF. Tab is refused too: no peer's password has one. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/;

export function parsePeers(raw: string): BgpPeer[] {
  if (trimItem(raw) === "") return [];
  checkSpaces(raw);
  return raw.split(",").map((item) => parsePeer(trimItem(item), /[ \t]$/.test(item)));
}

function parsePeer(item: string, trailingSpace = false): BgpPeer {
  let address: string;
  let rest: string;
  if (item.startsWith("[")) {
    const end = item.indexOf("]");
    if (end < 0) return fail(`has an unclosed '[' in peer ${JSON.stringify(maskPeer(item))} ${PEERS_EXAMPLE}`);
    address = item.slice(1, end);
    rest = item.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return fail(`has junk after ']' in peer ${JSON.stringify(maskPeer(item))} ${PEERS_EXAMPLE}`);
    rest = rest.slice(1);
  } else {
    const i = item.indexOf(":");
    address = i < 0 ? item : item.slice(0, i);
    rest = i < 0 ? "" : item.slice(i + 1);
  }
  try {
    parseIp(address);
  } catch {
    return fail(`has peer address ${JSON.stringify(address)} that is not an IP address ${PEERS_EXAMPLE}`);
  }
  const [asRaw = "", password = "", multihopRaw = "", ...tail] = rest.split(":");
  // The source is the last field; an IPv6 source keeps its colons (brackets optional).
  const source = tail.join(":").replace(/^\[(.*)\]$/, "$1");
  if (!/^[0-9]+$/.test(asRaw) || Number(asRaw) < 1 || Number(asRaw) > 4294967295) {
    return fail(`has peer ${JSON.stringify(address)} without a valid AS number (1-4294967295) ${PEERS_EXAMPLE}`);
  }
  let multihop = 0;
  if (multihopRaw === "" || multihopRaw === "false") multihop = 0;
  else if (multihopRaw === "true") multihop = 255;
  else if (/^[0-9]+$/.test(multihopRaw) && Number(multihopRaw) >= 1 && Number(multihopRaw) <= 255) multihop = Number(multihopRaw);
  else return fail(`has peer ${JSON.stringify(address)} with multihop ${JSON.stringify(multihopRaw)}: use true, false or a TTL 1-255 ${PEERS_EXAMPLE}`);
  if (source !== "") {
    try {
      parseIp(source);
    } catch {
      return fail(`has peer ${JSON.stringify(address)} with source ${JSON.stringify(source)} that is not an IP address ${PEERS_EXAMPLE}`);
    }
  }
  if (CONTROL.test(password)) return fail(`has peer ${JSON.stringify(address)} whose password holds a control character: use printable characters ${PEERS_EXAMPLE}`);
  // A space at a password's edge may be a typo or part of it: never guess with a secret.
  const lastIsPassword = multihopRaw === "" && tail.length === 0 && rest.split(":").length <= 2;
  if (/^\s|\s$/.test(password) || (password !== "" && lastIsPassword && trailingSpace)) {
    return fail(`has peer ${JSON.stringify(address)} whose password starts or ends with white space: k3vip does not guess whether it belongs to it; remove it ${PEERS_EXAMPLE}`);
  }
  const peer: BgpPeer = { address, as: Number(asRaw), multihop };
  if (password !== "") peer.password = password;
  if (source !== "") peer.source = source;
  return peer;
}

/** The inverse of parsePeers, so env values round-trip. */
export function formatPeers(peers: readonly BgpPeer[]): string {
  return peers
    .map((p) => {
      const addr = p.address.includes(":") ? `[${p.address}]` : p.address;
      const fields = [addr, String(p.as), p.password ?? "", p.multihop === 0 ? "false" : String(p.multihop)];
      if (p.source) fields.push(p.source.includes(":") ? `[${p.source}]` : p.source);
      return fields.join(":");
    })
    .join(",");
}

/** Services address pools: CIDRs or `first-last` ranges, comma separated. */
export function parsePools(raw: string): string[] {
  if (trimItem(raw) === "") return [];
  checkSpaces(raw);
  return raw.split(",").map((item) => {
    const p = trimItem(item);
    const example = "(example: 192.168.0.200/29 or 192.168.0.200-192.168.0.210)";
    if (p.includes("-")) {
      const [a = "", b = "", ...x] = p.split("-");
      if (x.length > 0) return fail(`has pool ${JSON.stringify(p)} that is not a range ${example}`);
      let fa: IpFamily, fb: IpFamily;
      let aa: ipaddr.IPv4 | ipaddr.IPv6, bb: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        ({ family: fa, addr: aa } = parseIp(a));
        ({ family: fb, addr: bb } = parseIp(b));
      } catch {
        return fail(`has pool ${JSON.stringify(p)} whose ends are not IP addresses ${example}`);
      }
      if (fa !== fb) return fail(`has pool ${JSON.stringify(p)} mixing IPv4 and IPv6 ${example}`);
      if (compareBytes(aa.toByteArray(), bb.toByteArray()) > 0) return fail(`has pool ${JSON.stringify(p)} whose first address is after its last ${example}`);
      return p;
    }
    // Strict like the VIP (no "10/8" shorthand): install.sh must accept the same strings.
    const [addr = "", bits = "", ...more] = p.split("/");
    let family: IpFamily;
    try {
      ({ family } = parseIp(addr));
    } catch {
      return fail(`has pool ${JSON.stringify(p)} that is not a CIDR or range ${example}`);
    }
    const max = family === 4 ? 32 : 128;
    if (more.length > 0 || !/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > max) {
      return fail(`has pool ${JSON.stringify(p)} that is not a CIDR or range ${example}`);
    }
    return p;
  });
}

function compareBytes(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
