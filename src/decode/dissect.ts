import { decodeLinkLayer, type LinkHeader, type NextProtocol } from '../../codecs/pcap/linktypes.js';
import type { CapturedPacket } from '../../codecs/pcap/capture.js';
import { formatTime } from '../../codecs/pcap/capture.js';
import {
  EtherType,
  IpProtocol,
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
  guessMplsPayload,
  type TcpSegment,
} from '../../codecs/net/index.js';
import { DecodeError } from '../../codecs/util/errors.js';
import { Reader } from '../../codecs/util/reader.js';
import type { PortBindings } from './decode-as.js';
import type { DecodedPacket, Layer, LayerError, TcpApp } from './types.js';

/**
 * Per-packet dissection from the link layer down to TCP/UDP payloads. Application data on
 * TCP is handed to the engine (it needs reassembly across packets); everything else is
 * decoded here. A layer that fails to decode ends the dissection of that packet with an
 * entry in `errors`; the layers above it are kept.
 */

/** A TCP segment whose port is bound to an application, for the engine to reassemble. */
export interface TcpHandoff {
  frame: number;
  src: string;
  dst: string;
  segment: TcpSegment;
  app: TcpApp;
  /** The packet's tcp layer, for the engine to annotate (stream index, analysis). */
  layer: Layer;
}

export interface DissectContext {
  bindings: PortBindings;
  onTcp(h: TcpHandoff): void;
}

/** Nested tunnels (GRE in GRE in ...) are legal, but a packet can't need more than this. */
const MAX_LAYERS = 48;

type Step =
  | { proto: 'ethernet' | 'ipv4' | 'ipv6' | 'ip' | 'arp' | 'mpls' | 'icmp' | 'gre' | 'vxlan' | 'dhcp' | 'data'; bytes: Uint8Array }
  | { proto: 'ethertype'; type: number; bytes: Uint8Array }
  | { proto: 'udp' | 'tcp'; bytes: Uint8Array; src: string; dst: string };

export function toLayerError(e: DecodeError, base: number): LayerError {
  const out: LayerError = { field: e.field, offset: e.offset + base, reason: e.reason };
  if (e.notification) out.notification = e.notification;
  return out;
}

/** A layer from a codec value: every field but the ones named, empty byte fields dropped. */
function layerOf(name: string, v: object, omit: readonly string[] = ['payload']): Layer {
  const out: Layer = { layer: name };
  for (const [k, val] of Object.entries(v)) {
    if (omit.includes(k)) continue;
    if (val instanceof Uint8Array && val.length === 0) continue;
    if (val === undefined) continue;
    out[k] = val;
  }
  return out;
}

function dataLayer(bytes: Uint8Array): Layer {
  return { layer: 'data', length: bytes.length, data: bytes };
}

function fromNext(next: NextProtocol, bytes: Uint8Array): Step | undefined {
  switch (next.kind) {
    case 'ethernet': return { proto: 'ethernet', bytes };
    case 'ethertype': return { proto: 'ethertype', type: next.etherType, bytes };
    case 'ipv4': return { proto: 'ipv4', bytes };
    case 'ipv6': return { proto: 'ipv6', bytes };
    case 'ip': return { proto: 'ip', bytes };
    case 'mpls': return { proto: 'mpls', bytes };
    case 'unknown': return bytes.length ? { proto: 'data', bytes } : undefined;
  }
}

function byEtherType(type: number, bytes: Uint8Array): Step | undefined {
  switch (type) {
    case EtherType.IPV4: return { proto: 'ipv4', bytes };
    case EtherType.IPV6: return { proto: 'ipv6', bytes };
    case EtherType.ARP: return { proto: 'arp', bytes };
    case EtherType.MPLS:
    case EtherType.MPLS_MULTICAST: return { proto: 'mpls', bytes };
    case EtherType.TEB: return { proto: 'ethernet', bytes };
    default: return bytes.length ? { proto: 'data', bytes } : undefined;
  }
}

/** IPv6 extension headers that sit between the fixed header and the transport. */
function skipIpv6Extensions(next: number, payload: Uint8Array): { next: number; offset: number; headers: { type: number; length: number }[] } {
  const r = new Reader(payload);
  const headers: { type: number; length: number }[] = [];
  for (;;) {
    const start = r.pos;
    if (next === 0 || next === 43 || next === 60) {
      const nh = r.u8('ipv6.ext.nextHeader');
      const len = (r.u8('ipv6.ext.length') + 1) * 8;
      r.skip(len - 2, 'ipv6.ext.data');
      headers.push({ type: next, length: len });
      next = nh;
    } else if (next === 44) {
      const nh = r.u8('ipv6.fragment.nextHeader');
      r.skip(7, 'ipv6.fragment');
      headers.push({ type: next, length: 8 });
      next = nh;
    } else if (next === 51) {
      const nh = r.u8('ipv6.ah.nextHeader');
      const len = (r.u8('ipv6.ah.length') + 2) * 4;
      r.skip(len - 2, 'ipv6.ah.data');
      headers.push({ type: next, length: len });
      next = nh;
    } else {
      return { next, offset: start, headers };
    }
  }
}

