/**
 * RT constraint (RFC 4684) with gobgpd: a gobgpd that negotiated RTC with weft gets from weft
 * only the VPN routes whose route targets its VRFs import, and a VRF added at run time brings
 * the routes of its RT. The routes come from a second gobgpd without RTC (which gets them all),
 * and from weft itself. gobgpd sends RTC routes only for VRF import RTs (recipes section 1.6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VpnNlri } from '../../codecs/bgp/nlri.js';
import { parseRouteTarget } from '../../src/rib/route-target.js';
import { Speaker } from '../../src/bgp/speaker.js';
import { DaemonSet } from './support/daemon.js';
import { GOBGP_BINARIES, Gobgpd } from './support/gobgpd.js';
import { requireBinaries, sleep, waitFor } from './support/wait.js';

const AS = 64512;
const WEFT = '127.0.0.65';
const SRC = '127.0.0.66';
const RTC = '127.0.0.67';
const PORT = { weft: 21265, srcApi: 50166, rtcApi: 50167 };
const K = { a: '64512:101:10.101.0.0/24', b: '64512:102:10.102.0.0/24', weftB: '64512:103:10.103.0.0/24' };

describe('RT constraint with gobgpd', () => {
  let daemons: DaemonSet;
  let weft: Speaker;
  let src: Gobgpd;
  let rtc: Gobgpd;
  const vpnKeys = (g: Gobgpd) => Object.keys(g.rib('vpnv4')).sort();

  beforeAll(async () => {
    requireBinaries(GOBGP_BINARIES);
    daemons = new DaemonSet('interop-rtc');
    weft = new Speaker({
      localAs: AS,
      routerId: WEFT,
      listen: { address: WEFT, port: PORT.weft },
      families: ['vpnv4', 'rtc'],
      neighbors: [
        { address: SRC, remoteAs: AS, passive: true, rrClient: true, families: ['vpnv4'] },
        { address: RTC, remoteAs: AS, passive: true, rrClient: true, families: ['vpnv4', 'rtc'] },
      ],
    });
    await weft.start();
    src = new Gobgpd(daemons, {
      name: 'gobgp-src',
      asn: AS,
      address: SRC,
      port: -1,
      apiPort: PORT.srcApi,
      neighbors: [{ address: WEFT, peerAs: AS, remotePort: PORT.weft, families: ['l3vpn-ipv4-unicast'] }],
    });
    rtc = new Gobgpd(daemons, {
      name: 'gobgp-rtc',
      asn: AS,
      address: RTC,
      port: -1,
      apiPort: PORT.rtcApi,
      neighbors: [{ address: WEFT, peerAs: AS, remotePort: PORT.weft, families: ['l3vpn-ipv4-unicast', 'rtc'] }],
    });
    await waitFor('both sessions Established at weft', () => weft.neighborsSnapshot().every((n) => n.state === 'Established'), 60_000);
    src.cli('global', 'rib', '-a', 'vpnv4', 'add', '10.101.0.0/24', 'label', '1101', 'rd', '64512:101', 'rt', '64512:101', 'nexthop', SRC);
    src.cli('global', 'rib', '-a', 'vpnv4', 'add', '10.102.0.0/24', 'label', '1102', 'rd', '64512:102', 'rt', '64512:102', 'nexthop', SRC);
    weft.originate('vpnv4', vpn(103, '10.103.0.0/24', 1103), { nextHop: '0.0.0.0', extCommunities: [parseRouteTarget('target:64512:102')] });
    await waitFor('routes at weft', () => weft.rib('vpnv4').length === 3);
  });

  afterAll(async () => {
    await weft?.stop();
    await daemons?.stopAll();
  });

  it('negotiates RTC with the RTC gobgpd only; before any VRF it gets no VPN route, the other peer gets them all', async () => {
    const snap = weft.neighborsSnapshot();
    expect(snap.find((n) => n.address === RTC)?.negotiated?.families.sort()).toEqual(['rtc', 'vpnv4']);
    expect(snap.find((n) => n.address === SRC)?.negotiated?.families).toEqual(['vpnv4']);
    // weft asked gobgpd for everything with the default membership route.
    await waitFor('default RTC route at gobgpd', () => Object.keys(rtc.rib('rtc')).length > 0);
    await waitFor("weft's route at the non-RTC peer", () => vpnKeys(src).includes(K.weftB));
    await sleep(500);
    expect(vpnKeys(rtc)).toEqual([]);
    expect(weft.adjRibOut(RTC, 'vpnv4')).toEqual([]);
  });

  it('a VRF importing target:64512:101 brings only the route carrying it', async () => {
    rtc.cli('vrf', 'add', 'vrf101', 'rd', '64512:601', 'rt', 'both', '64512:101');
    await waitFor('membership route at weft', () => weft.rib('rtc').some((r) => r.paths.some((p) => p.source === RTC)));
    await waitFor('RT 101 route at gobgpd', () => vpnKeys(rtc).includes(K.a));
    await sleep(500);
    expect(vpnKeys(rtc)).toEqual([K.a]);
    expect(weft.adjRibOut(RTC, 'vpnv4').map((r) => r.key)).toEqual([K.a]);
  });

  it('a second VRF (target:64512:102), added at run time, brings the others', async () => {
    rtc.cli('vrf', 'add', 'vrf102', 'rd', '64512:602', 'rt', 'both', '64512:102');
    await waitFor('RT 102 routes at gobgpd', () => vpnKeys(rtc).length === 3);
    expect(vpnKeys(rtc)).toEqual([K.a, K.b, K.weftB].sort());
    const r = rtc.route('vpnv4', K.b)!;
    expect(r.nlri.labels).toEqual([1102]);
  });

  // gobgpd 3.10 crashes on `vrf del` of a VRF with RTC routes (nil pointer in
  // table.deleteRTCPathsByVrf), so the way out of its interest is an RT change on our side.
  it("a route whose new RT the peer does not import is withdrawn from it; the sessions never reset", async () => {
    weft.originate('vpnv4', vpn(103, '10.103.0.0/24', 1103), { nextHop: '0.0.0.0', extCommunities: [parseRouteTarget('target:64512:104')] });
    await waitFor("weft's route withdrawn at the RTC gobgpd", () => !vpnKeys(rtc).includes(K.weftB));
    expect(vpnKeys(rtc)).toEqual([K.a, K.b].sort());
    // The non-RTC peer still has it, with the new RT.
    await waitFor('new RT at the other peer', () => JSON.stringify(src.route('vpnv4', K.weftB)?.attrs).includes('64512:104'));
    for (const n of weft.neighborsSnapshot()) {
      expect(n.state).toBe('Established');
      expect(n.received.open).toBe(1);
      expect(n.received.notification).toBe(0);
    }
  });
});

function vpn(rd: number, prefix: string, label: number): VpnNlri {
  return { kind: 'vpn', rd: { type: 0, admin: AS, assigned: rd }, prefix, labels: [{ value: label, tc: 0, bottom: true }] };
}
