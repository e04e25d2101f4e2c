/**
 * NOTIFICATION message body (RFC 4271 section 4.5) and the names of its codes.
 * Names follow tshark 4.0 (bgp.notify.major_error / minor_*), except code 7 where tshark
 * still uses the dynamic-capability draft name; we use the IANA one (RFC 7313).
 */
import type { Reader } from '../util/reader.js';
import type { Writer } from '../util/writer.js';

export interface NotificationMessage {
  code: number;
  subcode: number;
  /** Everything after the subcode, exactly as received. */
  data: Uint8Array;
  /**
   * RFC 8203/9003 shutdown communication of Cease/2 and Cease/4, when data holds a valid
   * length-prefixed UTF-8 text. Decoded for display; the encoder only uses it when `data`
   * is empty, to build the data field.
   */
  shutdownMessage?: string;
}

export const NOTIFICATION_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 0: 'Unspecific', 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    0: 'Unspecific',
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    8: 'Deprecated',
    9: 'Deprecated',
    10: 'Deprecated',
    11: 'Role Mismatch',
  },
  3: {
    0: 'Unspecific',
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  4: { 0: 'Unspecific' },
  // RFC 6608
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  // RFC 4486; 9 Hard Reset from RFC 8538, 10 BFD Down from RFC 9384
  6: {
    0: 'Unspecific',
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administratively Shutdown',
    3: 'Peer De-configured',
    4: 'Administratively Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 0: 'Reserved', 1: 'Invalid Message Length' },
};

export function notificationCodeName(code: number): string {
  return NOTIFICATION_CODE_NAMES[code] ?? `Unknown (${code})`;
}

export function notificationSubcodeName(code: number, subcode: number): string {
  return SUBCODE_NAMES[code]?.[subcode] ?? `Unknown (${subcode})`;
}

/** "Cease / Administratively Reset (6/4)". */
export function notificationName(code: number, subcode: number): string {
  return `${notificationCodeName(code)} / ${notificationSubcodeName(code, subcode)} (${code}/${subcode})`;
}

const CEASE = 6;
const isShutdown = (code: number, subcode: number) => code === CEASE && (subcode === 2 || subcode === 4);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeNotification(r: Reader): NotificationMessage {
  const code = r.u8('bgp.notification.code');
  const subcode = r.u8('bgp.notification.subcode');
  const data = r.rest();
  const m: NotificationMessage = { code, subcode, data };
  if (isShutdown(code, subcode) && data.length > 0 && data[0] === data.length - 1) {
    // A peer may send any bytes here: only valid UTF-8 (RFC 9003) is shown as text.
    try {
      m.shutdownMessage = utf8.decode(data.subarray(1));
    } catch {
      // not text: data stays as the raw bytes
    }
  }
  return m;
}

export function encodeNotification(w: Writer, m: NotificationMessage): void {
  w.u8(m.code).u8(m.subcode);
  if (m.data.length > 0 || m.shutdownMessage === undefined) {
    w.bytes(m.data);
    return;
  }
  let text = Buffer.from(m.shutdownMessage, 'utf8');
  // RFC 9003: at most 255 bytes; cut on a character boundary so the text stays valid UTF-8.
  if (text.length > 255) {
    let end = 255;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  w.u8(text.length).bytes(text);
}
