import { describe, expect, it } from 'vitest';
import {
  CONTROL_NODE_JID,
  XmppFramer,
  agentEor,
  agentStreamOpen,
  canonicalXml,
  configSubscribe,
  decodeEntry,
  decodeEntryPart,
  decodeFrame,
  decodeStanza,
  decodeStreamOpen,
  encodeEntry,
  encodeEntryPart,
  encodeStanza,
  encodeStreamOpen,
  evpnRouteType,
  parseOpenTag,
  parseXml,
  parseXmlFragment,
  routePublish,
  routeSubscribe,
  routeUpdateMessages,
  serverEor,
  serverStreamOpen,
  startTag,
  tlsFeatures,
  unicastEntry,
  unicastNextHop,
  type EntryPart,
  type Stanza,
  type UnicastEntry,
} from '../../../codecs/xmpp/index.js';
import { inlineTlsElements, xmlBlocks, type DocExample } from './doc-examples.js';

/**
 * Every XML example of docs/contrail-xmpp-dialect.md is parsed, typed, re-encoded and compared
 * with the original (canonical form: insignificant whitespace between elements dropped, empty
 * elements written one way). Placeholders such as `<entry> … §7.1 fields … </entry>` are
 * replaced by the section 7.1 entry, which is what they refer to.
 */

const blocks = xmlBlocks();
const entryBlock = blocks.find((b) => b.text.trim().startsWith('<entry>') && !b.text.includes('…'));
const ENTRY_PLACEHOLDER = /<entry>\s*…[^<]*<\/entry>/g;

function substitute(text: string): string {
  return text.replace(ENTRY_PLACEHOLDER, () => entryBlock!.text.trim());
}

const enc = new TextEncoder();

/** Frame a block with the framer (one push), decode each unit, check its round trip. */
function stanzasOf(ex: DocExample): Stanza[] {
  const framer = new XmppFramer();
  const frames = [...framer.push(enc.encode(substitute(ex.text))), ...framer.end()];
  const out: Stanza[] = [];
  for (const f of frames) {
    const s = decodeFrame(f);
    if (s.kind === 'whitespace') continue;
    if (f.kind === 'element') {
      const again = encodeStanza(s);
      expect(canonicalXml(parseXml(again)), `line ${ex.line}`).toBe(canonicalXml(parseXml(f.text)));
      expect(decodeStanza(parseXml(again))).toEqual(s);
    }
    out.push(s);
  }
  return out;
}

interface Decoded {
  line: number;
  stanzas: Stanza[];
  entry?: UnicastEntry;
  parts?: { name: string; value: unknown }[];
}

function decodeExample(ex: DocExample): Decoded {
  const text = substitute(ex.text).trim();
  if (text.startsWith('<stream:stream')) {
    const h = decodeStreamOpen(text);
    // The header is written exactly as the C++ encoder does, byte for byte.
    expect(encodeStreamOpen(h)).toBe(text);
    return { line: ex.line, stanzas: [h] };
  }
  const roots = parseXmlFragment(text);
  const names = roots.map((r) => r.name);
  if (names.every((n) => n === 'iq' || n === 'message')) return { line: ex.line, stanzas: stanzasOf(ex) };
  if (names.length === 1 && names[0] === 'entry') {
    const e = decodeEntry(roots[0]!, 'unicast');
    expect(canonicalXml(encodeEntry(e))).toBe(canonicalXml(roots[0]!));
    return { line: ex.line, stanzas: [], entry: e as UnicastEntry };
  }
  if (names.length === 1 && names[0] === 'items') {
    // A withdrawal excerpt: put it back into the message envelope it is quoted from.
    const wrapped = `<message from="${CONTROL_NODE_JID}" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub">${text}</event></message>`;
    return { line: ex.line, stanzas: stanzasOf({ line: ex.line, text: wrapped }) };
  }
  if (names.every((n) => n === 'nlri' || n === 'next-hops' || n === 'olist')) {
    // Excerpts of an entry: the family comes from the quoted NLRI.
    const nlri = roots.find((r) => r.name === 'nlri')!;
    const safi = Number(canonicalXml(nlri).match(/<safi>(\d+)<\/safi>/)![1]);
    const schema = safi === 242 ? 'evpn' : safi === 241 ? 'ermvpn' : 'unicast';
    const parts = roots.map((r) => {
      const value = decodeEntryPart(r, schema);
      expect(canonicalXml(encodeEntryPart(schema, r.name as EntryPart, value))).toBe(canonicalXml(r));
      return { name: r.name, value };
    });
    return { line: ex.line, stanzas: [], parts };
  }
  throw new Error(`example at line ${ex.line} has a shape this test does not know: ${names.join(', ')}`);
}

