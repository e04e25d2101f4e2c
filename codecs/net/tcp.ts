/** TCP header (RFC 9293) with options, preserved byte for byte. */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { transportChecksum, transportChecksumOk, type IpAddress } from './transport-checksum.js';
import { EMPTY, readKindLengthOptions, type Optional } from './types.js';

const PROTO_TCP = 6;

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  /** RFC 2385, what BGP sessions with a password carry. */
  MD5: 19,
  /** RFC 5925 TCP Authentication Option. */
  AO: 29,
} as const;

/**
 * A known kind whose length does not fit its layout decodes as 'unknown' so that it still
 * round-trips; `kind` is kept on every entry with a length byte.
 */
export type TcpOption =
  | { type: 'eol' }
  | { type: 'nop' }
  | { type: 'mss'; mss: number }
  | { type: 'window-scale'; shift: number }
  | { type: 'sack-permitted' }
  | { type: 'sack'; blocks: { left: number; right: number }[] }
  | { type: 'timestamps'; tsval: number; tsecr: number }
  | { type: 'md5'; digest: Uint8Array }
  | { type: 'tcp-ao'; keyId: number; rNextKeyId: number; mac: Uint8Array }
  | { type: 'unknown'; kind: number; data: Uint8Array };

export interface TcpFlags {
  /** Bit 8: ECN nonce (RFC 3540, historic), now AccECN's AE; tshark calls it AE. */
  ns: boolean;
  cwr: boolean;
  ece: boolean;
  urg: boolean;
  ack: boolean;
  psh: boolean;
  rst: boolean;
  syn: boolean;
  fin: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in 32-bit words. */
  dataOffset: number;
  /** The three reserved bits between data offset and NS, kept for round trip. */
  reserved: number;
  flags: TcpFlags;
  window: number;
  checksum: number;
  urgentPointer: number;
  /** Parsed options up to (and including) EOL. */
  options: TcpOption[];
  /** Header bytes after the options (after EOL, or alignment), kept as they are. */
  padding: Uint8Array;
  payload: Uint8Array;
}

/** Without dataOffset the options are zero-padded to a 4-byte boundary. */
export type TcpInput = Omit<
  Optional<TcpSegment, 'seq' | 'ack' | 'dataOffset' | 'reserved' | 'window' | 'checksum' | 'urgentPointer' | 'options' | 'padding'>,
  'flags'
> & { flags: Partial<TcpFlags> };

export function decodeTcp(buf: Uint8Array, offset = 0, end = buf.length): TcpSegment {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const srcPort = r.u16('tcp.srcPort');
  const dstPort = r.u16('tcp.dstPort');
  const seq = r.u32('tcp.seq');
  const ack = r.u32('tcp.ack');
  const b12 = r.u8('tcp.dataOffset');
  const b13 = r.u8('tcp.flags');
  const dataOffset = b12 >>> 4;
  if (dataOffset < 5) r.fail('tcp.dataOffset', `data offset ${dataOffset} words, at least 5 needed`, undefined, start + 12);
  const window = r.u16('tcp.window');
  const checksum = r.u16('tcp.checksum');
  const urgentPointer = r.u16('tcp.urgentPointer');
  const opts = r.sub(dataOffset * 4 - 20, 'tcp.options');
  const options = parseTcpOptions(opts);
  return {
    srcPort,
    dstPort,
    seq,
    ack,
    dataOffset,
    reserved: (b12 >>> 1) & 7,
    flags: {
      ns: (b12 & 1) !== 0,
      cwr: (b13 & 0x80) !== 0,
      ece: (b13 & 0x40) !== 0,
      urg: (b13 & 0x20) !== 0,
      ack: (b13 & 0x10) !== 0,
      psh: (b13 & 0x08) !== 0,
      rst: (b13 & 0x04) !== 0,
      syn: (b13 & 0x02) !== 0,
      fin: (b13 & 0x01) !== 0,
    },
    window,
    checksum,
    urgentPointer,
    options,
    padding: opts.rest(),
    payload: r.rest(),
  };
}

/** Reads options until EOL or the end of the window; what is left there is padding. */
function parseTcpOptions(r: Reader): TcpOption[] {
  return readKindLengthOptions<TcpOption>(r, 'tcp', { type: 'eol' }, { type: 'nop' }, (kind, _length, body) => parseOption(kind, body));
}

