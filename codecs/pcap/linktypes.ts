import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { toHex } from '../util/hex.js';

/**
 * Link-layer headers that a capture file puts in front of the network packet, for the
 * LINKTYPE_* values weft meets. Ethernet itself is decoded by codecs/net; here are the
 * capture-only pseudo headers (Linux cooked SLL/SLL2, BSD loopback, PPP in HDLC framing) and
 * the table that says what each link type carries.
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_RAW_OPENBSD = 12;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'BSD loopback',
  [LINKTYPE_ETHERNET]: 'Ethernet',
  [LINKTYPE_PPP]: 'PPP',
  [LINKTYPE_RAW_OPENBSD]: 'Raw IP',
  [LINKTYPE_RAW]: 'Raw IP',
  [LINKTYPE_LOOP]: 'OpenBSD loopback',
  [LINKTYPE_LINUX_SLL]: 'Linux cooked-mode capture v1',
  [LINKTYPE_IPV4]: 'Raw IPv4',
  [LINKTYPE_IPV6]: 'Raw IPv6',
  [LINKTYPE_LINUX_SLL2]: 'Linux cooked-mode capture v2',
};

export function linkTypeName(lt: number): string {
  return NAMES[lt] ?? `link type ${lt}`;
}

/** What follows a link-layer header: an EtherType-selected protocol, or a known one. */
export type NextProtocol =
  | { kind: 'ethernet' }
  | { kind: 'ethertype'; etherType: number }
  | { kind: 'ipv4' }
  | { kind: 'ipv6' }
  | { kind: 'ip' } // raw IP: the version nibble says which
  | { kind: 'mpls' }
  | { kind: 'unknown'; what: string };

// ---------------------------------------------------------------------------------------
// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes, all fields big-endian)

export interface SllHeader {
  layer: 'sll';
  /** 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us. */
  packetType: number;
  arphrdType: number;
  addressLength: number;
  /** Always 8 bytes on the wire; only the first `addressLength` (max 8) are meaningful. */
  address: Uint8Array;
  protocol: number;
}

export function decodeSll(r: Reader): SllHeader {
  const packetType = r.u16('sll.packetType');
  const arphrdType = r.u16('sll.arphrdType');
  const addressLength = r.u16('sll.addressLength');
  const address = r.bytes(8, 'sll.address');
  const protocol = r.u16('sll.protocol');
  return { layer: 'sll', packetType, arphrdType, addressLength, address, protocol };
}

export function encodeSll(w: Writer, h: SllHeader): void {
  w.u16(h.packetType).u16(h.arphrdType).u16(h.addressLength);
  w.bytes(h.address.subarray(0, 8)).zeros(8 - Math.min(8, h.address.length));
  w.u16(h.protocol);
}

// ---------------------------------------------------------------------------------------
// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes)

export interface Sll2Header {
  layer: 'sll2';
  protocol: number;
  reserved: number;
  interfaceIndex: number;
  arphrdType: number;
  packetType: number;
  addressLength: number;
  address: Uint8Array;
}

export function decodeSll2(r: Reader): Sll2Header {
  const protocol = r.u16('sll2.protocol');
  const reserved = r.u16('sll2.reserved');
  const interfaceIndex = r.u32('sll2.interfaceIndex');
  const arphrdType = r.u16('sll2.arphrdType');
  const packetType = r.u8('sll2.packetType');
  const addressLength = r.u8('sll2.addressLength');
  const address = r.bytes(8, 'sll2.address');
  return { layer: 'sll2', protocol, reserved, interfaceIndex, arphrdType, packetType, addressLength, address };
}

export function encodeSll2(w: Writer, h: Sll2Header): void {
  w.u16(h.protocol).u16(h.reserved).u32(h.interfaceIndex).u16(h.arphrdType).u8(h.packetType).u8(h.addressLength);
  w.bytes(h.address.subarray(0, 8)).zeros(8 - Math.min(8, h.address.length));
}

/**
 * SLL protocol field: an EtherType when >= 0x0600, otherwise a Linux ETH_P_* pseudo value
 * (1 = 802.3 without LLC, 4 = 802.2 LLC, ...), which weft does not dissect further.
 */
function sllNext(protocol: number, arphrd: number): NextProtocol {
  // ARPHRD_NETLINK (824) and the like carry no EtherType; 0x0001..0x05ff are not EtherTypes.
  if (arphrd === 824) return { kind: 'unknown', what: 'netlink' };
  if (protocol >= 0x0600) return { kind: 'ethertype', etherType: protocol };
  return { kind: 'unknown', what: `Linux protocol 0x${protocol.toString(16).padStart(4, '0')}` };
}

// ---------------------------------------------------------------------------------------
// BSD loopback (LINKTYPE_NULL: family in the capturing host's byte order) and OpenBSD
// loopback (LINKTYPE_LOOP: family in network byte order)

export interface NullHeader {
  layer: 'null';
  /** Address family as read with the byte order that makes sense (see `byteOrder`). */
  family: number;
  byteOrder: 'le' | 'be';
}

export function decodeNull(r: Reader, networkOrder: boolean): NullHeader {
  const at = r.pos;
  const be = r.u32('null.family');
  if (networkOrder) return { layer: 'null', family: be, byteOrder: 'be' };
  // The writer's host byte order is not recorded: a family is small, so whichever reading
  // fits in 16 bits is the right one (Wireshark's packet-null.c reasons the same way).
  r.pos = at;
  const le = r.u32le('null.family');
  return (be & 0xffff0000) !== 0 && (le & 0xffff0000) === 0
    ? { layer: 'null', family: le, byteOrder: 'le' }
    : { layer: 'null', family: be, byteOrder: 'be' };
}

