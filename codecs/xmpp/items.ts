import { DecodeError } from '../util/errors.js';
import { leafText, xmlOffset, type XmlElement, type XmlNode } from './xml.js';

/**
 * `<entry>` contents per address family, after the XSDs the C++ (de)serialisers are generated
 * from (dialect notes section 7; [A:schema/xmpp_unicast.xsd], [A:schema/xmpp_enet.xsd],
 * [A:schema/xmpp_multicast.xsd]).
 *
 * Encode follows the generated encoder: every element, in XSD order, even when empty or zero.
 * Decode follows the generated parser: element order does not matter, a missing element takes
 * its default, integers are decimal with surrounding whitespace allowed and empty text = 0,
 * booleans are true only for the exact text `true`.
 *
 * Unknown child elements of an entry, an NLRI or a next-hop are KEPT (in `unknown`, re-emitted
 * after the known ones): the real CN ignores them, and keeping them costs nothing when absent
 * while letting a relay or `weft decode` show fields of newer peers (e.g. the later
 * `local-sequence-number` of Tungsten Fabric next-hops). Unknown children of list wrappers
 * (`next-hops`, `tag-list`, ...) carry no data in any known version and are dropped.
 */

export interface Mobility {
  sticky: boolean;
  seqno: number;
}

export interface LoadBalance {
  /** `l3-source-address`, `l3-destination-address`, `l4-protocol`, `l4-source-port`, `l4-destination-port`; empty = all. */
  fields: string[];
  /** `field-hash` or `source-bias`. */
  decision: string;
  unknown?: XmlElement[];
}

// ---- inet / inet6 / labeled inet (xmpp_unicast.xsd) ----------------------------------------

export interface UnicastNlri {
  af: number;
  safi: number;
  /** `addr/plen`. */
  address: string;
  unknown?: XmlElement[];
}

export interface UnicastNextHop {
  af: number;
  address: string;
  mac: string;
  label: number;
  vni: number;
  /** `gre`, `udp`, `vxlan`, `mpls`, `native`, in order. */
  tunnelEncapsulation: string[];
  virtualNetwork: string;
  tags: number[];
  unknown?: XmlElement[];
}

export interface UnicastEntry {
  schema: 'unicast';
  nlri: UnicastNlri;
  nextHops: UnicastNextHop[];
  version: number;
  virtualNetwork: string;
  mobility: Mobility;
  sequenceNumber: number;
  securityGroups: number[];
  /** Well-known names (`no-export`, `accept-own-nexthop`, `LlgrStale`, ...) or `asn:value`. */
  communityTags: string[];
  localPreference: number;
  med: number;
  loadBalance: LoadBalance;
  /** `interface`, `interface-static`, `service-interface`, `bgpaas`. */
  subProtocol: string;
  unknown?: XmlElement[];
}

// ---- EVPN (xmpp_enet.xsd) -------------------------------------------------------------------

export interface EvpnNlri {
  af: number;
  safi: number;
  ethernetTag: number;
  mac: string;
  /** `ip/plen`. */
  address: string;
  group: string;
  source: string;
  flags: number;
  unknown?: XmlElement[];
}

export interface EvpnNextHop {
  af: number;
  address: string;
  /** Router MAC (type 5), else usually empty. */
  mac: string;
  /** L2 MPLS label, or the VNI with `vxlan` encapsulation. */
  label: number;
  l3Label: number;
  tunnelEncapsulation: string[];
  tags: number[];
  unknown?: XmlElement[];
}

export interface EvpnEntry {
  schema: 'evpn';
  nlri: EvpnNlri;
  nextHops: EvpnNextHop[];
  olist: EvpnNextHop[];
  virtualNetwork: string;
  mobility: Mobility;
  sequenceNumber: number;
  securityGroups: number[];
  localPreference: number;
  med: number;
  edgeReplicationNotSupported: boolean;
  assistedReplicationSupported: boolean;
  leafOlist: EvpnNextHop[];
  replicatorAddress: string;
  etreeLeaf: boolean;
  unknown?: XmlElement[];
}

// ---- ERM-VPN (xmpp_multicast.xsd) -----------------------------------------------------------

export interface ErmvpnNlri {
  af: number;
  safi: number;
  group: string;
  source: string;
  sourceLabel: number;
  sourceAddress: string;
  unknown?: XmlElement[];
}

