import { describe, expect, it } from 'vitest';
import { XmppFramer, configSubscribe, decodeFrame, type Stanza } from '../../../codecs/xmpp/index.js';
import { RouteSync } from '../../../src/agent/route-sync.js';
import {
  AgentXmppClient,
  reconnectDelayMs,
  type ClientAction,
  type ClientTimer,
  type LocalRoute,
  type RouteEvent,
} from '../../../src/agent/xmpp-client.js';
import { VRouter } from '../../../src/vrouter/index.js';
import { DOC_AGENT_HEADER, DOC_CN_HEADER, agentEorMessage, publishPair, subscribeIq } from '../control/doc-stanzas.js';
import { Sim, SimLink } from './sim.js';

const VN1 = 'default-domain:admin:vn1:vn1';
const VN2 = 'default-domain:admin:vn2:vn2';
const utf8 = new TextEncoder();
const text = new TextDecoder();

function sends(actions: ClientAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'send' ? [text.decode(a.bytes)] : []));
}

function armed(actions: ClientAction[], timer: ClientTimer): number | undefined {
  const a = actions.find((x) => x.type === 'arm-timer' && x.timer === timer);
  return a?.type === 'arm-timer' ? a.ms : undefined;
}

function routeEvents(actions: ClientAction[]): RouteEvent[] {
  return actions.flatMap((a) => (a.type === 'routes' ? a.events : []));
}

/** Stanzas of a text, without ids (the real agent's ids count per process; the CN ignores them). */
function stanzas(xml: string): Stanza[] {
  const f = new XmppFramer();
  const out: Stanza[] = [];
  for (const fr of [...f.push(utf8.encode(xml)), ...f.end()]) {
    const s = decodeFrame(fr);
    if (s.kind === 'whitespace') continue;
    if ('id' in s) delete s.id;
    out.push(s);
  }
  return out;
}

/** A client taken to Established against the notes' CN header; returns the actions of that step. */
function establish(c: AgentXmppClient, t = 100): ClientAction[] {
  const start = c.start(0);
  expect(start).toEqual([{ type: 'arm-timer', timer: 'connect', ms: armed(start, 'connect') }]);
  expect(c.timerExpired('connect', 50)).toEqual([{ type: 'connect' }]);
  const open = c.connected(60);
  expect(sends(open)).toEqual([DOC_AGENT_HEADER.replace('compute-1', c.agent)]);
  expect(armed(open, 'hold')).toBe(90_000);
  const est = c.receive(utf8.encode(DOC_CN_HEADER.replace('compute-1', c.agent)), t);
  expect(c.state).toBe('established');
  return est;
}

const DOC_ROUTE: LocalRoute = {
  vrf: VN1,
  prefix: '10.1.1.3/32',
  label: 25,
  virtualNetwork: 'default-domain:admin:vn1',
  securityGroups: [8000002],
};

function docClient(): AgentXmppClient {
  return new AgentXmppClient({
    agent: 'compute-1',
    vhostIp: '10.0.0.11',
    vhostMac: '52:54:00:12:34:56',
    encapPriority: ['MPLSoGRE', 'MPLSoUDP', 'VXLAN'],
    random: () => 0,
  });
}

