/**
 * UPDATE path attributes (RFC 4271 section 5 and the RFCs named per attribute): typed values,
 * their encoders, and the RFC 7606 action each malformation calls for.
 *
 * Every attribute keeps its flags byte and type code exactly as received, so re-encoding
 * gives back the same bytes (the extended-length bit included). A value that cannot be
 * decoded becomes `{ kind: 'malformed' }` holding the raw bytes, the DecodeError and the
 * RFC 7606 action; update.ts decides what that means for the whole message.
 */
import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { DecodeError, type NotificationHint } from '../util/errors.js';
import { decodeNlriList, encodeNlriList, type Nlri } from './nlri.js';
import { decodeMpNextHop, encodeMpNextHop, type MpNextHop } from './nexthop.js';
import { decodeExtCommunity, writeExtCommunity, type ExtCommunity } from './extcommunity.js';
import { decodeTunnelEncap, encodeTunnelEncap, type TunnelTlv } from './tunnel-encap.js';
import type { BgpCodecOptions } from './options.js';
import { copyBytes } from './bytes.js';

export const AttrCode = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  PMSI_TUNNEL: 22,
  TUNNEL_ENCAPSULATION: 23,
  LARGE_COMMUNITY: 32,
  ATTR_SET: 128,
} as const;

export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** tshark 4.0 names (bgp.update.path_attribute.type_code). */
export const ATTR_NAMES: Readonly<Record<number, string>> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  22: 'PMSI_TUNNEL_ATTRIBUTE',
  23: 'TUNNEL_ENCAPSULATION_ATTRIBUTE',
  32: 'LARGE_COMMUNITY',
  128: 'ATTR_SET',
};

/** Optional and Transitive bits each known attribute must carry (RFC 7606 section 3c). */
const EXPECTED_OT: Readonly<Record<number, number>> = {
  1: 0x40,
  2: 0x40,
  3: 0x40,
  4: 0x80,
  5: 0x40,
  6: 0x40,
  7: 0xc0,
  8: 0xc0,
  9: 0x80,
  10: 0x80,
  14: 0x80,
  15: 0x80,
  16: 0xc0,
  17: 0xc0,
  18: 0xc0,
  22: 0xc0,
  23: 0xc0,
  32: 0xc0,
};

/** Flags to use when building a new attribute of a known type. */
export function defaultAttrFlags(code: number): number {
  return EXPECTED_OT[code] ?? 0xc0;
}

export const AsPathSegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

/** RFC 7606 section 2 approaches, weakest first. */
export type Rfc7606Action = 'attribute-discard' | 'treat-as-withdraw' | 'afi-safi-disable' | 'session-reset';

export const ACTION_RANK: Readonly<Record<Rfc7606Action, number>> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afi-safi-disable': 3,
  'session-reset': 4,
};

interface AttrBase {
  /** The flags byte as received (or to send). */
  flags: number;
  code: number;
}

export type PathAttribute =
  | (AttrBase & { kind: 'origin'; origin: number })
  | (AttrBase & { kind: 'as-path'; segments: AsPathSegment[] })
  | (AttrBase & { kind: 'next-hop'; nextHop: string })
  | (AttrBase & { kind: 'med'; med: number })
  | (AttrBase & { kind: 'local-pref'; localPref: number })
  | (AttrBase & { kind: 'atomic-aggregate' })
  /** 2- or 4-octet AS per the session (6 or 8 bytes on the wire). */
  | (AttrBase & { kind: 'aggregator'; asn: number; address: string })
  | (AttrBase & { kind: 'communities'; communities: number[] })
  | (AttrBase & { kind: 'originator-id'; originatorId: string })
  | (AttrBase & { kind: 'cluster-list'; clusterList: string[] })
  | (AttrBase & { kind: 'mp-reach'; afi: number; safi: number; nextHop: MpNextHop; reserved: number; nlri: Nlri[] })
  | (AttrBase & { kind: 'mp-unreach'; afi: number; safi: number; withdrawn: Nlri[] })
  | (AttrBase & { kind: 'ext-communities'; communities: ExtCommunity[] })
  | (AttrBase & { kind: 'as4-path'; segments: AsPathSegment[] })
  | (AttrBase & { kind: 'as4-aggregator'; asn: number; address: string })
  /** RFC 6514 section 5; `label` is the 3-byte field as one number (label << 4, or a VNI). */
  | (AttrBase & { kind: 'pmsi-tunnel'; tunnelFlags: number; tunnelType: number; label: number; tunnelId: Uint8Array })
  | (AttrBase & { kind: 'tunnel-encap'; tunnels: TunnelTlv[] })
  | (AttrBase & { kind: 'large-communities'; communities: LargeCommunity[] })
  /** An optional attribute we do not decode (ATTR_SET included): value bytes as received. */
  | (AttrBase & { kind: 'unknown'; raw: Uint8Array })
  | (AttrBase & {
      kind: 'malformed';
      /** Value bytes as received; the encoder writes them back unchanged. */
      raw: Uint8Array;
      error: DecodeError;
      action: Rfc7606Action;
      /** The decoded value when only the flags were wrong. */
      value?: PathAttribute;
    });

