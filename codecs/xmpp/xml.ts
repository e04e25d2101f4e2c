import { DecodeError } from '../util/errors.js';

/**
 * The XML subset the Contrail XMPP dialect uses: elements, attributes (either quote), text,
 * the five predefined entities and character references, CDATA, comments (dropped) and a
 * leading XML declaration. Namespaces stay plain attributes (`xmlns`, `xmlns:stream`) and
 * prefixed names stay whole (`stream:features`): both peers compare literal strings, so a
 * namespace-aware model would only lose what the other side will look at.
 *
 * DTDs are refused outright (no DOCTYPE, so no entity declarations, no external entities,
 * no entity expansion bombs). Every failure is a DecodeError whose offset is the UTF-16 index
 * in the text handed to the parser.
 */

export interface XmlElement {
  name: string;
  /** In document order; JS objects keep insertion order for such keys. */
  attrs: Record<string, string>;
  children: XmlNode[];
}

/** Text children are strings with entities already resolved. */
export type XmlNode = XmlElement | string;

export interface XmlParseOptions {
  /** Elements nested deeper than this are refused (bounds the recursion of every consumer). */
  maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 128;

/** Where each parsed element started, so typed decoders can point at it without a JSON field. */
const elementOffsets = new WeakMap<XmlElement, number>();

export function xmlOffset(el: XmlElement): number {
  return elementOffsets.get(el) ?? 0;
}

export function xmlElement(name: string, attrs: Record<string, string> = {}, children: XmlNode[] = []): XmlElement {
  return { name, attrs, children };
}

/**
 * `o[k] = v` that also works for k = `__proto__` (a legal attribute name, which plain
 * assignment would turn into a prototype change and silently drop).
 */
export function setOwn(o: Record<string, string>, k: string, v: string): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Child elements only (whitespace and text between them skipped). */
export function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (typeof c !== 'string') out.push(c);
  return out;
}

/** First child element with this name. */
export function firstChild(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (typeof c !== 'string' && c.name === name) return c;
  return undefined;
}