export class PacketDissector {
  private frameData: Uint8Array = new Uint8Array(0);
  private layers: Layer[] = [];
  private errors: DecodedPacket['errors'] = [];
  private frame = 0;

  constructor(private readonly ctx: DissectContext) {}

  dissect(frame: number, pkt: CapturedPacket): DecodedPacket {
    this.frameData = pkt.data;
    this.frame = frame;
    this.layers = [];
    this.errors = [];
    const out: DecodedPacket = {
      frame,
      ts: formatTime(pkt.ts),
      caplen: pkt.caplen,
      len: pkt.origLen,
      interfaceId: pkt.interfaceId,
      linkType: pkt.linkType,
      layers: this.layers,
      errors: this.errors,
    };
    let step: Step | undefined;
    try {
      const link = decodeLinkLayer(pkt.linkType, pkt.data);
      if (link.header) this.layers.push(linkLayer(link.header));
      step = fromNext(link.next, pkt.data.subarray(link.offset));
    } catch (e) {
      this.fail(e, link0(pkt.linkType), pkt.data);
      return out;
    }
    while (step && this.layers.length < MAX_LAYERS) {
      const current: Step = step;
      try {
        step = this.step(current);
      } catch (e) {
        this.fail(e, layerName(current.proto), current.bytes);
        step = undefined;
      }
    }
    if (step) this.layers.push(dataLayer(step.bytes));
    return out;
  }

  /** Record a DecodeError for `layer`; anything else is a bug and propagates. */
  private fail(e: unknown, layer: string, bytes: Uint8Array): void {
    if (!(e instanceof DecodeError)) throw e;
    this.errors.push({ layer, error: toLayerError(e, this.base(bytes)) });
  }

  /** Offset of a view in the frame (all views share the capture's buffer). */
  private base(view: Uint8Array): number {
    if (view.buffer !== this.frameData.buffer) return 0;
    return view.byteOffset - this.frameData.byteOffset;
  }

