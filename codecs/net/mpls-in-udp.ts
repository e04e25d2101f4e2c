/** MPLS in UDP (RFC 7510): ports, a datagram builder and the source-port entropy rule. */
import { Writer } from '../util/writer.js';
import { encodeMplsLabels, type MplsInput } from './mpls.js';
import { udpChecksum } from './udp.js';
import { addressBytes, type IpAddress } from './transport-checksum.js';

/** IANA port for MPLS-in-UDP. */
export const MPLS_IN_UDP_PORT = 6635;
/** Port older Contrail vRouters use for MPLSoUDP; `weft decode` treats it as MPLSoUDP too. */
export const MPLS_IN_UDP_CONTRAIL_PORT = 51234;
/** RFC 7510 section 3: entropy source ports come from the dynamic range. */
export const ENTROPY_PORT_MIN = 49152;
export const ENTROPY_PORT_MAX = 65535;

export function isMplsInUdpPort(port: number): boolean {
  return port === MPLS_IN_UDP_PORT || port === MPLS_IN_UDP_CONTRAIL_PORT;
}

export interface MplsInUdpInput {
  srcPort: number;
  /** Defaults to 6635. */
  dstPort?: number;
  labels: MplsInput['labels'];
  /** What follows the label stack (an IP packet or, for L2, an Ethernet frame). */
  payload: Uint8Array;
  /** With both addresses the UDP checksum is computed; without, it is 0 (allowed for IPv4). */
  srcIp?: IpAddress;
  dstIp?: IpAddress;
}

/** The whole UDP datagram (8-byte header, label stack, payload): the IP payload to send. */
export function encodeMplsInUdp(m: MplsInUdpInput): Uint8Array {
  const length = 8 + 4 * m.labels.length + m.payload.length;
  const w = new Writer(length);
  w.u16(m.srcPort).u16(m.dstPort ?? MPLS_IN_UDP_PORT).u16(length).u16(0);
  encodeMplsLabels(m.labels, w);
  w.bytes(m.payload);
  if (m.srcIp !== undefined && m.dstIp !== undefined) w.patchU16(6, udpChecksum(m.srcIp, m.dstIp, w.view()));
  return w.finish();
}

/**
 * RFC 7510 section 3: the source port carries a hash of the inner flow so that ECMP spreads
 * flows while keeping each one on a path; it is taken from 49152-65535.
 */
export function mplsInUdpSourcePort(flowHash: number): number {
  return ENTROPY_PORT_MIN + ((flowHash >>> 0) % (ENTROPY_PORT_MAX - ENTROPY_PORT_MIN + 1));
}

export interface FlowKey {
  src: IpAddress;
  dst: IpAddress;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  return h;
}

/**
 * FNV-1a over the inner 5-tuple, then murmur3's fmix32: the same on every host and run, which
 * ECMP needs. Text and byte forms of an address hash alike. The finalizer matters: FNV-1a's
 * low bit is the parity of the input's low bits, and Linux gives connect() even source ports,
 * so without it `hash % 2` would send every connection of a client to the same ECMP member.
 */
export function flowHash(k: FlowKey): number {
  let h = fnv(FNV_OFFSET, addressBytes(k.src));
  h = fnv(h, addressBytes(k.dst));
  const sp = k.srcPort ?? 0;
  const dp = k.dstPort ?? 0;
  h = fnv(h, Uint8Array.of(k.protocol, sp >>> 8, sp & 0xff, dp >>> 8, dp & 0xff));
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
