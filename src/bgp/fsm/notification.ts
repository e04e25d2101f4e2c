/**
 * NOTIFICATION codes the FSM emits (RFC 4271 section 4.5 and 6, RFC 6608 FSM subcodes, RFC 4486
 * Cease subcodes) and the RFC 9003 shutdown communication carried by Cease 2 and 4.
 */
import type { NotificationMessage } from './messages.js';

export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

export const OpenSubcode = {
  UnsupportedVersion: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** RFC 6608: which state the unexpected message arrived in. */
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

export const CeaseSubcode = {
  MaxPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
} as const;

/** RFC 9003 raised the shutdown communication limit from 128 (RFC 8203) to 255 octets. */
export const SHUTDOWN_TEXT_MAX = 255;

const EMPTY = new Uint8Array(0);

export function notification(code: number, subcode: number, data: Uint8Array = EMPTY): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/**
 * Length-prefixed UTF-8 shutdown communication (RFC 9003 section 2). Text longer than 255
 * octets is cut at a character boundary so the peer never sees a broken UTF-8 sequence.
 */
export function encodeShutdownCommunication(text: string): Uint8Array {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > SHUTDOWN_TEXT_MAX) {
    let end = SHUTDOWN_TEXT_MAX;
    // Back off over continuation bytes (10xxxxxx) to the start of the cut character.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/**
 * The shutdown communication of a received Cease 2/4, or undefined when absent or malformed
 * (RFC 9003 section 4: a bad length or invalid UTF-8 must not affect the session handling).
 */
export function decodeShutdownCommunication(n: NotificationMessage): string | undefined {
  if (n.code !== ErrorCode.Cease) return undefined;
  if (n.subcode !== CeaseSubcode.AdministrativeShutdown && n.subcode !== CeaseSubcode.AdministrativeReset) {
    return undefined;
  }
  const len = n.data[0];
  if (len === undefined || len === 0 || len + 1 > n.data.length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(n.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}
