/**
 * Frame plumbing for the sample capture: Ethernet/IPv4 packets built with codecs/net, a TCP
 * conversation that keeps sequence and acknowledgment numbers exact (tshark's sequence
 * analysis turns any gap or unseen ACK into a warning), and the list of frames with what
 * tshark must report for each.
 */
import {
  EtherType,
  IpProtocol,
  encodeEthernet,
  encodeIpv4,
  encodeTcp,
  encodeUdp,
  tcpFlagsValue,
  type TcpFlags,
  type TcpOption,
} from '../../codecs/net/index.js';

/** tshark field -> the values `tshark -T json -e field` must print for the frame, in order. */
export type TsharkFields = Record<string, string[]>;

export interface SampleFrame {
  /** 1-based, as tshark numbers frames. */
  frame: number;
  /** What the frame carries, for test names and the generator's listing. */
  what: string;
  tshark: TsharkFields;
}

export interface Host {
  mac: string;
  ip: string;
}

export const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

/** Frames in capture order with deterministic timestamps (the fixture must not change per run). */
export class FrameList {
  readonly data: Uint8Array[] = [];
  readonly frames: SampleFrame[] = [];

  /** Per-source IPv4 identification counters, so each packet of a host has its own id. */
  private readonly ipIds = new Map<string, number>();

  add(data: Uint8Array, what: string, tshark: TsharkFields = {}): number {
    this.data.push(data);
    const frame = this.data.length;
    this.frames.push({ frame, what, tshark });
    return frame;
  }

  ipv4(src: string, dst: string, protocol: number, payload: Uint8Array): Uint8Array {
    const id = this.ipIds.get(src) ?? 0x1000;
    this.ipIds.set(src, (id + 1) & 0xffff);
    return encodeIpv4({ src, dst, protocol, payload, df: true, ttl: 64, identification: id });
  }

  udp(srcIp: string, dstIp: string, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
    const udp = encodeUdp({ srcPort, dstPort, payload }, { src: srcIp, dst: dstIp });
    return this.ipv4(srcIp, dstIp, IpProtocol.UDP, udp);
  }
}

export function ethernetIpv4(from: Host, to: Host, ipPacket: Uint8Array): Uint8Array {
  return encodeEthernet({ dst: to.mac, src: from.mac, etherType: EtherType.IPV4, payload: ipPacket });
}

export interface TcpEndpoint extends Host {
  port: number;
  /** Initial sequence number. */
  isn: number;
}

/**
 * One TCP connection seen from the wire: handshake, data both ways with cumulative ACKs, and an
 * orderly close. Each `send` is one segment (one frame).
 */
export class TcpConversation {
  private seq: [number, number];

  constructor(
    private readonly list: FrameList,
    readonly client: TcpEndpoint,
    readonly server: TcpEndpoint,
  ) {
    this.seq = [client.isn, server.isn];
  }

  private ends(fromClient: boolean): [TcpEndpoint, TcpEndpoint, 0 | 1, 0 | 1] {
    return fromClient ? [this.client, this.server, 0, 1] : [this.server, this.client, 1, 0];
  }

  /** The frame for a segment, its tshark tcp.flags text, and the sequence space it uses. */
  private segment(fromClient: boolean, flags: Partial<TcpFlags>, payload: Uint8Array, options?: TcpOption[]): { data: Uint8Array; flags: string } {
    const [me, peer, i, j] = this.ends(fromClient);
    const seq = this.seq[i];
    const ack = flags.ack ? this.seq[j] : 0;
    const tcp = encodeTcp(
      { srcPort: me.port, dstPort: peer.port, seq, ack, flags, window: 64240, payload, ...(options ? { options } : {}) },
      { src: me.ip, dst: peer.ip },
    );
    this.seq[i] = (seq + payload.length + (flags.syn ? 1 : 0) + (flags.fin ? 1 : 0)) >>> 0;
    const data = ethernetIpv4(me, peer, this.list.ipv4(me.ip, peer.ip, IpProtocol.TCP, tcp));
    return { data, flags: hex(tcpFlagsValue({ flags }), 4) };
  }

  handshake(what: string): void {
    const mss: TcpOption[] = [{ type: 'mss', mss: 1460 }];
    let s = this.segment(true, { syn: true }, new Uint8Array(0), mss);
    this.list.add(s.data, `${what}: SYN`, { 'tcp.flags': [s.flags] });
    s = this.segment(false, { syn: true, ack: true }, new Uint8Array(0), mss);
    this.list.add(s.data, `${what}: SYN-ACK`, { 'tcp.flags': [s.flags] });
    s = this.segment(true, { ack: true }, new Uint8Array(0));
    this.list.add(s.data, `${what}: ACK`, { 'tcp.flags': [s.flags] });
  }

  /** One data segment; returns its frame number. */
  send(fromClient: boolean, payload: Uint8Array, what: string, tshark: TsharkFields = {}): number {
    const s = this.segment(fromClient, { ack: true, psh: true }, payload);
    return this.list.add(s.data, what, { 'tcp.flags': [s.flags], 'tcp.len': [String(payload.length)], ...tshark });
  }

  /** FIN from each side, then the last ACK. */
  close(what: string, clientFirst = true): void {
    const first = clientFirst;
    let s = this.segment(first, { fin: true, ack: true }, new Uint8Array(0));
    this.list.add(s.data, `${what}: FIN`, { 'tcp.flags': [s.flags] });
    s = this.segment(!first, { fin: true, ack: true }, new Uint8Array(0));
    this.list.add(s.data, `${what}: FIN`, { 'tcp.flags': [s.flags] });
    s = this.segment(first, { ack: true }, new Uint8Array(0));
    this.list.add(s.data, `${what}: ACK`, { 'tcp.flags': [s.flags] });
  }
}
