/**
 * Issue 4, acceptance 6: misbehaving agents close only their own session. The control node
 * runs the book lab (addresses on 127.0.0.x) with gobgpd as gateway (iBGP, VPNv4) and 50
 * well-behaved agents scripted from the dialect notes, each publishing a pod route and a FIP.
 * Then 27 sessions misbehave one after another, in 27 different ways (malformed XML, dialect
 * ordering, bad values, bad headers). Each gets its RFC 6120 stream error and a closed
 * socket; a route it had published goes with it; every good agent's received routes, the
 * control node's agents and gobgpd's RIB end as they were, and the BGP session never flaps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlNode } from '../../src/control/node.js';
import { ScriptedAgent, type SeenNextHop } from '../support/scripted-agent.js';
import {
  DOC_AGENT_HEADER,
  agentEorMessage,
  agentHeader,
  collectionIq,
  publishIq,
  publishPair,
  subscribeIq,
  type DocRoute,
} from '../unit/control/doc-stanzas.js';
import { gatewayGobgpd, labControlNode } from './support/control-lab.js';
import { DaemonSet } from './support/daemon.js';
import { GOBGP_BINARIES, Gobgpd, gobgpAttr } from './support/gobgpd.js';
import { requireBinaries, sleep, waitFor } from './support/wait.js';

const WEFT = '127.0.0.91';
const GOBGP = '127.0.0.92';
const LAB_NET = { weft: WEFT, gobgp: GOBGP, port: { weft: 21379, gobgp: 21380, gobgpApi: 50192 } };
const POD_RI = 'default-domain:k8s-default:k8s-default-pod-network:k8s-default-pod-network';
const FIP_RI = 'default-domain:k8s-ns-user-1:vn-ns-default:vn-ns-default';
const POD_NODE = `1/1/${POD_RI}`;
const FIP_NODE = `1/1/${FIP_RI}`;
const GOOD = 50;
const GATEWAY_ROUTE = '198.51.100.0/24';

const goodName = (i: number) => `good-${String(i).padStart(2, '0')}`;
const podRoute = (i: number): DocRoute => ({ agent: goodName(i), vrf: POD_RI, prefix: `10.40.0.${i + 1}/32`, nextHop: `127.1.0.${i + 1}`, label: 100 + i });
const fipRoute = (i: number): DocRoute => ({ agent: goodName(i), vrf: FIP_RI, prefix: `203.0.113.${i + 10}/32`, nextHop: `127.1.0.${i + 1}`, label: 200 + i });

interface BadCase {
  name: string;
  /** Stream header first, then a valid subscribe + publish that must vanish with the session. */
  established: boolean;
  script: (agent: string, r: DocRoute) => string;
  condition: string;
}