/** Concatenated text of a leaf element; `undefined` when it has element children. */
export function leafText(el: XmlElement): string | undefined {
  const ch = el.children;
  if (ch.length === 0) return '';
  if (ch.length === 1 && typeof ch[0] === 'string') return ch[0];
  let s = '';
  for (const c of ch) {
    if (typeof c !== 'string') return undefined;
    s += c;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const FIELD = 'xml';

function isNameStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7)
  );
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Characters XML 1.0 forbids anywhere (C0 controls but tab/LF/CR, and U+FFFE/U+FFFF). */
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function validCharRef(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const DEC_DIGITS = /^[0-9]+$/;

type Norm = 0 | 1;
const NORM_TEXT: Norm = 0;
const NORM_ATTR: Norm = 1;

/** XML end-of-line handling (CR, CRLF -> LF); in attribute values also tab/LF -> space. */
function normalize(t: string, norm: Norm): string {
  if (norm === NORM_TEXT) return t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t;
  return /[\t\n\r]/.test(t) ? t.replace(/\r\n?/g, '\n').replace(/[\t\n]/g, ' ') : t;
}

class XmlParser {
  pos = 0;
  readonly maxDepth: number;

  constructor(
    readonly s: string,
    opts: XmlParseOptions | undefined,
    /** Field path prefix for errors. */
    readonly field: string,
  ) {
    this.maxDepth = opts?.maxDepth ?? DEFAULT_MAX_DEPTH;
    const bad = FORBIDDEN_CHAR.exec(s);
    if (bad) this.fail(`character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML`, bad.index);
  }

  fail(reason: string, at = this.pos): never {
    throw new DecodeError(this.field, at, reason);
  }

  skipWs(): void {
    const s = this.s;
    while (this.pos < s.length && isWs(s.charCodeAt(this.pos))) this.pos++;
  }

  startsWith(lit: string): boolean {
    return this.s.startsWith(lit, this.pos);
  }

  /** `<?xml ...?>` at the very start; returns its raw text. */
  declaration(): string | undefined {
    if (!this.startsWith('<?xml')) return undefined;
    const c = this.s.charCodeAt(this.pos + 5);
    if (!isWs(c) && !(c === 0x3f)) return undefined;
    const start = this.pos;
    const end = this.s.indexOf('?>', this.pos + 5);
    if (end < 0) this.fail('unterminated XML declaration');
    // Its pseudo-attributes are parsed only to refuse malformed ones; nothing in them matters here.
    this.pos += 5;
    const attrs: Record<string, string> = {};
    for (;;) {
      this.skipWs();
      if (this.pos >= end) break;
      this.attribute(attrs);
    }
    if (this.pos !== end) this.fail('malformed XML declaration');
    if (!('version' in attrs)) this.fail('XML declaration without version', start);
    const enc = attrs['encoding'];
    if (enc !== undefined && enc.toLowerCase() !== 'utf-8') this.fail(`unsupported encoding ${enc}`, start);
    this.pos = end + 2;
    return this.s.slice(start, this.pos);
  }

  /** Whitespace and comments between top-level constructs; refuses DTDs and PIs. */
  misc(): void {
    for (;;) {
      this.skipWs();
      if (this.startsWith('<!--')) this.comment();
      else if (this.startsWith('<!DOCTYPE') || this.startsWith('<!ENTITY')) this.fail('DTDs are not allowed');
      else if (this.startsWith('<?')) this.fail('processing instructions are not allowed');
      else return;
    }
  }

  comment(): void {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    const dd = this.s.slice(this.pos + 4, end).indexOf('--');
    if (dd >= 0) this.fail('"--" inside a comment', this.pos + 4 + dd);
    this.pos = end + 3;
  }

  name(): string {
    const s = this.s;
    const start = this.pos;
    if (start >= s.length || !isNameStart(s.charCodeAt(start))) this.fail('expected a name');
    let p = start + 1;
    while (p < s.length && isNameChar(s.charCodeAt(p))) p++;
    this.pos = p;
    return s.slice(start, p);
  }

  attribute(attrs: Record<string, string>): void {
    const at = this.pos;
    const name = this.name();
    this.skipWs();
    if (this.s.charCodeAt(this.pos) !== 0x3d) this.fail(`expected = after attribute ${name}`);
    this.pos++;
    this.skipWs();
    const q = this.s.charCodeAt(this.pos);
    if (q !== 0x22 && q !== 0x27) this.fail(`attribute ${name} value must be quoted`);
    const end = this.s.indexOf(q === 0x22 ? '"' : "'", this.pos + 1);
    if (end < 0) this.fail(`unterminated value of attribute ${name}`);
    const lt = this.s.slice(this.pos + 1, end).indexOf('<');
    if (lt >= 0) this.fail(`"<" in value of attribute ${name}`, this.pos + 1 + lt);
    // Attribute-value normalisation (XML 1.0 section 3.3.3): literal tab/CR/LF read as spaces.
    const v = this.decode(this.pos + 1, end, NORM_ATTR);
    this.pos = end + 1;
    if (Object.prototype.hasOwnProperty.call(attrs, name)) this.fail(`duplicate attribute ${name}`, at);
    setOwn(attrs, name, v);
  }

  /**
   * Resolve entity and character references in s[start, end), normalising literal line ends
   * (never those written as references, which is the point of writing them so).
   */
  decode(start: number, end: number, norm: Norm): string {
    // Work on the slice: searching the whole document for a '&' that is not there would make
    // parsing quadratic in the number of text nodes.
    const raw = this.s.slice(start, end);
    let amp = raw.indexOf('&');
    if (amp < 0) return normalize(raw, norm);
    let out = '';
    let from = 0;
    while (amp >= 0) {
      out += normalize(raw.slice(from, amp), norm);
      const semi = raw.indexOf(';', amp + 1);
      if (semi < 0 || semi - amp > 12) this.fail('unterminated entity reference', start + amp);
      const ref = raw.slice(amp + 1, semi);
      if (ref === 'lt') out += '<';
      else if (ref === 'gt') out += '>';
      else if (ref === 'amp') out += '&';
      else if (ref === 'quot') out += '"';
      else if (ref === 'apos') out += "'";
      else if (ref.charCodeAt(0) === 0x23) {
        const hex = ref.charCodeAt(1) === 0x78;
        const digits = ref.slice(hex ? 2 : 1);
        if (digits.length === 0 || !(hex ? HEX_DIGITS : DEC_DIGITS).test(digits)) {
          this.fail(`bad character reference &${ref};`, start + amp);
        }
        const cp = parseInt(digits, hex ? 16 : 10);
        if (!validCharRef(cp)) this.fail(`character reference &${ref}; is not an XML character`, start + amp);
        out += String.fromCodePoint(cp);
      } else this.fail(`undeclared entity &${ref};`, start + amp);
      from = semi + 1;
      amp = raw.indexOf('&', from);
    }
    return out + normalize(raw.slice(from), norm);
  }

  /** A start tag after its `<`: name, attributes, and whether it self-closed. */
  startTag(): { name: string; attrs: Record<string, string>; empty: boolean } {
    const name = this.name();
    const attrs: Record<string, string> = {};
    const s = this.s;
    for (;;) {
      const before = this.pos;
      this.skipWs();
      const c = s.charCodeAt(this.pos);
      if (c === 0x3e) {
        this.pos++;
        return { name, attrs, empty: false };
      }
      if (c === 0x2f) {
        if (s.charCodeAt(this.pos + 1) !== 0x3e) this.fail('expected "/>"');
        this.pos += 2;
        return { name, attrs, empty: true };
      }
      if (this.pos >= s.length) this.fail(`unterminated start tag <${name}`);
      if (this.pos === before) this.fail('attributes must be separated by whitespace');
      this.attribute(attrs);
    }
  }

  /** One element starting at `<`, iteratively (depth is bounded by maxDepth, not the JS stack). */
  element(): XmlElement {
    const s = this.s;
    const stack: XmlElement[] = [];
    let root: XmlElement | undefined;
    for (;;) {
      // Here pos is at '<' of a start tag.
      const at = this.pos;
      this.pos++;
      const t = this.startTag();
      const el: XmlElement = { name: t.name, attrs: t.attrs, children: [] };
      elementOffsets.set(el, at);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else root = el;
      if (!t.empty) {
        if (stack.length + 1 > this.maxDepth) this.fail(`elements nested deeper than ${this.maxDepth}`, at);
        stack.push(el);
      }
      // Content until the next start tag (or the end of the root).
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) return root!;
        const lt = s.indexOf('<', this.pos);
        if (lt < 0) this.fail(`missing </${top.name}>`, s.length);
        if (lt > this.pos) this.text(top, this.pos, lt);
        this.pos = lt;
        const c = s.charCodeAt(lt + 1);
        if (c === 0x2f) {
          // Compare the end tag in place: no string is built for the (usual) matching case.
          const n = top.name;
          let p = lt + 2 + n.length;
          if (!s.startsWith(n, lt + 2) || isNameChar(s.charCodeAt(p))) {
            this.pos = lt + 2;
            const name = this.name();
            this.fail(`</${name}> does not close <${top.name}>`, lt);
          }
          while (isWs(s.charCodeAt(p))) p++;
          if (s.charCodeAt(p) !== 0x3e) {
            this.pos = p;
            this.fail(`malformed end tag </${n}`);
          }
          this.pos = p + 1;
          stack.pop();
        } else if (c === 0x21) {
          if (s.startsWith('<!--', lt)) this.comment();
          else if (s.startsWith('<![CDATA[', lt)) {
            const end = s.indexOf(']]>', lt + 9);
            if (end < 0) this.fail('unterminated CDATA section');
            if (end > lt + 9) appendText(top, normalize(s.slice(lt + 9, end), NORM_TEXT));
            this.pos = end + 3;
          } else if (s.startsWith('<!DOCTYPE', lt) || s.startsWith('<!ENTITY', lt)) this.fail('DTDs are not allowed');
          else this.fail('unexpected markup declaration');
        } else if (c === 0x3f) {
          this.fail('processing instructions are not allowed');
        } else break;
      }
    }
  }

  text(into: XmlElement, start: number, end: number): void {
    const t = this.decode(start, end, NORM_TEXT);
    if (t.includes(']]>')) {
      const gt = this.s.indexOf(']]>', start);
      if (gt >= 0 && gt < end) this.fail('"]]>" in text', gt);
    }
    appendText(into, t);
  }

  end(what: string): void {
    this.misc();
    if (this.pos !== this.s.length) this.fail(`unexpected content after ${what}`);
  }
}