export type PathAttributeKind = PathAttribute['kind'];

// NOTIFICATION subcodes of UPDATE Message Error (RFC 4271 section 6.3).
export const H_LIST: NotificationHint = { code: 3, subcode: 1 };
export const H_WELL_KNOWN: NotificationHint = { code: 3, subcode: 2 };
export const H_FLAGS: NotificationHint = { code: 3, subcode: 4 };
export const H_LENGTH: NotificationHint = { code: 3, subcode: 5 };
export const H_ORIGIN: NotificationHint = { code: 3, subcode: 6 };
export const H_NEXT_HOP: NotificationHint = { code: 3, subcode: 8 };
export const H_OPTIONAL: NotificationHint = { code: 3, subcode: 9 };
export const H_NETWORK: NotificationHint = { code: 3, subcode: 10 };
export const H_AS_PATH: NotificationHint = { code: 3, subcode: 11 };

/** Hint for reads running short inside a value of this type. */
export function valueHint(code: number): NotificationHint {
  switch (code) {
    case 2:
    case 17:
      return H_AS_PATH;
    case 1:
    case 3:
    case 4:
    case 5:
    case 6:
      return H_LENGTH;
    default:
      return H_OPTIONAL;
  }
}

/** RFC 7606 section 7 (and RFC 6793, 8092, 9012): what a malformed value of this type calls for. */
export function actionFor(code: number): Rfc7606Action {
  switch (code) {
    case 6: // ATOMIC_AGGREGATE
    case 7: // AGGREGATOR
    case 17: // AS4_PATH (RFC 6793 section 6)
    case 18: // AS4_AGGREGATOR
    case 23: // TUNNEL_ENCAPSULATION (RFC 9012 section 13)
      return 'attribute-discard';
    case 14:
    case 15:
      return 'afi-safi-disable';
    default:
      return 'treat-as-withdraw';
  }
}

/** Per-UPDATE scratch: the family of the MP attribute being read, for AFI/SAFI disable. */
export interface AttrContext {
  afi?: number;
  safi?: number;
}

const NAME_FIELD: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ATTR_NAMES).map(([k, v]) => [k, `bgp.update.attr.${v.toLowerCase()}`]),
);

export function attrField(code: number): string {
  return NAME_FIELD[code] ?? 'bgp.update.attr.unknown';
}

function exact(v: Reader, code: number, want: number): void {
  if (v.remaining !== want) v.fail(attrField(code), `length ${v.remaining}, expected ${want}`, H_LENGTH);
}

function nonZeroMultiple(v: Reader, code: number, unit: number): void {
  const n = v.remaining;
  if (n === 0 || n % unit !== 0) v.fail(attrField(code), `length ${n} is not a non-zero multiple of ${unit}`, H_LENGTH);
}

function decodeSegments(v: Reader, code: number, asSize: 2 | 4): AsPathSegment[] {
  const f = attrField(code);
  const segments: AsPathSegment[] = [];
  const b = v.buf;
  while (!v.atEnd()) {
    const type = v.u8(`${f}.segment.type`);
    if (type < 1 || type > 4) v.fail(`${f}.segment.type`, `unknown segment type ${type}`, H_AS_PATH, v.pos - 1);
    const count = v.u8(`${f}.segment.length`);
    if (count === 0) v.fail(`${f}.segment.length`, 'empty segment', H_AS_PATH, v.pos - 1);
    v.need(count * asSize, `${f}.segment.asns`);
    const asns = new Array<number>(count);
    let p = v.pos;
    if (asSize === 4) {
      for (let i = 0; i < count; i++, p += 4) asns[i] = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    } else {
      for (let i = 0; i < count; i++, p += 2) asns[i] = (b[p]! << 8) | b[p + 1]!;
    }
    v.pos = p;
    segments.push({ type, asns });
  }
  return segments;
}

