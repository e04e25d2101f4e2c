import type {
  AgentView,
  ViewFirewallPolicy,
  ViewFloatingIp,
  ViewNetwork,
  ViewPolicySet,
  ViewPort,
  ViewService,
  ViewTag,
} from '../../src/config/agent-view.js';
import { DecodeError } from '../util/errors.js';
import { CONFIG_JID, CONTROL_NODE_JID, VR_FQN_PREFIX } from './constants.js';
import type { ConfigIq, SubscribeIq } from './stanzas.js';
import { leafText, serializeXml, xmlOffset, type XmlElement, type XmlNode } from './xml.js';

/**
 * The configuration the control node pushes to an agent over its XMPP session (dialect notes
 * sections 5 steps 5-7, 8.1 and 15): the agent's config subscription, and the CN's IFMap-shaped
 * config IQs whose `<node type="..."><name>fq name</name>...</node>` elements carry the objects
 * of an AgentView (src/config/agent-view.ts).
 *
 * Node types keep Contrail's names. Properties are child elements named in kebab-case after
 * the AgentView fields; lists are repeated elements inside a wrapper named after the field
 * (`<ips><ip>..</ip></ips>`), written even when empty, as the generated IFMap encoders do.
 * weft carries references as properties (a port names its network) rather than as IFMap
 * `<link>` elements: a real CN's links are skipped on decode, as are node types and
 * properties weft does not push (forward compatibility, as items.ts keeps unknown elements).
 * Everything else that does not fit (missing or repeated property, bad integer or enum, text
 * between elements, a malformed name) is a DecodeError.
 */

// ---------------------------------------------------------------------------------------------
// Types

export type ViewRouter = AgentView['vrouter'];

export interface ConfigNodeValues {
  'virtual-router': ViewRouter;
  'virtual-network': ViewNetwork;
  tag: ViewTag;
  'virtual-machine-interface': ViewPort;
  'floating-ip': ViewFloatingIp;
  /**
   * weft's ClusterIP / LoadBalancer service. Contrail has no such node (its Kubernetes manager
   * makes loadbalancer objects of several types); one weft node is what the agent needs.
   */
  service: ViewService;
  'firewall-policy': ViewFirewallPolicy;
  'application-policy-set': ViewPolicySet;
}

export type ConfigNodeType = keyof ConfigNodeValues;

/** In dependency order: a node names only nodes of earlier types. Updates go this way, deletes the other. */
export const CONFIG_NODE_TYPES: readonly ConfigNodeType[] = [
  'virtual-router',
  'virtual-network',
  'tag',
  'virtual-machine-interface',
  'floating-ip',
  'service',
  'firewall-policy',
  'application-policy-set',
];

export type ConfigNode = { [T in ConfigNodeType]: { type: T; value: ConfigNodeValues[T] } }[ConfigNodeType];

/** What a `<delete>` names. For the virtual-router the name is the plain vrouter name, as in the view. */
export interface ConfigNodeRef {
  type: ConfigNodeType;
  name: string;
}

/** One config IQ's content (or a whole push before it is split into IQs). */
export interface ConfigChange {
  update: ConfigNode[];
  delete: ConfigNodeRef[];
}

export type ConfigSubscription =
  | { kind: 'subscribe' | 'unsubscribe'; target: 'virtual-router'; vrouter: string }
  | { kind: 'subscribe' | 'unsubscribe'; target: 'virtual-machine'; uuid: string };

/** An IQ stays at most this many nodes (and bytes, unless one node alone is larger). */
export const MAX_CONFIG_NODES_PER_IQ = 64;
export const MAX_CONFIG_IQ_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// Property tables, one row per element in encode order; decode looks rows up by element name.

type Spec = readonly Field[];
type Field =
  | { xml: string; key: string; t: 'str'; opt?: true }
  | { xml: string; key: string; t: 'bool' }
  | { xml: string; key: string; t: 'u32'; max?: number; opt?: true }
  | { xml: string; key: string; t: 'enum'; values: readonly string[] }
  | { xml: string; key: string; t: 'str[]'; item: string }
  | { xml: string; key: string; t: 'u32[]'; item: string; max?: number }
  | { xml: string; key: string; t: 'obj'; spec: Spec }
  | { xml: string; key: string; t: 'obj[]'; item: string; spec: Spec };

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'any'] as const;
const L4_PORT = 65535;

