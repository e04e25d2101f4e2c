import { describe, expect, it } from 'vitest';
import { BgpStream, type BgpStreamItem } from '../../../src/decode/bgp-stream.js';
import { type ReassemblyEvent, type TcpSegment, SegmentMap, TcpDirection } from '../../../src/decode/tcp-reassembly.js';
import { toHex } from '../../../codecs/util/hex.js';

const seg = (frame: number, seq: number, payload: number[] | Uint8Array, flags: Partial<TcpSegment> = {}): TcpSegment => ({
  frame,
  seq,
  syn: false,
  fin: false,
  rst: false,
  payload: payload instanceof Uint8Array ? payload : Uint8Array.from(payload),
  ...flags,
});

/** Data events as [frame, offset, hex]; other events as [kind, frame, detail]. */
function show(evs: ReassemblyEvent[]): (string | number)[][] {
  return evs.map((e) => {
    switch (e.kind) {
      case 'data': return e.at === e.frame ? [e.frame, e.offset, toHex(e.bytes)] : [e.frame, e.offset, toHex(e.bytes), `at ${e.at}`];
      case 'gap': return ['gap', e.frame, e.missing];
      case 'retransmission': return ['retransmission', e.frame, e.length];
      case 'overlap': return ['overlap', e.frame, e.length];
      case 'restart': return ['restart', e.frame];
    }
  });
}

describe('TcpDirection', () => {
  it('starts after the SYN and delivers in order', () => {
    const d = new TcpDirection();
    expect(d.push(seg(1, 1000, [], { syn: true }))).toEqual([]);
    expect(show(d.push(seg(2, 1001, [1, 2, 3])))).toEqual([[2, 0, '010203']]);
    expect(show(d.push(seg(3, 1004, [4])))).toEqual([[3, 3, '04']]);
  });

  it('holds out-of-order segments until the hole fills, then delivers all in sequence order', () => {
    const d = new TcpDirection();
    d.push(seg(1, 99, [], { syn: true }));
    expect(d.push(seg(2, 103, [4, 5]))).toEqual([]);
    expect(d.push(seg(3, 105, [6]))).toEqual([]);
    expect(show(d.push(seg(4, 100, [1, 2, 3])))).toEqual([
      [4, 0, '010203'],
      [2, 3, '0405', 'at 4'],
      [3, 5, '06', 'at 4'],
    ]);
  });

  it('drops retransmissions and trims overlaps', () => {
    const d = new TcpDirection();
    d.push(seg(1, 0, [1, 2, 3, 4]));
    expect(show(d.push(seg(2, 0, [1, 2, 3, 4])))).toEqual([['retransmission', 2, 4]]);
    expect(show(d.push(seg(3, 2, [3, 4, 5, 6])))).toEqual([['overlap', 3, 2], [3, 4, '0506']]);
    // A held segment retransmitted before the hole fills is kept once.
    d.push(seg(4, 8, [9]));
    d.push(seg(5, 8, [9]));
    expect(show(d.push(seg(6, 6, [7, 8])))).toEqual([[6, 6, '0708'], [4, 8, '09', 'at 6']]);
  });

  it('handles sequence numbers that wrap past 2^32', () => {
    const d = new TcpDirection();
    d.push(seg(1, 0xfffffffe, [1, 2]));
    expect(show(d.push(seg(2, 0, [3])))).toEqual([[2, 2, '03']]);
    expect(show(d.push(seg(3, 0xffffffff, [2, 3, 4])))).toEqual([['overlap', 3, 2], [3, 3, '04']]);
  });

  it('reports a hole as a gap at flush and goes on after it', () => {
    const d = new TcpDirection();
    d.push(seg(1, 0, [1]));
    expect(d.push(seg(2, 11, [2]))).toEqual([]);
    expect(show(d.flush())).toEqual([['gap', 2, 10], [2, 11, '02']]);
    expect(show(d.push(seg(3, 12, [3])))).toEqual([[3, 12, '03']]);
  });

  it('gives up on a hole when too much is held', () => {
    const d = new TcpDirection({ maxPendingSegments: 2, maxPendingBytes: 1000 });
    d.push(seg(1, 0, [0]));
    d.push(seg(2, 5, [5]));
    d.push(seg(3, 6, [6]));
    expect(show(d.push(seg(4, 7, [7])))).toEqual([['gap', 2, 4], [2, 5, '05', 'at 4'], [3, 6, '06', 'at 4'], [4, 7, '07']]);
  });

  it('a SYN with a new ISN starts a new connection', () => {
    const d = new TcpDirection();
    d.push(seg(1, 500, [], { syn: true }));
    d.push(seg(2, 501, [1]));
    expect(show(d.push(seg(3, 9000, [], { syn: true })))).toEqual([['restart', 3]]);
    expect(show(d.push(seg(4, 9001, [2])))).toEqual([[4, 0, '02']]);
  });
});

