/**
 * Test helper: TCP payloads of a pcap/pcapng file (read by codecs/pcap), reassembled per
 * direction in capture order, and cut into BGP messages. Ethernet (with 802.1Q tags), raw
 * IPv4/IPv6 and Linux cooked captures; just enough for the conformance captures.
 */
import { readCapture } from '../../../codecs/pcap/index.js';
import { pcapBytes } from '../../support/paths.js';

export interface TcpStream {
  /** "src:port>dst:port" */
  key: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  data: Uint8Array;
  /** A segment was cut short by the snap length or a gap was seen. */
  damaged: boolean;
}

interface Frame {
  linkType: number;
  data: Uint8Array;
  truncated: boolean;
}

function readFrames(file: string): Frame[] {
  return readCapture(pcapBytes(file)).packets.map((p) => ({ linkType: p.linkType, data: p.data, truncated: p.caplen < p.origLen }));
}

function ipPayload(f: Frame): { proto: number; src: string; dst: string; payload: Uint8Array; truncated: boolean } | undefined {
  let d = f.data;
  let ethertype: number;
  if (f.linkType === 1) {
    if (d.length < 14) return undefined;
    ethertype = (d[12]! << 8) | d[13]!;
    let off = 14;
    while ((ethertype === 0x8100 || ethertype === 0x88a8) && d.length >= off + 4) {
      ethertype = (d[off + 2]! << 8) | d[off + 3]!;
      off += 4;
    }
    d = d.subarray(off);
  } else if (f.linkType === 113) {
    if (d.length < 16) return undefined;
    ethertype = (d[14]! << 8) | d[15]!;
    d = d.subarray(16);
  } else if (f.linkType === 101 || f.linkType === 12 || f.linkType === 14 || f.linkType === 228 || f.linkType === 229) {
    ethertype = d.length && d[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  } else return undefined;
  if (ethertype === 0x0800 && d.length >= 20) {
    const ihl = (d[0]! & 0x0f) * 4;
    const total = (d[2]! << 8) | d[3]!;
    const end = Math.min(total, d.length);
    const src = `${d[12]}.${d[13]}.${d[14]}.${d[15]}`;
    const dst = `${d[16]}.${d[17]}.${d[18]}.${d[19]}`;
    return { proto: d[9]!, src, dst, payload: d.subarray(ihl, end), truncated: f.truncated || d.length < total };
  }
  if (ethertype === 0x86dd && d.length >= 40) {
    const plen = (d[4]! << 8) | d[5]!;
    const hex = (o: number) => Buffer.from(d.subarray(o, o + 16)).toString('hex');
    return { proto: d[6]!, src: hex(8), dst: hex(24), payload: d.subarray(40, Math.min(40 + plen, d.length)), truncated: f.truncated || d.length < 40 + plen };
  }
  return undefined;
}

/** TCP streams of the file (one per direction), in order of first appearance. */
export function tcpStreams(file: string): TcpStream[] {
  const streams = new Map<string, { s: TcpStream; parts: Uint8Array[]; next?: number }>();
  for (const f of readFrames(file)) {
    const ip = ipPayload(f);
    if (!ip || ip.proto !== 6 || ip.payload.length < 20) continue;
    const t = ip.payload;
    const sport = (t[0]! << 8) | t[1]!;
    const dport = (t[2]! << 8) | t[3]!;
    const seq = ((t[4]! << 24) >>> 0) + ((t[5]! << 16) | (t[6]! << 8) | t[7]!);
    const off = (t[12]! >> 4) * 4;
    const flags = t[13]!;
    let payload = t.subarray(Math.min(off, t.length));
    const key = `${ip.src}:${sport}>${ip.dst}:${dport}`;
    let e = streams.get(key);
    if (!e) {
      e = { s: { key, src: ip.src, dst: ip.dst, sport, dport, data: new Uint8Array(0), damaged: false }, parts: [] };
      streams.set(key, e);
    }
    if (ip.truncated) e.s.damaged = true;
    // SYN takes one sequence number (a fuzzed capture may still carry data with it).
    const dataSeq = (flags & 0x02) !== 0 ? (seq + 1) >>> 0 : seq;
    if (payload.length === 0) {
      if (flags & 0x02) e.next = dataSeq;
      continue;
    }
    let start = dataSeq;
    if (e.next !== undefined) {
      const delta = (dataSeq - e.next) | 0;
      if (delta < 0) {
        // retransmission: keep only the new bytes
        if (-delta >= payload.length) continue;
        payload = payload.subarray(-delta);
        start = e.next;
      } else if (delta > 0) e.s.damaged = true;
    }
    e.next = (start + payload.length) >>> 0;
    e.parts.push(payload);
  }
  return [...streams.values()].map(({ s, parts }) => ({ ...s, data: new Uint8Array(Buffer.concat(parts)) }));
}

/**
 * BGP messages of a stream, cut by their length field. A stream that does not start with a
 * marker (capture began mid-session) is searched for the first one, as Wireshark does. Stops
 * at a length < 19 or one running past the data; `rest` is what was left.
 */
export function splitBgp(data: Uint8Array): { messages: Uint8Array[]; rest: Uint8Array; skipped: number } {
  let p = 0;
  const isMarker = (at: number) => {
    if (at + 16 > data.length) return false;
    for (let i = 0; i < 16; i++) if (data[at + i] !== 0xff) return false;
    return true;
  };
  while (p < data.length && !isMarker(p)) p++;
  const skipped = p;
  const messages: Uint8Array[] = [];
  while (p + 19 <= data.length) {
    const len = (data[p + 16]! << 8) | data[p + 17]!;
    if (len < 19 || p + len > data.length) break;
    messages.push(data.subarray(p, p + len));
    p += len;
  }
  return { messages, rest: data.subarray(p), skipped };
}
