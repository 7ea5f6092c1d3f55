import type { Command } from "commander";
import { badValue, type Distro, DISTROS, RuntimeError } from "../config/index.ts";
import { addConfigOptions, configFlags, configFromCommand } from "./options.ts";

export function registerDoctor(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("Check this server for k3vip: interface, VIP in use, ports, other load balancers, API certificate, datastore")
    .option("--root <dir>", "check a prepared tree instead of the host (no host probing)")
    .option("--kubeconfig <file>", "also look for kube-vip/MetalLB/Cilium L2 through this cluster's API (default: the distro's, on the host)")
    .option("--json", "print the checks as JSON on stdout");
  addConfigOptions(cmd).action(async () => {
    const f = cmd.opts<{ root?: string; json?: boolean; kubeconfig?: string }>();
    const flags = configFlags(cmd);
    const given = Object.keys(flags).length > 0 || process.env.K3VIP_VIP !== undefined || process.env.vipAddress !== undefined;
    const config = given ? configFromCommand(cmd, "install") : undefined;
    if (flags.distro !== undefined && !DISTROS.includes(flags.distro as Distro)) throw badValue("--distro", flags.distro, `is not one of: ${DISTROS.join(", ")}`);
    const inst = await import("../installer/index.ts");
    const kube = await import("../kube/index.ts");
    const host = await import("../host/index.ts");
    const { ADDON_FILENAME } = await import("../render/index.ts");
    const root = f.root ?? "";
    const r = await inst.doctor(
      { root, ...(config ? { config } : {}), ...(flags.distro ? { distro: flags.distro as Distro } : {}), ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}) },
      { fs: new inst.NodeFs(), ...(root ? {} : { host: new host.RealHostProbe() }), checker: new inst.LiveDatastoreChecker(), manifestName: ADDON_FILENAME, kube: (p) => kube.KubeObjectDeleter.fromFile(p) },
    );
    if (f.json === true) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else for (const c of r.checks) process.stderr.write(`${inst.formatCheck(c)}\n`);
    if (!r.ok) throw new RuntimeError(`${r.checks.filter((c) => c.status === "fail").length} check(s) failed: fix the ✗ lines`, 1);
  });
}
