import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { XmppServer } from '../../../src/control/xmpp/server.js';
import {
  INET_ENTRY_ORDER,
  INET_NEXT_HOP_ORDER,
  agentEorMessage,
  childNames,
  collectionIq,
  publishIq,
  publishPair,
  subscribeIq,
  type DocRoute,
} from '../../unit/control/doc-stanzas.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';

/**
 * Issue 4, acceptance 1 in spirit: agents scripted from the dialect notes alone (raw TCP, the
 * notes' XML with names filled in; nothing from weft's codecs) against the real server on
 * 127.0.0.1.
 */

const POD = 'default-domain:admin:pod-network:pod-network';
const FIP = 'default-domain:admin:public:public';

/** Next hops `address/label`, which must come in the notes' element order. */
function hops(a: ScriptedAgent): Map<string, string[] | null> {
  return a.routesBy((item) => [...item.matchAll(/<next-hop><af>1<\/af><address>([^<]*)<\/address>(?:<mac\/>|<mac>[^<]*<\/mac>)<label>(\d+)<\/label>/g)].map((h) => `${h[1]}/${h[2]}`));
}

/** Scripted agents here wait 5 s at most for each step. */
const agentOn = (name: string, port: number) => new ScriptedAgent(name, '127.0.0.1', port, 5_000);

function route(agent: string, vrf: string, prefix: string, nextHop: string, label: number, localPref = 200): DocRoute {
  return { agent, vrf, prefix, nextHop, label, localPref };
}

