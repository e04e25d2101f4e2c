/** IPv4 header (RFC 791) with options, fragment fields and the header checksum. */
import { onesSum, internetChecksum } from '../util/checksum.js';
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { EMPTY, readKindLengthOptions, splitByLength, type Optional } from './types.js';

export const Ipv4OptionType = {
  EOL: 0,
  NOP: 1,
  RR: 7,
  TS: 68,
  LSRR: 131,
  SSRR: 137,
  RA: 148,
} as const;

/** Parsed view of the options; the raw bytes in `Ipv4Packet.options` are what gets encoded. */
export type Ipv4Option =
  | { type: 'eol' }
  | { type: 'nop' }
  /** Record Route and the two source routes share one layout (RFC 791). */
  | { type: 'rr' | 'lsrr' | 'ssrr'; kind: number; length: number; pointer: number; addresses: string[] }
  | {
      type: 'ts';
      kind: number;
      length: number;
      pointer: number;
      overflow: number;
      /** 0: timestamps only; 1: address + timestamp; 3: prespecified addresses. */
      flag: number;
      entries: { address?: string; timestamp: number }[];
    }
  /** Router Alert (RFC 2113): value 0 = examine packet. */
  | { type: 'ra'; kind: number; length: number; value: number }
  /** Any other option, or a known one whose length does not fit its layout. */
  | { type: 'unknown'; kind: number; length: number; data: Uint8Array };

export interface Ipv4Packet {
  /** Header length in 32-bit words. */
  ihl: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  /** The reserved ("evil") flag bit, kept so odd captures round-trip. */
  reservedFlag: boolean;
  df: boolean;
  mf: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  checksumOk: boolean;
  src: string;
  dst: string;
  /** Raw option bytes including padding; encoded as they are. */
  options: Uint8Array;
  optionList: Ipv4Option[];
  /** The bytes up to totalLength (fewer when `truncated`). */
  payload: Uint8Array;
  /** Bytes after totalLength: link-layer padding. */
  trailer: Uint8Array;
  /** totalLength promised more bytes than the capture holds (snaplen). */
  truncated: boolean;
}

/**
 * What `encodeIpv4` takes. `options` (raw) wins over `optionList`; ihl, totalLength and
 * checksum are computed when undefined.
 */
export type Ipv4Input = Optional<
  Ipv4Packet,
  | 'ihl'
  | 'dscp'
  | 'ecn'
  | 'identification'
  | 'reservedFlag'
  | 'df'
  | 'mf'
  | 'fragmentOffset'
  | 'ttl'
  | 'totalLength'
  | 'checksum'
  | 'checksumOk'
  | 'options'
  | 'optionList'
  | 'trailer'
  | 'truncated'
>;

export function decodeIpv4(buf: Uint8Array, offset = 0, end = buf.length): Ipv4Packet {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const vihl = r.u8('ipv4.version');
  if (vihl >>> 4 !== 4) r.fail('ipv4.version', `version ${vihl >>> 4}, expected 4`, undefined, start);
  const ihl = vihl & 0x0f;
  if (ihl < 5) r.fail('ipv4.ihl', `header length ${ihl} words, at least 5 needed`, undefined, start);
  const hl = ihl * 4;
  const tos = r.u8('ipv4.tos');
  const totalLength = r.u16('ipv4.totalLength');
  if (totalLength < hl) {
    r.fail('ipv4.totalLength', `total length ${totalLength} is shorter than the ${hl}-byte header`, undefined, start + 2);
  }
  const identification = r.u16('ipv4.identification');
  const frag = r.u16('ipv4.flags');
  const ttl = r.u8('ipv4.ttl');
  const protocol = r.u8('ipv4.protocol');
  const checksum = r.u16('ipv4.checksum');
  const src = r.ipv4('ipv4.src');
  const dst = r.ipv4('ipv4.dst');
  const optStart = r.pos;
  const options = r.bytes(hl - 20, 'ipv4.options');
  const optionList = hl > 20 ? parseIpv4Options(buf, optStart, optStart + hl - 20) : [];
  const checksumOk = onesSum(buf, start, start + hl) === 0xffff;
  const want = totalLength - hl;
  const { payload, trailer, truncated } = splitByLength(r, want, 'ipv4.payload');
  return {
    ihl,
    dscp: tos >>> 2,
    ecn: tos & 3,
    totalLength,
    identification,
    reservedFlag: (frag & 0x8000) !== 0,
    df: (frag & 0x4000) !== 0,
    mf: (frag & 0x2000) !== 0,
    fragmentOffset: frag & 0x1fff,
    ttl,
    protocol,
    checksum,
    checksumOk,
    src,
    dst,
    options,
    optionList,
    payload,
    trailer,
    truncated,
  };
}

/** Parse the option area `buf[start..end)`; offsets in errors are absolute. */
export function parseIpv4Options(buf: Uint8Array, start: number, end: number): Ipv4Option[] {
  // What follows EOL is padding, kept only in the raw bytes.
  return readKindLengthOptions<Ipv4Option>(new Reader(buf, start, end), 'ipv4', { type: 'eol' }, { type: 'nop' }, parseOption);
}

