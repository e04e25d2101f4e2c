/** MPLS label stack (RFC 3032). */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';

export const MplsLabel = {
  IPV4_EXPLICIT_NULL: 0,
  ROUTER_ALERT: 1,
  IPV6_EXPLICIT_NULL: 2,
  IMPLICIT_NULL: 3,
  ENTROPY_LABEL_INDICATOR: 7,
  GAL: 13,
  OAM_ALERT: 14,
} as const;

export interface MplsLabelEntry {
  label: number;
  /** Traffic class (the old EXP bits; tshark's mpls.exp). */
  tc: number;
  /** Bottom of stack (S). */
  bottom: boolean;
  ttl: number;
}

export interface MplsPacket {
  labels: MplsLabelEntry[];
  payload: Uint8Array;
}

/** `bottom` defaults to true on the last entry only, `tc` to 0, `ttl` to 64. */
export interface MplsInput {
  labels: { label: number; tc?: number; bottom?: boolean; ttl?: number }[];
  payload: Uint8Array;
}

export function decodeMpls(buf: Uint8Array, offset = 0, end = buf.length): MplsPacket {
  const r = new Reader(buf, offset, end);
  const labels: MplsLabelEntry[] = [];
  for (;;) {
    if (r.remaining < 4) {
      r.fail(`mpls.labels[${labels.length}]`, `label stack ends before the bottom-of-stack bit (${r.remaining} bytes left)`);
    }
    const v = r.u32('mpls.label');
    const bottom = (v & 0x100) !== 0;
    labels.push({ label: v >>> 12, tc: (v >>> 9) & 7, bottom, ttl: v & 0xff });
    if (bottom) break;
  }
  return { labels, payload: r.rest() };
}

export function encodeMplsLabels(labels: MplsInput['labels'], w: Writer): void {
  const last = labels.length - 1;
  for (let i = 0; i <= last; i++) {
    const e = labels[i]!;
    const bottom = e.bottom ?? i === last;
    w.u32((((e.label & 0xfffff) << 12) | (((e.tc ?? 0) & 7) << 9) | (bottom ? 0x100 : 0) | ((e.ttl ?? 64) & 0xff)) >>> 0);
  }
}

export function encodeMpls(m: MplsInput): Uint8Array {
  const w = new Writer(4 * m.labels.length + m.payload.length);
  encodeMplsLabels(m.labels, w);
  w.bytes(m.payload);
  return w.finish();
}

/**
 * What follows the bottom label, guessed from the first nibble as Wireshark does: 4 and 6
 * are IP; 0 is a pseudowire control word (RFC 4385), taken to precede an Ethernet frame
 * (the caller skips its 4 bytes).
 */
export function guessMplsPayload(payload: Uint8Array): 'ipv4' | 'ipv6' | 'ethernet' | 'unknown' {
  if (payload.length === 0) return 'unknown';
  switch (payload[0]! >>> 4) {
    case 4:
      return 'ipv4';
    case 6:
      return 'ipv6';
    case 0:
      return 'ethernet';
    default:
      return 'unknown';
  }
}
