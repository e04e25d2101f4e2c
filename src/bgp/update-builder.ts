/**
 * Packs outgoing routes into as few UPDATEs as the negotiated message size allows: NLRI that
 * share an attribute set share a message, withdrawals are packed the same way. Sizes are
 * computed from the NLRI shape instead of encoding each NLRI twice.
 */
import { AttrCode, AttrFlag, type PathAttribute } from '../../codecs/bgp/attributes.js';
import { BGP_EXTENDED_MAX_LEN, BGP_MAX_LEN } from '../../codecs/bgp/header.js';
import { writeBgpMessage, type BgpMessage } from '../../codecs/bgp/message.js';
import type { MpNextHop } from '../../codecs/bgp/nexthop.js';
import type { Nlri } from '../../codecs/bgp/nlri.js';
import type { BgpCodecOptions } from '../../codecs/bgp/options.js';
import { Writer } from '../../codecs/util/writer.js';
import type { Attrs } from '../rib/path.js';
import { afiSafiOf, type FamilyName } from './families.js';
import { wireAttributes } from './rib-attrs.js';

type UpdateMsg = Extract<BgpMessage, { type: 'update' }>;

const HEADER_AND_LENGTHS = 19 + 2 + 2;
/** MP attribute header with a 2-byte length: flags, code, length. */
const MP_ATTR_HEADER = 4;
const MP_FLAGS = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
const ZERO_RD = { type: 0, admin: 0, assigned: 0 } as const;
const EMPTY: Nlri[] = [];

/** Bytes of the prefix length after the '/', read in place (this runs once per route sent). */
function prefixBytes(prefix: string): number {
  const slash = prefix.lastIndexOf('/');
  if (slash < 0) return 4;
  let bits = 0;
  for (let i = slash + 1; i < prefix.length; i++) bits = bits * 10 + prefix.charCodeAt(i) - 48;
  return (bits + 7) >> 3;
}

/** Encoded size of one NLRI (no path id: the speaker does not send ADD-PATH). */
export function nlriSize(n: Nlri): number {
  switch (n.kind) {
    case 'prefix':
      return 1 + prefixBytes(n.prefix);
    case 'labeled':
      return 1 + 3 * n.labels.length + prefixBytes(n.prefix);
    case 'vpn':
      return 1 + 3 * n.labels.length + 8 + prefixBytes(n.prefix);
    case 'rtc':
      return n.length === 0 ? 1 : 1 + 4 + ((n.length - 32 + 7) >> 3);
    default:
      throw new TypeError(`cannot send NLRI of kind ${n.kind}`);
  }
}

function isV4(a: string): boolean {
  return !a.includes(':');
}

export function mpNextHop(family: FamilyName, nextHop: string): MpNextHop {
  switch (family) {
    case 'vpnv4':
      return { kind: 'vpn-ipv4', rd: { ...ZERO_RD }, address: nextHop };
    case 'vpnv6':
      // RFC 4659 / 4798: an IPv4 next hop in an IPv6 family is IPv4-mapped.
      return { kind: 'vpn-ipv6', rd: { ...ZERO_RD }, address: isV4(nextHop) ? `::ffff:${nextHop}` : nextHop };
    default:
      return isV4(nextHop) ? { kind: 'ipv4', address: nextHop } : { kind: 'ipv6', address: nextHop };
  }
}

function mpNextHopSize(nh: MpNextHop): number {
  switch (nh.kind) {
    case 'ipv4':
      return 4;
    case 'ipv6':
      return nh.linkLocal === undefined ? 16 : 32;
    case 'vpn-ipv4':
      return 12;
    case 'vpn-ipv6':
      return nh.linkLocal === undefined ? 24 : 48;
    case 'raw':
      return nh.raw.length;
  }
}

export class UpdateBuilder {
  readonly maxLen: number;
  private readonly sizeWriter = new Writer(4096);

  constructor(readonly opts: BgpCodecOptions) {
    this.maxLen = opts.extendedMessage === true ? BGP_EXTENDED_MAX_LEN : BGP_MAX_LEN;
  }

  private attributesSize(attrs: readonly PathAttribute[]): number {
    const w = this.sizeWriter;
    w.pos = 0;
    const u: UpdateMsg = { type: 'update', withdrawn: EMPTY, attributes: attrs as PathAttribute[], nlri: EMPTY };
    writeBgpMessage(w, u, this.opts);
    return w.pos - HEADER_AND_LENGTHS;
  }

