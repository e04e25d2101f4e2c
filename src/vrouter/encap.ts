/** Outer headers for the three overlay encapsulations, built with the net codecs. */
import {
  EtherType,
  IpProtocol,
  MPLS_IN_UDP_PORT,
  VXLAN_FLAG_I,
  VXLAN_PORT,
  encodeEthernet,
  encodeGre,
  encodeIpv4,
  encodeMpls,
  encodeMplsInUdp,
  encodeUdp,
  encodeVxlan,
} from '../../codecs/net/index.js';
import type { TunnelEncap, TunnelNextHop } from './nexthop.js';

export interface TunnelPacket {
  /** The outer IPv4 datagram. */
  bytes: Uint8Array;
  /** Start of the UDP payload in `bytes` (MPLSoUDP, VXLAN): what a UDP socket sends. */
  udpPayloadOffset?: number;
}

const OUTER_TTL = 64;
const IPV4_HLEN = 20;
const UDP_HLEN = 8;
const VXLAN_HLEN = 8;
const ETH_HLEN = 14;

/**
 * Text addresses to bytes, once each: the next hops and MACs a host sends to are few, and
 * parsing them per packet cost more than the rest of the encapsulation. Bounded, as a table
 * an attacker can grow must be.
 */
const parsed = new Map<string, Uint8Array | null>();
function bytesOf(text: string, ip: boolean): Uint8Array | null {
  let b = parsed.get(text);
  if (b === undefined) {
    if (parsed.size > 4096) parsed.clear();
    const ok = ip
      ? /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(text) && text.split('.').every((x) => Number(x) <= 255)
      : /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text);
    b = !ok ? null : ip ? Uint8Array.from(text.split('.'), Number) : Uint8Array.from(text.split(':'), (x) => parseInt(x, 16));
    parsed.set(text, b);
  }
  return b;
}

/** Outer IPv4 and UDP headers at the start of `out`, written directly (the codecs' layout, UDP checksum 0). */
function outerUdp(out: Uint8Array, sip: Uint8Array, dip: Uint8Array, srcPort: number, dstPort: number): void {
  const total = out.length;
  out[0] = 0x45;
  out[2] = total >>> 8;
  out[3] = total & 255;
  out[8] = OUTER_TTL;
  out[9] = IpProtocol.UDP;
  out.set(sip, 12);
  out.set(dip, 16);
  let sum = 0;
  for (let i = 0; i < IPV4_HLEN; i += 2) sum += (out[i]! << 8) | out[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  out[10] = c >>> 8;
  out[11] = c & 255;
  const udpLen = total - IPV4_HLEN;
  out[20] = srcPort >>> 8;
  out[21] = srcPort & 255;
  out[22] = dstPort >>> 8;
  out[23] = dstPort & 255;
  out[24] = udpLen >>> 8;
  out[25] = udpLen & 255;
}

/**
 * `inner` is the IP packet (MPLS encapsulations, L3 label) or, for VXLAN, the IP packet that
 * gets an Ethernet header from `innerMacs`. The outer UDP checksum is 0, as the vRouter sends
 * it and RFC 7510 / RFC 7348 allow over IPv4: computing it would mean a pass over every byte.
 * The UDP encapsulations are written in one buffer with one copy of `inner` (they run per
 * packet); the codecs build MPLSoGRE and anything whose addresses do not parse.
 */
export function encapsulate(
  nh: TunnelNextHop,
  label: number,
  srcPort: number,
  inner: Uint8Array,
  innerTtl: number,
  innerMacs: { dst: string; src: string },
): TunnelPacket {
  const kind: TunnelEncap = nh.encapType;
  const sip = kind === 'MPLSoGRE' ? null : bytesOf(nh.sip, true);
  const dip = sip && bytesOf(nh.dip, true);
  const macs = kind === 'VXLAN' && label <= 0xffffff ? [bytesOf(innerMacs.dst, false), bytesOf(innerMacs.src, false)] : undefined;
  if (sip && dip && (kind === 'MPLSoUDP' || (macs && macs[0] && macs[1]))) {
    const hdr = IPV4_HLEN + UDP_HLEN + (kind === 'MPLSoUDP' ? 4 : VXLAN_HLEN + ETH_HLEN);
    if (hdr + inner.length <= 0xffff) {
      const out = new Uint8Array(hdr + inner.length);
      const at = IPV4_HLEN + UDP_HLEN;
      if (kind === 'MPLSoUDP') {
        outerUdp(out, sip, dip, srcPort, MPLS_IN_UDP_PORT);
        const e = ((((label & 0xfffff) << 12) | 0x100 | (innerTtl & 0xff)) >>> 0);
        out[at] = e >>> 24;
        out[at + 1] = (e >>> 16) & 255;
        out[at + 2] = (e >>> 8) & 255;
        out[at + 3] = e & 255;
      } else {
        outerUdp(out, sip, dip, srcPort, VXLAN_PORT);
        out[at] = VXLAN_FLAG_I;
        out[at + 4] = (label >>> 16) & 255;
        out[at + 5] = (label >>> 8) & 255;
        out[at + 6] = label & 255;
        out.set(macs![0]!, at + VXLAN_HLEN);
        out.set(macs![1]!, at + VXLAN_HLEN + 6);
        out[at + VXLAN_HLEN + 12] = EtherType.IPV4 >>> 8;
        out[at + VXLAN_HLEN + 13] = EtherType.IPV4 & 255;
      }
      out.set(inner, hdr);
      return { bytes: out, udpPayloadOffset: IPV4_HLEN + UDP_HLEN };
    }
  }
  return encapsulateWithCodecs(nh, label, srcPort, inner, innerTtl, innerMacs);
}

function encapsulateWithCodecs(
  nh: TunnelNextHop,
  label: number,
  srcPort: number,
  inner: Uint8Array,
  innerTtl: number,
  innerMacs: { dst: string; src: string },
): TunnelPacket {
  const kind: TunnelEncap = nh.encapType;
  if (kind === 'MPLSoGRE') {
    const gre = encodeGre({ protocolType: EtherType.MPLS, payload: encodeMpls({ labels: [{ label, ttl: innerTtl }], payload: inner }) });
    return { bytes: encodeIpv4({ src: nh.sip, dst: nh.dip, protocol: IpProtocol.GRE, ttl: OUTER_TTL, payload: gre }) };
  }
  const udp =
    kind === 'MPLSoUDP'
      ? encodeMplsInUdp({ srcPort, labels: [{ label, ttl: innerTtl }], payload: inner })
      : encodeUdp({
          srcPort,
          dstPort: VXLAN_PORT,
          payload: encodeVxlan({
            vni: label,
            payload: encodeEthernet({ dst: innerMacs.dst, src: innerMacs.src, etherType: EtherType.IPV4, payload: inner }),
          }),
        });
  return {
    bytes: encodeIpv4({ src: nh.sip, dst: nh.dip, protocol: IpProtocol.UDP, ttl: OUTER_TTL, payload: udp }),
    udpPayloadOffset: 28,
  };
}
