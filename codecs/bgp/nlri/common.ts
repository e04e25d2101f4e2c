import { DecodeError } from '../../util/errors.js';
import { formatIpv6 } from '../../util/reader.js';
import type { Writer } from '../../util/writer.js';
import { parseIpv6 } from '../../util/writer.js';
import { DEC } from '../rd.js';
import type { MplsLabel } from './types.js';

/**
 * Every NLRI malformation is UPDATE error 3/10 "Invalid Network Field" (RFC 4271 6.3); the
 * UPDATE codec may remap errors inside MP_REACH/MP_UNREACH to 3/9. The field path is built only
 * when failing, so the decode loops carry no per-NLRI strings.
 */
export function nlriFail(base: string, i: number, field: string, at: number, reason: string): never {
  throw new DecodeError(`${base}[${i}].${field}`, at, reason, { code: 3, subcode: 10 });
}

export function short(n: number, left: number): string {
  return `needs ${n} byte${n === 1 ? '' : 's'}, ${Math.max(0, left)} left`;
}

export function labelFromField(raw: number): MplsLabel {
  return { value: raw >>> 4, tc: (raw >>> 1) & 7, bottom: (raw & 1) === 1, raw };
}

/** The 24-bit field of a label; value/tc/bottom are authoritative, `raw` is not consulted. */
export function labelField(l: MplsLabel): number {
  const v = l.value;
  const tc = l.tc ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xfffff) throw new TypeError(`MPLS label out of range: ${v}`);
  if (!Number.isInteger(tc) || tc < 0 || tc > 7) throw new TypeError(`MPLS TC out of range: ${tc}`);
  return (v << 4) | (tc << 1) | (l.bottom ? 1 : 0);
}

export function writeLabel(w: Writer, l: MplsLabel): void {
  w.u24(labelField(l));
}

/**
 * Text of a prefix whose first `n` bytes are at `p` (the rest of the address is zero). IPv4
 * goes through the decimal table with plain concatenation: this is the VPNv4 hot path.
 */
export function ipv4PrefixText(b: Uint8Array, p: number, n: number, bits: number): string {
  const a0 = n > 0 ? b[p]! : 0;
  const a1 = n > 1 ? b[p + 1]! : 0;
  const a2 = n > 2 ? b[p + 2]! : 0;
  const a3 = n > 3 ? b[p + 3]! : 0;
  return DEC[a0]! + '.' + DEC[a1]! + '.' + DEC[a2]! + '.' + DEC[a3]! + '/' + bits;
}

const scratch6 = new Uint8Array(16);

export function ipv6PrefixText(b: Uint8Array, p: number, n: number, bits: number): string {
  scratch6.fill(0);
  scratch6.set(b.subarray(p, p + n));
  return formatIpv6(scratch6) + '/' + bits;
}

/**
 * Split 'addr/len' for the encoders; the address bytes are returned whole (host bits included)
 * and the caller writes the first ceil(len/8) of them. IPv4 is parsed by hand (no split, no
 * regex) since re-advertising VPNv4 routes runs this once per route.
 */
export function parsePrefix(text: string, v6: boolean): { addr: Uint8Array; bits: number } {
  const addr = new Uint8Array(v6 ? 16 : 4);
  const bits = parsePrefixInto(text, v6, addr);
  return { addr, bits };
}

/**
 * parsePrefix without allocating: the address goes into `out` (4 or 16 bytes used) and the
 * prefix length is returned. The VPNv4 encoder calls this once per route.
 */
export function parsePrefixInto(text: string, v6: boolean, out: Uint8Array): number {
  const slash = text.indexOf('/');
  if (slash < 0) throw new TypeError(`prefix without length: ${text}`);
  const bits = decimalAt(text, slash + 1, text.length);
  if (bits < 0 || bits > (v6 ? 128 : 32)) throw new TypeError(`bad prefix length: ${text}`);
  if (v6) out.set(parseIpv6(text.slice(0, slash)));
  else ipv4Into(text, slash, out);
  return bits;
}

/** Dotted quad in text[0, end) into out[0..4). */
function ipv4Into(text: string, end: number, out: Uint8Array): void {
  let part = 0;
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || text.charCodeAt(i) === 46) {
      const v = decimalAt(text, start, i);
      if (v < 0 || v > 255 || i - start > 3 || part > 3) throw new TypeError(`not an IPv4 prefix: ${text}`);
      out[part++] = v;
      start = i + 1;
    }
  }
  if (part !== 4) throw new TypeError(`not an IPv4 prefix: ${text}`);
}

/** Decimal digits in text[from, to) or -1. */
function decimalAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 3) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

export function isIpv6Text(s: string): boolean {
  return s.includes(':');
}

/** ESI bytes as tshark prints them: '00:01:02:03:04:05:06:07:08:09'. */
export function esiText(b: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 10; i++) {
    const x = b[p + i]!;
    s += (i ? ':' : '') + HEX[x >> 4] + HEX[x & 15];
  }
  return s;
}

const HEX = '0123456789abcdef';

export function parseEsi(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 10) throw new TypeError(`ESI needs 10 bytes: ${text}`);
  const out = new Uint8Array(10);
  for (let i = 0; i < 10; i++) {
    const p = parts[i]!;
    const hi = hexDigit(p.charCodeAt(0));
    const lo = hexDigit(p.charCodeAt(1));
    if (p.length !== 2 || hi < 0 || lo < 0) throw new TypeError(`bad ESI byte '${p}' in ${text}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