const sub = (n: string) => subscribeIq(n, POD_RI, 9);
const CASES: BadCase[] = [
  // Before or in the stream header.
  { name: 'stanza before the header', established: false, script: (n) => sub(n), condition: 'not-authorized' },
  { name: 'HTTP instead of XMPP', established: false, script: () => 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', condition: 'not-well-formed' },
  { name: 'a DTD', established: false, script: () => '<!DOCTYPE lol [<!ENTITY lol "lol">]>', condition: 'restricted-xml' },
  { name: 'header to another host', established: false, script: (n) => agentHeader(n).replace('network-control@contrailsystems.com', 'evil.example'), condition: 'host-unknown' },
  { name: 'header without from', established: false, script: (n) => agentHeader(n).replace(`from="${n}" `, ''), condition: 'improper-addressing' },
  { name: 'header version 2.0', established: false, script: (n) => agentHeader(n).replace('version="1.0"', 'version="2.0"'), condition: 'unsupported-version' },
  { name: 'header naming a good agent (second session)', established: false, script: () => agentHeader(goodName(0)), condition: 'conflict' },
  // Malformed XML after Established.
  { name: 'mismatched end tags', established: true, script: () => '<iq type="set"><pubsub></iq></pubsub>', condition: 'not-well-formed' },
  { name: 'text between stanzas', established: true, script: () => 'hello', condition: 'not-well-formed' },
  { name: 'a unit over 1 MiB', established: true, script: (n) => `<iq type="set" from="${n}" to="x"><pubsub>${'<a/>'.repeat(300_000)}</pubsub></iq>`, condition: 'policy-violation' },
  // Out of order.
  { name: 'publish in an instance never subscribed', established: true, script: (n, r) => publishPair({ ...r, vrf: FIP_RI, agent: n }), condition: 'policy-violation' },
  { name: 'duplicate subscribe', established: true, script: (n) => sub(n), condition: 'policy-violation' },
  { name: 'unsubscribe without subscription', established: true, script: (n) => subscribeIq(n, FIP_RI, 9, 'unsubscribe'), condition: 'policy-violation' },
  { name: 'collection without publish', established: true, script: (n) => collectionIq(n, POD_RI, `1/1/${POD_RI}/10.41.9.9/32`), condition: 'policy-violation' },
  { name: 'publish followed by a subscribe', established: true, script: (n, r) => publishIq({ ...r, prefix: '10.41.9.9/32' }) + subscribeIq(n, FIP_RI, 4), condition: 'policy-violation' },
  { name: 'collection naming another node', established: true, script: (n, r) => publishIq({ ...r, prefix: '10.41.9.9/32' }) + collectionIq(n, POD_RI, `1/1/${POD_RI}/10.41.9.8/32`), condition: 'policy-violation' },
  { name: 'second stream header', established: true, script: (n) => DOC_AGENT_HEADER.replace('compute-1', n), condition: 'bad-format' },
  // Bad values.
  { name: 'unknown family', established: true, script: (_n, r) => publishPair({ ...r, family: '7/99' }), condition: 'bad-format' },
  { name: 'subscribe without instance-id', established: true, script: (n) => subscribeIq(n, FIP_RI, undefined), condition: 'bad-format' },
  { name: 'instance-id beyond 16 bits', established: true, script: (n) => subscribeIq(n, FIP_RI, 70_000), condition: 'bad-format' },
  { name: 'bad prefix', established: true, script: (_n, r) => publishPair({ ...r, prefix: '10.41.1.300/32' }), condition: 'bad-format' },
  { name: 'zero next hop', established: true, script: (_n, r) => publishPair({ ...r, nextHop: '0.0.0.0' }), condition: 'bad-format' },
  { name: 'label 0 outside the master instance', established: true, script: (_n, r) => publishPair({ ...r, label: 0 }), condition: 'bad-format' },
  {
    name: 'two next hops',
    established: true,
    script: (_n, r) =>
      publishPair({ ...r, nextHops: '<next-hops><next-hop><af>1</af><address>10.0.0.1</address><label>5</label></next-hop><next-hop><af>1</af><address>10.0.0.2</address><label>6</label></next-hop></next-hops>' }),
    condition: 'bad-format',
  },
  { name: 'negative local-preference', established: true, script: (_n, r) => publishPair(r).replace('<local-preference>200', '<local-preference>-1'), condition: 'bad-format' },
  { name: 'presence', established: true, script: (n) => `<presence from="${n}"></presence>`, condition: 'unsupported-stanza-type' },
  { name: 'someone else\'s from', established: true, script: () => subscribeIq(goodName(0), FIP_RI, 3), condition: 'invalid-from' },
];

/** What gobgpd holds, reduced to what must not change: key -> next hop, labels, communities. */
function ribSummary(g: Gobgpd): string {
  const rib = g.rib('vpnv4');
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(rib).sort()) {
    out[k] = rib[k]!.map((p) => ({ labels: p.nlri.labels, nh: gobgpAttr(p, 14)?.['nexthop'], ext: JSON.stringify(gobgpAttr(p, 16) ?? null), med: gobgpAttr(p, 4)?.['metric'] ?? null }));
  }
  return JSON.stringify(out);
}

/** An agent's received routes without the misbehavers' (10.41/16). */
function goodRoutes(a: ScriptedAgent): Map<string, SeenNextHop[] | null> {
  const m = a.routes();
  for (const k of [...m.keys()]) if (k.includes(' 10.41.')) m.delete(k);
  return m;
}