function appendText(el: XmlElement, t: string): void {
  const ch = el.children;
  const last = ch[ch.length - 1];
  if (typeof last === 'string') ch[ch.length - 1] = last + t;
  else ch.push(t);
}

export interface XmlDocument {
  /** The raw `<?xml ...?>` text when the document had one. */
  declaration?: string;
  root: XmlElement;
}

/** A whole document: optional declaration, exactly one root element. */
export function parseXmlDocument(text: string, opts?: XmlParseOptions, field = FIELD): XmlDocument {
  const p = new XmlParser(text, opts, field);
  const declaration = p.declaration();
  p.misc();
  if (p.s.charCodeAt(p.pos) !== 0x3c) p.fail('expected an element');
  const root = p.element();
  p.end('the root element');
  return declaration === undefined ? { root } : { declaration, root };
}

export function parseXml(text: string, opts?: XmlParseOptions, field = FIELD): XmlElement {
  return parseXmlDocument(text, opts, field).root;
}

/** Several sibling elements (document fragments, e.g. the excerpts in the dialect notes). */
export function parseXmlFragment(text: string, opts?: XmlParseOptions, field = FIELD): XmlElement[] {
  const p = new XmlParser(text, opts, field);
  p.declaration();
  const out: XmlElement[] = [];
  for (;;) {
    p.misc();
    if (p.pos >= p.s.length) return out;
    if (p.s.charCodeAt(p.pos) !== 0x3c) p.fail('text outside an element');
    out.push(p.element());
  }
}

