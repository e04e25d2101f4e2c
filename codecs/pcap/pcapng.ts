import { DecodeError } from '../util/errors.js';
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import type { ByteOrder } from './pcap.js';

/**
 * pcapng (draft-ietf-opsawg-pcapng): a list of sections, each a Section Header Block then
 * blocks in the section's byte order. Interface Description Blocks and Enhanced Packet Blocks
 * are decoded; every other block (Simple Packet, Name Resolution, Interface Statistics,
 * custom, obsolete, unknown) is kept as raw bytes so the file can be written back as it was.
 */

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_OPB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_NRB = 0x00000004;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;

export interface PcapngOption {
  code: number;
  /** Unpadded value. */
  value: Uint8Array;
}

/** Options of one block: the list, and whether it was closed by an explicit opt_endofopt. */
export interface PcapngOptions {
  list: PcapngOption[];
  endOfOpt: boolean;
}

export interface PcapngIdb {
  type: 'idb';
  linkType: number;
  reserved: number;
  /** 0 means "no limit" (Wireshark shows "(not set)"). */
  snapLen: number;
  options: PcapngOptions;
}

export interface PcapngEpb {
  type: 'epb';
  interfaceId: number;
  /** The 64-bit timestamp in units of the interface's if_tsresol, as its two halves. */
  tsHigh: number;
  tsLow: number;
  origLen: number;
  data: Uint8Array;
  options: PcapngOptions;
}

export interface PcapngRawBlock {
  type: 'raw';
  blockType: number;
  /** The block body: everything between the leading and trailing total-length fields. */
  body: Uint8Array;
}

export type PcapngBlock = PcapngIdb | PcapngEpb | PcapngRawBlock;

export interface PcapngSection {
  byteOrder: ByteOrder;
  versionMajor: number;
  versionMinor: number;
  /** Signed 64-bit; -1 when the writer did not know it. */
  sectionLength: bigint;
  options: PcapngOptions;
  blocks: PcapngBlock[];
  /** Absolute offsets of each block in `blocks`, for notes such as "skipped block at N". */
  offsets: number[];
}

export interface PcapngFile {
  sections: PcapngSection[];
  /** Bytes from the first block that could not be read to the end of the file, kept raw. */
  trailing?: Uint8Array;
  truncated?: { offset: number; field: string; reason: string };
}

/** Timestamp resolution of an interface: 10^-exp or 2^-exp seconds per unit. */
export interface TsResolution {
  base: 10 | 2;
  exp: number;
}

export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a;
}

function rd16(r: Reader, le: boolean, field: string): number {
  return le ? r.u16le(field) : r.u16(field);
}

function rd32(r: Reader, le: boolean, field: string): number {
  return le ? r.u32le(field) : r.u32(field);
}

const pad4 = (n: number) => (4 - (n & 3)) & 3;

function decodeOptions(r: Reader, le: boolean, path: string): PcapngOptions {
  const list: PcapngOption[] = [];
  while (!r.atEnd()) {
    const code = rd16(r, le, `${path}.options[${list.length}].code`);
    const len = rd16(r, le, `${path}.options[${list.length}].length`);
    if (code === OPT_ENDOFOPT) {
      if (len !== 0) r.fail(`${path}.options.endofopt`, `length ${len}, must be 0`, undefined, r.pos - 2);
      if (!r.atEnd()) r.fail(`${path}.options`, `${r.remaining} bytes after opt_endofopt`);
      return { list, endOfOpt: true };
    }
    const value = r.bytes(len, `${path}.options[${list.length}].value`);
    r.skip(Math.min(pad4(len), r.remaining), `${path}.options[${list.length}].padding`);
    list.push({ code, value });
  }
  return { list, endOfOpt: false };
}

function optionsLength(o: PcapngOptions): number {
  let n = o.endOfOpt ? 4 : 0;
  for (const opt of o.list) n += 4 + opt.value.length + pad4(opt.value.length);
  return n;
}

function encodeOptions(w: Writer, le: boolean, o: PcapngOptions): void {
  for (const opt of o.list) {
    if (le) w.u16le(opt.code).u16le(opt.value.length);
    else w.u16(opt.code).u16(opt.value.length);
    w.bytes(opt.value).zeros(pad4(opt.value.length));
  }
  if (o.endOfOpt) w.u32(0);
}

export function tsResolution(idb: PcapngIdb): TsResolution {
  const opt = idb.options.list.find((o) => o.code === OPT_IF_TSRESOL);
  const v = opt?.value[0];
  if (v === undefined) return { base: 10, exp: 6 };
  return v & 0x80 ? { base: 2, exp: v & 0x7f } : { base: 10, exp: v };
}

/** if_tsoffset: seconds to add to every timestamp of the interface (signed 64-bit). */
export function tsOffset(idb: PcapngIdb, le: boolean): number {
  const v = idb.options.list.find((o) => o.code === OPT_IF_TSOFFSET)?.value;
  if (!v || v.length !== 8) return 0;
  const dv = new DataView(v.buffer, v.byteOffset, 8);
  return Number(dv.getBigInt64(0, le));
}

