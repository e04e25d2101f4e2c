import { DecodeError } from '../util/errors.js';
import { toHex } from '../util/hex.js';
import {
  type ByteOrder,
  type PcapFile,
  decodePcap,
  encodePcap,
  isPcapMagic,
} from './pcap.js';
import {
  type PcapngEpb,
  type PcapngFile,
  type PcapngIdb,
  type PcapngOption,
  OPT_IF_TSRESOL,
  blockTypeName,
  decodePcapng,
  encodePcapng,
  epbTime,
  isPcapngMagic,
  tsOffset,
  tsResolution,
} from './pcapng.js';

/**
 * One view over both capture formats: the packets in file order with their link type, so the
 * dissector need not know which format it reads. `file` keeps the exact decoded file so that
 * `writeCapture` gives back the same bytes.
 */

export interface PacketTime {
  sec: number;
  nsec: number;
}

export interface CapturedPacket {
  ts: PacketTime;
  linkType: number;
  caplen: number;
  origLen: number;
  data: Uint8Array;
  /** Index into `Capture.linkTypes` (pcapng interfaces numbered across all sections). */
  interfaceId: number;
}

interface CaptureBase {
  /** Link type of each interface; a classic pcap has exactly one. */
  linkTypes: number[];
  packets: CapturedPacket[];
  /** Things a reader should know that are not errors in a packet (skipped blocks, a cut file). */
  notes: string[];
}

export type Capture =
  | (CaptureBase & { format: 'pcap'; file: PcapFile })
  | (CaptureBase & { format: 'pcapng'; file: PcapngFile });

export type CaptureFormat = Capture['format'];

/**
 * Read a pcap or pcapng file. Throws DecodeError when the bytes are not a capture at all (bad
 * magic, unreadable first header); a file cut short yields the packets before the cut and a note.
 */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw new DecodeError('capture.magic', 0, `file too short (${bytes.length} bytes) for a capture`);
  if (isPcapngMagic(bytes)) return fromPcapng(decodePcapng(bytes));
  if (isPcapMagic(bytes)) return fromPcap(decodePcap(bytes));
  throw new DecodeError('capture.magic', 0, `not a pcap or pcapng file (magic 0x${toHex(bytes.subarray(0, 4))})`);
}

function fromPcap(file: PcapFile): Capture {
  const h = file.header;
  const scale = h.nanosecond ? 1 : 1000;
  const lt = h.linkType;
  const packets: CapturedPacket[] = new Array(file.records.length);
  for (let i = 0; i < file.records.length; i++) {
    const rec = file.records[i]!;
    packets[i] = {
      ts: { sec: rec.tsSec, nsec: rec.tsFrac * scale },
      linkType: lt,
      caplen: rec.data.length,
      origLen: rec.origLen,
      data: rec.data,
      interfaceId: 0,
    };
  }
  const notes: string[] = [];
  if (file.truncated) {
    const t = file.truncated;
    notes.push(`file cut short: ${t.field} at offset ${t.offset}: ${t.reason} (${file.trailing?.length ?? 0} bytes after the last whole packet)`);
  }
  return { format: 'pcap', file, linkTypes: [lt], packets, notes };
}

function fromPcapng(file: PcapngFile): Capture {
  const linkTypes: number[] = [];
  const packets: CapturedPacket[] = [];
  const notes: string[] = [];
  for (const s of file.sections) {
    const le = s.byteOrder === 'le';
    const base = linkTypes.length;
    const ifaces: { idb: PcapngIdb; res: ReturnType<typeof tsResolution>; offset: number }[] = [];
    for (let i = 0; i < s.blocks.length; i++) {
      const b = s.blocks[i]!;
      if (b.type === 'idb') {
        ifaces.push({ idb: b, res: tsResolution(b), offset: tsOffset(b, le) });
        linkTypes.push(b.linkType);
      } else if (b.type === 'epb') {
        // decodePcapng checked that the interface exists.
        const ifc = ifaces[b.interfaceId]!;
        packets.push({
          ts: epbTime(b, ifc.res, ifc.offset),
          linkType: ifc.idb.linkType,
          caplen: b.data.length,
          origLen: b.origLen,
          data: b.data,
          interfaceId: base + b.interfaceId,
        });
      } else {
        notes.push(`skipped block type 0x${b.blockType.toString(16).padStart(8, '0')} (${blockTypeName(b.blockType)}) at offset ${s.offsets[i]}`);
      }
    }
  }
  if (file.truncated) {
    const t = file.truncated;
    notes.push(`file cut short: ${t.field} at offset ${t.offset}: ${t.reason} (${file.trailing?.length ?? 0} bytes not read)`);
  }
  return { format: 'pcapng', file, linkTypes, packets, notes };
}