/**
 * A start tag that opens a stream and is never closed within the text (`<stream:stream ...>`),
 * optionally preceded by a declaration. Returns the tag's name and attributes.
 */
export function parseOpenTag(text: string, field = FIELD): { declaration?: string; name: string; attrs: Record<string, string> } {
  const p = new XmlParser(text, undefined, field);
  const declaration = p.declaration();
  p.misc();
  if (p.s.charCodeAt(p.pos) !== 0x3c) p.fail('expected a start tag');
  p.pos++;
  const t = p.startTag();
  if (t.empty) p.fail(`<${t.name}/> must not be self-closed here`);
  p.skipWs();
  if (p.pos !== p.s.length) p.fail('unexpected content after the start tag');
  return declaration === undefined ? { name: t.name, attrs: t.attrs } : { declaration, name: t.name, attrs: t.attrs };
}

// ---------------------------------------------------------------------------------------------
// Serialising

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>"\t\n\r]/;

export function escapeText(t: string): string {
  if (!TEXT_SPECIAL.test(t)) return t;
  let out = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    // '>' is escaped too so that "]]>" can never appear in output.
    out += c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '\r' ? '&#13;' : c;
  }
  return out;
}

export function escapeAttr(v: string): string {
  if (!ATTR_SPECIAL.test(v)) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    out +=
      c === '&'
        ? '&amp;'
        : c === '<'
          ? '&lt;'
          : c === '>'
            ? '&gt;'
            : c === '"'
              ? '&quot;'
              : c === '\t'
                ? '&#9;'
                : c === '\n'
                  ? '&#10;'
                  : c === '\r'
                    ? '&#13;'
                    : c;
  }
  return out;
}

/**
 * Roots the C++ framer finds by their end tag (`</iq>`, `</message>`, `</stream:features>`),
 * plus `<items>`, which the dialect always writes open/close (the EoR marker): never `<x/>`.
 */
const NEVER_SELF_CLOSE = new Set(['iq', 'message', 'stream:features', 'stream:error', 'items', 'presence']);

export function startTag(name: string, attrs: Record<string, string>): string {
  let out = '<' + name;
  for (const k in attrs) out += ' ' + k + '="' + escapeAttr(attrs[k]!) + '"';
  return out;
}

/** Compact serialisation (no whitespace added), attributes in double quotes. */
export function serializeXml(el: XmlElement): string {
  const parts: string[] = [];
  write(el, parts);
  return parts.join('');
}

function write(el: XmlElement, out: string[]): void {
  out.push(startTag(el.name, el.attrs));
  if (el.children.length === 0 && !NEVER_SELF_CLOSE.has(el.name)) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, out);
  }
  out.push('</' + el.name + '>');
}

/**
 * A form for comparing documents: whitespace-only text between elements dropped (it is
 * insignificant in this dialect), empty elements as `<x></x>`, attributes in source order.
 * Leaf text, even blank, is kept.
 */
export function canonicalXml(el: XmlElement): string {
  const out: string[] = [];
  canon(el, out);
  return out.join('');
}

function canon(el: XmlElement, out: string[]): void {
  out.push(startTag(el.name, el.attrs), '>');
  const mixed = el.children.some((c) => typeof c !== 'string');
  for (const c of el.children) {
    if (typeof c === 'string') {
      if (mixed && c.trim() === '') continue;
      out.push(escapeText(c));
    } else canon(c, out);
  }
  out.push('</', el.name, '>');
}