function parseOption(kind: number, r: Reader): TcpOption {
  const n = r.remaining;
  switch (kind) {
    case TcpOptionKind.MSS:
      if (n === 2) return { type: 'mss', mss: r.u16('tcp.options.mss') };
      break;
    case TcpOptionKind.WINDOW_SCALE:
      if (n === 1) return { type: 'window-scale', shift: r.u8('tcp.options.shift') };
      break;
    case TcpOptionKind.SACK_PERMITTED:
      if (n === 0) return { type: 'sack-permitted' };
      break;
    case TcpOptionKind.SACK:
      if (n > 0 && n % 8 === 0) {
        const blocks: { left: number; right: number }[] = [];
        while (!r.atEnd()) blocks.push({ left: r.u32('tcp.options.sack.left'), right: r.u32('tcp.options.sack.right') });
        return { type: 'sack', blocks };
      }
      break;
    case TcpOptionKind.TIMESTAMPS:
      if (n === 8) return { type: 'timestamps', tsval: r.u32('tcp.options.tsval'), tsecr: r.u32('tcp.options.tsecr') };
      break;
    case TcpOptionKind.MD5:
      if (n === 16) return { type: 'md5', digest: r.rest() };
      break;
    case TcpOptionKind.AO:
      if (n >= 2) {
        const keyId = r.u8('tcp.options.keyId');
        const rNextKeyId = r.u8('tcp.options.rNextKeyId');
        return { type: 'tcp-ao', keyId, rNextKeyId, mac: r.rest() };
      }
      break;
  }
  return { type: 'unknown', kind, data: r.rest() };
}

export function encodeTcpOptions(list: readonly TcpOption[]): Uint8Array {
  const w = new Writer(40);
  for (const o of list) {
    switch (o.type) {
      case 'eol':
        w.u8(0);
        break;
      case 'nop':
        w.u8(1);
        break;
      case 'mss':
        w.u8(2).u8(4).u16(o.mss);
        break;
      case 'window-scale':
        w.u8(3).u8(3).u8(o.shift);
        break;
      case 'sack-permitted':
        w.u8(4).u8(2);
        break;
      case 'sack':
        w.u8(5).u8(2 + 8 * o.blocks.length);
        for (const b of o.blocks) w.u32(b.left).u32(b.right);
        break;
      case 'timestamps':
        w.u8(8).u8(10).u32(o.tsval).u32(o.tsecr);
        break;
      case 'md5':
        w.u8(19).u8(2 + o.digest.length).bytes(o.digest);
        break;
      case 'tcp-ao':
        w.u8(29).u8(4 + o.mac.length).u8(o.keyId).u8(o.rNextKeyId).bytes(o.mac);
        break;
      case 'unknown':
        w.u8(o.kind).u8(2 + o.data.length).bytes(o.data);
        break;
    }
  }
  return w.finish();
}

/** The 12 bits tshark shows as tcp.flags (reserved, AE/NS, CWR ... FIN). */
export function tcpFlagsValue(s: { reserved?: number; flags: Partial<TcpFlags> }): number {
  const f = s.flags;
  return (
    ((s.reserved ?? 0) << 9) |
    (f.ns ? 0x100 : 0) |
    (f.cwr ? 0x80 : 0) |
    (f.ece ? 0x40 : 0) |
    (f.urg ? 0x20 : 0) |
    (f.ack ? 0x10 : 0) |
    (f.psh ? 0x08 : 0) |
    (f.rst ? 0x04 : 0) |
    (f.syn ? 0x02 : 0) |
    (f.fin ? 0x01 : 0)
  );
}

/** Without `ip` an undefined checksum is written as 0; with it, it is computed. */
export function encodeTcp(s: TcpInput, ip?: { src: IpAddress; dst: IpAddress }): Uint8Array {
  const opts = s.options ? encodeTcpOptions(s.options) : EMPTY;
  const padding = s.padding ?? new Uint8Array((4 - (opts.length % 4)) % 4);
  const hl = 20 + opts.length + padding.length;
  const dataOffset = s.dataOffset ?? hl / 4;
  const w = new Writer(hl + s.payload.length);
  w.u16(s.srcPort).u16(s.dstPort).u32(s.seq ?? 0).u32(s.ack ?? 0);
  const bits = tcpFlagsValue(s);
  w.u8(((dataOffset & 0x0f) << 4) | (bits >>> 8));
  w.u8(bits & 0xff);
  w.u16(s.window ?? 65535).u16(s.checksum ?? 0).u16(s.urgentPointer ?? 0);
  w.bytes(opts).bytes(padding).bytes(s.payload);
  if (s.checksum === undefined && ip) w.patchU16(16, tcpChecksum(ip.src, ip.dst, w.view(0, w.pos)));
  return w.finish();
}

/** Checksum for a whole segment (header + payload, any checksum already in it ignored). */
export function tcpChecksum(srcIp: IpAddress, dstIp: IpAddress, tcpBytes: Uint8Array): number {
  return transportChecksum(srcIp, dstIp, PROTO_TCP, tcpBytes, 16);
}

export function tcpChecksumOk(srcIp: IpAddress, dstIp: IpAddress, tcpBytes: Uint8Array): boolean {
  if (tcpBytes.length < 20) return false;
  return transportChecksumOk(srcIp, dstIp, PROTO_TCP, tcpBytes);
}
