import type { Reader } from '../util/reader.js';
import { formatIpv6 } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { parseIpv4, parseIpv6 } from '../util/writer.js';
import { type RouteDistinguisher, rdFromBytes, encodeRd, formatRd } from './rd.js';
import { copyBytes } from './bytes.js';

/**
 * Next hop of MP_REACH_NLRI (RFC 4760), chosen by length and family:
 * - 4: IPv4; 16: IPv6; 32: IPv6 global + link-local (RFC 2545; unicast/multicast/labeled only)
 * - SAFI 128: 12 = RD + IPv4; 24 = RD + IPv6; 48 = RD + IPv6 + RD + link-local (RFC 4659, RFC 8950)
 * - anything else is kept raw, so odd senders round-trip and the UPDATE logic decides.
 * The RD of a VPN next hop must be zero (RFC 4364) but is kept as sent.
 */
export type MpNextHop =
  | { kind: 'ipv4'; address: string }
  | { kind: 'ipv6'; address: string; linkLocal?: string }
  | { kind: 'vpn-ipv4'; rd: RouteDistinguisher; address: string }
  | { kind: 'vpn-ipv6'; rd: RouteDistinguisher; address: string; linkLocalRd?: RouteDistinguisher; linkLocal?: string }
  | { kind: 'raw'; raw: Uint8Array };

const SAFI_VPN = 128;
const SAFI_EVPN = 70;
const SAFI_RTC = 132;

/** `r` is a window of exactly the next-hop length. Never throws: unknown shapes come back raw. */
export function decodeMpNextHop(r: Reader, afi: number, safi: number): MpNextHop {
  const b = r.buf;
  const p = r.pos;
  const n = r.remaining;
  const v6 = (at: number) => formatIpv6(b.subarray(at, at + 16));
  let nh: MpNextHop | undefined;
  if (safi === SAFI_VPN) {
    if (n === 12) nh = { kind: 'vpn-ipv4', rd: rdFromBytes(b, p), address: ipv4At(b, p + 8) };
    else if (n === 24) nh = { kind: 'vpn-ipv6', rd: rdFromBytes(b, p), address: v6(p + 8) };
    else if (n === 48) {
      nh = { kind: 'vpn-ipv6', rd: rdFromBytes(b, p), address: v6(p + 8), linkLocalRd: rdFromBytes(b, p + 24), linkLocal: v6(p + 32) };
    }
  } else if (n === 4) nh = { kind: 'ipv4', address: ipv4At(b, p) };
  else if (n === 16) nh = { kind: 'ipv6', address: v6(p) };
  else if (n === 32 && !(afi === 25 && safi === SAFI_EVPN) && safi !== SAFI_RTC) {
    nh = { kind: 'ipv6', address: v6(p), linkLocal: v6(p + 16) };
  }
  // A copy: next hops outlive the message buffer in the RIB.
  nh ??= { kind: 'raw', raw: copyBytes(b, p, p + n) };
  r.pos = r.end;
  return nh;
}

function ipv4At(b: Uint8Array, p: number): string {
  return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
}

/** Writes the 1-byte next-hop length and the next hop. */
export function encodeMpNextHop(w: Writer, _afi: number, _safi: number, nh: MpNextHop): void {
  const lenAt = w.pos;
  w.u8(0);
  switch (nh.kind) {
    case 'ipv4':
      w.bytes(parseIpv4(nh.address));
      break;
    case 'ipv6':
      w.bytes(parseIpv6(nh.address));
      if (nh.linkLocal !== undefined) w.bytes(parseIpv6(nh.linkLocal));
      break;
    case 'vpn-ipv4':
      encodeRd(w, nh.rd);
      w.bytes(parseIpv4(nh.address));
      break;
    case 'vpn-ipv6':
      encodeRd(w, nh.rd);
      w.bytes(parseIpv6(nh.address));
      if (nh.linkLocal !== undefined) {
        encodeRd(w, nh.linkLocalRd ?? { type: 0, admin: 0, assigned: 0 });
        w.bytes(parseIpv6(nh.linkLocal));
      }
      break;
    case 'raw':
      if (nh.raw.length > 255) throw new TypeError(`next hop of ${nh.raw.length} bytes does not fit its length byte`);
      w.bytes(nh.raw);
      break;
  }
  w.patchU8(lenAt, w.pos - lenAt - 1);
}

/** Text like tshark's 'Next hop:' line parts, for logs and `weft decode`. */
export function formatMpNextHop(nh: MpNextHop): string {
  switch (nh.kind) {
    case 'ipv4':
      return nh.address;
    case 'ipv6':
      return nh.linkLocal === undefined ? nh.address : `${nh.address} link-local ${nh.linkLocal}`;
    case 'vpn-ipv4':
    case 'vpn-ipv6': {
      const head = `RD=${formatRd(nh.rd)} ${nh.address}`;
      return nh.kind === 'vpn-ipv6' && nh.linkLocal !== undefined ? `${head} link-local ${nh.linkLocal}` : head;
    }
    case 'raw':
      return `raw(${nh.raw.length})`;
  }
}
