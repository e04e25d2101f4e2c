import { DecodeError } from '../util/errors.js';
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';

/**
 * Classic libpcap files: a 24-byte global header then records of a 16-byte header and the
 * captured bytes. The magic tells both the byte order of the writer and whether record
 * timestamps carry microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d).
 */

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

export type ByteOrder = 'le' | 'be';

export interface PcapHeader {
  byteOrder: ByteOrder;
  /** Record timestamps are in nanoseconds (magic 0xa1b23c4d) rather than microseconds. */
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  /** GMT-to-local correction, signed; always 0 in practice but kept for the round trip. */
  thisZone: number;
  sigFigs: number;
  snapLen: number;
  /** LINKTYPE_* value: the low 16 bits of the header's network field. */
  linkType: number;
  /**
   * The upper 16 bits of the network field: FCS length and its flag (draft-ietf-opsawg-pcap),
   * otherwise reserved. Real files set them (mpls-label-heapoverflow.pcap has 0x3000).
   */
  linkTypeFlags: number;
}

export interface PcapRecord {
  tsSec: number;
  /** Microseconds or nanoseconds, per `PcapHeader.nanosecond`. */
  tsFrac: number;
  /** Length of the packet on the wire; `data.length` is the captured length. */
  origLen: number;
  data: Uint8Array;
}

export interface PcapFile {
  header: PcapHeader;
  records: PcapRecord[];
  /**
   * Bytes after the last whole record (a file cut short in the middle of a record). Kept so
   * that even such a file is written back unchanged; `truncated` says what was wrong.
   */
  trailing?: Uint8Array;
  truncated?: { offset: number; field: string; reason: string };
}

export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  const le = ((b[3]! << 24) >>> 0) + ((b[2]! << 16) | (b[1]! << 8) | b[0]!);
  return be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC || le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC;
}

function u16(r: Reader, le: boolean, field: string): number {
  return le ? r.u16le(field) : r.u16(field);
}

function u32(r: Reader, le: boolean, field: string): number {
  return le ? r.u32le(field) : r.u32(field);
}

export function decodePcapHeader(r: Reader): PcapHeader {
  const start = r.pos;
  const magicBe = r.u32('pcap.magic');
  let byteOrder: ByteOrder;
  let nanosecond: boolean;
  if (magicBe === PCAP_MAGIC_USEC || magicBe === PCAP_MAGIC_NSEC) {
    byteOrder = 'be';
    nanosecond = magicBe === PCAP_MAGIC_NSEC;
  } else {
    r.pos = start;
    const magicLe = r.u32le('pcap.magic');
    if (magicLe !== PCAP_MAGIC_USEC && magicLe !== PCAP_MAGIC_NSEC) {
      r.fail('pcap.magic', `not a pcap magic number (0x${magicBe.toString(16).padStart(8, '0')})`, undefined, start);
    }
    byteOrder = 'le';
    nanosecond = magicLe === PCAP_MAGIC_NSEC;
  }
  const le = byteOrder === 'le';
  const versionMajor = u16(r, le, 'pcap.versionMajor');
  const versionMinor = u16(r, le, 'pcap.versionMinor');
  const thisZone = u32(r, le, 'pcap.thisZone') | 0;
  const sigFigs = u32(r, le, 'pcap.sigFigs');
  const snapLen = u32(r, le, 'pcap.snapLen');
  const network = u32(r, le, 'pcap.linkType');
  return {
    byteOrder,
    nanosecond,
    versionMajor,
    versionMinor,
    thisZone,
    sigFigs,
    snapLen,
    linkType: network & 0xffff,
    linkTypeFlags: network >>> 16,
  };
}

/**
 * Decode a whole pcap file. A bad global header throws DecodeError; a record cut short ends
 * the file with `truncated` set (tshark also shows the packets before such a record).
 */
export function decodePcap(bytes: Uint8Array): PcapFile {
  const r = new Reader(bytes);
  const header = decodePcapHeader(r);
  const le = header.byteOrder === 'le';
  const records: PcapRecord[] = [];
  const file: PcapFile = { header, records };
  while (!r.atEnd()) {
    const start = r.pos;
    try {
      const n = records.length;
      const tsSec = u32(r, le, `pcap.record[${n}].tsSec`);
      const tsFrac = u32(r, le, `pcap.record[${n}].tsFrac`);
      const capLen = u32(r, le, `pcap.record[${n}].capLen`);
      const origLen = u32(r, le, `pcap.record[${n}].origLen`);
      // Reader.bytes is a bounds-checked view, so a lying capLen never allocates.
      const data = r.bytes(capLen, `pcap.record[${n}].data`);
      records.push({ tsSec, tsFrac, origLen, data });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      file.trailing = bytes.subarray(start);
      file.truncated = { offset: e.offset, field: e.field, reason: e.reason };
      break;
    }
  }
  return file;
}

export function encodePcapHeader(w: Writer, h: PcapHeader): void {
  const le = h.byteOrder === 'le';
  const w16 = (v: number) => (le ? w.u16le(v) : w.u16(v));
  const w32 = (v: number) => (le ? w.u32le(v) : w.u32(v));
  w32(h.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
  w16(h.versionMajor);
  w16(h.versionMinor);
  w32(h.thisZone >>> 0);
  w32(h.sigFigs);
  w32(h.snapLen);
  w32((((h.linkTypeFlags & 0xffff) << 16) | (h.linkType & 0xffff)) >>> 0);
}

export function encodePcap(file: PcapFile): Uint8Array {
  let size = PCAP_HEADER_LEN + (file.trailing?.length ?? 0);
  for (const rec of file.records) size += PCAP_RECORD_HEADER_LEN + rec.data.length;
  const w = new Writer(size);
  encodePcapHeader(w, file.header);
  const le = file.header.byteOrder === 'le';
  for (const rec of file.records) {
    if (le) w.u32le(rec.tsSec).u32le(rec.tsFrac).u32le(rec.data.length).u32le(rec.origLen);
    else w.u32(rec.tsSec).u32(rec.tsFrac).u32(rec.data.length).u32(rec.origLen);
    w.bytes(rec.data);
  }
  if (file.trailing) w.bytes(file.trailing);
  return w.finish();
}