/** Section 10.1's route message as the CN prints it (leading newline, tabs), ECMP with two next hops. */
const CN_ITEMS = `
<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer">
	<event xmlns="http://jabber.org/protocol/pubsub">
		<items node="1/1/${VN1}">
			<item id="10.1.1.4/32">
				<entry>
					<nlri><af>1</af><safi>1</safi><address>10.1.1.4/32</address></nlri>
					<next-hops>
						<next-hop><af>1</af><address>10.0.0.12</address><mac></mac><label>31</label><vni>0</vni><tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation><tunnel-encapsulation>udp</tunnel-encapsulation></tunnel-encapsulation-list><virtual-network>default-domain:admin:vn1</virtual-network><tag-list></tag-list></next-hop>
						<next-hop><af>1</af><address>10.0.0.13</address><mac></mac><label>17</label><vni>0</vni><tunnel-encapsulation-list><tunnel-encapsulation>udp</tunnel-encapsulation></tunnel-encapsulation-list><virtual-network>default-domain:admin:vn1</virtual-network><tag-list><tag>7</tag></tag-list></next-hop>
					</next-hops>
					<version>1</version><virtual-network>default-domain:admin:vn1</virtual-network><mobility sticky="false" seqno="4"/><sequence-number>4</sequence-number>
					<security-group-list><security-group>8000002</security-group></security-group-list><community-tag-list></community-tag-list>
					<local-preference>200</local-preference><med>100</med>
				</entry>
			</item>
			<item id="10.1.1.9/32">
				<entry>
					<nlri><af>1</af><safi>1</safi><address>10.1.1.9/32</address></nlri>
					<next-hops><next-hop><af>1</af><address>10.0.0.12</address><label>32</label><tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation></tunnel-encapsulation-list></next-hop></next-hops>
					<local-preference>0</local-preference>
				</entry>
			</item>
		</items>
	</event>
</message>
`;

const CN_RETRACT = `
<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer">
	<event xmlns="http://jabber.org/protocol/pubsub">
		<items node="1/1/${VN1}">
			<retract id="10.1.1.4/32" />
		</items>
	</event>
</message>
`;

const CN_EOR = `<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer">
	<event xmlns="http://jabber.org/protocol/pubsub">
<items node="0/0/EndOfRib"></items>
	</event>
</message>`;

