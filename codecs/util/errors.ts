/**
 * The one error a decoder may throw. Every codec in codecs/ reports malformed input through it,
 * so callers (the BGP speaker, the XMPP server, `weft decode`) can turn it into a NOTIFICATION,
 * a stream error or a printed diagnostic without guessing what went wrong.
 */

/** BGP NOTIFICATION that a malformation maps to (RFC 4271 section 6, RFC 7606). */
export interface NotificationHint {
  code: number;
  subcode: number;
  /** The data field the NOTIFICATION should carry (e.g. the offending attribute). */
  data?: Uint8Array;
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';

  constructor(
    /** Dotted path of the field that could not be read, e.g. `bgp.update.attr[3].length`. */
    readonly field: string,
    /** Absolute byte offset in the buffer handed to the decoder. */
    readonly offset: number,
    readonly reason: string,
    readonly notification?: NotificationHint,
  ) {
    super(`${field} at offset ${offset}: ${reason}`);
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError;
}