describe('dialect document examples', () => {
  it('finds the examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(12);
    expect(entryBlock).toBeDefined();
    expect(inlineTlsElements().length).toBe(3);
  });

  it.each(blocks.map((b) => [b.line, b] as const))('round-trips the block at line %i', (_line, b) => {
    const d = decodeExample(b);
    expect(d.stanzas.length + (d.entry ? 1 : 0) + (d.parts?.length ?? 0)).toBeGreaterThan(0);
  });

  const all = () => blocks.map((b) => decodeExample(b));
  const stanzas = () => all().flatMap((d) => d.stanzas);

  it('stream headers carry the fields of section 3.1 and match the builders', () => {
    const heads = stanzas().filter((s) => s.kind === 'stream-open');
    expect(heads).toEqual([agentStreamOpen('compute-1'), serverStreamOpen('cn-host-1', 'compute-1')]);
    expect(heads[0]).toMatchObject({ to: CONTROL_NODE_JID, xmlns: '', version: '1.0', lang: 'en' });
    expect(heads[1]).toMatchObject({ id: '++123', xmlns: 'jabber:client' });
  });

  it('the section 7.1 inet entry decodes to its fields and the builder encodes the same XML', () => {
    const e = all().find((d) => d.entry)!.entry!;
    expect(e.nlri).toEqual({ af: 1, safi: 1, address: '10.1.1.3/32' });
    expect(e.nextHops).toEqual([
      {
        af: 1,
        address: '10.0.0.11',
        mac: '52:54:00:12:34:56',
        label: 25,
        vni: 0,
        tunnelEncapsulation: ['gre', 'udp'],
        virtualNetwork: 'default-domain:admin:vn1',
        tags: [],
      },
    ]);
    expect(e).toMatchObject({
      version: 1,
      virtualNetwork: '',
      mobility: { sticky: false, seqno: 0 },
      sequenceNumber: 0,
      securityGroups: [8000002],
      communityTags: [],
      localPreference: 200,
      med: 0,
      loadBalance: { fields: [], decision: 'field-hash' },
      subProtocol: 'interface',
    });
    const built = unicastEntry({
      nlri: { af: 1, safi: 1, address: '10.1.1.3/32' },
      nextHops: [
        unicastNextHop({
          af: 1,
          address: '10.0.0.11',
          mac: '52:54:00:12:34:56',
          label: 25,
          tunnelEncapsulation: ['gre', 'udp'],
          virtualNetwork: 'default-domain:admin:vn1',
        }),
      ],
      securityGroups: [8000002],
      localPreference: 200,
    });
    expect(built).toEqual(e);
    expect(canonicalXml(encodeEntry(built))).toBe(canonicalXml(parseXml(entryBlock!.text)));
  });

  it('the EVPN and ERM-VPN excerpts decode to their fields', () => {
    const parts = all().flatMap((d) => d.parts ?? []);
    const evpnNlri = parts.find((p) => p.name === 'nlri' && (p.value as { safi: number }).safi === 242)!.value;
    expect(evpnNlri).toEqual({
      af: 25,
      safi: 242,
      ethernetTag: 0,
      mac: '02:8c:1a:2b:3c:4d',
      address: '10.1.1.3/32',
      group: '',
      source: '',
      flags: 0,
    });
    expect(evpnRouteType(evpnNlri as Parameters<typeof evpnRouteType>[0])).toBe(2);
    const nhs = parts.filter((p) => p.name === 'next-hops').map((p) => p.value as Record<string, unknown>[]);
    expect(nhs[0]).toEqual([
      { af: 1, address: '10.0.0.11', mac: '', label: 26, l3Label: 0, tunnelEncapsulation: ['gre', 'udp'], tags: [] },
    ]);
    const erm = parts.find((p) => p.name === 'nlri' && (p.value as { safi: number }).safi === 241)!.value;
    expect(erm).toEqual({ af: 1, safi: 241, group: '255.255.255.255', source: '0.0.0.0', sourceLabel: 0, sourceAddress: '' });
    expect(nhs[1]).toEqual([{ af: 1, address: '10.0.0.11', label: '4609-5119', tunnelEncapsulation: ['gre', 'udp'] }]);
    expect(parts.find((p) => p.name === 'olist')!.value).toEqual([]);
  });

  it('agent IQs of section 8 equal what the builders make', () => {
    const s = stanzas();
    expect(s).toContainEqual(configSubscribe('compute-1'));
    const sub = routeSubscribe({ from: 'compute-1', vrf: 'default-domain:admin:vn1:vn1', instanceId: 3, seq: 7 });
    expect(s).toContainEqual(sub);
    const entry = all().find((d) => d.entry)!.entry!;
    const [pub, col] = routePublish({ from: 'compute-1', vrf: 'default-domain:admin:vn1:vn1', entry, add: true, seq: 12 });
    expect(pub.node).toBe('1/1/default-domain:admin:vn1:vn1/10.1.1.3/32');
    const i = s.findIndex((x) => x.kind === 'publish');
    expect(s[i]).toEqual(pub);
    expect(s[i + 1]).toEqual(col);
    expect(col).toMatchObject({ node: 'default-domain:admin:vn1:vn1', action: 'associate', target: pub.node, id: 'collection12' });
  });

  it('both EoR markers and the CN route messages of section 10 decode to their fields', () => {
    const s = stanzas();
    expect(s).toContainEqual(agentEor('compute-1'));
    expect(s).toContainEqual(serverEor('compute-1'));
    const entry = all().find((d) => d.entry)!.entry!;
    const [update] = routeUpdateMessages({
      agent: 'compute-1',
      node: '1/1/default-domain:admin:vn1:vn1',
      items: [{ id: '10.1.1.4/32', entry }],
    });
    expect(s).toContainEqual(update);
    expect(s).toContainEqual({
      kind: 'event',
      from: CONTROL_NODE_JID,
      to: 'compute-1/bgp-peer',
      node: '1/1/default-domain:admin:vn1:vn1',
      items: [],
      retracts: ['10.1.1.4/32'],
    });
    const cfg = s.find((x) => x.kind === 'config');
    expect(cfg).toMatchObject({ type: 'set', from: CONTROL_NODE_JID, to: 'default-global-system-config:compute-1/config' });
  });

  it('the inline TLS elements of section 3.2 decode and re-encode byte for byte', () => {
    const got = inlineTlsElements().map((ex) => {
      const s = decodeStanza(parseXml(ex.text));
      expect(encodeStanza(s)).toBe(ex.text);
      return s;
    });
    expect(got).toEqual([tlsFeatures(), { kind: 'starttls' }, { kind: 'proceed' }]);
  });

  it('the stream header the framer cuts keeps its attribute order', () => {
    const h = blocks.find((b) => b.text.includes('id="++123"'))!.text.trim();
    const t = parseOpenTag(h);
    expect(startTag(t.name, t.attrs) + ' >').toBe(h);
    expect(Object.keys(t.attrs)).toEqual(['from', 'to', 'id', 'version', 'xml:lang', 'xmlns', 'xmlns:stream']);
  });
});

