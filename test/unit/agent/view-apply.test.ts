/**
 * The agent applying its configuration view (book-lab S4, S5, S7) on node A of the book's lab,
 * with no kernel: frames go through the pipeline, routes the control node would send are fed
 * to RouteSync as its client would, and what the agent publishes is read from its XMPP
 * client's list (the one replayed on every new session). The last part puts two agents on a
 * real control node's XMPP server on 127.0.0.1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEthernet, decodeGre, decodeIpv4, decodeMpls, decodeTcp, decodeUdp, tcpChecksumOk } from '../../../codecs/net/index.js';
import { emptyAgentView, type AgentView, type ViewPort } from '../../../src/config/agent-view.js';
import { Agent, type PodInfo } from '../../../src/agent/agent.js';
import { DEFAULT_LOCAL_PREFERENCE, ViewApplier } from '../../../src/agent/view-apply.js';
import { firewallHook } from '../../../src/agent/firewall.js';
import type { ReceivedRoute } from '../../../src/agent/xmpp-client.js';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { XmppServer } from '../../../src/control/xmpp/server.js';
import { flowActionString, formatFlowList, process, type Action, type FlowEntry } from '../../../src/vrouter/index.js';
import { FABRIC_MAC, GATEWAY, NODE_A, NODE_B, UNDERLAY_MAC, emitted, fromPod, mplsOverGreFrame, mplsOverUdpFrame, one, tcpPacket, tunnelled } from '../vrouter/lab.js';
import { loopbackAgent } from '../../support/loopback-agent.js';

const POD_VN = 'default-domain:k8s-default:k8s-default-pod-network';
const POD_RI = `${POD_VN}:k8s-default-pod-network`;
const SVC_VN = 'default-domain:k8s-default:k8s-default-service-network';
const SVC_RI = `${SVC_VN}:k8s-default-service-network`;
const FIP_VN = 'default-domain:k8s-ns-user-1:vn-ns-default';
const FIP_RI = `${FIP_VN}:vn-ns-default`;
const FIP = '203.0.113.2';
const VIP = '10.105.137.227';
const HOST = '198.51.100.2';
const GW_LABEL = 299808;
const APP_WEBSERVER = (1 << 16) | 1;
const APP_CLIENT = (1 << 16) | 2;

const WS1 = 'default-domain:k8s-default:webserver-1-eth0';
const CLIENT = 'default-domain:k8s-default:client-eth0';
const WS2 = 'default-domain:k8s-default:webserver-2-eth0';
const CLIENT2 = 'default-domain:k8s-default:client-2-eth0';

const MACS: Record<string, string> = { [WS1]: '02:c5:f6:3f:45:0a', [WS2]: '02:c5:f6:3f:45:0b', [CLIENT]: '02:c5:f6:3f:45:0c', [CLIENT2]: '02:c5:f6:3f:45:0e' };
const IPS: Record<string, string> = { [WS1]: '10.47.255.238', [WS2]: '10.47.255.237', [CLIENT]: '10.47.255.236', [CLIENT2]: '10.47.255.234' };

function viewPort(name: string, vrouter: string, tags: [string, number], localPreference?: number): ViewPort {
  return {
    name,
    network: POD_VN,
    instance: POD_RI,
    mac: MACS[name]!,
    ips: [IPS[name]!],
    vrouter,
    tags: [tags[0]],
    tagIds: [tags[1]],
    ...(localPreference !== undefined ? { localPreference } : {}),
  };
}

interface ViewOptions {
  fip?: boolean;
  /** Ports the FIP is bound to (default webserver-1's). */
  fipPorts?: string[];
  service?: boolean;
  ws1Preference?: number;
  ws2Preference?: number;
  podVni?: number;
}

/** The book lab's view for cent222 (node A) or cent333 (node B). */
function labView(node: 'A' | 'B', o: ViewOptions = {}): AgentView {
  const v = node === 'A' ? emptyAgentView('cent222', NODE_A) : emptyAgentView('cent333', NODE_B);
  v.networks = [
    {
      name: POD_VN,
      instance: POD_RI,
      id: 5,
      ...(o.podVni !== undefined ? { vxlanId: o.podVni } : {}),
      subnets: [{ prefix: '10.32.0.0/12', gateway: '10.47.255.254', serviceAddress: '10.47.255.253' }],
    },
    { name: SVC_VN, instance: SVC_RI, id: 6, subnets: [{ prefix: '10.96.0.0/12', gateway: '10.111.255.254', serviceAddress: '10.111.255.253' }] },
    { name: FIP_VN, instance: FIP_RI, id: 16, subnets: [{ prefix: '203.0.113.0/24', gateway: '203.0.113.254', serviceAddress: '203.0.113.253' }] },
  ];
  v.ports =
    node === 'A'
      ? [viewPort(WS1, 'cent222', ['app=webserver', APP_WEBSERVER], o.ws1Preference), viewPort(CLIENT, 'cent222', ['app=client', APP_CLIENT])]
      : [viewPort(WS2, 'cent333', ['app=webserver', APP_WEBSERVER], o.ws2Preference), viewPort(CLIENT2, 'cent333', ['app=client', APP_CLIENT])];
  v.tags = [
    { name: 'app=webserver', id: APP_WEBSERVER },
    { name: 'app=client', id: APP_CLIENT },
  ];
  if (o.fip) {
    v.floatingIps = [
      { name: `${FIP_VN}:pool-ns-default:webserver-1-fip`, address: FIP, network: FIP_VN, instance: FIP_RI, ports: o.fipPorts ?? [WS1], portMap: [] },
    ];
  }
  if (o.service) {
    v.services = [
      {
        name: 'default-domain:k8s-default:service-web-clusterip',
        network: SVC_VN,
        instance: SVC_RI,
        vip: VIP,
        ports: [{ protocol: 'tcp', port: 8888, targetPort: 80 }],
        backends: [WS1, WS2],
      },
    ];
  }
  return v;
}