/** Write a capture back exactly as it was read. */
export function writeCapture(c: Capture): Uint8Array {
  return c.format === 'pcap' ? encodePcap(c.file) : encodePcapng(c.file);
}

export interface PacketToWrite {
  ts: PacketTime;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLen?: number;
  /** For pcapng: which interface (index in `interfaces`); default 0. */
  interfaceId?: number;
}

export interface WritePcapOptions {
  byteOrder?: ByteOrder;
  nanosecond?: boolean;
  snapLen?: number;
}

/** A classic pcap (version 2.4) of the packets, little-endian and microseconds by default. */
export function writePcap(packets: readonly PacketToWrite[], linkType: number, opts: WritePcapOptions = {}): Uint8Array {
  const nanosecond = opts.nanosecond ?? false;
  return encodePcap({
    header: {
      byteOrder: opts.byteOrder ?? 'le',
      nanosecond,
      versionMajor: 2,
      versionMinor: 4,
      thisZone: 0,
      sigFigs: 0,
      snapLen: opts.snapLen ?? 262144,
      linkType: linkType & 0xffff,
      linkTypeFlags: 0,
    },
    records: packets.map((p) => ({
      tsSec: p.ts.sec,
      tsFrac: nanosecond ? p.ts.nsec : Math.floor(p.ts.nsec / 1000),
      origLen: p.origLen ?? p.data.length,
      data: p.data,
    })),
  });
}

export interface PcapngInterface {
  linkType: number;
  snapLen?: number;
}

export interface WritePcapngOptions {
  byteOrder?: ByteOrder;
  /** Write timestamps in nanoseconds (if_tsresol 9) rather than the default microseconds. */
  nanosecond?: boolean;
  /** SHB options, e.g. shb_userappl (code 4). */
  sectionOptions?: PcapngOption[];
}

/** A one-section pcapng file: an IDB per interface, then an EPB per packet. */
export function writePcapng(
  packets: readonly PacketToWrite[],
  interfaces: readonly PcapngInterface[] | number,
  opts: WritePcapngOptions = {},
): Uint8Array {
  const ifs: readonly PcapngInterface[] = typeof interfaces === 'number' ? [{ linkType: interfaces }] : interfaces;
  const nanosecond = opts.nanosecond ?? false;
  const idbOptions = nanosecond
    ? { list: [{ code: OPT_IF_TSRESOL, value: Uint8Array.of(9) }], endOfOpt: true }
    : { list: [], endOfOpt: false };
  const blocks: (PcapngIdb | PcapngEpb)[] = ifs.map((i) => ({
    type: 'idb' as const,
    linkType: i.linkType,
    reserved: 0,
    snapLen: i.snapLen ?? 0,
    options: idbOptions,
  }));
  for (const p of packets) {
    const iface = p.interfaceId ?? 0;
    if (iface >= ifs.length) throw new RangeError(`packet for interface ${iface}, only ${ifs.length} described`);
    const units = nanosecond
      ? BigInt(p.ts.sec) * 1_000_000_000n + BigInt(p.ts.nsec)
      : BigInt(p.ts.sec) * 1_000_000n + BigInt(Math.floor(p.ts.nsec / 1000));
    blocks.push({
      type: 'epb',
      interfaceId: iface,
      tsHigh: Number(units >> 32n),
      tsLow: Number(units & 0xffffffffn),
      origLen: p.origLen ?? p.data.length,
      data: p.data,
      options: { list: [], endOfOpt: false },
    });
  }
  const sectionOptions = opts.sectionOptions ?? [];
  return encodePcapng({
    sections: [
      {
        byteOrder: opts.byteOrder ?? 'le',
        versionMajor: 1,
        versionMinor: 0,
        sectionLength: -1n,
        options: { list: sectionOptions, endOfOpt: sectionOptions.length > 0 },
        blocks,
        offsets: [],
      },
    ],
  });
}

/** Epoch seconds with nine decimals, as tshark prints frame.time_epoch. */
export function formatTime(ts: PacketTime): string {
  return `${ts.sec}.${String(ts.nsec).padStart(9, '0')}`;
}
