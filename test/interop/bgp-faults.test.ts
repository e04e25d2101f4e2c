/**
 * Session faults at weft (route reflector) with real daemons around it: gobgpd restarted
 * plainly and with Graceful Restart, a raw peer and a SIGSTOPped gobgpd letting the hold timer
 * expire, a raw peer sending malformed UPDATEs. After each fault the sessions not involved are
 * checked for not having noticed anything: same Established time at weft and at the daemons,
 * no route of theirs re-sent (FRR's table version of it and gobgp's age unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Speaker } from '../../src/bgp/speaker.js';
import { DaemonSet } from './support/daemon.js';
import { FRR_BINARIES, Frr } from './support/frr.js';
import { GOBGP_BINARIES, Gobgpd } from './support/gobgpd.js';
import { AS_PATH_EMPTY, LOCAL_PREF_100, ORIGIN_IGP, RawPeer, attr, mpReachVpn, routeTarget, updateBytes, vpnNlri } from '../support/raw-peer.js';
import { requireBinaries, sleep, waitFor } from './support/wait.js';

const AS = 64512;
const WEFT = '127.0.0.70';
const PLAIN = '127.0.0.71';
const GR = '127.0.0.72';
const FRR = '127.0.0.73';
const RAW_HOLD = '127.0.0.74';
const RAW_BAD = '127.0.0.75';
const PORT = { weft: 21270, plain: 21271, gr: 21272, frr: 21273, plainApi: 50171, grApi: 50172 };
const GR_TIME = 30;

/** Each daemon's route, keyed as weft and gobgp print it. */
const R = { plain: '64512:71:10.71.1.0/24', gr: '64512:72:10.72.1.0/24', frr: '64512:73:10.73.1.0/24' };
const rdPrefix = (key: string) => {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), key.slice(i + 1)] as const;
};

