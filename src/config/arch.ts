// The architectures k3vip ships an image for, by every name other tools use,
// and the airgap archive's file name: the contract between `k3vip install`,
// install.sh and the image builder.
import { VERSION } from "../version.ts";
import { UsageError } from "./errors.ts";

export type Arch = "amd64" | "arm64" | "arm";
export const ARCHES: readonly Arch[] = ["amd64", "arm64", "arm"];

/**
 * Maps the names other tools use for the same arch: Node's `process.arch`
 * (x64, arm64, arm), `uname -m` (x86_64, aarch64, armv7l), Debian (armhf).
 * Returns undefined for anything we don't ship (e.g. armv6l, riscv64).
 */
export function archAlias(name: string): Arch | undefined {
  switch (name) {
    case "amd64":
    case "x64":
    case "x86_64":
      return "amd64";
    case "arm64":
    case "aarch64":
      return "arm64";
    // armv8l: a 32-bit userland on a 64-bit CPU runs armv7 binaries.
    case "armv8l":
    case "arm":
    case "armhf":
    case "armv7":
    case "armv7l":
      return "arm";
    default:
      return undefined;
  }
}

/** The image arch for this host (Node's `process.arch`), or a clear error. */
export function hostArch(nodeArch: string = process.arch): Arch {
  const a = archAlias(nodeArch);
  if (!a) throw new UsageError(`this machine's architecture ${JSON.stringify(nodeArch)} has no k3vip image (valid: amd64, arm64, arm)`);
  return a;
}

/** The archive's file name: stable per version and arch, so a rerun is up to date and an upgrade replaces it. */
export function archiveFileName(arch: Arch | "all", version: string = VERSION): string {
  return `k3vip-v${version}-${arch}.tar`;
}
