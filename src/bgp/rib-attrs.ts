/**
 * The one place where codec path attributes (wire shapes, flags kept) become RIB attribute sets
 * (interned, next hop per family) and back. Attributes the RIB does not decide on travel in
 * `extra` as their encoded TLV (flags, code, length, value), so they leave exactly as they came:
 * tunnel encapsulation, PMSI, AGGREGATOR, ATOMIC_AGGREGATE and unknown transitive attributes.
 */
import {
  AttrCode,
  AttrFlag,
  defaultAttrFlags,
  encodeAttribute,
  type AsPathSegment as WireSegment,
  type PathAttribute,
} from '../../codecs/bgp/attributes.js';
import { decodeExtCommunity, encodeExtCommunity } from '../../codecs/bgp/extcommunity.js';
import type { BgpCodecOptions } from '../../codecs/bgp/options.js';
import { Writer } from '../../codecs/util/writer.js';
import type { AsPathSegment, AsPathSegmentType, AttrInput, Attrs, ExtraValue, Origin, PathAttributes } from '../rib/path.js';
import { extCommunityFromBytes, extCommunityToBytes } from '../rib/route-target.js';
import { AS_TRANS } from './fsm/config.js';

const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];
const SEG_TYPES: readonly (AsPathSegmentType | undefined)[] = [undefined, 'set', 'sequence', 'confed-sequence', 'confed-set'];
const SEG_CODES: Readonly<Record<AsPathSegmentType, number>> = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 };
/** The key prefix of raw attributes in `extra`; the rest is the type code. */
const RAW = 'attr:';

/** What an UPDATE says about its routes, apart from the NLRI themselves. */
export interface ReceivedAttributes {
  /** The attribute set without a next hop (filled per family by the caller). */
  input: Omit<AttrInput, 'nextHop'>;
  /** NEXT_HOP (type 3), for the IPv4 unicast NLRI field. */
  nextHop: string | undefined;
  mpReach: Extract<PathAttribute, { kind: 'mp-reach' }> | undefined;
  mpUnreach: Extract<PathAttribute, { kind: 'mp-unreach' }> | undefined;
}

function segmentsFromWire(segs: readonly WireSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const s of segs) {
    const type = SEG_TYPES[s.type];
    if (type !== undefined) out.push({ type, asns: s.asns });
  }
  return out;
}

function pathLength(segs: readonly WireSegment[]): number {
  let n = 0;
  for (const s of segs) n += s.type === 1 ? 1 : s.type === 2 ? s.asns.length : 0;
  return n;
}

/**
 * RFC 6793 section 4.2.3: on a 2-octet session the real path is AS_PATH with its trailing
 * part replaced by AS4_PATH, when AS4_PATH is not longer than AS_PATH.
 */
function mergeAs4(asPath: readonly WireSegment[], as4: readonly WireSegment[]): WireSegment[] {
  const keep = pathLength(asPath) - pathLength(as4);
  if (keep < 0) return [...asPath];
  const out: WireSegment[] = [];
  let left = keep;
  for (const s of asPath) {
    if (left <= 0) break;
    if (s.type === 2 && s.asns.length > left) {
      out.push({ type: 2, asns: s.asns.slice(0, left) });
      left = 0;
    } else {
      out.push(s);
      left -= s.type === 1 ? 1 : s.type === 2 ? s.asns.length : 0;
    }
  }
  return [...out, ...as4];
}

/** Encoded TLV of an attribute, for carriage in `extra`. */
function rawTlv(a: PathAttribute): Uint8Array {
  const w = new Writer(32);
  encodeAttribute(w, a, { fourOctetAs: true });
  return w.view().slice();
}

/**
 * Converts the attributes of a received UPDATE. `fourOctetAs` is the session's setting (an
 * AS4_PATH only means something on a 2-octet session). Malformed attributes must have been
 * dealt with by the RFC 7606 verdict: what is left of them here is dropped (attribute discard).
 */