const ROUTER: Spec = [{ xml: 'address', key: 'address', t: 'str' }];

const SUBNET: Spec = [
  { xml: 'prefix', key: 'prefix', t: 'str' },
  { xml: 'gateway', key: 'gateway', t: 'str' },
  { xml: 'service-address', key: 'serviceAddress', t: 'str' },
];

const NETWORK: Spec = [
  { xml: 'instance', key: 'instance', t: 'str' },
  { xml: 'id', key: 'id', t: 'u32' },
  { xml: 'vxlan-id', key: 'vxlanId', t: 'u32', opt: true },
  { xml: 'subnets', key: 'subnets', t: 'obj[]', item: 'subnet', spec: SUBNET },
];

const TAG: Spec = [{ xml: 'id', key: 'id', t: 'u32' }];

const PORT: Spec = [
  { xml: 'network', key: 'network', t: 'str' },
  { xml: 'instance', key: 'instance', t: 'str' },
  { xml: 'mac', key: 'mac', t: 'str' },
  { xml: 'ips', key: 'ips', t: 'str[]', item: 'ip' },
  { xml: 'vrouter', key: 'vrouter', t: 'str' },
  { xml: 'tags', key: 'tags', t: 'str[]', item: 'tag' },
  { xml: 'tag-ids', key: 'tagIds', t: 'u32[]', item: 'tag-id' },
  { xml: 'pod', key: 'pod', t: 'str', opt: true },
  { xml: 'interface', key: 'interface', t: 'str', opt: true },
  { xml: 'local-preference', key: 'localPreference', t: 'u32', opt: true },
];

const PORT_MAP: Spec = [
  { xml: 'protocol', key: 'protocol', t: 'enum', values: PROTOCOLS },
  { xml: 'port', key: 'port', t: 'u32', max: L4_PORT },
  { xml: 'target-port', key: 'targetPort', t: 'u32', max: L4_PORT },
];

const FLOATING_IP: Spec = [
  { xml: 'address', key: 'address', t: 'str' },
  { xml: 'network', key: 'network', t: 'str' },
  { xml: 'instance', key: 'instance', t: 'str' },
  { xml: 'ports', key: 'ports', t: 'str[]', item: 'port' },
  { xml: 'port-map', key: 'portMap', t: 'obj[]', item: 'port-mapping', spec: PORT_MAP },
];

const SERVICE: Spec = [
  { xml: 'network', key: 'network', t: 'str' },
  { xml: 'instance', key: 'instance', t: 'str' },
  { xml: 'vip', key: 'vip', t: 'str' },
  { xml: 'ports', key: 'ports', t: 'obj[]', item: 'port-mapping', spec: PORT_MAP },
  { xml: 'backends', key: 'backends', t: 'str[]', item: 'backend' },
];

const ENDPOINT: Spec = [
  { xml: 'tags', key: 'tags', t: 'str[]', item: 'tag' },
  { xml: 'network', key: 'network', t: 'str', opt: true },
  { xml: 'any', key: 'any', t: 'bool' },
];

const RULE: Spec = [
  { xml: 'sequence', key: 'sequence', t: 'u32' },
  { xml: 'action', key: 'action', t: 'enum', values: ['pass', 'deny'] },
  { xml: 'direction', key: 'direction', t: 'enum', values: ['<>', '>', '<'] },
  { xml: 'protocol', key: 'protocol', t: 'enum', values: PROTOCOLS },
  { xml: 'ports', key: 'ports', t: 'u32[]', item: 'port', max: L4_PORT },
  { xml: 'endpoint-1', key: 'endpoint1', t: 'obj', spec: ENDPOINT },
  { xml: 'endpoint-2', key: 'endpoint2', t: 'obj', spec: ENDPOINT },
];

const FIREWALL_POLICY: Spec = [{ xml: 'rules', key: 'rules', t: 'obj[]', item: 'rule', spec: RULE }];

