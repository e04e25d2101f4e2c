import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import {
  CONTROL_NODE_JID,
  MAX_CONFIG_NODES_PER_IQ,
  XmppFramer,
  applyConfigChange,
  canonicalXml,
  configIq,
  configIqs,
  configSubscribe,
  decodeConfigBody,
  decodeConfigIq,
  decodeConfigNode,
  decodeConfigSubscribe,
  decodeFrame,
  decodeStanza,
  encodeConfigNode,
  encodeConfigSubscribe,
  encodeStanza,
  parseXml,
  serializeXml,
  viewNodes,
  vmConfigSubscribe,
  type ConfigChange,
  type ConfigIq,
  type SubscribeIq,
} from '../../../codecs/xmpp/index.js';
import { emptyAgentView, type AgentView } from '../../../src/config/agent-view.js';
import { agentViewOf, fullView } from '../../../src/control/agent-config.js';
import { loadControlModel } from '../../../src/control/config-model.js';
import { rng, randInt } from '../../support/rng.js';
import { xmlBlocks } from './doc-examples.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const enc = new TextEncoder();

/** The IQs as the CN writes them (with its XML declaration), cut by the framer and decoded back. */
function overTheWire(iqs: ConfigIq[]): ConfigIq[] {
  const framer = new XmppFramer();
  const bytes = enc.encode(iqs.map((iq) => encodeStanza(iq, { declaration: true })).join(''));
  const out: ConfigIq[] = [];
  for (const f of [...framer.push(bytes), ...framer.end()]) {
    const s = decodeFrame(f);
    if (s.kind !== 'config') throw new Error(`expected a config iq, got ${s.kind}`);
    out.push(s);
  }
  return out;
}

function received(iqs: ConfigIq[], from: AgentView): AgentView {
  return overTheWire(iqs).reduce((v, iq) => applyConfigChange(v, decodeConfigIq(iq)), from);
}

/** A view using every optional field and the characters XML escapes. */
const RICH: AgentView = {
  vrouter: { name: 'compute-1', address: '10.0.0.11' },
  networks: [
    { name: 'd:p:vn1', instance: 'd:p:vn1:vn1', id: 7, vxlanId: 4097, subnets: [{ prefix: '10.1.1.0/24', gateway: '10.1.1.254', serviceAddress: '10.1.1.253' }, { prefix: '10.2.0.0/16', gateway: '10.2.255.254', serviceAddress: '10.2.255.253' }] },
    { name: 'd:p:empty', instance: 'd:p:empty:empty', id: 8, subnets: [] },
  ],
  ports: [
    { name: 'd:p:a', network: 'd:p:vn1', instance: 'd:p:vn1:vn1', mac: '02:00:00:00:00:01', ips: ['10.1.1.3', '10.1.1.4'], vrouter: 'compute-1', tags: ['app=a&b', 'tier=<db>'], tagIds: [65537, 131073], pod: 'pa', interface: 'eth1', localPreference: 200 },
    { name: 'd:p:b', network: 'd:p:vn1', instance: 'd:p:vn1:vn1', mac: '02:00:00:00:00:02', ips: [], vrouter: 'compute-1', tags: [], tagIds: [] },
  ],
  floatingIps: [{ name: 'd:p:vn1:pool:f', address: '10.1.1.200', network: 'd:p:vn1', instance: 'd:p:vn1:vn1', ports: ['d:p:a', 'd:p:other'], portMap: [{ protocol: 'udp', port: 53, targetPort: 5353 }, { protocol: 'any', port: 0, targetPort: 65535 }] }],
  services: [{ name: 'd:p:s', network: 'd:p:vn1', instance: 'd:p:vn1:vn1', vip: '10.1.1.100', ports: [{ protocol: 'icmp', port: 1, targetPort: 1 }], backends: ['d:p:a'] }],
  tags: [
    { name: 'app=a&b', id: 65537 },
    { name: 'tier=<db>', id: 0xffffffff },
  ],
  firewallPolicies: [
    {
      name: 'd:p:fw',
      rules: [
        { sequence: 0, action: 'deny', direction: '<', protocol: 'tcp', ports: [80, 443], endpoint1: { tags: ['app=a&b'], network: 'd:p:vn1', any: false }, endpoint2: { tags: [], any: true } },
        { sequence: 4294967295, action: 'pass', direction: '<>', protocol: 'any', ports: [], endpoint1: { tags: [], network: '', any: false }, endpoint2: { tags: ['tier=<db>'], any: false } },
      ],
    },
    { name: 'd:p:none', rules: [] },
  ],
  policySets: [{ name: 'd:p:aps', firewallPolicies: [{ policy: 'd:p:fw', sequence: 2 }], tags: ['app=a&b'] }],
};

