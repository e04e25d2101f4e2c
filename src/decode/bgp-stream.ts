import { bgpMessageLength } from '../../codecs/bgp/header.js';
import { DecodeError } from '../../codecs/util/errors.js';
import type { ReassemblyEvent } from './tcp-reassembly.js';
import { SegmentMap } from './tcp-reassembly.js';

/**
 * Cuts one direction of a reassembled TCP stream into BGP messages. Framing rests on the
 * header's length. Where the next boundary is unknown (a capture that starts mid-stream,
 * bytes lost in a gap) the stream is scanned for the 16-byte all-ones marker followed by a
 * plausible length and type, which is what the marker is for. After a broken header the rest
 * of the data at hand is dropped and the scan starts again at the next segment, as tshark
 * starts again at the next PDU: scanning inside a corrupt message would turn its bytes into
 * phantom messages.
 */

export type BgpStreamItem =
  | {
      kind: 'message';
      /** The whole message (header included): a view when it came in one piece. */
      bytes: Uint8Array;
      /** Stream offset of its first byte. */
      offset: number;
      /** Frame whose segment completed it: where it is shown. */
      frame: number;
      /** Every frame that supplied bytes of it, in stream order. */
      frames: number[];
      /** The stream ended before the message did: `bytes` is what there was. */
      truncated?: boolean;
    }
  | {
      /** Bytes before the first marker of a stream captured mid-way (tshark: "Continuation"). */
      kind: 'continuation';
      frame: number;
      frames: number[];
      length: number;
    }
  | {
      kind: 'error';
      frame: number;
      frames: number[];
      error: DecodeError;
    };

export interface BgpStreamOptions {
  /** The capture did not see the SYN: the first bytes may be the tail of a message. */
  midStream?: boolean;
}

const MARKER_LEN = 16;
const HEADER_LEN = 19;

type State =
  /** At a message boundary (or inside a message whose header was read). */
  | 'framing'
  /** Looking for a marker. */
  | 'hunting'
  /** After a broken header: ignore the data at hand, hunt from the next segment. */
  | 'discarding';

function plausibleHeaderAt(b: Uint8Array, i: number): boolean {
  for (let k = 0; k < MARKER_LEN; k++) if (b[i + k] !== 0xff) return false;
  const len = (b[i + 16]! << 8) | b[i + 17]!;
  const type = b[i + 18]!;
  return len >= HEADER_LEN && type >= 1 && type <= 5;
}

export class BgpStream {
  /** Bytes of an incomplete message (or being scanned for a marker). */
  private buf = new Uint8Array(0);
  private len = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  private state: State;
  /** The current hunt is the one at the start of a mid-stream capture. */
  private continuation: boolean;
  /** Stream offset where the current hunt began (bytes from there on are skipped). */
  private huntFrom = 0;
  private started = false;
  private readonly segments = new SegmentMap();

  constructor(opts: BgpStreamOptions = {}) {
    this.state = opts.midStream ? 'hunting' : 'framing';
    this.continuation = opts.midStream === true;
  }

  /** Feed one reassembly event; returns the messages and errors it completes. */
  push(ev: ReassemblyEvent): BgpStreamItem[] {
    const out: BgpStreamItem[] = [];
    if (ev.kind === 'gap') {
      this.onGap(ev.at, ev.offset, ev.missing, out);
      return out;
    }
    if (ev.kind !== 'data') return out;
    if (!this.started) {
      this.started = true;
      this.huntFrom = ev.offset;
    }
    this.segments.add(ev.frame, ev.offset, ev.bytes.length);
    if (this.state === 'discarding') {
      this.state = 'hunting';
      this.huntFrom = ev.offset;
    }
    if (this.len === 0) {
      // Fast path: cut whole messages straight out of the segment, copy only the remainder.
      const used = this.cut(ev.bytes, ev.offset, ev.at, out, ev.bytes.length);
      this.base = ev.offset + used;
      if (used < ev.bytes.length) this.append(ev.bytes.subarray(used));
    } else {
      this.append(ev.bytes);
      this.consume(this.cut(this.buf, this.base, ev.at, out, this.len));
    }
    this.segments.release(this.state === 'hunting' ? Math.min(this.base, this.huntFrom) : this.base);
    return out;
  }