const POLICY_SET: Spec = [
  {
    xml: 'firewall-policies',
    key: 'firewallPolicies',
    t: 'obj[]',
    item: 'firewall-policy',
    spec: [
      { xml: 'policy', key: 'policy', t: 'str' },
      { xml: 'sequence', key: 'sequence', t: 'u32' },
    ],
  },
  { xml: 'tags', key: 'tags', t: 'str[]', item: 'tag' },
];

const SPECS: Record<ConfigNodeType, Spec> = {
  'virtual-router': ROUTER,
  'virtual-network': NETWORK,
  tag: TAG,
  'virtual-machine-interface': PORT,
  'floating-ip': FLOATING_IP,
  service: SERVICE,
  'firewall-policy': FIREWALL_POLICY,
  'application-policy-set': POLICY_SET,
};

const byNameMemo = new WeakMap<Spec, Map<string, Field>>();
function byName(spec: Spec): Map<string, Field> {
  let m = byNameMemo.get(spec);
  if (!m) byNameMemo.set(spec, (m = new Map(spec.map((f) => [f.xml, f]))));
  return m;
}

function isNodeType(t: string): t is ConfigNodeType {
  return Object.prototype.hasOwnProperty.call(SPECS, t);
}

// ---------------------------------------------------------------------------------------------
// Encoding

type Obj = Record<string, unknown>;

function el(name: string, attrs: Record<string, string> = {}, children: XmlNode[] = []): XmlElement {
  return { name, attrs, children };
}

function leaf(name: string, t: string): XmlElement {
  return el(name, {}, t === '' ? [] : [t]);
}

function encodeProps(o: Obj, spec: Spec, into: XmlNode[]): XmlNode[] {
  for (const f of spec) {
    const v = o[f.key];
    if (v === undefined && 'opt' in f) continue;
    into.push(encodeField(f, v));
  }
  return into;
}

function encodeField(f: Field, v: unknown): XmlElement {
  switch (f.t) {
    case 'str':
    case 'enum':
      return leaf(f.xml, String(v ?? ''));
    case 'u32':
      return leaf(f.xml, String(v ?? 0));
    case 'bool':
      return leaf(f.xml, v ? 'true' : 'false');
    case 'obj':
      return el(f.xml, {}, encodeProps((v ?? {}) as Obj, f.spec, []));
    case 'str[]':
    case 'u32[]':
      return el(f.xml, {}, ((v ?? []) as unknown[]).map((x) => leaf(f.item, String(x))));
    case 'obj[]':
      return el(f.xml, {}, ((v ?? []) as Obj[]).map((x) => el(f.item, {}, encodeProps(x, f.spec, []))));
  }
}

/** The IFMap name of a node: the vrouter's is `default-global-system-config:<name>`, the others' their fq name. */
function wireName(type: ConfigNodeType, name: string): string {
  return type === 'virtual-router' ? VR_FQN_PREFIX + name : name;
}

export function encodeConfigNode(n: ConfigNode): XmlElement {
  const v = n.value as unknown as Obj;
  const children: XmlNode[] = [leaf('name', wireName(n.type, n.value.name))];
  return el('node', { type: n.type }, encodeProps(v, SPECS[n.type], children));
}

export function encodeConfigNodeRef(r: ConfigNodeRef): XmlElement {
  return el('node', { type: r.type }, [leaf('name', wireName(r.type, r.name))]);
}

/** The `<config>` element of one IQ. Empty blocks are left out. */
export function encodeConfigBody(c: ConfigChange): XmlElement {
  const kids: XmlElement[] = [];
  if (c.update.length) kids.push(el('update', {}, c.update.map(encodeConfigNode)));
  if (c.delete.length) kids.push(el('delete', {}, c.delete.map(encodeConfigNodeRef)));
  return el('config', {}, kids);
}

/** `default-global-system-config:<vrouter>/config`: where the CN addresses config IQs (section 15). */
export function configIqTo(vrouter: string): string {
  return `${VR_FQN_PREFIX}${vrouter}/config`;
}

export function configIq(vrouter: string, c: ConfigChange): ConfigIq {
  return { kind: 'config', type: 'set', from: CONTROL_NODE_JID, to: configIqTo(vrouter), config: encodeConfigBody(c) };
}

