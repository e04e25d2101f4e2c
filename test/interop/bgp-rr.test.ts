/**
 * weft as route reflector for gobgpd, BIRD 2 and FRR bgpd, each on its own 127.0.0.x with a
 * private state directory (recipes: shared/docs/interop-recipes.md). gobgpd dials weft, weft
 * dials BIRD (passive), weft and FRR both dial (connection collision). Routes are injected at
 * each daemon and read back from the others through their own CLIs.
 *
 * Needs gobgpd/gobgp, bird/birdc, /usr/lib/frr/bgpd and vtysh, and an UP non-loopback
 * interface named eth0 (BIRD resolves its static VPN route's 127.x next hop through it,
 * interop-recipes section 2.1). Missing binaries fail the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Speaker } from '../../src/bgp/speaker.js';
import { BIRD_BINARIES, Bird } from './support/bird.js';
import { DaemonSet } from './support/daemon.js';
import { FRR_BINARIES, Frr } from './support/frr.js';
import { GOBGP_BINARIES, Gobgpd, gobgpAttr as attr } from './support/gobgpd.js';
import { requireBinaries, waitFor } from './support/wait.js';

const AS = 64512;
const WEFT = '127.0.0.41';
const GOBGP = '127.0.0.42';
const BIRD = '127.0.0.43';
const FRR = '127.0.0.44';
const PORT = { weft: 21179, gobgp: 21180, bird: 21181, frr: 21182, gobgpApi: 50142 };

describe('weft route reflector with gobgpd, BIRD and FRR as clients', () => {
  let daemons: DaemonSet;
  let weft: Speaker;
  let gobgpd: Gobgpd;
  let bird: Bird;
  let frr: Frr;
  const gobgp = (...a: string[]) => gobgpd.cli(...a);
  const birdc = (...a: string[]) => bird.birdc(...a);
  const vtysh = (...a: string[]) => frr.vtysh(...a);

  beforeAll(async () => {
    requireBinaries([...GOBGP_BINARIES, ...BIRD_BINARIES, ...FRR_BINARIES]);
    daemons = new DaemonSet('interop-rr');

    weft = new Speaker({
      localAs: AS,
      routerId: WEFT,
      listen: { address: WEFT, port: PORT.weft },
      families: ['ipv4-unicast', 'vpnv4'],
      neighbors: [
        { address: GOBGP, remoteAs: AS, rrClient: true, passive: true },
        { address: BIRD, port: PORT.bird, remoteAs: AS, rrClient: true, connectRetry: 1 },
        { address: FRR, port: PORT.frr, remoteAs: AS, rrClient: true, connectRetry: 1 },
      ],
    });
    await weft.start();

    gobgpd = new Gobgpd(daemons, {
      name: 'gobgp',
      asn: AS,
      address: GOBGP,
      port: PORT.gobgp,
      apiPort: PORT.gobgpApi,
      neighbors: [{ address: WEFT, peerAs: AS, remotePort: PORT.weft, families: ['ipv4-unicast', 'l3vpn-ipv4-unicast'] }],
    });

    bird = new Bird(daemons, {
      name: 'bird',
      conf: `log stderr all;
router id ${BIRD};
ipv4 table igptab;
vpn4 table vpntab4;
protocol device { scan time 10; }
# 127/8 is host scope to BIRD: a default via eth0 in a private table resolves loopback next hops.
protocol static static_igp { ipv4 { table igptab; }; route 0.0.0.0/0 via "eth0"; }
protocol static vpnstatic {
  vpn4 { table vpntab4; };
  igp table igptab;
  route 64512:5 10.30.5.0/24 recursive ${BIRD} mpls 305 {
    bgp_ext_community.add((rt, 64512, 10000));
    bgp_ext_community.add((generic, 0x030c0000, 0x0000000b));
    bgp_med = 60;
    bgp_local_pref = 300;
  };
}
protocol bgp weft {
  local ${BIRD} port ${PORT.bird} as ${AS};
  neighbor ${WEFT} port ${PORT.weft} as ${AS};
  strict bind yes;
  passive yes;
  ipv4 { table master4; igp table igptab; import all; export all; };
  vpn4 mpls { table vpntab4; igp table igptab; import all; export all; };
}
`,
    });

    frr = new Frr(daemons, {
      name: 'frr',
      address: FRR,
      port: PORT.frr,
      conf: `frr defaults traditional
hostname weft-interop
log stdout informational
route-map VPN-OUT permit 10
 set extcommunity rt 64512:10000
 set metric 70
 set local-preference 400
exit
router bgp ${AS}
 bgp router-id ${FRR}
 bgp allow-martian-nexthop
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${WEFT} remote-as ${AS}
 neighbor ${WEFT} port ${PORT.weft}
 neighbor ${WEFT} update-source ${FRR}
 neighbor ${WEFT} timers connect 1
 neighbor ${WEFT} advertisement-interval 0
 address-family ipv4 unicast
  neighbor ${WEFT} activate
 exit-address-family
 address-family ipv4 vpn
  neighbor ${WEFT} activate
 exit-address-family
exit
`,
    });

    await waitFor('three sessions Established at weft', () => weft.neighborsSnapshot().every((n) => n.state === 'Established'), 60_000);
  });

  afterAll(async () => {
    await weft?.stop();
    await daemons?.stopAll();
  });

  const birdRoute = (table: string, net: string) => bird.route(table, net);
  const frrVpn = (rd: string, prefix: string) => frr.vpnPath(rd, prefix);
  const gobgpRoute = (family: string, key: string) => gobgpd.route(family, key);

  it('every daemon sees its session to weft Established with VPNv4 and IPv4 unicast', () => {
    for (const n of weft.neighborsSnapshot()) expect(n.negotiated?.families.sort()).toEqual(['ipv4-unicast', 'vpnv4']);
    const g = JSON.parse(gobgp('neighbor', '-j')) as { state: { session_state: number } }[];
    expect(g[0]?.state.session_state).toBe(6);
    expect(birdc('show', 'protocols', 'weft')).toContain('Established');
    const f = JSON.parse(vtysh('show bgp ipv4 vpn summary json')) as { peers: Record<string, { state: string }> };
    expect(f.peers[WEFT]?.state).toBe('Established');
  });

  it('a VPNv4 route injected at gobgpd reaches FRR and BIRD with every attribute, plus ORIGINATOR_ID and CLUSTER_LIST', async () => {
    gobgp('global', 'rib', '-a', 'vpnv4', 'add', '10.20.2.0/24', 'label', '201', 'rd', '64512:3', 'rt', '64512:10000', 'encap', 'mpls-in-udp', 'med', '50', 'local-pref', '200', 'nexthop', GOBGP);
    const f = await waitFor('route at FRR', () => frrVpn('64512:3', '10.20.2.0/24'));
    expect(f).toMatchObject({ remoteLabel: 201, metric: 50, locPrf: 200, originatorId: GOBGP, extendedCommunity: { string: 'RT:64512:10000 ET:13' } });
    expect((f['clusterList'] as { list: string[] }).list).toEqual([WEFT]);
    expect((f['nexthops'] as { ip: string }[])[0]?.ip).toBe(GOBGP);
    const b = await waitFor('route at BIRD', () => birdRoute('vpntab4', '64512:3 10.20.2.0/24'));
    expect(b).toContain(`BGP.next_hop: ${GOBGP}`);
    expect(b).toContain('BGP.med: 50');
    expect(b).toContain('BGP.local_pref: 200');
    expect(b).toContain(`BGP.originator_id: ${GOBGP}`);
    expect(b).toContain(`BGP.cluster_list: ${WEFT}`);
    expect(b).toContain('BGP.ext_community: (rt, 64512, 10000) (generic, 0x30c0000, 0xd)');
    expect(b).toContain('BGP.mpls_label_stack: 201');
  });

  it("BIRD's static VPNv4 route reaches gobgpd and FRR through weft", async () => {
    const g = await waitFor('BIRD route at gobgp', () => gobgpRoute('vpnv4', '64512:5:10.30.5.0/24'));
    expect(g.nlri.labels).toEqual([305]);
    expect(attr(g, 4)).toMatchObject({ metric: 60 });
    expect(attr(g, 5)).toMatchObject({ value: 300 });
    expect(attr(g, 9)).toMatchObject({ value: BIRD });
    expect(attr(g, 10)).toMatchObject({ value: [WEFT] });
    expect(JSON.stringify(attr(g, 16))).toContain('"tunnel_type":11');
    expect(JSON.stringify(attr(g, 16))).toContain('64512:10000');
    expect(attr(g, 14)).toMatchObject({ nexthop: BIRD });
    const f = await waitFor('BIRD route at FRR', () => frrVpn('64512:5', '10.30.5.0/24'));
    expect(f).toMatchObject({ remoteLabel: 305, metric: 60, locPrf: 300, originatorId: BIRD, extendedCommunity: { string: 'RT:64512:10000 ET:11' } });
  });

  it("FRR's VPNv4 network reaches gobgpd and BIRD; withdrawals at FRR and gobgpd propagate", async () => {
    vtysh('conf t', `router bgp ${AS}`, 'address-family ipv4 vpn', 'network 10.40.2.0/24 rd 64512:4 label 402 route-map VPN-OUT', 'end');
    const g = await waitFor('FRR route at gobgp', () => gobgpRoute('vpnv4', '64512:4:10.40.2.0/24'));
    expect(g.nlri.labels).toEqual([402]);
    expect(attr(g, 9)).toMatchObject({ value: FRR });
    expect(attr(g, 10)).toMatchObject({ value: [WEFT] });
    expect(attr(g, 4)).toMatchObject({ metric: 70 });
    expect(attr(g, 5)).toMatchObject({ value: 400 });
    const b = await waitFor('FRR route at BIRD', () => birdRoute('vpntab4', '64512:4 10.40.2.0/24'));
    expect(b).toContain('BGP.mpls_label_stack: 402');
    expect(b).toContain(`BGP.originator_id: ${FRR}`);

    vtysh('conf t', `router bgp ${AS}`, 'address-family ipv4 vpn', 'no network 10.40.2.0/24 rd 64512:4 label 402', 'end');
    gobgp('global', 'rib', '-a', 'vpnv4', 'del', '10.20.2.0/24', 'label', '201', 'rd', '64512:3');
    await waitFor('FRR route gone at gobgp and BIRD', () => gobgpRoute('vpnv4', '64512:4:10.40.2.0/24') === undefined && birdRoute('vpntab4', '64512:4 10.40.2.0/24') === undefined);
    await waitFor('gobgp route gone at FRR and BIRD', () => frrVpn('64512:3', '10.20.2.0/24') === undefined && birdRoute('vpntab4', '64512:3 10.20.2.0/24') === undefined);
    expect(weft.rib('vpnv4').map((r) => r.key).sort()).toEqual(['64512:5:10.30.5.0/24']);
  });

  it('IPv4 unicast from gobgpd reaches FRR and BIRD, and its withdrawal too', async () => {
    gobgp('global', 'rib', '-a', 'ipv4', 'add', '10.99.0.0/24', 'nexthop', '192.0.2.42', 'med', '5', 'local-pref', '150');
    const f = await waitFor('ipv4 route at FRR', () => {
      const j = JSON.parse(vtysh('show bgp ipv4 unicast 10.99.0.0/24 json')) as { paths?: Record<string, unknown>[] };
      return j.paths?.[0];
    });
    expect(f).toMatchObject({ metric: 5, locPrf: 150, originatorId: GOBGP });
    expect((f['nexthops'] as { ip: string }[])[0]?.ip).toBe('192.0.2.42');
    const b = await waitFor('ipv4 route at BIRD', () => birdRoute('master4', '10.99.0.0/24'));
    expect(b).toContain('BGP.next_hop: 192.0.2.42');
    expect(b).toContain(`BGP.cluster_list: ${WEFT}`);
    gobgp('global', 'rib', '-a', 'ipv4', 'del', '10.99.0.0/24');
    await waitFor('ipv4 withdrawal at FRR and BIRD', () => {
      const j = JSON.parse(vtysh('show bgp ipv4 unicast 10.99.0.0/24 json')) as { paths?: unknown[] };
      return (j.paths === undefined || j.paths.length === 0) && birdRoute('master4', '10.99.0.0/24') === undefined;
    });
  });

  it('weft logs nothing unexpected: no session was reset during the run', () => {
    for (const n of weft.neighborsSnapshot()) {
      expect(n.state).toBe('Established');
      expect(n.received.notification).toBe(0);
    }
    expect(frr.daemon.log()).not.toMatch(/martian|treating as withdrawal/);
  });
});
