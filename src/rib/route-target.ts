/**
 * Extended communities are kept opaque in the RIB as 64-bit bigints (type, sub-type and six
 * value bytes, big-endian): they need exact equality, Set membership and bit-prefix masks
 * (RFC 4684), none of which a JS number can do for 64 bits. Only route targets get meaning here.
 */

const SUBTYPE_ROUTE_TARGET = 0x02;
const TYPE_AS2 = 0x00;
const TYPE_IPV4 = 0x01;
const TYPE_AS4 = 0x02;

export function extCommunity(type: number, subType: number, hi16: number, lo32: number): bigint {
  return (
    (BigInt(type & 0xff) << 56n) |
    (BigInt(subType & 0xff) << 48n) |
    (BigInt(hi16 & 0xffff) << 32n) |
    BigInt(lo32 >>> 0)
  );
}

/** Reads one 8-byte extended community from wire bytes (the codec glue's way in). */
export function extCommunityFromBytes(b: Uint8Array, off = 0): bigint {
  if (off < 0 || off + 8 > b.length) throw new RangeError(`extended community needs 8 bytes at ${off}`);
  const hi = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  const lo = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function extCommunityToBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  const hi = Number((v >> 32n) & 0xffffffffn);
  const lo = Number(v & 0xffffffffn);
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 0xff;
  out[2] = (hi >>> 8) & 0xff;
  out[3] = hi & 0xff;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 0xff;
  out[6] = (lo >>> 8) & 0xff;
  out[7] = lo & 0xff;
  return out;
}

/** Transitive route targets only (types 0x00/0x01/0x02, sub-type 0x02), as RFC 4360 defines them. */
export function isRouteTarget(v: bigint): boolean {
  const top = Number(v >> 48n);
  return (top & 0xff) === SUBTYPE_ROUTE_TARGET && top >> 8 <= TYPE_AS4;
}

/**
 * Parses 'target:64512:1', 'target:10.0.0.1:5', 'target:4200000000:5' (4-byte AS),
 * 'target:64512L:5' (2-byte value forced into the 4-byte-AS form), with or without the
 * 'target:' prefix. Throws TypeError: a malformed RT is a config error for the caller to report.
 */
export function parseRouteTarget(text: string): bigint {
  const body = text.startsWith('target:') ? text.slice(7) : text;
  const colon = body.lastIndexOf(':');
  if (colon <= 0) throw new TypeError(`not a route target: ${text}`);
  const admin = body.slice(0, colon);
  const num = decimal(body.slice(colon + 1), text);
  if (admin.includes('.')) {
    const parts = admin.split('.');
    if (parts.length !== 4 || num > 0xffff) throw new TypeError(`not a route target: ${text}`);
    let ip = 0;
    for (const p of parts) {
      const o = decimal(p, text);
      if (o > 255) throw new TypeError(`not a route target: ${text}`);
      ip = ip * 256 + o;
    }
    return extCommunity(TYPE_IPV4, SUBTYPE_ROUTE_TARGET, Math.floor(ip / 0x10000), ((ip & 0xffff) << 16) | num);
  }
  const forced4 = admin.endsWith('L');
  const asn = decimal(forced4 ? admin.slice(0, -1) : admin, text);
  if (asn > 0xffffffff) throw new TypeError(`not a route target: ${text}`);
  if (!forced4 && asn <= 0xffff) {
    if (num > 0xffffffff) throw new TypeError(`not a route target: ${text}`);
    return extCommunity(TYPE_AS2, SUBTYPE_ROUTE_TARGET, asn, num);
  }
  if (num > 0xffff) throw new TypeError(`not a route target: ${text}`);
  return extCommunity(TYPE_AS4, SUBTYPE_ROUTE_TARGET, Math.floor(asn / 0x10000), ((asn & 0xffff) << 16) | num);
}

/** 'target:…' for route targets (inverse of parseRouteTarget), 0x + 16 hex digits for anything else. */
export function formatExtCommunity(v: bigint): string {
  if (!isRouteTarget(v)) return `0x${v.toString(16).padStart(16, '0')}`;
  const type = Number(v >> 56n);
  const hi16 = Number((v >> 32n) & 0xffffn);
  const lo32 = Number(v & 0xffffffffn);
  if (type === TYPE_AS2) return `target:${hi16}:${lo32}`;
  const num = lo32 & 0xffff;
  const top = lo32 >>> 16;
  if (type === TYPE_IPV4) return `target:${hi16 >>> 8}.${hi16 & 0xff}.${top >>> 8}.${top & 0xff}:${num}`;
  const asn = hi16 * 0x10000 + top;
  return `target:${asn}${asn <= 0xffff ? 'L' : ''}:${num}`;
}

export function routeTargets(extCommunities: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  for (const v of extCommunities) if (isRouteTarget(v)) out.push(v);
  return out;
}

function decimal(s: string, whole: string): number {
  if (s.length === 0 || s.length > 10) throw new TypeError(`not a route target: ${whole}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) throw new TypeError(`not a route target: ${whole}`);
  }
  return Number(s);
}
