/**
 * 8-byte extended communities (RFC 4360, RFC 5668, RFC 7153) including the EVPN ones
 * (RFC 7432, RFC 9135) and Contrail's own (contrail-xmpp-dialect.md section 12).
 *
 * Every typed form keeps `type` and `subtype`, and is only chosen when it accounts for all
 * 8 bytes (reserved bytes zero); anything else stays `raw`, so encoding is always exact.
 */
import { formatIpv4, formatMac } from '../util/reader.js';
import { parseIpv4, parseMac } from '../util/writer.js';
import { fromHex, toHex } from '../util/hex.js';
import { copyBytes } from './bytes.js';

export type ExtCommunity =
  /** 2-octet AS specific layout: AS(2) + local(4). Types 0x00, 0x40, and Contrail's 0x80. */
  | { kind: 'as2'; type: number; subtype: number; asn: number; local: number }
  /** IPv4 address specific layout: address(4) + local(2). Types 0x01, 0x41. */
  | { kind: 'ipv4'; type: number; subtype: number; address: string; local: number }
  /** 4-octet AS specific layout: AS(4) + local(2). Types 0x02, 0x42, and Contrail's 0x82. */
  | { kind: 'as4'; type: number; subtype: number; asn: number; local: number }
  /** RFC 9012 section 4.1 (0x03/0x0c): four reserved zero bytes + tunnel type. */
  | { kind: 'encapsulation'; type: 3; subtype: 0x0c; tunnelType: number }
  /** RFC 7432 default gateway (0x06/0x0d), all value bytes zero. */
  | { kind: 'default-gateway'; type: 3; subtype: 0x0d }
  /** Contrail load balance (0x03/0xaa): which header fields feed the ECMP hash. */
  | {
      kind: 'load-balance';
      type: 3;
      subtype: 0xaa;
      l3Source: boolean;
      l3Destination: boolean;
      l4Protocol: boolean;
      l4SourcePort: boolean;
      l4DestinationPort: boolean;
      sourceBias: boolean;
    }
  /** RFC 7432 MAC mobility (0x06/0x00). */
  | { kind: 'mac-mobility'; type: 6; subtype: 0; sticky: boolean; sequence: number }
  /** RFC 7432 ESI label (0x06/0x01): flags(1) reserved(2) label(3, 20-bit label << 4). */
  | { kind: 'esi-label'; type: 6; subtype: 1; singleActive: boolean; label: number }
  /** RFC 7432 ES-Import route target (0x06/0x02). */
  | { kind: 'es-import'; type: 6; subtype: 2; mac: string }
  /** RFC 9135 router's MAC (0x06/0x03). */
  | { kind: 'router-mac'; type: 6; subtype: 3; mac: string }
  | { kind: 'raw'; type: number; subtype: number; bytes: Uint8Array };

/** RFC 9012 / IANA BGP Tunnel Encapsulation Attribute Tunnel Types, tshark 4.0 wording. */
export const TUNNEL_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'L2TPv3 over IP',
  2: 'GRE',
  3: 'Transmit tunnel endpoint',
  4: 'IPsec in Tunnel-mode',
  5: 'IP in IP tunnel with IPsec Transport Mode',
  6: 'MPLS-in-IP tunnel with IPsec Transport Mode',
  7: 'IP in IP',
  8: 'VXLAN Encapsulation',
  9: 'NVGRE Encapsulation',
  10: 'MPLS Encapsulation',
  11: 'MPLS in GRE Encapsulation',
  12: 'VXLAN GPE Encapsulation',
  13: 'MPLS in UDP Encapsulation',
  14: 'IPv6 Tunnel',
  15: 'SR TE Policy Type',
  16: 'Bare',
  17: 'SR Tunnel',
  19: 'Geneve Encapsulation',
};

/** Config-text names of tunnel types (Contrail's spellings where it has one). */
const TUNNEL_TEXT: Readonly<Record<number, string>> = {
  2: 'gre',
  7: 'ipip',
  8: 'vxlan',
  9: 'nvgre',
  10: 'mpls',
  11: 'mplsogre',
  12: 'vxlan-gpe',
  13: 'mplsoudp',
  16: 'native',
  19: 'geneve',
};
const TUNNEL_BY_TEXT: Readonly<Record<string, number>> = {
  ...Object.fromEntries(Object.entries(TUNNEL_TEXT).map(([k, v]) => [v, Number(k)])),
  // aliases seen in Contrail/GoBGP configs
  udp: 13,
  'mpls-in-udp': 13,
  'mpls-in-gre': 11,
};

