// Deterministic layers: sorted, uid/gid 0, fixed mtime, parents present, and
// readable by a real tar parser (the tar package's) with the same facts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Parser, type ReadEntry } from "tar";
import { sortEntries, tarBytes, withParents, type TarEntry } from "./tar.ts";

function list(buf: Buffer): Promise<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; size: number; linkpath: string; uname: string; body: string }[]> {
  return new Promise((resolve, reject) => {
    const out: Awaited<ReturnType<typeof list>> = [];
    const p = new Parser({
      onReadEntry: (e: ReadEntry) => {
        const chunks: Buffer[] = [];
        e.on("data", (c: Buffer) => chunks.push(c));
        e.on("end", () =>
          out.push({
            path: e.path,
            type: e.type,
            mode: e.mode ?? -1,
            uid: e.uid ?? -1,
            gid: e.gid ?? -1,
            mtime: (e.mtime?.getTime() ?? -1) / 1000,
            size: e.size ?? -1,
            linkpath: e.linkpath ?? "",
            uname: e.uname ?? "",
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    });
    p.on("end", () => resolve(out));
    p.on("error", reject);
    p.end(buf);
  });
}

const entries: TarEntry[] = [
  { type: "file", path: "/usr/local/bin/node", mode: 0o755, data: Buffer.from("ELF?") },
  { type: "symlink", path: "/lib", target: "usr/lib" },
  { type: "file", path: "/etc/passwd", mode: 0o644, data: Buffer.from("root:x:0:0::/:/x\n") },
  { type: "dir", path: "/tmp", mode: 0o1777 },
];

describe("deterministic tar", () => {
  it("writes entries sorted, parents first, as root with a fixed mtime", async () => {
    const got = await list(tarBytes(withParents(entries), { mtime: 1_700_000_000 }));
    assert.deepEqual(got.map((e) => e.path), ["etc/", "etc/passwd", "lib", "tmp/", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/node"]);
    for (const e of got) {
      assert.equal(e.uid, 0, e.path);
      assert.equal(e.gid, 0, e.path);
      assert.equal(e.uname, "", e.path);
      assert.equal(e.mtime, 1_700_000_000, e.path);
    }
    const byPath = new Map(got.map((e) => [e.path, e]));
    assert.equal(byPath.get("usr/local/bin/node")?.mode, 0o755);
    assert.equal(byPath.get("usr/local/bin/node")?.body, "ELF?");
    assert.equal(byPath.get("lib")?.type, "SymbolicLink");
    assert.equal(byPath.get("lib")?.linkpath, "usr/lib");
    assert.equal(byPath.get("tmp/")?.mode, 0o1777);
    assert.equal(byPath.get("etc/")?.type, "Directory");
  });

  it("gives the same bytes whatever the input order", () => {
    const a = tarBytes(withParents(entries), { mtime: 0 });
    const b = tarBytes(withParents([...entries].reverse()), { mtime: 0 });
    assert.ok(a.equals(b));
    assert.equal(a.length % 512, 0);
  });

  it("keeps a path longer than ustar allows (PAX header)", async () => {
    const long = `/opt/${"d".repeat(120)}/${"f".repeat(150)}`;
    const got = await list(tarBytes([{ type: "file", path: long, mode: 0o644, data: Buffer.from("x") }], { mtime: 0 }));
    assert.deepEqual(got.map((e) => [e.path, e.body]), [[long.slice(1), "x"]]);
  });

  it("refuses two different entries at one path", () => {
    assert.throws(() => sortEntries([entries[0]!, { type: "symlink", path: "usr/local/bin/node", target: "x" }]), /two layer entries for \/usr\/local\/bin\/node/);
  });
});
