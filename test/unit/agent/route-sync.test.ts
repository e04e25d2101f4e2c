import { describe, expect, it } from 'vitest';
import { decodeIpv4, decodeMpls, decodeUdp, decodeVxlan, decodeEthernet } from '../../../codecs/net/index.js';
import { RouteSync, chooseEncap } from '../../../src/agent/route-sync.js';
import type { ReceivedNextHop, ReceivedRoute } from '../../../src/agent/xmpp-client.js';
import { VRouter, process, type Action, type TunnelEncap } from '../../../src/vrouter/index.js';
import { fromPod, udpPacket } from '../vrouter/lab.js';

const VN1 = 'default-domain:admin:vn1:vn1';
const ME = '10.0.0.11';
const POD = { ip: '10.1.1.3', mac: '02:00:00:00:00:03' };

function hop(address: string, label: number, encapsulations = ['gre', 'udp'], vni = 0): ReceivedNextHop {
  return { address, label, vni, encapsulations, virtualNetwork: 'default-domain:admin:vn1', tags: [] };
}

function route(prefix: string, nextHops: ReceivedNextHop[]): ReceivedRoute {
  return { vrf: VN1, prefix, nextHops, virtualNetwork: 'default-domain:admin:vn1', localPreference: 200, sequenceNumber: 0, securityGroups: [], communityTags: [] };
}

function node(priority: TunnelEncap[] = ['MPLSoUDP', 'MPLSoGRE', 'VXLAN']) {
  const router = new VRouter({ vhostIp: ME });
  router.addFabric('eth0', 0);
  const pod = router.addPodInterface({ index: 3, osName: 'tapeth0-000003', vrf: 2, ip: POD.ip, plen: 24, podMac: POD.mac });
  const sync = new RouteSync(router, { vrfIndex: (n) => (n === VN1 ? 2 : undefined), encapPriority: priority });
  sync.addLocal(2, `${POD.ip}/32`, pod.nh.id, pod.label);
  const table = router.vrfs.get(2)!.routes;
  return { router, sync, pod, table };
}

function tunnelled(a: Action[]): Extract<Action, { type: 'tunnel' }> {
  expect(a).toHaveLength(1);
  const t = a[0]!;
  if (t.type !== 'tunnel') throw new Error(`expected a tunnel action, got ${t.type}`);
  return t;
}