/** An agent that is never started: it keeps what it would send to its control node. */
function nodeA(): { agent: Agent; applier: ViewApplier; now: { t: number } } {
  const now = { t: 1_000_000 };
  const agent = new Agent({
    name: 'cent222',
    vhostIp: NODE_A,
    controlNodes: [{ host: '127.0.0.1', port: 1 }],
    fabricMac: FABRIC_MAC,
    underlayMac: UNDERLAY_MAC,
    clock: () => now.t,
  });
  const applier = new ViewApplier(agent);
  agent.onView = (v) => applier.apply(v);
  return { agent, applier, now };
}

/** A pod for a view port, made as the pod API makes it. */
function addPod(agent: Agent, applier: ViewApplier, name: string): PodInfo {
  const p = applier.port(name)!;
  const a = applier.portAddress(p);
  if (typeof a === 'string') throw new Error(a);
  return agent.addPod({ name, network: p.instance, ip: a.ip, plen: a.plen, mac: p.mac, virtualNetwork: p.network, tags: p.tagIds });
}

/** What the control node would send for a prefix (dialect 10.1), as the client hands it over. */
function cnRoute(vrf: string, prefix: string, hops: { address: string; label: number; encapsulations?: string[] }[], vn: string): ReceivedRoute {
  return {
    vrf,
    prefix,
    nextHops: hops.map((h) => ({ address: h.address, label: h.label, vni: 0, encapsulations: h.encapsulations ?? ['gre', 'udp'], virtualNetwork: vn, tags: [] })),
    virtualNetwork: vn,
    localPreference: 200,
    sequenceNumber: 0,
    securityGroups: [],
    communityTags: [],
  };
}

/** The pair of a flow, forward first. */
function pair(agent: Agent, e: FlowEntry | undefined): [FlowEntry, FlowEntry] {
  if (!e) throw new Error('no flow');
  return [e, agent.router.flows.get(e.rflow)!];
}

