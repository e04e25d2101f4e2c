/**
 * The 19-byte BGP message header (RFC 4271 section 4.1) and stream framing.
 */
import { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';
import { copyBytes } from './bytes.js';

export const BGP_HEADER_LEN = 19;
export const BGP_MAX_LEN = 4096;
/** RFC 8654: once the Extended Message capability is exchanged both ways. */
export const BGP_EXTENDED_MAX_LEN = 65535;

export const BgpType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

export const BGP_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

/** Smallest legal length per type (RFC 4271 section 6.1); ROUTE-REFRESH from RFC 2918. */
const MIN_LEN: Readonly<Record<number, number>> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export interface BgpHeader {
  /** Always 16 x 0xff once decoded (anything else is rejected), kept for display. */
  marker: Uint8Array;
  length: number;
  type: number;
}

function lengthField(buf: Uint8Array, offset: number): Uint8Array {
  return copyBytes(buf, offset + 16, offset + 18);
}

/**
 * Length of the message starting at `offset`, for cutting a TCP byte stream into messages.
 * Returns undefined while fewer than 19 bytes are buffered. Throws a DecodeError for a bad
 * marker (1/1) or an impossible length (1/2) because a framer cannot resynchronise after
 * either: the session has to be reset.
 */
export function bgpMessageLength(buf: Uint8Array, offset = 0, extendedMessage = false): number | undefined {
  if (buf.length - offset < BGP_HEADER_LEN) return undefined;
  const r = new Reader(buf, offset);
  checkMarker(r);
  const length = r.u16('bgp.length');
  const max = extendedMessage ? BGP_EXTENDED_MAX_LEN : BGP_MAX_LEN;
  if (length < BGP_HEADER_LEN || length > max) {
    r.fail('bgp.length', `length ${length} outside ${BGP_HEADER_LEN}..${max}`, { code: 1, subcode: 2, data: lengthField(buf, offset) }, offset + 16);
  }
  return length;
}

function checkMarker(r: Reader): Uint8Array {
  const start = r.pos;
  const marker = r.bytes(16, 'bgp.marker');
  for (let i = 0; i < 16; i++) {
    if (marker[i] !== 0xff) r.fail('bgp.marker', 'marker is not all ones', { code: 1, subcode: 1 }, start + i);
  }
  return marker;
}

/**
 * Reads and validates the header. A length beyond the reader's window is a truncated message
 * (1/2 as well: the length field lies about what follows).
 */
export function decodeHeader(r: Reader, extendedMessage = false): BgpHeader {
  const start = r.pos;
  if (r.remaining < BGP_HEADER_LEN) r.fail('bgp.header', `needs ${BGP_HEADER_LEN} bytes, ${r.remaining} left`, { code: 1, subcode: 2 });
  const marker = checkMarker(r);
  const length = r.u16('bgp.length');
  const type = r.u8('bgp.type');
  const max = extendedMessage ? BGP_EXTENDED_MAX_LEN : BGP_MAX_LEN;
  const badLength = { code: 1, subcode: 2, data: lengthField(r.buf, start) };
  if (length < BGP_HEADER_LEN || length > max) {
    r.fail('bgp.length', `length ${length} outside ${BGP_HEADER_LEN}..${max}`, badLength, start + 16);
  }
  const min = MIN_LEN[type];
  if (min === undefined) r.fail('bgp.type', `unknown message type ${type}`, { code: 1, subcode: 3, data: Uint8Array.of(type) }, start + 18);
  if (length < min || (type === BgpType.KEEPALIVE && length !== BGP_HEADER_LEN)) {
    r.fail('bgp.length', `length ${length} is wrong for a ${BGP_TYPE_NAMES[type]} message`, badLength, start + 16);
  }
  if (start + length > r.end) {
    r.fail('bgp.length', `message of ${length} bytes truncated to ${r.end - start}`, badLength, start + 16);
  }
  return { marker, length, type };
}

/** Writes marker, a length placeholder and the type; returns where the message starts. */
export function beginMessage(w: Writer, type: number): number {
  const start = w.pos;
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.u16(0).u8(type);
  return start;
}

/** Patches the length of the message begun at `start` and checks it against the maximum. */
export function endMessage(w: Writer, start: number, extendedMessage = false): void {
  const length = w.pos - start;
  const max = extendedMessage ? BGP_EXTENDED_MAX_LEN : BGP_MAX_LEN;
  // Sending an oversized message would get us a NOTIFICATION: refuse it here instead.
  if (length > max) throw new RangeError(`BGP message of ${length} bytes exceeds ${max}`);
  w.patchU16(start + 16, length);
}
