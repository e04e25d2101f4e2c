import { describe, expect, it } from 'vitest';
import { AgentSession, type SessionAction } from '../../../src/control/xmpp/session.js';
import { routeItem } from '../../../src/control/xmpp/agent-route.js';
import { encodeStanza, routeUpdateMessages } from '../../../codecs/xmpp/index.js';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { xmppSource } from '../../../src/rib/path.js';
import type { AgentRoute } from '../../../src/control/route-hub.js';
import {
  DOC_AGENT_HEADER,
  DOC_CN_HEADER,
  INET_ENTRY_ORDER,
  INET_NEXT_HOP_ORDER,
  agentEorMessage,
  childNames,
  collectionIq,
  publishIq,
  publishPair,
  subscribeIq,
} from './doc-stanzas.js';

const VRF = 'default-domain:admin:vn1:vn1';
const enc = new TextEncoder();
const dec = new TextDecoder();

function text(a: SessionAction): string {
  return a.type === 'send' ? dec.decode(a.bytes) : '';
}

function sent(actions: SessionAction[]): string {
  return actions.map(text).join('');
}

function of<T extends SessionAction['type']>(actions: SessionAction[], type: T): Extract<SessionAction, { type: T }>[] {
  return actions.filter((a): a is Extract<SessionAction, { type: T }> => a.type === type);
}

/** A session with a fake clock: `t` is the time every call is made at. */
function open(opts: Partial<ConstructorParameters<typeof AgentSession>[0]> = {}) {
  const s = new AgentSession({ serverHost: 'cn-host-1', ...opts });
  const clock = { t: 0 };
  const start = s.start(clock.t);
  const opened = s.receive(enc.encode(DOC_AGENT_HEADER), clock.t);
  const feed = (xml: string) => s.receive(enc.encode(xml), clock.t);
  return { s, clock, start, opened, feed };
}

describe('stream negotiation (section 3.1) and timers (section 4)', () => {
  it('answers the doc header with the doc reply and arms hold 90 s / keepalive 30 s', () => {
    const { start, opened, s } = open();
    expect(start).toEqual([{ type: 'arm-timer', timer: 'open', ms: 15_000 }]);
    expect(sent(opened)).toBe(DOC_CN_HEADER);
    expect(opened).toContainEqual({ type: 'cancel-timer', timer: 'open' });
    expect(opened).toContainEqual({ type: 'arm-timer', timer: 'hold', ms: 90_000 });
    expect(opened).toContainEqual({ type: 'arm-timer', timer: 'keepalive', ms: 30_000 });
    expect(of(opened, 'established')[0]?.agent).toBe('compute-1');
    expect(s.state).toBe('established');
  });

  it('takes a header cut into single bytes the same way', () => {
    const s = new AgentSession({ serverHost: 'cn-host-1' });
    s.start(0);
    const all: SessionAction[] = [];
    for (const b of enc.encode(DOC_AGENT_HEADER)) all.push(...s.receive(Uint8Array.of(b), 0));
    expect(sent(all)).toBe(DOC_CN_HEADER);
  });

  it('sends whitespace every 30 s', () => {
    const { s } = open();
    const a = s.timerExpired('keepalive', 30_000);
    expect(a).toEqual([
      { type: 'send', bytes: Uint8Array.of(0x20) },
      { type: 'arm-timer', timer: 'keepalive', ms: 30_000 },
    ]);
  });

  it('counts any received byte, even the native C8 80 keepalive, as liveness; 90 s of silence ends it', () => {
    const { s } = open();
    expect(s.receive(Uint8Array.of(0xc8, 0x80), 50_000)).toEqual([]);
    expect(s.timerExpired('hold', 90_000)).toEqual([{ type: 'arm-timer', timer: 'hold', ms: 50_000 }]);
    const a = s.timerExpired('hold', 140_000);
    expect(sent(a)).toMatch(/<stream:error><connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>.*<\/stream:error><\/stream:stream>$/);
    expect(a.at(-1)).toMatchObject({ type: 'close', reason: 'stream-error', error: { condition: 'connection-timeout' } });
    expect(a).toContainEqual({ type: 'cancel-timer', timer: 'keepalive' });
    expect(s.state).toBe('closed');
  });

  it('closes with </stream:stream> when no header comes within 15 s', () => {
    const s = new AgentSession({ serverHost: 'cn-host-1' });
    s.start(0);
    const a = s.timerExpired('open', 15_000);
    expect(sent(a)).toBe('</stream:stream>');
    expect(a.at(-1)).toEqual({ type: 'close', reason: 'open-timeout' });
  });

  it('sends the CN end-of-RIB once the session was quiet for 6 s', () => {
    const { s, feed } = open();
    feed(subscribeIq('compute-1', VRF, 3));
    expect(s.timerExpired('eor', 1_000)).toEqual([{ type: 'arm-timer', timer: 'eor', ms: 1_000 }]);
    const a = s.timerExpired('eor', 6_000);
    expect(sent(a)).toBe(
      '<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="0/0/EndOfRib"></items></event></message>',
    );
    expect(s.endOfRibSent).toBe(true);
  });
});