/** Names of (layout, subtype) for the AS/IPv4-specific layouts, as used in config text. */
const AS_SUBTYPE_TEXT: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  0x00: { 0x02: 'target', 0x03: 'origin', 0x09: 'source-as' },
  0x01: { 0x02: 'target', 0x03: 'origin', 0x0b: 'rt-import' },
  0x02: { 0x02: 'target', 0x03: 'origin', 0x09: 'source-as' },
  // Contrail (experimental type space)
  0x80: { 0x04: 'secgroup', 0x71: 'originvn', 0x84: 'tag', 0x85: 'subcluster' },
  0x82: { 0x04: 'secgroup', 0x71: 'originvn', 0x84: 'tag', 0x85: 'subcluster' },
};

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);

/** Decodes the 8 bytes at `b[o..o+8)` (the caller has checked they exist). */
export function decodeExtCommunity(b: Uint8Array, o = 0): ExtCommunity {
  const type = b[o]!;
  const subtype = b[o + 1]!;
  switch (type) {
    case 0x00:
    case 0x40:
    case 0x80:
      if (type !== 0x80 || AS_SUBTYPE_TEXT[0x80]![subtype]) {
        return { kind: 'as2', type, subtype, asn: be16(b, o + 2), local: be32(b, o + 4) };
      }
      break;
    case 0x01:
    case 0x41:
      return { kind: 'ipv4', type, subtype, address: formatIpv4(b, o + 2), local: be16(b, o + 6) };
    case 0x02:
    case 0x42:
    case 0x82:
      if (type !== 0x82 || AS_SUBTYPE_TEXT[0x82]![subtype]) {
        return { kind: 'as4', type, subtype, asn: be32(b, o + 2), local: be16(b, o + 6) };
      }
      break;
    case 0x03:
      if (subtype === 0x0c && be32(b, o + 2) === 0) return { kind: 'encapsulation', type, subtype, tunnelType: be16(b, o + 6) };
      if (subtype === 0x0d && be32(b, o + 2) === 0 && be16(b, o + 6) === 0) return { kind: 'default-gateway', type, subtype };
      if (subtype === 0xaa && (b[o + 2]! & 0x07) === 0 && b[o + 3] === 0 && b[o + 4] === 0 && (b[o + 5]! & 0x7f) === 0 && b[o + 6] === 0 && b[o + 7] === 0) {
        const f = b[o + 2]!;
        return {
          kind: 'load-balance',
          type,
          subtype,
          l3Source: (f & 0x80) !== 0,
          l3Destination: (f & 0x40) !== 0,
          l4Protocol: (f & 0x20) !== 0,
          l4SourcePort: (f & 0x10) !== 0,
          l4DestinationPort: (f & 0x08) !== 0,
          sourceBias: (b[o + 5]! & 0x80) !== 0,
        };
      }
      break;
    case 0x06:
      if (subtype === 0 && (b[o + 2]! & 0xfe) === 0 && b[o + 3] === 0) {
        return { kind: 'mac-mobility', type, subtype, sticky: (b[o + 2]! & 1) !== 0, sequence: be32(b, o + 4) };
      }
      if (subtype === 1 && (b[o + 2]! & 0xfe) === 0 && b[o + 3] === 0 && b[o + 4] === 0 && (b[o + 7]! & 0x0f) === 0) {
        const label = ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 4;
        return { kind: 'esi-label', type, subtype, singleActive: (b[o + 2]! & 1) !== 0, label };
      }
      if (subtype === 2) return { kind: 'es-import', type, subtype, mac: formatMac(b.subarray(o + 2, o + 8)) };
      if (subtype === 3) return { kind: 'router-mac', type, subtype, mac: formatMac(b.subarray(o + 2, o + 8)) };
      break;
  }
  return { kind: 'raw', type, subtype, bytes: copyBytes(b, o, o + 8) };
}

