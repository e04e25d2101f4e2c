/**
 * Whole BGP messages: header + body, as a union discriminated by `type`.
 */
import { Reader } from '../util/reader.js';
import { Writer } from '../util/writer.js';
import { DecodeError } from '../util/errors.js';
import { BgpType, beginMessage, decodeHeader, endMessage } from './header.js';
import { decodeOpen, encodeOpen, type OpenMessage } from './open.js';
import { decodeUpdate, decodeUpdateStrict, encodeUpdate, type UpdateMessage, type UpdateVerdict } from './update.js';
import { decodeNotification, encodeNotification, type NotificationMessage } from './notification.js';
import { decodeRouteRefresh, encodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import type { BgpCodecOptions } from './options.js';

export type { BgpCodecOptions } from './options.js';
export { negotiateOptions } from './options.js';

export type BgpMessage =
  | ({ type: 'open' } & OpenMessage)
  /** `verdict` is set by lenient decoding only (RFC 7606 outcome); the encoder ignores it. */
  | ({ type: 'update'; verdict?: UpdateVerdict } & UpdateMessage)
  | ({ type: 'notification' } & NotificationMessage)
  | { type: 'keepalive' }
  | ({ type: 'route-refresh' } & RouteRefreshMessage);

export type BgpMessageType = BgpMessage['type'];

export interface DecodeMessageOptions {
  /**
   * 'strict' (default, for tools): any malformation throws. 'lenient' (for the session):
   * an UPDATE comes back with its RFC 7606 verdict instead of throwing.
   */
  mode?: 'strict' | 'lenient';
}

/**
 * Decodes the message at `offset` (header included). Throws only DecodeError. The message
 * must be complete in `buf` (frame with `bgpMessageLength` first).
 */
export function decodeBgpMessage(buf: Uint8Array, offset: number, opts: BgpCodecOptions, how: DecodeMessageOptions = {}): BgpMessage {
  const r = new Reader(buf, offset);
  try {
    const h = decodeHeader(r, opts.extendedMessage === true);
    const body = r.sub(h.length - 19, 'bgp.body');
    switch (h.type) {
      case BgpType.OPEN:
        return { type: 'open', ...decodeOpen(body) };
      case BgpType.UPDATE: {
        if (how.mode === 'lenient') {
          const { update, verdict } = decodeUpdate(body, opts);
          return { type: 'update', ...update, verdict };
        }
        return { type: 'update', ...decodeUpdateStrict(body, opts) };
      }
      case BgpType.NOTIFICATION:
        return { type: 'notification', ...decodeNotification(body) };
      case BgpType.KEEPALIVE:
        return { type: 'keepalive' };
      default:
        return { type: 'route-refresh', ...decodeRouteRefresh(body) };
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError('bgp', r.pos, `internal decoder error: ${String(e)}`, { code: 1, subcode: 0 });
  }
}

const TYPE_CODE: Readonly<Record<BgpMessageType, number>> = {
  open: BgpType.OPEN,
  update: BgpType.UPDATE,
  notification: BgpType.NOTIFICATION,
  keepalive: BgpType.KEEPALIVE,
  'route-refresh': BgpType.ROUTE_REFRESH,
};

/** Appends the message to `w` (for batching several messages into one TCP write). */
export function writeBgpMessage(w: Writer, msg: BgpMessage, opts: BgpCodecOptions): void {
  const start = beginMessage(w, TYPE_CODE[msg.type]);
  switch (msg.type) {
    case 'open':
      encodeOpen(w, msg);
      break;
    case 'update':
      encodeUpdate(w, msg, opts);
      break;
    case 'notification':
      encodeNotification(w, msg);
      break;
    case 'keepalive':
      break;
    case 'route-refresh':
      encodeRouteRefresh(w, msg);
      break;
  }
  endMessage(w, start, opts.extendedMessage === true);
}

export function encodeBgpMessage(msg: BgpMessage, opts: BgpCodecOptions): Uint8Array {
  // UPDATEs are packed up to the 4096-byte limit: starting there saves five regrowths each.
  const w = new Writer(msg.type === 'keepalive' ? 19 : msg.type === 'update' ? 4096 : 256);
  writeBgpMessage(w, msg, opts);
  // A plain Uint8Array (not a Buffer) so decoded copies compare equal to built values.
  return w.view().slice();
}

/**
 * For captures without the OPEN: does this UPDATE body use 4-octet ASes? Like Wireshark,
 * reads AS_PATH both ways and keeps the reading that uses up the attribute exactly.
 * When both fit, a 2-octet reading containing AS 0 (the high half of a small 4-octet AS)
 * means 4 octets. An AS4_PATH means a 2-octet session (RFC 6793 sends it only there).
 * Returns undefined when the body has no AS_PATH or it cannot tell (e.g. an empty path).
 */
export function guessFourOctetAs(updateBody: Uint8Array): boolean | undefined {
  try {
    const r = new Reader(updateBody);
    r.skip(r.u16('withdrawnLength'), 'withdrawn');
    const ar = r.sub(r.u16('attrLength'), 'attributes');
    let asPath: Uint8Array | undefined;
    while (!ar.atEnd()) {
      const flags = ar.u8('flags');
      const code = ar.u8('code');
      const len = flags & 0x10 ? ar.u16('length') : ar.u8('length');
      const value = ar.bytes(len, 'value');
      if (code === 17) return false;
      if (code === 2 && asPath === undefined) asPath = value;
    }
    if (asPath === undefined || asPath.length === 0) return undefined;
    const two = segmentsFit(asPath, 2);
    const four = segmentsFit(asPath, 4);
    if (two === 'no') return four === 'no' ? undefined : true;
    if (four === 'no') return false;
    return two === 'fits-with-zero' ? true : false;
  } catch {
    return undefined;
  }
}

function segmentsFit(b: Uint8Array, size: 2 | 4): 'no' | 'fits' | 'fits-with-zero' {
  let p = 0;
  let zero = false;
  while (p < b.length) {
    if (p + 2 > b.length) return 'no';
    const type = b[p]!;
    const count = b[p + 1]!;
    if (type < 1 || type > 4 || count === 0) return 'no';
    p += 2;
    if (p + count * size > b.length) return 'no';
    if (size === 2) for (let i = 0; i < count; i++) if (b[p + 2 * i] === 0 && b[p + 2 * i + 1] === 0) zero = true;
    p += count * size;
  }
  return zero ? 'fits-with-zero' : 'fits';
}