describe('subscribe, publish + collection, retract, end-of-RIB (sections 8.2-8.5)', () => {
  it('turns the doc subscribe into a subscription with its instance-id', () => {
    const { feed } = open();
    expect(feed(subscribeIq('compute-1', VRF, 3))).toEqual([{ type: 'subscribe', instance: VRF, instanceId: 3, noRibout: false }]);
  });

  it('holds a publish until its collection, then reports the route of the section 7.1 entry', () => {
    const { feed } = open();
    feed(subscribeIq('compute-1', VRF, 3));
    const r = { agent: 'compute-1', vrf: VRF, prefix: '10.1.1.3/32', nextHop: '10.0.0.11', label: 25 };
    expect(feed(publishIq(r))).toEqual([]);
    const a = feed(collectionIq('compute-1', VRF, `1/1/${VRF}/10.1.1.3/32`));
    const route: AgentRoute = {
      prefix: '10.1.1.3/32',
      nextHop: '10.0.0.11',
      label: 25,
      encapsulations: ['gre', 'udp'],
      mac: '52:54:00:12:34:56',
      tags: [],
      localPreference: 200,
      med: 0,
      securityGroups: [8000002],
      communityTags: [],
      sequenceNumber: 0,
      sticky: false,
      loadBalance: { fields: [], decision: 'field-hash' },
      subProtocol: 'interface',
    };
    expect(a).toEqual([{ type: 'publish', instance: VRF, family: 'inet', route }]);
    expect(feed(publishPair(r, 'dissociate'))).toEqual([{ type: 'withdraw', instance: VRF, family: 'inet', prefix: '10.1.1.3/32' }]);
  });

  it('accepts both forms of agent end-of-RIB', () => {
    const { feed } = open();
    expect(feed(agentEorMessage('compute-1'))).toEqual([{ type: 'end-of-rib' }]);
    const emptyPublish =
      '<iq type="set" from="compute-1" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish></publish></pubsub></iq>';
    const emptyCollection =
      '<iq type="set" from="compute-1" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><collection></collection></pubsub></iq>';
    expect(feed(emptyPublish + emptyCollection)).toEqual([{ type: 'end-of-rib' }]);
  });

  it('takes a config subscription to the config module (8.1), ignores EVPN publishes without closing', () => {
    const { feed, s } = open();
    feed(subscribeIq('compute-1', VRF, 3));
    const cfg = subscribeIq('compute-1', 'virtual-router:default-global-system-config:compute-1', undefined).replace('/bgp-peer', '/config');
    expect(feed(cfg)).toEqual([{ type: 'config-subscribe', vrouter: 'compute-1' }]);
    const evpnNode = '25/242/02:8c:1a:2b:3c:4d,10.1.1.3/32';
    const pub = publishIq({ agent: 'compute-1', vrf: VRF, prefix: 'x', nextHop: '', label: 0 }).replace(/<publish node="[^"]*">[\s\S]*<\/publish>/, `<publish node="${evpnNode}"><item><entry/></item></publish>`);
    expect(feed(pub + collectionIq('compute-1', VRF, evpnNode))).toEqual([{ type: 'ignored', what: 'family 25/242 is not routed yet' }]);
    expect(s.state).toBe('established');
  });

  it('sends items in schema order, at most 32 per message, and retracts', () => {
    const hub = new InstanceRouteHub();
    const src = xmppSource('compute-2', '10.0.0.12');
    const updates = [];
    for (let i = 0; i < 70; i++) {
      hub.publish(src, VRF, 'inet', {
        prefix: `10.1.2.${i}/32`,
        nextHop: '10.0.0.12',
        label: 100 + i,
        encapsulations: ['gre', 'udp'],
        mac: '',
        tags: [],
        localPreference: 100,
        med: 0,
        securityGroups: [],
        communityTags: [],
        sequenceNumber: 0,
        sticky: false,
        loadBalance: { fields: [], decision: 'field-hash' },
        subProtocol: 'interface',
      });
      updates.push({ prefix: `10.1.2.${i}/32`, ecmp: hub.table(VRF, 'inet').get(`10.1.2.${i}/32`)!.ecmp });
    }
    const { s, feed } = open();
    expect(s.sendRoutes(VRF, 'inet', updates, 0)).toEqual([]); // not subscribed yet
    feed(subscribeIq('compute-1', VRF, 3));
    const a = s.sendRoutes(VRF, 'inet', updates, 0);
    const msgs = of(a, 'send').map(text);
    // Route messages come as pieces too, the same bytes.
    expect(of(a, 'send').map((x) => x.parts?.map((p) => dec.decode(p)).join(''))).toEqual(msgs);
    expect(msgs.map((m) => m.split('<item ').length - 1)).toEqual([32, 32, 6]);
    // Byte for byte what the codec writes for the same messages.
    const items = updates.map((u) => routeItem('inet', VRF, u));
    expect(msgs).toEqual(routeUpdateMessages({ agent: 'compute-1', node: `1/1/${VRF}`, items }).map((m) => encodeStanza(m)));
    // A second subscriber of the same flush gets the very same <items> bytes, in its own envelope.
    const other = new AgentSession({ serverHost: 'cn-host-1' });
    other.start(0);
    other.receive(enc.encode(DOC_AGENT_HEADER.replace('compute-1', 'compute-&lt;7')), 0);
    other.receive(enc.encode(subscribeIq('compute-&lt;7', VRF, 4)), 0);
    const b = of(other.sendRoutes(VRF, 'inet', updates, 0), 'send');
    expect(b[0]!.parts?.[1]).toBeDefined();
    expect(b.map((x) => x.parts?.[1])).toEqual(of(a, 'send').map((x) => x.parts?.[1]));
    expect(b[0]!.parts?.[1]).toBe(of(a, 'send')[0]!.parts?.[1]);
    expect(text(b[0]!).startsWith('<message from="network-control@contrailsystems.com" to="compute-&lt;7/bgp-peer"><event')).toBe(true);
    const m0 = msgs[0]!;
    expect(m0.startsWith(`<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="1/1/${VRF}"><item id="10.1.2.0/32"><entry>`)).toBe(true);
    expect(childNames(m0, m0.indexOf('<entry>'))).toEqual(INET_ENTRY_ORDER);
    expect(childNames(m0, m0.indexOf('<next-hop>'))).toEqual(INET_NEXT_HOP_ORDER);
    // LP 100 with MED 0 from the agent: MED 200 derived (section 9.1) and sent back.
    expect(m0).toContain('<local-preference>100</local-preference><med>200</med>');
    expect(m0).toContain('<label>100</label><vni>0</vni><tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation><tunnel-encapsulation>udp</tunnel-encapsulation></tunnel-encapsulation-list><virtual-network>default-domain:admin:vn1</virtual-network>');
    const w = s.sendRoutes(VRF, 'inet', [{ prefix: '10.1.2.0/32', ecmp: [] }], 0);
    expect(sent(w)).toBe(`<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="1/1/${VRF}"><retract id="10.1.2.0/32"/></items></event></message>`);
  });
});

