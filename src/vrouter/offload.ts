/**
 * Segmentation offloads done by the agent, sans-IO: what a NIC does for the kernel's TSO and
 * what the kernel's GRO does on receive, so a TCP stream crosses the agent as 64 KB bursts
 * instead of one JS round per 1.4 KB segment.
 *
 * A TAP opened with IFF_VNET_HDR and TSO offloads hands over frames behind a virtio_net_hdr:
 * checksums may be left partial (NEEDS_CSUM: the field holds the pseudo-header sum) and a TCP
 * frame may be a TSO burst (gso_type TCPV4) that must leave as segments of gso_size bytes.
 * Writing such a header back lets us hand the pod one merged burst the same way.
 *
 * Everything here is total over its inputs: a frame it cannot handle gets `undefined` (the
 * caller falls back to the per-segment path) instead of an exception.
 */

import { onesSum } from '../../codecs/util/checksum.js';

export const VNET_HDR_LEN = 10;
export const VNET_F_NEEDS_CSUM = 1;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_ECN = 0x80;

export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

/** virtio_net_hdr fields are little-endian (TUN's default on little-endian hosts, and we build only there). */
export function readVnetHdr(b: Uint8Array): VnetHdr {
  return {
    flags: b[0]!,
    gsoType: b[1]!,
    hdrLen: b[2]! | (b[3]! << 8),
    gsoSize: b[4]! | (b[5]! << 8),
    csumStart: b[6]! | (b[7]! << 8),
    csumOffset: b[8]! | (b[9]! << 8),
  };
}

export function writeVnetHdr(h: VnetHdr): Uint8Array {
  const b = new Uint8Array(VNET_HDR_LEN);
  b[0] = h.flags;
  b[1] = h.gsoType;
  b[2] = h.hdrLen & 255;
  b[3] = h.hdrLen >>> 8;
  b[4] = h.gsoSize & 255;
  b[5] = h.gsoSize >>> 8;
  b[6] = h.csumStart & 255;
  b[7] = h.csumStart >>> 8;
  b[8] = h.csumOffset & 255;
  b[9] = h.csumOffset >>> 8;
  return b;
}

/**
 * The sum used over payloads (a whole burst is summed once per segment on each side). JS by
 * default; the agent installs the addon's, which is several times faster at 64 KB a burst.
 */
let payloadSum: (b: Uint8Array, start: number, end: number) => number = (b, start, end) => onesSum(b, start, end);

export function setPayloadSum(f: (b: Uint8Array, start: number, end: number) => number): void {
  payloadSum = f;
}

export function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x % 0x10000) + Math.floor(x / 0x10000);
  return x;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 255;
}

function get16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/**
 * Finishes a NEEDS_CSUM checksum in place: the field at csumStart+csumOffset holds the
 * pseudo-header sum, the rest is summed from csumStart to the end. False when out of range.
 */
export function completeChecksum(frame: Uint8Array, csumStart: number, csumOffset: number, udp: boolean): boolean {
  const at = csumStart + csumOffset;
  if (at + 2 > frame.length || csumStart >= frame.length) return false;
  // A native call costs more than summing a small packet here.
  const sum = frame.length - csumStart < 512 ? onesSum(frame, csumStart, frame.length) : payloadSum(frame, csumStart, frame.length);
  let c = ~fold(sum) & 0xffff;
  // UDP sends a computed 0 as all ones, 0 meaning "no checksum".
  if (udp && c === 0) c = 0xffff;
  put16(frame, at, c);
  return true;
}

/** Recomputes the IPv4 header checksum at `ip`. */
function ipChecksum(b: Uint8Array, ip: number, ihl: number): void {
  put16(b, ip + 10, 0);
  put16(b, ip + 10, ~fold(onesSum(b, ip, ip + ihl)) & 0xffff);
}

/** Pseudo-header sum of a TCP segment of `len` bytes between the addresses at ip+12..ip+20. */
function pseudo(b: Uint8Array, ip: number, len: number): number {
  return onesSum(b, ip + 12, ip + 20) + 6 + len;
}

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_PSH = 0x08;
const TH_URG = 0x20;
const TH_CWR = 0x80;

/** Where the headers of an Ethernet/IPv4/TCP frame end; undefined for anything else. */
export interface TcpFrame {
  ip: number;
  ihl: number;
  thl: number;
  /** Start of the TCP payload. */
  data: number;
  /** End of the IPv4 datagram in the frame. */
  end: number;
}

