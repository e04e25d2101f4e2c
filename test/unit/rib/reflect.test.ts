import { describe, expect, it } from 'vitest';
import { NO_ADVERTISE, NO_EXPORT, RouteExporter, checkReceived, prependAs } from '../../../src/rib/reflect.js';
import type { BgpTarget, LocalSpeaker } from '../../../src/rib/reflect.js';
import { agent, ebgp, ibgp, local, mkPath, seqPath, store } from './fixtures.js';

const self: LocalSpeaker = { asn: 64512, routerId: '10.0.0.100', clusterId: '0.0.0.7' };
const client = (address: string): BgpTarget => ({ address, asn: 64512, session: 'ibgp', rrClient: true, localAddress: '10.0.0.100' });
const nonClient = (address: string): BgpTarget => ({ address, asn: 64512, session: 'ibgp', rrClient: false, localAddress: '10.0.0.100' });
const external = (address: string, asn: number): BgpTarget => ({ address, asn, session: 'ebgp', rrClient: false, localAddress: '192.0.2.100' });

describe('RouteExporter: RFC 4456 reflection', () => {
  const ex = new RouteExporter(self, store);

  it('does not pass a non-client iBGP path to another non-client, but reflects it to clients', () => {
    const p = mkPath(ibgp('10.0.0.1', { routerId: '1.1.1.1' }), { nextHop: '10.0.0.11', localPref: 150, clusterList: [] });
    expect(ex.decide(p, nonClient('10.0.0.2'))).toEqual({ advertise: false, reason: 'ibgp-non-client' });
    const d = ex.decide(p, client('10.0.0.3'));
    expect(d.advertise).toBe(true);
    if (!d.advertise) return;
    expect(d.reflected).toBe(true);
    expect(d.attrs.originatorId).toBe('1.1.1.1'); // the router id of the peer it came from
    expect(d.attrs.clusterList).toEqual(['0.0.0.7']);
    expect(d.attrs.nextHop).toBe('10.0.0.11'); // unchanged on reflection
    expect(d.attrs.localPref).toBe(150);
  });

  it('reflects a client path to clients and non-clients, keeping an existing ORIGINATOR_ID and prepending the CLUSTER_ID', () => {
    const p = mkPath(ibgp('10.0.0.1', { routerId: '1.1.1.1', rrClient: true }), {
      originatorId: '9.9.9.9',
      clusterList: ['0.0.0.3', '0.0.0.4'],
    });
    for (const t of [client('10.0.0.3'), nonClient('10.0.0.2')]) {
      const d = ex.decide(p, t);
      if (!d.advertise) throw new Error(d.reason);
      expect(d.attrs.originatorId).toBe('9.9.9.9');
      expect(d.attrs.clusterList).toEqual(['0.0.0.7', '0.0.0.3', '0.0.0.4']);
      expect(d.attrs.localPref).toBe(100); // made explicit on iBGP
    }
    const noC2C = new RouteExporter({ ...self, clientToClient: false }, store);
    expect(noC2C.decide(p, client('10.0.0.3'))).toEqual({ advertise: false, reason: 'client-to-client' });
    expect(noC2C.decide(p, nonClient('10.0.0.2')).advertise).toBe(true);
    expect(ex.decide(p, { ...client('10.0.0.9'), routerId: '9.9.9.9' })).toEqual({ advertise: false, reason: 'originator' });
  });

  it('never sends a path back to the peer it came from', () => {
    const p = mkPath(ibgp('10.0.0.1', { rrClient: true }));
    expect(ex.decide(p, client('10.0.0.1'))).toEqual({ advertise: false, reason: 'split-horizon' });
  });

  it('sends eBGP-learned, XMPP and local paths to every iBGP peer, next hop kept, LOCAL_PREF 100 added, no RR attributes', () => {
    for (const src of [ebgp('192.0.2.1', 65001), agent('compute-1', '10.0.0.11'), local('static')]) {
      const p = mkPath(src, { nextHop: '10.0.0.11', asPath: src.kind === 'bgp' ? seqPath(65001) : [] });
      for (const t of [client('10.0.0.3'), nonClient('10.0.0.2')]) {
        const d = ex.decide(p, t);
        if (!d.advertise) throw new Error(d.reason);
        expect(d.reflected).toBe(false);
        expect(d.attrs.nextHop).toBe('10.0.0.11');
        expect(d.attrs.localPref).toBe(100);
        expect(d.attrs.originatorId).toBeUndefined();
        expect(d.attrs.clusterList).toEqual([]);
        expect(d.attrs.asPath).toEqual(p.attrs.asPath);
      }
    }
  });

  it('to eBGP: prepends our AS, sets next hop self, strips LOCAL_PREF/ORIGINATOR_ID/CLUSTER_LIST and foreign MEDs', () => {
    const reflectedIn = mkPath(ibgp('10.0.0.1', { rrClient: true }), {
      asPath: seqPath(65001, 65002),
      med: 30,
      localPref: 200,
      originatorId: '9.9.9.9',
      clusterList: ['0.0.0.3'],
      extCommunities: [0x0002fde800000065n],
    });
    const d = ex.decide(reflectedIn, external('192.0.2.9', 65009));
    if (!d.advertise) throw new Error(d.reason);
    expect(d.attrs.asPath).toEqual(seqPath(64512, 65001, 65002));
    expect(d.attrs.nextHop).toBe('192.0.2.100');
    expect(d.attrs.localPref).toBeUndefined();
    expect(d.attrs.originatorId).toBeUndefined();
    expect(d.attrs.clusterList).toEqual([]);
    expect(d.attrs.med).toBeUndefined(); // learnt from AS 65001: not passed on (RFC 4271 5.1.4)
    expect(d.attrs.extCommunities).toEqual([0x0002fde800000065n]);

    const fromAgent = mkPath(agent('compute-1', '10.0.0.11'), { med: 5 });
    const d2 = ex.decide(fromAgent, external('192.0.2.9', 65009));
    if (!d2.advertise) throw new Error(d2.reason);
    expect(d2.attrs.med).toBe(5); // set inside our AS: kept
    expect(d2.attrs.asPath).toEqual(seqPath(64512));
  });

  it('honours NO_ADVERTISE everywhere and NO_EXPORT towards eBGP only', () => {
    const noAdv = mkPath(agent('compute-1', '10.0.0.11'), { communities: [NO_ADVERTISE] });
    expect(ex.decide(noAdv, client('10.0.0.3'))).toEqual({ advertise: false, reason: 'no-advertise' });
    const noExp = mkPath(agent('compute-1', '10.0.0.11'), { communities: [NO_EXPORT] });
    expect(ex.decide(noExp, external('192.0.2.9', 65009))).toEqual({ advertise: false, reason: 'no-export' });
    expect(ex.decide(noExp, nonClient('10.0.0.2')).advertise).toBe(true);
  });

  it('builds each transformed attribute set once and shares it across routes', () => {
    const src = ibgp('10.0.0.1', { routerId: '1.1.1.1' });
    const p1 = mkPath(src, { nextHop: '10.0.0.50' });
    const p2 = mkPath(src, { nextHop: '10.0.0.50' });
    expect(p1.attrs).toBe(p2.attrs);
    const d1 = ex.decide(p1, client('10.0.0.3'));
    const d2 = ex.decide(p2, client('10.0.0.4'));
    if (!d1.advertise || !d2.advertise) throw new Error('refused');
    expect(d1.attrs).toBe(d2.attrs);
    expect(d1.attrs.id).not.toBe(p1.attrs.id);
  });
});