describe('misbehaviour: stream error with the RFC 6120 condition, then close', () => {
  const r = { agent: 'compute-1', vrf: VRF, prefix: '10.1.1.3/32', nextHop: '10.0.0.11', label: 25 };
  const sub = subscribeIq('compute-1', VRF, 3);
  const cases: [string, string, string][] = [
    ['malformed XML', sub + '<iq type="set"><pubsub></iq></pubsub>', 'not-well-formed'],
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "b">]>', 'restricted-xml'],
    ['publish without subscribe', publishPair(r), 'policy-violation'],
    ['publish after unsubscribe', sub + subscribeIq('compute-1', VRF, 3, 'unsubscribe') + publishPair(r), 'policy-violation'],
    ['duplicate subscribe', sub + sub, 'policy-violation'],
    ['unsubscribe without subscribe', subscribeIq('compute-1', VRF, 3, 'unsubscribe'), 'policy-violation'],
    ['collection without publish', sub + collectionIq('compute-1', VRF, `1/1/${VRF}/10.1.1.3/32`), 'policy-violation'],
    ['publish followed by a subscribe', sub + publishIq(r) + subscribeIq('compute-1', 'other', 4), 'policy-violation'],
    ['collection naming another node', sub + publishIq(r) + collectionIq('compute-1', VRF, `1/1/${VRF}/10.9.9.9/32`), 'policy-violation'],
    ['unknown family', sub + publishPair({ ...r, family: '7/99' }), 'bad-format'],
    ['subscribe without instance-id', subscribeIq('compute-1', VRF, undefined), 'bad-format'],
    ['instance-id beyond 16 bits', subscribeIq('compute-1', VRF, 70000), 'bad-format'],
    ['bad prefix', sub + publishPair({ ...r, prefix: '10.1.1.300/32' }), 'bad-format'],
    ['zero next hop', sub + publishPair({ ...r, nextHop: '0.0.0.0' }), 'bad-format'],
    ['label 0 outside the master instance', sub + publishPair({ ...r, label: 0 }), 'bad-format'],
    ['label beyond 20 bits', sub + publishPair({ ...r, label: 0x100000 }), 'bad-format'],
    ['two next hops', sub + publishPair({ ...r, nextHops: '<next-hops><next-hop><af>1</af><address>10.0.0.1</address><label>5</label></next-hop><next-hop><af>1</af><address>10.0.0.2</address><label>6</label></next-hop></next-hops>' }), 'bad-format'],
    ['non-numeric local-preference', sub + publishPair(r).replace('<local-preference>200', '<local-preference>high'), 'bad-format'],
    ['presence', '<presence from="compute-1"></presence>', 'unsupported-stanza-type'],
    ['starttls without TLS', '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>', 'unsupported-stanza-type'],
    ['someone else\'s from', subscribeIq('compute-9', VRF, 3), 'invalid-from'],
    ['second stream header', DOC_AGENT_HEADER, 'bad-format'],
    ['text between stanzas', 'hello', 'not-well-formed'],
  ];
  for (const [name, input, condition] of cases) {
    it(name, () => {
      const { feed, s } = open();
      const a = feed(input);
      const close = a.at(-1);
      expect(close).toMatchObject({ type: 'close', reason: 'stream-error', error: { condition } });
      expect(sent(a)).toContain(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`);
      expect(sent(a).endsWith('</stream:error></stream:stream>')).toBe(true);
      expect(of(a, 'publish')).toEqual([]);
      expect(s.state).toBe('closed');
      expect(feed(subscribeIq('compute-1', 'x', 1))).toEqual([]);
    });
  }

  it('answers a stanza before the header with our header, then not-authorized', () => {
    const s = new AgentSession({ serverHost: 'cn-host-1' });
    s.start(0);
    const a = s.receive(enc.encode(sub), 0);
    expect(sent(a)).toMatch(/^<stream:stream from="cn-host-1" id="\+\+123" .*xmlns:stream="http:\/\/etherx.jabber.org\/streams" ><stream:error><not-authorized /);
  });

  it('refuses a header addressed elsewhere or without from', () => {
    for (const [hdr, cond] of [
      [DOC_AGENT_HEADER.replace('network-control@contrailsystems.com', 'someone@else'), 'host-unknown'],
      [DOC_AGENT_HEADER.replace('from="compute-1" ', ''), 'improper-addressing'],
      [DOC_AGENT_HEADER.replace('version="1.0"', 'version="2.0"'), 'unsupported-version'],
    ] as const) {
      const s = new AgentSession({ serverHost: 'cn-host-1' });
      s.start(0);
      expect(s.receive(enc.encode(hdr), 0).at(-1)).toMatchObject({ type: 'close', error: { condition: cond } });
    }
  });

  it('accepts a route with label 0 only in the master instance', () => {
    const master = 'default-domain:default-project:ip-fabric:__default__';
    const { feed } = open();
    feed(subscribeIq('compute-1', master, 0));
    const a = feed(publishPair({ ...r, vrf: master, label: 0 }));
    expect(of(a, 'publish')[0]?.route.label).toBe(0);
  });
});