/** Writes the 8 bytes of `ec` into `out` at `o`. */
export function writeExtCommunity(ec: ExtCommunity, out: Uint8Array, o = 0): void {
  if (ec.kind === 'raw') {
    out.set(ec.bytes.subarray(0, 8), o);
    return;
  }
  out.fill(0, o, o + 8);
  out[o] = ec.type;
  out[o + 1] = ec.subtype;
  const put16 = (at: number, v: number) => {
    out[at] = (v >>> 8) & 0xff;
    out[at + 1] = v & 0xff;
  };
  const put32 = (at: number, v: number) => {
    put16(at, v >>> 16);
    put16(at + 2, v & 0xffff);
  };
  switch (ec.kind) {
    case 'as2':
      put16(o + 2, ec.asn);
      put32(o + 4, ec.local);
      break;
    case 'ipv4':
      out.set(parseIpv4(ec.address), o + 2);
      put16(o + 6, ec.local);
      break;
    case 'as4':
      put32(o + 2, ec.asn);
      put16(o + 6, ec.local);
      break;
    case 'encapsulation':
      put16(o + 6, ec.tunnelType);
      break;
    case 'default-gateway':
      break;
    case 'load-balance':
      out[o + 2] =
        (ec.l3Source ? 0x80 : 0) | (ec.l3Destination ? 0x40 : 0) | (ec.l4Protocol ? 0x20 : 0) | (ec.l4SourcePort ? 0x10 : 0) | (ec.l4DestinationPort ? 0x08 : 0);
      out[o + 5] = ec.sourceBias ? 0x80 : 0;
      break;
    case 'mac-mobility':
      out[o + 2] = ec.sticky ? 1 : 0;
      put32(o + 4, ec.sequence);
      break;
    case 'esi-label': {
      out[o + 2] = ec.singleActive ? 1 : 0;
      const v = (ec.label & 0xfffff) << 4;
      out[o + 5] = (v >>> 16) & 0xff;
      out[o + 6] = (v >>> 8) & 0xff;
      out[o + 7] = v & 0xff;
      break;
    }
    case 'es-import':
    case 'router-mac':
      out.set(parseMac(ec.mac), o + 2);
      break;
  }
}

export function encodeExtCommunity(ec: ExtCommunity): Uint8Array {
  const out = new Uint8Array(8);
  writeExtCommunity(ec, out);
  return out;
}

function layoutOf(type: number): 0x00 | 0x01 | 0x02 | 0x80 | 0x82 | undefined {
  switch (type) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x80:
    case 0x82:
      return type;
    default:
      return undefined;
  }
}

/**
 * Config text, as Contrail and GoBGP write it: `target:64512:100`, `target:10.0.0.1:5`,
 * `target:70000:5`, `origin:64512:1`, `originvn:64512:3`, `secgroup:64512:8000001`,
 * `tag:64512:5`, `encapsulation:vxlan`, `mac-mobility:5` / `mac-mobility:sticky:5`,
 * `router-mac:…`, `es-import:…`, `esi-label:100` / `esi-label:single-active:100`,
 * `default-gateway`, `load-balance:l3-src,l3-dst,l4-proto,l4-src,l4-dst[,source-bias]`,
 * and `raw:<16 hex digits>` for anything else. A 4-octet-AS form whose AS fits 16 bits gets
 * an `L` suffix (`target:65000L:5`, the Junos convention) so that the text round-trips.
 */
export function formatExtCommunity(ec: ExtCommunity): string {
  switch (ec.kind) {
    case 'as2':
    case 'as4':
    case 'ipv4': {
      const name = AS_SUBTYPE_TEXT[ec.type]?.[ec.subtype];
      if (!name) break;
      if (ec.kind === 'ipv4') return `${name}:${ec.address}:${ec.local}`;
      const asn = ec.kind === 'as4' && ec.asn <= 0xffff ? `${ec.asn}L` : `${ec.asn}`;
      return `${name}:${asn}:${ec.local}`;
    }
    case 'encapsulation':
      return `encapsulation:${TUNNEL_TEXT[ec.tunnelType] ?? ec.tunnelType}`;
    case 'default-gateway':
      return 'default-gateway';
    case 'load-balance': {
      const f: string[] = [];
      if (ec.l3Source) f.push('l3-src');
      if (ec.l3Destination) f.push('l3-dst');
      if (ec.l4Protocol) f.push('l4-proto');
      if (ec.l4SourcePort) f.push('l4-src');
      if (ec.l4DestinationPort) f.push('l4-dst');
      if (ec.sourceBias) f.push('source-bias');
      return `load-balance:${f.join(',')}`;
    }
    case 'mac-mobility':
      return ec.sticky ? `mac-mobility:sticky:${ec.sequence}` : `mac-mobility:${ec.sequence}`;
    case 'esi-label':
      return ec.singleActive ? `esi-label:single-active:${ec.label}` : `esi-label:${ec.label}`;
    case 'es-import':
    case 'router-mac':
      return `${ec.kind}:${ec.mac}`;
    case 'raw':
      break;
  }
  return `raw:${toHex(encodeExtCommunity(ec))}`;
}