export function receivedAttributes(attrs: readonly PathAttribute[], fourOctetAs: boolean): ReceivedAttributes {
  let origin: Origin = 'igp';
  let asPath: readonly WireSegment[] = [];
  let as4Path: readonly WireSegment[] | undefined;
  let nextHop: string | undefined;
  let med: number | undefined;
  let localPref: number | undefined;
  let communities: readonly number[] = [];
  let extCommunities: bigint[] = [];
  let largeCommunities: (readonly [number, number, number])[] = [];
  let originatorId: string | undefined;
  let clusterList: readonly string[] = [];
  let extra: Record<string, ExtraValue> | undefined;
  let mpReach: ReceivedAttributes['mpReach'];
  let mpUnreach: ReceivedAttributes['mpUnreach'];
  for (const a of attrs) {
    switch (a.kind) {
      case 'origin':
        origin = ORIGINS[a.origin] ?? 'incomplete';
        break;
      case 'as-path':
        asPath = a.segments;
        break;
      case 'as4-path':
        as4Path = a.segments;
        break;
      case 'next-hop':
        nextHop = a.nextHop;
        break;
      case 'med':
        med = a.med;
        break;
      case 'local-pref':
        localPref = a.localPref;
        break;
      case 'communities':
        communities = a.communities;
        break;
      case 'ext-communities':
        extCommunities = a.communities.map((c) => extCommunityFromBytes(encodeExtCommunity(c)));
        break;
      case 'large-communities':
        largeCommunities = a.communities.map((c) => [c.global, c.local1, c.local2] as const);
        break;
      case 'originator-id':
        originatorId = a.originatorId;
        break;
      case 'cluster-list':
        clusterList = a.clusterList;
        break;
      case 'mp-reach':
        mpReach = a;
        break;
      case 'mp-unreach':
        mpUnreach = a;
        break;
      case 'malformed':
        break;
      case 'unknown':
        // RFC 4271 5: an unrecognised non-transitive optional attribute is quietly ignored; a
        // transitive one is passed on with the Partial bit set.
        if ((a.flags & AttrFlag.TRANSITIVE) === 0) break;
        (extra ??= {})[RAW + a.code] = rawTlv({ ...a, flags: a.flags | AttrFlag.PARTIAL });
        break;
      case 'as4-aggregator':
        // Only meaningful on 2-octet sessions; the AGGREGATOR we pass on is kept as received.
        if (fourOctetAs) break;
        (extra ??= {})[RAW + a.code] = rawTlv(a);
        break;
      default:
        (extra ??= {})[RAW + a.code] = rawTlv(a);
        break;
    }
  }
  const merged = !fourOctetAs && as4Path !== undefined ? mergeAs4(asPath, as4Path) : asPath;
  const input: Omit<AttrInput, 'nextHop'> = {
    origin,
    asPath: segmentsFromWire(merged),
    med,
    localPref,
    communities,
    extCommunities,
    largeCommunities,
    originatorId,
    clusterList,
    extra: extra ?? {},
  };
  return { input, nextHop, mpReach, mpUnreach };
}

/** The same set with `nextHop`: what the RIB interns. */
export function withNextHop(input: Omit<AttrInput, 'nextHop'>, nextHop: string): AttrInput {
  return { ...input, nextHop };
}

const cache4 = new WeakMap<Attrs, PathAttribute[]>();
const cache2 = new WeakMap<Attrs, PathAttribute[]>();

function attr<K extends PathAttribute['kind']>(kind: K, code: number, rest: Omit<Extract<PathAttribute, { kind: K }>, 'kind' | 'code' | 'flags'>): PathAttribute {
  return { kind, code, flags: defaultAttrFlags(code), ...rest } as PathAttribute;
}

function toWireSegments(segs: readonly AsPathSegment[], asTrans: boolean): WireSegment[] {
  return segs.map((s) => ({ type: SEG_CODES[s.type], asns: asTrans ? s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) : [...s.asns] }));
}

/**
 * Codec attributes for an attribute set, in type-code order, without NEXT_HOP and the MP
 * attributes (the UPDATE builder adds those per family). Memoised per interned set, so a
 * million routes sharing a set are converted once.
 */
export function wireAttributes(a: Attrs, opts: BgpCodecOptions): PathAttribute[] {
  const cache = opts.fourOctetAs ? cache4 : cache2;
  let out = cache.get(a);
  if (out === undefined) {
    out = buildWireAttributes(a, opts.fourOctetAs);
    cache.set(a, out);
  }
  return out;
}

function buildWireAttributes(a: PathAttributes, fourOctetAs: boolean): PathAttribute[] {
  const out: PathAttribute[] = [];
  out.push(attr('origin', AttrCode.ORIGIN, { origin: ORIGINS.indexOf(a.origin) }));
  const needsAs4 = !fourOctetAs && a.asPath.some((s) => s.asns.some((n) => n > 0xffff));
  out.push(attr('as-path', AttrCode.AS_PATH, { segments: toWireSegments(a.asPath, !fourOctetAs) }));
  if (a.med !== undefined) out.push(attr('med', AttrCode.MULTI_EXIT_DISC, { med: a.med }));
  if (a.localPref !== undefined) out.push(attr('local-pref', AttrCode.LOCAL_PREF, { localPref: a.localPref }));
  if (a.communities.length > 0) out.push(attr('communities', AttrCode.COMMUNITIES, { communities: [...a.communities] }));
  if (a.originatorId !== undefined) out.push(attr('originator-id', AttrCode.ORIGINATOR_ID, { originatorId: a.originatorId }));
  if (a.clusterList.length > 0) out.push(attr('cluster-list', AttrCode.CLUSTER_LIST, { clusterList: [...a.clusterList] }));
  if (a.extCommunities.length > 0) {
    out.push(attr('ext-communities', AttrCode.EXTENDED_COMMUNITIES, { communities: a.extCommunities.map((v) => decodeExtCommunity(extCommunityToBytes(v))) }));
  }
  if (needsAs4) out.push(attr('as4-path', AttrCode.AS4_PATH, { segments: toWireSegments(a.asPath, false) }));
  if (a.largeCommunities.length > 0) {
    out.push(attr('large-communities', AttrCode.LARGE_COMMUNITY, { communities: a.largeCommunities.map((l) => ({ global: l[0], local1: l[1], local2: l[2] })) }));
  }
  for (const [k, v] of Object.entries(a.extra)) {
    if (!k.startsWith(RAW) || !(v instanceof Uint8Array) || v.length < 3) continue;
    const ext = (v[0]! & AttrFlag.EXTENDED_LENGTH) !== 0;
    // The stored TLV goes out as an opaque attribute: flags and code as received, value as is.
    out.push({ kind: 'unknown', flags: v[0]!, code: v[1]!, raw: v.subarray(ext ? 4 : 3) });
  }
  out.sort((x, y) => x.code - y.code);
  return out;
}