describe('SegmentMap', () => {
  it('names the frames that supplied a byte range', () => {
    const m = new SegmentMap();
    m.add(1, 0, 10);
    m.add(2, 10, 10);
    m.add(5, 20, 10);
    expect(m.framesFor(5, 25)).toEqual([1, 2, 5]);
    expect(m.framesFor(10, 20)).toEqual([2]);
    m.release(20);
    expect(m.framesFor(0, 30)).toEqual([5]);
  });
});

// BGP messages for the framer tests.
const KEEPALIVE = Uint8Array.from([...Array(16).fill(0xff), 0, 19, 4]);
function update(bodyLen: number): Uint8Array {
  const len = 19 + 4 + bodyLen;
  // withdrawn length 0, path attribute length bodyLen, then bodyLen filler bytes.
  return Uint8Array.from([...Array(16).fill(0xff), len >> 8, len & 0xff, 2, 0, 0, bodyLen >> 8, bodyLen & 0xff, ...Array(bodyLen).fill(0x40)]);
}
const cat = (...p: Uint8Array[]) => Uint8Array.from(Buffer.concat(p));

function run(segments: TcpSegment[], flush = true, midStream = false): BgpStreamItem[] {
  const d = new TcpDirection();
  const s = new BgpStream({ midStream });
  const out: BgpStreamItem[] = [];
  for (const g of segments) for (const ev of d.push(g)) out.push(...s.push(ev));
  if (flush) {
    for (const ev of d.flush()) out.push(...s.push(ev));
    out.push(...s.end(segments.at(-1)?.frame ?? 0));
  }
  return out;
}

const summary = (items: BgpStreamItem[]) =>
  items.map((i) =>
    i.kind === 'message'
      ? { frame: i.frame, frames: i.frames, len: i.bytes.length }
      : i.kind === 'error'
        ? { frame: i.frame, frames: i.frames, error: i.error.reason }
        : { frame: i.frame, frames: i.frames, continuation: i.length },
  );