describe('floating IP bound to a local pod (S4)', () => {
  const { agent, applier } = nodeA();

  it('a binding whose port has no pod yet waits for the pod, then joins the FIP network and routes the /32 to the port', () => {
    agent.onView!(labView('A', { fip: true }));
    expect(agent.vrfOf(FIP_RI)).toBeUndefined();
    expect(agent.publishedRoutes().filter((r) => r.vrf === FIP_RI)).toEqual([]);

    const ws1 = addPod(agent, applier, WS1);
    expect(ws1.port.plen).toBe(12);
    const fipVrf = agent.vrfOf(FIP_RI)!;
    expect(fipVrf).toBeDefined();
    const r = agent.router.vrfs.get(fipVrf)!.routes.get(`${FIP}/32`)!;
    expect(r).toMatchObject({ nh: ws1.nh, label: ws1.label });
    expect(agent.router.nhs.get(r.nh)).toMatchObject({ type: 'encap', oif: ws1.vif.index });
  });

  it('publishes the FIP /32 in the FIP network with the port\'s label, tags and preference (absent: 200, as pod routes)', () => {
    const ws1 = agent.pod(WS1)!;
    const published = agent.publishedRoutes();
    expect(published.find((r) => r.vrf === FIP_RI)).toEqual({
      vrf: FIP_RI,
      prefix: `${FIP}/32`,
      label: ws1.label,
      virtualNetwork: FIP_VN,
      localPreference: DEFAULT_LOCAL_PREFERENCE,
      tags: [APP_WEBSERVER],
    });
    expect(DEFAULT_LOCAL_PREFERENCE).toBe(200);
    // The pod's own route goes on as before, now with the port's tags.
    expect(published.find((r) => r.prefix === `${IPS[WS1]}/32`)).toMatchObject({ vrf: POD_RI, label: ws1.label, virtualNetwork: POD_VN, tags: [APP_WEBSERVER] });
  });

  it('the port\'s local preference goes on its pod route and on its FIP (S7)', () => {
    agent.onView!(labView('A', { fip: true, ws1Preference: 100 }));
    const published = agent.publishedRoutes();
    expect(published.find((r) => r.prefix === `${FIP}/32`)?.localPreference).toBe(100);
    expect(published.find((r) => r.prefix === `${IPS[WS1]}/32`)?.localPreference).toBe(100);
    agent.onView!(labView('A', { fip: true }));
    expect(agent.publishedRoutes().find((r) => r.prefix === `${FIP}/32`)?.localPreference).toBe(200);
    expect(agent.publishedRoutes().find((r) => r.prefix === `${IPS[WS1]}/32`)?.localPreference).toBeUndefined();
  });

  it('Internet -> FIP over MPLSoGRE from the gateway: DNAT to the pod; the reply is SNAT\'d and routed in the FIP VRF back to the gateway', () => {
    const ws1 = agent.pod(WS1)!;
    const fipVrf = agent.vrfOf(FIP_RI)!;
    // The gateway's route for the Internet host's network, as the control node reflects it.
    agent.routes.update('cn1', cnRoute(FIP_RI, '198.51.100.0/24', [{ address: GATEWAY, label: GW_LABEL, encapsulations: ['gre'] }], FIP_VN));
    const gre = agent.router.nhs.get(agent.router.vrfs.get(fipVrf)!.routes.get('198.51.100.0/24')!.nh)!;
    expect(gre).toMatchObject({ type: 'tunnel', encapType: 'MPLSoGRE', dip: GATEWAY });

    const syn = emitted(one(process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, FIP, 42786, 80, { syn: true })), 0)));
    expect(syn.vif).toBe(ws1.vif.index);
    const eth = decodeEthernet(syn.bytes);
    expect(eth.dst).toBe(MACS[WS1]);
    const ip = decodeIpv4(eth.payload);
    expect(ip).toMatchObject({ src: HOST, dst: IPS[WS1], checksumOk: true });
    expect(tcpChecksumOk(HOST, IPS[WS1]!, ip.payload)).toBe(true);

    const back = tunnelled(one(process(agent.router, fromPod({ mac: MACS[WS1]! }, tcpPacket(IPS[WS1]!, HOST, 80, 42786, { syn: true, ack: true })), ws1.vif.index)));
    expect(back).toMatchObject({ encap: 'MPLSoGRE', nh: gre.id, dst: GATEWAY, label: GW_LABEL });
    const inner = decodeIpv4(decodeMpls(decodeGre(decodeIpv4(back.bytes).payload).payload).payload);
    expect(inner).toMatchObject({ src: FIP, dst: HOST, checksumOk: true });
    expect(tcpChecksumOk(FIP, HOST, inner.payload)).toBe(true);

    const [fwd, rev] = pair(agent, agent.router.flows.lookup({ vrf: ws1.vrf, proto: 6, src: HOST, dst: FIP, sport: 42786, dport: 80 }));
    expect(flowActionString(fwd.action)).toBe('N(D)');
    expect(flowActionString(rev.action)).toBe('N(S)');
    expect([fwd.key.vrf, fwd.destVrf, rev.key.vrf, rev.destVrf]).toEqual([ws1.vrf, ws1.vrf, ws1.vrf, fipVrf]);
    expect(fwd).toMatchObject({ keyNh: ws1.nh, rpfNh: gre.id, sinfo: GATEWAY });
    // `flow --match 198.51.100.2` as the book prints it (8144-8168).
    const text = formatFlowList({ entries: agent.router.flows.match(HOST), stats: agent.router.flows.stats, capacity: 629760, sizeBytes: 80609280, match: { ip: HOST } });
    expect(text).toContain(`198.51.100.2:42786`);
    expect(text).toContain(`(${ws1.vrf}->${ws1.vrf})`);
    expect(text).toContain(`(${ws1.vrf}->${fipVrf})`);
    expect(text).toMatch(new RegExp(`K\\(nh\\):${ws1.nh}, Action:N\\(D\\), Flags:, TCP:[A-Za-z]+, QOS:-1, S\\(nh\\):${gre.id},`));
    expect(text).toMatch(/Action:N\(S\)/);
  });

  it('a firewall set on the applier judges before NAT: a denied port drops, the FIP flow keeps working', () => {
    const ws1 = agent.pod(WS1)!;
    applier.setFirewall((ctx) => (ctx.key.dport === 22 ? { action: 'drop', reason: 'FwPolicy' } : { action: 'forward' }));
    const d = one(process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, FIP, 42787, 22, { syn: true })), 0));
    expect(d).toMatchObject({ type: 'drop', reason: 'FlowActionDrop' });
    const [f, r] = pair(agent, agent.router.flows.lookup({ vrf: ws1.vrf, proto: 6, src: HOST, dst: FIP, sport: 42787, dport: 22 }));
    expect([flowActionString(f.action), flowActionString(r.action)]).toEqual(['D(FwPolicy)', 'D(Unknown)']);
    expect(emitted(one(process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, FIP, 42788, 80, { syn: true })), 0))).vif).toBe(ws1.vif.index);
    applier.setFirewall(undefined);
  });

  it('unbinding withdraws the FIP, removes its route and NAT flows, and leaves the FIP network', () => {
    const ws1 = agent.pod(WS1)!;
    agent.onView!(labView('A'));
    expect(agent.publishedRoutes().map((r) => r.prefix)).toEqual([`${IPS[WS1]}/32`]);
    expect(agent.vrfOf(FIP_RI)).toBeUndefined();
    const translated = (e: FlowEntry): boolean => e.action.type === 'nat' && [e.key.src, e.key.dst, e.rewrite?.src, e.rewrite?.dst].includes(FIP);
    expect(agent.router.flows.list().filter(translated)).toEqual([]);
    // The old flow is gone, so this is a first packet again: no FIP, no translation.
    const a = one(process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, FIP, 42786, 80, { syn: true })), 0));
    expect(a.type).toBe('emit');
    expect(decodeIpv4(decodeEthernet(emitted(a).bytes).payload).dst).toBe(FIP);
  });

  it('bound again, then the pod goes: the FIP goes with it, and comes back with the pod', () => {
    agent.onView!(labView('A', { fip: true }));
    expect(agent.publishedRoutes().some((r) => r.prefix === `${FIP}/32`)).toBe(true);
    agent.removePod(WS1);
    expect(agent.publishedRoutes()).toEqual([]);
    expect(agent.vrfOf(FIP_RI)).toBeUndefined();
    const ws1 = addPod(agent, applier, WS1);
    expect(agent.publishedRoutes().find((r) => r.prefix === `${FIP}/32`)).toMatchObject({ label: ws1.label, vrf: FIP_RI });
    expect(agent.router.vrfs.get(agent.vrfOf(FIP_RI)!)!.routes.get(`${FIP}/32`)?.nh).toBe(ws1.nh);
  });
});