/**
 * A change as the IQs that carry it, in order: updates (in the order given) then deletes, cut
 * so that no IQ holds more than `maxNodes` nodes or, unless one node alone is larger,
 * `maxBytes` bytes of nodes: the peer's framer refuses units beyond its limit (1 MiB by
 * default) and one IQ per node would cost an envelope each. An empty change is no IQ.
 */
export function configIqs(vrouter: string, c: ConfigChange, opts: { maxNodes?: number; maxBytes?: number } = {}): ConfigIq[] {
  const maxNodes = Math.max(1, opts.maxNodes ?? MAX_CONFIG_NODES_PER_IQ);
  const maxBytes = Math.max(1, opts.maxBytes ?? MAX_CONFIG_IQ_BYTES);
  const ops: { del: boolean; el: XmlElement; bytes: number }[] = [];
  for (const n of c.update) ops.push(sized(false, encodeConfigNode(n)));
  for (const r of c.delete) ops.push(sized(true, encodeConfigNodeRef(r)));
  const out: ConfigIq[] = [];
  let i = 0;
  while (i < ops.length) {
    const up: XmlElement[] = [];
    const del: XmlElement[] = [];
    let bytes = 0;
    while (i < ops.length && up.length + del.length < maxNodes) {
      const op = ops[i]!;
      if (up.length + del.length > 0 && bytes + op.bytes > maxBytes) break;
      (op.del ? del : up).push(op.el);
      bytes += op.bytes;
      i++;
    }
    const kids: XmlElement[] = [];
    if (up.length) kids.push(el('update', {}, up));
    if (del.length) kids.push(el('delete', {}, del));
    out.push({ kind: 'config', type: 'set', from: CONTROL_NODE_JID, to: configIqTo(vrouter), config: el('config', {}, kids) });
  }
  return out;
}

function sized(del: boolean, e: XmlElement): { del: boolean; el: XmlElement; bytes: number } {
  return { del, el: e, bytes: Buffer.byteLength(serializeXml(e)) };
}

/** The agent's config (un)subscription (section 8.1): no `id`, no options. */
export function encodeConfigSubscribe(from: string, s: ConfigSubscription): SubscribeIq {
  const node = s.target === 'virtual-router' ? `virtual-router:${VR_FQN_PREFIX}${s.vrouter}` : `virtual-machine:${s.uuid}`;
  return { kind: s.kind, type: 'set', from, to: CONFIG_JID, node };
}

// ---------------------------------------------------------------------------------------------
// Decoding

function fail(path: string, at: XmlElement | undefined, reason: string): never {
  throw new DecodeError(path, at ? xmlOffset(at) : 0, reason);
}

function noText(e: XmlElement, path: string): void {
  for (const c of e.children) if (typeof c === 'string' && c.trim() !== '') fail(path, e, 'unexpected text');
}

function textOf(e: XmlElement, path: string): string {
  const t = leafText(e);
  if (t === undefined) fail(path, e, 'expected text, found child elements');
  return t;
}

/** Decimal digits only (blanks around allowed): unlike route items, config has no "empty = 0". */
function uint(e: XmlElement, path: string, max = 0xffffffff): number {
  const t = textOf(e, path).trim();
  if (!/^[0-9]{1,10}$/.test(t)) fail(path, e, 'not an unsigned decimal integer');
  const v = Number(t);
  if (v > max) fail(path, e, `larger than ${max}`);
  return v;
}

function decodeProps(e: XmlElement, spec: Spec, path: string, head: Obj = {}, skip?: string): Obj {
  noText(e, path);
  const fields = byName(spec);
  const got: Obj = {};
  for (const c of e.children) {
    if (typeof c === 'string' || c.name === skip) continue;
    const f = fields.get(c.name);
    if (!f) continue;
    const p = `${path}.${c.name}`;
    if (got[f.key] !== undefined) fail(p, c, 'repeated');
    got[f.key] = decodeField(c, f, p);
  }
  // Keys in spec order, whatever the element order was.
  const out: Obj = { ...head };
  for (const f of spec) {
    if (got[f.key] !== undefined) out[f.key] = got[f.key];
    else if (!('opt' in f)) fail(`${path}.${f.xml}`, e, 'missing');
  }
  return out;
}

