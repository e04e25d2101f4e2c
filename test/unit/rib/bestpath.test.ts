import { describe, expect, it } from 'vitest';
import { asPathLength, neighborAs, resolveBestPathOptions, selectBest } from '../../../src/rib/bestpath.js';
import type { BestPathOptions } from '../../../src/rib/bestpath.js';
import type { Path } from '../../../src/rib/path.js';
import { agent, ebgp, ibgp, local, mkPath, seqPath } from './fixtures.js';

const sel = (paths: Path[], o: BestPathOptions = {}) => selectBest(paths, resolveBestPathOptions(o));

/** Every order of the input must give the same answer: selection may not depend on arrival. */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

function expectWinner(paths: Path[], winner: Path, step: string, o: BestPathOptions = {}) {
  for (const order of permutations(paths)) {
    const s = sel(order, o);
    expect(s.best).toBe(winner);
    expect(s.decidedBy).toBe(step);
  }
}

describe('asPathLength / neighborAs', () => {
  it('counts an AS_SET as 1 and confederation segments as 0', () => {
    expect(
      asPathLength([
        { type: 'confed-sequence', asns: [65001, 65002] },
        { type: 'sequence', asns: [1, 2, 3] },
        { type: 'set', asns: [4, 5, 6] },
        { type: 'confed-set', asns: [65003] },
      ]),
    ).toBe(4);
    expect(asPathLength([])).toBe(0);
  });
  it('takes the first AS after confederation segments; none for empty or AS_SET-first paths', () => {
    expect(neighborAs([{ type: 'confed-sequence', asns: [65001] }, ...seqPath(7, 8)])).toBe(7);
    expect(neighborAs([])).toBeUndefined();
    expect(neighborAs([{ type: 'set', asns: [1, 2] }])).toBeUndefined();
  });
});

