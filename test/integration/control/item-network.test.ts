/**
 * Which network a route item names (dialect notes 10.1): the network of the path's OriginVN,
 * not the VRF it is sent in. The lab's left and right networks joined by a plain pass policy
 * (routes leaked both ways, no service instance), two scripted agents, and a raw BGP gateway
 * sending VPNv4 routes into the left network with and without OriginVN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlModel, routingInstanceName, type ControlModel } from '../../../src/control/config-model.js';
import { ControlNode } from '../../../src/control/node.js';
import { publishPair, subscribeIq } from '../../unit/control/doc-stanzas.js';
import { modelOnLoopback } from '../../support/lab-model.js';
import { ScriptedAgent } from '../../support/scripted-agent.js';
import { AS_PATH_EMPTY, attr, LOCAL_PREF_100, mpReachVpn, ORIGIN_IGP, RawPeer, updateBytes, vpnNlri } from '../../support/raw-peer.js';
import { networksOf } from './item-networks.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const HOST = '127.0.0.1';
const AGENT_A = '127.0.0.91'; // cent222: cirros-left
const AGENT_B = '127.0.0.92'; // cent333: cirros-right
const GATEWAY = '127.0.0.93';
const ASN = 64512;
const LEFT_VN = 'default-domain:k8s-default:k8s-vn-left-1-pod-network';
const RIGHT_VN = 'default-domain:k8s-default:k8s-vn-right-1-pod-network';
const LEFT = routingInstanceName(LEFT_VN);
const RIGHT = routingInstanceName(RIGHT_VN);
const LEFT_NODE = `1/1/${LEFT}`;
const RIGHT_NODE = `1/1/${RIGHT}`;
/** No network of the lab has it. */
const UNKNOWN_INDEX = 4242;

/** The lab on loopback; its left-right policy a plain pass rule, the gateway a passive iBGP peer. */
function leakModel(lab: ControlModel): ControlModel {
  const rule = { action: 'pass' as const, direction: '<>' as const, protocol: 'any' as const, sourceNetwork: LEFT_VN, destinationNetwork: RIGHT_VN };
  const policy = lab.networkPolicies.find((p) => p.rules.some((r) => r.serviceInstance !== undefined));
  if (!policy) throw new Error(`${LAB} has no service-chain policy to turn into a leak`);
  return {
    ...modelOnLoopback(lab, HOST, [{ name: 'gateway', address: GATEWAY, asn: ASN, port: 179, passive: true, routeReflectorClient: false }]),
    networkPolicies: [...lab.networkPolicies.filter((p) => p !== policy), { name: policy.name, rules: [rule] }],
  };
}

/** OriginVN (2-byte AS form) as extended-community bytes. */
function originVn(index: number): number[] {
  return [0x80, 0x71, ASN >> 8, ASN & 0xff, index >>> 24, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff];
}

