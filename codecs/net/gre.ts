/**
 * GRE (RFC 2784 with the RFC 2890 key and sequence number). Bits RFC 1701 gave meaning to
 * (routing present, strict source route, recursion, flags) are Reserved0 here, as RFC 2784
 * says, and are kept in place for round trip; no routing field is read for them.
 */
import { onesSum, internetChecksum } from '../util/checksum.js';
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { EMPTY, type Optional } from './types.js';

const BIT_C = 0x8000;
const BIT_K = 0x2000;
const BIT_S = 0x1000;
/** Everything in the first word that is not C, K, S or Version. */
export const GRE_RESERVED0_MASK = 0x4ff8;

export interface GrePacket {
  checksumPresent: boolean;
  keyPresent: boolean;
  sequencePresent: boolean;
  /** The other flag bits of the first word, in place (mask 0x4ff8); 0 on a conforming sender. */
  reserved0: number;
  version: number;
  /** EtherType of the payload (0x0800 IPv4, 0x8847 MPLS, 0x6558 Ethernet...). */
  protocolType: number;
  checksum?: number;
  reserved1?: number;
  /** Present with the checksum: whether header + payload sum to all ones. */
  checksumOk?: boolean;
  key?: number;
  sequence?: number;
  payload: Uint8Array;
}

/** The *Present flags default to whether the matching field is given. */
export type GreInput = Optional<
  GrePacket,
  'checksumPresent' | 'keyPresent' | 'sequencePresent' | 'reserved0' | 'version'
>;

export function decodeGre(buf: Uint8Array, offset = 0, end = buf.length): GrePacket {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const word = r.u16('gre.flags');
  const protocolType = r.u16('gre.protocolType');
  const checksumPresent = (word & BIT_C) !== 0;
  const keyPresent = (word & BIT_K) !== 0;
  const sequencePresent = (word & BIT_S) !== 0;
  const g: GrePacket = {
    checksumPresent,
    keyPresent,
    sequencePresent,
    reserved0: word & GRE_RESERVED0_MASK,
    version: word & 7,
    protocolType,
    payload: EMPTY,
  };
  if (checksumPresent) {
    g.checksum = r.u16('gre.checksum');
    g.reserved1 = r.u16('gre.reserved1');
    g.checksumOk = onesSum(buf, start, r.end) === 0xffff;
  }
  if (keyPresent) g.key = r.u32('gre.key');
  if (sequencePresent) g.sequence = r.u32('gre.sequence');
  g.payload = r.rest();
  return g;
}

export function encodeGre(g: GreInput): Uint8Array {
  const c = g.checksumPresent ?? g.checksum !== undefined;
  const k = g.keyPresent ?? g.key !== undefined;
  const s = g.sequencePresent ?? g.sequence !== undefined;
  const w = new Writer(16 + g.payload.length);
  w.u16((c ? BIT_C : 0) | (k ? BIT_K : 0) | (s ? BIT_S : 0) | ((g.reserved0 ?? 0) & GRE_RESERVED0_MASK) | ((g.version ?? 0) & 7));
  w.u16(g.protocolType);
  if (c) w.u16(g.checksum ?? 0).u16(g.reserved1 ?? 0);
  if (k) w.u32(g.key ?? 0);
  if (s) w.u32(g.sequence ?? 0);
  w.bytes(g.payload);
  if (c && g.checksum === undefined) w.patchU16(4, internetChecksum(w.view()));
  return w.finish();
}

/** Checks the checksum of GRE bytes (header + payload); undefined when C is not set. */
export function greChecksumOk(gre: Uint8Array): boolean | undefined {
  if (gre.length < 4 || (gre[0]! & 0x80) === 0) return undefined;
  return onesSum(gre) === 0xffff;
}