  private step(s: Step): Step | undefined {
    const b = s.bytes;
    switch (s.proto) {
      case 'ethernet': {
        const e = decodeEthernet(b);
        const eth: Layer = { layer: 'eth', dst: e.dst, src: e.src };
        const first = e.tags[0];
        if (first) eth.type = first.tpid;
        else if (e.etherType !== undefined) eth.type = e.etherType;
        else eth.length = e.length;
        this.layers.push(eth);
        for (let i = 0; i < e.tags.length; i++) {
          const t = e.tags[i]!;
          const nextTag = e.tags[i + 1];
          const vlan: Layer = { layer: 'vlan', tpid: t.tpid, pcp: t.pcp, dei: t.dei, vid: t.vid };
          if (nextTag) vlan.type = nextTag.tpid;
          else if (e.etherType !== undefined) vlan.type = e.etherType;
          else vlan.length = e.length;
          this.layers.push(vlan);
        }
        if (e.etherType === undefined) {
          // IEEE 802.3 with an LLC header (STP, CDP...): not dissected further.
          if (e.trailer?.length) (e.tags.length ? this.layers.at(-1)! : eth).trailer = e.trailer;
          if (e.truncated) eth.truncated = true;
          return e.payload.length ? { proto: 'data', bytes: e.payload } : undefined;
        }
        return byEtherType(e.etherType, e.payload);
      }
      case 'ethertype':
        return byEtherType(s.type, b);
      case 'ip': {
        const v = b.length ? b[0]! >>> 4 : 0;
        if (v === 4) return { proto: 'ipv4', bytes: b };
        if (v === 6) return { proto: 'ipv6', bytes: b };
        throw new DecodeError('ip.version', 0, b.length ? `version ${v} is neither 4 nor 6` : 'empty packet');
      }
      case 'ipv4': {
        const ip = decodeIpv4(b);
        this.layers.push(layerOf('ip', ip, ['payload', 'optionList']));
        if (ip.optionList.length) this.layers.at(-1)!.optionList = ip.optionList;
        if (ip.mf || ip.fragmentOffset > 0) {
          // Fragments are not reassembled. The first one holds the transport header and is
          // dissected as far as it goes (tshark does so too when it cannot reassemble).
          this.layers.at(-1)!.fragment = true;
          if (ip.fragmentOffset > 0) return ip.payload.length ? { proto: 'data', bytes: ip.payload } : undefined;
        }
        return this.byIpProtocol(ip.protocol, ip.payload, ip.src, ip.dst);
      }
      case 'ipv6': {
        const ip = decodeIpv6(b);
        const layer = layerOf('ipv6', ip);
        this.layers.push(layer);
        let ext;
        try {
          ext = skipIpv6Extensions(ip.nextHeader, ip.payload);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          throw new DecodeError(e.field, e.offset + this.base(ip.payload) - this.base(b), e.reason);
        }
        if (ext.headers.length) layer.extensionHeaders = ext.headers;
        if (ext.headers.some((h) => h.type === 44)) return { proto: 'data', bytes: ip.payload.subarray(ext.offset) };
        return this.byIpProtocol(ext.next, ip.payload.subarray(ext.offset), ip.src, ip.dst);
      }
      case 'arp':
        this.layers.push(layerOf('arp', decodeArp(b)));
        return undefined;
      case 'icmp': {
        const m = decodeIcmp(b);
        this.layers.push(layerOf('icmp', m, ['data']));
        return m.data.length ? { proto: 'data', bytes: m.data } : undefined;
      }
      case 'udp': {
        const u = decodeUdp(b);
        this.layers.push(layerOf('udp', u));
        if (u.payload.length === 0) return undefined;
        switch (this.ctx.bindings.udpApp(u.srcPort, u.dstPort)) {
          case 'vxlan': return { proto: 'vxlan', bytes: u.payload };
          case 'mpls': return { proto: 'mpls', bytes: u.payload };
          case 'dhcp': return { proto: 'dhcp', bytes: u.payload };
          default: return { proto: 'data', bytes: u.payload };
        }
      }
      case 'tcp': {
        const t = decodeTcp(b);
        const layer = layerOf('tcp', t, ['payload']);
        layer.len = t.payload.length;
        this.layers.push(layer);
        const app = this.ctx.bindings.tcpApp(t.srcPort, t.dstPort);
        if (app) {
          this.ctx.onTcp({ frame: this.frame, src: s.src, dst: s.dst, segment: t, app, layer });
          return undefined;
        }
        return t.payload.length ? { proto: 'data', bytes: t.payload } : undefined;
      }
      case 'gre': {
        const g = decodeGre(b);
        this.layers.push(layerOf('gre', g));
        return byEtherType(g.protocolType, g.payload);
      }
      case 'mpls': {
        const m = decodeMpls(b);
        const layer = layerOf('mpls', m);
        this.layers.push(layer);
        switch (guessMplsPayload(m.payload)) {
          case 'ipv4': return { proto: 'ipv4', bytes: m.payload };
          case 'ipv6': return { proto: 'ipv6', bytes: m.payload };
          case 'ethernet': {
            // RFC 4385 pseudowire control word, then the Ethernet frame (as tshark's pwethcw).
            if (m.payload.length < 4 + 14) return { proto: 'data', bytes: m.payload };
            layer.controlWord = m.payload.subarray(0, 4);
            return { proto: 'ethernet', bytes: m.payload.subarray(4) };
          }
          default: return m.payload.length ? { proto: 'data', bytes: m.payload } : undefined;
        }
      }
      case 'vxlan': {
        const v = decodeVxlan(b);
        this.layers.push(layerOf('vxlan', v));
        return v.payload.length ? { proto: 'ethernet', bytes: v.payload } : undefined;
      }
      case 'dhcp':
        this.layers.push(layerOf('dhcp', decodeDhcp(b)));
        return undefined;
      case 'data':
        this.layers.push(dataLayer(b));
        return undefined;
    }
  }

  private byIpProtocol(protocol: number, payload: Uint8Array, src: string, dst: string): Step | undefined {
    switch (protocol) {
      case IpProtocol.ICMP: return { proto: 'icmp', bytes: payload };
      case IpProtocol.TCP: return { proto: 'tcp', bytes: payload, src, dst };
      case IpProtocol.UDP: return { proto: 'udp', bytes: payload, src, dst };
      case IpProtocol.GRE: return { proto: 'gre', bytes: payload };
      case IpProtocol.IPIP: return { proto: 'ipv4', bytes: payload };
      case IpProtocol.IPV6: return { proto: 'ipv6', bytes: payload };
      case IpProtocol.MPLS_IN_IP: return { proto: 'mpls', bytes: payload };
      default: return payload.length ? { proto: 'data', bytes: payload } : undefined;
    }
  }
}

function layerName(proto: Step['proto']): string {
  switch (proto) {
    case 'ethernet': return 'eth';
    case 'ipv4': case 'ip': return 'ip';
    case 'ethertype': return 'eth';
    default: return proto;
  }
}

function link0(linkType: number): string {
  switch (linkType) {
    case 0: case 108: return 'null';
    case 113: return 'sll';
    case 276: return 'sll2';
    case 9: return 'ppp';
    default: return 'frame';
  }
}

function linkLayer(h: LinkHeader): Layer {
  return layerOf(h.layer, h, []);
}
