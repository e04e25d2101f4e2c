/**
 * TCP stream reassembly for the dissector, sans-IO: feed the segments of one direction in
 * capture order, get back the payload bytes in sequence order, each piece tagged with the
 * frame it came from, plus events for retransmissions, overlaps and gaps.
 *
 * Positions are kept as "stream offsets": bytes since the first sequence number seen (the SYN
 * counts as none), as unbounded numbers, so that sequence-number wrap-around is handled once,
 * here, by signed 32-bit differences.
 */

export interface TcpSegment {
  frame: number;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Uint8Array;
}

export type ReassemblyEvent =
  /**
   * In-order payload from the segment of `frame`, delivered while processing frame `at` (a
   * later one when the segment waited for a hole to fill). `bytes` is a view, never a copy.
   */
  | { kind: 'data'; frame: number; at: number; offset: number; bytes: Uint8Array }
  /** `missing` bytes before `offset` never arrived; reassembly goes on after them. */
  | { kind: 'gap'; frame: number; at: number; offset: number; missing: number }
  /** A segment whose bytes were all delivered already. */
  | { kind: 'retransmission'; frame: number; offset: number; length: number }
  /** A segment that partly repeats delivered bytes; the repeated head was dropped. */
  | { kind: 'overlap'; frame: number; offset: number; length: number }
  /** A SYN with a new initial sequence number: a new connection on the same ports. */
  | { kind: 'restart'; frame: number };

export interface ReassemblyLimits {
  /** Out-of-order segments held while waiting for a hole to fill. */
  maxPendingSegments: number;
  /** Out-of-order bytes held while waiting for a hole to fill. */
  maxPendingBytes: number;
}

export const DEFAULT_LIMITS: ReassemblyLimits = { maxPendingSegments: 1024, maxPendingBytes: 16 << 20 };

interface Pending {
  offset: number;
  frame: number;
  bytes: Uint8Array;
}

/** One direction of one TCP connection. */
export class TcpDirection {
  /** Sequence number of the next expected byte (u32), once known. */
  private nextSeq: number | undefined;
  /** Stream offset of nextSeq. */
  private nextOffset = 0;
  private isn: number | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private hasData = false;

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_LIMITS) {}

  /** Stream offset of the next byte expected in order. */
  get offset(): number {
    return this.nextOffset;
  }

  push(seg: TcpSegment): ReassemblyEvent[] {
    const out: ReassemblyEvent[] = [];
    let start = seg.seq >>> 0;
    if (seg.syn) {
      const fresh = this.isn !== undefined ? this.isn !== start : this.hasData;
      if (fresh) {
        // A fresh handshake on the same 4-tuple: whatever was pending belongs to the old one.
        this.flushInto(out);
        out.push({ kind: 'restart', frame: seg.frame });
        this.reset();
      }
      if (this.isn === undefined) {
        this.isn = start;
        this.nextSeq = (start + 1) >>> 0;
        this.nextOffset = 0;
      }
      start = (start + 1) >>> 0;
    } else if (this.nextSeq === undefined) {
      // Capture started mid-connection: the first segment seen defines offset 0.
      this.nextSeq = start;
      this.nextOffset = 0;
    }
    const len = seg.payload.length;
    if (len === 0) return out;
    const diff = (start - this.nextSeq!) | 0;
    const offset = this.nextOffset + diff;
    if (diff + len <= 0) {
      out.push({ kind: 'retransmission', frame: seg.frame, offset, length: len });
      return out;
    }
    if (diff > 0) {
      this.hold({ offset, frame: seg.frame, bytes: seg.payload });
      if (this.pending.length > this.limits.maxPendingSegments || this.pendingBytes > this.limits.maxPendingBytes) {
        this.skipGap(out, seg.frame);
      }
      return out;
    }
    this.deliver(out, seg.frame, seg.frame, offset, seg.payload);
    this.drain(out, seg.frame);
    return out;
  }

  /** End of capture: give up on the holes and deliver what is held, with gap events. */
  flush(): ReassemblyEvent[] {
    const out: ReassemblyEvent[] = [];
    this.flushInto(out);
    return out;
  }

  private flushInto(out: ReassemblyEvent[]): void {
    // At the end of the capture each held segment counts as delivered in its own frame.
    while (this.pending.length > 0) this.skipGap(out);
  }

  private reset(): void {
    this.nextSeq = undefined;
    this.nextOffset = 0;
    this.isn = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.hasData = false;
  }

  /** Deliver bytes starting at `offset` <= nextOffset, dropping the part already delivered. */
  private deliver(out: ReassemblyEvent[], frame: number, at: number, offset: number, bytes: Uint8Array): void {
    const dup = this.nextOffset - offset;
    if (dup >= bytes.length) {
      out.push({ kind: 'retransmission', frame, offset, length: bytes.length });
      return;
    }
    let b = bytes;
    if (dup > 0) {
      out.push({ kind: 'overlap', frame, offset, length: dup });
      b = bytes.subarray(dup);
    }
    out.push({ kind: 'data', frame, at: Math.max(at, frame), offset: this.nextOffset, bytes: b });
    this.hasData = true;
    this.nextOffset += b.length;
    this.nextSeq = (this.nextSeq! + b.length) >>> 0;
  }

  /** Deliver the held segments that are now in order; `at` is the frame being processed. */
  private drain(out: ReassemblyEvent[], at: number): void {
    while (this.pending.length > 0 && this.pending[0]!.offset <= this.nextOffset) {
      const p = this.pending.shift()!;
      this.pendingBytes -= p.bytes.length;
      this.deliver(out, p.frame, at, p.offset, p.bytes);
    }
  }

  private skipGap(out: ReassemblyEvent[], at = 0): void {
    const first = this.pending[0];
    if (!first) return;
    const missing = first.offset - this.nextOffset;
    if (missing > 0) {
      out.push({ kind: 'gap', frame: first.frame, at: Math.max(at, first.frame), offset: first.offset, missing });
      this.nextSeq = (this.nextSeq! + missing) >>> 0;
      this.nextOffset = first.offset;
    }
    this.drain(out, at);
  }

  private hold(p: Pending): void {
    // Insertion sort from the back: segments usually arrive nearly in order.
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.offset > p.offset) i--;
    const prev = this.pending[i - 1];
    // An exact duplicate of a held segment adds nothing.
    if (prev && prev.offset === p.offset && prev.bytes.length >= p.bytes.length) return;
    this.pending.splice(i, 0, p);
    this.pendingBytes += p.bytes.length;
  }
}