describe('service VIP with a local and a remote backend (S5)', () => {
  const { agent, applier } = nodeA();
  agent.onView!(labView('A', { service: true, podVni: 5005 }));
  const ws1 = addPod(agent, applier, WS1);
  const client = addPod(agent, applier, CLIENT);
  const WS2_LABEL = 38;
  const CLIENT2_LABEL = 41;

  it('the network\'s VXLAN id from the view goes into the VNI table', () => {
    expect(agent.router.vnis.lookup(5005)).toBe(agent.vrfOf(POD_RI));
    agent.onView!(labView('A', { service: true }));
    expect(agent.router.vnis.lookup(5005)).toBeUndefined();
  });

  it('joins the service network, routes the VIP to the local backend and publishes it with the backend\'s label', () => {
    const svcVrf = agent.vrfOf(SVC_RI)!;
    expect(svcVrf).toBeDefined();
    expect(agent.router.vrfs.get(svcVrf)!.routes.get(`${VIP}/32`)).toMatchObject({ nh: ws1.nh, label: ws1.label });
    expect(agent.publishedRoutes().find((r) => r.prefix === `${VIP}/32`)).toEqual({
      vrf: SVC_RI,
      prefix: `${VIP}/32`,
      label: ws1.label,
      virtualNetwork: SVC_VN,
      localPreference: 200,
      tags: [APP_WEBSERVER],
    });
  });

  it('the pod VRF gets the control node\'s ECMP route: Composite of the local Encap and a Tunnel to B', () => {
    // Both nodes publish the VIP; the control node leaks it into the pod network with both next hops.
    agent.routes.update('cn1', cnRoute(POD_RI, `${VIP}/32`, [{ address: NODE_A, label: ws1.label }, { address: NODE_B, label: WS2_LABEL }], SVC_VN));
    agent.routes.update('cn1', cnRoute(POD_RI, `${IPS[CLIENT2]}/32`, [{ address: NODE_B, label: CLIENT2_LABEL }], POD_VN));
    const r = agent.router.vrfs.get(client.vrf)!.routes.get(`${VIP}/32`)!;
    const nh = agent.router.nhs.get(r.nh)!;
    if (nh.type !== 'composite') throw new Error(`expected a composite, got ${nh.type}`);
    expect(nh.members.map((m) => [agent.router.nhs.get(m.nh)?.type, m.label])).toEqual([
      ['encap', ws1.label],
      ['tunnel', WS2_LABEL],
    ]);
  });

  it('each connection picks a member by hash: the local choice is DNAT+DPAT\'d here (N(DPd)/N(SPs)), the remote one forwarded untouched (F)', () => {
    const seen = { local: 0, remote: 0 };
    for (let sport = 40000; sport < 40040; sport++) {
      const a = one(process(agent.router, fromPod({ mac: MACS[CLIENT]! }, tcpPacket(client.port.ip, VIP, sport, 8888, { syn: true })), client.vif.index));
      const [fwd, rev] = pair(agent, agent.router.flows.lookup({ vrf: client.vrf, proto: 6, src: client.port.ip, dst: VIP, sport, dport: 8888 }));
      if (a.type === 'emit') {
        seen.local++;
        expect(a.vif).toBe(ws1.vif.index);
        const ip = decodeIpv4(decodeEthernet(a.bytes).payload);
        expect(ip.dst).toBe(ws1.port.ip);
        expect(decodeTcp(ip.payload).dstPort).toBe(80);
        expect(tcpChecksumOk(client.port.ip, ws1.port.ip, ip.payload)).toBe(true);
        expect([flowActionString(fwd.action), flowActionString(rev.action)]).toEqual(['N(DPd)', 'N(SPs)']);
        // The backend's answer goes back to the client as the VIP.
        const back = emitted(one(process(agent.router, fromPod({ mac: MACS[WS1]! }, tcpPacket(ws1.port.ip, client.port.ip, 80, sport, { syn: true, ack: true })), ws1.vif.index)));
        expect(back.vif).toBe(client.vif.index);
        const bip = decodeIpv4(decodeEthernet(back.bytes).payload);
        expect([bip.src, decodeTcp(bip.payload).srcPort]).toEqual([VIP, 8888]);
        expect(tcpChecksumOk(VIP, client.port.ip, bip.payload)).toBe(true);
      } else {
        seen.remote++;
        const t = tunnelled(a);
        expect(t).toMatchObject({ encap: 'MPLSoUDP', dst: NODE_B, label: WS2_LABEL });
        const ip = decodeIpv4(decodeMpls(decodeUdp(decodeIpv4(t.bytes).payload).payload).payload);
        expect([ip.dst, decodeTcp(ip.payload).dstPort]).toEqual([VIP, 8888]);
        expect([flowActionString(fwd.action), flowActionString(rev.action)]).toEqual(['F', 'F']);
        expect(fwd.ecmpIndex).toBe(1);
        // B answers as the VIP (it did the NAT); the reverse flow takes it to the client.
        const back = emitted(one(process(agent.router, mplsOverUdpFrame(client.label, tcpPacket(VIP, client.port.ip, 8888, sport, { syn: true, ack: true })), 0)));
        expect(back.vif).toBe(client.vif.index);
      }
      // Later packets of the connection stay on the member.
      const b = one(process(agent.router, fromPod({ mac: MACS[CLIENT]! }, tcpPacket(client.port.ip, VIP, sport, 8888, { ack: true })), client.vif.index));
      expect(b.type).toBe(a.type);
    }
    expect(seen.local).toBeGreaterThan(8);
    expect(seen.remote).toBeGreaterThan(8);
  });

  it('a packet from the fabric for the VIP (B\'s client chose our backend) gets N(DPd) in and N(SPs) back', () => {
    const inb = emitted(one(process(agent.router, mplsOverUdpFrame(ws1.label, tcpPacket(IPS[CLIENT2]!, VIP, 54500, 8888, { syn: true })), 0)));
    expect(inb.vif).toBe(ws1.vif.index);
    const ip = decodeIpv4(decodeEthernet(inb.bytes).payload);
    expect([ip.dst, decodeTcp(ip.payload).dstPort]).toEqual([ws1.port.ip, 80]);
    const back = tunnelled(one(process(agent.router, fromPod({ mac: MACS[WS1]! }, tcpPacket(ws1.port.ip, IPS[CLIENT2]!, 80, 54500, { syn: true, ack: true })), ws1.vif.index)));
    expect(back).toMatchObject({ dst: NODE_B, label: CLIENT2_LABEL });
    const bip = decodeIpv4(decodeMpls(decodeUdp(decodeIpv4(back.bytes).payload).payload).payload);
    expect([bip.src, decodeTcp(bip.payload).srcPort]).toEqual([VIP, 8888]);
    const [fwd, rev] = pair(agent, agent.router.flows.lookup({ vrf: ws1.vrf, proto: 6, src: IPS[CLIENT2]!, dst: VIP, sport: 54500, dport: 8888 }));
    expect([flowActionString(fwd.action), flowActionString(rev.action)]).toEqual(['N(DPd)', 'N(SPs)']);
    expect(fwd.sinfo).toBe(NODE_B);
    const text = formatFlowList({ entries: agent.router.flows.match(IPS[CLIENT2]!), stats: agent.router.flows.stats, capacity: 629760, sizeBytes: 80609280, match: { ip: IPS[CLIENT2]! } });
    expect(text).toMatch(/Action:N\(DPd\)/);
    expect(text).toMatch(/Action:N\(SPs\)/);
  });

  it('the service going withdraws the VIP, takes the local route out and flushes the translated flows', () => {
    agent.onView!(labView('A'));
    // The control node, told, leaves B's path alone in the pod network.
    agent.routes.update('cn1', cnRoute(POD_RI, `${VIP}/32`, [{ address: NODE_B, label: WS2_LABEL }], SVC_VN));
    expect(agent.publishedRoutes().some((r) => r.prefix === `${VIP}/32`)).toBe(false);
    expect(agent.vrfOf(SVC_RI)).toBeUndefined();
    // A service is policy: every flow is flushed, the translated ones and the rest.
    expect(agent.router.flows.list()).toEqual([]);
    // An earlier connection's next packet is judged afresh: to B, the only backend left.
    const mid = one(process(agent.router, fromPod({ mac: MACS[CLIENT]! }, tcpPacket(client.port.ip, VIP, 40000, 8888, { ack: true })), client.vif.index));
    expect(tunnelled(mid)).toMatchObject({ dst: NODE_B, label: WS2_LABEL });
    // With no local backend, every new connection is forwarded untouched.
    for (let sport = 41000; sport < 41010; sport++) {
      const a = one(process(agent.router, fromPod({ mac: MACS[CLIENT]! }, tcpPacket(client.port.ip, VIP, sport, 8888, { syn: true })), client.vif.index));
      expect(tunnelled(a)).toMatchObject({ dst: NODE_B, label: WS2_LABEL });
      const f = agent.router.flows.lookup({ vrf: client.vrf, proto: 6, src: client.port.ip, dst: VIP, sport, dport: 8888 })!;
      expect(flowActionString(f.action)).toBe('F');
    }
  });
});