export interface ErmvpnNextHop {
  af: number;
  address: string;
  /** A string on purpose: the agent sends its label block `start-end`, the CN one label. */
  label: string;
  tunnelEncapsulation: string[];
  unknown?: XmlElement[];
}

export interface ErmvpnEntry {
  schema: 'ermvpn';
  nlri: ErmvpnNlri;
  nextHops: ErmvpnNextHop[];
  olist: ErmvpnNextHop[];
  unknown?: XmlElement[];
}

/** A family this codec has no schema for (MVPN, ...): the `<entry>` element as parsed. */
export interface RawEntry {
  schema: 'raw';
  element: XmlElement;
}

export type Entry = UnicastEntry | EvpnEntry | ErmvpnEntry | RawEntry;
export type EntrySchema = Entry['schema'];

// ---------------------------------------------------------------------------------------------
// Field tables: one row per element, in XSD order. Encode walks them in order; decode looks
// elements up by name, which is what makes it order-independent.

type Spec = readonly Field[];
type Field =
  | { xml: string; key: string; t: 'u32' | 'bool' }
  | { xml: string; key: string; t: 'str'; dflt?: string }
  | { xml: string; key: string; t: 'u32[]' | 'str[]'; item: string }
  | { xml: string; key: string; t: 'obj'; spec: Spec }
  | { xml: string; key: string; t: 'obj[]'; item: string; spec: Spec }
  | { xml: string; key: string; t: 'mobility' };

interface Table {
  spec: Spec;
  byName: Map<string, Field>;
}

function table(spec: Spec): Table {
  return { spec, byName: new Map(spec.map((f) => [f.xml, f])) };
}

const tables = new WeakMap<Spec, Table>();
function tableOf(spec: Spec): Table {
  let t = tables.get(spec);
  if (!t) tables.set(spec, (t = table(spec)));
  return t;
}

const ENCAP: Field = { xml: 'tunnel-encapsulation-list', key: 'tunnelEncapsulation', t: 'str[]', item: 'tunnel-encapsulation' };
const TAGS: Field = { xml: 'tag-list', key: 'tags', t: 'u32[]', item: 'tag' };
const SGS: Field = { xml: 'security-group-list', key: 'securityGroups', t: 'u32[]', item: 'security-group' };
const AF: Field = { xml: 'af', key: 'af', t: 'u32' };
const SAFI: Field = { xml: 'safi', key: 'safi', t: 'u32' };
const ADDRESS: Field = { xml: 'address', key: 'address', t: 'str' };
const MAC: Field = { xml: 'mac', key: 'mac', t: 'str' };
const VN: Field = { xml: 'virtual-network', key: 'virtualNetwork', t: 'str' };
const MOBILITY: Field = { xml: 'mobility', key: 'mobility', t: 'mobility' };
const SEQ: Field = { xml: 'sequence-number', key: 'sequenceNumber', t: 'u32' };
const LOCAL_PREF: Field = { xml: 'local-preference', key: 'localPreference', t: 'u32' };
const MED: Field = { xml: 'med', key: 'med', t: 'u32' };

const UNICAST_NH: Spec = [
  AF,
  ADDRESS,
  MAC,
  { xml: 'label', key: 'label', t: 'u32' },
  { xml: 'vni', key: 'vni', t: 'u32' },
  ENCAP,
  VN,
  TAGS,
];
const UNICAST_NLRI: Spec = [AF, SAFI, ADDRESS];
const LOAD_BALANCE: Spec = [
  { xml: 'load-balance-fields', key: 'fields', t: 'str[]', item: 'load-balance-field-list' },
  { xml: 'load-balance-decision', key: 'decision', t: 'str', dflt: 'field-hash' },
];
const UNICAST_ENTRY: Spec = [
  { xml: 'nlri', key: 'nlri', t: 'obj', spec: UNICAST_NLRI },
  { xml: 'next-hops', key: 'nextHops', t: 'obj[]', item: 'next-hop', spec: UNICAST_NH },
  { xml: 'version', key: 'version', t: 'u32' },
  VN,
  MOBILITY,
  SEQ,
  SGS,
  { xml: 'community-tag-list', key: 'communityTags', t: 'str[]', item: 'community-tag' },
  LOCAL_PREF,
  MED,
  { xml: 'load-balance', key: 'loadBalance', t: 'obj', spec: LOAD_BALANCE },
  { xml: 'sub-protocol', key: 'subProtocol', t: 'str', dflt: 'interface' },
];