  /**
   * End of stream. A message whose header arrived but not all of its body is handed out as
   * truncated (tshark also shows such a message, flagged malformed); other leftovers are errors.
   */
  end(lastFrame: number): BgpStreamItem[] {
    if (this.len === 0) return [];
    const from = this.state === 'hunting' ? this.huntFrom : this.base;
    const to = this.base + this.len;
    const frames = this.segments.framesFor(from, to);
    const frame = frames.length ? Math.max(...frames) : lastFrame;
    const len = this.len;
    this.len = 0;
    if (this.state === 'framing' && len >= HEADER_LEN) {
      return [{ kind: 'message', bytes: this.buf.slice(0, len), offset: this.base, frame, frames, truncated: true }];
    }
    const reason = this.state === 'hunting' ? `${to - from} bytes without a BGP marker at the end of the stream` : `stream ended inside a BGP header (${len} bytes of it captured)`;
    return [{ kind: 'error', frame, frames, error: new DecodeError('bgp', 0, reason) }];
  }

  private onGap(frame: number, offset: number, missing: number, out: BgpStreamItem[]): void {
    const frames = this.segments.framesFor(this.base, this.base + this.len);
    const inside = this.len > 0 && this.state === 'framing' ? ` inside a message (${this.len} bytes of it captured before)` : '';
    out.push({
      kind: 'error',
      frame,
      frames: frames.length ? [...frames, frame] : [frame],
      error: new DecodeError('tcp.segment', 0, `missing ${missing} bytes${inside}: looking for the next BGP marker`),
    });
    this.len = 0;
    this.base = offset;
    this.started = true;
    this.state = 'hunting';
    this.continuation = false;
    this.huntFrom = offset;
  }

  /**
   * Cut messages from b[0..end) (b[0] at stream offset `at`); returns how many bytes were
   * consumed. `frame` is the frame being processed.
   */
  private cut(b: Uint8Array, at: number, frame: number, out: BgpStreamItem[], end: number): number {
    let p = 0;
    for (;;) {
      if (this.state === 'discarding') return end;
      if (this.state === 'hunting') {
        const found = this.hunt(b, p, end);
        // Keep the last bytes when nothing is found: a marker may straddle two segments.
        if (found < 0) return Math.max(p, end - (HEADER_LEN - 1));
        const foundAt = at + found;
        if (foundAt > this.huntFrom) {
          const frames = this.segments.framesFor(this.huntFrom, foundAt);
          const length = foundAt - this.huntFrom;
          out.push(
            this.continuation
              ? { kind: 'continuation', frame, frames, length }
              : { kind: 'error', frame, frames, error: new DecodeError('bgp.marker', 0, `skipped ${length} bytes to resynchronise on a BGP marker`) },
          );
        }
        p = found;
        this.state = 'framing';
        this.continuation = false;
      }
      const avail = end - p;
      if (avail < HEADER_LEN) return p;
      let length: number | undefined;
      try {
        // Extended lengths are allowed while framing; the decoder judges them against what
        // was negotiated, and the framing stays sound either way.
        length = bgpMessageLength(b.subarray(p, end), 0, true);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        const frames = this.segments.framesFor(at + p, at + end);
        const dropped = end - p;
        out.push({
          kind: 'error',
          frame,
          frames,
          error: new DecodeError(e.field, e.offset, `${e.reason}; ${dropped} bytes skipped, framing resumes at the next segment`, e.notification),
        });
        this.state = 'discarding';
        return end;
      }
      if (length === undefined || avail < length) return p;
      const from = at + p;
      const frames = this.segments.framesFor(from, from + length);
      // Our own buffer is reused by the next append: copy out of it; segment views are stable.
      const bytes = b === this.buf ? b.slice(p, p + length) : b.subarray(p, p + length);
      out.push({ kind: 'message', bytes, offset: from, frame, frames });
      p += length;
    }
  }

  /** Index of the first plausible header in b[from..end), or -1. */
  private hunt(b: Uint8Array, from: number, end: number): number {
    for (let i = from; i + HEADER_LEN <= end; i++) {
      if (b[i] === 0xff && plausibleHeaderAt(b, i)) return i;
    }
    return -1;
  }

  private append(bytes: Uint8Array): void {
    const need = this.len + bytes.length;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2, 4096));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(bytes, this.len);
    this.len = need;
  }

  private consume(n: number): void {
    if (n === 0) return;
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.base += n;
  }
}
