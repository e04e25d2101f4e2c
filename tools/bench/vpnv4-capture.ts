/**
 * The benchmark workload: VPNv4 UPDATEs shaped like shared/bench/bgp_reflect_bench.py sends
 * them (route i: RD 64512:(1 + i / 1000) type 0, prefix 10.x.y.0/24 unique within its RD, label
 * 16 + i with S set, next hop RD 0:0 + 10.0.0.2 in MP_REACH_NLRI, ORIGIN IGP, empty AS_PATH,
 * LOCAL_PREF 100, RT 64512:100), 268 NLRIs per 4096-byte UPDATE, all built with weft's own
 * encoders, and a pcap of one iBGP session (handshake, OPENs, KEEPALIVEs, the UPDATEs) on
 * TCP port 179 for the whole-file comparisons with tshark and the decode engine.
 */
import {
  encodeBgpMessage,
  type BgpCodecOptions,
  type BgpMessage,
  type VpnNlri,
} from '../../codecs/bgp/index.js';
import { EtherType, IpProtocol, encodeEthernet, encodeIpv4, encodeTcp, type TcpFlags } from '../../codecs/net/index.js';
import { LINKTYPE_ETHERNET, writePcap, type PacketToWrite } from '../../codecs/pcap/index.js';

export const ROUTES_PER_RD = 1000;
export const NLRI_PER_UPDATE = 268;
/** What the two speakers negotiate (both send the 4-octet AS capability, nothing else matters). */
export const BENCH_OPTIONS: BgpCodecOptions = { fourOctetAs: true };

const FEEDER = { mac: '02:00:00:00:00:02', ip: '127.0.0.2', port: 40179 };
const SUT = { mac: '02:00:00:00:00:01', ip: '127.0.0.1', port: 179 };
const ASN = 64512;

export function vpnRoute(i: number): VpnNlri {
  const k = 1 + Math.floor(i / ROUTES_PER_RD);
  const j = i % ROUTES_PER_RD;
  return {
    kind: 'vpn',
    labels: [{ value: 16 + i, tc: 0, bottom: true }],
    rd: { type: 0, admin: ASN, assigned: k },
    prefix: `10.${(j >> 8) & 0xff}.${j & 0xff}.0/24`,
  };
}

/** UPDATE values carrying routes [from, to). */
export function vpnUpdate(from: number, to: number): BgpMessage {
  const nlri: VpnNlri[] = [];
  for (let i = from; i < to; i++) nlri.push(vpnRoute(i));
  return {
    type: 'update',
    withdrawn: [],
    nlri: [],
    attributes: [
      { kind: 'origin', flags: 0x40, code: 1, origin: 0 },
      { kind: 'as-path', flags: 0x40, code: 2, segments: [] },
      { kind: 'local-pref', flags: 0x40, code: 5, localPref: 100 },
      { kind: 'ext-communities', flags: 0xc0, code: 16, communities: [{ kind: 'as2', type: 0x00, subtype: 0x02, asn: ASN, local: 100 }] },
      {
        kind: 'mp-reach',
        flags: 0x90,
        code: 14,
        afi: 1,
        safi: 128,
        nextHop: { kind: 'vpn-ipv4', rd: { type: 0, admin: 0, assigned: 0 }, address: '10.0.0.2' },
        reserved: 0,
        nlri,
      },
    ],
  };
}

/** The UPDATE values for `prefixes` routes, 268 per message. */
export function vpnUpdates(prefixes: number): BgpMessage[] {
  const out: BgpMessage[] = [];
  for (let i = 0; i < prefixes; i += NLRI_PER_UPDATE) out.push(vpnUpdate(i, Math.min(prefixes, i + NLRI_PER_UPDATE)));
  return out;
}

export interface BenchCapture {
  /** The pcap file. */
  pcap: Uint8Array;
  /** The feeder's TCP byte stream: OPEN, KEEPALIVE, then the UPDATEs back to back. */
  stream: Uint8Array;
  /** Offset of each UPDATE in `stream`. */
  updateOffsets: number[];
  prefixes: number;
  updateBytes: number;
}