const EVPN_NLRI: Spec = [
  AF,
  SAFI,
  { xml: 'ethernet-tag', key: 'ethernetTag', t: 'u32' },
  MAC,
  ADDRESS,
  { xml: 'group', key: 'group', t: 'str' },
  { xml: 'source', key: 'source', t: 'str' },
  { xml: 'flags', key: 'flags', t: 'u32' },
];
const EVPN_NH: Spec = [AF, ADDRESS, MAC, { xml: 'label', key: 'label', t: 'u32' }, { xml: 'l3-label', key: 'l3Label', t: 'u32' }, ENCAP, TAGS];
const EVPN_ENTRY: Spec = [
  { xml: 'nlri', key: 'nlri', t: 'obj', spec: EVPN_NLRI },
  { xml: 'next-hops', key: 'nextHops', t: 'obj[]', item: 'next-hop', spec: EVPN_NH },
  { xml: 'olist', key: 'olist', t: 'obj[]', item: 'next-hop', spec: EVPN_NH },
  VN,
  MOBILITY,
  SEQ,
  SGS,
  LOCAL_PREF,
  MED,
  { xml: 'edge-replication-not-supported', key: 'edgeReplicationNotSupported', t: 'bool' },
  { xml: 'assisted-replication-supported', key: 'assistedReplicationSupported', t: 'bool' },
  { xml: 'leaf-olist', key: 'leafOlist', t: 'obj[]', item: 'next-hop', spec: EVPN_NH },
  { xml: 'replicator-address', key: 'replicatorAddress', t: 'str' },
  { xml: 'etree-leaf', key: 'etreeLeaf', t: 'bool' },
];

const ERMVPN_NLRI: Spec = [
  AF,
  SAFI,
  { xml: 'group', key: 'group', t: 'str' },
  { xml: 'source', key: 'source', t: 'str' },
  { xml: 'source-label', key: 'sourceLabel', t: 'u32' },
  { xml: 'source-address', key: 'sourceAddress', t: 'str' },
];
const ERMVPN_NH: Spec = [AF, ADDRESS, { xml: 'label', key: 'label', t: 'str' }, ENCAP];
const ERMVPN_ENTRY: Spec = [
  { xml: 'nlri', key: 'nlri', t: 'obj', spec: ERMVPN_NLRI },
  { xml: 'next-hops', key: 'nextHops', t: 'obj[]', item: 'next-hop', spec: ERMVPN_NH },
  { xml: 'olist', key: 'olist', t: 'obj[]', item: 'next-hop', spec: ERMVPN_NH },
];

// ---------------------------------------------------------------------------------------------
// Generic decode / encode over the tables

type Obj = Record<string, unknown>;

function fail(path: string, el: XmlElement, reason: string): never {
  throw new DecodeError(path, xmlOffset(el), reason);
}