export function encodeNull(w: Writer, h: NullHeader): void {
  if (h.byteOrder === 'le') w.u32le(h.family);
  else w.u32(h.family);
}

function nullNext(family: number): NextProtocol {
  if (family === 2) return { kind: 'ipv4' };
  // AF_INET6 differs per BSD: 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD), 30 (macOS); 10 is Linux.
  if (family === 24 || family === 28 || family === 30 || family === 10) return { kind: 'ipv6' };
  // Some captures put an EtherType there instead of a family.
  if (family >= 0x0600 && family <= 0xffff) return { kind: 'ethertype', etherType: family };
  return { kind: 'unknown', what: `address family ${family}` };
}

// ---------------------------------------------------------------------------------------
// PPP in HDLC-like framing (LINKTYPE_PPP, RFC 1662): address 0xff, control 0x03, protocol.
// Address/control may be compressed away (RFC 1661 ACFC) and the protocol shortened to one
// byte (PFC) when its high byte is 0; keep which, for the round trip.

export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;
export const PPP_MPLS = 0x0281;

export interface PppHeader {
  layer: 'ppp';
  /** Absent when address and control were compressed away. */
  address?: number;
  control?: number;
  protocol: number;
  /** The protocol field was sent as one byte (protocol field compression). */
  protocolCompressed: boolean;
}

export function decodePpp(r: Reader): PppHeader {
  const h: PppHeader = { layer: 'ppp', protocol: 0, protocolCompressed: false };
  if (r.peekU8('ppp.address') === 0xff) {
    h.address = r.u8('ppp.address');
    h.control = r.u8('ppp.control');
  }
  const first = r.u8('ppp.protocol');
  // Protocol numbers have an odd low byte and an even high byte; an odd first byte is a
  // compressed one-byte protocol.
  if (first & 1) {
    h.protocol = first;
    h.protocolCompressed = true;
  } else {
    h.protocol = (first << 8) | r.u8('ppp.protocol');
  }
  return h;
}

export function encodePpp(w: Writer, h: PppHeader): void {
  if (h.address !== undefined) w.u8(h.address).u8(h.control ?? 0x03);
  if (h.protocolCompressed) w.u8(h.protocol);
  else w.u16(h.protocol);
}

function pppNext(protocol: number): NextProtocol {
  switch (protocol) {
    case PPP_IPV4: return { kind: 'ipv4' };
    case PPP_IPV6: return { kind: 'ipv6' };
    case PPP_MPLS: case 0x0283: return { kind: 'mpls' };
    default: return { kind: 'unknown', what: `PPP protocol 0x${protocol.toString(16).padStart(4, '0')}` };
  }
}

// ---------------------------------------------------------------------------------------

export type LinkHeader = SllHeader | Sll2Header | NullHeader | PppHeader;

export interface LinkLayer {
  /** The capture pseudo header, when the link type has one (Ethernet's is decoded by codecs/net). */
  header?: LinkHeader;
  /** Offset in the packet of what `next` names. */
  offset: number;
  next: NextProtocol;
}

/**
 * Read the link-layer pseudo header of a packet and say what comes next. Throws DecodeError
 * when the packet is too short for the header; an unsupported link type is not an error.
 */
export function decodeLinkLayer(linkType: number, data: Uint8Array): LinkLayer {
  const r = new Reader(data);
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return { offset: 0, next: { kind: 'ethernet' } };
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OPENBSD:
      return { offset: 0, next: { kind: 'ip' } };
    case LINKTYPE_IPV4:
      return { offset: 0, next: { kind: 'ipv4' } };
    case LINKTYPE_IPV6:
      return { offset: 0, next: { kind: 'ipv6' } };
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      const header = decodeNull(r, linkType === LINKTYPE_LOOP);
      return { header, offset: r.pos, next: nullNext(header.family) };
    }
    case LINKTYPE_LINUX_SLL: {
      const header = decodeSll(r);
      return { header, offset: r.pos, next: sllNext(header.protocol, header.arphrdType) };
    }
    case LINKTYPE_LINUX_SLL2: {
      const header = decodeSll2(r);
      return { header, offset: r.pos, next: sllNext(header.protocol, header.arphrdType) };
    }
    case LINKTYPE_PPP: {
      const header = decodePpp(r);
      return { header, offset: r.pos, next: pppNext(header.protocol) };
    }
    default:
      return { offset: 0, next: { kind: 'unknown', what: linkTypeName(linkType) } };
  }
}

export function encodeLinkHeader(w: Writer, h: LinkHeader): void {
  switch (h.layer) {
    case 'sll': return encodeSll(w, h);
    case 'sll2': return encodeSll2(w, h);
    case 'null': return encodeNull(w, h);
    case 'ppp': return encodePpp(w, h);
  }
}

/** The meaningful part of an SLL/SLL2 link-layer address as colon hex (a MAC for Ethernet). */
export function sllAddressText(h: SllHeader | Sll2Header): string {
  const n = Math.min(8, h.addressLength);
  return toHex(h.address.subarray(0, n)).replace(/(..)(?=.)/g, '$1:');
}
