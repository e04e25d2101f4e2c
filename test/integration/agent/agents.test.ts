import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtherType, decodeEthernet, decodeIpv4, decodeMpls, decodeUdp, encodeEthernet } from '../../../codecs/net/index.js';
import { Agent, type PodPort } from '../../../src/agent/agent.js';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { XmppServer } from '../../../src/control/xmpp/server.js';
import { process, type Action } from '../../../src/vrouter/index.js';
import { fromPod, udpPacket } from '../../unit/vrouter/lab.js';
import { loopbackAgent } from '../../support/loopback-agent.js';

/**
 * Two agents and the real control node, all on 127.0.0.1: routes go agent -> CN -> agent
 * over TCP, land in the other vRouter's tables, and frames cross from one pod to the other
 * through both pipelines.
 */

const POD_NET = 'default-domain:k8s-default:pod-network:pod-network';
const OTHER_NET = 'default-domain:k8s-default:other:other';
const A_VHOST = '10.0.0.11';
const B_VHOST = '10.0.0.12';
const FABRIC_MAC = '00:50:56:aa:00:01';
const UNDERLAY_MAC = '00:50:56:aa:00:02';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function port(name: string, ip: string, mac: string): PodPort {
  return { name, network: POD_NET, ip, plen: 24, mac, securityGroups: [8000002] };
}

function one(a: Action[]): Action {
  expect(a).toHaveLength(1);
  return a[0]!;
}