function ipv4List(v: Reader, field: string): string[] {
  const out: string[] = [];
  while (!v.atEnd()) out.push(v.ipv4(field));
  return out;
}

/**
 * Decodes the value in window `v` of an attribute with this flags byte and code. Throws a
 * DecodeError (hint without data; the caller adds the attribute bytes) when malformed.
 */
export function decodeAttributeValue(v: Reader, flags: number, code: number, opts: BgpCodecOptions, ctx: AttrContext): PathAttribute {
  const f = attrField(code);
  switch (code) {
    case 1: {
      exact(v, code, 1);
      const origin = v.u8(f);
      if (origin > 2) v.fail(f, `undefined ORIGIN ${origin}`, H_ORIGIN, v.pos - 1);
      return { kind: 'origin', flags, code, origin };
    }
    case 2:
      return { kind: 'as-path', flags, code, segments: decodeSegments(v, code, opts.fourOctetAs ? 4 : 2) };
    case 3: {
      exact(v, code, 4);
      const first = v.peekU8(f);
      // Class D/E can never be a next hop (RFC 4271 6.3: syntactically incorrect).
      if (first >= 224) v.fail(f, `next hop ${first}.x.x.x is multicast or reserved`, H_NEXT_HOP);
      return { kind: 'next-hop', flags, code, nextHop: v.ipv4(f) };
    }
    case 4:
      exact(v, code, 4);
      return { kind: 'med', flags, code, med: v.u32(f) };
    case 5:
      exact(v, code, 4);
      return { kind: 'local-pref', flags, code, localPref: v.u32(f) };
    case 6:
      exact(v, code, 0);
      return { kind: 'atomic-aggregate', flags, code };
    case 7: {
      exact(v, code, opts.fourOctetAs ? 8 : 6);
      const asn = opts.fourOctetAs ? v.u32(`${f}.asn`) : v.u16(`${f}.asn`);
      return { kind: 'aggregator', flags, code, asn, address: v.ipv4(`${f}.address`) };
    }
    case 8: {
      nonZeroMultiple(v, code, 4);
      const communities = new Array<number>(v.remaining >>> 2);
      for (let i = 0; i < communities.length; i++) communities[i] = v.u32(f);
      return { kind: 'communities', flags, code, communities };
    }
    case 9:
      exact(v, code, 4);
      return { kind: 'originator-id', flags, code, originatorId: v.ipv4(f) };
    case 10:
      nonZeroMultiple(v, code, 4);
      return { kind: 'cluster-list', flags, code, clusterList: ipv4List(v, f) };
    case 14: {
      const afi = v.u16(`${f}.afi`);
      const safi = v.u8(`${f}.safi`);
      ctx.afi = afi;
      ctx.safi = safi;
      const nhLen = v.u8(`${f}.nextHopLength`);
      const nextHop = decodeMpNextHop(v.sub(nhLen, `${f}.nextHop`), afi, safi);
      const reserved = v.u8(`${f}.reserved`);
      const nlri = decodeNlriList(v, afi, safi, nlriOptions(opts, afi, safi, `${f}.nlri`), false);
      return { kind: 'mp-reach', flags, code, afi, safi, nextHop, reserved, nlri };
    }
    case 15: {
      const afi = v.u16(`${f}.afi`);
      const safi = v.u8(`${f}.safi`);
      ctx.afi = afi;
      ctx.safi = safi;
      const withdrawn = decodeNlriList(v, afi, safi, nlriOptions(opts, afi, safi, `${f}.withdrawn`), true);
      return { kind: 'mp-unreach', flags, code, afi, safi, withdrawn };
    }
    case 16: {
      nonZeroMultiple(v, code, 8);
      const communities = new Array<ExtCommunity>(v.remaining >>> 3);
      for (let i = 0; i < communities.length; i++, v.pos += 8) communities[i] = decodeExtCommunity(v.buf, v.pos);
      return { kind: 'ext-communities', flags, code, communities };
    }
    case 17:
      return { kind: 'as4-path', flags, code, segments: decodeSegments(v, code, 4) };
    case 18:
      exact(v, code, 8);
      return { kind: 'as4-aggregator', flags, code, asn: v.u32(`${f}.asn`), address: v.ipv4(`${f}.address`) };
    case 22: {
      if (v.remaining < 5) v.fail(f, `length ${v.remaining}, at least 5 expected`, H_LENGTH);
      const tunnelFlags = v.u8(`${f}.flags`);
      const tunnelType = v.u8(`${f}.tunnelType`);
      const label = v.u24(`${f}.label`);
      return { kind: 'pmsi-tunnel', flags, code, tunnelFlags, tunnelType, label, tunnelId: copyBytes(v.rest()) };
    }
    case 23:
      return { kind: 'tunnel-encap', flags, code, tunnels: decodeTunnelEncap(v, f) };
    case 32: {
      nonZeroMultiple(v, code, 12);
      const communities: LargeCommunity[] = [];
      while (!v.atEnd()) communities.push({ global: v.u32(`${f}.global`), local1: v.u32(`${f}.local1`), local2: v.u32(`${f}.local2`) });
      return { kind: 'large-communities', flags, code, communities };
    }
    default:
      if ((flags & AttrFlag.OPTIONAL) === 0) {
        v.fail(f, `unrecognized well-known attribute ${code}`, H_WELL_KNOWN, v.pos);
      }
      // A copy: attributes are shared by many routes in the RIB, long after this buffer.
      return { kind: 'unknown', flags, code, raw: copyBytes(v.rest()) };
  }
}

