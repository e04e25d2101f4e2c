/**
 * Growable byte buffer: the single writing primitive of every codec. Encoders append fields
 * and, for length-prefixed elements, reserve the length and patch it once the body is known.
 */
export class Writer {
  private buf: Uint8Array;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    const b = this.buf;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.grow(3);
    const b = this.buf;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    const b = this.buf;
    b[this.pos++] = (v >>> 24) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    return this.u32(Number(v & 0xffffffffn));
  }

  u16le(v: number): this {
    this.grow(2);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    return this;
  }

  u32le(v: number): this {
    this.grow(4);
    const b = this.buf;
    b[this.pos++] = v & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 24) & 0xff;
    return this;
  }

  bytes(src: Uint8Array): this {
    this.grow(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
    return this;
  }

  zeros(n: number): this {
    this.grow(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  ipv4(addr: string): this {
    return this.bytes(parseIpv4(addr));
  }

  ipv6(addr: string): this {
    return this.bytes(parseIpv6(addr));
  }

  mac(addr: string): this {
    return this.bytes(parseMac(addr));
  }

  /** Overwrite a big-endian u8/u16/u32 already written at `at` (length and checksum patches). */
  patchU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  patchU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  patchU32(at: number, v: number): void {
    this.buf[at] = (v >>> 24) & 0xff;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
  }

  /** View of what has been written since `from` (no copy; valid until the next write). */
  view(from = 0, to = this.pos): Uint8Array {
    return this.buf.subarray(from, to);
  }

  /** The written bytes as a Buffer of their own. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Encoders take text addresses; a malformed one is the caller's bug, so it throws TypeError. */
export function parseIpv4(addr: string): Uint8Array {
  const parts = addr.split('.');
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${addr}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new TypeError(`not an IPv4 address: ${addr}`);
    out[i] = n;
  }
  return out;
}

export function parseIpv6(addr: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = addr;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = parseIpv4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new TypeError(`not an IPv6 address: ${addr}`);
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = head.length + rest.length;
  if ((halves.length === 1 && groups !== 8) || groups > 8) throw new TypeError(`not an IPv6 address: ${addr}`);
  const all = [...head, ...Array<string>(8 - groups).fill('0'), ...rest];
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new TypeError(`not an IPv6 address: ${addr}`);
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

export function parseMac(addr: string): Uint8Array {
  const parts = addr.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`not a MAC address: ${addr}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