function parseUint(s: string, max: number, text: string): number {
  if (!/^\d+$/.test(s)) throw new TypeError(`bad number "${s}" in extended community "${text}"`);
  const n = Number(s);
  if (n > max) throw new TypeError(`${s} too large in extended community "${text}"`);
  return n;
}

const SUBTYPE_BY_NAME: Readonly<Record<string, number>> = {
  target: 0x02,
  origin: 0x03,
  'source-as': 0x09,
  'rt-import': 0x0b,
  secgroup: 0x04,
  originvn: 0x71,
  tag: 0x84,
  subcluster: 0x85,
};
const CONTRAIL_NAMES = new Set(['secgroup', 'originvn', 'tag', 'subcluster']);

/** Parses the text of `formatExtCommunity`. Throws TypeError on bad text (config errors). */
export function parseExtCommunity(text: string): ExtCommunity {
  const parts = text.trim().split(':');
  const name = parts[0]!.toLowerCase();
  const bad = (): never => {
    throw new TypeError(`cannot parse extended community "${text}"`);
  };
  const sub = SUBTYPE_BY_NAME[name];
  if (sub !== undefined && parts.length === 3) {
    const g = parts[1]!;
    const l = parts[2]!;
    const contrail = CONTRAIL_NAMES.has(name);
    if (g.includes('.')) {
      if (contrail) bad();
      return { kind: 'ipv4', type: 0x01, subtype: sub, address: formatIpv4(parseIpv4(g)), local: parseUint(l, 0xffff, text) };
    }
    const forced4 = g.endsWith('L') || g.endsWith('l');
    const asn = parseUint(forced4 ? g.slice(0, -1) : g, 0xffffffff, text);
    if (forced4 || asn > 0xffff) {
      return { kind: 'as4', type: contrail ? 0x82 : 0x02, subtype: sub, asn, local: parseUint(l, 0xffff, text) };
    }
    if (name === 'rt-import') bad();
    return { kind: 'as2', type: contrail ? 0x80 : 0x00, subtype: sub, asn, local: parseUint(l, 0xffffffff, text) };
  }
  switch (name) {
    case 'encapsulation': {
      if (parts.length !== 2) bad();
      const t = parts[1]!.toLowerCase();
      const tunnelType = TUNNEL_BY_TEXT[t] ?? parseUint(t, 0xffff, text);
      return { kind: 'encapsulation', type: 3, subtype: 0x0c, tunnelType };
    }
    case 'default-gateway':
      if (parts.length !== 1) bad();
      return { kind: 'default-gateway', type: 3, subtype: 0x0d };
    case 'load-balance': {
      if (parts.length !== 2) bad();
      const f = new Set(parts[1] ? parts[1].split(',') : []);
      const known = ['l3-src', 'l3-dst', 'l4-proto', 'l4-src', 'l4-dst', 'source-bias'];
      for (const x of f) if (!known.includes(x)) bad();
      return {
        kind: 'load-balance',
        type: 3,
        subtype: 0xaa,
        l3Source: f.has('l3-src'),
        l3Destination: f.has('l3-dst'),
        l4Protocol: f.has('l4-proto'),
        l4SourcePort: f.has('l4-src'),
        l4DestinationPort: f.has('l4-dst'),
        sourceBias: f.has('source-bias'),
      };
    }
    case 'mac-mobility':
      if (parts.length === 2) return { kind: 'mac-mobility', type: 6, subtype: 0, sticky: false, sequence: parseUint(parts[1]!, 0xffffffff, text) };
      if (parts.length === 3 && parts[1] === 'sticky') {
        return { kind: 'mac-mobility', type: 6, subtype: 0, sticky: true, sequence: parseUint(parts[2]!, 0xffffffff, text) };
      }
      return bad();
    case 'esi-label':
      if (parts.length === 2) return { kind: 'esi-label', type: 6, subtype: 1, singleActive: false, label: parseUint(parts[1]!, 0xfffff, text) };
      if (parts.length === 3 && parts[1] === 'single-active') {
        return { kind: 'esi-label', type: 6, subtype: 1, singleActive: true, label: parseUint(parts[2]!, 0xfffff, text) };
      }
      return bad();
    case 'es-import':
    case 'router-mac': {
      const mac = formatMac(parseMac(parts.slice(1).join(':')));
      return name === 'es-import' ? { kind: 'es-import', type: 6, subtype: 2, mac } : { kind: 'router-mac', type: 6, subtype: 3, mac };
    }
    case 'raw': {
      if (parts.length !== 2 || parts[1]!.length !== 16) bad();
      return decodeExtCommunity(fromHex(parts[1]!));
    }
  }
  return bad();
}