describe('LoadBalancer floating IP with a port map (S6)', () => {
  const LB_FIP = '203.0.113.252';
  const { agent, applier } = nodeA();
  const v = labView('A');
  v.floatingIps = [
    {
      name: `${FIP_VN}:pool-ns-default:service-web-lb`,
      address: LB_FIP,
      network: FIP_VN,
      instance: FIP_RI,
      ports: [WS1, WS2],
      portMap: [{ protocol: 'tcp', port: 8888, targetPort: 80 }],
    },
    // A bad address from the control node is skipped, not fatal.
    { name: `${FIP_VN}:pool-ns-default:bad`, address: '203.0.113.999', network: FIP_VN, instance: FIP_RI, ports: [WS1], portMap: [] },
  ];
  agent.onView!(v);
  const ws1 = addPod(agent, applier, WS1);
  agent.routes.update('cn1', cnRoute(FIP_RI, '198.51.100.0/24', [{ address: GATEWAY, label: GW_LABEL, encapsulations: ['gre'] }], FIP_VN));

  it('publishes the LB address for the local backend only (B publishes its own), the bad one not at all', () => {
    expect(agent.publishedRoutes().filter((r) => r.vrf === FIP_RI)).toEqual([
      { vrf: FIP_RI, prefix: `${LB_FIP}/32`, label: ws1.label, virtualNetwork: FIP_VN, localPreference: 200, tags: [APP_WEBSERVER] },
    ]);
  });

  it('the mapped port is DNAT+DPAT\'d to the backend (N(DPd)/N(SPs)); other ports are not translated', () => {
    const a = emitted(one(process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, LB_FIP, 43000, 8888, { syn: true })), 0)));
    const ip = decodeIpv4(decodeEthernet(a.bytes).payload);
    expect([ip.dst, decodeTcp(ip.payload).dstPort]).toEqual([ws1.port.ip, 80]);
    const back = tunnelled(one(process(agent.router, fromPod({ mac: MACS[WS1]! }, tcpPacket(ws1.port.ip, HOST, 80, 43000, { syn: true, ack: true })), ws1.vif.index)));
    expect(back).toMatchObject({ encap: 'MPLSoGRE', dst: GATEWAY, label: GW_LABEL });
    const bip = decodeIpv4(decodeMpls(decodeGre(decodeIpv4(back.bytes).payload).payload).payload);
    expect([bip.src, decodeTcp(bip.payload).srcPort]).toEqual([LB_FIP, 8888]);
    const [f, r] = pair(agent, agent.router.flows.lookup({ vrf: ws1.vrf, proto: 6, src: HOST, dst: LB_FIP, sport: 43000, dport: 8888 }));
    expect([flowActionString(f.action), flowActionString(r.action)]).toEqual(['N(DPd)', 'N(SPs)']);

    process(agent.router, mplsOverGreFrame(ws1.label, tcpPacket(HOST, LB_FIP, 43001, 22, { syn: true })), 0);
    const other = agent.router.flows.lookup({ vrf: ws1.vrf, proto: 6, src: HOST, dst: LB_FIP, sport: 43001, dport: 22 })!;
    expect(flowActionString(other.action)).toBe('F');
  });

  it('a pod\'s own connections are not SNAT\'d to a port-mapped address', () => {
    // Only the FIP VRF knows the Internet host's network: without a FIP of its own the pod has no way there.
    const d = one(process(agent.router, fromPod({ mac: MACS[WS1]! }, tcpPacket(ws1.port.ip, HOST, 5000, 443, { syn: true })), ws1.vif.index));
    expect(d).toMatchObject({ type: 'drop', reason: 'NoRoute' });
  });
});