describe('two agents and the control node on 127.0.0.1', () => {
  let server: XmppServer;
  let cnPort = 0;
  const agents: Agent[] = [];

  function agent(name: string, vhostIp: string): Agent {
    const a = loopbackAgent({ name, vhostIp, cnPort, fabricMac: FABRIC_MAC, underlayMac: UNDERLAY_MAC });
    agents.push(a);
    return a;
  }

  function startServer(): Promise<unknown> {
    server = new XmppServer({ hub: new InstanceRouteHub(), host: '127.0.0.1', port: cnPort, serverHost: 'cn-host-1', eorQuietMs: 150, eorRetryMs: 50 });
    return server.listen().then((a) => (cnPort = a.port));
  }

  beforeAll(async () => {
    await startServer();
  });

  afterAll(async () => {
    for (const a of agents) a.stop();
    await server.close();
  });

  let A: Agent;
  let B: Agent;
  const podA = { ip: '10.1.1.3', mac: '02:00:0a:01:01:03' };
  const podA2 = { ip: '10.1.1.5', mac: '02:00:0a:01:01:05' };
  const podB = { ip: '10.1.1.4', mac: '02:00:0a:01:01:04' };

  /** B's route to a prefix as `encap->dip label N`, or undefined. */
  function bRoute(prefix: string): string | undefined {
    const vrf = B.vrfOf(POD_NET)!;
    const r = B.router.vrfs.get(vrf)?.routes.get(prefix);
    const nh = r && B.router.nhs.get(r.nh);
    if (!nh) return undefined;
    return nh.type === 'tunnel' ? `${nh.encapType}->${nh.dip} label ${r.label}` : nh.type;
  }

  /** A UDP datagram from B's pod to `dst`, through B's pipeline. */
  function sendFromB(dst: string, sport = 4000): Extract<Action, { type: 'tunnel' }> {
    const vif = B.pod('pod-b/eth0')!.vif.index;
    const a = one(process(B.router, fromPod(podB, udpPacket(podB.ip, dst, sport, 7, new TextEncoder().encode('hello from B'))), vif));
    if (a.type !== 'tunnel') throw new Error(`expected a tunnel action, got ${JSON.stringify({ ...a, bytes: undefined })}`);
    return a;
  }

  it('agent A adds a pod; agent B gets a Tunnel route to A\'s vhost with A\'s label', async () => {
    A = agent('compute-a', A_VHOST);
    B = agent('compute-b', B_VHOST);
    // B's pod network is its second VRF: instance ids are per agent.
    B.addNetwork(OTHER_NET);
    A.start();
    B.start();
    const a = A.addPod(port('pod-a/eth0', podA.ip, podA.mac));
    B.addPod(port('pod-b/eth0', podB.ip, podB.mac));
    expect(a.vif.index).toBe(3);
    expect(a.vif.osName).toMatch(/^tapeth0-[0-9a-f]{6}$/);
    await until('B learns A\'s pod', () => bRoute(`${podA.ip}/32`) !== undefined);
    expect(bRoute(`${podA.ip}/32`)).toBe(`MPLSoUDP->${A_VHOST} label ${a.label}`);
    expect(server.hub.instanceIdOf('compute-a', POD_NET)).toBe(1);
    expect(server.hub.instanceIdOf('compute-b', POD_NET)).toBe(2);
    // A's own route comes back to A and leaves its Encap route alone.
    await until('A hears its own route', () => A.routes.get(1, `${podA.ip}/32`) !== undefined);
    expect(A.router.nhs.get(A.router.vrfs.get(1)!.routes.get(`${podA.ip}/32`)!.nh)!.type).toBe('encap');
    await until('CN end-of-RIB', () => B.controlNodes()[0]!.endOfRibReceived);
  });

  it('a frame from B\'s pod is encapsulated towards A with A\'s label, and A\'s pipeline delivers it to A\'s pod', () => {
    const t = sendFromB(podA.ip);
    const label = A.pod('pod-a/eth0')!.label;
    expect(t).toMatchObject({ encap: 'MPLSoUDP', src: B_VHOST, dst: A_VHOST, label });
    const outer = decodeIpv4(t.bytes);
    expect(outer).toMatchObject({ src: B_VHOST, dst: A_VHOST, protocol: 17 });
    const udp = decodeUdp(outer.payload);
    expect(udp.dstPort).toBe(6635);
    expect(udp.srcPort).toBeGreaterThanOrEqual(49152);
    expect(decodeMpls(udp.payload).labels[0]!.label).toBe(label);
    // Over the underlay to A's fabric NIC.
    const wire = encodeEthernet({ dst: FABRIC_MAC, src: UNDERLAY_MAC, etherType: EtherType.IPV4, payload: t.bytes });
    const d = one(process(A.router, wire, 0));
    if (d.type !== 'emit') throw new Error(`expected delivery, got ${JSON.stringify({ ...d, bytes: undefined })}`);
    expect(d.vif).toBe(A.pod('pod-a/eth0')!.vif.index);
    const eth = decodeEthernet(d.bytes);
    expect(eth).toMatchObject({ dst: podA.mac, src: '00:00:5e:00:01:00', etherType: EtherType.IPV4 });
    const inner = decodeIpv4(eth.payload);
    expect(inner).toMatchObject({ src: podB.ip, dst: podA.ip, ttl: 63 });
    expect(new TextDecoder().decode(decodeUdp(inner.payload).payload)).toBe('hello from B');
  });

  it('withdraws on pod delete', async () => {
    expect(A.removePod('pod-a/eth0')).toBe(true);
    await until('B loses the route', () => bRoute(`${podA.ip}/32`) === undefined);
    expect(B.routes.get(B.vrfOf(POD_NET)!, `${podA.ip}/32`)).toBeUndefined();
    // The tunnel to A went with its last route.
    expect(B.router.nhs.list().filter((n) => n.type === 'tunnel')).toEqual([]);
  });

  it('CN restart: B keeps forwarding on stale routes, then re-learns them and sweeps the one that went meanwhile', async () => {
    const a1 = A.addPod(port('pod-a/eth0', podA.ip, podA.mac));
    const a2 = A.addPod(port('pod-a2/eth0', podA2.ip, podA2.mac));
    await until('B learns both pods', () => bRoute(`${podA.ip}/32`) !== undefined && bRoute(`${podA2.ip}/32`) !== undefined);
    const vrf = B.vrfOf(POD_NET)!;

    await server.close();
    await until('B sees the CN go', () => B.routes.get(vrf, `${podA.ip}/32`)?.stale === true);
    expect(B.controlNodes()[0]!.state).not.toBe('established');
    // Still forwarding on the stale routes.
    expect(bRoute(`${podA.ip}/32`)).toBe(`MPLSoUDP->${A_VHOST} label ${a1.label}`);
    expect(sendFromB(podA2.ip, 4001)).toMatchObject({ dst: A_VHOST, label: a2.label });
    // The second pod goes while no CN can be told.
    A.removePod('pod-a2/eth0');
    expect(bRoute(`${podA2.ip}/32`)).toBe(`MPLSoUDP->${A_VHOST} label ${a2.label}`);

    await startServer();
    await until('both agents back', () => server.agentNames().length === 2, 15_000);
    await until('B re-learns and sweeps', () => B.routes.get(vrf, `${podA.ip}/32`)?.stale === false && bRoute(`${podA2.ip}/32`) === undefined, 15_000);
    expect(bRoute(`${podA.ip}/32`)).toBe(`MPLSoUDP->${A_VHOST} label ${a1.label}`);
    expect(B.controlNodes()[0]).toMatchObject({ state: 'established', sessions: 2, endOfRibReceived: true });
    expect(sendFromB(podA.ip, 4002)).toMatchObject({ dst: A_VHOST, label: a1.label });
  });
});
