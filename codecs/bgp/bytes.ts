/**
 * A copy of `b[start..end)` as a plain Uint8Array. Decoded values outlive the receive
 * buffer (the RIB keeps attributes), and `Buffer.prototype.slice` does NOT copy, so copies
 * go through here whatever the caller passed in.
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}