describe('two agents and a control node on 127.0.0.1: VIP ECMP and re-publishing after a reconnect', () => {
  let server: XmppServer;
  let cnPort = 0;
  const agents: Agent[] = [];

  async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function startServer(): Promise<void> {
    server = new XmppServer({ hub: new InstanceRouteHub(), host: '127.0.0.1', port: cnPort, serverHost: 'cent111', eorQuietMs: 150, eorRetryMs: 50 });
    cnPort = (await server.listen()).port;
  }

  function agent(name: string, vhostIp: string): { agent: Agent; applier: ViewApplier } {
    const a = loopbackAgent({ name, vhostIp, cnPort, fabricMac: FABRIC_MAC, underlayMac: UNDERLAY_MAC });
    agents.push(a);
    const applier = new ViewApplier(a);
    a.onView = (v) => applier.apply(v);
    return { agent: a, applier };
  }

  /** The VIP's paths at the control node: next hop and local preference of each. */
  function vipPaths(): string[] {
    const d = [...server.hub.table(SVC_RI, 'inet').destinations()].find((x) => x.key.startsWith(VIP));
    return (d?.paths ?? []).map((p) => `${String(p.attrs.nextHop)} lp ${String(p.attrs.localPref)} label ${p.labels?.[0]}`).sort();
  }

  afterAll(async () => {
    for (const a of agents) a.stop();
    await server?.close();
  });

  it('backends on A and B: the control node holds two paths and each agent gets an ECMP route (a local and a tunnel member)', async () => {
    await startServer();
    const A = agent('cent222', NODE_A);
    const B = agent('cent333', NODE_B);
    A.agent.onView!(labView('A', { service: true, ws1Preference: 200 }));
    B.agent.onView!(labView('B', { service: true, fip: true, fipPorts: [WS2], ws2Preference: 100 }));
    const ws1 = addPod(A.agent, A.applier, WS1);
    const ws2 = addPod(B.agent, B.applier, WS2);
    A.agent.start();
    B.agent.start();
    await until('two VIP paths at the control node', () => vipPaths().length === 2);
    expect(vipPaths()).toEqual([`${NODE_A} lp 200 label ${ws1.label}`, `${NODE_B} lp 100 label ${ws2.label}`]);
    // Different preferences: A's path alone is best (the active one of S7).
    const d = [...server.hub.table(SVC_RI, 'inet').destinations()].find((x) => x.key.startsWith(VIP))!;
    expect(d.ecmp.map((p) => String(p.attrs.nextHop))).toEqual([NODE_A]);
    const svcA = A.agent.vrfOf(SVC_RI)!;
    const svcB = B.agent.vrfOf(SVC_RI)!;

    // Same preference: ECMP at the control node, a Composite on both agents.
    B.agent.onView!(labView('B', { service: true, fip: true, fipPorts: [WS2] }));
    await until('two equal VIP paths', () => vipPaths().every((p) => p.includes('lp 200')));
    for (const [x, vrf, peer] of [
      [A.agent, svcA, NODE_B],
      [B.agent, svcB, NODE_A],
    ] as const) {
      await until(`${x.config.name} gets the ECMP route`, () => {
        const r = x.router.vrfs.get(vrf)!.routes.get(`${VIP}/32`);
        return r !== undefined && x.router.nhs.get(r.nh)?.type === 'composite';
      });
      const nh = x.router.nhs.get(x.router.vrfs.get(vrf)!.routes.get(`${VIP}/32`)!.nh)!;
      if (nh.type !== 'composite') throw new Error('not a composite');
      const kinds = nh.members.map((m) => x.router.nhs.get(m.nh)!).map((n) => (n.type === 'tunnel' ? `tunnel ${n.dip}` : n.type)).sort();
      expect(kinds).toEqual(['encap', `tunnel ${peer}`]);
    }
  });

  it('after the control node restarts, the agents publish their VIP (and B its FIP) again', async () => {
    await server.close();
    await until('A sees the control node go', () => A().controlNodes()[0]!.state !== 'established');
    await startServer();
    await until('both VIP paths back', () => vipPaths().length === 2, 15_000);
    const fip = [...server.hub.table(FIP_RI, 'inet').destinations()].find((x) => x.key.startsWith(FIP));
    expect(fip?.paths.map((p) => String(p.attrs.nextHop))).toEqual([NODE_B]);
  });

  function A(): Agent {
    return agents[0]!;
  }
});

