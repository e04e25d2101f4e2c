/** RFC 1071 Internet checksum, shared by IPv4, ICMP, UDP, TCP and GRE. */

/** One's-complement sum of `b[start..end)` folded to 16 bits, starting from `initial`. */
export function onesSum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  let sum = initial;
  let i = start;
  const even = end - ((end - start) & 1);
  // Four words a step (the data plane sums whole 64 KB bursts); a double cannot overflow below 2^53.
  for (; i + 8 <= even; i += 8) {
    sum += ((b[i]! << 8) | b[i + 1]!) + ((b[i + 2]! << 8) | b[i + 3]!) + ((b[i + 4]! << 8) | b[i + 5]!) + ((b[i + 6]! << 8) | b[i + 7]!);
  }
  for (; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Arithmetic, not bitwise: the sum of a large buffer (or a large `initial`) may pass 2^32.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

export function internetChecksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return ~onesSum(b, start, end, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 768 / RFC 793) for UDP and TCP checksums. */
export function ipv4PseudoSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!);
  sum += ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!);
  sum += protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
