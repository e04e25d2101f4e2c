import { DecodeError, type NotificationHint } from './errors.js';

/**
 * Bounds-checked cursor over a byte buffer: the single reading primitive of every codec.
 *
 * Each read names the field it reads so that a short buffer becomes a DecodeError saying which
 * field and where, never a RangeError or a silent `undefined`. A Reader may be limited to a
 * window (`sub`) so that a length field inside a message cannot make a nested decoder read
 * past the element that contains it.
 */
export class Reader {
  /** Absolute position in `buf`. */
  pos: number;
  /** Absolute end (exclusive) of the window this reader may read. */
  readonly end: number;
  /** NOTIFICATION to attach when this reader runs short (BGP decoders set it). */
  hint: NotificationHint | undefined;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    hint?: NotificationHint,
  ) {
    this.pos = start;
    this.end = Math.min(end, buf.length);
    this.hint = hint;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Throw a DecodeError at the current position (or `at`). */
  fail(field: string, reason: string, hint: NotificationHint | undefined = this.hint, at = this.pos): never {
    throw new DecodeError(field, at, reason, hint);
  }

  need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail(field, `needs ${n} byte${n === 1 ? '' : 's'}, ${Math.max(0, this.end - this.pos)} left`);
    }
  }

  u8(field: string): number {
    if (this.pos >= this.end) this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field: string): number {
    if (this.pos + 2 > this.end) this.need(2, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(field: string): number {
    if (this.pos + 3 > this.end) this.need(3, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(field: string): number {
    if (this.pos + 4 > this.end) this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** 64-bit unsigned as bigint (timestamps, 8-byte counters). */
  u64(field: string): bigint {
    const hi = this.u32(field);
    const lo = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Little-endian reads, for pcap headers written on little-endian hosts. */
  u16le(field: string): number {
    if (this.pos + 2 > this.end) this.need(2, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  u32le(field: string): number {
    if (this.pos + 4 > this.end) this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + ((b[p + 3]! << 24) >>> 0);
  }

  /** A copy-free view of the next n bytes. */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything left in the window. */
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  peekU8(field: string): number {
    if (this.pos >= this.end) this.need(1, field);
    return this.buf[this.pos]!;
  }

  /** Dotted-quad IPv4 address. */
  ipv4(field: string): string {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  }

  /** RFC 5952 text form of an IPv6 address. */
  ipv6(field: string): string {
    return formatIpv6(this.bytes(16, field));
  }

  /** MAC address as lower-case colon-separated hex. */
  mac(field: string): string {
    return formatMac(this.bytes(6, field));
  }

  /**
   * A reader over the next `n` bytes; this reader moves past them. Fails with `field` when
   * the window is shorter than n (a length field that lies).
   */
  sub(n: number, field: string, hint: NotificationHint | undefined = this.hint): Reader {
    this.need(n, field);
    const r = new Reader(this.buf, this.pos, this.pos + n, hint);
    this.pos += n;
    return r;
  }
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatMac(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    if (i) s += ':';
    s += b[i]!.toString(16).padStart(2, '0');
  }
  return s;
}

/** RFC 5952: lower case, leading zeros dropped, the longest run (>1) of zero groups as `::`. */
export function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // IPv4-mapped addresses keep the dotted tail, as every tool prints them.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  const head = g.slice(0, bestStart).map(hex).join(':');
  const tail = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}