describe('misbehaving agents next to 50 good ones and a gobgpd gateway', () => {
  let daemons: DaemonSet;
  let node: ControlNode;
  let gobgpd: Gobgpd;
  const good: ScriptedAgent[] = [];
  const bad: ScriptedAgent[] = [];

  beforeAll(async () => {
    requireBinaries(GOBGP_BINARIES);
    daemons = new DaemonSet('control-robustness');
    node = await labControlNode(LAB_NET);
    await node.start();
    gobgpd = gatewayGobgpd(daemons, LAB_NET);
    await waitFor('gobgpd up with weft', () => gobgpd.established(WEFT), 30_000);
    gobgpd.cli('global', 'rib', '-a', 'vpnv4', 'add', GATEWAY_ROUTE, 'label', '301', 'rd', `${GOBGP}:1`, 'rt', '500:500', 'encap', 'mpls-in-gre', 'nexthop', GOBGP);

    for (let i = 0; i < GOOD; i++) good.push(new ScriptedAgent(goodName(i), WEFT, node.xmppPort));
    await Promise.all(good.map((a) => a.open()));
    good.forEach((a, i) => {
      a.send(subscribeIq(a.name, POD_RI, 3) + subscribeIq(a.name, FIP_RI, 5));
      a.send(publishPair(podRoute(i)) + publishPair(fipRoute(i)) + agentEorMessage(a.name));
    });
    // Every good agent: 50 pod routes, 50 FIPs and the gateway's route, then the CN's end-of-RIB.
    for (const a of good) await a.until('all routes', () => [...a.routes().values()].filter((v) => v !== null).length === 2 * GOOD + 1 && a.text.includes('0/0/EndOfRib'), 20_000);
    await waitFor('gobgpd holds the FIPs', () => Object.keys(gobgpd.rib('vpnv4')).filter((k) => k.includes(':203.0.113.')).length === GOOD, 20_000);
  }, 90_000);

  afterAll(async () => {
    for (const a of [...good, ...bad]) a.socket.destroy();
    await node?.stop();
    await daemons?.stopAll();
  });

  it(`${CASES.length} kinds of bad input each close only their own session`, async () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    await sleep(300);
    const before = good.map(goodRoutes);
    const rib = ribSummary(gobgpd);
    const peer = gobgpd.neighbor(WEFT)!;
    const watcher = good[0]!;
    const watcherBytes = watcher.text.length;

    for (const [k, c] of CASES.entries()) {
      const n = `bad-${String(k).padStart(2, '0')}`;
      const b = new ScriptedAgent(n, WEFT, node.xmppPort);
      bad.push(b);
      const own: DocRoute = { agent: n, vrf: POD_RI, prefix: `10.41.0.${k + 1}/32`, nextHop: `127.2.0.${k + 1}`, label: 300 + k };
      if (c.established) {
        await b.open();
        // A valid route first: it is in everyone's table until the session fails.
        b.send(sub(n) + publishPair(own));
        await watcher.until(`${n}'s route`, () => watcher.route(POD_NODE, own.prefix)?.[0]?.label === own.label);
      } else await new Promise<void>((r) => b.socket.once('connect', () => r()));
      b.send(c.script(n, own));
      await b.until(`${c.name}: close`, () => b.closed);
      // The error is the last thing on the wire (short, so a failure prints readably).
      const tail = b.text.slice(b.text.lastIndexOf('<stream:error>'));
      expect(tail, c.name).toMatch(new RegExp(`^<stream:error><${c.condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>.*</stream:error></stream:stream>$`, 's'));
      if (c.established) await watcher.until(`${n}'s route retracted`, () => watcher.route(POD_NODE, own.prefix) === null);
    }

    // The control node: only the good agents, and nothing of the bad ones in its tables.
    expect(node.xmpp.agentNames().sort()).toEqual(good.map((a) => a.name).sort());
    expect([...node.hub.table(POD_RI, 'inet').destinations()].filter((d) => d.key.startsWith('10.41.'))).toEqual([]);
    // Every good agent holds exactly what it held; the misbehavers' routes came and went.
    await sleep(300);
    good.forEach((a, i) => {
      expect(goodRoutes(a), a.name).toEqual(before[i]);
      for (const [key, v] of a.routes()) if (key.includes(' 10.41.')) expect(v, `${a.name} ${key}`).toBeNull();
    });
    // The watcher heard of the misbehavers' own routes only (one item and one retract each).
    const heard = watcher.text.slice(watcherBytes);
    const established = CASES.filter((c) => c.established).length;
    expect(heard.match(/<item id="10\.41\.[^"]+"/g)?.length).toBe(established);
    expect(heard.match(/<retract id="10\.41\.[^"]+"/g)?.length).toBe(established);
    expect(heard.match(/<item id="(?!10\.41\.)[^"]+"/g)).toBeNull();
    // gobgpd: the same RIB once the misbehavers' routes are withdrawn, and no flap.
    await waitFor('gobgpd RIB back to before', () => ribSummary(gobgpd) === rib, 10_000);
    const after = gobgpd.neighbor(WEFT)!;
    expect(after.state.session_state).toBe(6);
    expect(after.state.flops ?? 0).toBe(peer.state.flops ?? 0);
    expect(after.timers.state.uptime).toEqual(peer.timers.state.uptime);
    expect(good.filter((a) => a.closed || a.text.includes('<stream:error>')).map((a) => a.name)).toEqual([]);
  });

  it('the good sessions carry on: a new route still reaches every agent and gobgpd', async () => {
    const r: DocRoute = { ...fipRoute(7), prefix: '203.0.113.200/32', label: 999 };
    good[7]!.send(publishPair(r));
    for (const a of good) await a.until('new route', () => a.route(FIP_NODE, r.prefix)?.[0]?.label === 999);
    await waitFor('new route at gobgpd', () => gobgpd.route('vpnv4', `${r.nextHop}:5:${r.prefix}`));
    expect(good.every((a) => !a.closed)).toBe(true);
  });
});
