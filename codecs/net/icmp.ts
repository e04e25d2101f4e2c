/** ICMP for IPv4 (RFC 792). Echo messages split id/seq; others keep the 4-byte rest raw. */
import { onesSum, internetChecksum } from '../util/checksum.js';
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import type { Optional } from './types.js';

export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

export interface IcmpMessage {
  type: number;
  code: number;
  checksum: number;
  /** Checksum over the bytes present (false for a message cut short by the capture). */
  checksumOk: boolean;
  /** Echo request/reply only. */
  identifier?: number;
  sequence?: number;
  /** Every other type: the second header word (unused, pointer, gateway, next-hop MTU...). */
  restOfHeader?: number;
  /** Echo data, or the offending datagram of an error message. */
  data: Uint8Array;
}

export type IcmpInput = Optional<IcmpMessage, 'code' | 'checksum' | 'checksumOk'>;

export function isIcmpEcho(type: number): boolean {
  return type === IcmpType.ECHO_REQUEST || type === IcmpType.ECHO_REPLY;
}

export function decodeIcmp(buf: Uint8Array, offset = 0, end = buf.length): IcmpMessage {
  const r = new Reader(buf, offset, end);
  const start = r.pos;
  const type = r.u8('icmp.type');
  const code = r.u8('icmp.code');
  const checksum = r.u16('icmp.checksum');
  const checksumOk = onesSum(buf, start, r.end) === 0xffff;
  if (isIcmpEcho(type)) {
    const identifier = r.u16('icmp.identifier');
    const sequence = r.u16('icmp.sequence');
    return { type, code, checksum, checksumOk, identifier, sequence, data: r.rest() };
  }
  const restOfHeader = r.u32('icmp.restOfHeader');
  return { type, code, checksum, checksumOk, restOfHeader, data: r.rest() };
}

export function encodeIcmp(m: IcmpInput): Uint8Array {
  const w = new Writer(8 + m.data.length);
  w.u8(m.type).u8(m.code ?? 0).u16(m.checksum ?? 0);
  if (m.identifier !== undefined || m.sequence !== undefined) w.u16(m.identifier ?? 0).u16(m.sequence ?? 0);
  else w.u32(m.restOfHeader ?? 0);
  w.bytes(m.data);
  if (m.checksum === undefined) w.patchU16(2, internetChecksum(w.view()));
  return w.finish();
}
