/**
 * Test-only layer walker over the net codecs: decodes a frame layer by layer (each decoder
 * given the whole frame plus its window, so error offsets are frame offsets), rebuilds it with
 * the encoders, and lists the values tshark also prints, for cross-checking.
 */
import { DecodeError } from '../../../codecs/util/errors.js';
import {
  decodeArp,
  decodeDhcp,
  decodeEthernet,
  decodeGre,
  decodeIcmp,
  decodeIpv4,
  decodeIpv6,
  decodeMpls,
  decodeTcp,
  decodeUdp,
  decodeVxlan,
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeIpv6,
  encodeMpls,
  encodeTcp,
  encodeUdp,
  encodeVxlan,
  guessMplsPayload,
  isMplsInUdpPort,
  type ArpPacket,
  type DhcpMessage,
  type EthernetFrame,
  type GrePacket,
  type IcmpMessage,
  type Ipv4Packet,
  type Ipv6Packet,
  type MplsPacket,
  type TcpSegment,
  type UdpDatagram,
  type VxlanPacket,
} from '../../../codecs/net/index.js';

export type Layer =
  | { kind: 'ethernet'; v: EthernetFrame }
  | { kind: 'arp'; v: ArpPacket }
  | { kind: 'ipv4'; v: Ipv4Packet }
  | { kind: 'ipv6'; v: Ipv6Packet }
  | { kind: 'icmp'; v: IcmpMessage }
  | { kind: 'udp'; v: UdpDatagram }
  | { kind: 'tcp'; v: TcpSegment }
  | { kind: 'gre'; v: GrePacket }
  /** Cisco MetaData shim inside GRE: 8 bytes, the inner EtherType first (as tshark shows it). */
  | { kind: 'cmd'; header: Uint8Array; payload: Uint8Array }
  | { kind: 'mpls'; v: MplsPacket }
  | { kind: 'vxlan'; v: VxlanPacket }
  | { kind: 'dhcp'; v: DhcpMessage }
  | { kind: 'raw'; bytes: Uint8Array };

type Next = 'ethernet' | 'arp' | 'ipv4' | 'ipv6' | 'icmp' | 'udp' | 'tcp' | 'gre' | 'cmd' | 'mpls' | 'vxlan' | 'dhcp' | 'raw';

export interface Dissection {
  layers: Layer[];
  /** The DecodeError that stopped the walk, if any. */
  error?: DecodeError;
}

function byEtherType(t: number | undefined): Next {
  switch (t) {
    case 0x0800:
      return 'ipv4';
    case 0x86dd:
      return 'ipv6';
    case 0x0806:
      return 'arp';
    case 0x8847:
    case 0x8848:
      return 'mpls';
    case 0x6558:
      return 'ethernet';
    case 0x8909:
      return 'cmd';
    default:
      return 'raw';
  }
}

function byProtocol(p: number): Next {
  switch (p) {
    case 1:
      return 'icmp';
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 47:
      return 'gre';
    case 4:
      return 'ipv4';
    case 41:
      return 'ipv6';
    default:
      return 'raw';
  }
}

