import { describe, expect, it } from 'vitest';
import { Table } from '../../../src/rib/table.js';
import { agent, ebgp, ibgp, seqPath, store } from './fixtures.js';

const attrs = (o: { localPref?: number; med?: number; nextHop?: string } = {}) =>
  store.intern({ nextHop: o.nextHop ?? '10.0.0.11', asPath: seqPath(7), ...o });

describe('Table', () => {
  it('reports a destination only when its best path or ECMP set changes', () => {
    const t = new Table('bgp.l3vpn.0');
    const p1 = ibgp('10.0.0.1');
    const p2 = ibgp('10.0.0.2');
    const key = '64512:1:10.1.1.0/24';

    const c1 = t.add(key, { source: p1, attrs: attrs({ localPref: 100 }), labels: [16] });
    expect(c1).toHaveLength(1);
    expect(c1[0]).toMatchObject({ table: 'bgp.l3vpn.0', key, previousBest: undefined });
    expect(c1[0]!.best!.source).toBe(p1);
    expect(c1[0]!.best!.labels).toEqual([16]);

    expect(t.add(key, { source: p2, attrs: attrs({ localPref: 50 }) })).toEqual([]); // worse: silent
    const c3 = t.add(key, { source: p2, attrs: attrs({ localPref: 300 }) }); // replaced, now better
    expect(c3).toHaveLength(1);
    expect(c3[0]!.best!.source).toBe(p2);
    expect(c3[0]!.previousBest!.source).toBe(p1);
    expect(t.get(key)!.paths).toHaveLength(2);
    expect(t.get(key)!.decidedBy).toBe('local-pref');

    // Re-announcing identical contents (a fresh but equal interned set) is not news.
    expect(t.add(key, { source: p2, attrs: attrs({ localPref: 300 }) })).toEqual([]);
    // A new label on the best path is.
    expect(t.add(key, { source: p2, attrs: attrs({ localPref: 300 }), labels: [17] })).toHaveLength(1);
  });

  it('withdraws a path, falls back to the next one, and drops the destination with its last path', () => {
    const t = new Table('inet');
    const a = ebgp('10.0.0.1', 7);
    const b = ebgp('10.0.0.2', 7);
    t.add('10.0.0.0/8', { source: a, attrs: attrs() });
    t.add('10.0.0.0/8', { source: b, attrs: attrs() });
    expect(t.get('10.0.0.0/8')!.best!.source).toBe(a);

    expect(t.withdraw('10.0.0.0/8', { source: ibgp('10.9.9.9') })).toEqual([]);
    expect(t.withdraw('192.0.2.0/24', { source: a })).toEqual([]);
    const c = t.withdraw('10.0.0.0/8', { source: a });
    expect(c[0]!.best!.source).toBe(b);
    const last = t.withdraw('10.0.0.0/8', { source: b });
    expect(last[0]).toMatchObject({ best: undefined, ecmp: [] });
    expect(last[0]!.previousBest!.source).toBe(b);
    expect(t.get('10.0.0.0/8')).toBeUndefined();
    expect(t.size).toBe(0);
    expect(t.keysFrom(b)).toEqual([]);
  });

  it('keeps one path per (source, path id) for ADD-PATH peers', () => {
    const t = new Table('inet');
    const p = ibgp('10.0.0.1');
    t.add('10.2.0.0/16', { source: p, pathId: 1, attrs: attrs({ nextHop: '10.0.0.21' }) });
    t.add('10.2.0.0/16', { source: p, pathId: 2, attrs: attrs({ nextHop: '10.0.0.22' }) });
    t.add('10.2.0.0/16', { source: p, pathId: 2, attrs: attrs({ nextHop: '10.0.0.23' }) });
    expect(t.get('10.2.0.0/16')!.paths.map((x) => [x.pathId, x.attrs.nextHop])).toEqual([
      [1, '10.0.0.21'],
      [2, '10.0.0.23'],
    ]);
    t.withdraw('10.2.0.0/16', { source: p, pathId: 1 });
    expect(t.get('10.2.0.0/16')!.best!.pathId).toBe(2);
  });

  it('reports ECMP growth and shrink even when the best path stays', () => {
    const t = new Table('vrf', { maxPaths: 4 });
    const x1 = agent('compute-1', '10.0.0.11');
    const x2 = agent('compute-2', '10.0.0.12');
    t.add('10.1.1.5/32', { source: x1, attrs: attrs() });
    const grow = t.add('10.1.1.5/32', { source: x2, attrs: attrs() });
    expect(grow).toHaveLength(1);
    expect(grow[0]!.best!.source).toBe(x1);
    expect(grow[0]!.ecmp.map((p) => p.source)).toEqual([x1, x2]);
    expect(grow[0]!.previousEcmp.map((p) => p.source)).toEqual([x1]);
    const shrink = t.withdraw('10.1.1.5/32', { source: x2 });
    expect(shrink[0]!.ecmp.map((p) => p.source)).toEqual([x1]);
  });

  it('withdrawAll removes every path of the source and reports only where the selection moved', () => {
    const t = new Table('inet');
    const a = ebgp('10.0.0.1', 7);
    const b = ebgp('10.0.0.2', 7);
    for (let i = 0; i < 10; i++) t.add(`10.${i}.0.0/16`, { source: a, attrs: attrs() });
    for (let i = 5; i < 15; i++) t.add(`10.${i}.0.0/16`, { source: b, attrs: attrs() });
    expect(t.keysFrom(a)).toHaveLength(10);
    const c = t.withdrawAll(a);
    // 0..4: gone; 5..9: fall back to b; 10..14: a was never there.
    expect(c).toHaveLength(10);
    expect(c.filter((x) => x.best === undefined).map((x) => x.key).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `10.${i}.0.0/16`).sort(),
    );
    expect(c.filter((x) => x.best).every((x) => x.best!.source === b)).toBe(true);
    expect(t.size).toBe(10);
    expect(t.keysFrom(a)).toEqual([]);
    expect(t.withdrawAll(a)).toEqual([]);
  });

  it('graceful restart: stale paths keep forwarding, lose to fresh ones, and are swept unless refreshed', () => {
    const t = new Table('inet');
    const restarting = ibgp('10.0.0.1');
    const other = ibgp('10.0.0.2');
    t.add('10.1.0.0/16', { source: restarting, attrs: attrs({ localPref: 200 }) }); // alone
    t.add('10.2.0.0/16', { source: restarting, attrs: attrs({ localPref: 200 }) }); // beats other
    t.add('10.2.0.0/16', { source: other, attrs: attrs({ localPref: 100 }) });
    t.add('10.3.0.0/16', { source: restarting, attrs: attrs({ localPref: 200 }) }); // will be refreshed

    const stale = t.markStale(restarting);
    // Only 10.2 moves: its fresh competitor now wins. Being marked stale alone is not news.
    expect(stale.map((c) => c.key)).toEqual(['10.2.0.0/16']);
    expect(stale[0]!.best!.source).toBe(other);
    expect(t.get('10.1.0.0/16')!.best!.stale).toBe(true);
    expect(t.get('10.2.0.0/16')!.decidedBy).toBe('stale');

    // The peer comes back and re-announces 10.3 unchanged: fresh again, nothing to advertise.
    expect(t.add('10.3.0.0/16', { source: restarting, attrs: attrs({ localPref: 200 }) })).toEqual([]);
    expect(t.get('10.3.0.0/16')!.best!.stale).toBe(false);

    const swept = t.sweepStale(restarting);
    expect(swept.map((c) => c.key).sort()).toEqual(['10.1.0.0/16']);
    expect(t.get('10.1.0.0/16')).toBeUndefined();
    expect(t.get('10.2.0.0/16')!.paths.map((p) => p.source)).toEqual([other]);
    expect(t.get('10.3.0.0/16')!.best!.source).toBe(restarting);
    expect(t.keysFrom(restarting)).toEqual(['10.3.0.0/16']);
  });

  it('change snapshots stay valid after later operations (arrays are never mutated)', () => {
    const t = new Table('vrf', { maxPaths: 4 });
    const x1 = agent('compute-1', '10.0.0.11');
    const x2 = agent('compute-2', '10.0.0.12');
    const first = t.add('p', { source: x1, attrs: attrs() })[0]!;
    t.add('p', { source: x2, attrs: attrs() });
    t.withdraw('p', { source: x1 });
    expect(first.ecmp.map((p) => p.source)).toEqual([x1]);
  });

  it('holds 200k VPNv4 destinations, takes a second peer on part of them and drops the first', () => {
    // A smoke test of scale (a few seconds on an idle machine), not a benchmark: nothing is timed.
    const t = new Table('bgp.l3vpn.0');
    const a = ibgp('10.0.0.1');
    const b = ibgp('10.0.0.2');
    // Routes share a few attribute sets, as real feeds do.
    const sets = [0, 1, 2, 3].map((i) => attrs({ nextHop: `10.0.1.${i}` }));
    const labels = [[16], [17], [18]];
    const N = 200_000;
    const keyOf = (i: number) => `64512:${i & 0xff}:10.${i >> 16}.${(i >> 8) & 0xff}.${i & 0xff}/32`;
    let changed = 0;
    for (let i = 0; i < N; i++) changed += t.add(keyOf(i), { source: a, attrs: sets[i & 3]!, labels: labels[i % 3]! }).length;
    expect(changed).toBe(N);
    expect(t.size).toBe(N);
    for (let i = 0; i < N; i += 10) t.add(keyOf(i), { source: b, attrs: sets[0]! });
    const down = t.withdrawAll(a);
    expect(down).toHaveLength(N);
    expect(t.size).toBe(N / 10);
    expect(t.get(keyOf(10))!.best!.source).toBe(b);
    expect(t.get(keyOf(11))).toBeUndefined();
  });

  it('keeps its per-source index exact through withdrawals, re-adds and compaction', () => {
    const t = new Table('bgp.l3vpn.0');
    const a = ibgp('10.0.0.1');
    const b = ibgp('10.0.0.2');
    const keyOf = (i: number) => `64512:1:10.0.${i >> 8}.${i & 0xff}/32`;
    const N = 5000;
    for (let i = 0; i < N; i++) t.add(keyOf(i), { source: a, attrs: attrs() });
    // b shares every 4th destination, so a's withdrawal there leaves the destination alive.
    for (let i = 0; i < N; i += 4) t.add(keyOf(i), { source: b, attrs: attrs() });
    // Withdraw 4000 of a's routes (enough to compact the index on the way), then re-add half of
    // them: the shared destinations come back to a list that may still hold them.
    for (let i = 0; i < 4000; i++) t.withdraw(keyOf(i), { source: a });
    for (let i = 0; i < 4000; i += 2) t.add(keyOf(i), { source: a, attrs: attrs() });
    const live = [...Array(N).keys()].filter((i) => i >= 4000 || i % 2 === 0).map(keyOf);
    expect(t.keysFrom(a).sort()).toEqual(live.sort());
    expect(t.keysFrom(b)).toHaveLength(N / 4);
    // Session down: one change per destination of a, none twice, and b's paths take over.
    const down = t.withdrawAll(a);
    expect(down.map((c) => c.key).sort()).toEqual(live.sort());
    expect(down.filter((c) => c.best !== undefined).every((c) => c.best!.source === b)).toBe(true);
    expect(t.size).toBe(N / 4);
    expect(t.keysFrom(a)).toEqual([]);
  });
});
