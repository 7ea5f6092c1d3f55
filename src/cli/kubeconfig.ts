import { homedir } from "node:os";
import { Option, type Command } from "commander";
import { badValue, DISTROS, parseVip, Problem, RuntimeError, UsageError, type Distro } from "../config/index.ts";

interface Flags {
  vip?: string;
  apiPort?: string;
  root?: string;
  distro?: string;
  from?: string;
  context?: string;
  out?: string;
  merge?: string | boolean;
  use?: boolean;
  check: boolean;
  checkServer?: string;
  json?: boolean;
}

export function registerKubeconfig(program: Command): void {
  const cmd = program
    .command("kubeconfig")
    .description("Write a kubeconfig that reaches the cluster through the VIP (from k3s.yaml / rke2.yaml), then check /readyz through it")
    .option("--vip <address>", "the VIP (default: the one k3vip was installed with)")
    .option("--api-port <port>", "API port behind the VIP (default: the installed one, or 6443)")
    .option("--root <dir>", "the --root given to install")
    .option("--distro <k3s|rke2>", "read this distribution's kubeconfig")
    .option("--from <file>", "source kubeconfig (default: /etc/rancher/<distro>/<distro>.yaml)")
    .option("--context <name>", "name for the cluster, user and context (default: k3vip-<vip>)")
    .option("--out <file>", "write a new kubeconfig file (mode 0600, owned by the directory's owner)")
    .option("--merge [file]", "merge into a kubeconfig (default ~/.kube/config), keeping its entries; backs it up first")
    .option("--use", "with --merge: make the new context current")
    .option("--no-check", "skip the /readyz check through the VIP")
    .addOption(new Option("--check-server <url>", "test only: connect the /readyz check here instead of the VIP").hideHelp())
    .option("--json", "print a machine-readable summary on stdout")
    .action(async () => {
      const f = cmd.opts<Flags>();
      if (f.distro !== undefined && !DISTROS.includes(f.distro as Distro)) throw badValue("--distro", f.distro, `is not one of: ${DISTROS.join(", ")}`);
      const inst = await import("../installer/index.ts");
      const kube = await import("../kube/index.ts");
      const fs = new inst.NodeFs();
      const root = f.root ?? "";
      const installed = await inst.findState(fs, root, f.distro as Distro | undefined);
      let vip = installed?.state.config.vip;
      if (f.vip !== undefined) {
        try {
          vip = parseVip(f.vip);
        } catch (e) {
          if (e instanceof Problem) throw badValue("--vip", f.vip, e.message);
          throw e;
        }
      }
      if (!vip) throw new UsageError("--vip is required: k3vip is not installed here, so give the VIP (example: --vip 192.168.0.10)");
      let apiPort = installed?.state.config.apiPort ?? 6443;
      if (f.apiPort !== undefined) {
        apiPort = Number(f.apiPort);
        if (!/^[0-9]+$/.test(f.apiPort) || apiPort < 1 || apiPort > 65535) throw badValue("--api-port", f.apiPort, "is not a port from 1 to 65535 (example: 6443)");
      }
      const merge = f.merge === true ? kube.HOME_KUBECONFIG(homedir()) : typeof f.merge === "string" ? f.merge : undefined;
      const r = await kube.kubeconfig(
        {
          root,
          vip,
          apiPort,
          ...(f.distro ? { distro: f.distro as Distro } : installed ? { distro: installed.layout.distro } : {}),
          ...(f.from ? { from: f.from } : {}),
          ...(f.context ? { context: f.context } : {}),
          ...(f.out ? { out: f.out } : {}),
          ...(merge ? { merge } : {}),
          use: f.use === true,
          check: f.check,
          ...(f.checkServer ? { checkServer: f.checkServer } : {}),
        },
        { fs, now: () => new Date(), readyz: (kc, v, to) => kube.httpsReadyz(kc, v, to) },
      );
      const { yaml, ...summary } = r;
      if (f.json === true) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else if (!r.written) process.stdout.write(yaml);
      const err = (s: string) => process.stderr.write(`${s}\n`);
      if (r.written) err(`✓ wrote context ${r.context} (${r.server}) to ${r.written}${r.backup ? `; backup: ${r.backup}` : ""}`);
      if (r.note) err(`note: ${r.note}`);
      if (r.readyz) {
        if (r.readyz.ok) err(`✓ ${r.readyz.message}`);
        else {
          err(`✗ ${r.readyz.message}${r.readyz.fix ? `\n    fix: ${r.readyz.fix}` : ""}`);
          // The file is written; the check failing is still a failure to report.
          throw new RuntimeError(`the kubeconfig ${r.written ? "was written" : "was printed"}, but /readyz through the VIP failed: ${r.readyz.fix ?? "see above"}`, 1);
        }
      }
    });
}