/** One TCP conversation, sequence numbers kept exact so tshark sees no analysis problems. */
class Conversation {
  readonly packets: PacketToWrite[] = [];
  private seqA = 1000;
  private seqB = 5000;
  private t = 0;

  send(fromFeeder: boolean, flags: Partial<TcpFlags>, payload: Uint8Array = new Uint8Array(0)): void {
    const [src, dst] = fromFeeder ? [FEEDER, SUT] : [SUT, FEEDER];
    const seq = fromFeeder ? this.seqA : this.seqB;
    const ack = fromFeeder ? this.seqB : this.seqA;
    const tcp = encodeTcp(
      { srcPort: src.port, dstPort: dst.port, seq, ack: flags.syn && !flags.ack ? 0 : ack, flags, window: 65535, payload },
      { src: src.ip, dst: dst.ip },
    );
    const ip = encodeIpv4({ src: src.ip, dst: dst.ip, protocol: IpProtocol.TCP, payload: tcp, df: true, ttl: 64, identification: this.packets.length & 0xffff });
    const frame = encodeEthernet({ dst: dst.mac, src: src.mac, etherType: EtherType.IPV4, payload: ip });
    const adv = payload.length + (flags.syn || flags.fin ? 1 : 0);
    if (fromFeeder) this.seqA = (this.seqA + adv) >>> 0;
    else this.seqB = (this.seqB + adv) >>> 0;
    this.t++;
    this.packets.push({ ts: { sec: 1_700_000_000 + Math.floor(this.t / 1000), nsec: (this.t % 1000) * 1_000_000 }, data: frame });
  }
}

function open(bgpId: string): BgpMessage {
  return {
    type: 'open',
    version: 4,
    myAs: ASN,
    holdTime: 180,
    bgpId,
    params: [
      {
        kind: 'capabilities',
        type: 2,
        capabilities: [
          { kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 128 },
          { kind: 'route-refresh', code: 2 },
          { kind: 'four-octet-as', code: 65, asn: ASN },
        ],
      },
    ],
  };
}

/** Builds the session: 3-way handshake, OPEN both ways, KEEPALIVEs, one UPDATE per segment. */
export function buildBenchCapture(prefixes: number): BenchCapture {
  const updates = vpnUpdates(prefixes).map((m) => encodeBgpMessage(m, BENCH_OPTIONS));
  const c = new Conversation();
  c.send(true, { syn: true });
  c.send(false, { syn: true, ack: true });
  c.send(true, { ack: true });
  const feederOpen = encodeBgpMessage(open('127.0.0.2'), BENCH_OPTIONS);
  const keepalive = encodeBgpMessage({ type: 'keepalive' }, BENCH_OPTIONS);
  c.send(true, { ack: true, psh: true }, feederOpen);
  c.send(false, { ack: true, psh: true }, encodeBgpMessage(open('127.0.0.1'), BENCH_OPTIONS));
  c.send(true, { ack: true, psh: true }, keepalive);
  c.send(false, { ack: true, psh: true }, keepalive);
  const stream = new Uint8Array(feederOpen.length + keepalive.length + updates.reduce((n, u) => n + u.length, 0));
  stream.set(feederOpen, 0);
  stream.set(keepalive, feederOpen.length);
  let at = feederOpen.length + keepalive.length;
  const updateOffsets: number[] = [];
  for (const [i, u] of updates.entries()) {
    stream.set(u, at);
    updateOffsets.push(at);
    at += u.length;
    c.send(true, { ack: true, psh: true }, u);
    // The receiver acknowledges every few segments, as a real stack would.
    if (i % 8 === 7) c.send(false, { ack: true });
  }
  c.send(false, { ack: true });
  return { pcap: writePcap(c.packets, LINKTYPE_ETHERNET), stream, updateOffsets, prefixes, updateBytes: at - updateOffsets[0]! };
}
