import { DecodeError } from '../util/errors.js';
import { Writer } from '../util/writer.js';

/**
 * Cuts the top-level units of an XMPP byte stream, sans-IO: feed TCP bytes to `push`, get back
 * complete units. The units are the ones the C++ side cuts with its regexes
 * ([C:src/xmpp/xmpp_session.cc], dialect notes section 2), but found by a real tokenizer, so
 * that a `>` inside a quoted attribute or a comment cannot cut a stanza short:
 *
 *  - `stream-open`: optional `<?xml ...?>`, then the `<stream:stream ...>` start tag alone;
 *  - `stream-close`: `</stream:stream>`;
 *  - `element`: optional `<?xml ...?>`, then one complete element (`<iq>`, `<message>`,
 *    `<presence>`, `<stream:features>`, `<stream:error>`, `<starttls/>`, `<proceed/>`, ...);
 *  - `whitespace`: a run of keepalive bytes between units.
 *
 * The cut does not depend on how the bytes were split: pushing byte by byte gives the same
 * frames as pushing everything at once. Units are decoded from UTF-8 only when complete, so a
 * character split across pushes is harmless.
 *
 * Keepalive runs are reported once the next unit starts (or at `end()`), as a length only:
 * a session idle for months sends nothing but keepalives, so they are counted, not stored.
 * Liveness does not need the frame: any pushed byte is liveness (dialect notes section 16.3).
 */

export type XmppFrame =
  | { kind: 'whitespace'; offset: number; length: number }
  | { kind: 'stream-open'; offset: number; bytes: Uint8Array; text: string }
  | { kind: 'stream-close'; offset: number; bytes: Uint8Array; text: string }
  | {
      kind: 'element';
      /** Root element name as written (`iq`, `message`, `stream:features`, ...). */
      name: string;
      offset: number;
      bytes: Uint8Array;
      text: string;
    };

export interface XmppFramerOptions {
  /** Largest unit accepted, in bytes (default 1 MiB). */
  maxUnitBytes?: number;
}

export const DEFAULT_MAX_UNIT_BYTES = 1 << 20;

const FIELD = 'xmpp.framer';
const STREAM = 'stream:stream';

// Scanner states. Each one is resumable at any byte boundary.
const enum S {
  /** Between units. */
  Top,
  /** After `<?xml ...?>`: only whitespace until the root's `<`. */
  Prolog,
  /** Just after a `<`. */
  Lt,
  /** In `<!`, deciding between comment, CDATA and (refused) DTD. */
  Bang,
  /** In `<?...`, until `?>`. */
  Pi,
  Comment,
  Cdata,
  /** In a start tag's name. */
  StartName,
  /** In a start tag after its name. */
  Tag,
  /** Saw `/` in a start tag; `>` must follow. */
  TagSlash,
  AttrDq,
  AttrSq,
  /** In an end tag (name and optional whitespace). */
  EndTag,
  /** Element content. */
  Text,
}

/** Keepalive bytes, as the C++ side's set (U+0200's UTF-8 bytes C8 80 included as such). */
function isKeepalive(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xc8 || b === 0x80;
}

function isXmlWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const latin1 = new TextDecoder('latin1');

export class XmppFramer {
  readonly maxUnitBytes: number;
  /** Holds the unit being cut (and nothing before it once a push is done). */
  private buf = new Writer(4096);
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Scan position in buf. */
  private pos = 0;
  private state: S = S.Top;
  /** buf index where the current unit started, -1 between units. */
  private unitStart = -1;
  private depth = 0;
  /** Set once the unit's `<?xml` declaration has been seen. */
  private sawDecl = false;
  /** Root element name, gathered byte by byte (it may be split across pushes). */
  private rootName = '';
  private collectingRoot = false;
  private endName = '';
  private collectingEnd = false;
  private bang = '';
  /** Progress through a terminator (`-->`, `]]>`, `?>`). */
  private match = 0;
  private piIsDecl = false;
  private piHead = '';
  private wsStart = -1;
  private wsLength = 0;
  private failure: DecodeError | undefined;

  constructor(opts: XmppFramerOptions = {}) {
    this.maxUnitBytes = opts.maxUnitBytes ?? DEFAULT_MAX_UNIT_BYTES;
  }

  /** The error that stopped the framer, if any; once set every call throws it. */
  get error(): DecodeError | undefined {
    return this.failure;
  }

  /** Stream offset of the next byte to be pushed. */
  get offset(): number {
    return this.base + this.buf.pos;
  }

