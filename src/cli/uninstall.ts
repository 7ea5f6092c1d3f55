import type { Command } from "commander";
import { DISTROS, badValue, type Distro } from "../config/index.ts";
import type { UninstallOptions } from "../installer/index.ts";

interface UninstallFlags {
  root?: string;
  distro?: string;
  kubeconfig?: string;
  deleteObjects: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerUninstall(program: Command): void {
  const cmd = program
    .command("uninstall")
    .description("Remove exactly what k3vip install wrote (restoring what it replaced) and delete the add-on's objects")
    .option("--root <dir>", "the --root given to install")
    .option("--distro <k3s|rke2>", "which install to remove (default: the one with a k3vip state record)")
    .option("--kubeconfig <file>", "kubeconfig for deleting the objects (default: the distro's)")
    .option("--no-delete-objects", "leave the cluster alone; print the kubectl command instead")
    .option("--dry-run", "print what would be removed and change nothing")
    .option("--json", "print a machine-readable summary on stdout")
    .action(async () => {
      const f = cmd.opts<UninstallFlags>();
      if (f.distro !== undefined && !DISTROS.includes(f.distro as Distro)) throw badValue("--distro", f.distro, `is not one of: ${DISTROS.join(", ")}`);
      const o: UninstallOptions = {
        root: f.root ?? "",
        ...(f.distro ? { distro: f.distro as Distro } : {}),
        ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}),
        deleteObjects: f.deleteObjects,
        dryRun: f.dryRun === true,
      };
      const inst = await import("../installer/index.ts");
      const kube = await import("../kube/index.ts");
      const host = await import("../host/index.ts");
      const { addonObjects } = await import("../render/index.ts");
      const reporter = inst.reporterFor(f.json === true);
      const r = await inst.uninstall(o, { fs: new inst.NodeFs(), reporter, objects: addonObjects, deleter: (p) => kube.KubeObjectDeleter.fromFile(p), ...(o.root ? {} : { sysctl: new host.RealHostProbe() }) });
      if (f.json === true) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      if (r.status === "dry-run") process.stdout.write(r.diff ?? "");
      const verb = (k: string) => (r.status === "dry-run" ? (k === "delete" ? "would remove" : "would restore") : k === "delete" ? "removed" : "restored");
      for (const c of r.changes) reporter.line(`  ${verb(c.kind)} ${c.label}: ${c.path}`);
      for (const x of r.objects) reporter.line(`  ${x.outcome} ${x.ref}`);
      for (const n of r.notes) reporter.line(`note: ${n}`);
      for (const c of r.commands) reporter.line(`  ${c}`);
    });
}
