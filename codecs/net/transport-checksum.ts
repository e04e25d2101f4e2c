/**
 * UDP/TCP checksums over the pseudo-header (RFC 768, RFC 793; RFC 8200 section 8.1 for IPv6).
 * Addresses may be text or raw bytes; 4 bytes select the IPv4 pseudo-header, 16 the IPv6 one.
 */
import { ipv4PseudoSum, onesSum } from '../util/checksum.js';
import { parseIpv4, parseIpv6 } from '../util/writer.js';

export type IpAddress = string | Uint8Array;

/** Raw bytes of an address given as text or bytes. */
export function addressBytes(a: IpAddress): Uint8Array {
  if (typeof a !== 'string') return a;
  return a.includes(':') ? parseIpv6(a) : parseIpv4(a);
}

export function pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  if (s.length === 4 && d.length === 4) return ipv4PseudoSum(s, d, protocol, length);
  if (s.length !== 16 || d.length !== 16) throw new TypeError('pseudo-header needs two IPv4 or two IPv6 addresses');
  let sum = onesSum(d, 0, 16, onesSum(s, 0, 16));
  sum += (length >>> 16) + (length & 0xffff) + protocol;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * Checksum of a whole segment/datagram `seg` as if its checksum field (at `checksumAt`) were
 * zero, so it works on captured bytes without copying them.
 */
export function transportChecksum(src: IpAddress, dst: IpAddress, protocol: number, seg: Uint8Array, checksumAt: number): number {
  let sum = pseudoHeaderSum(src, dst, protocol, seg.length);
  sum = onesSum(seg, 0, checksumAt, sum);
  sum = onesSum(seg, checksumAt + 2, seg.length, sum);
  return ~sum & 0xffff;
}

/** True when the segment, checksum field included, sums to all ones. */
export function transportChecksumOk(src: IpAddress, dst: IpAddress, protocol: number, seg: Uint8Array): boolean {
  return onesSum(seg, 0, seg.length, pseudoHeaderSum(src, dst, protocol, seg.length)) === 0xffff;
}