describe('config nodes: decode(encode(x)) is x', () => {
  it.each(['cent222', 'cent333'])('for every object of the book lab view of %s, and the whole view over the wire', async (vr) => {
    const m = await loadControlModel(LAB);
    const v = agentViewOf(m, vr);
    expect(v.ports.length).toBeGreaterThan(0);
    expect(v.floatingIps.length).toBeGreaterThan(0);
    for (const n of viewNodes(v)) {
      const text = serializeXml(encodeConfigNode(n));
      expect(decodeConfigNode(parseXml(text))).toStrictEqual(n);
    }
    const iqs = configIqs(vr, fullView(v));
    expect(iqs.length).toBe(Math.ceil(viewNodes(v).length / MAX_CONFIG_NODES_PER_IQ));
    expect(received(iqs, emptyAgentView(vr, ''))).toStrictEqual(v);
  });

  it('for optional fields, empty lists, extreme numbers and escaped characters', () => {
    for (const n of viewNodes(RICH)) expect(decodeConfigNode(parseXml(serializeXml(encodeConfigNode(n))))).toStrictEqual(n);
    expect(received([configIq('compute-1', fullView(RICH))], emptyAgentView('compute-1', ''))).toStrictEqual(RICH);
  });

  it('splits a big view into IQs of at most 64 nodes (or fewer bytes), in order, updates before deletes', () => {
    const big: AgentView = { ...RICH, tags: Array.from({ length: 200 }, (_, i) => ({ name: `label=t${i}`, id: i + 1 })) };
    const change: ConfigChange = { update: viewNodes(big), delete: [{ type: 'tag', name: 'label=gone' }, { type: 'virtual-network', name: 'd:p:old' }] };
    const iqs = configIqs('compute-1', change);
    const counts = iqs.map((iq) => decodeConfigIq(iq)).map((c) => c.update.length + c.delete.length);
    expect(counts.every((c) => c <= 64)).toBe(true);
    expect(counts.reduce((a, b) => a + b)).toBe(change.update.length + 2);
    const back = iqs.map((iq) => decodeConfigIq(iq));
    expect(back.flatMap((c) => c.update)).toStrictEqual(change.update);
    expect(back.flatMap((c) => c.delete)).toStrictEqual(change.delete);
    // The deletes ride in the last IQ, after its updates.
    expect(encodeStanza(iqs[iqs.length - 1]!)).toMatch(/<\/update><delete>.*<\/delete><\/config><\/iq>$/);

    const small = configIqs('compute-1', change, { maxBytes: 2000 });
    for (const iq of small) {
      const c = decodeConfigIq(iq);
      if (c.update.length + c.delete.length > 1) expect(serializeXml(iq.config).length).toBeLessThan(2000 + 200);
    }
    expect(small.flatMap((iq) => decodeConfigIq(iq).update)).toStrictEqual(change.update);
    expect(configIqs('compute-1', { update: [], delete: [] })).toEqual([]);
  });

  it('reads properties in any order, skips links, node types and properties it does not know', () => {
    const n = viewNodes(RICH).find((x) => x.type === 'virtual-machine-interface')!;
    const el = encodeConfigNode(n);
    el.children.reverse();
    el.children.push(parseXml('<id-perms><enable>true</enable></id-perms>'));
    expect(decodeConfigNode(el)).toStrictEqual(n);
    const body = parseXml(
      `<config><update>
        <node type="virtual-machine"><name>c8a0</name><virtual-machine-properties/></node>
        ${serializeXml(encodeConfigNode(n))}
        <link><node type="virtual-router"><name>default-global-system-config:compute-1</name></node><node type="virtual-machine"><name>c8a0</name></node><metadata type="virtual-router-virtual-machine"/></link>
      </update><delete><node type="virtual-machine"><name>c8a0</name></node><node type="tag"><name>app=x</name></node></delete></config>`,
    );
    expect(decodeConfigBody(body)).toStrictEqual({ update: [n], delete: [{ type: 'tag', name: 'app=x' }] });
  });
});

