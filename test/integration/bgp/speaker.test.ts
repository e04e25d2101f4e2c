/**
 * weft Speakers on loopback: a route reflector and two clients, each on its own 127.0.0.x,
 * plus a hand-driven raw BGP peer for the error paths (RFC 7606, max-prefix).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExtCommunity } from '../../../codecs/bgp/extcommunity.js';
import type { VpnNlri } from '../../../codecs/bgp/nlri.js';
import { extCommunityFromBytes } from '../../../src/rib/route-target.js';
import { encodeExtCommunity } from '../../../codecs/bgp/extcommunity.js';
import { Speaker } from '../../../src/bgp/speaker.js';
import { RawPeer } from '../../support/raw-peer.js';

const RR = '127.0.0.21';
const C1 = '127.0.0.22';
const C2 = '127.0.0.23';
const RAW = '127.0.0.24';
const AS = 64512;

async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ec = (text: string) => extCommunityFromBytes(encodeExtCommunity(parseExtCommunity(text)));

function vpn(rd: number, prefix: string, label: number): VpnNlri {
  return { kind: 'vpn', rd: { type: 0, admin: AS, assigned: rd }, prefix, labels: [{ value: label, tc: 0, bottom: true }] };
}

describe('weft route reflector with two weft clients', () => {
  let rr: Speaker;
  let c1: Speaker;
  let c2: Speaker;

  beforeAll(async () => {
    rr = new Speaker({
      localAs: AS,
      routerId: RR,
      clusterId: '10.255.0.1',
      listen: { address: RR, port: 0 },
      families: ['ipv4-unicast', 'vpnv4'],
      neighbors: [
        { address: C1, remoteAs: AS, passive: true, rrClient: true },
        { address: C2, remoteAs: AS, passive: true, rrClient: true },
      ],
    });
    await rr.start();
    const port = rr.listenPort!;
    const client = (id: string) =>
      new Speaker({ localAs: AS, routerId: id, listen: false, families: ['ipv4-unicast', 'vpnv4'], neighbors: [{ address: RR, port, remoteAs: AS, localAddress: id, connectRetry: 1 }] });
    c1 = client(C1);
    c2 = client(C2);
    await c1.start();
    await c2.start();
    await waitFor('both sessions Established', () => rr.neighborsSnapshot().every((n) => n.state === 'Established'));
  });

  afterAll(async () => {
    await c1?.stop();
    await c2?.stop();
    await rr?.stop();
  });

  it('negotiates VPNv4 and IPv4 unicast, 4-octet AS and route refresh on both sessions', () => {
    for (const n of rr.neighborsSnapshot()) {
      expect(n.negotiated?.families.sort()).toEqual(['ipv4-unicast', 'vpnv4']);
      expect(n.negotiated?.fourOctetAs).toBe(true);
      expect(n.negotiated?.routeRefresh).toBe(true);
      expect(n.negotiated?.peerAs).toBe(AS);
    }
    expect(c1.neighborsSnapshot()[0]?.negotiated?.peerId).toBe(RR);
  });

  it('reflects a VPNv4 route with every attribute, adding ORIGINATOR_ID and CLUSTER_LIST', async () => {
    const encap = ec('encapsulation:mplsoudp');
    c1.originate('vpnv4', vpn(7, '10.70.1.0/24', 700), {
      nextHop: '192.0.2.22',
      origin: 'igp',
      med: 42,
      localPref: 250,
      extCommunities: [ec('target:64512:100'), encap],
    });
    const route = await waitFor('route at c2', () => c2.rib('vpnv4').find((r) => r.key === '64512:7:10.70.1.0/24'));
    const p = route.paths[0]!;
    expect(p.source).toBe(RR);
    expect(p.labels).toEqual([700]);
    expect(p.attributes).toMatchObject({
      nextHop: '192.0.2.22',
      med: 42,
      localPref: 250,
      originatorId: C1,
      clusterList: ['10.255.0.1'],
      extCommunities: ['target:64512:100', '0x030c00000000000d'],
      asPath: '',
      origin: 'igp',
    });
    // The originator does not get its own route back (split horizon at the RR).
    expect(c1.rib('vpnv4').find((r) => r.key === '64512:7:10.70.1.0/24')?.paths.map((x) => x.source)).toEqual(['local:api']);
    expect(rr.adjRibOut(C2, 'vpnv4').map((r) => r.key)).toContain('64512:7:10.70.1.0/24');
    expect(rr.adjRibOut(C1, 'vpnv4').map((r) => r.key)).not.toContain('64512:7:10.70.1.0/24');
  });

  it('propagates a new label and the withdrawal', async () => {
    c1.originate('vpnv4', vpn(7, '10.70.1.0/24', 701), { nextHop: '192.0.2.22', localPref: 250, extCommunities: [ec('target:64512:100')] });
    await waitFor('label 701 at c2', () => c2.rib('vpnv4').find((r) => r.key === '64512:7:10.70.1.0/24' && r.paths[0]?.labels?.[0] === 701));
    c1.withdrawLocal('vpnv4', vpn(7, '10.70.1.0/24', 701));
    await waitFor('withdrawal at c2', () => c2.rib('vpnv4').every((r) => r.key !== '64512:7:10.70.1.0/24'));
    expect(rr.rib('vpnv4').find((r) => r.key === '64512:7:10.70.1.0/24')).toBeUndefined();
  });

  it('reflects IPv4 unicast the same way, and withdraws a client routes when its session ends', async () => {
    c2.originate('ipv4-unicast', { kind: 'prefix', prefix: '198.51.100.0/24' }, { nextHop: '192.0.2.23', communities: [0xfde80001] });
    const r = await waitFor('ipv4 at c1', () => c1.rib('ipv4-unicast').find((x) => x.key === '198.51.100.0/24'));
    expect(r.paths[0]!.attributes).toMatchObject({ nextHop: '192.0.2.23', originatorId: C2, clusterList: ['10.255.0.1'], communities: [0xfde80001], localPref: 100 });
    await c2.stop();
    await waitFor('withdrawal after c2 went away', () => c1.rib('ipv4-unicast').every((x) => x.key !== '198.51.100.0/24'));
    expect(rr.neighborsSnapshot().find((n) => n.address === C2)?.lastDown?.notification).toEqual({ code: 6, subcode: 2, sent: false });
  });

  it('adds and removes a neighbour live without disturbing the others', async () => {
    const before = rr.neighborsSnapshot().find((n) => n.address === C1)!;
    rr.addNeighbor({ address: '127.0.0.25', remoteAs: AS, passive: true, rrClient: true });
    const c5 = new Speaker({ localAs: AS, routerId: '127.0.0.25', listen: false, neighbors: [{ address: RR, port: rr.listenPort!, remoteAs: AS, localAddress: '127.0.0.25' }] });
    c1.originate('vpnv4', vpn(9, '10.90.0.0/16', 900), { nextHop: '192.0.2.22', extCommunities: [ec('target:64512:100')] });
    await c5.start();
    // The initial table dump brings the existing route to the newcomer.
    await waitFor('route at the new neighbour', () => c5.rib('vpnv4').find((r) => r.key === '64512:9:10.90.0.0/16'));
    await c5.stop();
    expect(rr.removeNeighbor('127.0.0.25')).toBe(true);
    const after = rr.neighborsSnapshot().find((n) => n.address === C1)!;
    expect(after.state).toBe('Established');
    expect(after.received.open).toBe(before.received.open);
  });
});

/** A hand-driven BGP peer from RAW: sends what the test says, collects what comes back. */
const connectRaw = (port: number) => RawPeer.establish({ local: RAW, remote: RR, port, asn: AS, holdTime: 90 });

