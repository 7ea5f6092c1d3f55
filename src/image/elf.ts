// A minimal ELF reader: enough to check which machine a file is built for and
// which shared libraries it loads (PT_INTERP, DT_NEEDED, DT_SONAME). Pure:
// takes the file's bytes, returns facts; never throws on non-ELF input.

export interface ElfInfo {
  class: 32 | 64;
  littleEndian: boolean;
  /** e_type: 2 = executable, 3 = shared object / PIE. */
  type: number;
  /** e_machine: 62 x86-64, 183 AArch64, 40 ARM. */
  machine: number;
  /** e_flags; for ARM, 0x400 (EF_ARM_ABI_FLOAT_HARD) marks hard-float (armhf). */
  flags: number;
  /** Program interpreter (the dynamic loader), when the file has one. */
  interpreter?: string;
  /** DT_NEEDED entries, in order. */
  needed: string[];
  soname?: string;
}

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_ARM = 40;
export const EF_ARM_ABI_FLOAT_HARD = 0x400;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;

/** True when the bytes start with the ELF magic. */
export function isElf(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** Parses the header, program headers and dynamic section; undefined if not a readable ELF file. */
export function parseElf(bytes: Uint8Array): ElfInfo | undefined {
  if (!isElf(bytes) || bytes.length < 52) return undefined;
  const cls = bytes[4] === 2 ? 64 : bytes[4] === 1 ? 32 : 0;
  const le = bytes[5] === 1 ? true : bytes[5] === 2 ? false : undefined;
  if (cls === 0 || le === undefined) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inRange = (off: number, len: number) => off >= 0 && len >= 0 && off + len <= bytes.length;
  const u16 = (off: number) => view.getUint16(off, le);
  const u32 = (off: number) => view.getUint32(off, le);
  const word = (off: number): number => (cls === 64 ? Number(view.getBigUint64(off, le)) : u32(off));
  const wsz = cls === 64 ? 8 : 4;
  if (cls === 64 && bytes.length < 64) return undefined;

  const type = u16(16);
  const machine = u16(18);
  const phoff = word(cls === 64 ? 32 : 28);
  const flags = u32(cls === 64 ? 48 : 36);
  const phentsize = u16(cls === 64 ? 54 : 42);
  const phnum = u16(cls === 64 ? 56 : 44);
  const info: ElfInfo = { class: cls, littleEndian: le, type, machine, flags, needed: [] };

  interface Seg {
    type: number;
    offset: number;
    vaddr: number;
    filesz: number;
  }
  const segs: Seg[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (!inRange(p, cls === 64 ? 56 : 32)) break;
    // Elf64_Phdr: type u32, flags u32, offset, vaddr, paddr, filesz, memsz, align.
    // Elf32_Phdr: type, offset, vaddr, paddr, filesz, memsz, flags, align (all u32).
    segs.push(
      cls === 64
        ? { type: u32(p), offset: word(p + 8), vaddr: word(p + 16), filesz: word(p + 32) }
        : { type: u32(p), offset: u32(p + 4), vaddr: u32(p + 8), filesz: u32(p + 16) },
    );
  }
  const cstr = (off: number): string | undefined => {
    if (!inRange(off, 0)) return undefined;
    let end = off;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString("latin1");
  };
  // Dynamic entries point at virtual addresses; map them back through PT_LOAD.
  const fileOffset = (vaddr: number): number | undefined => {
    for (const s of segs) {
      if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
    }
    return undefined;
  };

  const interp = segs.find((s) => s.type === PT_INTERP);
  if (interp && inRange(interp.offset, interp.filesz)) {
    const s = cstr(interp.offset);
    if (s !== undefined) info.interpreter = s;
  }
  const dyn = segs.find((s) => s.type === PT_DYNAMIC);
  if (dyn && inRange(dyn.offset, dyn.filesz)) {
    const needed: number[] = [];
    let strtab: number | undefined;
    let soname: number | undefined;
    for (let p = dyn.offset; p + 2 * wsz <= dyn.offset + dyn.filesz; p += 2 * wsz) {
      const tag = word(p);
      const val = word(p + wsz);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) needed.push(val);
      else if (tag === DT_STRTAB) strtab = val;
      else if (tag === DT_SONAME) soname = val;
    }
    const base = strtab === undefined ? undefined : fileOffset(strtab);
    if (base !== undefined) {
      for (const n of needed) {
        const s = cstr(base + n);
        if (s !== undefined) info.needed.push(s);
      }
      if (soname !== undefined) {
        const s = cstr(base + soname);
        if (s !== undefined) info.soname = s;
      }
    }
  }
  return info;
}