function parseOption(kind: number, length: number, r: Reader): Ipv4Option {
  const n = r.remaining;
  switch (kind) {
    case Ipv4OptionType.RR:
    case Ipv4OptionType.LSRR:
    case Ipv4OptionType.SSRR: {
      if (n < 1 || (n - 1) % 4 !== 0) break;
      const pointer = r.u8('ipv4.options.pointer');
      const addresses: string[] = [];
      while (!r.atEnd()) addresses.push(r.ipv4('ipv4.options.address'));
      const type = kind === Ipv4OptionType.RR ? 'rr' : kind === Ipv4OptionType.LSRR ? 'lsrr' : 'ssrr';
      return { type, kind, length, pointer, addresses };
    }
    case Ipv4OptionType.TS: {
      if (n < 2) break;
      const flagByte = r.buf[r.pos + 1]!;
      const flag = flagByte & 0x0f;
      const entry = flag === 0 ? 4 : 8;
      if ((n - 2) % entry !== 0) break;
      const pointer = r.u8('ipv4.options.pointer');
      r.u8('ipv4.options.flag');
      const entries: { address?: string; timestamp: number }[] = [];
      while (!r.atEnd()) {
        if (flag === 0) entries.push({ timestamp: r.u32('ipv4.options.timestamp') });
        else {
          const address = r.ipv4('ipv4.options.address');
          entries.push({ address, timestamp: r.u32('ipv4.options.timestamp') });
        }
      }
      return { type: 'ts', kind, length, pointer, overflow: flagByte >>> 4, flag, entries };
    }
    case Ipv4OptionType.RA:
      if (n !== 2) break;
      return { type: 'ra', kind, length, value: r.u16('ipv4.options.value') };
  }
  return { type: 'unknown', kind, length, data: r.rest() };
}

/** Option bytes for a list, zero-padded to a 4-byte boundary. */
export function encodeIpv4Options(list: readonly Ipv4Option[]): Uint8Array {
  const w = new Writer(40);
  for (const o of list) {
    switch (o.type) {
      case 'eol':
        w.u8(0);
        break;
      case 'nop':
        w.u8(1);
        break;
      case 'rr':
      case 'lsrr':
      case 'ssrr':
        w.u8(o.kind).u8(3 + 4 * o.addresses.length).u8(o.pointer);
        for (const a of o.addresses) w.ipv4(a);
        break;
      case 'ts':
        w.u8(o.kind).u8(4 + o.entries.length * (o.flag === 0 ? 4 : 8)).u8(o.pointer);
        w.u8(((o.overflow & 0x0f) << 4) | (o.flag & 0x0f));
        for (const e of o.entries) {
          if (o.flag !== 0) w.ipv4(e.address ?? '0.0.0.0');
          w.u32(e.timestamp);
        }
        break;
      case 'ra':
        w.u8(o.kind).u8(4).u16(o.value);
        break;
      case 'unknown':
        w.u8(o.kind).u8(o.data.length + 2).bytes(o.data);
        break;
    }
  }
  const pad = (4 - (w.pos % 4)) % 4;
  w.zeros(pad);
  return w.finish();
}

export function encodeIpv4(p: Ipv4Input): Uint8Array {
  const options = p.options ?? (p.optionList ? encodeIpv4Options(p.optionList) : EMPTY);
  const hl = 20 + options.length;
  const ihl = p.ihl ?? hl / 4;
  const trailer = p.trailer ?? EMPTY;
  const w = new Writer(hl + p.payload.length + trailer.length);
  w.u8(0x40 | (ihl & 0x0f));
  w.u8(((p.dscp ?? 0) << 2) | ((p.ecn ?? 0) & 3));
  w.u16(p.totalLength ?? hl + p.payload.length);
  w.u16(p.identification ?? 0);
  w.u16((p.reservedFlag ? 0x8000 : 0) | (p.df ? 0x4000 : 0) | (p.mf ? 0x2000 : 0) | ((p.fragmentOffset ?? 0) & 0x1fff));
  w.u8(p.ttl ?? 64).u8(p.protocol);
  w.u16(p.checksum ?? 0);
  w.ipv4(p.src).ipv4(p.dst);
  w.bytes(options);
  if (p.checksum === undefined) w.patchU16(10, internetChecksum(w.view(0, hl)));
  w.bytes(p.payload);
  w.bytes(trailer);
  return w.finish();
}

/** Header checksum check for header bytes already in a buffer (e.g. before full decoding). */
export function ipv4HeaderChecksumOk(buf: Uint8Array, offset = 0): boolean {
  const ihl = (buf[offset] ?? 0) & 0x0f;
  if (ihl < 5 || offset + ihl * 4 > buf.length) return false;
  return onesSum(buf, offset, offset + ihl * 4) === 0xffff;
}