/** Text key of one direction, `src:port>dst:port` (IPv6 addresses in brackets). */
export function directionKey(src: string, srcPort: number, dst: string, dstPort: number): string {
  const a = src.includes(':') ? `[${src}]` : src;
  const b = dst.includes(':') ? `[${dst}]` : dst;
  return `${a}:${srcPort}>${b}:${dstPort}`;
}

/** Key shared by both directions of a connection (endpoints in a fixed order). */
export function connectionKey(src: string, srcPort: number, dst: string, dstPort: number): string {
  const x = directionKey(src, srcPort, dst, dstPort);
  const y = directionKey(dst, dstPort, src, srcPort);
  return x < y ? x : y;
}

/**
 * Which frames supplied which stream bytes, so that a message cut from the stream can name
 * every segment it came from and the one that completed it (tshark shows a reassembled PDU in
 * the frame of its last segment).
 */
export class SegmentMap {
  private starts: number[] = [];
  private ends: number[] = [];
  private frames: number[] = [];
  private first = 0;

  add(frame: number, offset: number, length: number): void {
    if (length <= 0) return;
    this.starts.push(offset);
    this.ends.push(offset + length);
    this.frames.push(frame);
  }

  /** Frames (in stream order, without repeats) that supplied bytes of [from, to). */
  framesFor(from: number, to: number): number[] {
    const out: number[] = [];
    for (let i = this.first; i < this.starts.length; i++) {
      if (this.starts[i]! >= to) break;
      if (this.ends[i]! <= from) continue;
      const f = this.frames[i]!;
      if (out[out.length - 1] !== f) out.push(f);
    }
    return out;
  }

  /** Forget the pieces that end at or before `offset` (they can no longer be asked about). */
  release(offset: number): void {
    while (this.first < this.starts.length && this.ends[this.first]! <= offset) this.first++;
    if (this.first > 1024 && this.first * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.first);
      this.ends = this.ends.slice(this.first);
      this.frames = this.frames.slice(this.first);
      this.first = 0;
    }
  }
}
