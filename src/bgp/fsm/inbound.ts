/**
 * Turns what the codec hands the adapter (a decoded message or a DecodeError) into the FSM
 * event RFC 4271 section 8.1.5 names for it. UPDATEs should be decoded in 'lenient' mode so
 * their RFC 7606 verdict decides between UpdateMsg and UpdateMsgErr.
 */
import type { DecodeError, NotificationHint } from '../../../codecs/util/errors.js';
import type { FsmEvent } from './events.js';
import type { BgpMessage } from './messages.js';
import { ErrorCode, OpenSubcode } from './notification.js';

/** RFC 4271 6.3 names no subcode for "malformed in general": 3/0 is the unspecific one. */
const UNSPECIFIC_UPDATE: NotificationHint = { code: ErrorCode.UpdateMessage, subcode: 0 };

/** Header errors without a more precise hint are reported as 1/0 (unspecific, RFC 4271 4.5). */
const UNSPECIFIC_HEADER: NotificationHint = { code: ErrorCode.MessageHeader, subcode: 0 };

export function eventForMessage(m: BgpMessage): FsmEvent {
  switch (m.type) {
    case 'open':
      return { type: 'BGPOpen', message: m };
    case 'update': {
      // RFC 7606: a lenient decode says what the UPDATE's errors call for. AFI/SAFI disable is
      // optional and not done here, so it falls back to a session reset as the RFC allows.
      const action = m.verdict?.action;
      if (action === 'session-reset' || action === 'afi-safi-disable') {
        return { type: 'UpdateMsgErr', error: m.verdict?.notification ?? UNSPECIFIC_UPDATE };
      }
      return { type: 'UpdateMsg', message: m };
    }
    case 'keepalive':
      return { type: 'KeepAliveMsg' };
    case 'route-refresh':
      return { type: 'RouteRefreshMsg', message: m };
    case 'notification':
      // Event 24: the peer refuses our version; the RFC lets a speaker retry with another.
      if (m.code === ErrorCode.OpenMessage && m.subcode === OpenSubcode.UnsupportedVersion) {
        return { type: 'NotifMsgVerErr', message: m };
      }
      return { type: 'NotifMsg', message: m };
  }
}

export function eventForDecodeError(err: DecodeError): FsmEvent {
  const hint = err.notification ?? UNSPECIFIC_HEADER;
  switch (hint.code) {
    case ErrorCode.OpenMessage:
      return { type: 'BGPOpenMsgErr', error: hint };
    case ErrorCode.UpdateMessage:
      return { type: 'UpdateMsgErr', error: hint };
    default:
      // Header errors, and ROUTE-REFRESH errors (7/x, RFC 7313): the session ends with the hint.
      return { type: 'BGPHeaderErr', error: hint };
  }
}
