import { describe, expect, it } from 'vitest';
import { AttrStore, attributesKey, bgpSource, pathKey, ribJsonReplacer, xmppSource } from '../../../src/rib/path.js';
import { parseRouteTarget } from '../../../src/rib/route-target.js';

describe('AttrStore (hash-consed attribute sets)', () => {
  it('returns one frozen object per distinct content, with a stable id', () => {
    const s = new AttrStore();
    const a = s.intern({ nextHop: '10.0.0.1', asPath: [{ type: 'sequence', asns: [1, 2] }], communities: [0xffff0001] });
    const b = s.intern({ nextHop: '10.0.0.1', asPath: [{ type: 'sequence', asns: [1, 2] }], communities: [0xffff0001] });
    expect(b).toBe(a);
    expect(s.intern(a)).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.asPath) && Object.isFrozen(a.asPath[0]!.asns)).toBe(true);
    expect(a.origin).toBe('igp');
    expect(a.extCommunities).toEqual([]);
    expect('med' in a).toBe(false);
  });

  it('tells apart contents that only differ in a detail, including order and segment type', () => {
    const s = new AttrStore();
    const base = { nextHop: '10.0.0.1' };
    const variants = [
      s.intern(base),
      s.intern({ ...base, med: 0 }),
      s.intern({ ...base, localPref: 0 }),
      s.intern({ ...base, asPath: [{ type: 'sequence', asns: [1, 2] }] }),
      s.intern({ ...base, asPath: [{ type: 'set', asns: [1, 2] }] }),
      s.intern({ ...base, asPath: [{ type: 'sequence', asns: [2, 1] }] }),
      s.intern({ ...base, asPath: [{ type: 'sequence', asns: [1] }, { type: 'sequence', asns: [2] }] }),
      s.intern({ ...base, communities: [1, 2] }),
      s.intern({ ...base, communities: [2, 1] }),
      s.intern({ ...base, extCommunities: [1n] }),
      s.intern({ ...base, largeCommunities: [[1, 2, 3]] }),
      s.intern({ ...base, clusterList: ['1.1.1.1'] }),
      s.intern({ ...base, originatorId: '1.1.1.1' }),
      s.intern({ ...base, extra: { aggregator: { asn: 1, address: '1.1.1.1' } } }),
      s.intern({ ...base, extra: { unknown99: Uint8Array.of(1, 2) } }),
      s.intern({ ...base, extra: { unknown99: Uint8Array.of(1, 3) } }),
    ];
    expect(new Set(variants).size).toBe(variants.length);
    expect(new Set(variants.map((v) => v.id)).size).toBe(variants.length);
  });

  it('keys extra bags independently of property order', () => {
    const s = new AttrStore();
    const a = s.intern({ nextHop: '10.0.0.1', extra: { x: 1, y: { b: 2, a: [true, null] } } });
    const b = s.intern({ nextHop: '10.0.0.1', extra: { y: { a: [true, null], b: 2 }, x: 1 } });
    expect(b).toBe(a);
  });

  it('with() applies changes and removes optional fields set to undefined', () => {
    const s = new AttrStore();
    const a = s.intern({ nextHop: '10.0.0.1', localPref: 200, med: 5 });
    const b = s.with(a, { localPref: undefined });
    expect(b.localPref).toBeUndefined();
    expect('localPref' in b).toBe(false);
    expect(b.med).toBe(5);
    expect(s.with(b, { localPref: 200 })).toBe(a);
    expect(attributesKey(b)).toBe(b.key);
  });
});

describe('paths and sources', () => {
  it('folds source, path id and primary into the path key', () => {
    const src = bgpSource({ peer: '10.0.0.1', routerId: '1.1.1.1', asn: 64512, session: 'ibgp', rrClient: true });
    expect(src.key).toBe('bgp:10.0.0.1');
    expect(pathKey({ source: src })).toBe('bgp:10.0.0.1');
    expect(pathKey({ source: src, pathId: 3 })).toBe('bgp:10.0.0.1#3');
    expect(pathKey({ source: src, primary: { table: 'bgp.l3vpn.0', key: '1:1:10.0.0.0/8' } })).toBe(
      'bgp:10.0.0.1@bgp.l3vpn.0/1:1:10.0.0.0/8',
    );
    expect(xmppSource('compute-1', '10.0.0.11').key).toBe('xmpp:compute-1');
  });

  it('serialises to JSON with RTs as text and opaque bytes as hex', () => {
    const s = new AttrStore();
    const a = s.intern({
      nextHop: '10.0.0.1',
      extCommunities: [parseRouteTarget('target:64512:1'), 0x030c00000000000dn],
      extra: { raw: Buffer.from([0xde, 0xad]), u8: Uint8Array.of(1) },
    });
    const j = JSON.parse(JSON.stringify(a, ribJsonReplacer)) as Record<string, unknown>;
    expect(j.extCommunities).toEqual(['target:64512:1', '0x030c00000000000d']);
    expect(j.extra).toEqual({ raw: 'dead', u8: '01' });
  });
});