describe('agent XMPP client, sans-IO, against the dialect notes', () => {
  it('sends the header of 3.1, then keepalive, subscribe (8.2), publish + collection (8.3) and EoR (8.5) once the CN answers', () => {
    const c = docClient();
    // Wanted before any session: nothing goes out yet (2.8: nothing before the peer's header).
    expect(c.subscribe(VN1, 3)).toEqual([]);
    expect(c.publish(DOC_ROUTE)).toEqual([]);
    const est = establish(c);
    const out = sends(est);
    // The C++ client's whitespace on Established is its native U+0200.
    expect(est[0]).toEqual({ type: 'send', bytes: Uint8Array.of(0xc8, 0x80) });
    expect(armed(est, 'keepalive')).toBe(30_000);
    expect(armed(est, 'eor-rx')).toBe(60_000);
    expect(est).toContainEqual({ type: 'established' });
    const ours = stanzas(out.slice(1).join(''));
    const doc = stanzas(
      subscribeIq('compute-1', VN1, 3) +
        publishPair({ agent: 'compute-1', vrf: VN1, prefix: '10.1.1.3/32', nextHop: '10.0.0.11', label: 25 }) +
        agentEorMessage('compute-1'),
    );
    // Our stanzas decode to exactly what the notes' XML decodes to, in the same order, after the
    // config subscription (section 5 step 5), then the EoR form the CN acts on (empty publish,
    // empty collection).
    expect(ours[0]).toEqual(configSubscribe('compute-1'));
    expect(ours.slice(1, 5)).toEqual(doc);
    expect(ours.slice(5).map((s) => s.kind)).toEqual(['publish', 'collection']);
    expect(ours[5]).toMatchObject({ kind: 'publish', items: [] });
    expect(ours[5]).not.toHaveProperty('node');
    // Publish and collection leave in one write: the CN holds the publish until the collection.
    expect(out[3]).toMatch(/^<iq type="set" from="compute-1" to="network-control@contrailsystems.com\/bgp-peer" id="pubsub2">.*<\/iq><iq [^>]*id="collection2">.*<\/iq>$/s);
    expect(out[2]).toContain('id="subscribe1"');
  });

  it('turns CN items into route updates (ECMP next hops, local-preference 0 as 100), retracts into withdrawals, EoR into a sweep', () => {
    const c = docClient();
    c.subscribe(VN1, 3);
    establish(c);
    const a = c.receive(utf8.encode(CN_ITEMS), 200);
    expect(routeEvents(a)).toEqual([
      {
        kind: 'update',
        route: {
          vrf: VN1,
          prefix: '10.1.1.4/32',
          nextHops: [
            { address: '10.0.0.12', label: 31, vni: 0, encapsulations: ['gre', 'udp'], virtualNetwork: 'default-domain:admin:vn1', tags: [] },
            { address: '10.0.0.13', label: 17, vni: 0, encapsulations: ['udp'], virtualNetwork: 'default-domain:admin:vn1', tags: [7] },
          ],
          virtualNetwork: 'default-domain:admin:vn1',
          localPreference: 200,
          sequenceNumber: 4,
          securityGroups: [8000002],
          communityTags: [],
        },
      },
      {
        kind: 'update',
        route: {
          vrf: VN1,
          prefix: '10.1.1.9/32',
          nextHops: [{ address: '10.0.0.12', label: 32, vni: 0, encapsulations: ['gre'], virtualNetwork: '', tags: [] }],
          virtualNetwork: '',
          localPreference: 100,
          sequenceNumber: 0,
          securityGroups: [],
          communityTags: [],
        },
      },
    ]);
    // The same bytes one at a time give the same updates: framing does not depend on segmentation.
    const c2 = docClient();
    c2.subscribe(VN1, 3);
    establish(c2);
    const bytes = utf8.encode(CN_ITEMS);
    const piecewise: RouteEvent[] = [];
    for (let i = 0; i < bytes.length; i++) piecewise.push(...routeEvents(c2.receive(bytes.subarray(i, i + 1), 200)));
    expect(piecewise).toEqual(routeEvents(a));

    expect(routeEvents(c.receive(utf8.encode(CN_RETRACT), 300))).toEqual([{ kind: 'withdraw', vrf: VN1, prefix: '10.1.1.4/32' }]);
    // Items of an instance we did not subscribe to are not ours (10.3).
    const other = c.receive(utf8.encode(CN_RETRACT.replace(VN1, VN2)), 310);
    expect(routeEvents(other)).toEqual([]);
    expect(other).toEqual([{ type: 'ignored', what: `items of ${VN2}, not subscribed` }]);
    const eor = c.receive(utf8.encode(CN_EOR), 400);
    // No stale timer on a first session: only the fallback is cancelled.
    expect(eor).toEqual([
      { type: 'cancel-timer', timer: 'eor-rx' },
      { type: 'sweep-stale', reason: 'end-of-rib' },
    ]);
    expect(c.endOfRibReceived).toBe(true);
  });

  it('sends a keepalive every hold/3 and gives up a silent CN after the hold time, then reconnects', () => {
    const c = docClient();
    establish(c, 100);
    expect(c.timerExpired('keepalive', 30_100)).toEqual([
      { type: 'send', bytes: Uint8Array.of(0xc8, 0x80) },
      { type: 'arm-timer', timer: 'keepalive', ms: 30_000 },
    ]);
    // A single space from the CN is liveness (2.1): the hold timer runs from it.
    c.receive(utf8.encode(' '), 50_000);
    expect(c.timerExpired('hold', 90_060)).toEqual([{ type: 'arm-timer', timer: 'hold', ms: 50_000 - 60 }]);
    const lost = c.timerExpired('hold', 140_000);
    expect(lost).toEqual([
      { type: 'cancel-timer', timer: 'keepalive' },
      { type: 'cancel-timer', timer: 'eor-rx' },
      { type: 'disconnect' },
      { type: 'down', reason: 'hold-timeout', detail: 'nothing received for 90000 ms' },
      { type: 'arm-timer', timer: 'stale', ms: 2_592_000_000 },
      { type: 'arm-timer', timer: 'connect', ms: 45 },
    ]);
    expect(c.state).toBe('connect-wait');
    // A hold timer left over from the old session does nothing.
    expect(c.timerExpired('hold', 150_000)).toEqual([]);
  });

  it('closes on a CN that breaks the framing, and on the CN\'s stream error, and goes on reconnecting', () => {
    const c = docClient();
    establish(c);
    const bad = c.receive(utf8.encode('GET / HTTP/1.1\r\n\r\n'), 200);
    expect(bad.map((a) => a.type)).toEqual(['cancel-timer', 'cancel-timer', 'cancel-timer', 'disconnect', 'down', 'arm-timer', 'arm-timer']);
    expect(bad.find((a) => a.type === 'down')).toMatchObject({ reason: 'protocol-error' });
    const c2 = docClient();
    establish(c2);
    const se = c2.receive(
      utf8.encode('<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>'),
      200,
    );
    expect(se.find((a) => a.type === 'down')).toMatchObject({ reason: 'peer-stream-error', error: { kind: 'stream-error', condition: 'conflict' } });
  });
});