export function tcpFrameOf(frame: Uint8Array, ip = 14): TcpFrame | undefined {
  if (frame.length < ip + 40) return undefined;
  if (ip === 14 && get16(frame, 12) !== 0x0800) return undefined;
  if (frame[ip]! >>> 4 !== 4 || frame[ip + 9] !== 6) return undefined;
  const ihl = (frame[ip]! & 15) * 4;
  const total = get16(frame, ip + 2);
  if (ihl < 20 || (get16(frame, ip + 6) & 0x3fff) !== 0) return undefined; // fragments: no
  const thl = (frame[ip + ihl + 12]! >>> 4) * 4;
  const end = ip + total;
  if (thl < 20 || ip + ihl + thl > end || end > frame.length) return undefined;
  return { ip, ihl, thl, data: ip + ihl + thl, end };
}

/** The TSO burst's TCP flags allow the fast path: none of them changes the flow's state. */
export function burstFlagsPlain(frame: Uint8Array, t: TcpFrame): boolean {
  return (frame[t.ip + t.ihl + 13]! & (TH_FIN | TH_SYN | TH_RST | TH_URG)) === 0;
}

/**
 * Segment `i` of a TSO burst as a complete frame (headers of `frame`, bytes
 * [data + i*mss, +mss)), IPv4 and TCP checksums computed. What a NIC would put on the wire.
 */
export function tsoSegment(frame: Uint8Array, t: TcpFrame, mss: number, i: number): Uint8Array {
  const start = t.data + i * mss;
  const len = Math.min(mss, t.end - start);
  const last = start + len >= t.end;
  const out = new Uint8Array(t.data + len);
  out.set(frame.subarray(0, t.data), 0);
  out.set(frame.subarray(start, start + len), t.data);
  fixSegment(out, t.ip, t.ihl, t.thl, len, i, mss, last, frame[t.ip + t.ihl + 13]!);
  return out;
}

/**
 * Headers of segment `i` (of `len` payload bytes) written over a copy of the burst's headers
 * at `ip`: length, IP id, sequence number, flags (FIN and PSH only on the last, CWR only on the
 * first, as the kernel's TSO does) and both checksums.
 */
function fixSegment(b: Uint8Array, ip: number, ihl: number, thl: number, len: number, i: number, mss: number, last: boolean, flags: number): void {
  const tcp = ip + ihl;
  put16(b, ip + 2, ihl + thl + len);
  put16(b, ip + 4, (get16(b, ip + 4) + i) & 0xffff);
  ipChecksum(b, ip, ihl);
  put32(b, tcp + 4, (get32(b, tcp + 4) + i * mss) >>> 0);
  let f = flags;
  if (!last) f &= ~(TH_FIN | TH_PSH);
  if (i > 0) f &= ~TH_CWR;
  b[tcp + 13] = f;
  put16(b, tcp + 16, 0);
  put16(b, tcp + 16, ~fold(payloadSum(b, tcp, tcp + thl + len) + pseudo(b, ip, thl + len)) & 0xffff);
}

export function segmentCount(t: TcpFrame, mss: number): number {
  return Math.max(1, Math.ceil((t.end - t.data) / mss));
}

/**
 * Segments 1.. of a TSO burst, each behind a copy of `head` (segment 0 as it leaves: tunnel
 * header, then the inner IPv4/TCP headers as the pipeline rewrote them, then its payload),
 * packed back to back for UDP_SEGMENT: every packet but the last is head.length bytes. Cut
 * into buffers of at most `maxBytes` (a UDP datagram's limit) and `maxSegs` segments; head
 * itself starts the first one.
 */
