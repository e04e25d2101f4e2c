/**
 * In-place edits of an IPv4 datagram the vRouter forwards: TTL decrement and NAT of addresses
 * and ports. Checksums are adjusted incrementally (RFC 1624) rather than recomputed, so the
 * cost does not grow with the payload and fragments (whose L4 checksum covers bytes we do
 * not have) come out right too.
 */
import { ipv4ToInt } from './addr.js';

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from m to m'. */
function adjust(csum: number, oldWord: number, newWord: number): number {
  let s = (~csum & 0xffff) + (~oldWord & 0xffff) + newWord;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

/** Decrements the TTL; the caller has checked it is above 1. */
export function decrementTtl(p: Uint8Array): void {
  const oldWord = u16(p, 8);
  p[8] = p[8]! - 1;
  put16(p, 10, adjust(u16(p, 10), oldWord, u16(p, 8)));
}

export interface NatEdit {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
}

const PROTO_TCP = 6;
const PROTO_UDP = 17;

/**
 * Rewrites what `edit` gives that differs from the packet. Ports are only touched on TCP/UDP
 * and only in a first (or unfragmented) datagram, where the L4 header is.
 */
export function applyNat(p: Uint8Array, edit: NatEdit): void {
  const ihl = (p[0]! & 0x0f) * 4;
  const proto = p[9]!;
  const fragOffset = u16(p, 6) & 0x1fff;
  const hasL4 = fragOffset === 0;
  // Where the L4 checksum lives, if it covers the pseudo-header and is in this datagram.
  let l4c = -1;
  if (hasL4 && proto === PROTO_TCP && p.length >= ihl + 18) l4c = ihl + 16;
  else if (hasL4 && proto === PROTO_UDP && p.length >= ihl + 8 && u16(p, ihl + 6) !== 0) l4c = ihl + 6;
  let ipc = u16(p, 10);
  let tc = l4c >= 0 ? u16(p, l4c) : 0;
  const word = (at: number, v: number, inPseudo: boolean): void => {
    const old = u16(p, at);
    if (old === v) return;
    put16(p, at, v);
    if (inPseudo) ipc = adjust(ipc, old, v);
    if (l4c >= 0) tc = adjust(tc, old, v);
  };
  if (edit.src !== undefined) {
    const a = ipv4ToInt(edit.src);
    word(12, a >>> 16, true);
    word(14, a & 0xffff, true);
  }
  if (edit.dst !== undefined) {
    const a = ipv4ToInt(edit.dst);
    word(16, a >>> 16, true);
    word(18, a & 0xffff, true);
  }
  if (hasL4 && (proto === PROTO_TCP || proto === PROTO_UDP) && p.length >= ihl + 4) {
    if (edit.sport !== undefined) word(ihl, edit.sport, false);
    if (edit.dport !== undefined) word(ihl + 2, edit.dport, false);
  }
  put16(p, 10, ipc);
  if (l4c >= 0) {
    // UDP: a computed 0 is sent as all ones, 0 meaning "no checksum" (RFC 768).
    put16(p, l4c, proto === PROTO_UDP && tc === 0 ? 0xffff : tc);
  }
}