describe('selectBest, one deciding step at a time', () => {
  it('no paths: nothing; one path: it', () => {
    expect(sel([]).best).toBeUndefined();
    const p = mkPath(ebgp('10.0.0.1', 1));
    expect(sel([p])).toMatchObject({ best: p, ecmp: [p], decidedBy: 'only-path' });
  });

  it('stale: a fresh path beats a stale one with higher LOCAL_PREF; off, LOCAL_PREF decides', () => {
    const stale = mkPath(ibgp('10.0.0.1'), { localPref: 200 }, { stale: true });
    const fresh = mkPath(ibgp('10.0.0.2'), { localPref: 50 });
    expectWinner([stale, fresh], fresh, 'stale');
    expectWinner([stale, fresh], stale, 'local-pref', { preferFresh: false });
  });

  it('local-pref: highest wins, a missing one counts as 100 (or the configured default)', () => {
    const high = mkPath(ibgp('10.0.0.9'), { localPref: 200, asPath: seqPath(1, 2, 3) });
    const none = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1) });
    const low = mkPath(ibgp('10.0.0.2'), { localPref: 90 });
    expectWinner([high, none, low], high, 'local-pref');
    expectWinner([none, low], none, 'local-pref');
    expectWinner([none, low], low, 'local-pref', { defaultLocalPref: 80 });
  });

  it('as-path: shortest wins; an AS_SET counts 1, confederation segments 0', () => {
    const three = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1, 2, 3) });
    const withSet = mkPath(ebgp('10.0.0.9', 1), { asPath: [...seqPath(1), { type: 'set', asns: [7, 8, 9] }] });
    expectWinner([three, withSet], withSet, 'as-path');
    const confed = mkPath(ibgp('10.0.0.9'), {
      asPath: [{ type: 'confed-sequence', asns: [65001, 65002, 65003] }, ...seqPath(1)],
    });
    const two = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1, 2) });
    expectWinner([confed, two], confed, 'as-path');
  });

  it('origin: IGP < EGP < INCOMPLETE', () => {
    const igp = mkPath(ebgp('10.0.0.9', 1), { origin: 'igp', asPath: seqPath(1) });
    const egp = mkPath(ebgp('10.0.0.2', 1), { origin: 'egp', asPath: seqPath(1) });
    const inc = mkPath(ebgp('10.0.0.1', 1), { origin: 'incomplete', asPath: seqPath(1) });
    expectWinner([igp, egp, inc], igp, 'origin');
    expectWinner([egp, inc], egp, 'origin');
  });

  it('med: lowest wins among paths from the same neighbour AS; a missing MED is 0 unless configured worst', () => {
    const m10 = mkPath(ebgp('10.0.0.9', 1), { asPath: seqPath(1, 5), med: 10 });
    const m20 = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1, 6), med: 20 });
    expectWinner([m10, m20], m10, 'med');
    const none = mkPath(ebgp('10.0.0.9', 1), { asPath: seqPath(1, 7) });
    expectWinner([none, m10], none, 'med');
    expectWinner([none, m10], m10, 'med', { missingMedWorst: true });
  });

  it('med: not compared across neighbour ASes unless always-compare-med', () => {
    const as1 = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1), med: 50 });
    const as2 = mkPath(ebgp('10.0.0.2', 2), { asPath: seqPath(2), med: 5 });
    // MED ignored: the lower router id (10.0.0.1) decides.
    expectWinner([as1, as2], as1, 'router-id');
    expectWinner([as1, as2], as2, 'med', { alwaysCompareMed: true });
  });

  it('med: elimination per neighbour-AS group, whatever the arrival order (the non-transitive case)', () => {
    // Pairwise: A<B (MED, same AS), B<C (router id), C<A (router id) -- a cycle.
    // RFC 4271 9.1.2.2: drop B (worse MED in AS 1), then A vs C by router id -> C.
    const a = mkPath(ebgp('10.0.0.3', 1), { asPath: seqPath(1), med: 10 });
    const b = mkPath(ebgp('10.0.0.1', 1), { asPath: seqPath(1), med: 20 });
    const c = mkPath(ebgp('10.0.0.2', 2), { asPath: seqPath(2), med: 30 });
    expectWinner([a, b, c], c, 'router-id');
  });

  it('peer-type: eBGP over iBGP, and XMPP/local paths count as not iBGP', () => {
    const e = mkPath(ebgp('10.0.0.9', 1), { asPath: seqPath(1) });
    const i = mkPath(ibgp('10.0.0.1'), { asPath: seqPath(1) });
    expectWinner([e, i], e, 'peer-type');
    const x = mkPath(agent('compute-1', '10.0.0.11'));
    const i2 = mkPath(ibgp('10.0.0.1'));
    expectWinner([x, i2], x, 'peer-type');
  });

  it('source-kind: local over XMPP over eBGP when all else ties', () => {
    const l = mkPath(local('static'));
    const x = mkPath(agent('compute-1', '0.0.0.1'));
    const e = mkPath(ebgp('0.0.0.0', 1));
    expectWinner([l, x, e], l, 'source-kind');
    expectWinner([x, e], x, 'source-kind');
  });

  it('router-id: lowest numerically (10.0.0.2 < 10.0.0.10), ORIGINATOR_ID standing in for it', () => {
    const r2 = mkPath(ibgp('10.9.0.1', { routerId: '10.0.0.2' }));
    const r10 = mkPath(ibgp('10.1.0.1', { routerId: '10.0.0.10' }));
    expectWinner([r2, r10], r2, 'router-id');
    const reflected = mkPath(ibgp('10.9.0.2', { routerId: '9.9.9.9' }), { originatorId: '1.1.1.1', clusterList: ['1.0.0.1'] });
    expectWinner([r2, reflected], reflected, 'router-id');
  });

  it('cluster-list: shorter wins when the originator is the same', () => {
    const short = mkPath(ibgp('10.0.0.9', { routerId: '10.0.0.9' }), { originatorId: '1.1.1.1', clusterList: ['2.2.2.2'] });
    const long = mkPath(ibgp('10.0.0.1', { routerId: '10.0.0.1' }), {
      originatorId: '1.1.1.1',
      clusterList: ['3.3.3.3', '2.2.2.2'],
    });
    expectWinner([short, long], short, 'cluster-list');
  });

  it('peer-address: lowest numerically when router id and cluster list tie', () => {
    const p9 = mkPath(ibgp('10.0.0.9', { routerId: '1.1.1.1' }));
    const p10 = mkPath(ibgp('10.0.0.10', { routerId: '1.1.1.1' }));
    expectWinner([p9, p10], p9, 'peer-address');
    const v4 = mkPath(ibgp('192.0.2.1', { routerId: '1.1.1.1' }));
    const v6 = mkPath(ibgp('2001:db8::1', { routerId: '1.1.1.1' }));
    expectWinner([v4, v6], v4, 'peer-address');
  });

  it('path-id: the lowest ADD-PATH id of one peer', () => {
    const src = ibgp('10.0.0.1');
    const id2 = mkPath(src, {}, { pathId: 2 });
    const id1 = mkPath(src, {}, { pathId: 1 });
    expectWinner([id2, id1], id1, 'path-id');
  });
});

describe('ECMP', () => {
  const mk = (peer: string, attrs = {}) => mkPath(ebgp(peer, 7), { asPath: seqPath(7, 9), med: 0, ...attrs });

  it('holds the paths equal through the eBGP/iBGP step, best first, then by tie-breakers, capped at maxPaths', () => {
    const a = mk('10.0.0.3');
    const b = mk('10.0.0.1');
    const c = mk('10.0.0.2');
    const worseMed = mk('10.0.0.0', { med: 5 });
    const ib = mkPath(ibgp('10.0.0.0'), { asPath: seqPath(7, 9), med: 0 });
    const longer = mk('10.0.0.0', { asPath: seqPath(7, 8, 9) });
    for (const order of permutations([a, b, c, worseMed, ib])) {
      const s = sel([...order, longer], { maxPaths: 8 });
      expect(s.ecmp).toEqual([b, c, a]);
      expect(s.best).toBe(b);
      expect(s.decidedBy).toBe('router-id');
    }
    expect(sel([a, b, c], { maxPaths: 2 }).ecmp).toEqual([b, c]);
    expect(sel([a, b, c]).ecmp).toEqual([b]);
  });

  it('groups XMPP paths from several agents (Contrail ECMP) while a local path still wins the best slot', () => {
    const x1 = mkPath(agent('compute-2', '10.0.0.12'));
    const x2 = mkPath(agent('compute-1', '10.0.0.11'));
    const s = sel([x1, x2], { maxPaths: 4 });
    expect(s.ecmp).toEqual([x2, x1]);
    const l = mkPath(local('static'));
    expect(sel([x1, x2, l], { maxPaths: 4 }).ecmp).toEqual([l, x2, x1]);
  });
});