export function dissect(frame: Uint8Array, first: Next = 'ethernet'): Dissection {
  const layers: Layer[] = [];
  let next: Next = first;
  let start = 0;
  let end = frame.length;
  // Where a view sits in `frame`, so that inner layers are decoded with frame offsets.
  const at = (v: Uint8Array): void => {
    start = v.byteOffset - frame.byteOffset;
    end = start + v.length;
  };
  try {
    for (;;) {
      switch (next) {
        case 'ethernet': {
          const v = decodeEthernet(frame, start, end);
          layers.push({ kind: 'ethernet', v });
          next = v.etherType === undefined ? 'raw' : byEtherType(v.etherType);
          at(v.payload);
          break;
        }
        case 'arp':
          layers.push({ kind: 'arp', v: decodeArp(frame, start, end) });
          return { layers };
        case 'ipv4': {
          const v = decodeIpv4(frame, start, end);
          layers.push({ kind: 'ipv4', v });
          // A first fragment starts with the transport header, and tshark dissects it too.
          next = v.fragmentOffset === 0 ? byProtocol(v.protocol) : 'raw';
          at(v.payload);
          break;
        }
        case 'ipv6': {
          const v = decodeIpv6(frame, start, end);
          layers.push({ kind: 'ipv6', v });
          next = byProtocol(v.nextHeader);
          at(v.payload);
          break;
        }
        case 'icmp':
          layers.push({ kind: 'icmp', v: decodeIcmp(frame, start, end) });
          return { layers };
        case 'udp': {
          const v = decodeUdp(frame, start, end);
          layers.push({ kind: 'udp', v });
          if (v.dstPort === 4789) next = 'vxlan';
          else if (isMplsInUdpPort(v.dstPort)) next = 'mpls';
          else if (v.dstPort === 67 || v.dstPort === 68) next = 'dhcp';
          else next = 'raw';
          at(v.payload);
          break;
        }
        case 'tcp': {
          const v = decodeTcp(frame, start, end);
          layers.push({ kind: 'tcp', v });
          next = 'raw';
          at(v.payload);
          break;
        }
        case 'gre': {
          const v = decodeGre(frame, start, end);
          layers.push({ kind: 'gre', v });
          next = byEtherType(v.protocolType);
          at(v.payload);
          break;
        }
        case 'cmd': {
          if (end - start < 8) throw new DecodeError('cmd', start, 'short');
          const header = frame.subarray(start, start + 8);
          const payload = frame.subarray(start + 8, end);
          layers.push({ kind: 'cmd', header, payload });
          next = byEtherType((header[0]! << 8) | header[1]!);
          at(payload);
          break;
        }
        case 'mpls': {
          const v = decodeMpls(frame, start, end);
          layers.push({ kind: 'mpls', v });
          const g = guessMplsPayload(v.payload);
          next = g === 'ipv4' ? 'ipv4' : g === 'ipv6' ? 'ipv6' : 'raw';
          at(v.payload);
          break;
        }
        case 'vxlan': {
          const v = decodeVxlan(frame, start, end);
          layers.push({ kind: 'vxlan', v });
          next = 'ethernet';
          at(v.payload);
          break;
        }
        case 'dhcp':
          layers.push({ kind: 'dhcp', v: decodeDhcp(frame, start, end) });
          return { layers };
        case 'raw':
          layers.push({ kind: 'raw', bytes: frame.subarray(start, end) });
          return { layers };
      }
    }
  } catch (e) {
    if (e instanceof DecodeError) return { layers, error: e };
    throw e;
  }
}

/** Encode the layers back, innermost first, each carrying the re-encoded layer inside it. */
export function rebuild(layers: readonly Layer[]): Uint8Array {
  let inner: Uint8Array | undefined;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    const payload = inner ?? new Uint8Array(0);
    switch (l.kind) {
      case 'raw':
        inner = l.bytes;
        break;
      case 'arp':
        inner = encodeArp(l.v);
        break;
      case 'icmp':
        inner = encodeIcmp(l.v);
        break;
      case 'dhcp':
        inner = encodeDhcp(l.v);
        break;
      case 'ethernet':
        inner = encodeEthernet({ ...l.v, payload });
        break;
      case 'ipv4':
        inner = encodeIpv4({ ...l.v, payload });
        break;
      case 'ipv6':
        inner = encodeIpv6({ ...l.v, payload });
        break;
      case 'udp':
        inner = encodeUdp({ ...l.v, payload });
        break;
      case 'tcp':
        inner = encodeTcp({ ...l.v, payload });
        break;
      case 'gre':
        inner = encodeGre({ ...l.v, payload });
        break;
      case 'cmd':
        inner = Uint8Array.from([...l.header, ...payload]);
        break;
      case 'mpls':
        inner = encodeMpls({ ...l.v, payload });
        break;
      case 'vxlan':
        inner = encodeVxlan({ ...l.v, payload });
        break;
    }
  }
  return inner ?? new Uint8Array(0);
}

export function layersOf<K extends Layer['kind']>(layers: readonly Layer[], kind: K): Extract<Layer, { kind: K }>[] {
  return layers.filter((l): l is Extract<Layer, { kind: K }> => l.kind === kind);
}
