/**
 * TUNNEL_ENCAPSULATION attribute value (RFC 9012): a list of tunnel TLVs, each a list of
 * sub-TLVs. Sub-TLV values are kept raw (that is what the encoder writes); the few layouts
 * Contrail and EVPN peers use are also parsed into `value` for display and lookups.
 * Build new sub-TLVs with `makeTunnelSubTlv` so raw and value agree.
 */
import type { Reader } from '../util/reader.js';
import { formatIpv4, formatIpv6, formatMac } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { parseIpv4, parseIpv6, parseMac } from '../util/writer.js';
import { copyBytes } from './bytes.js';

export const TunnelSubTlvType = {
  ENCAPSULATION: 1,
  PROTOCOL_TYPE: 2,
  COLOR: 4,
  LOAD_BALANCING_BLOCK: 5,
  REMOTE_ENDPOINT: 6,
  IPV4_DS: 7,
  UDP_DESTINATION_PORT: 8,
} as const;

export type TunnelSubTlvValue =
  /** Encapsulation sub-TLV of VXLAN (8) / NVGRE (9): V and M flags, VN-ID, MAC. */
  | { kind: 'vxlan' | 'nvgre'; flags: number; vnid?: number; mac?: string }
  /** Encapsulation sub-TLV of GRE (2) / MPLS in GRE (11): the GRE key. */
  | { kind: 'gre-key'; key: number }
  /** Color sub-TLV: a Color extended community (0x03/0x0b). */
  | { kind: 'color'; flags: number; color: number }
  /** Tunnel Egress Endpoint sub-TLV (RFC 9012 section 3.1). */
  | { kind: 'remote-endpoint'; asn: number; address?: string }
  | { kind: 'udp-port'; port: number };

export interface TunnelSubTlv {
  type: number;
  /** Value bytes as on the wire (the encoder writes these). */
  raw: Uint8Array;
  value?: TunnelSubTlvValue;
}

export interface TunnelTlv {
  tunnelType: number;
  subTlvs: TunnelSubTlv[];
}

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);

function parseSubTlv(tunnelType: number, type: number, v: Uint8Array): TunnelSubTlvValue | undefined {
  switch (type) {
    case 1:
      if ((tunnelType === 8 || tunnelType === 9) && v.length === 12) {
        const flags = v[0]!;
        const out: TunnelSubTlvValue = { kind: tunnelType === 8 ? 'vxlan' : 'nvgre', flags };
        if (flags & 0x80) out.vnid = (v[1]! << 16) | (v[2]! << 8) | v[3]!;
        if (flags & 0x40) out.mac = formatMac(v.subarray(4, 10));
        return out;
      }
      if ((tunnelType === 2 || tunnelType === 11) && v.length === 4) return { kind: 'gre-key', key: be32(v, 0) };
      return undefined;
    case 4:
      if (v.length === 8 && v[0] === 0x03 && v[1] === 0x0b) return { kind: 'color', flags: be16(v, 2), color: be32(v, 4) };
      return undefined;
    case 6:
      return remoteEndpoint(v);
    case 8:
      return v.length === 2 ? { kind: 'udp-port', port: be16(v, 0) } : undefined;
  }
  return undefined;
}

/** RFC 9012 section 3.1: Reserved(4) AS(4) Address Family(2) Address(0, 4 or 16). */
function remoteEndpoint(v: Uint8Array): TunnelSubTlvValue | undefined {
  if (v.length < 10) return undefined;
  const asn = be32(v, 4);
  const af = be16(v, 8);
  if (af === 0 && v.length === 10) return { kind: 'remote-endpoint', asn };
  if (af === 1 && v.length === 14) return { kind: 'remote-endpoint', asn, address: formatIpv4(v, 10) };
  if (af === 2 && v.length === 26) return { kind: 'remote-endpoint', asn, address: formatIpv6(v.subarray(10, 26)) };
  return undefined;
}

