import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { parseIpv4 } from '../util/writer.js';
import { toHex } from '../util/hex.js';
import { copyBytes } from './bytes.js';

/**
 * Route Distinguisher (RFC 4364 section 4.2): 2-byte type + 6-byte value.
 *
 * - type 0: admin = 2-byte AS (number), assigned = 4-byte number
 * - type 1: admin = IPv4 address (string), assigned = 2-byte number
 * - type 2: admin = 4-byte AS (number), assigned = 2-byte number
 * - any other type: `raw` holds all 8 bytes (the encoder writes them back as they were),
 *   admin is the hex of the 6 value bytes and assigned is 0.
 */
export interface RouteDistinguisher {
  type: 0 | 1 | 2 | number;
  admin: string | number;
  assigned: number;
  raw?: Uint8Array;
}

/** Decimal text of 0..255, so address text is built by table lookups rather than number formatting. */
export const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Decode 8 bytes at `p` of `b` (the caller has checked they are there). */
export function rdFromBytes(b: Uint8Array, p: number): RouteDistinguisher {
  const type = (b[p]! << 8) | b[p + 1]!;
  switch (type) {
    case 0:
      return {
        type: 0,
        admin: (b[p + 2]! << 8) | b[p + 3]!,
        assigned: ((b[p + 4]! << 24) >>> 0) + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!),
      };
    case 1:
      return {
        type: 1,
        admin: DEC[b[p + 2]!]! + '.' + DEC[b[p + 3]!]! + '.' + DEC[b[p + 4]!]! + '.' + DEC[b[p + 5]!]!,
        assigned: (b[p + 6]! << 8) | b[p + 7]!,
      };
    case 2:
      return {
        type: 2,
        admin: ((b[p + 2]! << 24) >>> 0) + ((b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!),
        assigned: (b[p + 6]! << 8) | b[p + 7]!,
      };
    default: {
      // A copy, not a view: decoded routes live in the RIB long after the message buffer.
      const raw = copyBytes(b, p, p + 8);
      return { type, admin: toHex(raw.subarray(2)), assigned: 0, raw };
    }
  }
}

export function decodeRd(r: Reader, field = 'rd'): RouteDistinguisher {
  r.need(8, field);
  const rd = rdFromBytes(r.buf, r.pos);
  r.pos += 8;
  return rd;
}

export function encodeRd(w: Writer, rd: RouteDistinguisher): void {
  switch (rd.type) {
    case 0:
      w.u16(0).u16(num(rd.admin, 0xffff, rd)).u32(num(rd.assigned, 0xffffffff, rd));
      return;
    case 1:
      if (typeof rd.admin !== 'string') throw new TypeError(`RD type 1 needs an IPv4 admin: ${String(rd.admin)}`);
      w.u16(1).bytes(parseIpv4(rd.admin)).u16(num(rd.assigned, 0xffff, rd));
      return;
    case 2:
      w.u16(2).u32(num(rd.admin, 0xffffffff, rd)).u16(num(rd.assigned, 0xffff, rd));
      return;
    default:
      if (!rd.raw || rd.raw.length !== 8) throw new TypeError(`RD type ${rd.type} needs its 8 raw bytes`);
      w.bytes(rd.raw);
  }
}

function num(v: string | number, max: number, rd: RouteDistinguisher): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new TypeError(`RD field out of range for type ${rd.type}: ${String(v)}`);
  }
  return v;
}

/** Text as tshark prints it: '64512:1', '192.0.2.1:5', '4200000000:7'. */
export function formatRd(rd: RouteDistinguisher): string {
  if (rd.type === 0 || rd.type === 1 || rd.type === 2) return `${rd.admin}:${rd.assigned}`;
  return `${rd.type}:${rd.raw ? toHex(rd.raw.subarray(2)) : String(rd.admin)}`;
}

/**
 * Inverse of formatRd for the three defined types. 'A:N' is type 0 when A fits 16 bits and
 * type 2 otherwise (the same rule routers use); 'a.b.c.d:N' is type 1.
 */
export function parseRd(text: string): RouteDistinguisher {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw new TypeError(`not a route distinguisher: ${text}`);
  const admin = text.slice(0, colon);
  const assigned = decimal(text.slice(colon + 1), text);
  if (admin.includes('.')) {
    parseIpv4(admin);
    if (assigned > 0xffff) throw new TypeError(`RD assigned number too large for type 1: ${text}`);
    return { type: 1, admin, assigned };
  }
  const a = decimal(admin, text);
  if (a <= 0xffff) {
    if (assigned > 0xffffffff) throw new TypeError(`RD assigned number too large: ${text}`);
    return { type: 0, admin: a, assigned };
  }
  if (a > 0xffffffff || assigned > 0xffff) throw new TypeError(`RD out of range for type 2: ${text}`);
  return { type: 2, admin: a, assigned };
}

function decimal(s: string, whole: string): number {
  if (s.length === 0 || s.length > 10) throw new TypeError(`not a route distinguisher: ${whole}`);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new TypeError(`not a route distinguisher: ${whole}`);
    n = n * 10 + c;
  }
  return n;
}

/**
 * Route-target style value (the 8 bytes of an RT extended community) as text: the high byte of
 * the type picks the layout like the RD types above ('64512:10000', '192.0.2.1:7',
 * '100000:65535'); anything else is hex. Used by the RTC NLRI.
 */
export function formatRouteTarget(b: Uint8Array): string {
  if (b.length !== 8) return toHex(b);
  const t = b[0]! & 0x3f;
  if (t === 0) return `${(b[2]! << 8) | b[3]!}:${((b[4]! << 24) >>> 0) + ((b[5]! << 16) | (b[6]! << 8) | b[7]!)}`;
  if (t === 1) return `${b[2]}.${b[3]}.${b[4]}.${b[5]}:${(b[6]! << 8) | b[7]!}`;
  if (t === 2) return `${((b[2]! << 24) >>> 0) + ((b[3]! << 16) | (b[4]! << 8) | b[5]!)}:${(b[6]! << 8) | b[7]!}`;
  return toHex(b);
}