export function nlriOptions(opts: BgpCodecOptions, afi: number, safi: number, field: string): { addPath: boolean; maxLabels: number; field: string } {
  return { addPath: opts.addPath?.(afi, safi) ?? false, maxLabels: opts.multipleLabels?.(afi, safi) ?? 1, field };
}

/** True when the Optional/Transitive bits are what the type requires (unknown types: any). */
export function flagsOk(flags: number, code: number): boolean {
  const want = EXPECTED_OT[code];
  return want === undefined || (flags & 0xc0) === want;
}

function writeSegments(w: Writer, segments: readonly AsPathSegment[], asSize: 2 | 4): void {
  for (const s of segments) {
    if (s.asns.length > 255) throw new RangeError(`AS path segment of ${s.asns.length} ASes: split it`);
    w.u8(s.type).u8(s.asns.length);
    if (asSize === 4) for (const a of s.asns) w.u32(a);
    else for (const a of s.asns) w.u16(a > 0xffff ? 23456 : a); // RFC 6793: AS_TRANS stands in
  }
}

function encodeValue(w: Writer, a: PathAttribute, opts: BgpCodecOptions): void {
  switch (a.kind) {
    case 'origin':
      w.u8(a.origin);
      break;
    case 'as-path':
      writeSegments(w, a.segments, opts.fourOctetAs ? 4 : 2);
      break;
    case 'next-hop':
      w.ipv4(a.nextHop);
      break;
    case 'med':
      w.u32(a.med);
      break;
    case 'local-pref':
      w.u32(a.localPref);
      break;
    case 'atomic-aggregate':
      break;
    case 'aggregator':
      if (opts.fourOctetAs) w.u32(a.asn);
      else w.u16(a.asn > 0xffff ? 23456 : a.asn);
      w.ipv4(a.address);
      break;
    case 'communities':
      for (const c of a.communities) w.u32(c);
      break;
    case 'originator-id':
      w.ipv4(a.originatorId);
      break;
    case 'cluster-list':
      for (const c of a.clusterList) w.ipv4(c);
      break;
    case 'mp-reach':
      w.u16(a.afi).u8(a.safi);
      encodeMpNextHop(w, a.afi, a.safi, a.nextHop);
      w.u8(a.reserved);
      encodeNlriList(w, a.afi, a.safi, a.nlri, nlriOptions(opts, a.afi, a.safi, ''));
      break;
    case 'mp-unreach':
      w.u16(a.afi).u8(a.safi);
      encodeNlriList(w, a.afi, a.safi, a.withdrawn, nlriOptions(opts, a.afi, a.safi, ''));
      break;
    case 'ext-communities': {
      const tmp = new Uint8Array(8);
      for (const c of a.communities) {
        writeExtCommunity(c, tmp);
        w.bytes(tmp);
      }
      break;
    }
    case 'as4-path':
      writeSegments(w, a.segments, 4);
      break;
    case 'as4-aggregator':
      w.u32(a.asn).ipv4(a.address);
      break;
    case 'pmsi-tunnel':
      w.u8(a.tunnelFlags).u8(a.tunnelType).u24(a.label).bytes(a.tunnelId);
      break;
    case 'tunnel-encap':
      encodeTunnelEncap(w, a.tunnels);
      break;
    case 'large-communities':
      for (const c of a.communities) w.u32(c.global).u32(c.local1).u32(c.local2);
      break;
    case 'unknown':
    case 'malformed':
      w.bytes(a.raw);
      break;
  }
}