describe('a view changing the policy re-evaluates the flows (Contrail re-evaluates; weft flushes)', () => {
  const { agent, applier } = nodeA();
  applier.setFirewallFrom((v) => firewallHook(v, agent));
  agent.onView!(labView('A'));
  const ws1 = addPod(agent, applier, WS1);
  const client = addPod(agent, applier, CLIENT);
  const key = (dport: number, sport = 45000) => ({ vrf: client.vrf, proto: 6, src: client.port.ip, dst: ws1.port.ip, sport, dport });
  const send = (dport: number, flags: { syn?: boolean; ack?: boolean }, sport = 45000): Action =>
    one(process(agent.router, fromPod({ mac: MACS[CLIENT]! }, tcpPacket(client.port.ip, ws1.port.ip, sport, dport, flags)), client.vif.index));

  /** labView('A') with a global policy set denying app=client -> app=webserver TCP 80. */
  function denyView(o: ViewOptions = {}): AgentView {
    const v = labView('A', o);
    v.firewallPolicies = [
      {
        name: 'default-domain:k8s-default:deny-web',
        rules: [
          { sequence: 1, action: 'deny', direction: '>', protocol: 'tcp', ports: [80], endpoint1: { tags: ['app=client'], any: false }, endpoint2: { tags: ['app=webserver'], any: false } },
        ],
      },
    ];
    v.policySets = [{ name: 'default-domain:k8s-default:aps', firewallPolicies: [{ policy: 'default-domain:k8s-default:deny-web', sequence: 1 }], tags: [] }];
    return v;
  }

  it('flows made before a policy set arrives are flushed, both directions, and the next packet meets the new policy', () => {
    expect(emitted(send(80, { syn: true })).vif).toBe(ws1.vif.index);
    expect(emitted(send(8080, { syn: true })).vif).toBe(ws1.vif.index);
    const [fwd, rev] = pair(agent, agent.router.flows.lookup(key(80)));
    expect([flowActionString(fwd.action), flowActionString(rev.action)]).toEqual(['F', 'F']);
    expect(agent.router.flows.size).toBe(4);

    agent.onView!(denyView());
    expect(agent.router.flows.list()).toEqual([]);
    // The connection's next packet is a first packet again, and the new rule drops it.
    expect(send(80, { ack: true })).toMatchObject({ type: 'drop', reason: 'FlowActionDrop' });
    const [f, r] = pair(agent, agent.router.flows.lookup(key(80)));
    expect([flowActionString(f.action), flowActionString(r.action)]).toEqual(['D(FwPolicy)', 'D(Unknown)']);
    // What the rule does not name goes on, in a new flow.
    expect(emitted(send(8080, { ack: true })).vif).toBe(ws1.vif.index);
    expect(flowActionString(agent.router.flows.lookup(key(8080))!.action)).toBe('F');
  });

  it('changes that are not policy leave the flows alone: the same view again, a preference, a VXLAN id, a new port', () => {
    const before = agent.router.flows.list().map((e) => [e.index, flowActionString(e.action)]);
    expect(before).toHaveLength(4);
    agent.onView!(denyView());
    agent.onView!(denyView({ ws1Preference: 100, podVni: 5005 }));
    const more = denyView({ ws1Preference: 100, podVni: 5005 });
    more.ports.push({ ...viewPort(CLIENT, 'cent222', ['app=client', APP_CLIENT]), name: CLIENT2, mac: MACS[CLIENT2]!, ips: [IPS[CLIENT2]!] });
    agent.onView!(more);
    expect(agent.router.flows.list().map((e) => [e.index, flowActionString(e.action)])).toEqual(before);
  });

  it("a port's tags changing flushes: the client relabelled, the rule no longer matches", () => {
    const v = denyView();
    v.ports = v.ports.map((p) => (p.name === CLIENT ? { ...p, tags: ['app=other'], tagIds: [(1 << 16) | 3] } : p));
    v.tags.push({ name: 'app=other', id: (1 << 16) | 3 });
    agent.onView!(v);
    expect(agent.router.flows.list()).toEqual([]);
    expect(emitted(send(80, { ack: true })).vif).toBe(ws1.vif.index);
    expect(flowActionString(agent.router.flows.lookup(key(80))!.action)).toBe('F');
  });

  it('the policy set going flushes again', () => {
    agent.onView!(denyView());
    expect(send(80, { ack: true }, 45001)).toMatchObject({ type: 'drop' });
    agent.onView!(labView('A'));
    expect(agent.router.flows.list()).toEqual([]);
    expect(emitted(send(80, { ack: true }, 45001)).vif).toBe(ws1.vif.index);
  });
});
