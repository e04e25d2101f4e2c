/**
 * Issue 4, acceptance 2, 3 and 4: the control node loaded from fixtures/lab/book-lab.yaml
 * (addresses moved to 127.0.0.x), gobgpd as the SDN gateway (iBGP, VPNv4), and two agents
 * scripted from the dialect notes (raw TCP, literal XML). Everything on 127.0.0.0/8.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlNode } from '../../src/control/node.js';
import { agentEorMessage, publishPair, subscribeIq, type DocRoute } from '../unit/control/doc-stanzas.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { gatewayGobgpd, labControlNode } from './support/control-lab.js';
import { DaemonSet } from './support/daemon.js';
import { GOBGP_BINARIES, Gobgpd, gobgpAttr as attr } from './support/gobgpd.js';
import { requireBinaries, waitFor } from './support/wait.js';

const WEFT = '127.0.0.61';
const GOBGP = '127.0.0.62';
const AGENT_A = '127.0.0.71'; // cent222's vhost0
const AGENT_B = '127.0.0.72'; // cent333's vhost0
const LAB_NET = { weft: WEFT, gobgp: GOBGP, port: { weft: 21279, gobgp: 21280, gobgpApi: 50162 } };
const FIP_VN = 'default-domain:k8s-ns-user-1:vn-ns-default';
const FIP_RI = `${FIP_VN}:vn-ns-default`;
const POD_RI = 'default-domain:k8s-default:k8s-default-pod-network:k8s-default-pod-network';
const SVC_VN = 'default-domain:k8s-default:k8s-default-service-network';
const SVC_RI = `${SVC_VN}:k8s-default-service-network`;
const FIP = '203.0.113.2/32';
// Joined only through a service instance (chaining), so no routes leak between them by default.
const LEFT_VN = 'default-domain:k8s-default:k8s-vn-left-1-pod-network';
const LEFT_RI = `${LEFT_VN}:k8s-vn-left-1-pod-network`;
const RIGHT_VN = 'default-domain:k8s-default:k8s-vn-right-1-pod-network';
const RIGHT_RI = `${RIGHT_VN}:k8s-vn-right-1-pod-network`;

describe('control node with gobgpd as gateway and scripted agents', () => {
  let daemons: DaemonSet;
  let node: ControlNode;
  let gobgpd: Gobgpd;
  let a: ScriptedAgent;
  let b: ScriptedAgent;
  const gobgp = (...x: string[]) => gobgpd.cli(...x);
  const fipRoute = (agent: string, nh: string, label: number, localPref: number): DocRoute => ({ agent, vrf: FIP_RI, prefix: FIP, nextHop: nh, label, localPref });
  const vpnKeys = () => Object.keys(gobgpd.rib('vpnv4')).sort();

  beforeAll(async () => {
    requireBinaries(GOBGP_BINARIES);
    daemons = new DaemonSet('control-gobgp');
    node = await labControlNode(LAB_NET);
    await node.start();
    gobgpd = gatewayGobgpd(daemons, LAB_NET);
    await waitFor('gobgpd up with weft', () => gobgpd.established(WEFT), 30_000);
    a = new ScriptedAgent('cent222', WEFT, node.xmppPort);
    b = new ScriptedAgent('cent333', WEFT, node.xmppPort);
    await Promise.all([a.open(), b.open()]);
    // Instance ids as each agent numbers its VRFs (book: 10.169.25.20:5).
    a.send(subscribeIq('cent222', FIP_RI, 5) + subscribeIq('cent222', POD_RI, 3) + subscribeIq('cent222', LEFT_RI, 9));
    b.send(subscribeIq('cent333', FIP_RI, 7) + subscribeIq('cent333', SVC_RI, 4) + subscribeIq('cent333', RIGHT_RI, 10));
  }, 60_000);

  afterAll(async () => {
    a?.socket.destroy();
    b?.socket.destroy();
    await node?.stop();
    await daemons?.stopAll();
  });

  it('acceptance 2: gobgpd holds exactly the local-pref 200 FIP path, with the agent RD, label, RTs, encap, MED', async () => {
    a.send(publishPair(fipRoute('cent222', AGENT_A, 44, 200)));
    b.send(publishPair(fipRoute('cent333', AGENT_B, 45, 100)));
    a.send(agentEorMessage('cent222'));
    b.send(agentEorMessage('cent333'));
    const key = `${AGENT_A}:5:${FIP}`;
    const g = await waitFor('FIP at gobgp', () => gobgpd.route('vpnv4', key));
    await new Promise((r) => setTimeout(r, 300));
    expect(vpnKeys()).toEqual([key]);
    expect(g.nlri.labels).toEqual([44]);
    expect(attr(g, 1)).toMatchObject({ value: 2 }); // origin incomplete
    expect(attr(g, 4)).toMatchObject({ metric: 100 });
    expect(attr(g, 5)).toMatchObject({ value: 200 });
    expect(attr(g, 14)).toMatchObject({ nexthop: AGENT_A });
    const ext = JSON.stringify(attr(g, 16));
    expect(ext).toContain('"500:500"');
    expect(ext).toContain('"64512:8000016"');
    expect(ext).toContain('"tunnel_type":11'); // gre -> MPLSoGRE
    expect(ext).toContain('"tunnel_type":13'); // udp -> MPLSoUDP

    // Both agents see the FIP as one item per prefix, best first.
    await a.until('FIP item', () => a.route(`1/1/${FIP_RI}`, FIP)?.[0]?.address === AGENT_A);

    a.send(publishPair(fipRoute('cent222', AGENT_A, 44, 200), 'dissociate'));
    const key2 = `${AGENT_B}:7:${FIP}`;
    const g2 = await waitFor('standby path at gobgp', () => (vpnKeys().join() === key2 ? gobgpd.route('vpnv4', key2) : undefined));
    expect(g2.nlri.labels).toEqual([45]);
    expect(attr(g2, 4)).toMatchObject({ metric: 200 });
    expect(attr(g2, 5)).toMatchObject({ value: 100 });
    expect(attr(g2, 14)).toMatchObject({ nexthop: AGENT_B });
  });

  it('acceptance 3: a VPNv4 route injected at gobgpd with target:500:500 reaches the FIP subscribers with the gateway next hop, its label, gre', async () => {
    gobgp('global', 'rib', '-a', 'vpnv4', 'add', '198.51.100.0/24', 'label', '301', 'rd', `${GOBGP}:1`, 'rt', '500:500', 'encap', 'mpls-in-gre', 'nexthop', GOBGP);
    const node1 = `1/1/${FIP_RI}`;
    for (const ag of [a, b]) {
      await ag.until('gateway route', () => ag.route(node1, '198.51.100.0/24') != null);
      expect(ag.route(node1, '198.51.100.0/24')).toEqual([{ address: GOBGP, label: 301, encapsulations: ['gre'] }]);
    }
    // Not imported where no import RT matches.
    expect(a.route(`1/1/${POD_RI}`, '198.51.100.0/24')).toBeUndefined();
    gobgp('global', 'rib', '-a', 'vpnv4', 'del', '198.51.100.0/24', 'label', '301', 'rd', `${GOBGP}:1`);
    for (const ag of [a, b]) await ag.until('gateway route retracted', () => ag.route(node1, '198.51.100.0/24') === null);
  });

  it('acceptance 4: a network policy PUT through REST leaks routes both ways within a second; DELETE withdraws', async () => {
    const pod: DocRoute = { agent: 'cent222', vrf: LEFT_RI, prefix: '10.10.10.1/32', nextHop: AGENT_A, label: 20 };
    const svc: DocRoute = { agent: 'cent333', vrf: RIGHT_RI, prefix: '20.20.20.1/32', nextHop: AGENT_B, label: 21 };
    a.send(publishPair(pod));
    b.send(publishPair(svc));
    await a.until('own route reflected', () => a.route(`1/1/${LEFT_RI}`, pod.prefix) != null);
    await b.until('own route reflected', () => b.route(`1/1/${RIGHT_RI}`, svc.prefix) != null);
    expect(a.route(`1/1/${LEFT_RI}`, svc.prefix)).toBeUndefined();

    const name = 'default-domain:k8s-default:left-to-right-direct';
    const url = `${node.restUrl}/api/network-policies/${encodeURIComponent(name)}`;
    const bad = await fetch(url, { method: 'PUT', body: JSON.stringify({ name, rules: [{ 'source-network': LEFT_VN, 'destination-network': 'default-domain:k8s-default:nope' }] }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('network-policies[1].rules[0].destination-network');

    const t0 = Date.now();
    const put = await fetch(url, { method: 'PUT', body: JSON.stringify({ name, rules: [{ 'source-network': LEFT_VN, 'destination-network': RIGHT_VN }] }) });
    expect(put.status).toBe(200);
    await a.until('right route leaked into the left VRF', () => a.route(`1/1/${LEFT_RI}`, svc.prefix)?.[0]?.address === AGENT_B, 1000);
    await b.until('left route leaked into the right VRF', () => b.route(`1/1/${RIGHT_RI}`, pod.prefix)?.[0]?.address === AGENT_A, 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(a.route(`1/1/${LEFT_RI}`, svc.prefix)![0]!.label).toBe(21);

    const del = await fetch(url, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await a.until('leak withdrawn', () => a.route(`1/1/${LEFT_RI}`, svc.prefix) === null, 1000);
    await b.until('leak withdrawn', () => b.route(`1/1/${RIGHT_RI}`, pod.prefix) === null, 1000);
  });
});
