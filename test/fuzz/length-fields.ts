/**
 * Where the length fields are: in a BGP message, in a captured frame (IPv4 total length and
 * IHL, IPv6 payload length, UDP length, TCP data offset, and the BGP fields of a TCP payload on
 * port 179), and in a pcap or pcapng file (caplen, block lengths). The walkers are deliberately
 * forgiving (they stop at the first thing that does not fit) since they also run on inputs
 * that earlier mutations already damaged. A lying length field is the classic way into a
 * decoder's bounds checks, so the fuzzer aims at these.
 */

export interface LengthField {
  /** Byte offset in the input. */
  at: number;
  size: 1 | 2 | 4;
  /** Little-endian (pcap headers written on little-endian hosts). */
  le?: boolean;
  /** The field is a 4-bit half of the byte (IHL: low, TCP data offset: high). */
  nibble?: 'hi' | 'lo';
  name: string;
}

const u16 = (b: Uint8Array, p: number) => (b[p]! << 8) | b[p + 1]!;

/** NLRI length bytes of an IP/RTC family (length in bits, then ceil(bits / 8) bytes). */
function prefixLengths(b: Uint8Array, p: number, end: number, out: LengthField[], name: string): void {
  while (p < end && out.length < 400) {
    out.push({ at: p, size: 1, name });
    p += 1 + ((b[p]! + 7) >> 3);
  }
}

/** EVPN NLRI: route type, then a length byte in bytes. */
function evpnLengths(b: Uint8Array, p: number, end: number, out: LengthField[]): void {
  while (p + 1 < end && out.length < 400) {
    out.push({ at: p + 1, size: 1, name: 'evpn.length' });
    p += 2 + b[p + 1]!;
  }
}

function nlriLengths(b: Uint8Array, afi: number, p: number, end: number, out: LengthField[], name: string): void {
  if (afi === 25) evpnLengths(b, p, end, out);
  else prefixLengths(b, p, end, out, name);
}

/** Length fields of the BGP message at `base` (header included). */
export function bgpLengthFields(b: Uint8Array, base = 0, out: LengthField[] = []): LengthField[] {
  if (b.length < base + 19) return out;
  out.push({ at: base + 16, size: 2, name: 'bgp.length' });
  const end = Math.min(b.length, base + Math.max(19, u16(b, base + 16)));
  const type = b[base + 18];
  if (type === 1 && end >= base + 29) {
    out.push({ at: base + 28, size: 1, name: 'open.optParamLength' });
    // RFC 9072: 255 then a 255 parameter type introduces a 2-byte length and 2-byte parameter lengths.
    const ext = b[base + 28] === 255 && b[base + 29] === 255 && end >= base + 32;
    let p = ext ? base + 32 : base + 29;
    if (ext) out.push({ at: base + 30, size: 2, name: 'open.extOptParamLength' });
    while (p + (ext ? 3 : 2) <= end) {
      const ptype = b[p]!;
      const plen = ext ? u16(b, p + 1) : b[p + 1]!;
      out.push({ at: p + 1, size: ext ? 2 : 1, name: 'open.param.length' });
      const body = p + (ext ? 3 : 2);
      if (ptype === 2) {
        let c = body;
        const cend = Math.min(end, body + plen);
        while (c + 2 <= cend) {
          out.push({ at: c + 1, size: 1, name: 'open.capability.length' });
          c += 2 + b[c + 1]!;
        }
      }
      p = body + plen;
    }
  }
  if (type === 2 && end >= base + 23) {
    out.push({ at: base + 19, size: 2, name: 'update.withdrawnLength' });
    const wl = u16(b, base + 19);
    prefixLengths(b, base + 21, Math.min(end, base + 21 + wl), out, 'update.withdrawn.prefixLength');
    const ap = base + 21 + wl;
    if (ap + 2 > end) return out;
    out.push({ at: ap, size: 2, name: 'update.pathAttributeLength' });
    const aend = Math.min(end, ap + 2 + u16(b, ap));
    let p = ap + 2;
    while (p + 3 <= aend) {
      const flags = b[p]!;
      const code = b[p + 1]!;
      const ext = (flags & 0x10) !== 0;
      if (ext && p + 4 > aend) break;
      out.push({ at: p + 2, size: ext ? 2 : 1, name: `update.attr[${code}].length` });
      const v = p + (ext ? 4 : 3);
      const vlen = ext ? u16(b, p + 2) : b[p + 2]!;
      const vend = Math.min(aend, v + vlen);
      if (code === 14 && v + 4 <= vend) {
        const afi = u16(b, v);
        out.push({ at: v + 3, size: 1, name: 'mpReach.nextHopLength' });
        nlriLengths(b, afi, v + 5 + b[v + 3]!, vend, out, 'mpReach.nlri.length');
      } else if (code === 15 && v + 3 <= vend) {
        nlriLengths(b, u16(b, v), v + 3, vend, out, 'mpUnreach.nlri.length');
      } else if (code === 2 || code === 17) {
        for (let s = v; s + 2 <= vend; s += 2 + b[s + 1]! * (code === 17 ? 4 : 2)) out.push({ at: s + 1, size: 1, name: 'asPath.segment.length' });
      } else if (code === 23) {
        // Tunnel encapsulation TLVs: type(2) length(2), sub-TLVs type(1) length(1 or 2 for types >= 128).
        for (let t = v; t + 4 <= vend; t += 4 + u16(b, t + 2)) out.push({ at: t + 2, size: 2, name: 'tunnelEncap.tlv.length' });
      }
      p = v + vlen;
    }
    prefixLengths(b, aend, end, out, 'update.nlri.prefixLength');
  }
  return out;
}

