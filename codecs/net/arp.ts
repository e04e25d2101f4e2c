/** ARP (RFC 826). Ethernet/IPv4 addresses as text; any other hardware/protocol pair raw. */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { EMPTY, type Optional } from './types.js';

export const ArpOp = { REQUEST: 1, REPLY: 2, RARP_REQUEST: 3, RARP_REPLY: 4 } as const;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;

export interface ArpPacket {
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  /** MAC text for Ethernet/IPv4 ARP, otherwise the raw `hlen` bytes. */
  sha: string | Uint8Array;
  /** IPv4 text for Ethernet/IPv4 ARP, otherwise the raw `plen` bytes. */
  spa: string | Uint8Array;
  tha: string | Uint8Array;
  tpa: string | Uint8Array;
  /** Bytes after the packet (Ethernet padding to 60 bytes). */
  trailer: Uint8Array;
}

/** hlen/plen default to 6/4 (Ethernet/IPv4) or to the raw address sizes. */
export type ArpInput = Optional<ArpPacket, 'htype' | 'ptype' | 'hlen' | 'plen' | 'trailer'>;

export function decodeArp(buf: Uint8Array, offset = 0, end = buf.length): ArpPacket {
  const r = new Reader(buf, offset, end);
  const htype = r.u16('arp.htype');
  const ptype = r.u16('arp.ptype');
  const hlen = r.u8('arp.hlen');
  const plen = r.u8('arp.plen');
  const op = r.u16('arp.op');
  if (htype === ARP_HTYPE_ETHERNET && ptype === ARP_PTYPE_IPV4 && hlen === 6 && plen === 4) {
    const sha = r.mac('arp.sha');
    const spa = r.ipv4('arp.spa');
    const tha = r.mac('arp.tha');
    const tpa = r.ipv4('arp.tpa');
    return { htype, ptype, hlen, plen, op, sha, spa, tha, tpa, trailer: r.rest() };
  }
  const sha = r.bytes(hlen, 'arp.sha');
  const spa = r.bytes(plen, 'arp.spa');
  const tha = r.bytes(hlen, 'arp.tha');
  const tpa = r.bytes(plen, 'arp.tpa');
  return { htype, ptype, hlen, plen, op, sha, spa, tha, tpa, trailer: r.rest() };
}

export function encodeArp(a: ArpInput): Uint8Array {
  const textual = typeof a.sha === 'string';
  const w = new Writer(28 + (a.trailer?.length ?? 0));
  w.u16(a.htype ?? ARP_HTYPE_ETHERNET).u16(a.ptype ?? ARP_PTYPE_IPV4);
  w.u8(a.hlen ?? (textual ? 6 : (a.sha as Uint8Array).length));
  w.u8(a.plen ?? (typeof a.spa === 'string' ? 4 : a.spa.length));
  w.u16(a.op);
  hw(w, a.sha);
  proto(w, a.spa);
  hw(w, a.tha);
  proto(w, a.tpa);
  w.bytes(a.trailer ?? EMPTY);
  return w.finish();
}

function hw(w: Writer, v: string | Uint8Array): void {
  if (typeof v === 'string') w.mac(v);
  else w.bytes(v);
}

function proto(w: Writer, v: string | Uint8Array): void {
  if (typeof v === 'string') w.ipv4(v);
  else w.bytes(v);
}