describe('reconnect back-off (section 4)', () => {
  it('waits 0 (50 ms), 1, 2, 4, 8, 16, then 30 s, 10 % below to 9 % above, as the C++ integer arithmetic gives', () => {
    const low = Array.from({ length: 9 }, (_, i) => reconnectDelayMs(i, () => 0));
    const high = Array.from({ length: 9 }, (_, i) => reconnectDelayMs(i, () => 0.999999));
    expect(low).toEqual([45, 900, 1800, 3600, 7200, 14400, 27000, 27000, 27000]);
    // ms*0.9 + ms*0.9*19/100, truncated.
    expect(high).toEqual([53, 1071, 2142, 4284, 8568, 17136, 32130, 32130, 32130]);
  });

  it('counts failed attempts and starts again from 0 after an established session', () => {
    const c = new AgentXmppClient({ agent: 'compute-1', vhostIp: '10.0.0.11', random: () => 0 });
    const delays: (number | undefined)[] = [armed(c.start(0), 'connect')];
    let t = 0;
    for (let i = 0; i < 7; i++) {
      t += delays.at(-1)!;
      expect(c.timerExpired('connect', t)).toEqual([{ type: 'connect' }]);
      delays.push(armed(c.connectFailed(t), 'connect'));
    }
    expect(delays).toEqual([45, 900, 1800, 3600, 7200, 14400, 27000, 27000]);
    c.timerExpired('connect', t + 27_000);
    c.connected(t + 27_000);
    c.receive(utf8.encode(DOC_CN_HEADER), t + 27_001);
    expect(armed(c.peerClosed(t + 30_000), 'connect')).toBe(45);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the control node's real session and route hub, on a fake clock

const opts = (agent: string, vhostIp: string) => ({ agent, vhostIp, random: () => 0.5, eorRxFallbackMs: 60_000 });

function podRoute(prefix: string, label: number): LocalRoute {
  return { vrf: VN1, prefix, label, virtualNetwork: 'default-domain:admin:vn1', securityGroups: [8000002] };
}

function lastRoutes(link: SimLink): Map<string, string[] | null> {
  const m = new Map<string, string[] | null>();
  for (const e of link.events) {
    if (e.type !== 'routes') continue;
    for (const ev of e.events) {
      if (ev.kind === 'update') m.set(ev.route.prefix, ev.route.nextHops.map((h) => `${h.address}/${h.label}/${h.encapsulations.join('+')}`));
      else m.set(ev.prefix, null);
    }
  }
  return m;
}

describe('full sessions with the control node\'s session code', () => {
  it('A publishes, B learns A\'s route with its label and vhost; ECMP when C publishes the same prefix; withdrawals reach B', () => {
    const sim = new Sim();
    const cn = sim.cn('cn-host-1');
    const a = new SimLink(sim, cn, opts('compute-a', '10.0.0.11'));
    const b = new SimLink(sim, cn, opts('compute-b', '10.0.0.12'));
    const c = new SimLink(sim, cn, opts('compute-c', '10.0.0.13'));
    a.client.subscribe(VN1, 3);
    a.client.publish(podRoute('10.1.1.3/32', 25));
    b.client.subscribe(VN1, 7);
    c.client.subscribe(VN1, 2);
    for (const l of [a, b, c]) l.start();
    sim.advance(100);
    expect(a.client.established && b.client.established).toBe(true);
    // The CN took the subscription with our instance id and the route with our fields (9.1).
    expect(cn.hub.instanceIdOf('compute-a', VN1)).toBe(3);
    const pub = a.cnActions.find((x) => x.type === 'publish');
    expect(pub).toMatchObject({
      type: 'publish',
      instance: VN1,
      family: 'inet',
      route: { prefix: '10.1.1.3/32', nextHop: '10.0.0.11', label: 25, encapsulations: ['udp', 'gre'], localPreference: 200, securityGroups: [8000002] },
    });
    expect(a.cnActions.filter((x) => x.type === 'end-of-rib').length).toBeGreaterThanOrEqual(1);
    expect(lastRoutes(b).get('10.1.1.3/32')).toEqual(['10.0.0.11/25/udp+gre']);
    // Reflected to its originator too (10.1).
    expect(lastRoutes(a).get('10.1.1.3/32')).toEqual(['10.0.0.11/25/udp+gre']);
    // The CN's EoR after its quiet period: every client sweeps (nothing stale yet).
    sim.advance(5_000);
    for (const l of [a, b, c]) expect(l.events).toContainEqual({ type: 'sweep-stale', reason: 'end-of-rib' });

    a.run(a.client.publish(podRoute('10.1.1.100/32', 40)));
    c.run(c.client.publish(podRoute('10.1.1.100/32', 41)));
    sim.advance(10);
    expect(lastRoutes(b).get('10.1.1.100/32')).toEqual(['10.0.0.11/40/udp+gre', '10.0.0.13/41/udp+gre']);

    a.run(a.client.withdraw(VN1, '10.1.1.3/32'));
    sim.advance(10);
    expect(lastRoutes(b).get('10.1.1.3/32')).toBeNull();
    expect(a.cnActions.at(-1)).toEqual({ type: 'withdraw', instance: VN1, family: 'inet', prefix: '10.1.1.3/32' });
  });

  it('two control nodes: publishes go to both; a CN away leaves its copies stale but forwarding; its EoR after reconnect sweeps what it did not refresh', () => {
    const sim = new Sim();
    const cn1 = sim.cn('cn1');
    const cn2 = sim.cn('cn2');
    const a1 = new SimLink(sim, cn1, opts('compute-a', '10.0.0.11'));
    const a2 = new SimLink(sim, cn2, opts('compute-a', '10.0.0.11'));
    const b1 = new SimLink(sim, cn1, opts('compute-b', '10.0.0.12'));
    const b2 = new SimLink(sim, cn2, opts('compute-b', '10.0.0.12'));
    const router = new VRouter({ vhostIp: '10.0.0.12' });
    const sync = new RouteSync(router, { vrfIndex: (n) => (n === VN1 ? 7 : undefined), encapPriority: ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] });
    for (const [cn, l] of [['cn1', b1], ['cn2', b2]] as const) {
      l.onEvent = (e) => {
        if (e.type === 'routes') for (const ev of e.events) ev.kind === 'update' ? sync.update(cn, ev.route) : sync.withdraw(cn, ev.vrf, ev.prefix);
        else if (e.type === 'down') sync.cnDown(cn);
        else if (e.type === 'sweep-stale') sync.sweepStale(cn);
      };
    }
    for (const l of [a1, a2]) {
      l.client.subscribe(VN1, 3);
      l.client.publish(podRoute('10.1.1.3/32', 25));
      l.client.publish(podRoute('10.1.1.5/32', 26));
    }
    for (const l of [b1, b2]) l.client.subscribe(VN1, 7);
    for (const l of [a1, a2, b1, b2]) l.start();
    sim.advance(5_000);
    const table = router.vrfs.get(7)!.routes;
    const tunnelOf = (prefix: string) => {
      const r = table.get(prefix);
      const nh = r && router.nhs.get(r.nh);
      return nh?.type === 'tunnel' ? `${nh.encapType}->${nh.dip} label ${r!.label}` : nh?.type;
    };
    expect(tunnelOf('10.1.1.3/32')).toBe('MPLSoUDP->10.0.0.11 label 25');
    expect(tunnelOf('10.1.1.5/32')).toBe('MPLSoUDP->10.0.0.11 label 26');
    expect(sync.get(7, '10.1.1.3/32')).toMatchObject({ from: 'cn1', stale: false, copies: [{ cn: 'cn1', stale: false }, { cn: 'cn2', stale: false }] });

    // CN 1 dies: its copies go stale, CN 2's serve.
    cn1.crash();
    sim.advance(10);
    expect(b1.events).toContainEqual({ type: 'down', reason: 'peer-closed' });
    expect(sync.get(7, '10.1.1.3/32')).toMatchObject({ from: 'cn2', stale: false, copies: [{ cn: 'cn1', stale: true }, { cn: 'cn2', stale: false }] });
    // Both die: everything stale, still forwarding.
    cn2.crash();
    sim.advance(10);
    expect(sync.get(7, '10.1.1.5/32')).toMatchObject({ stale: true, copies: [{ cn: 'cn1', stale: true }, { cn: 'cn2', stale: true }] });
    expect(tunnelOf('10.1.1.5/32')).toBe('MPLSoUDP->10.0.0.11 label 26');
    // Meanwhile A's pod 10.1.1.5 goes: nobody can be told.
    a1.run(a1.client.withdraw(VN1, '10.1.1.5/32'));
    a2.run(a2.client.withdraw(VN1, '10.1.1.5/32'));
    // Reconnects follow the back-off: attempts at +~50 ms, ~1 s, ~2 s, ... while the CNs are down.
    sim.advance(4_000);
    expect(b1.connects).toBeGreaterThanOrEqual(4);
    expect(b1.client.state).not.toBe('established');

    cn1.start();
    sim.advance(10_000);
    expect(b1.client.established).toBe(true);
    // CN 1 re-learnt 10.1.1.3 from A, sent it and its EoR: B swept CN 1's stale copy of 10.1.1.5.
    expect(b1.events.filter((e) => e.type === 'sweep-stale').length).toBe(2);
    expect(sync.get(7, '10.1.1.3/32')).toMatchObject({ from: 'cn1', stale: false });
    expect(sync.get(7, '10.1.1.5/32')).toMatchObject({ stale: true, copies: [{ cn: 'cn2', stale: true }] });
    expect(tunnelOf('10.1.1.5/32')).toBe('MPLSoUDP->10.0.0.11 label 26');

    cn2.start();
    sim.advance(40_000);
    expect(sync.get(7, '10.1.1.5/32')).toBeUndefined();
    expect(table.get('10.1.1.5/32')).toBeUndefined();
    expect(tunnelOf('10.1.1.3/32')).toBe('MPLSoUDP->10.0.0.11 label 25');
    expect(sync.get(7, '10.1.1.3/32')).toMatchObject({ stale: false, copies: [{ cn: 'cn1', stale: false }, { cn: 'cn2', stale: false }] });
  });

  it('sweeps at the EoR-rx fallback when a reconnected CN never sends its end-of-RIB', () => {
    const c = docClient();
    c.subscribe(VN1, 3);
    establish(c, 100);
    c.peerClosed(1_000);
    c.timerExpired('connect', 1_045);
    c.connected(1_050);
    const est = c.receive(utf8.encode(DOC_CN_HEADER), 1_060);
    expect(armed(est, 'eor-rx')).toBe(60_000);
    expect(c.timerExpired('eor-rx', 61_060)).toEqual([
      { type: 'cancel-timer', timer: 'stale' },
      { type: 'sweep-stale', reason: 'eor-timeout' },
    ]);
  });
});