describe('weft against a raw peer: RFC 7606 and max-prefix', () => {
  let rr: Speaker;
  beforeAll(async () => {
    rr = new Speaker({
      localAs: AS,
      routerId: RR,
      listen: { address: RR, port: 0 },
      neighbors: [{ address: RAW, remoteAs: AS, passive: true, rrClient: true, maxPrefix: 3 }],
    });
    await rr.start();
  });
  afterAll(async () => {
    await rr?.stop();
  });

  const ORIGIN = [0x40, 1, 1, 0];
  const ASPATH = [0x40, 2, 0];
  const LP = [0x40, 5, 4, 0, 0, 0, 100];
  function update(attrs: number[], nlri: number[]): Uint8Array {
    const body = [0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs, ...nlri];
    const len = 19 + body.length;
    return Uint8Array.from([...new Array<number>(16).fill(0xff), len >> 8, len & 0xff, 2, ...body]);
  }

  it('treat-as-withdraw (bad ORIGIN value) keeps the session and installs nothing; a good UPDATE then works', async () => {
    const p = await connectRaw(rr.listenPort!);
    // ORIGIN 7 is malformed: RFC 7606 section 7.1 says treat-as-withdraw.
    p.sendBytes(update([0x40, 1, 1, 7, ...ASPATH, 0x40, 3, 4, 192, 0, 2, 1, ...LP], [24, 203, 0, 113]));
    p.sendBytes(update([...ORIGIN, ...ASPATH, 0x40, 3, 4, 192, 0, 2, 1, ...LP], [24, 198, 18, 0]));
    await waitFor('good route installed', () => rr.rib('ipv4-unicast').find((r) => r.key === '198.18.0.0/24'));
    expect(rr.rib('ipv4-unicast').find((r) => r.key === '203.0.113.0/24')).toBeUndefined();
    expect(p.got.some((m) => m.type === 'notification')).toBe(false);
    expect(rr.neighborsSnapshot()[0]!.state).toBe('Established');
    p.sock.destroy();
    await waitFor('session down', () => rr.neighborsSnapshot()[0]!.state !== 'Established');
  });

  it('a malformed attribute list (length overrun of the withdrawn field) gets NOTIFICATION 3/1', async () => {
    const p = await connectRaw(rr.listenPort!);
    const bad = update([...ORIGIN], []);
    bad[19] = 0x7f; // withdrawn routes length far beyond the message
    p.sendBytes(bad);
    const n = await waitFor('NOTIFICATION', () => p.got.find((m) => m.type === 'notification'));
    expect(n).toMatchObject({ code: 3, subcode: 1 });
    await waitFor('socket closed', () => p.closed);
  });

  it('more prefixes than maxPrefix: Cease 6/1 with AFI, SAFI and the bound', async () => {
    const p = await connectRaw(rr.listenPort!);
    p.sendBytes(update([...ORIGIN, ...ASPATH, 0x40, 3, 4, 192, 0, 2, 1, ...LP], [24, 198, 18, 1, 24, 198, 18, 2, 24, 198, 18, 3, 24, 198, 18, 4]));
    const n = await waitFor('NOTIFICATION', () => p.got.find((m) => m.type === 'notification'));
    expect(n).toMatchObject({ code: 6, subcode: 1, data: Uint8Array.of(0, 1, 1, 0, 0, 0, 3) });
    await waitFor('routes flushed', () => rr.rib('ipv4-unicast').length === 0);
  });
});

