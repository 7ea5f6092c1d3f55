// A small stand-in image archive for tests that place one: a real OCI
// archive layout (oci-layout, index.json naming the image) without the
// blobs, so the installer's check reads it as the image it names.
import { tarBytes } from "../tar.ts";

export function standInArchive(ref: string, note = ""): Buffer {
  const index = { schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 0, annotations: { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref.split(":").pop() ?? "" } }] };
  return tarBytes(
    [
      { type: "file", path: "oci-layout", mode: 0o644, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { type: "file", path: "index.json", mode: 0o644, data: Buffer.from(JSON.stringify(index)) },
      ...(note ? [{ type: "file" as const, path: "NOTE", mode: 0o644, data: Buffer.from(note) }] : []),
    ],
    { mtime: 0 },
  );
}