describe('config IQ wire shape (dialect notes 8.1 and 15)', () => {
  const blocks = xmlBlocks();
  const doc15 = blocks.find((b) => b.text.includes('<config>'))!;
  const doc81 = blocks.find((b) => b.text.includes('virtual-router:default-global-system-config:'))!;

  it('finds the examples', () => {
    expect(doc15).toBeDefined();
    expect(doc81).toBeDefined();
  });

  it('the CN config IQ has the example\'s envelope, block and node shape, and the example decodes', () => {
    const ours = configIq('compute-1', { update: [{ type: 'virtual-router', value: { name: 'compute-1', address: '10.0.0.11' } }], delete: [] });
    // The notes' placeholders filled in with what they stand for: the node's properties, link names.
    const filled = doc15.text.replace('…properties…', '<address>10.0.0.11</address>').replace(/<name>…<\/name>/g, '<name>x</name>');
    const doc = parseXml(filled);
    const mine = parseXml(encodeStanza(ours, { declaration: true }).replace(/^<\?xml[^>]*\?>/, ''));
    expect(mine.attrs).toEqual(doc.attrs);
    expect(Object.keys(mine.attrs)).toEqual(Object.keys(doc.attrs));
    expect(mine.attrs).toEqual({ type: 'set', from: CONTROL_NODE_JID, to: 'default-global-system-config:compute-1/config' });
    // iq > config > update > node[type] > name first: the same path as the example's.
    const path = (e: ReturnType<typeof parseXml>) => {
      const config = e.children.find((c) => typeof c !== 'string')! as ReturnType<typeof parseXml>;
      const update = config.children.find((c) => typeof c !== 'string')! as ReturnType<typeof parseXml>;
      const node = update.children.find((c) => typeof c !== 'string')! as ReturnType<typeof parseXml>;
      const name = node.children.find((c) => typeof c !== 'string')! as ReturnType<typeof parseXml>;
      return [config.name, update.name, node.name, node.attrs['type'], name.name, name.children.join('')];
    };
    expect(path(mine)).toEqual(path(doc));
    expect(canonicalXml(mine)).toBe(canonicalXml(parseXml(canonicalXml(doc).replace(/<link>.*<\/link>/, ''))));
    const s = decodeStanza(doc);
    expect(s.kind).toBe('config');
    expect(decodeConfigIq(s as ConfigIq)).toStrictEqual(decodeConfigIq(ours));
    expect(encodeStanza(ours, { declaration: true }).startsWith('<?xml version="1.0"?><iq type="set"')).toBe(true);
  });

  it('the agent\'s config subscription is the example of 8.1 (and decodes to its vrouter)', () => {
    const s = blocksStanza(doc81.text);
    const mine = encodeConfigSubscribe('compute-1', { kind: 'subscribe', target: 'virtual-router', vrouter: 'compute-1' });
    expect(s).toEqual(mine);
    expect(mine).toEqual(configSubscribe('compute-1'));
    expect(canonicalXml(parseXml(encodeStanza(mine)))).toBe(canonicalXml(parseXml(doc81.text)));
    expect(decodeConfigSubscribe(s)).toEqual({ kind: 'subscribe', target: 'virtual-router', vrouter: 'compute-1' });
    const vm = encodeConfigSubscribe('compute-1', { kind: 'unsubscribe', target: 'virtual-machine', uuid: 'c8a0-11' });
    expect(vm).toEqual(vmConfigSubscribe('compute-1', 'c8a0-11', true));
    expect(decodeConfigSubscribe(blocksStanza(encodeStanza(vm)))).toEqual({ kind: 'unsubscribe', target: 'virtual-machine', uuid: 'c8a0-11' });
    const un = encodeConfigSubscribe('compute-1', { kind: 'unsubscribe', target: 'virtual-router', vrouter: 'compute-1' });
    expect(encodeStanza(un)).toContain('<unsubscribe node="virtual-router:default-global-system-config:compute-1"/>');
    expect(decodeConfigSubscribe(blocksStanza(encodeStanza(un)))).toEqual({ kind: 'unsubscribe', target: 'virtual-router', vrouter: 'compute-1' });
  });
});

function blocksStanza(text: string): SubscribeIq {
  const s = decodeStanza(parseXml(text.trim()));
  if (s.kind !== 'subscribe' && s.kind !== 'unsubscribe') throw new Error(`not a subscription: ${s.kind}`);
  return s;
}

