// Generators (`npm run gen`; `--check` only reports stale files). Outputs are
// committed; scripts/gen.test.ts fails when one is stale.
//   src/render/templates.generated.ts  manifests/*.mustache as strings (render stays pure)
//   install.sh                         scripts/install.sh.in + install.awk + option table + template
//   docs/options.md                    the option table for humans
//   docs/kube-vip.md                   its block between the GENERATED markers: what the agent does with each kube-vip name
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { defaults, getPath, KUBE_VIP_ENV, OPTIONS, type EnumParser, type IntegerParser, type OptionSpec } from "../src/config/index.ts";
import { viewKey } from "../src/render/view.ts";
import { VERSION } from "../src/version.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

/**
 * How install.sh's awk engine parses each option (scripts/install.awk,
 * parse_value). Bounds and enum values are read from the option's own parser
 * (its error text), so they cannot drift from src/config.
 */
const SH_KINDS: Record<string, "vip" | "interface" | "enum" | "bool" | "int" | "seconds" | "dnslabel" | "dnssub" | "leaseref" | "image" | "listen" | "routerid" | "peers" | "pools" | "hbkey"> = {
  vip: "vip",
  interface: "interface",
  mode: "enum",
  distro: "enum",
  namespace: "dnslabel",
  leaseName: "dnssub",
  handoverLease: "leaseref",
  leaseDuration: "seconds",
  renewDeadline: "seconds",
  retryPeriod: "seconds",
  image: "image",
  imagePullPolicy: "enum",
  metricsAddr: "listen",
  apiPort: "int",
  vipSubnet: "int",
  leaderElection: "bool",
  arpRefresh: "seconds",
  controlPlane: "bool",
  "bgp.localAs": "int",
  "bgp.routerId": "routerid",
  "bgp.peers": "peers",
  "bgp.equinixMetal": "bool",
  "services.enabled": "bool",
  "services.pools": "pools",
  logFormat: "enum",
  heartbeatPort: "int",
  heartbeatKey: "hbkey",
  takeover: "enum",
};


/** The awk engine's kind string for an option, e.g. "int 1 65535 6443", "enum arp bgp": from the parser's own bounds. */
export function shKind(o: OptionSpec): string {
  const kind = SH_KINDS[o.key];
  if (!kind) throw new Error(`option ${o.key} has no install.sh parser: add it to SH_KINDS in scripts/gen.ts (and scripts/install.awk if it is a new kind)`);
  if (kind === "int") {
    const b = (o.parse as Partial<IntegerParser>).bounds;
    if (!b) throw new Error(`option ${o.key}: its parser is not parseInteger (no bounds)`);
    return `int ${b.min} ${b.max} ${b.example}`;
  }
  if (kind === "enum") {
    const values = (o.parse as Partial<EnumParser<string>>).values;
    if (!values) throw new Error(`option ${o.key}: its parser is not parseEnum (no values)`);
    return `enum ${values.join(" ")}`;
  }
  return kind;
}

const awkString = (s: string): string => {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`not printable ASCII: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
};

function installAliases(o: OptionSpec): string[] {
  return o.aliases;
}

function formattedDefault(o: OptionSpec): string {
  return o.format(getPath(defaults(VERSION), o.key));
}

function awkOptions(): string {
  const lines = [
    "# GENERATED from src/config/options.ts by `npm run gen`.",
    "function options() {",
    `\tVERSION = ${awkString(VERSION)}`,
    `\tN = ${OPTIONS.length}`,
  ];
  OPTIONS.forEach((o, i) => {
    const n = i + 1;
    lines.push(
      `\tKEY[${n}] = ${awkString(o.key)}; FLAG[${n}] = ${awkString(o.flag)}; ENVN[${n}] = ${awkString(o.env)}; ALIASES[${n}] = ${awkString(installAliases(o).join(" "))}`,
      `\tKIND[${n}] = ${awkString(shKind(o))}; DEF[${n}] = ${awkString(formattedDefault(o))}; VKEY[${n}] = ${awkString(viewKey(o.key))}`,
    );
  });
  lines.push("}");
  return lines.join("\n");
}

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(indent + line);
  return out;
}

function headerVariables(): string {
  const lines: string[] = [];
  for (const o of OPTIONS) {
    const aliases = installAliases(o);
    const also = [...aliases.map((a) => `alias ${a}`), `flag --${o.flag} ${o.arg}`].join(", ");
    lines.push(`#   - ${o.env} (${also})`);
    const def = formattedDefault(o);
    lines.push(...wrap(`${o.description} Default: ${def === "" ? "(empty)" : def}.`, 78, "#     "));
  }
  return lines.join("\n");
}

