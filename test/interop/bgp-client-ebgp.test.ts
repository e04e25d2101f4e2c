/**
 * weft as a route-reflector client of gobgpd (the reflector), with a second gobgpd as another
 * client behind it, and weft in eBGP with FRR (AS 65001). Routes cross both boundaries in both
 * directions: gobgpd client -> RR -> weft -> FRR, FRR -> weft -> RR -> gobgpd client, and
 * weft's own route to both. Route refresh requests from either daemon are answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VpnNlri } from '../../codecs/bgp/nlri.js';
import { parseRouteTarget } from '../../src/rib/route-target.js';
import { Speaker } from '../../src/bgp/speaker.js';
import { DaemonSet } from './support/daemon.js';
import { FRR_BINARIES, Frr } from './support/frr.js';
import { GOBGP_BINARIES, Gobgpd, gobgpAttr as attr } from './support/gobgpd.js';
import { requireBinaries, sleep, waitFor } from './support/wait.js';

const AS = 64512;
const FRR_AS = 65001;
const WEFT = '127.0.0.61';
const RR = '127.0.0.62';
const CLIENT = '127.0.0.63';
const FRR = '127.0.0.64';
const CLUSTER = '10.255.62.1';
const PORT = { weft: 21261, rr: 21262, frr: 21264, rrApi: 50162, clientApi: 50163 };

function vpn(rd: number, prefix: string, label: number): VpnNlri {
  return { kind: 'vpn', rd: { type: 0, admin: AS, assigned: rd }, prefix, labels: [{ value: label, tc: 0, bottom: true }] };
}

describe('weft as route-reflector client of gobgpd, and in eBGP with FRR', () => {
  let daemons: DaemonSet;
  let weft: Speaker;
  let rr: Gobgpd;
  let client: Gobgpd;
  let frr: Frr;

  beforeAll(async () => {
    requireBinaries([...GOBGP_BINARIES, ...FRR_BINARIES]);
    daemons = new DaemonSet('interop-client');
    weft = new Speaker({
      localAs: AS,
      routerId: WEFT,
      listen: { address: WEFT, port: PORT.weft },
      families: ['vpnv4'],
      neighbors: [
        { address: RR, port: PORT.rr, remoteAs: AS, connectRetry: 1 },
        { address: FRR, port: PORT.frr, remoteAs: FRR_AS, connectRetry: 1 },
      ],
    });
    await weft.start();
    rr = new Gobgpd(daemons, {
      name: 'gobgp-rr',
      asn: AS,
      address: RR,
      port: PORT.rr,
      apiPort: PORT.rrApi,
      clusterId: CLUSTER,
      neighbors: [
        { address: WEFT, peerAs: AS, passive: true, rrClient: true, families: ['l3vpn-ipv4-unicast'] },
        { address: CLIENT, peerAs: AS, passive: true, rrClient: true, families: ['l3vpn-ipv4-unicast'] },
      ],
    });
    client = new Gobgpd(daemons, {
      name: 'gobgp-client',
      asn: AS,
      address: CLIENT,
      port: -1,
      apiPort: PORT.clientApi,
      neighbors: [{ address: RR, peerAs: AS, remotePort: PORT.rr, families: ['l3vpn-ipv4-unicast'] }],
    });
    frr = new Frr(daemons, {
      name: 'frr',
      address: FRR,
      port: PORT.frr,
      conf: `frr defaults traditional
hostname weft-ebgp
log stdout informational
route-map VPN-OUT permit 10
 set extcommunity rt 64512:10000
 set metric 70
exit
router bgp ${FRR_AS}
 bgp router-id ${FRR}
 bgp allow-martian-nexthop
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${WEFT} remote-as ${AS}
 neighbor ${WEFT} port ${PORT.weft}
 neighbor ${WEFT} update-source ${FRR}
 neighbor ${WEFT} disable-connected-check
 neighbor ${WEFT} timers connect 1
 neighbor ${WEFT} advertisement-interval 0
 address-family ipv4 vpn
  neighbor ${WEFT} activate
 exit-address-family
exit
`,
    });
    await waitFor('weft Established with the reflector and FRR', () => weft.neighborsSnapshot().every((n) => n.state === 'Established'), 60_000);
    await waitFor('gobgpd client Established with the reflector', () => client.established(RR));
  });

  afterAll(async () => {
    await weft?.stop();
    await daemons?.stopAll();
  });

  it('negotiates VPNv4 on both sessions; the FRR one is eBGP', () => {
    const snap = weft.neighborsSnapshot();
    expect(snap.find((n) => n.address === RR)?.negotiated).toMatchObject({ peerAs: AS, peerId: RR, families: ['vpnv4'] });
    expect(snap.find((n) => n.address === FRR)?.negotiated).toMatchObject({ peerAs: FRR_AS, peerId: FRR, families: ['vpnv4'] });
    expect(frr.neighbor(WEFT)).toMatchObject({ bgpState: 'Established', remoteAs: AS, nbrExternalLink: true });
  });

  it("a route injected at the other client arrives at weft with the reflector's ORIGINATOR_ID and CLUSTER_LIST, and goes on to FRR over eBGP", async () => {
    client.cli('global', 'rib', '-a', 'vpnv4', 'add', '10.63.1.0/24', 'label', '631', 'rd', '64512:63', 'rt', '64512:10000', 'encap', 'mpls-in-udp', 'med', '30', 'local-pref', '250', 'nexthop', CLIENT);
    const r = await waitFor('route at weft', () => weft.rib('vpnv4').find((x) => x.key === '64512:63:10.63.1.0/24'));
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]).toMatchObject({ source: RR, labels: [631] });
    expect(r.paths[0]!.attributes).toMatchObject({
      nextHop: CLIENT,
      asPath: '',
      med: 30,
      localPref: 250,
      originatorId: CLIENT,
      clusterList: [CLUSTER],
      extCommunities: ['target:64512:10000', '0x030c00000000000d'],
    });

    // eBGP: our AS prepended, next hop self, iBGP-only attributes gone; MED set inside our AS kept.
    const f = await waitFor('route at FRR', () => frr.vpnPath('64512:63', '10.63.1.0/24'));
    expect(f).toMatchObject({ remoteLabel: 631, metric: 30, aspath: { string: `${AS}` }, extendedCommunity: { string: 'RT:64512:10000 ET:13' }, peer: { peerId: WEFT, type: 'external' } });
    expect((f['nexthops'] as { ip: string }[])[0]?.ip).toBe(WEFT);
    expect(f['originatorId']).toBeUndefined();
    expect(f['clusterList']).toBeUndefined();
    expect(f['valid']).toBe(true);
  });

  it("weft's own route reaches the other client through the reflector, and FRR directly", async () => {
    weft.originate('vpnv4', vpn(61, '10.61.1.0/24', 611), { nextHop: '0.0.0.0', origin: 'igp', localPref: 120, extCommunities: [parseRouteTarget('target:64512:10000')] });
    const g = await waitFor('weft route at the gobgpd client', () => client.route('vpnv4', '64512:61:10.61.1.0/24'));
    expect(g.nlri.labels).toEqual([611]);
    expect(attr(g, 14)).toMatchObject({ nexthop: WEFT });
    expect(attr(g, 5)).toMatchObject({ value: 120 });
    expect(attr(g, 9)).toMatchObject({ value: WEFT });
    expect(attr(g, 10)).toMatchObject({ value: [CLUSTER] });
    const f = await waitFor('weft route at FRR', () => frr.vpnPath('64512:61', '10.61.1.0/24'));
    expect(f).toMatchObject({ remoteLabel: 611, aspath: { string: `${AS}` }, origin: 'IGP' });
    expect((f['nexthops'] as { ip: string }[])[0]?.ip).toBe(WEFT);
  });

  it("FRR's route reaches weft with FRR's AS, and the gobgpd client through the reflector", async () => {
    frr.vtysh('conf t', `router bgp ${FRR_AS}`, 'address-family ipv4 vpn', 'network 10.64.1.0/24 rd 65001:1 label 641 route-map VPN-OUT', 'end');
    const r = await waitFor('FRR route at weft', () => weft.rib('vpnv4').find((x) => x.key === '65001:1:10.64.1.0/24'));
    expect(r.paths[0]).toMatchObject({ source: FRR, labels: [641] });
    expect(r.paths[0]!.attributes).toMatchObject({ asPath: `${FRR_AS}`, nextHop: FRR, med: 70, extCommunities: ['target:64512:10000'] });
    expect(r.paths[0]!.attributes.localPref).toBeUndefined();
    const g = await waitFor('FRR route at the gobgpd client', () => client.route('vpnv4', '65001:1:10.64.1.0/24'));
    expect(g.nlri.labels).toEqual([641]);
    expect(attr(g, 2)).toMatchObject({ as_paths: [{ segment_type: 2, num: 1, asns: [FRR_AS] }] });
    // Next hop unchanged from eBGP into iBGP; LOCAL_PREF made explicit; the reflector adds its attributes.
    expect(attr(g, 14)).toMatchObject({ nexthop: FRR });
    expect(attr(g, 5)).toMatchObject({ value: 100 });
    expect(attr(g, 9)).toMatchObject({ value: WEFT });
    expect(attr(g, 10)).toMatchObject({ value: [CLUSTER] });
  });

  it('a route refresh from FRR (clear ... in) is answered with the Adj-RIB-Out, without a session reset', async () => {
    // gobgp's softresetin re-applies policy to its own Adj-RIB-In and sends nothing (checked on
    // its message counters), so FRR is the peer that asks.
    const before = weft.neighborsSnapshot().find((n) => n.address === FRR)!;
    frr.vtysh(`clear bgp ipv4 vpn ${WEFT} in`);
    await waitFor('refresh answered', () => {
      const n = weft.neighborsSnapshot().find((x) => x.address === FRR)!;
      return n.received['route-refresh'] > before.received['route-refresh'] && n.sent.update > before.sent.update;
    }, 10_000);
    const after = weft.neighborsSnapshot().find((n) => n.address === FRR)!;
    expect(after.received['route-refresh']).toBe(before.received['route-refresh'] + 1);
    expect(after.received.open).toBe(before.received.open);
    expect(after.state).toBe('Established');
    // FRR saw no withdrawal: both routes still there.
    expect(frr.vpnPath('64512:61', '10.61.1.0/24')).toBeDefined();
    expect(frr.vpnPath('64512:63', '10.63.1.0/24')).toBeDefined();
  });

  it('weft asks the reflector for a refresh and gets its routes again', async () => {
    const before = weft.neighborsSnapshot().find((n) => n.address === RR)!;
    weft.neighbor(RR)!.sendRouteRefresh(1, 128);
    await waitFor('refresh received by gobgpd', () => (rr.neighbor(WEFT)?.state.messages?.received?.['refresh'] ?? 0) === 1);
    await waitFor('routes sent again', () => weft.neighborsSnapshot().find((n) => n.address === RR)!.received.update > before.received.update);
    expect(weft.rib('vpnv4').find((r) => r.key === '64512:63:10.63.1.0/24')?.paths.map((p) => p.source)).toEqual([RR]);
    expect(weft.neighborsSnapshot().find((n) => n.address === RR)!.received.open).toBe(before.received.open);
  });

  it('withdrawals propagate across both boundaries', async () => {
    client.cli('global', 'rib', '-a', 'vpnv4', 'del', '10.63.1.0/24', 'label', '631', 'rd', '64512:63');
    frr.vtysh('conf t', `router bgp ${FRR_AS}`, 'address-family ipv4 vpn', 'no network 10.64.1.0/24 rd 65001:1 label 641', 'end');
    weft.withdrawLocal('vpnv4', vpn(61, '10.61.1.0/24', 611));
    await waitFor('all gone at weft', () => weft.rib('vpnv4').length === 0);
    await waitFor('gone at FRR', () => frr.vpnPath('64512:63', '10.63.1.0/24') === undefined && frr.vpnPath('64512:61', '10.61.1.0/24') === undefined);
    await waitFor('gone at the gobgpd client', () => Object.keys(client.rib('vpnv4')).length === 0);
    for (const n of weft.neighborsSnapshot()) {
      expect(n.state).toBe('Established');
      expect(n.received.notification).toBe(0);
    }
  });
});
