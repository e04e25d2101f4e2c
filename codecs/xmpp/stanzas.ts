import { DecodeError } from '../util/errors.js';
import {
  BGP_PEER_JID,
  CONFIG_JID,
  CONTROL_NODE_JID,
  EOR_NODE,
  MAX_ITEMS_PER_MESSAGE,
  MAX_RETRACTS_PER_MESSAGE,
  PUBSUB_NS,
  SERVER_STREAM_ID,
  STREAM_ERRORS_NS,
  STREAM_ERROR_CONDITIONS,
  STREAMS_NS,
  TLS_NS,
  VR_FQN_PREFIX,
  type StreamErrorCondition,
} from './constants.js';
import type { XmppFrame } from './framer.js';
import { decodeEntry, encodeEntry, nodeFamily, parseXmlUint, publishNode, schemaForFamily, type Entry, type RawEntry } from './items.js';
import {
  leafText,
  parseOpenTag,
  parseXmlDocument,
  serializeXml,
  setOwn,
  startTag,
  xmlOffset,
  type XmlElement,
  type XmlNode,
  type XmlParseOptions,
} from './xml.js';

/**
 * Typed stanzas of the Contrail dialect, both directions (dialect notes sections 3, 8, 10),
 * with builders that write elements and attributes in the order the real peers use.
 */

// ---------------------------------------------------------------------------------------------
// Types

/** Attributes of `<iq>` / `<message>` besides the payload; `extra` keeps any others in order. */
export interface StanzaHeader {
  type?: string;
  from?: string;
  to?: string;
  id?: string;
  extra?: Record<string, string>;
}

export interface StreamOpen {
  kind: 'stream-open';
  from?: string;
  to?: string;
  id?: string;
  version?: string;
  /** `xml:lang`. */
  lang?: string;
  /** Agent: its subcluster name (normally empty); CN: `jabber:client`. */
  xmlns?: string;
  extra?: Record<string, string>;
}

export interface StreamClose {
  kind: 'stream-close';
}

export interface StreamFeatures {
  kind: 'features';
  starttls?: { required: boolean };
  unknown?: XmlElement[];
}

export interface StartTls {
  kind: 'starttls';
}

export interface Proceed {
  kind: 'proceed';
}

export interface TlsFailure {
  kind: 'tls-failure';
}

export interface StreamError {
  kind: 'stream-error';
  condition: StreamErrorCondition;
  text?: string;
}

export interface SubscribeIq extends StanzaHeader {
  kind: 'subscribe' | 'unsubscribe';
  node: string;
  /** Mandatory in practice for routing instances (section 8.2); absent on config subscriptions. */
  instanceId?: number;
  noRibout?: boolean;
  /** Where `<options>` sat: inside the (un)subscribe (agent) or beside it (CN test mock). */
  optionsPlacement?: 'child' | 'sibling';
}

export interface PublishItem {
  /** CN items carry the route id; agent publishes none. */
  id?: string;
  entry: Entry;
}

export interface PublishIq extends StanzaHeader {
  kind: 'publish';
  /** Absent on the empty publish that, with an empty collection, is the agent's EoR. */
  node?: string;
  items: PublishItem[];
}

export interface CollectionIq extends StanzaHeader {
  kind: 'collection';
  /** The VRF. */
  node?: string;
  /** associate = add/change, dissociate = delete; absent on the EoR form. */
  action?: 'associate' | 'dissociate';
  /** Must equal the held publish's node. */
  target?: string;
}

/** IFMap configuration pushed by the CN (section 15); the `<config>` body is kept as XML. */
export interface ConfigIq extends StanzaHeader {
  kind: 'config';
  config: XmlElement;
}

/** Any other IQ: kept as XML. */
export interface OtherIq extends StanzaHeader {
  kind: 'iq';
  children: XmlNode[];
}

export interface EventMessage extends StanzaHeader {
  kind: 'event';
  /** `<afi>/<safi>/<vrf>`. */
  node: string;
  items: PublishItem[];
  /** Ids of withdrawn routes. */
  retracts: string[];
}

/** `<items node="0/0/EndOfRib"></items>` in a message, sent by both agent and CN. */
export interface EorMessage extends StanzaHeader {
  kind: 'eor';
}

