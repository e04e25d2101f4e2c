/**
 * The origin-VN marks Contrail puts on routes (dialect notes 11.2, 12): the OriginVN extended
 * community naming the virtual network a route belongs to, and the private OriginVnPath
 * attribute (type 243) listing the networks a service chain carried it through. Service
 * chaining decides on both, so they are read as well as written here.
 */
import type { ExtraValue, PathAttributes } from '../rib/path.js';
import { extCommunity, extCommunityFromBytes, extCommunityToBytes } from '../rib/route-target.js';

/** OriginVN (ASN, VN index): 2-byte-AS form, or the 4-byte-AS form for large ASNs. */
export function originVnCommunity(asn: number, vnIndex: number): bigint {
  if (asn <= 0xffff) return extCommunity(0x80, 0x71, asn, vnIndex);
  return extCommunity(0x82, 0x71, Math.floor(asn / 0x10000), ((asn & 0xffff) << 16) | (vnIndex & 0xffff));
}

export function isOriginVn(c: bigint): boolean {
  const top = Number(c >> 48n);
  return top === 0x8071 || top === 0x8271;
}

/** The VN index an OriginVN community names (4 bytes in the 2-byte-AS form, 2 in the other). */
export function originVnIndex(c: bigint): number {
  return Number(c >> 56n) === 0x80 ? Number(c & 0xffffffffn) : Number(c & 0xffffn);
}

/** The first OriginVN community's VN index, or undefined when the path carries none. */
export function originVnOfAttrs(a: PathAttributes): number | undefined {
  for (const c of a.extCommunities) if (isOriginVn(c)) return originVnIndex(c);
  return undefined;
}

/** Where a path's OriginVnPath travels: raw in `extra`, as the BGP glue carries unknown attributes. */
export const ORIGIN_VN_PATH_KEY = 'attr:243';
const ORIGIN_VN_PATH_CODE = 243;
const FLAG_OPTIONAL_TRANSITIVE = 0xc0;
const FLAG_EXTENDED_LENGTH = 0x10;

/** The OriginVN communities of a path's OriginVnPath, newest first; [] when absent or unreadable. */
export function originVnPathOf(a: PathAttributes): bigint[] {
  const tlv = a.extra[ORIGIN_VN_PATH_KEY];
  if (!(tlv instanceof Uint8Array) || tlv.length < 3) return [];
  const ext = (tlv[0]! & FLAG_EXTENDED_LENGTH) !== 0;
  const start = ext ? 4 : 3;
  const len = ext ? (tlv[2]! << 8) | tlv[3]! : tlv[2]!;
  if (start + len > tlv.length || len % 8 !== 0) return [];
  const out: bigint[] = [];
  for (let off = start; off < start + len; off += 8) out.push(extCommunityFromBytes(tlv, off));
  return out;
}

/** An OriginVnPath attribute (flags, code, length, value) holding these communities. */
export function originVnPathTlv(path: readonly bigint[]): ExtraValue {
  const len = path.length * 8;
  const ext = len > 0xff;
  const head = ext ? 4 : 3;
  const out = new Uint8Array(head + len);
  out[0] = FLAG_OPTIONAL_TRANSITIVE | (ext ? FLAG_EXTENDED_LENGTH : 0);
  out[1] = ORIGIN_VN_PATH_CODE;
  if (ext) {
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else out[2] = len;
  path.forEach((c, i) => out.set(extCommunityToBytes(c), head + i * 8));
  return out;
}