  /**
   * Append bytes, return the units they complete. A framing error is thrown at once when no
   * unit was completed by this push; otherwise the completed units are returned and the error
   * is kept in `error` and thrown by the next call, so no complete unit is ever lost.
   */
  push(bytes: Uint8Array): XmppFrame[] {
    if (this.failure) throw this.failure;
    this.compact();
    this.buf.bytes(bytes);
    const out: XmppFrame[] = [];
    try {
      this.scan(out);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.failure = e;
      if (out.length === 0) throw e;
    }
    return out;
  }

  /**
   * The peer closed the connection: return the pending keepalive run if any; a unit cut short
   * is a DecodeError.
   */
  end(): XmppFrame[] {
    if (this.failure) throw this.failure;
    if (this.unitStart >= 0) {
      this.failure = new DecodeError(FIELD, this.base + this.unitStart, 'stream ended inside a unit');
      throw this.failure;
    }
    const out: XmppFrame[] = [];
    this.flushWhitespace(out);
    return out;
  }

  private compact(): void {
    const keep = this.unitStart >= 0 ? this.unitStart : this.pos;
    if (keep === 0) return;
    const len = this.buf.pos;
    if (keep < len) this.buf.view(0, len).copyWithin(0, keep, len);
    this.buf.pos = len - keep;
    this.base += keep;
    this.pos -= keep;
    if (this.unitStart >= 0) this.unitStart -= keep;
  }

  private fail(reason: string, at: number): never {
    throw new DecodeError(FIELD, this.base + at, reason);
  }

  private flushWhitespace(out: XmppFrame[]): void {
    if (this.wsLength > 0) {
      out.push({ kind: 'whitespace', offset: this.wsStart, length: this.wsLength });
      this.wsLength = 0;
      this.wsStart = -1;
    }
  }