export interface OtherMessage extends StanzaHeader {
  kind: 'message';
  children: XmlNode[];
}

/** A top-level element outside the dialect (`<presence>`, ...): kept as XML. */
export interface OtherElement {
  kind: 'element';
  element: XmlElement;
}

export interface Whitespace {
  kind: 'whitespace';
  length: number;
}

export type Iq = SubscribeIq | PublishIq | CollectionIq | ConfigIq | OtherIq;
export type Message = EventMessage | EorMessage | OtherMessage;
export type Stanza =
  | StreamOpen
  | StreamClose
  | StreamFeatures
  | StartTls
  | Proceed
  | TlsFailure
  | StreamError
  | Iq
  | Message
  | OtherElement;

// ---------------------------------------------------------------------------------------------
// Decoding

function fail(field: string, el: XmlElement | undefined, reason: string): never {
  throw new DecodeError(field, el ? xmlOffset(el) : 0, reason);
}

function elements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (typeof c !== 'string') out.push(c);
  return out;
}

/** Text outside child elements must be blank: a stray word there is malformed, not data. */
function requireNoText(el: XmlElement, field: string): void {
  for (const c of el.children) {
    if (typeof c === 'string' && c.trim() !== '') fail(field, el, 'unexpected text');
  }
}

const HEADER_KEYS = ['type', 'from', 'to', 'id'] as const;

function header(el: XmlElement): StanzaHeader {
  const h: StanzaHeader = {};
  let extra: Record<string, string> | undefined;
  for (const k in el.attrs) {
    const v = el.attrs[k]!;
    if (k === 'type' || k === 'from' || k === 'to' || k === 'id') h[k] = v;
    else setOwn((extra ??= {}), k, v);
  }
  if (extra) h.extra = extra;
  return h;
}

function headerAttrs(h: StanzaHeader): Record<string, string> {
  const a: Record<string, string> = {};
  for (const k of HEADER_KEYS) {
    const v = h[k];
    if (v !== undefined) a[k] = v;
  }
  if (h.extra) for (const k in h.extra) setOwn(a, k, h.extra[k]!);
  return a;
}

function copyHeader<T extends StanzaHeader>(h: StanzaHeader, into: T): T {
  for (const k of HEADER_KEYS) if (h[k] !== undefined) into[k] = h[k];
  if (h.extra) into.extra = h.extra;
  return into;
}

/** Decode one top-level element (everything but the stream header and close). */
export function decodeStanza(el: XmlElement): Stanza {
  switch (el.name) {
    case 'iq':
      return decodeIq(el);
    case 'message':
      return decodeMessage(el);
    case 'stream:features':
      return decodeFeatures(el);
    case 'stream:error':
      return decodeStreamError(el);
    case 'starttls':
    case 'proceed':
    case 'failure':
      if (el.attrs['xmlns'] !== TLS_NS) fail(`${el.name}@xmlns`, el, `expected ${TLS_NS}`);
      return { kind: el.name === 'failure' ? 'tls-failure' : el.name };
    default:
      return { kind: 'element', element: el };
  }
}

function decodeFeatures(el: XmlElement): StreamFeatures {
  requireNoText(el, 'stream:features');
  const out: StreamFeatures = { kind: 'features' };
  for (const c of elements(el)) {
    if (c.name === 'starttls' && c.attrs['xmlns'] === TLS_NS) {
      requireNoText(c, 'stream:features.starttls');
      out.starttls = { required: elements(c).some((r) => r.name === 'required') };
    } else (out.unknown ??= []).push(c);
  }
  return out;
}

function decodeStreamError(el: XmlElement): StreamError {
  let condition: StreamErrorCondition | undefined;
  let text: string | undefined;
  for (const c of elements(el)) {
    if (c.attrs['xmlns'] !== STREAM_ERRORS_NS) continue;
    if (c.name === 'text') {
      const t = leafText(c);
      if (t === undefined) fail('stream:error.text', c, 'expected text');
      text = t;
    } else if (condition === undefined) {
      // An unknown condition is still an error of the peer; RFC 6120 says treat it as undefined.
      condition = (STREAM_ERROR_CONDITIONS as readonly string[]).includes(c.name)
        ? (c.name as StreamErrorCondition)
        : 'undefined-condition';
    }
  }
  if (condition === undefined) fail('stream:error', el, `no condition element in ${STREAM_ERRORS_NS}`);
  return text === undefined ? { kind: 'stream-error', condition } : { kind: 'stream-error', condition, text };
}

