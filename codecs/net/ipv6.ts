/** IPv6 fixed header (RFC 8200). Extension headers stay in the payload, named by nextHeader. */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { EMPTY, splitByLength, type Optional } from './types.js';

export interface Ipv6Packet {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** The payloadLength bytes after the fixed header (fewer when `truncated`). */
  payload: Uint8Array;
  /** Bytes after payloadLength: link-layer padding. */
  trailer: Uint8Array;
  truncated: boolean;
}

export type Ipv6Input = Optional<Ipv6Packet, 'trafficClass' | 'flowLabel' | 'payloadLength' | 'hopLimit' | 'trailer' | 'truncated'>;

/**
 * A payloadLength of 0 with a Hop-by-Hop header may be a jumbogram (RFC 2675); it decodes as
 * an empty payload with everything in the trailer, which still round-trips.
 */
export function decodeIpv6(buf: Uint8Array, offset = 0, end = buf.length): Ipv6Packet {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const w0 = r.u32('ipv6.version');
  if (w0 >>> 28 !== 6) r.fail('ipv6.version', `version ${w0 >>> 28}, expected 6`, undefined, start);
  const payloadLength = r.u16('ipv6.payloadLength');
  const nextHeader = r.u8('ipv6.nextHeader');
  const hopLimit = r.u8('ipv6.hopLimit');
  const src = r.ipv6('ipv6.src');
  const dst = r.ipv6('ipv6.dst');
  const { payload, trailer, truncated } = splitByLength(r, payloadLength, 'ipv6.payload');
  return {
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength,
    nextHeader,
    hopLimit,
    src,
    dst,
    payload,
    trailer,
    truncated,
  };
}

export function encodeIpv6(p: Ipv6Input): Uint8Array {
  const trailer = p.trailer ?? EMPTY;
  const w = new Writer(40 + p.payload.length + trailer.length);
  w.u32(((6 << 28) | (((p.trafficClass ?? 0) & 0xff) << 20) | ((p.flowLabel ?? 0) & 0xfffff)) >>> 0);
  w.u16(p.payloadLength ?? p.payload.length);
  w.u8(p.nextHeader).u8(p.hopLimit ?? 64);
  w.ipv6(p.src).ipv6(p.dst);
  w.bytes(p.payload).bytes(trailer);
  return w.finish();
}