  /** Appends UPDATEs announcing `nlri` (all of `family`) with `attrs` and `nextHop`. Returns the message count. */
  announce(w: Writer, family: FamilyName, attrs: Attrs, nextHop: string, nlri: readonly Nlri[]): number {
    const base = wireAttributes(attrs, this.opts);
    if (family === 'ipv4-unicast') {
      const all = insertByCode(base, { kind: 'next-hop', code: AttrCode.NEXT_HOP, flags: AttrFlag.TRANSITIVE, nextHop });
      const room = this.maxLen - HEADER_AND_LENGTHS - this.attributesSize(all);
      return this.chunks(nlri, room, (chunk) => writeBgpMessage(w, { type: 'update', withdrawn: EMPTY, attributes: all, nlri: chunk }, this.opts));
    }
    const { afi, safi } = afiSafiOf(family);
    const nh = mpNextHop(family, nextHop);
    const mp: Extract<PathAttribute, { kind: 'mp-reach' }> = { kind: 'mp-reach', code: AttrCode.MP_REACH_NLRI, flags: MP_FLAGS, afi, safi, nextHop: nh, reserved: 0, nlri: EMPTY };
    const fixed = this.attributesSize(base) + MP_ATTR_HEADER + 2 + 1 + 1 + mpNextHopSize(nh) + 1;
    const room = this.maxLen - HEADER_AND_LENGTHS - fixed;
    return this.chunks(nlri, room, (chunk) => {
      mp.nlri = chunk;
      writeBgpMessage(w, { type: 'update', withdrawn: EMPTY, attributes: insertByCode(base, mp), nlri: EMPTY }, this.opts);
    });
  }

  /** Appends UPDATEs withdrawing `nlri` of `family`. Returns the message count. */
  withdraw(w: Writer, family: FamilyName, nlri: readonly Nlri[]): number {
    if (family === 'ipv4-unicast') {
      return this.chunks(nlri, this.maxLen - HEADER_AND_LENGTHS, (chunk) =>
        writeBgpMessage(w, { type: 'update', withdrawn: chunk, attributes: [], nlri: EMPTY }, this.opts),
      );
    }
    const { afi, safi } = afiSafiOf(family);
    const room = this.maxLen - HEADER_AND_LENGTHS - MP_ATTR_HEADER - 3;
    return this.chunks(nlri, room, (chunk) =>
      writeBgpMessage(w, { type: 'update', withdrawn: EMPTY, attributes: [{ kind: 'mp-unreach', code: AttrCode.MP_UNREACH_NLRI, flags: MP_FLAGS, afi, safi, withdrawn: chunk }], nlri: EMPTY }, this.opts),
    );
  }

  /** RFC 4724 section 2: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH otherwise. */
  endOfRib(w: Writer, family: FamilyName): void {
    if (family === 'ipv4-unicast') {
      writeBgpMessage(w, { type: 'update', withdrawn: EMPTY, attributes: [], nlri: EMPTY }, this.opts);
      return;
    }
    const { afi, safi } = afiSafiOf(family);
    writeBgpMessage(w, { type: 'update', withdrawn: EMPTY, attributes: [{ kind: 'mp-unreach', code: AttrCode.MP_UNREACH_NLRI, flags: AttrFlag.OPTIONAL, afi, safi, withdrawn: EMPTY }], nlri: EMPTY }, this.opts);
  }

  private chunks(nlri: readonly Nlri[], room: number, emit: (chunk: Nlri[]) => void): number {
    if (room <= 0) throw new RangeError('attributes leave no room for NLRI in an UPDATE');
    let count = 0;
    let chunk: Nlri[] = [];
    let used = 0;
    for (const n of nlri) {
      const size = nlriSize(n);
      if (used + size > room && chunk.length > 0) {
        emit(chunk);
        count++;
        chunk = [];
        used = 0;
      }
      chunk.push(n);
      used += size;
    }
    if (chunk.length > 0) {
      emit(chunk);
      count++;
    }
    return count;
  }
}

function insertByCode(base: readonly PathAttribute[], a: PathAttribute): PathAttribute[] {
  const out: PathAttribute[] = [];
  let placed = false;
  for (const b of base) {
    if (!placed && b.code > a.code) {
      out.push(a);
      placed = true;
    }
    out.push(b);
  }
  if (!placed) out.push(a);
  return out;
}