function decodeIq(el: XmlElement): Iq {
  const h = header(el);
  const kids = elements(el);
  const first = kids[0];
  if (first && first.name === 'pubsub' && kids.length === 1) {
    const pubsubKids = elements(first);
    const action = pubsubKids[0];
    if (action && first.attrs['xmlns'] === PUBSUB_NS) {
      requireNoText(el, 'iq');
      requireNoText(first, 'iq.pubsub');
      switch (action.name) {
        case 'subscribe':
        case 'unsubscribe':
          return decodeSubscribe(h, first, action);
        case 'publish':
          if (pubsubKids.length === 1) return decodePublish(h, action);
          break;
        case 'collection':
          if (pubsubKids.length === 1) return decodeCollection(h, action);
          break;
      }
    }
  }
  if (first && first.name === 'config' && kids.length === 1) {
    requireNoText(el, 'iq');
    return copyHeader(h, { kind: 'config', config: first } as ConfigIq);
  }
  return copyHeader(h, { kind: 'iq', children: el.children } as OtherIq);
}

function decodeSubscribe(h: StanzaHeader, pubsub: XmlElement, sub: XmlElement): SubscribeIq {
  const kind = sub.name as 'subscribe' | 'unsubscribe';
  const base = `iq.pubsub.${kind}`;
  const node = sub.attrs['node'];
  if (node === undefined) fail(`${base}@node`, sub, 'missing');
  const out = copyHeader(h, { kind, node } as SubscribeIq);
  // The CN looks for <options> anywhere in the IQ (section 8.2): inside first, then beside.
  let options: XmlElement | undefined;
  let path = `${base}.options`;
  for (const c of elements(sub)) {
    if (c.name === 'options') options = c;
    else fail(`${base}.${c.name}`, c, 'unexpected element');
  }
  if (options) out.optionsPlacement = 'child';
  else {
    for (const c of elements(pubsub).slice(1)) {
      if (c.name === 'options' && !options) options = c;
      else fail(`iq.pubsub.${c.name}`, c, 'unexpected element');
    }
    path = 'iq.pubsub.options';
    if (options) out.optionsPlacement = 'sibling';
  }
  if (options) {
    requireNoText(options, path);
    for (const c of elements(options)) {
      const t = leafText(c);
      if (t === undefined) fail(`${path}.${c.name}`, c, 'expected text');
      if (c.name === 'instance-id') {
        const v = parseXmlUint(t);
        if (v === undefined) fail(`${path}.instance-id`, c, 'not an unsigned decimal integer');
        out.instanceId = v;
      } else if (c.name === 'no-ribout') out.noRibout = t === 'true';
      else fail(`${path}.${c.name}`, c, 'unknown option');
    }
  }
  return out;
}

function schemaOfNode(node: string | undefined): Entry['schema'] {
  const f = node === undefined ? undefined : nodeFamily(node);
  return f ? schemaForFamily(f.afi, f.safi) : 'raw';
}

function decodeItem(item: XmlElement, schema: Entry['schema'], path: string): PublishItem {
  requireNoText(item, path);
  const kids = elements(item);
  const entry = kids[0];
  if (!entry || kids.length !== 1) fail(path, item, 'an item holds exactly one <entry>');
  const out: PublishItem = { entry: decodeEntry(entry, schema, `${path}.entry`) };
  const id = item.attrs['id'];
  if (id !== undefined) out.id = id;
  return out;
}

function decodePublish(h: StanzaHeader, pub: XmlElement): PublishIq {
  const node = pub.attrs['node'];
  const out = copyHeader(h, { kind: 'publish', items: [] } as PublishIq);
  if (node !== undefined) out.node = node;
  requireNoText(pub, 'iq.pubsub.publish');
  const schema = schemaOfNode(node);
  const kids = elements(pub);
  for (const c of kids) {
    if (c.name !== 'item') fail(`iq.pubsub.publish.${c.name}`, c, 'unexpected element');
    const path = kids.length === 1 ? 'iq.pubsub.publish.item' : `iq.pubsub.publish.item[${out.items.length}]`;
    out.items.push(decodeItem(c, schema, path));
  }
  return out;
}

