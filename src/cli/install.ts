import { Option, type Command } from "commander";
import type { InstallOptions } from "../installer/index.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "../config/index.ts";
import { addConfigOptions, configFlags, configFromCommand } from "./options.ts";

interface InstallFlags {
  root?: string;
  datastore?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  clusterInit?: boolean;
  join?: boolean;
  token?: string;
  tokenFile?: string;
  tlsSan?: string[];
  migrate?: boolean;
  dryRun?: boolean;
  preflight: boolean;
  airgap?: boolean;
  /** A file, or false for --no-image-archive. */
  imageArchive?: string | false;
  arch?: string;
  kubeconfig?: string;
  json?: boolean;
}

export function registerInstall(program: Command): void {
  const cmd = program
    .command("install")
    .description("Write the k3vip add-on and a config.yaml.d drop-in (tls-san, datastore, join) for k3s or RKE2")
    .option("--root <dir>", "prefix every path with <dir> and do not probe the host (tests, image preparation)")
    .option("--datastore <endpoint>", "external datastore: mysql://user:pass@tcp(host:3306)/db, postgres://user:pass@host:5432/db, or https://etcd1:2379,…")
    .option("--datastore-cafile <file>", "CA that signed the datastore's certificate")
    .option("--datastore-certfile <file>", "client certificate for the datastore")
    .option("--datastore-keyfile <file>", "client key for the datastore")
    .option("--cluster-init", "first server of an embedded-etcd cluster")
    .option("--join", "join an embedded-etcd cluster through the VIP (needs --token or --token-file)")
    .option("--token <token>", "cluster token (written to the 0600 drop-in, never printed)")
    .option("--token-file <file>", "read the cluster token from a file")
    .addOption(new Option("--tls-san <name>", "extra name or address for the API certificate (repeatable)").argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option("--kubeconfig <file>", "kubeconfig for the cluster scan and --migrate's deletes (default: the distro's, on the host)")
    .option("--migrate", "remove an existing kube-vip manifest or static pod (backed up; uninstall restores it)")
    .option("--airgap", "place the image archive in the airgap images dir, for a server that cannot pull (default: none, the node pulls the image): --image-archive's file, else the one shipped with k3vip, cached, or built now (needs npm and apt-get)")
    .option("--image-archive <file>", "image archive (.tar, .tar.gz, .tar.zst) to place in the airgap images dir (implies --airgap)")
    .option("--no-image-archive", "place no image archive: the node pulls the image (the default)")
    .option("--arch <arch>", "architecture of the --airgap archive: amd64, arm64 or arm (default: this machine's)")
    .option("--dry-run", "print a diff of what would change and write nothing")
    .option("--no-preflight", "skip the preflight checks")
    .option("--json", "print a machine-readable summary on stdout");
  addConfigOptions(cmd).action(async () => {
    const f = cmd.opts<InstallFlags>();
    const config = configFromCommand(cmd, "install");
    const explicit = configFlags(cmd).distro ?? process.env.K3VIP_DISTRO;
    const { parseImageArch } = await import("../installer/index.ts");
    if (f.airgap && f.imageArchive === false) throw new UsageError("--airgap places an image archive and --no-image-archive places none: give one of them");
    const airgap = f.airgap === true || typeof f.imageArchive === "string";
    if (f.arch !== undefined && !airgap) throw new UsageError(`--arch ${JSON.stringify(f.arch)} picks the image archive's architecture; it needs --airgap or --image-archive (without them the node pulls its own arch from the image's index)`);
    const imageArch = f.arch === undefined ? undefined : parseImageArch(f.arch);
    await runInstall(
      {
        config,
        root: f.root ?? "",
        ...(explicit ? { distro: config.distro } : {}),
        ...(f.datastore !== undefined ? { datastore: f.datastore } : {}),
        ...(f.datastoreCafile ? { datastoreCafile: f.datastoreCafile } : {}),
        ...(f.datastoreCertfile ? { datastoreCertfile: f.datastoreCertfile } : {}),
        ...(f.datastoreKeyfile ? { datastoreKeyfile: f.datastoreKeyfile } : {}),
        clusterInit: f.clusterInit === true,
        join: f.join === true,
        ...(f.token !== undefined ? { token: f.token } : {}),
        ...(f.tokenFile !== undefined ? { tokenFile: f.tokenFile } : {}),
        tlsSans: f.tlsSan ?? [],
        migrate: f.migrate === true,
        dryRun: f.dryRun === true,
        preflight: f.preflight,
        ...(typeof f.imageArchive === "string" ? { imageArchive: f.imageArchive } : {}),
        airgap,
        ...(imageArch ? { imageArch } : {}),
        ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
      },
      f.json === true,
    );
  });
}

async function runInstall(o: InstallOptions, json: boolean): Promise<void> {
  const inst = await import("../installer/index.ts");
  const kube = await import("../kube/index.ts");
  const host = await import("../host/index.ts");
  const { renderAddon, ADDON_FILENAME } = await import("../render/index.ts");
  const reporter = inst.reporterFor(json);
  const r = await inst.install(o, {
    fs: new inst.NodeFs(),
    ...(o.root ? {} : { host: new host.RealHostProbe() }),
    checker: new inst.LiveDatastoreChecker(),
    render: (c) => renderAddon(c),
    manifestName: ADDON_FILENAME,
    reporter,
    version: VERSION,
    kube: (p) => kube.KubeObjectDeleter.fromFile(p),
    inspect: async (b) => (await import("../image/index.ts")).archiveRefs(b),
    images: async (arch) => {
      const { imageArchiveFor } = await import("../image/index.ts");
      return reporter.step(`find or build the ${arch} image archive`, () => imageArchiveFor(arch, { log: (l) => reporter.line(`  ${l}`) }));
    },
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  if (r.status === "dry-run") {
    process.stdout.write(r.diff === "" ? "" : r.diff ?? "");
    reporter.line(r.changes.length + r.sysctls.length === 0 ? "dry run: up to date, nothing would change" : `dry run: ${r.changes.length} file(s)${r.sysctls.length > 0 ? ` and ${r.sysctls.length} running sysctl(s)` : ""} would change; nothing was written`);
  } else if (r.status === "up-to-date") reporter.line(`k3vip is up to date (${r.distro}): nothing changed`);
  else for (const c of r.changes) reporter.line(`  ${c.kind} ${c.label}: ${c.path}`);
  const img = r.image;
  reporter.line(img.archive ? `image: ${img.ref} from ${img.archive} (${img.arch ?? ""}, ${img.source})` : `image: ${img.ref}, pulled by the node (no archive placed; --airgap places one for a server that cannot pull)`);
  for (const n of r.notes) reporter.line(`note: ${n}`);
}
