/**
 * RT membership the control node originates for its agents (RFC 4684, dialect notes 11.2):
 * the book lab's control node on loopback with gobgpd as an RTC-speaking gateway, and an agent
 * scripted from the dialect notes. gobgpd sends VPN routes only for route targets someone asked
 * for (interop recipes 1.6), so what reaches the agent depends on the membership routes the
 * control node derives from its subscriptions. A second part drives the membership table alone
 * (no sockets): sharing, import changes and graceful restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Nlri, RtcNlri } from '../../../codecs/bgp/nlri.js';
import { rtcMembership } from '../../../src/bgp/families.js';
import { loadControlModel, routingInstanceName } from '../../../src/control/config-model.js';
import { ControlNode } from '../../../src/control/node.js';
import { RtcMemberships } from '../../../src/control/rtc-membership.js';
import { AttrStore, xmppSource, type AttrInput } from '../../../src/rib/path.js';
import { formatExtCommunity, parseRouteTarget } from '../../../src/rib/route-target.js';
import { rtcRouteKey } from '../../../src/rib/rtc.js';
import { subscribeIq } from '../../unit/control/doc-stanzas.js';
import { DaemonSet } from '../../interop/support/daemon.js';
import { GOBGP_BINARIES, Gobgpd } from '../../interop/support/gobgpd.js';
import { requireBinaries, sleep, waitFor } from '../../interop/support/wait.js';
import { modelOnLoopback } from '../../support/lab-model.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const AS = 64512;
const WEFT = '127.0.0.131';
const GOBGP = '127.0.0.132';
const GOBGP_API = 50231;
const FIP_RI = routingInstanceName('default-domain:k8s-ns-user-1:vn-ns-default');
const POD_RI = routingInstanceName('default-domain:k8s-default:k8s-default-pod-network');
const FIP_NODE = `1/1/${FIP_RI}`;
/** gobgp prints an RTC route as `<origin AS>:<RT without "target:">`. */
const gobgpKey = (rt: string) => `${AS}:${rt.replace(/^target:/, '')}`;