function decodeCollection(h: StanzaHeader, col: XmlElement): CollectionIq {
  const out = copyHeader(h, { kind: 'collection' } as CollectionIq);
  const node = col.attrs['node'];
  if (node !== undefined) out.node = node;
  requireNoText(col, 'iq.pubsub.collection');
  const kids = elements(col);
  if (kids.length > 1) fail('iq.pubsub.collection', col, 'more than one associate/dissociate');
  const a = kids[0];
  if (a) {
    if (a.name !== 'associate' && a.name !== 'dissociate') fail(`iq.pubsub.collection.${a.name}`, a, 'unexpected element');
    const target = a.attrs['node'];
    if (target === undefined) fail(`iq.pubsub.collection.${a.name}@node`, a, 'missing');
    requireNoText(a, `iq.pubsub.collection.${a.name}`);
    if (elements(a).length) fail(`iq.pubsub.collection.${a.name}`, a, 'unexpected child element');
    out.action = a.name;
    out.target = target;
  }
  return out;
}

function decodeMessage(el: XmlElement): Message {
  const h = header(el);
  const kids = elements(el);
  const event = kids[0];
  if (!event || kids.length !== 1 || event.name !== 'event' || event.attrs['xmlns'] !== PUBSUB_NS) {
    return copyHeader(h, { kind: 'message', children: el.children } as OtherMessage);
  }
  requireNoText(el, 'message');
  requireNoText(event, 'message.event');
  const evKids = elements(event);
  const items = evKids[0];
  if (!items || evKids.length !== 1 || items.name !== 'items') fail('message.event', event, 'expected exactly one <items>');
  const node = items.attrs['node'];
  if (node === undefined) fail('message.event.items@node', items, 'missing');
  requireNoText(items, 'message.event.items');
  const out = copyHeader(h, { kind: 'event', node, items: [], retracts: [] } as EventMessage);
  const schema = schemaOfNode(node);
  for (const c of elements(items)) {
    if (c.name === 'item') {
      out.items.push(decodeItem(c, schema, `message.event.items.item[${out.items.length}]`));
    } else if (c.name === 'retract') {
      const id = c.attrs['id'];
      const path = `message.event.items.retract[${out.retracts.length}]`;
      if (id === undefined) fail(`${path}@id`, c, 'missing');
      if (c.children.length && leafText(c)?.trim() !== '') fail(path, c, 'unexpected content');
      out.retracts.push(id);
    } else fail(`message.event.items.${c.name}`, c, 'unexpected element');
  }
  if (node === EOR_NODE && out.items.length === 0 && out.retracts.length === 0) {
    return copyHeader(h, { kind: 'eor' } as EorMessage);
  }
  return out;
}

/** The stream header's start tag (with its optional XML declaration). */
export function decodeStreamOpen(text: string): StreamOpen {
  const t = parseOpenTag(text, 'stream');
  if (t.name !== 'stream:stream') throw new DecodeError('stream', 0, `expected <stream:stream>, found <${t.name}>`);
  const ns = t.attrs['xmlns:stream'];
  if (ns !== STREAMS_NS) throw new DecodeError('stream@xmlns:stream', 0, `must be ${STREAMS_NS}`);
  const out: StreamOpen = { kind: 'stream-open' };
  for (const k in t.attrs) {
    const v = t.attrs[k]!;
    switch (k) {
      case 'from':
      case 'to':
      case 'id':
      case 'version':
      case 'xmlns':
        out[k] = v;
        break;
      case 'xml:lang':
        out.lang = v;
        break;
      case 'xmlns:stream':
        break;
      default:
        setOwn((out.extra ??= {}), k, v);
    }
  }
  return out;
}

/**
 * Decode a framer unit. Errors carry the stream byte offset of the offending character (the
 * XML parser counts UTF-16 units inside the unit; this converts).
 */