describe('malformed config input is a DecodeError, and only that', () => {
  const vr = (inner: string) => `<node type="virtual-router"><name>default-global-system-config:c1</name>${inner}</node>`;
  const tag = (inner: string) => `<node type="tag"><name>app=a</name>${inner}</node>`;
  const rule = (inner: string) =>
    `<node type="firewall-policy"><name>d:p:fw</name><rules><rule><sequence>1</sequence><action>pass</action><direction>&lt;&gt;</direction><protocol>tcp</protocol><ports/>${inner}</rule></rules></node>`;
  const ep = '<endpoint-1><tags/><any>false</any></endpoint-1><endpoint-2><tags/><any>true</any></endpoint-2>';
  const cases: [string, string, RegExp][] = [
    ['node without a type', '<config><update><node><name>x</name></node></update></config>', /@type: missing/],
    ['node without a name', '<config><update><node type="tag"><id>1</id></node></update></config>', /\.name: missing/],
    ['node with two names', `<config><update>${tag('<name>app=b</name><id>1</id>')}</update></config>`, /\.name: repeated/],
    ['empty name', '<config><delete><node type="tag"><name/></node></delete></config>', /\.name: empty/],
    ['vrouter name without its prefix', '<config><update><node type="virtual-router"><name>c1</name><address>1.1.1.1</address></node></update></config>', /default-global-system-config:<vrouter>/],
    ['vrouter delete with a bare prefix', '<config><delete><node type="virtual-router"><name>default-global-system-config:</name></node></delete></config>', /default-global-system-config:<vrouter>/],
    ['missing property', `<config><update>${vr('')}</update></config>`, /\.address: missing/],
    ['repeated property', `<config><update>${tag('<id>1</id><id>2</id>')}</update></config>`, /\.id: repeated/],
    ['integer with letters', `<config><update>${tag('<id>1x</id>')}</update></config>`, /\.id: not an unsigned decimal integer/],
    ['negative integer', `<config><update>${tag('<id>-1</id>')}</update></config>`, /not an unsigned/],
    ['empty integer', `<config><update>${tag('<id></id>')}</update></config>`, /not an unsigned/],
    ['integer over 32 bits', `<config><update>${tag('<id>4294967296</id>')}</update></config>`, /larger than 4294967295/],
    ['port over 65535', `<config><update>${rule(ep).replace('<ports/>', '<ports><port>65536</port></ports>')}</update></config>`, /ports\.port\[0\]: larger than 65535/],
    ['unknown enum value', `<config><update>${rule(ep).replace('<protocol>tcp</protocol>', '<protocol>sctp</protocol>')}</update></config>`, /protocol: expected one of tcp udp icmp any/],
    ['boolean not true/false', `<config><update>${rule(ep.replace('<any>true</any>', '<any>yes</any>'))}</update></config>`, /any: expected true or false/],
    ['missing endpoint', `<config><update>${rule('<endpoint-1><tags/><any>false</any></endpoint-1>')}</update></config>`, /endpoint-2: missing/],
    ['elements inside a leaf', `<config><update>${tag('<id><x/></id>')}</update></config>`, /expected text/],
    ['text inside a node', `<config><update>${tag('<id>1</id>junk')}</update></config>`, /unexpected text/],
    ['text inside a list', `<config><update><node type="application-policy-set"><name>a</name><firewall-policies>x</firewall-policies><tags/></node></update></config>`, /unexpected text/],
    ['text inside config', '<config>junk</config>', /unexpected text/],
    ['unknown block', '<config><replace/></config>', /expected <update> or <delete>/],
    ['not a node in update', '<config><update><item/></update></config>', /expected <node> or <link>/],
    ['not a config element', '<update/>', /expected <config>/],
  ];

  it.each(cases)('%s', (_what, xml, reason) => {
    let err: unknown;
    try {
      decodeConfigBody(parseXml(xml));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    const e = err as DecodeError;
    expect(`${e.field}: ${e.reason}`).toMatch(reason);
    expect(e.field.startsWith('iq.config')).toBe(true);
  });

  it.each([
    ['virtual-router:compute-1', /virtual-router:default-global-system-config:<vrouter>/],
    ['virtual-router:default-global-system-config:', /virtual-router:default-global-system-config:<vrouter>/],
    ['virtual-router:default-global-system-config:a:b', /virtual-router:default-global-system-config:<vrouter>/],
    ['virtual-machine:', /without a uuid/],
    ['default-domain:admin:vn1:vn1', /expected virtual-router/],
    ['', /\(empty\)/],
  ])('config subscription to %j', (node, reason) => {
    const iq: SubscribeIq = { kind: 'subscribe', type: 'set', from: 'c1', to: 'network-control@contrailsystems.com/config', node };
    expect(() => decodeConfigSubscribe(iq)).toThrow(DecodeError);
    expect(() => decodeConfigSubscribe(iq)).toThrow(reason);
  });

  it('mutated IQs either decode or throw DecodeError, never anything else', async () => {
    const m = await loadControlModel(LAB);
    const text = encodeStanza(configIq('cent222', fullView(agentViewOf(m, 'cent222'))));
    const r = rng(0xc0f19);
    const alphabet = '<>/="&; x1-:\n';
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 800; i++) {
      let t = text;
      for (let k = 1 + randInt(r, 3); k > 0; k--) {
        const at = randInt(r, t.length);
        const op = randInt(r, 3);
        const ch = alphabet[randInt(r, alphabet.length)]!;
        t = op === 0 ? t.slice(0, at) + t.slice(at + 1) : op === 1 ? t.slice(0, at) + ch + t.slice(at) : t.slice(0, at) + ch + t.slice(at + 1);
      }
      try {
        const s = decodeStanza(parseXml(t));
        if (s.kind === 'config') decodeConfigIq(s);
        decoded++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        refused++;
      }
    }
    expect(decoded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