function text(el: XmlElement, path: string): string {
  const t = leafText(el);
  if (t === undefined) fail(path, el, 'expected text, found child elements');
  return t;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `strtoul` as the generated parsers use it: blanks around, empty = 0, decimal, 32 bits here. */
export function parseXmlUint(t: string): number | undefined {
  let i = 0;
  let j = t.length;
  while (i < j && isSpace(t.charCodeAt(i))) i++;
  while (j > i && isSpace(t.charCodeAt(j - 1))) j--;
  if (i === j) return 0;
  if (j - i > 10) return undefined;
  let v = 0;
  for (let k = i; k < j; k++) {
    const d = t.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v <= 0xffffffff ? v : undefined;
}

function u32(el: XmlElement, path: string): number {
  const v = parseXmlUint(text(el, path));
  if (v === undefined) fail(path, el, 'not an unsigned 32-bit decimal integer');
  return v;
}

function defaultOf(f: Field): unknown {
  switch (f.t) {
    case 'u32':
      return 0;
    case 'bool':
      return false;
    case 'str':
      return f.dflt ?? '';
    case 'u32[]':
    case 'str[]':
    case 'obj[]':
      return [];
    case 'obj':
      return defaults(f.spec);
    case 'mobility':
      return { sticky: false, seqno: 0 };
  }
}

function defaults(spec: Spec): Obj {
  const o: Obj = {};
  for (const f of spec) o[f.key] = defaultOf(f);
  return o;
}

function decodeObj(el: XmlElement, spec: Spec, path: string): Obj {
  const { byName } = tableOf(spec);
  const o = defaults(spec);
  let unknown: XmlElement[] | undefined;
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const f = byName.get(c.name);
    if (!f) {
      (unknown ??= []).push(c);
      continue;
    }
    o[f.key] = decodeField(c, f, `${path}.${f.xml}`);
  }
  if (unknown) o['unknown'] = unknown;
  return o;
}

function decodeField(el: XmlElement, f: Field, path: string): unknown {
  switch (f.t) {
    case 'u32':
      return u32(el, path);
    case 'bool':
      return text(el, path) === 'true';
    case 'str':
      return text(el, path);
    case 'obj':
      return decodeObj(el, f.spec, path);
    case 'mobility': {
      const seq = el.attrs['seqno'];
      const seqno = seq === undefined ? 0 : parseXmlUint(seq);
      if (seqno === undefined) fail(`${path}@seqno`, el, 'not an unsigned 32-bit decimal integer');
      return { sticky: el.attrs['sticky'] === 'true', seqno };
    }
    case 'u32[]':
    case 'str[]':
    case 'obj[]': {
      const out: unknown[] = [];
      for (const c of el.children) {
        if (typeof c === 'string' || c.name !== f.item) continue;
        const p = `${path}.${f.item}[${out.length}]`;
        if (f.t === 'obj[]') out.push(decodeObj(c, f.spec, p));
        else out.push(f.t === 'u32[]' ? u32(c, p) : text(c, p));
      }
      return out;
    }
  }
}

function leaf(name: string, t: string): XmlElement {
  return { name, attrs: {}, children: t === '' ? [] : [t] };
}

function encodeObj(name: string, o: Obj, spec: Spec): XmlElement {
  const children: XmlNode[] = [];
  for (const f of spec) children.push(encodeField(f, o[f.key]));
  const unknown = o['unknown'] as XmlElement[] | undefined;
  if (unknown) for (const u of unknown) children.push(u);
  return { name, attrs: {}, children };
}

function encodeField(f: Field, v: unknown): XmlElement {
  switch (f.t) {
    case 'u32':
      return leaf(f.xml, String(v ?? 0));
    case 'bool':
      return leaf(f.xml, v ? 'true' : 'false');
    case 'str':
      return leaf(f.xml, (v as string | undefined) ?? f.dflt ?? '');
    case 'obj':
      return encodeObj(f.xml, (v as Obj | undefined) ?? defaults(f.spec), f.spec);
    case 'mobility': {
      const m = (v as Mobility | undefined) ?? { sticky: false, seqno: 0 };
      return { name: f.xml, attrs: { sticky: m.sticky ? 'true' : 'false', seqno: String(m.seqno) }, children: [] };
    }
    case 'u32[]':
    case 'str[]':
    case 'obj[]': {
      const list = (v as unknown[] | undefined) ?? [];
      const children: XmlNode[] = [];
      for (const x of list) {
        children.push(f.t === 'obj[]' ? encodeObj(f.item, x as Obj, f.spec) : leaf(f.item, String(x)));
      }
      return { name: f.xml, attrs: {}, children };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Families

/** Which schema an AFI/XMPP-SAFI pair uses (dialect notes section 6). */
export function schemaForFamily(afi: number, safi: number): EntrySchema {
  if ((afi === 1 || afi === 2) && (safi === 1 || safi === 4)) return 'unicast';
  if (afi === 25 && safi === 242) return 'evpn';
  if (afi === 1 && safi === 241) return 'ermvpn';
  return 'raw';
}

/** The leading `afi/safi/` of a pubsub node, or undefined when it has none. */
export function nodeFamily(node: string): { afi: number; safi: number } | undefined {
  const a = node.indexOf('/');
  const b = a < 0 ? -1 : node.indexOf('/', a + 1);
  if (a <= 0 || b <= a + 1) return undefined;
  const afi = parseDecimal(node, 0, a);
  const safi = parseDecimal(node, a + 1, b);
  return afi === undefined || safi === undefined ? undefined : { afi, safi };
}

function parseDecimal(s: string, i: number, j: number): number | undefined {
  if (j - i > 5) return undefined;
  let v = 0;
  for (let k = i; k < j; k++) {
    const d = s.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

const SPECS = { unicast: UNICAST_ENTRY, evpn: EVPN_ENTRY, ermvpn: ERMVPN_ENTRY } as const;

/** Decode an `<entry>` with the schema its node's family selects. */
export function decodeEntry(el: XmlElement, schema: EntrySchema, path = 'entry'): Entry {
  if (el.name !== 'entry') fail(path, el, `expected <entry>, found <${el.name}>`);
  if (schema === 'raw') return { schema, element: el };
  const o = decodeObj(el, SPECS[schema], path);
  o['schema'] = schema;
  return o as unknown as Entry;
}

export function encodeEntry(e: Entry): XmlElement {
  if (e.schema === 'raw') return e.element;
  // `schema` is not an element: encodeObj only looks at the table's keys and `unknown`.
  return encodeObj('entry', e as unknown as Obj, SPECS[e.schema]);
}

/** The parts the dialect notes quote on their own (NLRI, next-hop lists, olist). */
export type EntryPart = 'nlri' | 'next-hops' | 'olist' | 'leaf-olist';

function partField(schema: Exclude<EntrySchema, 'raw'>, part: EntryPart): Field {
  const f = tableOf(SPECS[schema]).byName.get(part);
  if (!f) throw new TypeError(`${schema} entries have no <${part}>`);
  return f;
}

/** Decode one child of an entry alone (e.g. an `<nlri>` quoted by itself). */
export function decodeEntryPart(el: XmlElement, schema: Exclude<EntrySchema, 'raw'>, path = el.name): unknown {
  const f = tableOf(SPECS[schema]).byName.get(el.name);
  if (!f) fail(path, el, `<${el.name}> is not part of a ${schema} entry`);
  return decodeField(el, f, path);
}

export function encodeEntryPart(schema: Exclude<EntrySchema, 'raw'>, part: EntryPart, value: unknown): XmlElement {
  return encodeField(partField(schema, part), value);
}

// ---------------------------------------------------------------------------------------------
// Constructors with the generated encoder's defaults, so builders only name what matters.

type Init<T> = Partial<Omit<T, 'schema'>>;

export function unicastNextHop(init: Init<UnicastNextHop>): UnicastNextHop {
  return { ...(defaults(UNICAST_NH) as unknown as UnicastNextHop), ...init };
}

export function unicastEntry(init: Init<UnicastEntry> & { nlri: UnicastNlri }): UnicastEntry {
  return { ...(defaults(UNICAST_ENTRY) as unknown as UnicastEntry), version: 1, ...init, schema: 'unicast' };
}

export function evpnNextHop(init: Init<EvpnNextHop>): EvpnNextHop {
  return { ...(defaults(EVPN_NH) as unknown as EvpnNextHop), ...init };
}

export function evpnNlri(init: Init<EvpnNlri>): EvpnNlri {
  return { ...(defaults(EVPN_NLRI) as unknown as EvpnNlri), af: 25, safi: 242, ...init };
}

export function evpnEntry(init: Init<EvpnEntry> & { nlri: EvpnNlri }): EvpnEntry {
  return { ...(defaults(EVPN_ENTRY) as unknown as EvpnEntry), ...init, schema: 'evpn' };
}

export function ermvpnEntry(init: Init<ErmvpnEntry> & { nlri: ErmvpnNlri }): ErmvpnEntry {
  return { ...(defaults(ERMVPN_ENTRY) as unknown as ErmvpnEntry), ...init, schema: 'ermvpn' };
}

/** EVPN route type implied by the NLRI (dialect notes section 7.4). */
export function evpnRouteType(n: EvpnNlri): 2 | 3 | 5 | 6 {
  if (n.group !== '') return 6;
  const mac = n.mac.toLowerCase();
  if (mac === 'ff:ff:ff:ff:ff:ff') return 3;
  if (mac === '' || mac === '00:00:00:00:00:00') return 5;
  return 2;
}

/**
 * The node an agent publishes an entry under (dialect notes section 6). The CN reads only its
 * AFI/SAFI (the VRF comes from the collection, the prefix from the NLRI), so the BUM form, of
 * which the notes give one example (`25/242/255.255.255.255,0.0.0.0/32,<group>,<source>`), is
 * reproduced as shown rather than derived.
 */
export function publishNode(e: Exclude<Entry, RawEntry>, vrf: string): string {
  switch (e.schema) {
    case 'unicast':
      return `${e.nlri.af}/${e.nlri.safi}/${vrf}/${e.nlri.address}`;
    case 'evpn': {
      const n = e.nlri;
      const type = evpnRouteType(n);
      if (type === 2 || type === 5) return `25/242/${n.mac},${n.address}`;
      return `25/242/255.255.255.255,${n.address},${n.group || '255.255.255.255'},${n.source || '0.0.0.0'}`;
    }
    case 'ermvpn':
      return `1/241/${vrf}/${e.nlri.group}`;
  }
}