describe('RT membership towards an RTC-speaking gobgpd', () => {
  let daemons: DaemonSet;
  let node: ControlNode;
  let gobgpd: Gobgpd;
  let agent: ScriptedAgent;
  const rtcKeys = () => Object.keys(gobgpd.rib('rtc')).sort();
  const vpnKeysAtWeft = () => node.speaker.rib('vpnv4').map((r) => r.key).sort();
  const importsOf = (ri: string) => node.instances.get(ri)!.importTargets;

  beforeAll(async () => {
    requireBinaries(GOBGP_BINARIES);
    daemons = new DaemonSet('rtc-membership');
    const lab = await loadControlModel(LAB);
    const model = modelOnLoopback(lab, WEFT, [
      { name: 'camaro', address: GOBGP, asn: AS, port: 179, passive: true, routeReflectorClient: false, families: ['vpnv4', 'rtc'] },
    ]);
    node = new ControlNode(model, { xmpp: { eorQuietMs: 200, eorRetryMs: 50 }, connectRetry: 1 });
    await node.start();
    gobgpd = new Gobgpd(daemons, {
      name: 'gobgp',
      asn: AS,
      address: GOBGP,
      port: -1,
      apiPort: GOBGP_API,
      neighbors: [{ address: WEFT, peerAs: AS, remotePort: node.bgpPort!, families: ['l3vpn-ipv4-unicast', 'rtc'] }],
    });
    await waitFor('gobgpd Established with weft', () => gobgpd.established(WEFT), 30_000);
    agent = new ScriptedAgent('cent222', WEFT, node.xmppPort);
    await agent.open();
  }, 60_000);

  afterAll(async () => {
    agent?.socket.destroy();
    await node?.stop();
    await daemons?.stopAll();
  });

  it('negotiates RTC and, with no subscription, asks gobgpd for nothing', async () => {
    const snap = node.speaker.neighborsSnapshot().find((n) => n.address === GOBGP);
    expect(snap?.negotiated?.families.sort()).toEqual(['rtc', 'vpnv4']);
    gobgpd.cli('global', 'rib', '-a', 'vpnv4', 'add', '198.51.100.0/24', 'label', '301', 'rd', `${GOBGP}:1`, 'rt', '500:500', 'encap', 'mpls-in-udp', 'nexthop', GOBGP);
    gobgpd.cli('global', 'rib', '-a', 'vpnv4', 'add', '198.51.101.0/24', 'label', '302', 'rd', `${GOBGP}:2`, 'rt', '64999:77', 'nexthop', GOBGP);
    await sleep(1000);
    expect(rtcKeys()).toEqual([]);
    expect(vpnKeysAtWeft()).toEqual([]);
  });

  it('a subscription to the FIP network originates its import RTs; the route with target:500:500 reaches the agent, the other one not even the control node', async () => {
    agent.send(subscribeIq('cent222', FIP_RI, 5));
    const want = importsOf(FIP_RI).map(gobgpKey).sort();
    expect(want).toEqual(expect.arrayContaining([gobgpKey('target:500:500'), gobgpKey('target:64512:8000016')]));
    await waitFor('membership routes at gobgpd', () => rtcKeys().join() === want.join(), 10_000);
    // Next hop our session address, origin IGP, as Contrail originates them.
    const r = gobgpd.rib('rtc')[gobgpKey('target:500:500')]![0]!;
    expect(JSON.stringify(r.attrs)).toContain(WEFT);
    expect(r.attrs.find((a) => a.type === 1)).toMatchObject({ value: 0 });

    await agent.until('gateway route in the FIP VRF', () => agent.route(FIP_NODE, '198.51.100.0/24') != null);
    expect(agent.route(FIP_NODE, '198.51.100.0/24')).toEqual([{ address: GOBGP, label: 301, encapsulations: ['udp'] }]);
    await sleep(500);
    expect(vpnKeysAtWeft()).toEqual([`${GOBGP}:1:198.51.100.0/24`]);
    expect(node.instances.rtcMemberships().map((m) => m.routeTarget).sort()).toEqual([...importsOf(FIP_RI)].sort());
  });

  it('a second instance adds its RTs; unsubscribing the FIP network withdraws only the RTs no other subscription imports', async () => {
    agent.send(subscribeIq('cent222', POD_RI, 3));
    const both = [...new Set([...importsOf(FIP_RI), ...importsOf(POD_RI)])].map(gobgpKey).sort();
    await waitFor('pod network memberships at gobgpd', () => rtcKeys().join() === both.join(), 10_000);

    agent.send(subscribeIq('cent222', FIP_RI, undefined, 'unsubscribe'));
    const pod = importsOf(POD_RI).map(gobgpKey).sort();
    expect(pod).not.toContain(gobgpKey('target:500:500'));
    await waitFor('FIP memberships withdrawn at gobgpd', () => rtcKeys().join() === pod.join(), 10_000);
    // gobgpd no longer has a reason to send the gateway route.
    await waitFor('gateway route gone from the control node', () => vpnKeysAtWeft().length === 0, 10_000);

    agent.send(subscribeIq('cent222', POD_RI, undefined, 'unsubscribe'));
    await waitFor('no membership left at gobgpd', () => rtcKeys().length === 0, 10_000);
    expect(node.instances.rtcMemberships()).toEqual([]);
    expect(node.speaker.rib('rtc').filter((r) => r.paths.some((p) => p.source !== GOBGP))).toEqual([]);
  });
});