  private scan(out: XmppFrame[]): void {
    const b = this.buf.view();
    const len = b.length;
    let p = this.pos;
    while (p < len) {
      // A unit may not grow past the limit; stop scanning at it so that the error does not
      // depend on how much arrived in one push.
      let end = len;
      if (this.unitStart >= 0) {
        const limit = this.unitStart + this.maxUnitBytes;
        if (p >= limit) this.fail(`unit larger than ${this.maxUnitBytes} bytes`, this.unitStart);
        if (limit < end) end = limit;
      }
      const c = b[p]!;
      switch (this.state) {
        case S.Top:
          if (isKeepalive(c)) {
            if (this.wsLength === 0) this.wsStart = this.base + p;
            this.wsLength++;
            p++;
            break;
          }
          if (c !== 0x3c) this.fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')} between stanzas`, p);
          this.flushWhitespace(out);
          this.unitStart = p;
          this.depth = 0;
          this.sawDecl = false;
          this.state = S.Lt;
          p++;
          break;
        case S.Prolog:
          if (isXmlWs(c)) p++;
          else if (c === 0x3c) {
            this.state = S.Lt;
            p++;
          } else this.fail('text between the XML declaration and the stanza', p);
          break;
        case S.Lt:
          if (c === 0x2f) {
            this.state = S.EndTag;
            this.endName = '';
            this.collectingEnd = true;
            p++;
          } else if (c === 0x21) {
            this.state = S.Bang;
            this.bang = '';
            p++;
          } else if (c === 0x3f) {
            if (this.depth > 0 || this.sawDecl) this.fail('processing instructions are not allowed', p);
            this.state = S.Pi;
            this.match = 0;
            this.piHead = '';
            this.piIsDecl = false;
            p++;
          } else if (c === 0x3a || c === 0x5f || (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a || c >= 0x80) {
            this.state = S.StartName;
            if (this.depth === 0) {
              this.rootName = '';
              this.collectingRoot = true;
            } else this.collectingRoot = false;
          } else this.fail('"<" not followed by a tag', p);
          break;
        case S.StartName:
          if (isXmlWs(c) || c === 0x3e || c === 0x2f) this.state = S.Tag;
          else if (c === 0x3c || c === 0x22 || c === 0x27 || c === 0x3d) this.fail('malformed tag name', p);
          else {
            if (this.collectingRoot) this.rootName += String.fromCharCode(c);
            p++;
          }
          break;
        case S.Tag:
          if (c === 0x3e) {
            p++;
            this.openTagDone(out, b, p);
          } else if (c === 0x2f) {
            this.state = S.TagSlash;
            p++;
          } else if (c === 0x22) {
            this.state = S.AttrDq;
            p++;
          } else if (c === 0x27) {
            this.state = S.AttrSq;
            p++;
          } else if (c === 0x3c) this.fail('"<" inside a tag', p);
          else p++;
          break;
        case S.TagSlash:
          if (c !== 0x3e) this.fail('"/" inside a tag not followed by ">"', p);
          p++;
          if (this.depth === 0) {
            if (this.rootName === STREAM) this.fail('<stream:stream/> closes the stream it opens', p - 1);
            this.emit(out, b, p, 'element');
          } else this.state = S.Text;
          break;
        case S.AttrDq:
        case S.AttrSq: {
          const q = this.state === S.AttrDq ? 0x22 : 0x27;
          const at = b.subarray(0, end).indexOf(q, p);
          if (at < 0) p = end;
          else {
            p = at + 1;
            this.state = S.Tag;
          }
          break;
        }
        case S.EndTag:
          if (c === 0x3e) {
            p++;
            this.endTagDone(out, b, p);
          } else {
            if (isXmlWs(c)) this.collectingEnd = false;
            else if (c === 0x3c) this.fail('"<" inside an end tag', p);
            else if (this.collectingEnd) {
              // Only the stream close matters by name; keep the collected name short.
              if (this.endName.length <= STREAM.length) this.endName += String.fromCharCode(c);
            } else this.fail('malformed end tag', p);
            p++;
          }
          break;
        case S.Text: {
          const at = b.subarray(0, end).indexOf(0x3c, p);
          if (at < 0) p = end;
          else {
            p = at + 1;
            this.state = S.Lt;
          }
          break;
        }
        case S.Bang:
          this.bang += String.fromCharCode(c);
          p++;
          if (this.bang === '--') {
            if (this.depth === 0) this.fail('comments are not allowed between stanzas', p - 4);
            this.state = S.Comment;
            this.match = 0;
          } else if (this.bang === '[CDATA[') {
            if (this.depth === 0) this.fail('CDATA outside an element', p - 9);
            this.state = S.Cdata;
            this.match = 0;
          } else if (!'--'.startsWith(this.bang) && !'[CDATA['.startsWith(this.bang)) {
            // DOCTYPE and ENTITY land here: no DTD, so no XXE and no entity expansion.
            this.fail('markup declarations (DTD) are not allowed', p - this.bang.length - 2);
          }
          break;
        case S.Comment:
          // Terminator "-->": track how much of it was just seen.
          if (c === 0x2d) this.match = this.match >= 2 ? 2 : this.match + 1;
          else if (c === 0x3e && this.match === 2) this.state = S.Text;
          else this.match = 0;
          p++;
          break;
        case S.Cdata:
          if (c === 0x5d) this.match = this.match >= 2 ? 2 : this.match + 1;
          else if (c === 0x3e && this.match === 2) this.state = S.Text;
          else this.match = 0;
          p++;
          break;
        case S.Pi:
          if (this.piHead.length < 4) {
            this.piHead += String.fromCharCode(c);
            if (this.piHead.length === 4) {
              if (!this.piHead.startsWith('xml') || !isXmlWs(this.piHead.charCodeAt(3))) {
                this.fail('processing instructions other than the XML declaration are not allowed', p - 5);
              }
              this.piIsDecl = true;
            }
          }
          if (c === 0x3f) this.match = 1;
          else if (c === 0x3e && this.match === 1 && this.piIsDecl) {
            this.sawDecl = true;
            this.state = S.Prolog;
          } else this.match = 0;
          p++;
          break;
      }
    }
    this.pos = p;
  }

  private openTagDone(out: XmppFrame[], b: Uint8Array, p: number): void {
    if (this.depth === 0 && this.rootName === STREAM) {
      this.emit(out, b, p, 'stream-open');
      return;
    }
    this.depth++;
    this.state = S.Text;
  }

  private endTagDone(out: XmppFrame[], b: Uint8Array, p: number): void {
    if (this.depth === 0) {
      if (this.endName !== STREAM || this.sawDecl) this.fail('end tag without a start tag', this.unitStart);
      this.emit(out, b, p, 'stream-close');
      return;
    }
    this.depth--;
    if (this.depth === 0) this.emit(out, b, p, 'element');
    else this.state = S.Text;
  }

  private emit(out: XmppFrame[], b: Uint8Array, p: number, kind: 'element' | 'stream-open' | 'stream-close'): void {
    const start = this.unitStart;
    const bytes = b.slice(start, p);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      this.fail('unit is not valid UTF-8', start);
    }
    const offset = this.base + start;
    if (kind === 'element') out.push({ kind, name: utf8Name(this.rootName), offset, bytes, text });
    else out.push({ kind, offset, bytes, text });
    this.unitStart = -1;
    this.state = S.Top;
    this.pos = p;
  }
}

/** Names were gathered byte by byte as latin-1; undo that for non-ASCII names. */
function utf8Name(n: string): string {
  for (let i = 0; i < n.length; i++) {
    if (n.charCodeAt(i) >= 0x80) {
      const bytes = new Uint8Array(n.length);
      for (let j = 0; j < n.length; j++) bytes[j] = n.charCodeAt(j);
      try {
        return utf8.decode(bytes);
      } catch {
        return latin1.decode(bytes);
      }
    }
  }
  return n;
}