function decodeField(e: XmlElement, f: Field, path: string): unknown {
  switch (f.t) {
    case 'str':
      return textOf(e, path);
    case 'u32':
      return uint(e, path, f.max);
    case 'bool': {
      const t = textOf(e, path).trim();
      if (t !== 'true' && t !== 'false') fail(path, e, 'expected true or false');
      return t === 'true';
    }
    case 'enum': {
      const t = textOf(e, path).trim();
      if (!f.values.includes(t)) fail(path, e, `expected one of ${f.values.join(' ')}`);
      return t;
    }
    case 'obj':
      return decodeProps(e, f.spec, path);
    case 'str[]':
    case 'u32[]':
    case 'obj[]': {
      noText(e, path);
      const out: unknown[] = [];
      for (const c of e.children) {
        if (typeof c === 'string' || c.name !== f.item) continue;
        const p = `${path}.${f.item}[${out.length}]`;
        if (f.t === 'str[]') out.push(textOf(c, p));
        else if (f.t === 'u32[]') out.push(uint(c, p, f.max));
        else out.push(decodeProps(c, f.spec, p));
      }
      return out;
    }
  }
}

/** The node's `<name>`, as the view names it (the vrouter's without its prefix). */
function nodeNameOf(e: XmlElement, type: ConfigNodeType, path: string): string {
  let name: XmlElement | undefined;
  for (const c of e.children) {
    if (typeof c === 'string' || c.name !== 'name') continue;
    if (name) fail(`${path}.name`, c, 'repeated');
    name = c;
  }
  if (!name) fail(`${path}.name`, e, 'missing');
  const t = textOf(name, `${path}.name`);
  if (t === '') fail(`${path}.name`, name, 'empty');
  if (type !== 'virtual-router') return t;
  const vr = t.startsWith(VR_FQN_PREFIX) ? t.slice(VR_FQN_PREFIX.length) : '';
  if (vr === '' || vr.includes(':')) fail(`${path}.name`, name, `expected ${VR_FQN_PREFIX}<vrouter>`);
  return vr;
}

function nodeTypeOf(e: XmlElement, path: string): ConfigNodeType | undefined {
  const t = e.attrs['type'];
  if (t === undefined || t === '') fail(`${path}@type`, e, 'missing');
  return isNodeType(t) ? t : undefined;
}

/** A `<node>` of an update; undefined for node types weft does not push. */
export function decodeConfigNode(e: XmlElement, path = 'node'): ConfigNode | undefined {
  if (e.name !== 'node') fail(path, e, `expected <node>, found <${e.name}>`);
  const type = nodeTypeOf(e, path);
  if (type === undefined) return undefined;
  const name = nodeNameOf(e, type, path);
  const value = decodeProps(e, SPECS[type], path, { name }, 'name');
  return { type, value } as unknown as ConfigNode;
}

/** A `<node>` of a delete: its type and name only. */
export function decodeConfigNodeRef(e: XmlElement, path = 'node'): ConfigNodeRef | undefined {
  if (e.name !== 'node') fail(path, e, `expected <node>, found <${e.name}>`);
  const type = nodeTypeOf(e, path);
  if (type === undefined) return undefined;
  noText(e, path);
  return { type, name: nodeNameOf(e, type, path) };
}

/** The `<config>` element of a CN config IQ. */
export function decodeConfigBody(config: XmlElement, path = 'iq.config'): ConfigChange {
  if (config.name !== 'config') fail(path, config, `expected <config>, found <${config.name}>`);
  noText(config, path);
  const out: ConfigChange = { update: [], delete: [] };
  for (const block of config.children) {
    if (typeof block === 'string') continue;
    const del = block.name === 'delete';
    if (!del && block.name !== 'update') fail(`${path}.${block.name}`, block, 'expected <update> or <delete>');
    const bp = `${path}.${block.name}`;
    noText(block, bp);
    let i = 0;
    for (const c of block.children) {
      if (typeof c === 'string' || c.name === 'link') continue;
      const p = `${bp}.node[${i++}]`;
      if (c.name !== 'node') fail(`${bp}.${c.name}`, c, 'expected <node> or <link>');
      if (del) {
        const r = decodeConfigNodeRef(c, p);
        if (r) out.delete.push(r);
      } else {
        const n = decodeConfigNode(c, p);
        if (n) out.update.push(n);
      }
    }
  }
  return out;
}

