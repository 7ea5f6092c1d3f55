import { Option, type Command } from "commander";

export function registerImage(program: Command): void {
  const image = program.command("image").description("Build the agent image without a registry or a container daemon");
  const build = image
    .command("build")
    .description("Write an image archive (OCI layout or docker-archive) that k3s/RKE2 import from agent/images/")
    .requiredOption("--arch <arch>", "amd64, arm64, arm (armv7) or all (a multi-arch OCI index)")
    .requiredOption("--out <file>", "archive to write (a .tar; its layers are compressed inside)")
    .addOption(new Option("--format <format>", "oci (OCI image layout) or docker (docker-archive)").default("oci"))
    .addOption(new Option("--compress <algorithm>", "layer compression: zstd, gzip or none (default: zstd for oci, gzip for docker)"))
    .option("--image <ref>", "tag the image with this reference (default: the manifest's image)")
    .option("--json", "print the result as JSON on stdout")
    .option("-q, --quiet", "no progress on stderr");
  build.action(async () => {
    const o = build.opts<{ arch: string; out: string; format: string; compress?: string; image?: string; json?: boolean; quiet?: boolean }>();
    const { parseArchList, buildImage } = await import("../image/index.ts");
    const { UsageError } = await import("../config/index.ts");
    const arches = parseArchList(o.arch);
    if (o.format !== "oci" && o.format !== "docker") throw new UsageError(`--format ${JSON.stringify(o.format)} is not an archive format (valid: oci, docker)`);
    const compress = o.compress;
    if (compress !== undefined && compress !== "zstd" && compress !== "gzip" && compress !== "none") {
      throw new UsageError(`--compress ${JSON.stringify(compress)} is not a layer compression (valid: zstd, gzip, none)`);
    }
    const r = await buildImage({
      arches,
      out: o.out,
      format: o.format,
      ...(compress ? { compress } : {}),
      ...(o.image ? { image: o.image } : {}),
      log: o.quiet ? () => undefined : (line) => process.stderr.write(`k3vip: ${line}\n`),
    });
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (o.json || o.quiet) return;
    process.stderr.write(`k3vip: import now with: k3s ctr images import ${r.out}   (or copy it to /var/lib/rancher/k3s/agent/images/)\n`);
  });

  const rootfs = image
    .command("rootfs")
    .description("Write the image's files into a directory (the Dockerfile's build stage uses this)")
    .requiredOption("--arch <arch>", "amd64, arm64 or arm (armv7)")
    .requiredOption("--out <dir>", "directory to fill")
    .option("-q, --quiet", "no progress on stderr");
  rootfs.action(async () => {
    const o = rootfs.opts<{ arch: string; out: string; quiet?: boolean }>();
    const { parseArchList, buildRootfs } = await import("../image/index.ts");
    const { UsageError } = await import("../config/index.ts");
    const arches = parseArchList(o.arch);
    const arch = arches[0];
    if (arches.length !== 1 || !arch) throw new UsageError(`--arch ${JSON.stringify(o.arch)} must name one architecture for a rootfs (valid: amd64, arm64, arm)`);
    const r = await buildRootfs({ arch, dir: o.out, ...(o.quiet ? {} : { log: (line: string) => process.stderr.write(`k3vip: ${line}\n`) }) });
    if (!o.quiet) process.stderr.write(`k3vip: wrote ${r.files} files under ${o.out}\n`);
  });
}