/** Decodes the attribute value in r's window. Throws DecodeError with r's hint on overruns. */
export function decodeTunnelEncap(r: Reader, field: string): TunnelTlv[] {
  const tunnels: TunnelTlv[] = [];
  while (!r.atEnd()) {
    const tunnelType = r.u16(`${field}.tunnelType`);
    const len = r.u16(`${field}.length`);
    const t = r.sub(len, `${field}.value`);
    const subTlvs: TunnelSubTlv[] = [];
    while (!t.atEnd()) {
      const type = t.u8(`${field}.subTlv.type`);
      // RFC 9012 section 2: sub-TLV types 128-255 have a 2-byte length.
      const slen = type >= 128 ? t.u16(`${field}.subTlv.length`) : t.u8(`${field}.subTlv.length`);
      const raw = copyBytes(t.bytes(slen, `${field}.subTlv.value`));
      const sub: TunnelSubTlv = { type, raw };
      const value = parseSubTlv(tunnelType, type, raw);
      if (value) sub.value = value;
      subTlvs.push(sub);
    }
    tunnels.push({ tunnelType, subTlvs });
  }
  return tunnels;
}

export function encodeTunnelEncap(w: Writer, tunnels: readonly TunnelTlv[]): void {
  for (const t of tunnels) {
    w.u16(t.tunnelType);
    const lenAt = w.pos;
    w.u16(0);
    for (const s of t.subTlvs) {
      w.u8(s.type);
      if (s.type >= 128) w.u16(s.raw.length);
      else {
        if (s.raw.length > 255) throw new RangeError(`sub-TLV ${s.type} of ${s.raw.length} bytes needs a type >= 128`);
        w.u8(s.raw.length);
      }
      w.bytes(s.raw);
    }
    w.patchU16(lenAt, w.pos - lenAt - 2);
  }
}

/** Builds a sub-TLV (type and raw bytes) from a typed value. */
export function makeTunnelSubTlv(input: TunnelSubTlvValue): TunnelSubTlv {
  let value = input;
  let type: number;
  let raw: Uint8Array;
  switch (value.kind) {
    case 'vxlan':
    case 'nvgre': {
      type = 1;
      raw = new Uint8Array(12);
      let flags = value.flags & 0x3f;
      if (value.vnid !== undefined) {
        flags |= 0x80;
        raw[1] = (value.vnid >>> 16) & 0xff;
        raw[2] = (value.vnid >>> 8) & 0xff;
        raw[3] = value.vnid & 0xff;
      }
      if (value.mac !== undefined) {
        flags |= 0x40;
        raw.set(parseMac(value.mac), 4);
      }
      raw[0] = flags;
      value = { ...value, flags };
      break;
    }
    case 'gre-key':
      type = 1;
      raw = Uint8Array.of(value.key >>> 24, (value.key >>> 16) & 0xff, (value.key >>> 8) & 0xff, value.key & 0xff);
      break;
    case 'color':
      type = 4;
      raw = Uint8Array.of(3, 0x0b, value.flags >>> 8, value.flags & 0xff, value.color >>> 24, (value.color >>> 16) & 0xff, (value.color >>> 8) & 0xff, value.color & 0xff);
      break;
    case 'remote-endpoint': {
      type = 6;
      const addr = value.address === undefined ? new Uint8Array(0) : value.address.includes(':') ? parseIpv6(value.address) : parseIpv4(value.address);
      raw = new Uint8Array(10 + addr.length);
      raw[4] = value.asn >>> 24;
      raw[5] = (value.asn >>> 16) & 0xff;
      raw[6] = (value.asn >>> 8) & 0xff;
      raw[7] = value.asn & 0xff;
      raw[9] = addr.length === 0 ? 0 : addr.length === 4 ? 1 : 2;
      raw.set(addr, 10);
      break;
    }
    case 'udp-port':
      type = 8;
      raw = Uint8Array.of(value.port >>> 8, value.port & 0xff);
      break;
  }
  return { type, raw, value };
}
