import { DecodeError } from '../../codecs/util/errors.js';
import { XmppFramer, decodeFrame, type Stanza, type Whitespace, type XmppFrame } from '../../codecs/xmpp/index.js';
import type { ReassemblyEvent } from './tcp-reassembly.js';
import { SegmentMap } from './tcp-reassembly.js';

/**
 * One direction of an XMPP stream in a capture: the codec's framer cuts units, each unit is
 * decoded into a typed stanza. XML has no marker to find the next unit by, so after a gap
 * (or a framing error) the direction is not decoded any further: guessing where the next
 * element starts could turn the inside of an attribute into a stanza.
 */

export type XmppStreamItem =
  | { kind: 'unit'; frame: number; frames: number[]; offset: number; length: number; stanza: Stanza | Whitespace }
  | { kind: 'error'; frame: number; frames: number[]; offset: number; length?: number; error: DecodeError; text?: string };

export class XmppStream {
  private readonly framer = new XmppFramer();
  private readonly segments = new SegmentMap();
  /** Stream offset of the framer's offset 0. */
  private base: number | undefined;
  private stopped = false;

  push(ev: ReassemblyEvent): XmppStreamItem[] {
    if (this.stopped) return [];
    if (ev.kind === 'gap') {
      this.stopped = true;
      return [
        {
          kind: 'error',
          frame: ev.at,
          frames: [ev.frame],
          offset: 0,
          error: new DecodeError('tcp.segment', 0, `missing ${ev.missing} bytes: the rest of this XMPP stream direction is not decoded`),
        },
      ];
    }
    if (ev.kind !== 'data') return [];
    this.base ??= ev.offset;
    this.segments.add(ev.frame, ev.offset, ev.bytes.length);
    const out: XmppStreamItem[] = [];
    let frames: XmppFrame[] = [];
    let failure: DecodeError | undefined;
    try {
      frames = this.framer.push(ev.bytes);
      failure = this.framer.error;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      failure = e;
    }
    for (const f of frames) out.push(this.unit(f, ev.at));
    if (failure) {
      this.stopped = true;
      out.push({ kind: 'error', frame: ev.at, frames: [ev.frame], offset: 0, error: failure });
    }
    // A unit in progress is never longer than the framer's limit: older pieces can go.
    this.segments.release(this.base + this.framer.offset - this.framer.maxUnitBytes);
    return out;
  }

  /** End of the capture: a unit cut short is reported. */
  end(lastFrame: number): XmppStreamItem[] {
    if (this.stopped || this.base === undefined) return [];
    try {
      return this.framer.end().map((f) => this.unit(f, lastFrame));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const frames = this.segments.framesFor(this.base + e.offset, this.base + this.framer.offset);
      return [{ kind: 'error', frame: frames.length ? Math.max(...frames) : lastFrame, frames, offset: 0, error: e }];
    }
  }

  private unit(f: XmppFrame, at: number): XmppStreamItem {
    const base = this.base ?? 0;
    const length = f.kind === 'whitespace' ? f.length : f.bytes.length;
    const from = base + f.offset;
    const frames = this.segments.framesFor(from, from + length);
    // Whitespace runs are reported when the next unit starts, so they may belong to earlier frames.
    const frame = f.kind === 'whitespace' && frames.length ? Math.max(...frames) : at;
    try {
      return { kind: 'unit', frame, frames, offset: from, length, stanza: decodeFrame(f) };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      // decodeFrame reports stream offsets; the JSON wants the offset inside the unit.
      const rel = new DecodeError(e.field, Math.max(0, e.offset - f.offset), e.reason, e.notification);
      return { kind: 'error', frame, frames, offset: from, length, error: rel, text: f.kind === 'whitespace' ? undefined : f.text };
    }
  }
}
