// Which distribution is (or will be) on this machine, from files only, so
// `--root` detection looks at the tree and never at the host.
import { DISTROS, UsageError, type Distro } from "../config/index.ts";
import type { Fs } from "./fs.ts";
import { layoutFor } from "./layout.ts";

export interface Detection {
  distro: Distro;
  /** How it was decided, for the preflight line. */
  reason: string;
  /** False when nothing of either distro was found (installing before k3s). */
  found: boolean;
}

/** The evidence that a distro is installed: its binary, data dir or config dir. */
export async function evidence(fs: Fs, distro: Distro, root: string): Promise<string[]> {
  const l = layoutFor(distro, root);
  const found: string[] = [];
  for (const p of [...l.binaries, l.dataDir, l.configDir]) if (await fs.stat(p)) found.push(p);
  return found;
}

export async function detectDistro(fs: Fs, root: string, explicit: Distro | undefined): Promise<Detection> {
  if (explicit) return { distro: explicit, reason: `--distro ${explicit}`, found: (await evidence(fs, explicit, root)).length > 0 };
  const hits = await Promise.all(DISTROS.map(async (d) => ({ d, files: await evidence(fs, d, root) })));
  const present = hits.filter((h) => h.files.length > 0);
  if (present.length > 1) {
    throw new UsageError(
      `--distro is required: found both k3s (${present[0]?.files[0] ?? ""}) and rke2 (${present[1]?.files[0] ?? ""}); give --distro k3s or --distro rke2`,
    );
  }
  const one = present[0];
  if (one) return { distro: one.d, reason: `found ${one.files[0] ?? one.d}`, found: true };
  return { distro: "k3s", reason: "nothing installed yet: assuming k3s (give --distro rke2 for RKE2)", found: false };
}