describe('encapsulation choice (10.3)', () => {
  it('takes the first of the local priority that the route lists, VXLAN only with a VNI, an empty list as gre', () => {
    expect(chooseEncap({ encapsulations: ['gre', 'udp'], vni: 0 }, ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'])).toBe('MPLSoUDP');
    expect(chooseEncap({ encapsulations: ['gre', 'udp'], vni: 0 }, ['MPLSoGRE', 'MPLSoUDP', 'VXLAN'])).toBe('MPLSoGRE');
    expect(chooseEncap({ encapsulations: ['udp'], vni: 0 }, ['MPLSoGRE'])).toBe('MPLSoUDP');
    expect(chooseEncap({ encapsulations: [], vni: 0 }, ['MPLSoUDP', 'VXLAN'])).toBe('MPLSoGRE');
    expect(chooseEncap({ encapsulations: ['vxlan', 'udp'], vni: 5001 }, ['VXLAN', 'MPLSoUDP'])).toBe('VXLAN');
    expect(chooseEncap({ encapsulations: ['vxlan', 'udp'], vni: 0 }, ['VXLAN', 'MPLSoUDP'])).toBe('MPLSoUDP');
    expect(chooseEncap({ encapsulations: ['native'], vni: 0 }, ['MPLSoUDP'])).toBeUndefined();
  });
});

describe('routes from the control node into the vRouter', () => {
  it('a remote /32 becomes a Tunnel route with the label; a pod frame leaves encapsulated towards the advertiser', () => {
    const { router, sync, table } = node();
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    const r = table.get('10.1.1.4/32')!;
    expect(r).toMatchObject({ label: 31, proxyArp: true });
    expect(router.nhs.get(r.nh)).toMatchObject({ type: 'tunnel', encapType: 'MPLSoUDP', sip: ME, dip: '10.0.0.12' });
    const t = tunnelled(process(router, fromPod(POD, udpPacket(POD.ip, '10.1.1.4', 1234, 80, new Uint8Array(10))), 3));
    expect(t).toMatchObject({ encap: 'MPLSoUDP', src: ME, dst: '10.0.0.12', label: 31 });
    const outer = decodeIpv4(t.bytes);
    const udp = decodeUdp(outer.payload);
    expect(udp.dstPort).toBe(6635);
    const mpls = decodeMpls(udp.payload);
    expect(mpls.labels.map((l) => [l.label, l.bottom])).toEqual([[31, true]]);
    expect(decodeIpv4(mpls.payload)).toMatchObject({ src: POD.ip, dst: '10.1.1.4' });
    // The same route again changes nothing: one tunnel next hop, no leak.
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    expect(router.nhs.list().filter((n) => n.type === 'tunnel')).toHaveLength(1);
  });

  it('follows the local priority: MPLSoGRE first gives a GRE tunnel; VXLAN uses the VNI as label', () => {
    const gre = node(['MPLSoGRE', 'MPLSoUDP']);
    gre.sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    expect(gre.router.nhs.get(gre.table.get('10.1.1.4/32')!.nh)).toMatchObject({ type: 'tunnel', encapType: 'MPLSoGRE' });
    const vx = node(['VXLAN', 'MPLSoUDP']);
    vx.sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31, ['vxlan', 'udp'], 5001)]));
    expect(vx.table.get('10.1.1.4/32')!.label).toBe(5001);
    const t = tunnelled(process(vx.router, fromPod(POD, udpPacket(POD.ip, '10.1.1.4', 1234, 80, new Uint8Array(10))), 3));
    expect(t).toMatchObject({ encap: 'VXLAN', label: 5001 });
    const udp = decodeUdp(decodeIpv4(t.bytes).payload);
    expect(udp.dstPort).toBe(4789);
    expect(decodeVxlan(udp.payload).vni).toBe(5001);
    expect(decodeEthernet(decodeVxlan(udp.payload).payload).etherType).toBe(0x0800);
  });

  it('ECMP: several next hops make one Composite next hop with each member\'s label; flows spread over the members', () => {
    const { router, sync, table } = node();
    sync.update('cn1', route('10.1.1.100/32', [hop('10.0.0.12', 40), hop('10.0.0.13', 41, ['gre'])]));
    const r = table.get('10.1.1.100/32')!;
    const nh = router.nhs.get(r.nh)!;
    if (nh.type !== 'composite') throw new Error(`expected composite, got ${nh.type}`);
    expect(nh.members.map((m) => [router.nhs.get(m.nh), m.label])).toEqual([
      [expect.objectContaining({ type: 'tunnel', dip: '10.0.0.12', encapType: 'MPLSoUDP' }), 40],
      [expect.objectContaining({ type: 'tunnel', dip: '10.0.0.13', encapType: 'MPLSoGRE' }), 41],
    ]);
    const seen = new Set<string>();
    for (let sport = 1000; sport < 1064; sport++) {
      const t = tunnelled(process(router, fromPod(POD, udpPacket(POD.ip, '10.1.1.100', sport, 80, new Uint8Array(4))), 3));
      seen.add(`${t.dst}/${t.label}/${t.encap}`);
    }
    expect([...seen].sort()).toEqual(['10.0.0.12/40/MPLSoUDP', '10.0.0.13/41/MPLSoGRE']);
    // A second prefix with the same members shares the composite.
    sync.update('cn1', route('10.1.1.101/32', [hop('10.0.0.12', 40), hop('10.0.0.13', 41, ['gre'])]));
    expect(table.get('10.1.1.101/32')!.nh).toBe(r.nh);
  });

  it('keeps a local pod route Encap when its own copy comes back, and joins it to a Composite when the CN makes it ECMP', () => {
    const { router, sync, pod, table } = node();
    sync.update('cn1', route(`${POD.ip}/32`, [hop(ME, pod.label)]));
    expect(table.get(`${POD.ip}/32`)).toMatchObject({ nh: pod.nh.id, label: pod.label });
    // A remote copy alone does not take a live local address away.
    sync.update('cn1', route(`${POD.ip}/32`, [hop('10.0.0.12', 50)]));
    expect(table.get(`${POD.ip}/32`)!.nh).toBe(pod.nh.id);
    sync.update('cn1', route(`${POD.ip}/32`, [hop(ME, pod.label), hop('10.0.0.12', 50)]));
    const c = router.nhs.get(table.get(`${POD.ip}/32`)!.nh)!;
    expect(c.type === 'composite' && c.members.map((m) => [router.nhs.get(m.nh)!.type, m.label])).toEqual([
      ['encap', pod.label],
      ['tunnel', 50],
    ]);
    sync.update('cn1', route(`${POD.ip}/32`, [hop(ME, pod.label)]));
    expect(table.get(`${POD.ip}/32`)).toMatchObject({ nh: pod.nh.id, label: pod.label });
    expect(router.nhs.list().filter((n) => n.type === 'composite' || n.type === 'tunnel')).toEqual([]);
    // Withdrawn by the CN: the local route stays.
    sync.withdraw('cn1', VN1, `${POD.ip}/32`);
    expect(table.get(`${POD.ip}/32`)!.nh).toBe(pod.nh.id);
  });

  it('withdrawals remove the route and the next hops nobody uses any more', () => {
    const { router, sync, table } = node();
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    sync.update('cn1', route('10.1.1.5/32', [hop('10.0.0.12', 32)]));
    sync.update('cn1', route('10.1.1.100/32', [hop('10.0.0.12', 40), hop('10.0.0.13', 41)]));
    const before = router.nhs.list().length;
    sync.withdraw('cn1', VN1, '10.1.1.4/32');
    expect(table.get('10.1.1.4/32')).toBeUndefined();
    expect(router.nhs.list().length).toBe(before);
    sync.withdraw('cn1', VN1, '10.1.1.100/32');
    expect(router.nhs.list().filter((n) => n.type === 'composite')).toEqual([]);
    expect(router.nhs.list().filter((n) => n.type === 'tunnel').map((n) => n.type === 'tunnel' && n.dip)).toEqual(['10.0.0.12']);
    sync.withdraw('cn1', VN1, '10.1.1.5/32');
    expect(router.nhs.list().filter((n) => n.type === 'tunnel')).toEqual([]);
    expect(table.size).toBe(1);
    expect(sync.list()).toEqual([]);
  });

  it('ignores label 0 outside the fabric VRF and instances it does not have', () => {
    const { sync, table } = node();
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 0)]));
    expect(table.get('10.1.1.4/32')).toBeUndefined();
    sync.update('cn1', { ...route('10.1.1.4/32', [hop('10.0.0.12', 31)]), vrf: 'default-domain:admin:other:other' });
    expect(table.size).toBe(1);
  });

  it('per CN: a down CN\'s copies are stale; a fresh copy from the other wins; a sweep removes only the stale ones', () => {
    const { router, sync, table } = node();
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    sync.update('cn2', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    sync.update('cn1', route('10.1.1.6/32', [hop('10.0.0.14', 33)]));
    sync.cnDown('cn1');
    expect(sync.get(2, '10.1.1.4/32')).toMatchObject({ from: 'cn2', stale: false });
    expect(sync.get(2, '10.1.1.6/32')).toMatchObject({ from: 'cn1', stale: true });
    expect(router.nhs.get(table.get('10.1.1.6/32')!.nh)).toMatchObject({ dip: '10.0.0.14' });
    // cn1 back: it refreshes 10.1.1.4 only, then its EoR sweeps 10.1.1.6.
    sync.update('cn1', route('10.1.1.4/32', [hop('10.0.0.12', 31)]));
    expect(sync.sweepStale('cn1')).toBe(1);
    expect(table.get('10.1.1.6/32')).toBeUndefined();
    expect(sync.get(2, '10.1.1.4/32')).toMatchObject({ from: 'cn1', stale: false, copies: [{ cn: 'cn1', stale: false }, { cn: 'cn2', stale: false }] });
    expect(router.nhs.list().filter((n) => n.type === 'tunnel').map((n) => n.type === 'tunnel' && n.dip)).toEqual(['10.0.0.12']);
  });
});
