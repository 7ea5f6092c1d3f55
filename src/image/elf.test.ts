// The ELF reader on real binaries of this host, and on hand-made headers for
// the other arches (the lab test reads the real arm64/armv7 binaries).
import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { describe, it } from "node:test";
import { ARCH_INFO } from "./arch.ts";
import { EF_ARM_ABI_FLOAT_HARD, EM_AARCH64, EM_ARM, EM_X86_64, isElf, parseElf } from "./elf.ts";
import { checkElfArch } from "./rootfs.ts";

const hostMachine = process.arch === "x64" ? EM_X86_64 : process.arch === "arm64" ? EM_AARCH64 : EM_ARM;

/** A minimal ELF header (no program headers) for a machine, class and byte order. */
function header(machine: number, cls: 32 | 64, le = true, flags = 0, type = 2): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, le ? 1 : 2, 1], 0);
  const w16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w16(type, 16);
  w16(machine, 18);
  w32(flags, cls === 64 ? 48 : 36);
  return b;
}

describe("parseElf on real binaries", () => {
  it("reads node's machine, class, interpreter and libc dependency", () => {
    const e = parseElf(readFileSync(realpathSync(process.execPath)));
    assert.ok(e);
    assert.equal(e.machine, hostMachine);
    assert.equal(e.class, process.arch === "arm" ? 32 : 64);
    assert.equal(e.littleEndian, true);
    assert.match(e.interpreter ?? "", /^\/lib(64)?\/ld-linux/);
    assert.ok(e.needed.includes("libc.so.6"), e.needed.join(","));
  });

  it("lists ip's libraries in DT_NEEDED order, as readelf -d does", () => {
    const e = parseElf(readFileSync(realpathSync("/usr/bin/ip")));
    assert.ok(e);
    assert.deepEqual(e.needed, ["libbpf.so.1", "libelf.so.1", "libmnl.so.0", "libbsd.so.0", "libcap.so.2", "libc.so.6"]);
  });

  it("reads a shared library's SONAME and no interpreter", () => {
    const lib = `/lib/${process.arch === "x64" ? "x86_64" : "aarch64"}-linux-gnu/libmnl.so.0`;
    const e = parseElf(readFileSync(realpathSync(lib)));
    assert.ok(e);
    assert.equal(e.soname, "libmnl.so.0");
    assert.equal(e.interpreter, undefined);
    assert.equal(e.type, 3);
  });
});

describe("parseElf on headers", () => {
  it("reads e_machine for each arch, both classes and byte orders", () => {
    assert.equal(parseElf(header(EM_AARCH64, 64))?.machine, EM_AARCH64);
    assert.equal(parseElf(header(EM_ARM, 32))?.machine, EM_ARM);
    assert.equal(parseElf(header(EM_ARM, 32))?.class, 32);
    const be = parseElf(header(EM_AARCH64, 64, false));
    assert.equal(be?.machine, EM_AARCH64);
    assert.equal(be?.littleEndian, false);
  });

  it("returns undefined for non-ELF or truncated input, without throwing", () => {
    assert.equal(isElf(Buffer.from("#!/bin/sh\n")), false);
    assert.equal(parseElf(Buffer.from("#!/bin/sh\n")), undefined);
    assert.equal(parseElf(header(EM_ARM, 32).subarray(0, 20)), undefined);
    const badClass = header(EM_ARM, 32);
    badClass[4] = 7;
    assert.equal(parseElf(badClass), undefined);
    // Program header table pointing past the end: facts from the ELF header only.
    const h = header(EM_X86_64, 64);
    h.writeBigUInt64LE(10_000n, 32);
    h.writeUInt16LE(56, 54);
    h.writeUInt16LE(3, 56);
    assert.deepEqual(parseElf(h)?.needed, []);
  });
});

describe("checkElfArch", () => {
  it("accepts matching binaries and ignores non-ELF files", () => {
    const files = [
      { path: "/usr/local/bin/node", data: header(EM_AARCH64, 64) },
      { path: "/etc/passwd", data: Buffer.from("root:x:0:0::/:/x\n") },
    ];
    assert.deepEqual(checkElfArch(ARCH_INFO.arm64, files), []);
  });

  it("names each file of another arch or class", () => {
    const problems = checkElfArch(ARCH_INFO.arm64, [
      { path: "/bin/ip", data: header(EM_X86_64, 64) },
      { path: "/lib/x.so", data: header(EM_AARCH64, 32) },
    ]);
    assert.deepEqual(problems.map((p) => p.path), ["/bin/ip", "/lib/x.so"]);
    assert.match(problems[0]?.problem ?? "", /e_machine 62, expected 183/);
  });

  it("refuses a soft-float ARM executable in the armhf image", () => {
    const soft = header(EM_ARM, 32, true, 0x5000200);
    const hard = header(EM_ARM, 32, true, 0x5000000 | EF_ARM_ABI_FLOAT_HARD);
    assert.deepEqual(checkElfArch(ARCH_INFO.arm, [{ path: "/x", data: hard }]), []);
    assert.equal(checkElfArch(ARCH_INFO.arm, [{ path: "/x", data: soft }]).length, 1);
  });
});
