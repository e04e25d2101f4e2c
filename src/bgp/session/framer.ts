/**
 * Receive buffer of one BGP connection: TCP chunks in, whole messages out. Complete messages
 * are handed out as (buffer, offset, length) without copying; only a partial message at the end
 * of a chunk is carried over into the next one.
 */
import { bgpMessageLength } from '../../../codecs/bgp/header.js';

export class Framer {
  private pending: Uint8Array | undefined;

  /**
   * Calls `each` for every complete message, in order. `each` returns false to stop (the
   * connection was closed meanwhile); the rest of the data is then dropped. Throws the
   * DecodeError of bgpMessageLength (bad marker 1/1, impossible length 1/2).
   */
  push(chunk: Uint8Array, extendedMessage: boolean, each: (buf: Uint8Array, offset: number, length: number) => boolean): void {
    let buf = chunk;
    if (this.pending !== undefined) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      buf = joined;
      this.pending = undefined;
    }
    let off = 0;
    while (off < buf.length) {
      const len = bgpMessageLength(buf, off, extendedMessage);
      if (len === undefined || off + len > buf.length) break;
      if (!each(buf, off, len)) return;
      off += len;
    }
    // A copy: node reuses the chunk's pool memory once the handler returns.
    if (off < buf.length) this.pending = buf.slice(off);
  }

  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  clear(): void {
    this.pending = undefined;
  }
}