function usageFlags(): string {
  return OPTIONS.map((o) => `  --${`${o.flag} ${o.arg}`.padEnd(32)} ${o.env}`).join("\n");
}

function templateFiles(): string[] {
  return readdirSync(join(ROOT, "manifests"))
    .filter((f) => f.endsWith(".mustache"))
    .sort();
}

function templatesModule(): string {
  const entries = templateFiles().map((f) => `  ${JSON.stringify(f)}: ${JSON.stringify(read(`manifests/${f}`))},`);
  return [
    "// GENERATED by `npm run gen` from manifests/*.mustache: edit those, not this file.",
    "// Embedded as strings so src/render needs no file system (and bundles as is).",
    "export const TEMPLATES = {",
    ...entries,
    "} as const;",
    "",
  ].join("\n");
}

function replaceLine(text: string, marker: string, content: string): string {
  const lines = text.split("\n");
  const i = lines.indexOf(marker);
  if (i < 0 || lines.indexOf(marker, i + 1) >= 0) throw new Error(`marker ${marker} must appear exactly once`);
  lines.splice(i, 1, content);
  return lines.join("\n");
}

export function installSh(): string {
  const template = read("manifests/k3vip.yaml.mustache");
  const awk = replaceLine(read("scripts/install.awk"), "#@OPTIONS@", awkOptions());
  for (const [name, body] of [["K3VIP_AWK", awk], ["K3VIP_TEMPLATE", template]] as const) {
    if (body.split("\n").includes(name)) throw new Error(`${name} appears as a line inside its own heredoc`);
  }
  if (!template.endsWith("\n") || template.endsWith("\n\n")) throw new Error("manifests/k3vip.yaml.mustache must end with exactly one newline");
  let sh = read("scripts/install.sh.in");
  sh = replaceLine(sh, "#@HEADER@", headerVariables());
  sh = replaceLine(sh, "@AWK@", awk.replace(/\n$/, ""));
  sh = replaceLine(sh, "@TEMPLATE@", template.replace(/\n$/, ""));
  sh = replaceLine(sh, "@USAGE@", usageFlags());
  sh = sh.replace("K3VIP_VERSION='@VERSION@'", `K3VIP_VERSION='${VERSION}'`);
  sh = sh.replace("DEFAULT_IMAGE='@DEFAULT_IMAGE@'", `DEFAULT_IMAGE='${defaults(VERSION).image}'`);
  sh = sh.replace("KNOWN_FLAGS='@FLAGS@'", `KNOWN_FLAGS='${OPTIONS.map((o) => o.flag).join(" ")}'`);
  sh = sh.replace("BOOL_FLAGS='@BOOL_FLAGS@'", `BOOL_FLAGS='${OPTIONS.filter((o) => o.arg === "<bool>").map((o) => o.flag).join(" ")}'`);
  return sh;
}

const md = (s: string) => s.replace(/\|/g, "\\|");