describe('BgpStream over reassembled segments', () => {
  it('two messages in one segment are both shown in that frame', () => {
    const items = run([seg(7, 1, cat(KEEPALIVE, update(10)))]);
    expect(summary(items)).toEqual([
      { frame: 7, frames: [7], len: 19 },
      { frame: 7, frames: [7], len: 33 },
    ]);
    const second = items[1]!;
    expect(second.kind === 'message' && toHex(second.bytes)).toBe(toHex(update(10)));
  });

  it('a message split across three segments is shown in the last one and names all three', () => {
    const m = update(100);
    const items = run([seg(3, 1, m.subarray(0, 10)), seg(4, 11, m.subarray(10, 60)), seg(6, 61, cat(m.subarray(60), KEEPALIVE))]);
    expect(summary(items)).toEqual([
      { frame: 6, frames: [3, 4, 6], len: 123 },
      { frame: 6, frames: [6], len: 19 },
    ]);
    const first = items[0]!;
    expect(first.kind === 'message' && toHex(first.bytes)).toBe(toHex(m));
  });

  it('out-of-order and retransmitted segments still give each message once, where it completed', () => {
    const m = update(40); // 63 bytes
    const items = run([
      seg(1, 100, [], { syn: true }),
      seg(2, 131, m.subarray(30)), // arrives first
      seg(3, 101, m.subarray(0, 30)), // fills the hole: completes the message
      seg(4, 101, m.subarray(0, 30)), // retransmission
      seg(5, 164, KEEPALIVE),
    ]);
    expect(summary(items)).toEqual([
      { frame: 3, frames: [3, 2], len: 63 },
      { frame: 5, frames: [5], len: 19 },
    ]);
  });

  it('a gap inside a message reports the missing bytes and resynchronises on the next marker', () => {
    const m = update(40);
    const items = run([
      seg(1, 0, KEEPALIVE),
      seg(2, 19, m.subarray(0, 20)),
      // bytes 20..62 of m lost; the next segment starts with the rest of m then a KEEPALIVE
      seg(4, 19 + 50, cat(m.subarray(50), KEEPALIVE)),
    ]);
    expect(summary(items)).toEqual([
      { frame: 1, frames: [1], len: 19 },
      { frame: 4, frames: [2, 4], error: 'missing 30 bytes inside a message (20 bytes of it captured before): looking for the next BGP marker' },
      { frame: 4, frames: [4], error: 'skipped 13 bytes to resynchronise on a BGP marker' },
      { frame: 4, frames: [4], len: 19 },
    ]);
  });

  it('a broken marker is reported, then the stream resynchronises', () => {
    const bad = Uint8Array.from(KEEPALIVE);
    bad[3] = 0;
    // The rest of the segment is dropped (scanning inside a corrupt message would invent
    // messages); framing resumes with the next segment.
    const items = run([seg(1, 0, cat(KEEPALIVE, bad, KEEPALIVE)), seg(2, 57, cat(Uint8Array.of(1, 2, 3), KEEPALIVE))]);
    expect(summary(items)).toEqual([
      { frame: 1, frames: [1], len: 19 },
      { frame: 1, frames: [1], error: 'marker is not all ones; 38 bytes skipped, framing resumes at the next segment' },
      { frame: 2, frames: [2], error: 'skipped 3 bytes to resynchronise on a BGP marker' },
      { frame: 2, frames: [2], len: 19 },
    ]);
  });

  it('a stream captured mid-way starts at the first marker, the bytes before it are a continuation', () => {
    const m = update(10);
    const items = run([seg(5, 1000, cat(m.subarray(20), KEEPALIVE))], true, true);
    expect(items.map((i) => [i.kind, i.frame, i.kind === 'continuation' ? i.length : i.kind === 'message' ? i.bytes.length : 0])).toEqual([
      ['continuation', 5, 13],
      ['message', 5, 19],
    ]);
  });

  it('a message cut by the end of the capture is handed out as truncated', () => {
    const items = run([seg(9, 0, update(10).subarray(0, 25))]);
    expect(items.map((i) => [i.kind, i.frame, i.kind === 'message' && i.truncated, i.kind === 'message' && i.bytes.length])).toEqual([
      ['message', 9, true, 25],
    ]);
    expect(summary(run([seg(9, 0, KEEPALIVE.subarray(0, 10))]))).toEqual([
      { frame: 9, frames: [9], error: 'stream ended inside a BGP header (10 bytes of it captured)' },
    ]);
  });

  it('a header split byte by byte frames the same as in one piece', () => {
    const all = cat(update(5), KEEPALIVE, update(0));
    const segs = Array.from(all, (b, i) => seg(i + 1, i, [b]));
    expect(summary(run(segs)).map((s) => ('len' in s ? [s.frame, s.len, s.frames.length] : s))).toEqual([
      [28, 28, 28],
      [47, 19, 19],
      [70, 23, 23],
    ]);
  });
});