/** Convert an EPB timestamp to seconds and nanoseconds. */
export function epbTime(epb: PcapngEpb, res: TsResolution, offsetSec = 0): { sec: number; nsec: number } {
  const units = (BigInt(epb.tsHigh) << 32n) | BigInt(epb.tsLow);
  let sec: bigint;
  let nsec: bigint;
  if (res.base === 10) {
    const div = 10n ** BigInt(res.exp);
    sec = units / div;
    const frac = units % div;
    nsec = res.exp <= 9 ? frac * 10n ** BigInt(9 - res.exp) : frac / 10n ** BigInt(res.exp - 9);
  } else {
    const e = BigInt(res.exp);
    sec = units >> e;
    nsec = ((units & ((1n << e) - 1n)) * 1_000_000_000n) >> e;
  }
  return { sec: Number(sec) + offsetSec, nsec: Number(nsec) };
}

function decodeShb(bytes: Uint8Array, start: number): { section: PcapngSection; end: number } {
  const r = new Reader(bytes, start);
  r.u32('pcapng.shb.blockType');
  const lenAt = r.pos;
  r.skip(4, 'pcapng.shb.blockLength');
  const bomBe = r.u32('pcapng.shb.byteOrderMagic');
  let le: boolean;
  if (bomBe === BYTE_ORDER_MAGIC) le = false;
  else if (bomBe === 0x4d3c2b1a) le = true;
  else return r.fail('pcapng.shb.byteOrderMagic', `0x${bomBe.toString(16)} is not 0x1a2b3c4d in either byte order`, undefined, lenAt + 4);
  r.pos = lenAt;
  const blockLen = rd32(r, le, 'pcapng.shb.blockLength');
  if (blockLen < 28 || blockLen & 3) r.fail('pcapng.shb.blockLength', `${blockLen} is not a multiple of 4 of at least 28`, undefined, lenAt);
  r.pos = start;
  const blk = r.sub(blockLen, 'pcapng.shb');
  blk.skip(12, 'pcapng.shb.header');
  const versionMajor = rd16(blk, le, 'pcapng.shb.versionMajor');
  const versionMinor = rd16(blk, le, 'pcapng.shb.versionMinor');
  const a = rd32(blk, le, 'pcapng.shb.sectionLength');
  const b = rd32(blk, le, 'pcapng.shb.sectionLength');
  const sectionLength = BigInt.asIntN(64, le ? (BigInt(b) << 32n) | BigInt(a) : (BigInt(a) << 32n) | BigInt(b));
  const body = blk.sub(blk.remaining - 4, 'pcapng.shb.options');
  const options = decodeOptions(body, le, 'pcapng.shb');
  const trailer = rd32(blk, le, 'pcapng.shb.blockLengthTrailer');
  if (trailer !== blockLen) blk.fail('pcapng.shb.blockLengthTrailer', `${trailer} differs from the leading ${blockLen}`, undefined, blk.pos - 4);
  return {
    section: { byteOrder: le ? 'le' : 'be', versionMajor, versionMinor, sectionLength, options, blocks: [], offsets: [] },
    end: start + blockLen,
  };
}

function decodeBlock(bytes: Uint8Array, start: number, le: boolean, idbCount: number): { block: PcapngBlock; end: number } {
  const r = new Reader(bytes, start);
  const blockType = rd32(r, le, 'pcapng.block.type');
  const blockLen = rd32(r, le, 'pcapng.block.length');
  if (blockLen < 12 || blockLen & 3) r.fail('pcapng.block.length', `${blockLen} is not a multiple of 4 of at least 12`, undefined, start + 4);
  r.pos = start;
  const blk = r.sub(blockLen, 'pcapng.block');
  blk.skip(8, 'pcapng.block.header');
  const body = blk.sub(blockLen - 12, 'pcapng.block.body');
  const trailer = rd32(blk, le, 'pcapng.block.lengthTrailer');
  if (trailer !== blockLen) blk.fail('pcapng.block.lengthTrailer', `${trailer} differs from the leading ${blockLen}`, undefined, blk.pos - 4);
  const end = start + blockLen;
  if (blockType === BT_IDB) {
    const linkType = rd16(body, le, 'pcapng.idb.linkType');
    const reserved = rd16(body, le, 'pcapng.idb.reserved');
    const snapLen = rd32(body, le, 'pcapng.idb.snapLen');
    const options = decodeOptions(body, le, 'pcapng.idb');
    return { block: { type: 'idb', linkType, reserved, snapLen, options }, end };
  }
  if (blockType === BT_EPB) {
    const interfaceId = rd32(body, le, 'pcapng.epb.interfaceId');
    if (interfaceId >= idbCount) {
      body.fail('pcapng.epb.interfaceId', `interface ${interfaceId} has no Interface Description Block (${idbCount} in this section)`, undefined, body.pos - 4);
    }
    const tsHigh = rd32(body, le, 'pcapng.epb.tsHigh');
    const tsLow = rd32(body, le, 'pcapng.epb.tsLow');
    const capLen = rd32(body, le, 'pcapng.epb.capLen');
    const origLen = rd32(body, le, 'pcapng.epb.origLen');
    const data = body.bytes(capLen, 'pcapng.epb.data');
    body.skip(Math.min(pad4(capLen), body.remaining), 'pcapng.epb.padding');
    const options = decodeOptions(body, le, 'pcapng.epb');
    return { block: { type: 'epb', interfaceId, tsHigh, tsLow, origLen, data, options }, end };
  }
  return { block: { type: 'raw', blockType, body: body.rest() }, end };
}