describe('RT membership table', () => {
  const RT = { a: 'target:64512:1', b: 'target:64512:2', c: 'target:500:500' };
  const A = xmppSource('cent222', '127.0.0.71');
  const B = xmppSource('cent333', '127.0.0.72');

  /** A speaker that keeps what was originated, by route key. */
  function fakeSpeaker() {
    const held = new Map<string, { nlri: RtcNlri; attrs: AttrInput }>();
    return {
      held,
      keys: () => [...held.keys()].sort(),
      originate(family: string, nlri: Nlri, attrs: AttrInput) {
        expect(family).toBe('rtc');
        if (nlri.kind !== 'rtc') throw new Error('not rtc');
        held.set(rtcRouteKey(rtcMembership(nlri)), { nlri, attrs });
      },
      withdrawLocal(family: string, nlri: Nlri) {
        expect(family).toBe('rtc');
        if (nlri.kind !== 'rtc') throw new Error('not rtc');
        const k = rtcRouteKey(rtcMembership(nlri));
        expect(held.has(k)).toBe(true);
        held.delete(k);
      },
    };
  }
  const key = (rt: string, as = AS) => `${as}:${rt}/96`;
  const setup = () => {
    const sp = fakeSpeaker();
    const m = new RtcMemberships({ store: new AttrStore(), speaker: sp as never });
    m.setInstances(AS, new Map([['red', [RT.a, RT.c].map(parseRouteTarget)], ['blue', [RT.b, RT.c].map(parseRouteTarget)]]));
    return { sp, m };
  };

  it('originates each RT once, 96 bits with our AS, and withdraws it with its last subscriber', () => {
    const { sp, m } = setup();
    m.event({ kind: 'subscribe', source: A, instance: 'red' });
    expect(sp.keys()).toEqual([key(RT.a), key(RT.c)].sort());
    const n = sp.held.get(key(RT.c))!.nlri;
    expect(n.length).toBe(96);
    expect(n.originAs).toBe(AS);
    expect(formatExtCommunity(rtcMembership(n).routeTarget)).toBe(RT.c);
    m.event({ kind: 'subscribe', source: B, instance: 'blue' });
    m.event({ kind: 'subscribe', source: A, instance: 'blue' });
    expect(sp.keys()).toEqual([key(RT.a), key(RT.b), key(RT.c)].sort());
    expect(m.views().find((v) => v.routeTarget === RT.c)?.agents.sort()).toEqual(['cent222', 'cent333']);
    m.event({ kind: 'unsubscribe', source: A, instance: 'red' });
    expect(sp.keys()).toEqual([key(RT.b), key(RT.c)].sort());
    m.event({ kind: 'down', source: B, graceful: false });
    expect(sp.keys()).toEqual([key(RT.b), key(RT.c)].sort());
    m.event({ kind: 'unsubscribe', source: A, instance: 'blue' });
    expect(sp.keys()).toEqual([]);
    expect(m.views()).toEqual([]);
  });

  it('follows import target and AS changes of subscribed instances, and instances that appear later', () => {
    const { sp, m } = setup();
    m.event({ kind: 'subscribe', source: A, instance: 'green' });
    expect(sp.keys()).toEqual([]);
    m.event({ kind: 'subscribe', source: A, instance: 'red' });
    m.setInstances(AS, new Map([['red', [RT.b].map(parseRouteTarget)], ['green', [RT.a].map(parseRouteTarget)]]));
    expect(sp.keys()).toEqual([key(RT.a), key(RT.b)].sort());
    m.setInstances(65000, new Map([['red', [RT.b].map(parseRouteTarget)]]));
    expect(sp.keys()).toEqual([key(RT.b, 65000)]);
  });

  it('keeps a gracefully restarting agent\'s memberships, stale, until it subscribes again or is swept', () => {
    const { sp, m } = setup();
    m.event({ kind: 'subscribe', source: A, instance: 'red' });
    m.event({ kind: 'subscribe', source: A, instance: 'blue' });
    m.event({ kind: 'down', source: A, graceful: true });
    expect(sp.keys()).toEqual([key(RT.a), key(RT.b), key(RT.c)].sort());
    expect(m.views().every((v) => v.agents.join() === 'cent222 (stale)')).toBe(true);
    // Back, it subscribes red only before its end-of-RIB: blue's RT b goes with the sweep.
    m.event({ kind: 'subscribe', source: A, instance: 'red' });
    expect(sp.keys()).toEqual([key(RT.a), key(RT.b), key(RT.c)].sort());
    m.event({ kind: 'sweep', source: A });
    expect(sp.keys()).toEqual([key(RT.a), key(RT.c)].sort());
    expect(m.views().map((v) => v.agents.join())).toEqual(['cent222', 'cent222']);
  });
});
