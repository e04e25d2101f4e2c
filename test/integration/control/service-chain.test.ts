/**
 * Service chaining through the whole control node (book ch. 10, book-lab.md S10): the lab's
 * left and right networks, the csrx service instance between them, and a policy left <> right
 * through it, added and removed over the REST API. Two agents scripted from the dialect notes
 * (raw TCP): cent222 hosts cirros-left and both csrx interfaces, cent333 hosts cirros-right.
 * Each side's pods must appear in the other side's VRF behind the csrx interface on that side
 * (next hop cent222, that interface's label), and only while the chain stands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlModel, routingInstanceName, toDocument, type ControlModel } from '../../../src/control/config-model.js';
import { ControlNode } from '../../../src/control/node.js';
import { originVnCommunity } from '../../../src/control/origin-vn.js';
import { formatExtCommunity } from '../../../src/rib/route-target.js';
import { publishPair, subscribeIq, type DocRoute } from '../../unit/control/doc-stanzas.js';
import { modelOnLoopback } from '../../support/lab-model.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';
import { networksOf } from './item-networks.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const HOST = '127.0.0.1';
const AGENT_A = '127.0.0.81'; // cent222 vhost0: cirros-left, csrx-left, csrx-right
const AGENT_B = '127.0.0.82'; // cent333 vhost0: cirros-right
const LEFT_VN = 'default-domain:k8s-default:k8s-vn-left-1-pod-network';
const RIGHT_VN = 'default-domain:k8s-default:k8s-vn-right-1-pod-network';
const LEFT = routingInstanceName(LEFT_VN);
const RIGHT = routingInstanceName(RIGHT_VN);
const POLICY = 'default-domain:k8s-default:left-to-right';
const LEFT_NODE = `1/1/${LEFT}`;
const RIGHT_NODE = `1/1/${RIGHT}`;
// Instance ids the agents subscribe with (their RDs' numbers).
const A_LEFT_ID = 6;
const A_RIGHT_ID = 5;
const B_RIGHT_ID = 7;
const LABEL = { cirrosLeft: 41, csrxLeft: 42, csrxRight: 43, cirrosRight: 51 };

/** The lab on loopback, without the chain's policy: the test adds it over REST. */
function loopbackModel(lab: ControlModel): { model: ControlModel; policy: unknown } {
  const policy = lab.networkPolicies.find((p) => p.name === POLICY);
  if (!policy) throw new Error(`${LAB} has no policy ${POLICY}`);
  const model: ControlModel = {
    ...modelOnLoopback(lab, HOST),
    networkPolicies: lab.networkPolicies.filter((p) => p.name !== POLICY),
  };
  return { model, policy: toDocument(policy) };
}