/**
 * Decode a pcapng file. A file that does not start with a readable SHB throws DecodeError;
 * a later block that cannot be read ends the file with `truncated` set and the rest raw.
 */
export function decodePcapng(bytes: Uint8Array): PcapngFile {
  const file: PcapngFile = { sections: [] };
  let pos = 0;
  let section: PcapngSection | undefined;
  let idbCount = 0;
  while (pos < bytes.length) {
    try {
      if (bytes.length - pos >= 4 && isPcapngMagic(bytes.subarray(pos, pos + 4))) {
        const { section: s, end } = decodeShb(bytes, pos);
        section = s;
        idbCount = 0;
        file.sections.push(s);
        pos = end;
        continue;
      }
      if (!section) return new Reader(bytes, pos).fail('pcapng.shb', 'file does not start with a Section Header Block');
      const { block, end } = decodeBlock(bytes, pos, section.byteOrder === 'le', idbCount);
      if (block.type === 'idb') idbCount++;
      section.blocks.push(block);
      section.offsets.push(pos);
      pos = end;
    } catch (e) {
      if (!(e instanceof DecodeError) || file.sections.length === 0) throw e;
      file.trailing = bytes.subarray(pos);
      file.truncated = { offset: e.offset, field: e.field, reason: e.reason };
      break;
    }
  }
  if (file.sections.length === 0) throw new DecodeError('pcapng.shb', 0, 'empty file');
  return file;
}

function blockLength(b: PcapngBlock): number {
  if (b.type === 'idb') return 20 + optionsLength(b.options);
  if (b.type === 'epb') return 32 + b.data.length + pad4(b.data.length) + optionsLength(b.options);
  return 12 + b.body.length;
}

function encodeBlock(w: Writer, le: boolean, b: PcapngBlock): void {
  const w16 = (v: number) => (le ? w.u16le(v) : w.u16(v));
  const w32 = (v: number) => (le ? w.u32le(v) : w.u32(v));
  const len = blockLength(b);
  if (b.type === 'idb') {
    w32(BT_IDB);
    w32(len);
    w16(b.linkType);
    w16(b.reserved);
    w32(b.snapLen);
    encodeOptions(w, le, b.options);
  } else if (b.type === 'epb') {
    w32(BT_EPB);
    w32(len);
    w32(b.interfaceId);
    w32(b.tsHigh);
    w32(b.tsLow);
    w32(b.data.length);
    w32(b.origLen);
    w.bytes(b.data).zeros(pad4(b.data.length));
    encodeOptions(w, le, b.options);
  } else {
    w32(b.blockType);
    w32(len);
    w.bytes(b.body);
  }
  w32(len);
}

export function encodePcapng(file: PcapngFile): Uint8Array {
  const w = new Writer(4096);
  for (const s of file.sections) {
    const le = s.byteOrder === 'le';
    const w16 = (v: number) => (le ? w.u16le(v) : w.u16(v));
    const w32 = (v: number) => (le ? w.u32le(v) : w.u32(v));
    const len = 28 + optionsLength(s.options);
    w.u32(BT_SHB);
    w32(len);
    w32(BYTE_ORDER_MAGIC);
    w16(s.versionMajor);
    w16(s.versionMinor);
    const sl = BigInt.asUintN(64, s.sectionLength);
    const hi = Number(sl >> 32n);
    const lo = Number(sl & 0xffffffffn);
    if (le) w.u32le(lo).u32le(hi);
    else w.u32(hi).u32(lo);
    encodeOptions(w, le, s.options);
    w32(len);
    for (const b of s.blocks) encodeBlock(w, le, b);
  }
  if (file.trailing) w.bytes(file.trailing);
  return w.finish();
}

export function blockTypeName(t: number): string {
  switch (t) {
    case BT_SHB: return 'Section Header Block';
    case BT_IDB: return 'Interface Description Block';
    case BT_OPB: return 'Packet Block (obsolete)';
    case BT_SPB: return 'Simple Packet Block';
    case BT_NRB: return 'Name Resolution Block';
    case BT_ISB: return 'Interface Statistics Block';
    case BT_EPB: return 'Enhanced Packet Block';
    case 0x00000bad: case 0x40000bad: return 'Custom Block';
    case 0x0000000a: return 'Decryption Secrets Block';
    default: return 'unknown block';
  }
}
