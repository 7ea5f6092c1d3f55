// Layer compression. gzip via node:zlib (its header has no timestamp, so the
// output is reproducible); zstd via the `zstd` CLI (Node 20 has no zstd), -19
// and multi-threaded: zstd's output does not depend on the thread count.
import { spawn } from "node:child_process";
import { gzipSync } from "node:zlib";
import type { Compression } from "./oci.ts";

export const ZSTD_ARGS = ["-19", "-T0", "-q", "-c"];

export async function compress(data: Buffer, c: Compression): Promise<Buffer> {
  if (c === "none") return data;
  if (c === "gzip") return gzipSync(data, { level: 9 });
  return zstd(data);
}

function zstd(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("zstd", ZSTD_ARGS, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new Error("zstd is not installed (needed for --compress zstd): install it (Debian: zstd) or use --compress gzip", { cause: e }) : e),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`zstd ${ZSTD_ARGS.join(" ")} failed (exit ${String(code)}): ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on("error", () => undefined); // the close handler reports the failure
    child.stdin.end(data);
  });
}
