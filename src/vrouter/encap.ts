/** Outer headers for the three overlay encapsulations, built with the net codecs. */
import {
  EtherType,
  IpProtocol,
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

/**
 * `inner` is the IP packet (MPLS encapsulations, L3 label) or, for VXLAN, the IP packet that
 * gets an Ethernet header from `innerMacs`. The outer UDP checksum is 0, as the vRouter sends
 * it and RFC 7510 / RFC 7348 allow over IPv4: computing it would mean a pass over every byte.
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