describe('prependAs', () => {
  it('drops confederation segments and opens a new segment when the first is a set or full', () => {
    expect(prependAs([{ type: 'confed-sequence', asns: [65100] }, ...seqPath(1)], 64512)).toEqual(seqPath(64512, 1));
    expect(prependAs([{ type: 'set', asns: [1, 2] }], 64512)).toEqual([...seqPath(64512), { type: 'set', asns: [1, 2] }]);
    const full = Array.from({ length: 255 }, (_, i) => i + 1);
    const out = prependAs(seqPath(...full), 64512);
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual(seqPath(64512)[0]);
    expect(prependAs([], 64512)).toEqual(seqPath(64512));
  });
});

describe('checkReceived: loop detection', () => {
  const fromIbgp = ibgp('10.0.0.1');
  const fromEbgp = ebgp('192.0.2.1', 65001);
  const a = (o: object) => store.intern({ nextHop: '10.0.0.1', ...o });

  it('rejects our router id as ORIGINATOR_ID and our cluster id in CLUSTER_LIST', () => {
    expect(checkReceived(a({ originatorId: '10.0.0.100' }), fromIbgp, self)).toBe('originator-id');
    expect(checkReceived(a({ originatorId: '1.1.1.1', clusterList: ['0.0.0.3', '0.0.0.7'] }), fromIbgp, self)).toBe('cluster-list');
    // Without an explicit cluster id, the router id is the cluster id.
    expect(checkReceived(a({ clusterList: ['10.0.0.100'] }), fromIbgp, { asn: 64512, routerId: '10.0.0.100' })).toBe('cluster-list');
    expect(checkReceived(a({ originatorId: '1.1.1.1', clusterList: ['0.0.0.3'] }), fromIbgp, self)).toBeUndefined();
  });

  it('rejects our AS in an eBGP path, up to allowOwnAs occurrences, and ignores the AS path on iBGP', () => {
    const looped = a({ asPath: [...seqPath(65001), { type: 'set', asns: [64512, 7] }] });
    expect(checkReceived(looped, fromEbgp, self)).toBe('as-path-loop');
    expect(checkReceived(looped, fromEbgp, self, 1)).toBeUndefined();
    expect(checkReceived(looped, fromIbgp, self)).toBeUndefined();
    expect(checkReceived(a({ asPath: seqPath(65001, 65002) }), fromEbgp, self)).toBeUndefined();
  });
});