describe('session faults at weft; the other sessions never notice', () => {
  let daemons: DaemonSet;
  let weft: Speaker;
  let plain: Gobgpd;
  let gr: Gobgpd;
  let frr: Frr;

  const injectPlain = () => plain.cli('global', 'rib', '-a', 'vpnv4', 'add', '10.71.1.0/24', 'label', '710', 'rd', '64512:71', 'rt', '64512:10000', 'nexthop', PLAIN);
  const injectGr = () => gr.cli('global', 'rib', '-a', 'vpnv4', 'add', '10.72.1.0/24', 'label', '720', 'rd', '64512:72', 'rt', '64512:10000', 'encap', 'mpls-in-gre', 'nexthop', GR);
  const weftKeys = () => weft.rib('vpnv4').map((r) => r.key).sort();
  const frrHas = (key: string) => frr.vpnPath(...rdPrefix(key)) !== undefined;
  const gobgpHas = (g: Gobgpd, key: string) => g.route('vpnv4', key) !== undefined;

  /** What an uninvolved observer would see change: session start times and route update times. */
  type Seen = Record<string, unknown>;
  function observe(): Seen {
    const seen: Seen = {};
    for (const a of [PLAIN, GR, FRR]) seen[`weft:${a}`] = weft.neighbor(a)?.establishedAt;
    const fn = frr.neighbor(WEFT)!;
    // FRR's epochs are computed from uptimes and wobble by a second: its counters and table versions do not.
    seen['frr:session'] = [fn['connectionsEstablished'], fn['connectionsDropped']];
    for (const k of [R.plain, R.gr]) seen[`frr:${k}`] = frr.vpnRoute(...rdPrefix(k))?.version;
    for (const [name, g, keys] of [['plain', plain, [R.gr, R.frr]], ['gr', gr, [R.plain, R.frr]]] as const) {
      if (!g.daemon.running) continue;
      try {
        seen[`${name}:session`] = g.neighbor(WEFT)?.timers.state.uptime;
        for (const k of keys) seen[`${name}:${k}`] = g.route('vpnv4', k)?.age;
      } catch {
        // its API is not up (restarting): nothing to compare
      }
    }
    return seen;
  }
  /** The entries of `before` that do not involve `except` (an address and its routes) are unchanged. */
  function expectUnnoticed(before: Seen, except: { address?: string; name?: string; route?: string } = {}): void {
    const now = observe();
    for (const [k, v] of Object.entries(before)) {
      if (except.address !== undefined && k === `weft:${except.address}`) continue;
      if (except.name !== undefined && k.startsWith(`${except.name}:`)) continue;
      if (except.route !== undefined && k.endsWith(except.route)) continue;
      expect({ [k]: now[k] }, JSON.stringify({ before, now })).toEqual({ [k]: v });
    }
  }

  beforeAll(async () => {
    requireBinaries([...GOBGP_BINARIES, ...FRR_BINARIES]);
    daemons = new DaemonSet('interop-faults');
    weft = new Speaker({
      localAs: AS,
      routerId: WEFT,
      listen: { address: WEFT, port: PORT.weft },
      families: ['ipv4-unicast', 'vpnv4'],
      neighbors: [
        // Hold time 3 on this one: the SIGSTOP test waits for it to run out.
        // weft dials the gobgpds: gobgpd's own first connect waits several seconds.
        { address: PLAIN, port: PORT.plain, remoteAs: AS, rrClient: true, holdTime: 3, connectRetry: 1 },
        { address: GR, port: PORT.gr, remoteAs: AS, rrClient: true, gracefulRestart: true, connectRetry: 1 },
        { address: FRR, port: PORT.frr, remoteAs: AS, rrClient: true, connectRetry: 1 },
        { address: RAW_HOLD, remoteAs: AS, passive: true, rrClient: true },
        { address: RAW_BAD, remoteAs: AS, passive: true, rrClient: true },
      ],
    });
    await weft.start();
    const fam = ['l3vpn-ipv4-unicast'];
    plain = new Gobgpd(daemons, { name: 'gobgp-plain', asn: AS, address: PLAIN, port: PORT.plain, apiPort: PORT.plainApi, neighbors: [{ address: WEFT, peerAs: AS, passive: true, families: fam }] });
    gr = new Gobgpd(daemons, {
      name: 'gobgp-gr',
      asn: AS,
      address: GR,
      port: PORT.gr,
      apiPort: PORT.grApi,
      neighbors: [{ address: WEFT, peerAs: AS, passive: true, families: fam, gracefulRestart: GR_TIME }],
    });
    frr = new Frr(daemons, {
      name: 'frr',
      address: FRR,
      port: PORT.frr,
      conf: `frr defaults traditional
hostname weft-faults
log stdout informational
route-map VPN-OUT permit 10
 set extcommunity rt 64512:10000
exit
router bgp ${AS}
 bgp router-id ${FRR}
 bgp allow-martian-nexthop
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor ${WEFT} remote-as ${AS}
 neighbor ${WEFT} port ${PORT.weft}
 neighbor ${WEFT} update-source ${FRR}
 neighbor ${WEFT} timers connect 1
 neighbor ${WEFT} advertisement-interval 0
 address-family ipv4 vpn
  neighbor ${WEFT} activate
  network 10.73.1.0/24 rd 64512:73 label 730 route-map VPN-OUT
 exit-address-family
exit
`,
    });
    const three = [PLAIN, GR, FRR];
    await waitFor('gobgpd x2 and FRR Established at weft', () => three.every((a) => weft.neighbor(a)?.isEstablished), 60_000);
    injectPlain();
    injectGr();
    await waitFor('the three routes at weft', () => weftKeys().join() === [R.plain, R.gr, R.frr].sort().join());
    await waitFor('routes everywhere', () => frrHas(R.plain) && frrHas(R.gr) && gobgpHas(plain, R.gr) && gobgpHas(plain, R.frr) && gobgpHas(gr, R.plain) && gobgpHas(gr, R.frr));
    // gobgp's route age has a resolution of one second: let it tick past the initial exchange.
    await sleep(1100);
  });

  afterAll(async () => {
    await weft?.stop();
    await daemons?.stopAll();
  });

  it('Graceful Restart is negotiated with the GR gobgpd only', () => {
    const snap = weft.neighborsSnapshot();
    expect(snap.find((n) => n.address === GR)?.negotiated?.gracefulRestart).toMatchObject({ time: GR_TIME, families: ['vpnv4'] });
    expect(snap.find((n) => n.address === PLAIN)?.negotiated?.gracefulRestart).toBeUndefined();
  });

  it('peer restart: its routes are withdrawn from the others, and relearned when it comes back', async () => {
    const before = observe();
    await plain.restart({ signal: 'SIGTERM' });
    await waitFor('plain route gone at weft, FRR and the GR gobgpd', () => !weftKeys().includes(R.plain) && !frrHas(R.plain) && !gobgpHas(gr, R.plain));
    await waitFor('gobgpd API back', () => plain.cli('global') !== '');
    injectPlain();
    await waitFor('plain route back at FRR and the GR gobgpd', () => frrHas(R.plain) && gobgpHas(gr, R.plain));
    expect(weft.rib('vpnv4').find((r) => r.key === R.plain)?.paths[0]).toMatchObject({ source: PLAIN, labels: [710], stale: false });
    expectUnnoticed(before, { address: PLAIN, name: 'plain', route: R.plain });
  });

  it('graceful restart of gobgpd: its route is kept stale, then refreshed; the other peers never see it withdrawn or re-sent', async () => {
    await sleep(1100);
    const before = observe();
    const sentBefore = new Map(weft.neighborsSnapshot().map((n) => [n.address, n.sent.update]));
    await gr.restart({ signal: 'SIGKILL', restarting: true });
    await waitFor('session down at weft', () => !weft.neighbor(GR)!.isEstablished);
    const stale = weft.rib('vpnv4').find((r) => r.key === R.gr)!;
    expect(stale.paths).toHaveLength(1);
    expect(stale.paths[0]).toMatchObject({ source: GR, stale: true, labels: [720] });
    expect(weft.neighborsSnapshot().find((n) => n.address === GR)?.staleFamilies).toEqual(['vpnv4']);
    // The restarted gobgpd lost its API-made route: add it back before the session is up, as
    // a restarting speaker would from its configuration.
    await waitFor('gobgpd API back', () => gr.cli('global') !== '', 10_000, 50);
    injectGr();
    await waitFor('session back', () => weft.neighbor(GR)!.isEstablished);
    await waitFor('stale state swept by End-of-RIB', () => weft.neighborsSnapshot().find((n) => n.address === GR)?.staleFamilies === undefined);
    const fresh = weft.rib('vpnv4').find((r) => r.key === R.gr)!;
    expect(fresh.paths).toHaveLength(1);
    expect(fresh.paths[0]).toMatchObject({ source: GR, stale: false, labels: [720] });
    expect(fresh.paths[0]!.attributes.extCommunities).toEqual(['target:64512:10000', '0x030c00000000000b']);
    expect(weft.neighbor(GR)!.peerOpen).toBeDefined();
    expect(weft.neighborsSnapshot().find((n) => n.address === GR)?.negotiated?.gracefulRestart?.restart).toBe(true);
    // The restarted gobgpd has the others' routes again.
    await waitFor('routes back at the GR gobgpd', () => gobgpHas(gr, R.plain) && gobgpHas(gr, R.frr));
    // Nothing at all went to the other peers: no withdrawal, no re-announcement.
    for (const a of [PLAIN, FRR]) expect({ [a]: weft.neighborsSnapshot().find((n) => n.address === a)!.sent.update }).toEqual({ [a]: sentBefore.get(a) });
    expectUnnoticed(before, { address: GR, name: 'gr' });
  });

  it('hold timer expiry (raw peer, hold 3, silent after OPEN): NOTIFICATION 4/0 and its route withdrawn', async () => {
    const before = observe();
    const p = await RawPeer.establish({ local: RAW_HOLD, remote: WEFT, port: PORT.weft, asn: AS, holdTime: 3 });
    expect(weft.neighborsSnapshot().find((n) => n.address === RAW_HOLD)?.negotiated?.holdTime).toBe(3);
    p.sendBytes(updateBytes([...ORIGIN_IGP, ...AS_PATH_EMPTY, ...LOCAL_PREF_100, ...routeTarget(AS, 10000), ...mpReachVpn('192.0.2.74', vpnNlri(740, AS, 74, '10.74.1.0', 24))]));
    await waitFor('raw route at FRR', () => frrHas('64512:74:10.74.1.0/24'));
    const t0 = Date.now();
    // Silent from here on.
    const n = await waitFor('NOTIFICATION from weft', () => p.notification(), 10_000, 50);
    const waited = Date.now() - t0;
    expect(n).toMatchObject({ code: 4, subcode: 0 });
    expect(waited).toBeGreaterThan(1_000);
    expect(waited).toBeLessThan(4_500);
    await waitFor('socket closed', () => p.closed);
    await waitFor('raw route withdrawn at FRR and both gobgpd', () => !frrHas('64512:74:10.74.1.0/24') && !gobgpHas(plain, '64512:74:10.74.1.0/24') && !gobgpHas(gr, '64512:74:10.74.1.0/24'));
    expect(weft.neighborsSnapshot().find((x) => x.address === RAW_HOLD)?.lastDown).toMatchObject({ notification: { code: 4, subcode: 0, sent: true } });
    expectUnnoticed(before);
  });

  it('hold timer expiry with a real daemon: SIGSTOP gobgpd, weft sends 4/0 and withdraws; SIGCONT, it comes back', async () => {
    await sleep(1100);
    const before = observe();
    await plain.daemon.kill('SIGSTOP');
    try {
      await waitFor('hold timer expired at weft', () => !weft.neighbor(PLAIN)!.isEstablished, 8_000, 50);
      expect(weft.neighborsSnapshot().find((x) => x.address === PLAIN)?.lastDown).toMatchObject({ reason: expect.stringMatching(/hold/i), notification: { code: 4, subcode: 0, sent: true } });
      await waitFor('plain route withdrawn at FRR and the GR gobgpd', () => !frrHas(R.plain) && !gobgpHas(gr, R.plain));
    } finally {
      await plain.daemon.kill('SIGCONT');
    }
    await waitFor('plain gobgpd back, its route relearned', () => weft.neighbor(PLAIN)!.isEstablished && frrHas(R.plain) && gobgpHas(gr, R.plain), 30_000);
    expectUnnoticed(before, { address: PLAIN, name: 'plain', route: R.plain });
  });

  describe('malformed UPDATEs from a raw peer', () => {
    const BAD = '64512:75:10.75.1.0/24';
    const reach = () => mpReachVpn('192.0.2.75', vpnNlri(750, AS, 75, '10.75.1.0', 24));
    const good = () => [...ORIGIN_IGP, ...AS_PATH_EMPTY, ...LOCAL_PREF_100, ...routeTarget(AS, 10000)];
    let p: RawPeer;
    let before: Seen;

    beforeAll(async () => {
      await sleep(1100);
      before = observe();
      p = await RawPeer.establish({ local: RAW_BAD, remote: WEFT, port: PORT.weft, asn: AS, holdTime: 90 });
    });
    afterAll(() => p?.sock.destroy());

    it('treat-as-withdraw (ORIGIN of length 2) withdraws an installed route everywhere and keeps the session', async () => {
      p.sendBytes(updateBytes([...good(), ...reach()]));
      await waitFor('route at FRR', () => frrHas(BAD));
      p.sendBytes(updateBytes([...attr(0x40, 1, [0, 0]), ...AS_PATH_EMPTY, ...LOCAL_PREF_100, ...routeTarget(AS, 10000), ...reach()]));
      await waitFor('withdrawn at weft, FRR and gobgpd', () => !weftKeys().includes(BAD) && !frrHas(BAD) && !gobgpHas(plain, BAD));
      await sleep(300);
      expect(p.notification()).toBeUndefined();
      expect(weft.neighbor(RAW_BAD)!.isEstablished).toBe(true);
    });

    it('attribute-discard (ATOMIC_AGGREGATE of length 1): the route is installed without it', async () => {
      p.sendBytes(updateBytes([...good(), ...attr(0x40, 6, [1]), ...reach()]));
      const r = await waitFor('route at weft', () => weft.rib('vpnv4').find((x) => x.key === BAD));
      expect(r.paths[0]!.attributes.extra).toEqual({});
      const f = await waitFor('route at FRR', () => frr.vpnPath('64512:75', '10.75.1.0/24'));
      expect(f['atomicAggregate']).toBeUndefined();
      expect(f['remoteLabel']).toBe(750);
      expect(p.notification()).toBeUndefined();
    });

    it('fatal: MP_REACH_NLRI twice gets NOTIFICATION 3/1 and the route withdrawn', async () => {
      p.sendBytes(updateBytes([...good(), ...reach(), ...reach()]));
      const n = await waitFor('NOTIFICATION', () => p.notification(), 5_000, 20);
      expect(n).toMatchObject({ code: 3, subcode: 1 });
      await waitFor('socket closed', () => p.closed);
      await waitFor('route withdrawn at FRR', () => !frrHas(BAD));
    });

    it('fatal: an unrecognized well-known attribute gets NOTIFICATION 3/2 carrying it', async () => {
      p = await RawPeer.establish({ local: RAW_BAD, remote: WEFT, port: PORT.weft, asn: AS, holdTime: 90 });
      p.sendBytes(updateBytes([...good(), ...attr(0x40, 99, [1, 2, 3]), ...reach()]));
      const n = await waitFor('NOTIFICATION', () => p.notification(), 5_000, 20);
      expect(n).toMatchObject({ code: 3, subcode: 2, data: Uint8Array.of(0x40, 99, 3, 1, 2, 3) });
      await waitFor('socket closed', () => p.closed);
      expect(weftKeys()).not.toContain(BAD);
    });

    it('none of it was noticed by gobgpd x2 and FRR', () => {
      expectUnnoticed(before);
      for (const a of [PLAIN, GR, FRR]) expect(weft.neighbor(a)!.isEstablished).toBe(true);
    });
  });
});