/** tshark's names of the type byte (bgp.ext_com.type). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'Transitive 2-Octet AS-Specific',
  0x01: 'Transitive IPv4-Address-Specific',
  0x02: 'Transitive 4-Octet AS-Specific',
  0x03: 'Transitive Opaque',
  0x06: 'Transitive EVPN',
  0x40: 'Non-Transitive 2-Octet AS-Specific',
  0x41: 'Non-Transitive IPv4-Address-Specific',
  0x42: 'Non-Transitive 4-Octet AS-Specific',
  0x43: 'Non-Transitive Opaque',
  0x80: 'Generic Transitive Experimental Use',
  0x81: 'Generic Transitive Experimental Use IPv4',
  0x82: 'Generic Transitive Experimental Use 4-Octet AS',
};

const SUBTYPE_NAMES: Readonly<Record<string, string>> = {
  '2': 'Route Target',
  '3': 'Route Origin',
  '9': 'Source AS',
  '11': 'VRF Route Import',
  'c4': 'Security Group',
  'c113': 'Origin VN',
  'c132': 'Tag',
  'c133': 'Sub-Cluster',
};

/**
 * One line in the style of `tshark -O bgp`, e.g.
 * `Route Target: 64512:10000 [Transitive 2-Octet AS-Specific]` or
 * `Encapsulation: MPLS in UDP Encapsulation [Transitive Opaque]`.
 */
export function describeExtCommunity(ec: ExtCommunity): string {
  const typeName = TYPE_NAMES[ec.type] ?? `Unknown type 0x${ec.type.toString(16).padStart(2, '0')}`;
  switch (ec.kind) {
    case 'as2':
    case 'as4':
    case 'ipv4': {
      const contrail = ec.type === 0x80 || ec.type === 0x82;
      const sub = SUBTYPE_NAMES[contrail ? `c${ec.subtype}` : `${ec.subtype}`] ?? `Subtype 0x${ec.subtype.toString(16).padStart(2, '0')}`;
      const g = ec.kind === 'ipv4' ? ec.address : ec.asn;
      return `${sub}: ${g}:${ec.local} [${typeName}]`;
    }
    case 'encapsulation':
      return `Encapsulation: ${TUNNEL_TYPE_NAMES[ec.tunnelType] ?? `Unknown (${ec.tunnelType})`} [${typeName}]`;
    case 'default-gateway':
      return `Default Gateway [${typeName}]`;
    case 'load-balance':
      return `Load Balance: ${formatExtCommunity(ec).slice('load-balance:'.length)} [${typeName}]`;
    case 'mac-mobility':
      return `MAC Mobility: ${ec.sticky ? 'Sticky, ' : ''}Seq ${ec.sequence} [${typeName}]`;
    case 'esi-label':
      return `ESI Label: ${ec.label}${ec.singleActive ? ' (single-active)' : ''} [${typeName}]`;
    case 'es-import':
      return `ES Import: ${ec.mac} [${typeName}]`;
    case 'router-mac':
      return `Router's MAC: ${ec.mac} [${typeName}]`;
    case 'raw':
      return `Unknown subtype 0x${ec.subtype.toString(16).padStart(2, '0')}: ${toHex(ec.bytes.subarray(2))} [${typeName}]`;
  }
}
