/**
 * Issue 4, acceptance 5: a service of the book lab (ch. 5, ClusterIP with two backends) through
 * the whole control node. The backends' agents (cent222 hosts webserver-1, cent333 hosts
 * webserver-2) publish the VIP /32 in the service network; an agent subscribed to that
 * network gets ONE item with TWO next hops, and so does a client in the pod network: the
 * service joins its network and its backends' networks as Contrail's default pod/service
 * policy does (book ch. 3 note: "packets destined for the service virtual network/VRF table
 * can reach the backend pod in pod virtual network/VRF table").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlModel, type ControlModel } from '../../../src/control/config-model.js';
import { ControlNode } from '../../../src/control/node.js';
import { publishPair, subscribeIq, type DocRoute } from '../../unit/control/doc-stanzas.js';
import { modelOnLoopback } from '../../support/lab-model.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const HOST = '127.0.0.1';
const AGENT_A = '127.0.0.71'; // cent222 vhost0
const AGENT_B = '127.0.0.72'; // cent333 vhost0
const POD_VN = 'default-domain:k8s-default:k8s-default-pod-network';
const POD_RI = `${POD_VN}:k8s-default-pod-network`;
const SVC_VN = 'default-domain:k8s-default:k8s-default-service-network';
const SVC_RI = `${SVC_VN}:k8s-default-service-network`;
const ISO_RI = 'default-domain:k8s-ns-isolated:k8s-ns-isolated-pod-network:k8s-ns-isolated-pod-network';
const VIP = '10.105.137.227/32';
const SVC = 'default-domain:k8s-default:service-web-clusterip';


describe('service VIP as ECMP through the control node (book lab)', () => {
  let node: ControlNode;
  let a: ScriptedAgent;
  let b: ScriptedAgent;
  let client: ScriptedAgent;
  const vip = (agent: string, nh: string, label: number): DocRoute => ({ agent, vrf: SVC_RI, prefix: VIP, nextHop: nh, label });

  beforeAll(async () => {
    node = new ControlNode(modelOnLoopback(await loadControlModel(LAB), HOST), { xmpp: { eorQuietMs: 200, eorRetryMs: 50 } });
    await node.start();
    a = new ScriptedAgent('cent222', HOST, node.xmppPort);
    b = new ScriptedAgent('cent333', HOST, node.xmppPort);
    client = new ScriptedAgent('client-node', HOST, node.xmppPort);
    await Promise.all([a.open(), b.open(), client.open()]);
    a.send(subscribeIq('cent222', POD_RI, 3) + subscribeIq('cent222', SVC_RI, 4));
    b.send(subscribeIq('cent333', POD_RI, 5) + subscribeIq('cent333', SVC_RI, 6));
    client.send(subscribeIq('client-node', POD_RI, 2) + subscribeIq('client-node', SVC_RI, 8) + subscribeIq('client-node', ISO_RI, 9));
  });

  afterAll(async () => {
    for (const x of [a, b, client]) x?.socket.destroy();
    await node?.stop();
  });

  it('the VIP published by both backends\' agents is one item with two next hops, in the service VRF and the pod VRF', async () => {
    a.send(publishPair(vip('cent222', AGENT_A, 43)));
    b.send(publishPair(vip('cent333', AGENT_B, 28)));
    const svcNode = `1/1/${SVC_RI}`;
    const podNode = `1/1/${POD_RI}`;
    const both = (x: ScriptedAgent, n: string) => x.route(n, VIP)?.length === 2;
    await client.until('ECMP VIP in the service VRF', () => both(client, svcNode));
    await client.until('ECMP VIP in the pod VRF', () => both(client, podNode));
    for (const n of [svcNode, podNode]) {
      const hops = client.route(n, VIP)!;
      expect(hops.map((h) => `${h.address}/${h.label}`).sort()).toEqual([`${AGENT_A}/43`, `${AGENT_B}/28`]);
      expect(hops.every((h) => h.encapsulations.join() === 'gre,udp')).toBe(true);
    }
    // Exactly one item per (node, VIP) in each message that names it: never two items for the VIP.
    for (const m of client.text.split('</message>')) {
      expect(m.split(`<item id="${VIP}">`).length).toBeLessThanOrEqual(2);
    }
    // The backends' agents see the ECMP item too (reflection includes the other's path).
    await a.until('ECMP at cent222', () => both(a, svcNode));
    // The isolated namespace's pod network does not get it.
    expect(client.route(`1/1/${ISO_RI}`, VIP)).toBeUndefined();
    const vpn = node.instances.describe().vpn.map((d) => d.key).filter((k) => k.endsWith(VIP)).sort();
    expect(vpn).toEqual([`${AGENT_A}:4:${VIP}`, `${AGENT_B}:6:${VIP}`]);
  });

  it('one backend withdrawing leaves one next hop; the service removed through REST takes the VIP out of the pod VRF', async () => {
    b.send(publishPair(vip('cent333', AGENT_B, 28), 'dissociate'));
    const podNode = `1/1/${POD_RI}`;
    await client.until('single path', () => client.route(podNode, VIP)?.length === 1);
    expect(client.route(podNode, VIP)).toEqual([{ address: AGENT_A, label: 43, encapsulations: ['gre', 'udp'] }]);
    const svcs = `${node.restUrl}/api/services`;
    const lb = 'default-domain:k8s-default:service-web-lb';
    expect((await fetch(`${svcs}/${encodeURIComponent(lb)}`, { method: 'DELETE' })).status).toBe(200);
    // Still joined by the other service.
    await new Promise((r) => setTimeout(r, 200));
    expect(client.route(podNode, VIP)?.length).toBe(1);
    expect((await fetch(`${svcs}/${encodeURIComponent(SVC)}`, { method: 'DELETE' })).status).toBe(200);
    await client.until('VIP retracted from the pod VRF', () => client.route(podNode, VIP) === null, 1000);
    expect(client.route(`1/1/${SVC_RI}`, VIP)?.length).toBe(1);
  });
});
