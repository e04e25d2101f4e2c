import { DecodeError } from '../../codecs/util/errors.js';
import { toHex } from '../../codecs/util/hex.js';
import { bgpLayerText, errorText } from './bgp-text.js';
import type { DecodedPacket, Layer } from './types.js';

/**
 * The two printed forms of a decoded packet: one JSON object per line (docs/decode-json.md)
 * and an indented tree in the manner of `tshark -V`.
 */

/** JSON.stringify replacer: bytes as hex, bigints as decimal strings, functions dropped. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  // Codecs keep the DecodeError of a malformed attribute in the value: print its fields only.
  if (value instanceof DecodeError) {
    const e: Record<string, unknown> = { field: value.field, offset: value.offset, reason: value.reason };
    if (value.notification) e.notification = value.notification;
    return e;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return undefined;
  return value;
}

export function packetToJson(p: DecodedPacket): string {
  return JSON.stringify(p, jsonReplacer);
}

const LAYER_TITLES: Readonly<Record<string, string>> = {
  sll: 'Linux cooked capture v1',
  sll2: 'Linux cooked capture v2',
  null: 'Null/Loopback',
  ppp: 'Point-to-Point Protocol',
  eth: 'Ethernet II',
  vlan: '802.1Q Virtual LAN',
  arp: 'Address Resolution Protocol',
  ip: 'Internet Protocol Version 4',
  ipv6: 'Internet Protocol Version 6',
  icmp: 'Internet Control Message Protocol',
  udp: 'User Datagram Protocol',
  tcp: 'Transmission Control Protocol',
  gre: 'Generic Routing Encapsulation',
  mpls: 'MultiProtocol Label Switching',
  vxlan: 'Virtual eXtensible Local Area Network',
  dhcp: 'Dynamic Host Configuration Protocol',
  bgp: 'Border Gateway Protocol',
  xmpp: 'XMPP Protocol',
  data: 'Data',
};

function scalar(v: unknown): string | undefined {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return v.length ? toHex(v) : '(empty)';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Numbers that are codes read better in hex too (EtherTypes, TPIDs, flags). */
const HEX_FIELDS = new Set(['type', 'tpid', 'protocolType', 'flags', 'checksum', 'etherType', 'protocol']);

function tree(lines: string[], key: string, v: unknown, indent: string): void {
  // Absent optional fields (a path id without ADD-PATH...) are not part of the packet.
  if (typeof v === 'function' || v === undefined) return;
  if (v instanceof DecodeError) {
    lines.push(`${indent}${key}: [Malformed: ${errorText(v)}]`);
    return;
  }
  const s = scalar(v);
  if (s !== undefined) {
    const hex = typeof v === 'number' && HEX_FIELDS.has(key) && Number.isInteger(v) ? ` (0x${v.toString(16).padStart(4, '0')})` : '';
    lines.push(`${indent}${key}: ${s}${hex}`);
    return;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) {
      lines.push(`${indent}${key}: (none)`);
      return;
    }
    if (v.every((x) => scalar(x) !== undefined)) {
      lines.push(`${indent}${key}: ${v.map((x) => scalar(x)).join(', ')}`);
      return;
    }
    lines.push(`${indent}${key} (${v.length})`);
    v.forEach((x, i) => tree(lines, `[${i}]${headline(x)}`, x, `${indent}    `));
    return;
  }
  lines.push(`${indent}${key}`);
  for (const [k, x] of Object.entries(v as object)) tree(lines, k, x, `${indent}    `);
}

/** A short label for an array element: its kind/type, as tshark titles subtrees. */
function headline(x: unknown): string {
  if (typeof x !== 'object' || x === null || x instanceof Uint8Array) return '';
  const o = x as Record<string, unknown>;
  const t = o.kind ?? o.type;
  return typeof t === 'string' ? ` ${t}` : '';
}

function layerText(lines: string[], l: Layer): void {
  lines.push(LAYER_TITLES[l.layer] ?? l.layer);
  if (l.layer === 'bgp') {
    bgpLayerText(lines, l, '    ');
    return;
  }
  for (const [k, v] of Object.entries(l)) {
    if (k === 'layer') continue;
    tree(lines, k, v, '    ');
  }
}

export function packetToText(p: DecodedPacket): string {
  const lines: string[] = [
    `Frame ${p.frame}: ${p.len} bytes on wire, ${p.caplen} bytes captured, interface ${p.interfaceId}, link type ${p.linkType}`,
    `    Epoch time: ${p.ts}`,
  ];
  for (const l of p.layers) layerText(lines, l);
  for (const e of p.errors) lines.push(`[Malformed ${e.layer}: ${errorText(e.error)}]`);
  return `${lines.join('\n')}\n`;
}