describe('XMPP server with scripted agents on 127.0.0.1', () => {
  const hub = new InstanceRouteHub();
  let server: XmppServer;
  let port = 0;
  const agents: ScriptedAgent[] = [];

  async function agent(name: string): Promise<ScriptedAgent> {
    const a = agentOn(name, port);
    agents.push(a);
    await a.open();
    return a;
  }

  beforeAll(async () => {
    server = new XmppServer({ hub, host: '127.0.0.1', port: 0, serverHost: 'cn-host-1', eorQuietMs: 150, eorRetryMs: 50 });
    port = (await server.listen()).port;
  });

  afterAll(async () => {
    for (const a of agents) a.socket.destroy();
    await server.close();
  });

  let a1: ScriptedAgent;
  let a2: ScriptedAgent;

  it('answers the header as section 3.1 shows', async () => {
    a1 = await agent('compute-1');
    expect(a1.text).toBe(
      '<stream:stream from="cn-host-1" to="compute-1" id="++123" version="1.0" xml:lang="en" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" >',
    );
  });

  it('takes subscriptions and publishes, and gives them to a second agent as items, then end-of-RIB', async () => {
    a1.send(subscribeIq('compute-1', POD, 3) + subscribeIq('compute-1', FIP, 4));
    a1.send(publishPair(route('compute-1', POD, '10.1.1.3/32', '10.0.0.11', 25)));
    a1.send(publishPair(route('compute-1', FIP, '192.0.2.10/32', '10.0.0.11', 26)));
    a1.send(agentEorMessage('compute-1'));
    // compute-1 gets its own routes reflected (section 10.1).
    await a1.until('reflection', () => hops(a1).size === 2);
    expect(hub.instanceIdOf('compute-1', FIP)).toBe(4);

    a2 = await agent('compute-2');
    a2.send(subscribeIq('compute-2', POD, 7) + subscribeIq('compute-2', FIP, 8));
    await a2.until('items and end-of-RIB', () => hops(a2).size === 2 && a2.hasEor());
    expect(Object.fromEntries(hops(a2))).toEqual({
      [`1/1/${POD} 10.1.1.3/32`]: ['10.0.0.11/25'],
      [`1/1/${FIP} 192.0.2.10/32`]: ['10.0.0.11/26'],
    });
    // EoR after the items.
    const msgs = a2.messages();
    expect(msgs.at(-1)).toContain('<items node="0/0/EndOfRib"></items>');
    const m = msgs.find((x) => x.includes('10.1.1.3/32'))!;
    expect(m.startsWith('<message from="network-control@contrailsystems.com" to="compute-2/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub">')).toBe(true);
    expect(childNames(m, m.indexOf('<entry>'))).toEqual(INET_ENTRY_ORDER);
    expect(childNames(m, m.indexOf('<next-hop>'))).toEqual(INET_NEXT_HOP_ORDER);
    expect(childNames(m, m.indexOf('<nlri>'))).toEqual(['af', 'safi', 'address']);
    // Origin VN from the instance, the agent's encaps, LP 200 and the derived MED 100 (9.1).
    expect(m).toContain('<virtual-network>default-domain:admin:pod-network</virtual-network>');
    expect(m).toContain('<tunnel-encapsulation>gre</tunnel-encapsulation><tunnel-encapsulation>udp</tunnel-encapsulation>');
    expect(m).toContain('<local-preference>200</local-preference><med>100</med>');
  });

  it('sends compute-2\'s publishes to compute-1 and withdrawals as retracts', async () => {
    a2.send(publishPair(route('compute-2', POD, '10.1.1.4/32', '10.0.0.12', 31)));
    await a1.until('compute-2 route', () => hops(a1).get(`1/1/${POD} 10.1.1.4/32`)?.[0] === '10.0.0.12/31');
    a1.send(publishPair(route('compute-1', POD, '10.1.1.3/32', '10.0.0.11', 25), 'dissociate'));
    await a2.until('retract', () => hops(a2).get(`1/1/${POD} 10.1.1.3/32`) === null);
    expect(a2.text).toContain(`<items node="1/1/${POD}"><retract id="10.1.1.3/32"/></items>`);
  });

  it('ECMP: two agents publish one prefix, a third gets one item with two next hops', async () => {
    a1.send(publishPair(route('compute-1', POD, '10.1.1.100/32', '10.0.0.11', 40)));
    a2.send(publishPair(route('compute-2', POD, '10.1.1.100/32', '10.0.0.12', 41)));
    await a1.until('both paths', () => hops(a1).get(`1/1/${POD} 10.1.1.100/32`)?.length === 2);
    const a3 = await agent('compute-3');
    a3.send(subscribeIq('compute-3', POD, 2));
    await a3.until('ECMP item', () => hops(a3).has(`1/1/${POD} 10.1.1.100/32`));
    expect(hops(a3).get(`1/1/${POD} 10.1.1.100/32`)).toEqual(['10.0.0.11/40', '10.0.0.12/41']);
    const msg = a3.messages().find((m) => m.includes('id="10.1.1.100/32"'))!;
    const item = msg.slice(msg.indexOf('<item id="10.1.1.100/32">'), msg.indexOf('</item>', msg.indexOf('<item id="10.1.1.100/32">')));
    expect(item.match(/<next-hop>/g)?.length).toBe(2);
    expect(childNames(item, item.indexOf('<next-hops>'))).toEqual(['next-hop', 'next-hop']);
  });

  it('closes only the misbehaving session, with a stream error, for many kinds of bad input', async () => {
    const table = () => JSON.stringify([...hub.table(POD, 'inet').destinations()].map((d) => [d.key, d.ecmp.map((p) => p.key)]));
    const before = table();
    const a1Before = a1.text.length;
    const bad = (n: string) => route(n, POD, '10.1.1.200/32', '10.0.0.99', 50);
    const cases: [string, (n: string) => string, string][] = [
      ['malformed XML', (n) => subscribeIq(n, POD, 9) + '<iq type="set"><pubsub></iq></pubsub>', 'not-well-formed'],
      ['publish without subscribe', (n) => publishPair(bad(n)), 'policy-violation'],
      ['duplicate subscribe', (n) => subscribeIq(n, POD, 9) + subscribeIq(n, POD, 9), 'policy-violation'],
      ['unsubscribe unknown', (n) => subscribeIq(n, FIP, 9, 'unsubscribe'), 'policy-violation'],
      ['collection without publish', (n) => subscribeIq(n, POD, 9) + collectionIq(n, POD, `1/1/${POD}/10.1.1.200/32`), 'policy-violation'],
      ['publish then subscribe', (n) => subscribeIq(n, POD, 9) + publishIq(bad(n)) + subscribeIq(n, FIP, 9), 'policy-violation'],
      ['unknown family', (n) => subscribeIq(n, POD, 9) + publishPair({ ...bad(n), family: '9/9' }), 'bad-format'],
      ['no instance-id', (n) => subscribeIq(n, POD, undefined), 'bad-format'],
      ['bad prefix', (n) => subscribeIq(n, POD, 9) + publishPair({ ...bad(n), prefix: '10.1.1/32' }), 'bad-format'],
      ['label 0', (n) => subscribeIq(n, POD, 9) + publishPair({ ...bad(n), label: 0 }), 'bad-format'],
      ['bad integer', (n) => subscribeIq(n, POD, 9) + publishPair(bad(n)).replace('<local-preference>200', '<local-preference>-1'), 'bad-format'],
      ['presence', () => '<presence></presence>', 'unsupported-stanza-type'],
      ['wrong from', (n) => subscribeIq(n + 'x', POD, 9), 'invalid-from'],
      ['DTD', () => '<!DOCTYPE lol [<!ENTITY lol "lol">]>', 'restricted-xml'],
      ['garbage', () => 'GET / HTTP/1.1\r\n\r\n', 'not-well-formed'],
    ];
    // A route the misbehaving agent published before failing goes with it; others stay.
    for (const [i, [, script, condition]] of cases.entries()) {
      const n = `bad-${i}`;
      const b = await agent(n);
      b.send(script(n));
      await b.until('close', () => b.closed);
      expect(b.text).toContain(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`);
      expect(b.text.endsWith('</stream:error></stream:stream>')).toBe(true);
    }
    // Stanza before the header, and a session that published then misbehaved.
    const early = agentOn('early', port);
    agents.push(early);
    early.send(subscribeIq('early', POD, 1));
    await early.until('close', () => early.closed);
    expect(early.text).toContain('<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    const half = await agent('half');
    half.send(subscribeIq('half', POD, 9) + publishPair(route('half', POD, '10.1.1.201/32', '10.0.0.98', 60)));
    await a1.until('half route', () => hops(a1).get(`1/1/${POD} 10.1.1.201/32`)?.[0] === '10.0.0.98/60');
    half.send('<iq type="set" from="half" to="network-control@contrailsystems.com/bgp-peer"><pubsub xmlns="http://jabber.org/protocol/pubsub"><frobnicate/></pubsub></iq>');
    await half.until('close', () => half.closed);
    await a1.until('half route withdrawn', () => hops(a1).get(`1/1/${POD} 10.1.1.201/32`) === null);

    expect(table()).toBe(before);
    expect(server.agentNames().sort()).toEqual(['compute-1', 'compute-2', 'compute-3']);
    // compute-1 heard only about the `half` route coming and going.
    const heard = a1.text.slice(a1Before);
    expect(heard.match(/<item id="([^"]+)"/g)).toEqual(['<item id="10.1.1.201/32"']);
    expect(heard.match(/<retract id="([^"]+)"/g)).toEqual(['<retract id="10.1.1.201/32"']);
    // The good sessions still work.
    a2.send(publishPair(route('compute-2', POD, '10.1.1.5/32', '10.0.0.12', 32)));
    await a1.until('still alive', () => hops(a1).has(`1/1/${POD} 10.1.1.5/32`));
  });

  it('withdraws an agent\'s paths when it disconnects (no graceful restart)', async () => {
    a2.socket.destroy();
    await a1.until('retracts', () => hops(a1).get(`1/1/${POD} 10.1.1.4/32`) === null);
    expect(hops(a1).get(`1/1/${POD} 10.1.1.100/32`)).toEqual(['10.0.0.11/40']);
  });
});

describe('graceful restart helper', () => {
  it('keeps a departed agent\'s paths stale until it re-publishes and sends end-of-RIB', async () => {
    const hub = new InstanceRouteHub();
    const server = new XmppServer({ hub, host: '127.0.0.1', port: 0, gracefulRestart: { staleTimeMs: 60_000 }, eorQuietMs: 100, eorRetryMs: 50 });
    const { port } = await server.listen();
    try {
      const watcher = agentOn('watcher', port);
      await watcher.open();
      watcher.send(subscribeIq('watcher', POD, 1));
      let a = agentOn('compute-1', port);
      await a.open();
      a.send(subscribeIq('compute-1', POD, 3));
      a.send(publishPair(route('compute-1', POD, '10.1.1.3/32', '10.0.0.11', 25)));
      a.send(publishPair(route('compute-1', POD, '10.1.1.5/32', '10.0.0.11', 26)));
      await watcher.until('routes', () => hops(watcher).size === 2);
      a.socket.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect(hub.table(POD, 'inet').get('10.1.1.3/32')?.best?.stale).toBe(true);
      expect([...hops(watcher).values()].every((v) => v !== null)).toBe(true);
      a = agentOn('compute-1', port);
      await a.open();
      a.send(subscribeIq('compute-1', POD, 3));
      a.send(publishPair(route('compute-1', POD, '10.1.1.3/32', '10.0.0.11', 25)));
      a.send(agentEorMessage('compute-1'));
      await watcher.until('sweep', () => hops(watcher).get(`1/1/${POD} 10.1.1.5/32`) === null);
      expect(hops(watcher).get(`1/1/${POD} 10.1.1.3/32`)).toEqual(['10.0.0.11/25']);
      expect(hub.table(POD, 'inet').get('10.1.1.3/32')?.best?.stale).toBe(false);
      watcher.socket.destroy();
      a.socket.destroy();
    } finally {
      await server.close();
    }
  });
});