export function decodeFrame(frame: XmppFrame, opts?: XmlParseOptions): Stanza | Whitespace {
  if (frame.kind === 'whitespace') return { kind: 'whitespace', length: frame.length };
  if (frame.kind === 'stream-close') return { kind: 'stream-close' };
  try {
    if (frame.kind === 'stream-open') return decodeStreamOpen(frame.text);
    return decodeStanza(parseXmlDocument(frame.text, opts).root);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    const at = Math.min(Math.max(e.offset, 0), frame.text.length);
    throw new DecodeError(e.field, frame.offset + Buffer.byteLength(frame.text.slice(0, at)), e.reason, e.notification);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function el(name: string, attrs: Record<string, string> = {}, children: XmlNode[] = []): XmlElement {
  return { name, attrs, children };
}

function pubsub(child: XmlElement, ...more: XmlElement[]): XmlElement {
  return el('pubsub', { xmlns: PUBSUB_NS }, [child, ...more]);
}

function itemElement(it: PublishItem): XmlElement {
  return el('item', it.id === undefined ? {} : { id: it.id }, [encodeEntry(it.entry)]);
}

/** The element form of any stanza but the stream header/close. */
export function stanzaElement(s: Exclude<Stanza, StreamOpen | StreamClose>): XmlElement {
  switch (s.kind) {
    case 'features': {
      const kids: XmlElement[] = [];
      if (s.starttls) kids.push(el('starttls', { xmlns: TLS_NS }, s.starttls.required ? [el('required')] : []));
      if (s.unknown) kids.push(...s.unknown);
      return el('stream:features', {}, kids);
    }
    case 'starttls':
    case 'proceed':
      return el(s.kind, { xmlns: TLS_NS });
    case 'tls-failure':
      return el('failure', { xmlns: TLS_NS });
    case 'stream-error': {
      const kids = [el(s.condition, { xmlns: STREAM_ERRORS_NS })];
      if (s.text !== undefined) kids.push(el('text', { xmlns: STREAM_ERRORS_NS }, s.text === '' ? [] : [s.text]));
      return el('stream:error', {}, kids);
    }
    case 'subscribe':
    case 'unsubscribe': {
      const opts: XmlElement[] = [];
      if (s.instanceId !== undefined) opts.push(el('instance-id', {}, [String(s.instanceId)]));
      if (s.noRibout !== undefined) opts.push(el('no-ribout', {}, [s.noRibout ? 'true' : 'false']));
      const options = opts.length ? el('options', {}, opts) : undefined;
      const sub = el(s.kind, { node: s.node }, options && s.optionsPlacement !== 'sibling' ? [options] : []);
      const ps = options && s.optionsPlacement === 'sibling' ? pubsub(sub, options) : pubsub(sub);
      return el('iq', headerAttrs(s), [ps]);
    }
    case 'publish':
      return el('iq', headerAttrs(s), [
        pubsub(el('publish', s.node === undefined ? {} : { node: s.node }, s.items.map(itemElement))),
      ]);
    case 'collection': {
      const kids = s.action && s.target !== undefined ? [el(s.action, { node: s.target })] : [];
      return el('iq', headerAttrs(s), [pubsub(el('collection', s.node === undefined ? {} : { node: s.node }, kids))]);
    }
    case 'config':
      return el('iq', headerAttrs(s), [s.config]);
    case 'iq':
      return el('iq', headerAttrs(s), s.children);
    case 'event':
    case 'eor': {
      const node = s.kind === 'eor' ? EOR_NODE : s.node;
      const kids: XmlElement[] = [];
      if (s.kind === 'event') {
        for (const it of s.items) kids.push(itemElement(it));
        for (const id of s.retracts) kids.push(el('retract', { id }));
      }
      return el('message', headerAttrs(s), [el('event', { xmlns: PUBSUB_NS }, [el('items', { node }, kids)])]);
    }
    case 'message':
      return el('message', headerAttrs(s), s.children);
    case 'element':
      return s.element;
  }
}

export interface EncodeOptions {
  /** Prefix `<?xml version="1.0"?>` (the CN does on config IQs and features). */
  declaration?: boolean;
}

const DECLARATION = '<?xml version="1.0"?>';

/** The stream header exactly as the C++ encoder writes it (attribute order, space before `>`). */
export function encodeStreamOpen(h: StreamOpen, opts?: EncodeOptions): string {
  const a: Record<string, string> = {};
  if (h.from !== undefined) a['from'] = h.from;
  if (h.to !== undefined) a['to'] = h.to;
  if (h.id !== undefined) a['id'] = h.id;
  if (h.version !== undefined) a['version'] = h.version;
  if (h.lang !== undefined) a['xml:lang'] = h.lang;
  if (h.xmlns !== undefined) a['xmlns'] = h.xmlns;
  if (h.extra) for (const k in h.extra) setOwn(a, k, h.extra[k]!);
  // Must come last: the C++ framer ends the header at this attribute's value followed by '>'.
  a['xmlns:stream'] = STREAMS_NS;
  return (opts?.declaration ? DECLARATION : '') + startTag('stream:stream', a) + ' >';
}

export function encodeStanza(s: Stanza, opts?: EncodeOptions): string {
  if (s.kind === 'stream-open') return encodeStreamOpen(s, opts);
  if (s.kind === 'stream-close') return '</stream:stream>';
  return (opts?.declaration ? DECLARATION : '') + serializeXml(stanzaElement(s));
}

export function encodeStanzaBytes(s: Stanza, opts?: EncodeOptions): Uint8Array {
  return Buffer.from(encodeStanza(s, opts), 'utf8');
}

/** The native keepalive: U+0200 (C8 80), what the C++ side sends. */
export const KEEPALIVE = Uint8Array.of(0xc8, 0x80);

// ---------------------------------------------------------------------------------------------
// Builders

/** Agent → CN header (section 3.1). */
export function agentStreamOpen(agent: string, subcluster = ''): StreamOpen {
  return { kind: 'stream-open', from: agent, to: CONTROL_NODE_JID, version: '1.0', lang: 'en', xmlns: subcluster };
}

/** CN → agent header: `from` is the CN's hostname, `id` the literal `++123`. */
export function serverStreamOpen(serverHost: string, agent: string): StreamOpen {
  return {
    kind: 'stream-open',
    from: serverHost,
    to: agent,
    id: SERVER_STREAM_ID,
    version: '1.0',
    lang: 'en',
    xmlns: 'jabber:client',
  };
}

export function tlsFeatures(): StreamFeatures {
  return { kind: 'features', starttls: { required: true } };
}

export function streamError(condition: StreamErrorCondition, text?: string): StreamError {
  return text === undefined ? { kind: 'stream-error', condition } : { kind: 'stream-error', condition, text };
}

/**
 * The stream error to send for a DecodeError from the framer or the decoders (RFC 6120
 * section 4.9.3): oversized units break policy, DTDs/PIs/comments are restricted XML, a
 * well-formed stanza of the wrong shape is bad format, anything else is not well-formed.
 */
export function streamErrorFor(e: DecodeError): StreamError {
  const r = e.reason;
  let c: StreamErrorCondition = 'not-well-formed';
  if (r.includes('larger than')) c = 'policy-violation';
  else if (r.includes('DTD') || r.includes('processing instruction') || r.includes('comments are not allowed')) c = 'restricted-xml';
  else if (r.includes('UTF-8') || r.includes('encoding')) c = 'unsupported-encoding';
  else if (/^(iq|message|stream[:@]|entry)/.test(e.field)) c = 'bad-format';
  return streamError(c, `${e.field} at offset ${e.offset}: ${r}`);
}

/** Config subscription for the agent's virtual-router (section 8.1). */
export function configSubscribe(agent: string): SubscribeIq {
  return { kind: 'subscribe', type: 'set', from: agent, to: CONFIG_JID, node: `virtual-router:${VR_FQN_PREFIX}${agent}` };
}

export function vmConfigSubscribe(agent: string, vmUuid: string, unsubscribe = false): SubscribeIq {
  return { kind: unsubscribe ? 'unsubscribe' : 'subscribe', type: 'set', from: agent, to: CONFIG_JID, node: `virtual-machine:${vmUuid}` };
}

/** Routing-instance (un)subscription with its instance id (section 8.2). */
export function routeSubscribe(o: {
  from: string;
  vrf: string;
  instanceId: number;
  seq?: number;
  unsubscribe?: boolean;
  noRibout?: boolean;
}): SubscribeIq {
  const kind = o.unsubscribe ? 'unsubscribe' : 'subscribe';
  const s: SubscribeIq = { kind, type: 'set', from: o.from, to: BGP_PEER_JID, node: o.vrf, instanceId: o.instanceId };
  // The agent's ids count per process (`subscribe<N>`); the CN ignores them.
  if (o.seq !== undefined) s.id = `${kind}${o.seq}`;
  if (o.noRibout !== undefined) s.noRibout = o.noRibout;
  s.optionsPlacement = 'child';
  return s;
}

const ID_PREFIX: Record<Exclude<Entry['schema'], 'raw'>, [string, string]> = {
  unicast: ['pubsub', 'collection'],
  evpn: ['pubsub_l2', 'collection_l2'],
  // The notes give `pubsub_b<N>` for multicast; the collection id is not given (the CN ignores ids).
  ermvpn: ['pubsub_b', 'collection_b'],
};

/**
 * A route add (`associate`) or delete (`dissociate`): the publish IQ and the collection IQ that
 * must follow it at once (sections 2.7 and 8.3). One item, one next-hop, no item id.
 */
export function routePublish(o: {
  from: string;
  vrf: string;
  entry: Exclude<Entry, RawEntry>;
  add: boolean;
  seq?: number;
  /** Overrides the node derived from the entry. */
  node?: string;
}): [PublishIq, CollectionIq] {
  const node = o.node ?? publishNode(o.entry, o.vrf);
  const [pid, cid] = ID_PREFIX[o.entry.schema];
  const pub: PublishIq = { kind: 'publish', type: 'set', from: o.from, to: BGP_PEER_JID, node, items: [{ entry: o.entry }] };
  const col: CollectionIq = { kind: 'collection', type: 'set', from: o.from, to: BGP_PEER_JID, node: o.vrf, action: o.add ? 'associate' : 'dissociate', target: node };
  if (o.seq !== undefined) {
    // Keep attribute order type, from, to, id.
    pub.id = `${pid}${o.seq}`;
    col.id = `${cid}${o.seq}`;
  }
  return [pub, col];
}

/** Agent EoR as the real agent sends it (section 8.5); the CN ignores it (see agentEorIqs). */
export function agentEor(agent: string): EorMessage {
  return { kind: 'eor', from: agent, to: BGP_PEER_JID };
}

/** Agent EoR in the form the CN recognises: an empty publish then an empty collection. */
export function agentEorIqs(agent: string): [PublishIq, CollectionIq] {
  return [
    { kind: 'publish', type: 'set', from: agent, to: BGP_PEER_JID, items: [] },
    { kind: 'collection', type: 'set', from: agent, to: BGP_PEER_JID },
  ];
}

/** CN EoR (section 10.2). */
export function serverEor(agent: string): EorMessage {
  return { kind: 'eor', from: CONTROL_NODE_JID, to: `${agent}/bgp-peer` };
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * CN route updates for one table, split so that no message carries more than 32 items
 * (section 10.1). `to` is `<agent>/bgp-peer`.
 */
export function routeUpdateMessages(o: {
  agent: string;
  /** `<afi>/<safi>/<vrf>`. */
  node: string;
  items: readonly PublishItem[];
  from?: string;
  maxItems?: number;
}): EventMessage[] {
  const max = Math.max(1, Math.min(o.maxItems ?? MAX_ITEMS_PER_MESSAGE, MAX_ITEMS_PER_MESSAGE));
  return chunks(o.items, max).map((items) => ({
    kind: 'event',
    from: o.from ?? CONTROL_NODE_JID,
    to: `${o.agent}/bgp-peer`,
    node: o.node,
    items,
    retracts: [],
  }));
}

/** CN withdrawals for one table, at most 256 retracts per message. */
export function routeWithdrawMessages(o: {
  agent: string;
  node: string;
  ids: readonly string[];
  from?: string;
  maxRetracts?: number;
}): EventMessage[] {
  const max = Math.max(1, Math.min(o.maxRetracts ?? MAX_RETRACTS_PER_MESSAGE, MAX_RETRACTS_PER_MESSAGE));
  return chunks(o.ids, max).map((retracts) => ({
    kind: 'event',
    from: o.from ?? CONTROL_NODE_JID,
    to: `${o.agent}/bgp-peer`,
    node: o.node,
    items: [],
    retracts,
  }));
}
