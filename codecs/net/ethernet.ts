/**
 * Ethernet II and IEEE 802.3 frames (no FCS: captures rarely carry it, and when they do it
 * stays in the payload or trailer), with any number of 802.1Q / 802.1ad tags.
 */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { splitByLength, type Optional } from './types.js';

export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
export const TPID_QINQ_LEGACY = 0x9100;
/** Largest 802.3 length; type/length values above it are EtherTypes (IEEE 802.3 clause 3.2.6). */
export const ETHERNET_MAX_LENGTH_FIELD = 1500;

export interface VlanTag {
  tpid: number;
  /** Priority code point (802.1p). */
  pcp: number;
  /** Drop eligible indicator (was CFI). */
  dei: boolean;
  vid: number;
}

export interface EthernetFrame {
  dst: string;
  src: string;
  /** Outermost first. */
  tags: VlanTag[];
  /** Ethernet II: the EtherType after the tags. Undefined for an 802.3 length frame. */
  etherType?: number;
  /** IEEE 802.3: the length field (<= 1500); the payload is the LLC PDU. */
  length?: number;
  payload: Uint8Array;
  /** 802.3 only: bytes after `length` (padding to the 60-byte minimum). */
  trailer?: Uint8Array;
  /** 802.3 only: the capture holds fewer than `length` bytes. */
  truncated?: boolean;
}

/**
 * What `encodeEthernet` takes: without `etherType` the frame is 802.3 and `length` defaults to
 * the payload length.
 */
export type EthernetInput = Optional<EthernetFrame, 'tags'>;

function isTpid(type: number): boolean {
  return type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ_LEGACY;
}

export function decodeEthernet(buf: Uint8Array, offset = 0, end = buf.length): EthernetFrame {
  const r = new Reader(buf, offset, end);
  const dst = r.mac('ethernet.dst');
  const src = r.mac('ethernet.src');
  let type = r.u16('ethernet.etherType');
  const tags: VlanTag[] = [];
  while (isTpid(type)) {
    // Every tag consumes 4 bytes, so a frame of tags runs out of bytes and fails, never loops.
    const tci = r.u16('ethernet.vlan.tci');
    tags.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    type = r.u16('ethernet.vlan.etherType');
  }
  if (type > ETHERNET_MAX_LENGTH_FIELD) return { dst, src, tags, etherType: type, payload: r.rest() };
  return { dst, src, tags, length: type, ...splitByLength(r, type, 'ethernet.payload') };
}

export function encodeEthernet(f: EthernetInput): Uint8Array {
  const w = new Writer(14 + 4 * (f.tags?.length ?? 0) + f.payload.length + (f.trailer?.length ?? 0));
  w.mac(f.dst).mac(f.src);
  for (const t of f.tags ?? []) {
    w.u16(t.tpid).u16(((t.pcp & 7) << 13) | (t.dei ? 0x1000 : 0) | (t.vid & 0x0fff));
  }
  w.u16(f.etherType ?? f.length ?? f.payload.length);
  w.bytes(f.payload);
  if (f.trailer) w.bytes(f.trailer);
  return w.finish();
}