export function decodeConfigIq(iq: ConfigIq): ConfigChange {
  return decodeConfigBody(iq.config);
}

/**
 * A config (un)subscription of an agent (section 8.1), from a subscribe IQ addressed to the
 * config module. Nodes other than `virtual-router:default-global-system-config:<vrouter>` and
 * `virtual-machine:<uuid>` are malformed.
 */
export function decodeConfigSubscribe(iq: SubscribeIq): ConfigSubscription {
  const path = `iq.pubsub.${iq.kind}@node`;
  const node = iq.node;
  if (node.startsWith('virtual-router:')) {
    const fq = node.slice('virtual-router:'.length);
    const vrouter = fq.startsWith(VR_FQN_PREFIX) ? fq.slice(VR_FQN_PREFIX.length) : '';
    if (vrouter === '' || vrouter.includes(':')) fail(path, undefined, `expected virtual-router:${VR_FQN_PREFIX}<vrouter>, found ${node}`);
    return { kind: iq.kind, target: 'virtual-router', vrouter };
  }
  if (node.startsWith('virtual-machine:')) {
    const uuid = node.slice('virtual-machine:'.length);
    if (uuid === '') fail(path, undefined, 'virtual-machine: without a uuid');
    return { kind: iq.kind, target: 'virtual-machine', uuid };
  }
  return fail(path, undefined, `expected virtual-router:... or virtual-machine:..., found ${node === '' ? '(empty)' : node}`);
}

// ---------------------------------------------------------------------------------------------
// A view as nodes, and nodes applied to a view

type ListKey = 'networks' | 'ports' | 'floatingIps' | 'services' | 'tags' | 'firewallPolicies' | 'policySets';

const LIST_OF: Record<Exclude<ConfigNodeType, 'virtual-router'>, ListKey> = {
  'virtual-network': 'networks',
  tag: 'tags',
  'virtual-machine-interface': 'ports',
  'floating-ip': 'floatingIps',
  service: 'services',
  'firewall-policy': 'firewallPolicies',
  'application-policy-set': 'policySets',
};

/** Every object of a view as a node, in CONFIG_NODE_TYPES order (each list in its own order). */
export function viewNodes(v: AgentView): ConfigNode[] {
  const out: ConfigNode[] = [{ type: 'virtual-router', value: v.vrouter }];
  for (const type of CONFIG_NODE_TYPES) {
    if (type === 'virtual-router') continue;
    for (const value of v[LIST_OF[type]]) out.push({ type, value } as ConfigNode);
  }
  return out;
}

export function configNodeRef(n: ConfigNode): ConfigNodeRef {
  return { type: n.type, name: n.value.name };
}

/**
 * The view after a change: updated objects replace the one of the same name in place or are
 * appended, deleted ones are removed (a deleted vrouter keeps its name, loses its address).
 * Returns a new view; the one given is not touched.
 */
export function applyConfigChange(v: AgentView, c: ConfigChange): AgentView {
  const out: AgentView = {
    vrouter: v.vrouter,
    networks: [...v.networks],
    ports: [...v.ports],
    floatingIps: [...v.floatingIps],
    services: [...v.services],
    tags: [...v.tags],
    firewallPolicies: [...v.firewallPolicies],
    policySets: [...v.policySets],
  };
  for (const n of c.update) {
    if (n.type === 'virtual-router') {
      out.vrouter = n.value;
      continue;
    }
    const list = out[LIST_OF[n.type]] as { name: string }[];
    const i = list.findIndex((x) => x.name === n.value.name);
    if (i >= 0) list[i] = n.value;
    else list.push(n.value);
  }
  for (const r of c.delete) {
    if (r.type === 'virtual-router') {
      if (r.name === out.vrouter.name) out.vrouter = { name: r.name, address: '' };
      continue;
    }
    const key = LIST_OF[r.type];
    out[key] = (out[key] as { name: string }[]).filter((x) => x.name !== r.name) as never;
  }
  return out;
}