export function tsoTunnelBuffers(
  head: Uint8Array,
  frame: Uint8Array,
  t: TcpFrame,
  mss: number,
  maxBytes = 65000,
  maxSegs = 64,
): Uint8Array[] | undefined {
  const hdrs = t.ihl + t.thl;
  const inner = head.length - hdrs - mss;
  if (inner < 0) return undefined;
  const prefix = inner + hdrs;
  const n = segmentCount(t, mss);
  const per = Math.max(1, Math.min(maxSegs, Math.floor(maxBytes / head.length)));
  const flags = frame[t.ip + t.ihl + 13]!;
  const out: Uint8Array[] = [];
  for (let first = 0; first < n; first += per) {
    const count = Math.min(per, n - first);
    let size = 0;
    for (let i = first; i < first + count; i++) size += prefix + Math.min(mss, t.end - (t.data + i * mss));
    const buf = new Uint8Array(size);
    let at = 0;
    for (let i = first; i < first + count; i++) {
      const start = t.data + i * mss;
      const len = Math.min(mss, t.end - start);
      if (i === 0) {
        buf.set(head, 0);
      } else {
        buf.set(head.subarray(0, prefix), at);
        buf.set(frame.subarray(start, start + len), at + prefix);
        fixSegment(buf.subarray(at, at + prefix + len), inner, t.ihl, t.thl, len, i, mss, start + len >= t.end, flags);
      }
      at += prefix + len;
    }
    out.push(buf);
  }
  return out;
}

/** The segment's IPv4 header and TCP checksums hold. */
function segmentValid(s: Uint8Array, u: TcpFrame): boolean {
  const st = u.ip + u.ihl;
  return fold(onesSum(s, u.ip, st)) === 0xffff && fold(payloadSum(s, st, u.end) + pseudo(s, u.ip, u.end - st)) === 0xffff;
}

/** IPv4 bytes a later segment of the same burst repeats: version/IHL, TOS, flags, TTL, protocol, addresses. */
const SAME_IP = [0, 1, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19];

/**
 * GRO for the pod: `segs` are a UDP GRO buffer's datagrams as received (a tunnel header of
 * `encapLen` bytes, then IPv4/TCP), `head` what the pipeline made of segs[0] (Ethernet, IPv4,
 * TCP, payload: TTL and NAT applied). When every segment continues the first one (same tunnel
 * header, addresses, ports, ack, window and options, contiguous sequence numbers, a full MSS
 * but the last, plain flags, valid checksums), returns one frame with all the payload and the
 * virtio header that has the kernel take it as a TSO burst; otherwise undefined.
 */
export function groMerge(head: Uint8Array, segs: readonly Uint8Array[], encapLen: number): { frame: Uint8Array; vnet: Uint8Array } | undefined {
  const t = tcpFrameOf(head);
  const s0 = segs[0];
  if (!t || t.end !== head.length || !s0 || segs.length < 2) return undefined;
  const u0 = tcpFrameOf(s0, encapLen);
  const mss = t.end - t.data;
  if (!u0 || u0.end !== s0.length || u0.ihl !== t.ihl || u0.thl !== t.thl || u0.end - u0.data !== mss) return undefined;
  if (mss === 0 || !burstFlagsPlain(head, t) || !segmentValid(s0, u0)) return undefined;
  const t0 = u0.ip + u0.ihl;
  let total = mss;
  let seq = (get32(s0, t0 + 4) + mss) >>> 0;
  let psh = 0;
  for (let k = 1; k < segs.length; k++) {
    const s = segs[k]!;
    const u = tcpFrameOf(s, encapLen);
    if (!u || u.ihl !== t.ihl || u.thl !== t.thl || u.end !== s.length) return undefined;
    const len = u.end - u.data;
    if (len === 0 || len > mss || (len < mss && k !== segs.length - 1)) return undefined;
    for (let j = 0; j < encapLen; j++) if (s[j] !== s0[j]) return undefined;
    for (const j of SAME_IP) if (s[u.ip + j] !== s0[u0.ip + j]) return undefined;
    const st = u.ip + u.ihl;
    if (get32(s, st + 4) !== seq) return undefined;
    const f = s[st + 13]!;
    if ((f & (TH_FIN | TH_SYN | TH_RST | TH_URG | TH_CWR)) !== 0) return undefined;
    psh |= f & TH_PSH;
    for (let j = 0; j < u.thl; j++) {
      if (j >= 4 && j < 8) continue; // sequence number, checked above
      if (j === 13 || j === 16 || j === 17) continue; // flags, checksum
      if (s[st + j] !== s0[t0 + j]) return undefined;
    }
    // A corrupted segment must reach the pod as such (its stack drops it), not be vouched for.
    if (!segmentValid(s, u)) return undefined;
    seq = (seq + len) >>> 0;
    total += len;
  }
  if (t.data + total - t.ip > 65535) return undefined;
  const out = new Uint8Array(t.data + total);
  out.set(head, 0);
  let at = head.length;
  const data = encapLen + t.ihl + t.thl;
  for (let k = 1; k < segs.length; k++) {
    const s = segs[k]!;
    out.set(s.subarray(data), at);
    at += s.length - data;
  }
  const tcp = t.ip + t.ihl;
  put16(out, t.ip + 2, t.ihl + t.thl + total);
  ipChecksum(out, t.ip, t.ihl);
  out[tcp + 13] = out[tcp + 13]! | psh;
  // NEEDS_CSUM: the field holds the pseudo-header sum, the kernel (or nobody, for a local
  // socket) finishes it per segment.
  put16(out, tcp + 16, fold(pseudo(out, t.ip, t.thl + total)));
  const vnet = writeVnetHdr({
    flags: VNET_F_NEEDS_CSUM,
    gsoType: VNET_GSO_TCPV4,
    hdrLen: t.data,
    gsoSize: mss,
    csumStart: tcp,
    csumOffset: 16,
  });
  return { frame: out, vnet };
}

