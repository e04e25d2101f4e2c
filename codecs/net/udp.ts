/** UDP (RFC 768). */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { transportChecksum, transportChecksumOk, type IpAddress } from './transport-checksum.js';
import { EMPTY, type Optional } from './types.js';

const PROTO_UDP = 17;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  length: number;
  /** 0 means the sender computed none (allowed over IPv4, and for MPLSoUDP/VXLAN over IPv6). */
  checksum: number;
  /** The length - 8 bytes after the header (fewer when `truncated`). */
  payload: Uint8Array;
  /** Bytes after `length` (an IP packet longer than its UDP datagram). */
  trailer: Uint8Array;
  truncated: boolean;
}

export type UdpInput = Optional<UdpDatagram, 'length' | 'checksum' | 'trailer' | 'truncated'>;

export function decodeUdp(buf: Uint8Array, offset = 0, end = buf.length): UdpDatagram {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const srcPort = r.u16('udp.srcPort');
  const dstPort = r.u16('udp.dstPort');
  const length = r.u16('udp.length');
  if (length < 8) r.fail('udp.length', `length ${length} is below the 8-byte header`, undefined, start + 4);
  const checksum = r.u16('udp.checksum');
  if (length - 8 <= r.remaining) {
    const payload = r.bytes(length - 8, 'udp.payload');
    return { srcPort, dstPort, length, checksum, payload, trailer: r.rest(), truncated: false };
  }
  return { srcPort, dstPort, length, checksum, payload: r.rest(), trailer: EMPTY, truncated: true };
}

/** Checksum for a whole datagram (header + payload, any checksum already in it ignored). */
export function udpChecksum(srcIp: IpAddress, dstIp: IpAddress, udpBytes: Uint8Array): number {
  const c = transportChecksum(srcIp, dstIp, PROTO_UDP, udpBytes, 6);
  // RFC 768: a computed 0 goes on the wire as all ones, since 0 means "no checksum".
  return c === 0 ? 0xffff : c;
}

/** undefined when the datagram carries no checksum (0). */
export function udpChecksumOk(srcIp: IpAddress, dstIp: IpAddress, udpBytes: Uint8Array): boolean | undefined {
  if (udpBytes.length < 8) return false;
  if (udpBytes[6] === 0 && udpBytes[7] === 0) return undefined;
  return transportChecksumOk(srcIp, dstIp, PROTO_UDP, udpBytes);
}

/**
 * Without `ip` an undefined checksum is written as 0 (none); with it, it is computed over the
 * pseudo-header of those addresses.
 */
export function encodeUdp(u: UdpInput, ip?: { src: IpAddress; dst: IpAddress }): Uint8Array {
  const trailer = u.trailer ?? EMPTY;
  const w = new Writer(8 + u.payload.length + trailer.length);
  w.u16(u.srcPort).u16(u.dstPort).u16(u.length ?? 8 + u.payload.length).u16(u.checksum ?? 0);
  w.bytes(u.payload);
  if (u.checksum === undefined && ip) w.patchU16(6, udpChecksum(ip.src, ip.dst, w.view(0, w.pos)));
  w.bytes(trailer);
  return w.finish();
}