describe('service chain left <> right through csrx (book ch. 10)', () => {
  let node: ControlNode;
  let a: ScriptedAgent;
  let b: ScriptedAgent;
  let policy: unknown;
  let leftIndex = 0;
  let rightIndex = 0;
  const route = (agent: string, vrf: string, prefix: string, nextHop: string, label: number): DocRoute => ({ agent, vrf, prefix, nextHop, label });
  const csrxLeft = route('cent222', LEFT, '10.10.10.2/32', AGENT_A, LABEL.csrxLeft);
  const hop = (address: string, label: number) => [{ address, label, encapsulations: ['gre', 'udp'] }];
  const policyUrl = () => `${node.restUrl}/api/network-policies/${encodeURIComponent(POLICY)}`;

  beforeAll(async () => {
    const lab = await loadControlModel(LAB);
    const lb = loopbackModel(lab);
    policy = lb.policy;
    leftIndex = lab.virtualNetworks.find((v) => v.name === LEFT_VN)!.id;
    rightIndex = lab.virtualNetworks.find((v) => v.name === RIGHT_VN)!.id;
    node = new ControlNode(lb.model, { xmpp: { eorQuietMs: 200, eorRetryMs: 50 } });
    await node.start();
    a = new ScriptedAgent('cent222', HOST, node.xmppPort, 5_000);
    b = new ScriptedAgent('cent333', HOST, node.xmppPort, 5_000);
    await Promise.all([a.open(), b.open()]);
    a.send(subscribeIq('cent222', LEFT, A_LEFT_ID) + subscribeIq('cent222', RIGHT, A_RIGHT_ID));
    b.send(subscribeIq('cent333', RIGHT, B_RIGHT_ID));
    a.send(publishPair(route('cent222', LEFT, '10.10.10.1/32', AGENT_A, LABEL.cirrosLeft)));
    a.send(publishPair(csrxLeft));
    a.send(publishPair(route('cent222', RIGHT, '20.20.20.2/32', AGENT_A, LABEL.csrxRight)));
    b.send(publishPair(route('cent333', RIGHT, '20.20.20.1/32', AGENT_B, LABEL.cirrosRight)));
  });

  afterAll(async () => {
    for (const x of [a, b]) x?.socket.destroy();
    await node?.stop();
  });

  it('without the policy the networks stay apart', async () => {
    // Each agent has its own network's routes (its own reflected, the other agent's)...
    await a.until('left routes', () => a.route(LEFT_NODE, '10.10.10.1/32') !== undefined && a.route(LEFT_NODE, '10.10.10.2/32') !== undefined);
    await a.until('right routes at cent222', () => a.route(RIGHT_NODE, '20.20.20.1/32') !== undefined);
    await b.until('right routes at cent333', () => b.route(RIGHT_NODE, '20.20.20.2/32') !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    // ...and nothing of the other side.
    const leftItems = [...a.routes().keys()].filter((k) => k.startsWith(`${LEFT_NODE} `));
    expect(leftItems.sort()).toEqual([`${LEFT_NODE} 10.10.10.1/32`, `${LEFT_NODE} 10.10.10.2/32`]);
    const rightAtB = [...b.routes().keys()].filter((k) => k.startsWith(`${RIGHT_NODE} `));
    expect(rightAtB.sort()).toEqual([`${RIGHT_NODE} 20.20.20.1/32`, `${RIGHT_NODE} 20.20.20.2/32`]);
    expect(node.instances.serviceChains()).toEqual([]);
  });

  it('the policy through csrx puts each side behind the csrx interface facing it', async () => {
    const put = await fetch(policyUrl(), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(policy) });
    expect(put.status).toBe(200);
    // Left VRF: the right pods via csrx-left (cent222, its label), as the book's Figure 10.19 shows.
    await a.until('20.20.20.1/32 in the left VRF', () => a.route(LEFT_NODE, '20.20.20.1/32') != null);
    expect(a.route(LEFT_NODE, '20.20.20.1/32')).toEqual(hop(AGENT_A, LABEL.csrxLeft));
    await a.until('20.20.20.2/32 in the left VRF', () => a.route(LEFT_NODE, '20.20.20.2/32') != null);
    expect(a.route(LEFT_NODE, '20.20.20.2/32')).toEqual(hop(AGENT_A, LABEL.csrxLeft));
    // Right VRF, the return path: the left pods via csrx-right.
    await b.until('10.10.10.1/32 in the right VRF', () => b.route(RIGHT_NODE, '10.10.10.1/32') != null);
    expect(b.route(RIGHT_NODE, '10.10.10.1/32')).toEqual(hop(AGENT_A, LABEL.csrxRight));
    expect(b.route(RIGHT_NODE, '10.10.10.2/32')).toEqual(hop(AGENT_A, LABEL.csrxRight));
    // Items name the far network (the chain route's OriginVN), as Contrail's do; the VRF's own
    // routes keep its network.
    const netsAtA = a.routesBy(networksOf);
    expect(netsAtA.get(`${LEFT_NODE} 20.20.20.1/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
    expect(netsAtA.get(`${LEFT_NODE} 20.20.20.2/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
    expect(netsAtA.get(`${LEFT_NODE} 10.10.10.1/32`)).toEqual({ entry: LEFT_VN, hops: [LEFT_VN] });
    expect(b.routesBy(networksOf).get(`${RIGHT_NODE} 10.10.10.1/32`)).toEqual({ entry: LEFT_VN, hops: [LEFT_VN] });
    // No loop: the left pods in the left VRF keep their own next hops only (nothing chained
    // back), likewise on the right.
    await new Promise((r) => setTimeout(r, 200));
    expect(a.route(LEFT_NODE, '10.10.10.1/32')).toEqual(hop(AGENT_A, LABEL.cirrosLeft));
    expect(b.route(RIGHT_NODE, '20.20.20.1/32')).toEqual(hop(AGENT_B, LABEL.cirrosRight));
    expect(node.hub.table(LEFT, 'inet').get('10.10.10.1/32')?.paths.map((p) => p.source.key)).toEqual(['xmpp:cent222']);

    const chains = node.instances.serviceChains().map((c) => [c.network, c.farNetwork, c.address, c.connected, c.prefixes]);
    expect(chains.sort()).toEqual([
      [LEFT_VN, RIGHT_VN, '10.10.10.2', true, ['20.20.20.1/32', '20.20.20.2/32']],
      [RIGHT_VN, LEFT_VN, '20.20.20.2', true, ['10.10.10.1/32', '10.10.10.2/32']],
    ]);
    // The REST API lists the same chains.
    const listed = await fetch(`${node.restUrl}/api/service-chains`);
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { serviceInstance: string; network: string; port: string; farNetwork: string; connected: boolean; prefixes: string[] }[];
    expect(body.map((c) => [c.serviceInstance, c.network, c.port, c.farNetwork, c.connected, c.prefixes]).sort()).toEqual([
      ['default-domain:k8s-default:csrx', LEFT_VN, 'default-domain:k8s-default:csrx-left', RIGHT_VN, true, ['20.20.20.1/32', '20.20.20.2/32']],
      ['default-domain:k8s-default:csrx', RIGHT_VN, 'default-domain:k8s-default:csrx-right', LEFT_VN, true, ['10.10.10.1/32', '10.10.10.2/32']],
    ]);

    // In bgp.l3vpn.0 as Contrail sends them: RD of the csrx interface's agent and instance,
    // the VRF's export RT, OriginVN of the far network, accept-own-nexthop, label of the interface.
    const vpn = node.speaker.tables.get('vpnv4')!;
    const leftRt = `target:64512:${8_000_000 + leftIndex}`;
    const rightRt = `target:64512:${8_000_000 + rightIndex}`;
    for (const [key, rt, far, label] of [
      [`${AGENT_A}:${A_LEFT_ID}:20.20.20.1/32`, leftRt, rightIndex, LABEL.csrxLeft],
      [`${AGENT_A}:${A_RIGHT_ID}:10.10.10.1/32`, rightRt, leftIndex, LABEL.csrxRight],
    ] as const) {
      const best = vpn.get(key)?.best;
      expect(best, key).toBeDefined();
      expect(best!.source.kind).toBe('local');
      expect(best!.attrs.nextHop).toBe(AGENT_A);
      expect(best!.labels).toEqual([label]);
      const ext = best!.attrs.extCommunities.map(formatExtCommunity);
      expect(ext).toContain(rt);
      expect(ext).toContain(formatExtCommunity(originVnCommunity(64512, far)));
      // Exactly one OriginVN: the far network's, not the VRF's own.
      expect(ext.filter((x) => x.startsWith('0x8071'))).toHaveLength(1);
      expect(best!.attrs.communities).toContain(0xffff0008);
      expect(Object.keys(best!.attrs.extra)).toEqual(['attr:243']);
    }
  });

  it('the csrx interface going away withdraws its side of the chain, and coming back restores it', async () => {
    a.send(publishPair(csrxLeft, 'dissociate'));
    await a.until('20.20.20.1/32 gone from the left VRF', () => a.route(LEFT_NODE, '20.20.20.1/32') === null, 1000);
    expect(a.route(LEFT_NODE, '20.20.20.2/32')).toBeNull();
    // The other direction hangs on csrx-right, still there.
    expect(b.route(RIGHT_NODE, '10.10.10.1/32')).toEqual(hop(AGENT_A, LABEL.csrxRight));
    // 10.10.10.2 itself left the left VRF, so its chained copy leaves the right one.
    await b.until('10.10.10.2/32 gone from the right VRF', () => b.route(RIGHT_NODE, '10.10.10.2/32') === null, 1000);
    a.send(publishPair(csrxLeft));
    await a.until('20.20.20.1/32 back', () => a.route(LEFT_NODE, '20.20.20.1/32') != null, 1000);
    expect(a.route(LEFT_NODE, '20.20.20.1/32')).toEqual(hop(AGENT_A, LABEL.csrxLeft));
    await b.until('10.10.10.2/32 back', () => b.route(RIGHT_NODE, '10.10.10.2/32') != null, 1000);
  });

  it('deleting the policy over REST withdraws everything the chain made within a second', async () => {
    const t0 = Date.now();
    expect((await fetch(policyUrl(), { method: 'DELETE' })).status).toBe(200);
    await a.until('left VRF clean', () => ['20.20.20.1/32', '20.20.20.2/32'].every((p) => a.route(LEFT_NODE, p) === null), 1000);
    await b.until('right VRF clean', () => ['10.10.10.1/32', '10.10.10.2/32'].every((p) => b.route(RIGHT_NODE, p) === null), 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(a.route(LEFT_NODE, '10.10.10.1/32')).toEqual(hop(AGENT_A, LABEL.cirrosLeft));
    const vpnKeys = [...node.speaker.tables.get('vpnv4')!.destinations()].map((d) => d.key);
    expect(vpnKeys.filter((k) => k.endsWith('20.20.20.1/32'))).toEqual([`${AGENT_B}:${B_RIGHT_ID}:20.20.20.1/32`]);
    expect(vpnKeys.filter((k) => k.endsWith('10.10.10.1/32'))).toEqual([`${AGENT_A}:${A_LEFT_ID}:10.10.10.1/32`]);
    expect(node.instances.serviceChains()).toEqual([]);
    expect(await (await fetch(`${node.restUrl}/api/service-chains`)).json()).toEqual([]);
    expect((await fetch(`${node.restUrl}/api/service-chains`, { method: 'POST', body: '{}' })).status).toBe(405);
  });
});