function targetBytes(n: number): number[] {
  return [0, 2, ASN >> 8, ASN & 0xff, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

describe('route items name the network of the path', () => {
  let node: ControlNode;
  let a: ScriptedAgent;
  let b: ScriptedAgent;
  let gw: RawPeer | undefined;
  let leftIndex = 0;
  let rightIndex = 0;

  beforeAll(async () => {
    const lab = await loadControlModel(LAB);
    const model = leakModel(lab);
    leftIndex = lab.virtualNetworks.find((v) => v.name === LEFT_VN)!.id;
    rightIndex = lab.virtualNetworks.find((v) => v.name === RIGHT_VN)!.id;
    expect([leftIndex, rightIndex]).not.toContain(UNKNOWN_INDEX);
    node = new ControlNode(model, { xmpp: { eorQuietMs: 200, eorRetryMs: 50 } });
    await node.start();
    a = new ScriptedAgent('cent222', HOST, node.xmppPort, 5_000);
    b = new ScriptedAgent('cent333', HOST, node.xmppPort, 5_000);
    await Promise.all([a.open(), b.open()]);
    a.send(subscribeIq('cent222', LEFT, 6));
    b.send(subscribeIq('cent333', RIGHT, 7));
    a.send(publishPair({ agent: 'cent222', vrf: LEFT, prefix: '10.10.10.1/32', nextHop: AGENT_A, label: 41 }));
    b.send(publishPair({ agent: 'cent333', vrf: RIGHT, prefix: '20.20.20.1/32', nextHop: AGENT_B, label: 51 }));
  });

  afterAll(async () => {
    gw?.sock.destroy();
    for (const x of [a, b]) x?.socket.destroy();
    await node?.stop();
  });

  it('a route leaked by a network policy names the network it comes from', async () => {
    await a.until('20.20.20.1/32 leaked into left', () => a.route(LEFT_NODE, '20.20.20.1/32') != null);
    await b.until('10.10.10.1/32 leaked into right', () => b.route(RIGHT_NODE, '10.10.10.1/32') != null);
    await a.until('10.10.10.1/32 in left', () => a.route(LEFT_NODE, '10.10.10.1/32') != null);
    expect(node.instances.serviceChains()).toEqual([]);
    const atA = a.routesBy(networksOf);
    expect(atA.get(`${LEFT_NODE} 20.20.20.1/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
    expect(atA.get(`${LEFT_NODE} 10.10.10.1/32`)).toEqual({ entry: LEFT_VN, hops: [LEFT_VN] });
    const atB = b.routesBy(networksOf);
    expect(atB.get(`${RIGHT_NODE} 10.10.10.1/32`)).toEqual({ entry: LEFT_VN, hops: [LEFT_VN] });
    expect(atB.get(`${RIGHT_NODE} 20.20.20.1/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
  });

  it("a gateway's route names its OriginVN's network, unresolved for an unknown one, the VRF's without", async () => {
    gw = await RawPeer.establish({ local: GATEWAY, remote: HOST, port: node.bgpPort!, asn: ASN, holdTime: 90 });
    const leftRt = targetBytes(8_000_000 + leftIndex);
    const send = (prefix: string, rd: number, ext: number[]) =>
      gw!.sendBytes(updateBytes([...ORIGIN_IGP, ...AS_PATH_EMPTY, ...LOCAL_PREF_100, ...attr(0xc0, 16, ext), ...mpReachVpn(GATEWAY, vpnNlri(100 + rd, ASN, rd, prefix, 32))]));
    send('192.0.2.1', 1, leftRt);
    send('192.0.2.2', 2, [...leftRt, ...originVn(rightIndex)]);
    send('192.0.2.3', 3, [...leftRt, ...originVn(UNKNOWN_INDEX)]);
    for (const p of ['192.0.2.1/32', '192.0.2.2/32', '192.0.2.3/32']) await a.until(`${p} in left`, () => a.route(LEFT_NODE, p) != null);
    expect(a.route(LEFT_NODE, '192.0.2.1/32')).toEqual([{ address: GATEWAY, label: 101, encapsulations: ['gre'] }]);
    const atA = a.routesBy(networksOf);
    expect(atA.get(`${LEFT_NODE} 192.0.2.1/32`)).toEqual({ entry: LEFT_VN, hops: [LEFT_VN] });
    expect(atA.get(`${LEFT_NODE} 192.0.2.2/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
    expect(atA.get(`${LEFT_NODE} 192.0.2.3/32`)).toEqual({ entry: 'unresolved', hops: ['unresolved'] });
    // Leaked on into the right VRF (it imports left's auto RT): OriginVN still decides, and
    // the route without one is the right VRF's.
    await b.until('192.0.2.x in right', () => ['192.0.2.1/32', '192.0.2.2/32'].every((p) => b.route(RIGHT_NODE, p) != null));
    const atB = b.routesBy(networksOf);
    expect(atB.get(`${RIGHT_NODE} 192.0.2.1/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
    expect(atB.get(`${RIGHT_NODE} 192.0.2.2/32`)).toEqual({ entry: RIGHT_VN, hops: [RIGHT_VN] });
  });
});