export function optionsMd(): string {
  const lines = [
    "# k3vip options",
    "",
    "<!-- GENERATED from src/config/options.ts by `npm run gen`: edit that file, not this one. -->",
    "",
    "Every option is a flag of `k3vip manifest` / `k3vip install`, a `K3VIP_*`",
    "environment variable (also for `install.sh` and the agent), and where",
    "kube-vip had a plain one, kube-vip's name (an empty value is unset, as in",
    "kube-vip). Precedence: default < kube-vip name < `K3VIP_*` < flag. The",
    "agent reads every name kube-vip reads: see [kube-vip.md](kube-vip.md). The",
    "DaemonSet passes every agent option to the agent as its `K3VIP_*`",
    "variable; secret options come from the Secret `k3vip-secrets`.",
    "",
    "| Flag | Environment | kube-vip names | Default | Description |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const o of OPTIONS) {
    const aliases = o.aliases.map((a) => `\`${a}\``).join(", ");
    const def = formattedDefault(o);
    const scope = o.scopes.includes("agent") ? "" : " Installer only.";
    const secret = o.secret ? " Secret: masked, stored in a Secret." : "";
    lines.push(`| \`--${o.flag} ${md(o.arg)}\` | \`${o.env}\` | ${aliases || "—"} | ${def === "" ? "(empty)" : `\`${md(def)}\``} | ${md(o.description)}${scope}${secret} |`);
  }
  lines.push(
    "",
    "## install.sh only",
    "",
    "| Flag | Environment | Description |",
    "| --- | --- | --- |",
    "| `--print` | `K3VIP_PRINT=1` | Print the manifest on stdout; write nothing. |",
    "| `--root <dir>` | `K3VIP_ROOT` | Prefix every path written (tests, image preparation). |",
    "| `--airgap` | `K3VIP_AIRGAP=1` | Place the image archive in `<root>/var/lib/rancher/<distro>/agent/images/` for a server that cannot pull: `K3VIP_IMAGE_ARCHIVE`, else the release's `k3vip-v<version>-<arch>.tar` from `K3VIP_RELEASE_URL`. Default: none; the node pulls the image. |",
    "| `--image-archive <file\\|url>` | `K3VIP_IMAGE_ARCHIVE` | Place this image archive in `<root>/var/lib/rancher/<distro>/agent/images/` (implies `--airgap`). |",
    "| `--arch <amd64\\|arm64\\|arm>` | `K3VIP_ARCH` | Architecture of the placed archive, for its name and the release download (default: `uname -m`); only with `--airgap` or `--image-archive`. |",
    "| — | `K3VIP_RELEASE_URL` | Where `--airgap` downloads the archive (a mirror of the release's files). Default: `https://github.com/k3vip/k3vip/releases/download/v<version>`. |",
    "",
  );
  return lines.join("\n");
}

const KV_BEGIN = "<!-- BEGIN GENERATED from src/config/kubevip.ts by `npm run gen` -->";
const KV_END = "<!-- END GENERATED -->";

/** docs/kube-vip.md with its table of kube-vip's names regenerated (the prose around it is hand-written). */
export function kubeVipMd(current: string): string {
  const a = current.indexOf(KV_BEGIN);
  const b = current.indexOf(KV_END);
  if (a < 0 || b < a) throw new Error(`docs/kube-vip.md: the markers ${KV_BEGIN} … ${KV_END} are missing`);
  const what = { mapped: "mapped", used: "used", refused: "refused when true", ignored: "ignored, reported" } as const;
  const rows = Object.entries(KUBE_VIP_ENV).map(([name, d]) => {
    const opt = d.kind === "mapped" ? OPTIONS.find((o) => o.env === d.to) : undefined;
    if (d.kind === "mapped" && !opt) throw new Error(`kube-vip ${name} maps to ${d.to}, which no option has`);
    const detail = d.kind === "mapped" ? `\`${d.to}\` (\`--${opt?.flag ?? ""}\`)` : md(d.why);
    return `| \`${name}\` | ${what[d.kind]} | ${detail} |`;
  });
  const table = ["", "| kube-vip name | k3vip | Option, or why |", "| --- | --- | --- |", ...rows, ""].join("\n");
  return current.slice(0, a + KV_BEGIN.length) + "\n" + table + current.slice(b);
}

/** Every generated file: path relative to the repo root → content. */
export function generate(): Map<string, string> {
  return new Map([
    ["src/render/templates.generated.ts", templatesModule()],
    ["install.sh", installSh()],
    ["docs/options.md", optionsMd()],
    ["docs/kube-vip.md", kubeVipMd(read("docs/kube-vip.md"))],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [path, content] of generate()) {
    let old = "";
    try {
      old = read(path);
    } catch {
      /* new file */
    }
    if (old === content) continue;
    stale++;
    if (check) process.stderr.write(`${path} is stale: run npm run gen\n`);
    else {
      writeFileSync(join(ROOT, path), content, { mode: path.endsWith(".sh") ? 0o755 : 0o644 });
      process.stderr.write(`wrote ${path}\n`);
    }
  }
  if (check && stale > 0) process.exit(1);
}