/** Offset of the IP header in a frame of this link type, or -1. */
function ipStart(frame: Uint8Array, linkType: number): number {
  if (linkType === 1) {
    let p = 12;
    let t = frame.length >= 14 ? u16(frame, 12) : 0;
    while ((t === 0x8100 || t === 0x88a8) && p + 6 <= frame.length) {
      p += 4;
      t = u16(frame, p);
    }
    return t === 0x0800 || t === 0x86dd ? p + 2 : -1;
  }
  if (linkType === 113) return 16;
  if (linkType === 101 || linkType === 228 || linkType === 229 || linkType === 12 || linkType === 14) return 0;
  return -1;
}

/** IP, UDP and TCP length fields of a frame, and BGP's inside TCP port 179. */
export function frameLengthFields(frame: Uint8Array, linkType: number, out: LengthField[] = []): LengthField[] {
  const ip = ipStart(frame, linkType);
  if (ip < 0 || ip + 20 > frame.length) return out;
  const version = frame[ip]! >> 4;
  let l4 = -1;
  let proto = -1;
  if (version === 4) {
    out.push({ at: ip, size: 1, nibble: 'lo', name: 'ipv4.ihl' });
    out.push({ at: ip + 2, size: 2, name: 'ipv4.totalLength' });
    l4 = ip + (frame[ip]! & 15) * 4;
    proto = frame[ip + 9]!;
  } else if (version === 6 && ip + 40 <= frame.length) {
    out.push({ at: ip + 4, size: 2, name: 'ipv6.payloadLength' });
    l4 = ip + 40;
    proto = frame[ip + 6]!;
  }
  if (l4 < 0) return out;
  if (proto === 17 && l4 + 8 <= frame.length) out.push({ at: l4 + 4, size: 2, name: 'udp.length' });
  if (proto === 47 && l4 + 4 <= frame.length) {
    // GRE carrying IPv4: the inner packet's lengths too.
    const inner = l4 + 4 + ((frame[l4]! & 0x80) ? 4 : 0) + ((frame[l4]! & 0x20) ? 4 : 0) + ((frame[l4]! & 0x10) ? 4 : 0);
    if (u16(frame, l4 + 2) === 0x0800 && inner + 20 <= frame.length) {
      out.push({ at: inner, size: 1, nibble: 'lo', name: 'gre.ipv4.ihl' });
      out.push({ at: inner + 2, size: 2, name: 'gre.ipv4.totalLength' });
    }
  }
  if (proto === 6 && l4 + 20 <= frame.length) {
    out.push({ at: l4 + 12, size: 1, nibble: 'hi', name: 'tcp.dataOffset' });
    const payload = l4 + (frame[l4 + 12]! >> 4) * 4;
    const bgp = u16(frame, l4) === 179 || u16(frame, l4 + 2) === 179;
    if (bgp && payload + 19 <= frame.length && frame[payload] === 0xff) {
      for (let p = payload; p + 19 <= frame.length && out.length < 600; ) {
        bgpLengthFields(frame.subarray(0, Math.min(frame.length, p + Math.max(19, u16(frame, p + 16)))), p, out);
        p += Math.max(19, u16(frame, p + 16));
      }
    }
  }
  return out;
}

/** Record and block lengths of a capture file. */
export function captureLengthFields(file: Uint8Array, out: LengthField[] = []): LengthField[] {
  if (file.length < 24) return out;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    let le = true;
    for (let p = 0; p + 12 <= file.length && out.length < 600; ) {
      const type = dv.getUint32(p, le);
      if (type === 0x0a0d0d0a) le = dv.getUint32(p + 8, true) === 0x1a2b3c4d;
      const len = dv.getUint32(p + 4, le);
      out.push({ at: p + 4, size: 4, le, name: 'pcapng.blockLength' });
      if (len < 12 || p + len > file.length) break;
      out.push({ at: p + len - 4, size: 4, le, name: 'pcapng.trailingBlockLength' });
      if (type === 6) {
        out.push({ at: p + 20, size: 4, le, name: 'pcapng.epb.caplen' });
        // Options after the padded packet data: each has a 2-byte length.
        let o = p + 28 + ((dv.getUint32(p + 20, le) + 3) & ~3);
        while (o + 4 <= p + len - 4) {
          out.push({ at: o + 2, size: 2, le, name: 'pcapng.option.length' });
          o += 4 + ((dv.getUint16(o + 2, le) + 3) & ~3);
        }
      }
      p += len;
    }
    return out;
  }
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  out.push({ at: 16, size: 4, le, name: 'pcap.snaplen' });
  for (let p = 24; p + 16 <= file.length && out.length < 600; ) {
    out.push({ at: p + 8, size: 4, le, name: 'pcap.caplen' });
    out.push({ at: p + 12, size: 4, le, name: 'pcap.origlen' });
    p += 16 + dv.getUint32(p + 8, le);
  }
  return out;
}