describe('RT constraint (RFC 4684) between weft speakers', () => {
  let rr: Speaker;
  let c1: Speaker;
  let c2: Speaker;
  const key = (n: number) => `64512:${n}:10.8${n}.0.0/16`;
  const membership = (rt: number) => ({
    kind: 'rtc' as const,
    length: 96,
    originAs: AS,
    // target:64512:<rt>, type 0 sub-type 2
    routeTarget: Uint8Array.of(0, 2, 0xfc, 0, 0, 0, rt >> 8, rt & 0xff),
  });

  beforeAll(async () => {
    rr = new Speaker({
      localAs: AS,
      routerId: '127.0.0.26',
      listen: { address: '127.0.0.26', port: 0 },
      families: ['vpnv4', 'rtc'],
      neighbors: [
        { address: '127.0.0.27', remoteAs: AS, passive: true, rrClient: true, families: ['vpnv4'] },
        { address: '127.0.0.28', remoteAs: AS, passive: true, rrClient: true },
      ],
    });
    await rr.start();
    const port = rr.listenPort!;
    c1 = new Speaker({ localAs: AS, routerId: '127.0.0.27', listen: false, families: ['vpnv4'], neighbors: [{ address: '127.0.0.26', port, remoteAs: AS, localAddress: '127.0.0.27' }] });
    c2 = new Speaker({ localAs: AS, routerId: '127.0.0.28', listen: false, families: ['vpnv4', 'rtc'], rtcDefault: false, neighbors: [{ address: '127.0.0.26', port, remoteAs: AS, localAddress: '127.0.0.28' }] });
    await c1.start();
    await c2.start();
    await waitFor('sessions up', () => rr.neighborsSnapshot().every((n) => n.state === 'Established'));
    c1.originate('vpnv4', vpn(1, '10.81.0.0/16', 801), { nextHop: '192.0.2.27', extCommunities: [ec('target:64512:1')] });
    c1.originate('vpnv4', vpn(2, '10.82.0.0/16', 802), { nextHop: '192.0.2.27', extCommunities: [ec('target:64512:2')] });
    await waitFor('both routes at the RR', () => rr.rib('vpnv4').length === 2);
  });
  afterAll(async () => {
    await c1?.stop();
    await c2?.stop();
    await rr?.stop();
  });

  it('an RTC peer gets no VPN routes before it asks, but gets the RR default membership route', async () => {
    await waitFor('default RTC route at c2', () => c2.rib('rtc').find((r) => r.key.endsWith('/0')));
    expect(rr.neighborsSnapshot().find((n) => n.address === '127.0.0.28')?.negotiated?.families.sort()).toEqual(['rtc', 'vpnv4']);
    expect(c2.rib('vpnv4')).toEqual([]);
    // The peer without RTC gets every VPN route (none here besides its own: split horizon).
    expect(rr.adjRibOut('127.0.0.27', 'vpnv4')).toEqual([]);
  });

  it('membership for one RT brings only that RT, a second brings the other, a withdrawal takes it back', async () => {
    c2.originate('rtc', membership(1), { nextHop: '0.0.0.0' });
    await waitFor('RT 1 route at c2', () => c2.rib('vpnv4').some((r) => r.key === key(1)));
    expect(c2.rib('vpnv4').map((r) => r.key)).toEqual([key(1)]);
    c2.originate('rtc', membership(2), { nextHop: '0.0.0.0' });
    await waitFor('RT 2 route at c2', () => c2.rib('vpnv4').some((r) => r.key === key(2)));
    c2.withdrawLocal('rtc', membership(1));
    await waitFor('RT 1 route withdrawn at c2', () => c2.rib('vpnv4').every((r) => r.key !== key(1)));
    expect(c2.rib('vpnv4').map((r) => r.key)).toEqual([key(2)]);
  });
});
