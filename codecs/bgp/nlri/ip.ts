import type { Reader } from '../../util/reader.js';
import type { Writer } from '../../util/writer.js';
import { rdFromBytes, encodeRd } from '../rd.js';
import type { LabeledNlri, MplsLabel, Nlri, PrefixNlri, VpnNlri } from './types.js';
import { ipv4PrefixText, ipv6PrefixText, labelFromField, nlriFail, parsePrefixInto, short, writeLabel } from './common.js';

/** What precedes the prefix: nothing (SAFI 1/2), labels (SAFI 4), labels + RD (SAFI 128). */
export type IpMode = 0 | 1 | 2;
export const PLAIN: IpMode = 0;
export const LABELED: IpMode = 1;
export const VPN: IpMode = 2;

/**
 * Decode IP-prefix NLRIs until the window ends. One loop for the three layouts: reads go
 * straight to the buffer after explicit bounds checks (the field path is only built when
 * failing), which is what keeps VPNv4 decoding in the millions of prefixes per second.
 */
export function decodeIpList(
  r: Reader,
  v6: boolean,
  mode: IpMode,
  addPath: boolean,
  maxLabels: number,
  withdraw: boolean,
  base: string,
): Nlri[] {
  const b = r.buf;
  const end = r.end;
  const maxBits = v6 ? 128 : 32;
  const out: Nlri[] = [];
  let p = r.pos;
  for (let i = 0; p < end; i++) {
    let pathId: number | undefined;
    if (addPath) {
      if (p + 4 > end) nlriFail(base, i, 'pathId', p, short(4, end - p));
      pathId = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      p += 4;
      if (p >= end) nlriFail(base, i, 'length', p, short(1, 0));
    }
    const lenAt = p;
    const total = b[p++]!;
    let bits = total;
    let labels: MplsLabel[] | undefined;
    if (mode !== PLAIN) {
      labels = [];
      for (;;) {
        if (bits < 24) nlriFail(base, i, 'length', lenAt, `length ${total} leaves no room for a label`);
        if (p + 3 > end) nlriFail(base, i, 'labels', p, short(3, end - p));
        const field = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
        p += 3;
        bits -= 24;
        labels.push(labelFromField(field));
        // One label unless more were negotiated; with more, the S bit ends the stack. A
        // withdrawal carries one compatibility field (RFC 8277 2.4) whose value is whatever the
        // sender chose (0x800000, FRR's 0x000000 with S=0, BIRD's 0x000001, the old label), so
        // the S bit of a compatibility value must not make us read on into the RD or prefix.
        if (labels.length >= maxLabels || (field & 1) === 1) break;
        if (withdraw && (field === 0 || field === 0x800000)) break;
      }
    }
    let rdAt = 0;
    if (mode === VPN) {
      if (bits < 64) nlriFail(base, i, 'length', lenAt, `length ${total} leaves no room for the route distinguisher`);
      if (p + 8 > end) nlriFail(base, i, 'rd', p, short(8, end - p));
      rdAt = p;
      p += 8;
      bits -= 64;
    }
    if (bits > maxBits) {
      nlriFail(base, i, 'length', lenAt, mode === PLAIN
        ? `prefix length ${bits} exceeds ${maxBits}`
        : `length ${total} leaves a ${bits}-bit prefix, more than ${maxBits}`);
    }
    const n = (bits + 7) >> 3;
    if (p + n > end) nlriFail(base, i, 'prefix', p, short(n, end - p));
    const prefix = v6 ? ipv6PrefixText(b, p, n, bits) : ipv4PrefixText(b, p, n, bits);
    p += n;
    if (mode === VPN) {
      out.push({ kind: 'vpn', pathId, labels: labels!, rd: rdFromBytes(b, rdAt), prefix } satisfies VpnNlri);
    } else if (mode === LABELED) {
      out.push({ kind: 'labeled', pathId, labels: labels!, prefix } satisfies LabeledNlri);
    } else {
      out.push({ kind: 'prefix', pathId, prefix } satisfies PrefixNlri);
    }
  }
  r.pos = p;
  return out;
}

export function encodeIpNlri(w: Writer, n: PrefixNlri | LabeledNlri | VpnNlri, v6: boolean, addPath: boolean): void {
  if (addPath) {
    if (n.pathId === undefined) throw new TypeError(`ADD-PATH NLRI ${n.prefix} has no pathId`);
    w.u32(n.pathId);
  }
  const bits = parsePrefixInto(n.prefix, v6, addrScratch);
  let total = bits;
  if (n.kind !== 'prefix') total += 24 * n.labels.length;
  if (n.kind === 'vpn') total += 64;
  if (total > 255) throw new TypeError(`NLRI ${n.prefix} is ${total} bits, more than a length byte holds`);
  w.u8(total);
  if (n.kind !== 'prefix') {
    if (n.labels.length === 0) throw new TypeError(`labeled NLRI ${n.prefix} has no label`);
    for (const l of n.labels) writeLabel(w, l);
  }
  if (n.kind === 'vpn') encodeRd(w, n.rd);
  // Byte by byte from the scratch: a subarray per route was a measurable share of encoding.
  for (let i = 0, len = (bits + 7) >> 3; i < len; i++) w.u8(addrScratch[i]!);
}

/** Address of the prefix being encoded (encoding is synchronous, so one buffer serves all). */
const addrScratch = new Uint8Array(16);