/**
 * Writes flags, code, length and value. The length takes 2 bytes when the flags say so or
 * when the value needs it (the extended-length bit is then set).
 */
export function encodeAttribute(w: Writer, a: PathAttribute, opts: BgpCodecOptions): void {
  const flagsAt = w.pos;
  w.u8(a.flags).u8(a.code);
  const ext = (a.flags & AttrFlag.EXTENDED_LENGTH) !== 0;
  const lenAt = w.pos;
  if (ext) w.u16(0);
  else w.u8(0);
  const start = w.pos;
  encodeValue(w, a, opts);
  const len = w.pos - start;
  if (ext) {
    if (len > 0xffff) throw new RangeError(`attribute ${a.code} of ${len} bytes`);
    w.patchU16(lenAt, len);
  } else if (len <= 255) {
    w.patchU8(lenAt, len);
  } else {
    if (len > 0xffff) throw new RangeError(`attribute ${a.code} of ${len} bytes`);
    // Too long for one length byte: make room for the second and set the bit.
    w.u8(0);
    w.view(lenAt, w.pos).copyWithin(2, 1, 1 + len);
    w.patchU8(flagsAt, a.flags | AttrFlag.EXTENDED_LENGTH);
    w.patchU16(lenAt, len);
  }
}

/** Rebuilds `e` with an UPDATE NOTIFICATION hint that carries `data` (the offending attribute). */
export function withData(e: DecodeError, hint: NotificationHint, data: Uint8Array | undefined): DecodeError {
  return new DecodeError(e.field, e.offset, e.reason, data === undefined ? { code: hint.code, subcode: hint.subcode } : { code: hint.code, subcode: hint.subcode, data });
}

// ---------------------------------------------------------------------------------------
// Text helpers for `weft decode` and logs.

export const WELL_KNOWN_COMMUNITIES: Readonly<Record<number, string>> = {
  0xffff0000: 'GRACEFUL_SHUTDOWN',
  0xffff0001: 'ACCEPT_OWN',
  0xffff0006: 'LLGR_STALE',
  0xffff0007: 'NO_LLGR',
  0xffff0008: 'ACCEPT_OWN_NEXTHOP',
  0xffff029a: 'BLACKHOLE',
  0xffffff01: 'NO_EXPORT',
  0xffffff02: 'NO_ADVERTISE',
  0xffffff03: 'NO_EXPORT_SUBCONFED',
  0xffffff04: 'NOPEER',
  // Contrail's, not IANA's (contrail-xmpp-dialect.md section 12)
  0xfffff000: 'NO_REORIGINATE',
};

const COMMUNITY_BY_NAME: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(WELL_KNOWN_COMMUNITIES).map(([k, v]) => [v, Number(k)]),
);

/** `NO_EXPORT` for well-known values, else `65000:100`. */
export function formatCommunity(c: number): string {
  return WELL_KNOWN_COMMUNITIES[c] ?? `${c >>> 16}:${c & 0xffff}`;
}

export function parseCommunity(text: string): number {
  const named = COMMUNITY_BY_NAME[text.toUpperCase().replace(/-/g, '_')];
  if (named !== undefined) return named;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) throw new TypeError(`not a community: ${text}`);
  return ((Number(m[1]) << 16) >>> 0) + Number(m[2]);
}

/** tshark's text: `200 1 {3 4} (65001) [65002]`. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  const parts: string[] = [];
  for (const s of segments) {
    const list = s.asns.join(' ');
    switch (s.type) {
      case 1:
        parts.push(`{${list}}`);
        break;
      case 3:
        parts.push(`(${list})`);
        break;
      case 4:
        parts.push(`[${list}]`);
        break;
      default:
        parts.push(list);
    }
  }
  return parts.join(' ');
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.global}:${c.local1}:${c.local2}`;
}
