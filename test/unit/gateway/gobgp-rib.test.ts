/** Reading GoBGP's VPNv4 RIB: import by route target, best/ECMP selection, and RouteSync's change reports (src/gateway). */
import { describe, expect, it } from 'vitest';
import { importedPaths, ribPathsFromText, selectRoutes } from '../../../src/gateway/gobgp-rib.js';
import { RouteSync } from '../../../src/gateway/route-sync.js';
import { GW_LABEL, LOOPBACK, gobgpPath, rib } from './support.js';

describe('gateway: routes from GoBGP', () => {
  const text = rib([
    gobgpPath({ prefix: '203.0.113.2/32', label: 30, rd: '10.169.25.20:5', nh: '10.169.25.20', rts: ['500:500', '64512:8000016'], lp: 200, med: 100 }),
    gobgpPath({ prefix: '203.0.113.3/32', label: 31, rd: '10.169.25.20:6', nh: '10.169.25.20', rts: ['500:500'] }),
    gobgpPath({ prefix: '203.0.113.3/32', label: 41, rd: '10.169.25.21:6', nh: '10.169.25.21', rts: ['500:500'] }),
    // Standby (S7): lower local-pref loses to the 200 path of the same prefix.
    gobgpPath({ prefix: '203.0.113.2/32', label: 50, rd: '10.169.25.21:5', nh: '10.169.25.21', rts: ['500:500'], lp: 100 }),
    // Not imported, not best, and the gateway's own route.
    gobgpPath({ prefix: '10.1.0.0/16', label: 42, rd: '10.169.25.21:7', nh: '10.169.25.21', rts: ['600:600'] }),
    gobgpPath({ prefix: '203.0.113.9/32', label: 43, rd: '10.169.25.21:8', nh: '10.169.25.21', rts: ['500:500'], best: false }),
    gobgpPath({ prefix: '198.51.100.0/24', label: GW_LABEL, rd: '192.168.0.204:1', nh: LOOPBACK, rts: ['500:500'] }),
  ]);

  it('imports by route target, keeps labels and next hops, prefers local-pref and keeps equal paths as ECMP', () => {
    const { paths, skipped } = ribPathsFromText(text);
    expect(skipped).toBe(0);
    const routes = selectRoutes(importedPaths(paths, { importRts: ['target:500:500'], ownRd: '192.168.0.204:1', ownNexthop: LOOPBACK }));
    expect(routes.map((r) => [r.prefix, r.paths.map((p) => `${p.nexthop}/${p.label}`)])).toEqual([
      ['203.0.113.2/32', ['10.169.25.20/30']],
      ['203.0.113.3/32', ['10.169.25.20/31', '10.169.25.21/41']],
    ]);
    expect(routes[0]!.paths[0]).toMatchObject({ rd: '10.169.25.20:5', localPref: 200, med: 100, rts: ['target:500:500', 'target:64512:8000016'] });
  });

  it('skips what is not a labelled VPNv4 path and survives any JSON', () => {
    for (const bad of ['', 'null', 'not json', '[]', '{"x": 1}', '{"x": [null, 1, {"nlri": {}}]}', JSON.stringify({ k: [{ nlri: { prefix: '1.2.3.4/33', labels: [1], rd: { admin: '1.1.1.1', assigned: 1 } }, attrs: [] }] })]) {
      const r = ribPathsFromText(bad);
      expect(r.paths).toEqual([]);
    }
    expect(ribPathsFromText('{"x": [null, 1]}').skipped).toBe(2);
  });

  it('reports a changed table once, and own routes GoBGP lost', () => {
    const own = { prefix: '198.51.100.0/24', label: GW_LABEL, rd: '192.168.0.204:1', rts: ['target:500:500'], nexthop: LOOPBACK, encap: 'mpls-in-gre' as const };
    const s = new RouteSync({ importRts: ['target:500:500'], advertise: [own] });
    const first = s.onRib(text);
    expect(first.routes).toHaveLength(2);
    expect(first.readvertise).toEqual([]);
    expect(s.onRib(text).routes).toBeUndefined();
    const after = s.onRib('null');
    expect(after.routes).toEqual([]);
    expect(after.readvertise).toEqual([own]);
  });
});