/** virtio's GSO type for UDP segmentation (USO; Linux 6.2+ takes it on a TAP write). */
export const VNET_GSO_UDP_L4 = 5;

/**
 * GRO for a pod's UDP flow: `segs` are equal-sized datagrams of one flow (tunnel header of
 * `encapLen` bytes, then IPv4/UDP), `head` what the pipeline made of segs[0]. When every one
 * continues the first (same tunnel header, addresses, ports, flags and TTL, IP ids counting
 * up as segmentation would give them back, no IP options, valid non-zero UDP checksums, equal
 * payload sizes but the last), returns one frame with all the payloads and the virtio header
 * (USO) that has the kernel cut it into the same datagrams: one TAP write instead of n.
 */
export function groMergeUdp(head: Uint8Array, segs: readonly Uint8Array[], encapLen: number): { frame: Uint8Array; vnet: Uint8Array } | undefined {
  const s0 = segs[0];
  if (!s0 || segs.length < 2 || head.length < 42 || get16(head, 12) !== 0x0800) return undefined;
  if (head[14] !== 0x45 || head[23] !== 17 || get16(head, 16) !== head.length - 14) return undefined;
  const size = head.length - 42;
  let total = 0;
  const id0 = s0.length >= encapLen + 28 ? get16(s0, encapLen + 4) : -1;
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k]!;
    const ip = encapLen;
    if (s.length < ip + 28 || s[ip] !== 0x45 || s[ip + 9] !== 17) return undefined;
    const len = s.length - ip - 28;
    if (get16(s, ip + 2) !== s.length - ip || get16(s, ip + 24) !== len + 8) return undefined;
    if ((get16(s, ip + 6) & 0x3fff) !== 0) return undefined;
    if (len === 0 || len > size || (len < size && k !== segs.length - 1) || (k === 0 && len !== size)) return undefined;
    if (get16(s, ip + 4) !== ((id0 + k) & 0xffff)) return undefined;
    if (k > 0) {
      for (let j = 0; j < encapLen; j++) if (s[j] !== s0[j]) return undefined;
      for (const j of SAME_IP) if (s[ip + j] !== s0[ip + j]) return undefined;
      if (get32(s, ip + 20) !== get32(s0, ip + 20)) return undefined; // ports
    }
    if (get16(s, ip + 26) === 0) return undefined; // no checksum: the kernel would add one
    if (fold(onesSum(s, ip, ip + 20)) !== 0xffff) return undefined;
    if (fold(payloadSum(s, ip + 20, s.length) + onesSum(s, ip + 12, ip + 20) + 17 + len + 8) !== 0xffff) return undefined;
    total += len;
  }
  if (28 + total > 65535) return undefined;
  const out = new Uint8Array(42 + total);
  out.set(head, 0);
  let at = head.length;
  for (let k = 1; k < segs.length; k++) {
    const s = segs[k]!;
    out.set(s.subarray(encapLen + 28), at);
    at += s.length - encapLen - 28;
  }
  put16(out, 16, 28 + total);
  ipChecksum(out, 14, 20);
  put16(out, 38, 8 + total);
  put16(out, 40, fold(onesSum(out, 26, 34) + 17 + 8 + total));
  const vnet = writeVnetHdr({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_UDP_L4, hdrLen: 42, gsoSize: size, csumStart: 34, csumOffset: 6 });
  return { frame: out, vnet };
}
