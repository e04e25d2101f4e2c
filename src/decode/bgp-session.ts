import {
  BGP_TYPE_NAMES,
  decodeBgpMessage,
  guessFourOctetAs,
  negotiateOptions,
  type BgpCodecOptions,
  type BgpMessage,
  type OpenMessage,
} from '../../codecs/bgp/index.js';
import { DecodeError } from '../../codecs/util/errors.js';
import { toLayerError } from './dissect.js';
import type { LayerError } from './types.js';

/**
 * What one BGP connection in a capture negotiated, so each direction's UPDATEs are decoded
 * the way the receiver reads them: 4-octet AS_PATH, ADD-PATH per family, extended messages,
 * multiple labels. With both OPENs in the capture the codec's `negotiateOptions` decides;
 * without them (a capture started mid-session) the AS size is guessed per UPDATE from the
 * AS_PATH as Wireshark does, and ADD-PATH is assumed when the UPDATE only parses with path ids.
 */

export interface DecodedBgpMessage {
  /** Message type name (open, update, notification, keepalive, route-refresh) or the raw type. */
  type: string;
  length: number;
  /** Set when the message spans several TCP segments: all their frames, in stream order. */
  frames?: number[];
  /** The capture ended before the message did. */
  truncated?: boolean;
  /** How the session options were known: from both OPENs, or guessed from the message. */
  options?: { source: 'open' | 'guess'; fourOctetAs: boolean; addPath?: boolean; extendedMessage?: boolean };
  /** The decoded message (fields of BgpMessage, minus `type`). */
  message?: Omit<BgpMessage, 'type'>;
  /** RFC 7606 handling a receiver would apply to a malformed UPDATE. */
  action?: string;
  errors?: LayerError[];
  /** The message bytes, kept when it could not be decoded. */
  raw?: Uint8Array;
}

interface DirectionState {
  open?: OpenMessage;
  guessedFourOctet?: boolean;
  guessedAddPath?: boolean;
}

export class BgpConnection {
  private readonly dirs = new Map<string, DirectionState>();

  private dir(key: string): DirectionState {
    let d = this.dirs.get(key);
    if (!d) this.dirs.set(key, (d = {}));
    return d;
  }

  /** Decode one framed message sent on direction `from` (towards `to`). */
  decode(bytes: Uint8Array, from: string, to: string): DecodedBgpMessage {
    const typeCode = bytes[18] ?? 0;
    const out: DecodedBgpMessage = { type: typeName(typeCode), length: bytes.length };
    const sender = this.dir(from);
    const receiver = this.dir(to);
    let opts: BgpCodecOptions;
    let source: 'open' | 'guess';
    if (sender.open && receiver.open) {
      opts = negotiateOptions(receiver.open, sender.open);
      source = 'open';
    } else {
      const body = bytes.subarray(19);
      const g = typeCode === 2 ? guessFourOctetAs(body) : undefined;
      if (g !== undefined) sender.guessedFourOctet = g;
      // Without the OPENs nothing limits the length: accept what the framing accepted.
      opts = { fourOctetAs: sender.guessedFourOctet ?? false, extendedMessage: true };
      if (sender.guessedAddPath) opts.addPath = () => true;
      source = 'guess';
    }
    let msg: BgpMessage;
    try {
      msg = decodeBgpMessage(bytes, 0, opts, { mode: 'lenient' });
      const errs = nlriErrors(msg);
      if (source === 'guess' && errs > 0 && !sender.guessedAddPath) {
        // Maybe ADD-PATH was negotiated in OPENs we did not see: keep that reading if it
        // explains more of the message (Wireshark guesses path ids per NLRI the same way).
        const withPaths: BgpCodecOptions = { ...opts, addPath: () => true };
        const alt = decodeBgpMessage(bytes, 0, withPaths, { mode: 'lenient' });
        if (nlriErrors(alt) < errs) {
          msg = alt;
          opts = withPaths;
          sender.guessedAddPath = true;
        }
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      out.errors = [toLayerError(e, 0)];
      out.raw = bytes;
      return out;
    }
    out.options = { source, fourOctetAs: opts.fourOctetAs };
    if (opts.addPath) out.options.addPath = true;
    if (opts.extendedMessage) out.options.extendedMessage = true;
    if (msg.type === 'open') sender.open = msg;
    const { type: _type, ...rest } = msg;
    if (msg.type === 'update' && msg.verdict) {
      const { type: _t, verdict, ...update } = msg;
      out.message = update;
      if (verdict.errors.length) {
        out.errors = verdict.errors.map((x) => toLayerError(x.error, 0));
        if (verdict.action) out.action = verdict.action;
      }
    } else {
      out.message = rest;
    }
    return out;
  }
}

/** Errors in the parts that ADD-PATH changes (prefix lists), the evidence for guessing it. */
function nlriErrors(m: BgpMessage): number {
  if (m.type !== 'update' || !m.verdict) return 0;
  let n = 0;
  for (const e of m.verdict.errors) if (/\.(?:withdrawn|nlri)(?:\[|\.|$)/.test(e.error.field)) n++;
  return n;
}

function typeName(code: number): string {
  const n = BGP_TYPE_NAMES[code];
  return n ? n.toLowerCase() : `type-${code}`;
}
