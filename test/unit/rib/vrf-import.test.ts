import { describe, expect, it } from 'vitest';
import { parseRouteTarget as rt } from '../../../src/rib/route-target.js';
import { routeTargetsOf } from '../../../src/rib/path.js';
import type { Path } from '../../../src/rib/path.js';
import { Table } from '../../../src/rib/table.js';
import type { RouteChange } from '../../../src/rib/table.js';
import { VrfReplicator, splitVpnKey, vpnKey } from '../../../src/rib/vrf-import.js';
import { agent, ibgp, store } from './fixtures.js';

const BLUE = rt('target:64512:8000001');
const RED = rt('target:64512:8000002');

function setup() {
  const vpn = new Table('bgp.l3vpn.0');
  const blue = new Table('blue', { maxPaths: 4 });
  const red = new Table('red', { maxPaths: 4 });
  const rep = new VrfReplicator(vpn, store);
  rep.addVrf(blue, { importTargets: [BLUE], exportTargets: [BLUE], rd: '10.0.0.100:1' });
  rep.addVrf(red, { importTargets: [RED], exportTargets: [RED], rd: '10.0.0.100:2' });
  return { vpn, blue, red, rep };
}

const rts = (p: Path | undefined) => routeTargetsOf(p!.attrs).map(String);
const keysIn = (changes: RouteChange[], table: string) => changes.filter((c) => c.table === table).map((c) => c.key);

describe('VPN keys', () => {
  it('keeps the RD in front and splits after its second colon', () => {
    expect(vpnKey('64512:7', '10.2.0.0/16')).toBe('64512:7:10.2.0.0/16');
    expect(splitVpnKey('10.0.0.11:3:10.1.1.0/24')).toEqual({ rd: '10.0.0.11:3', prefix: '10.1.1.0/24' });
    expect(splitVpnKey('64512:1:2001:db8::/32')).toEqual({ rd: '64512:1', prefix: '2001:db8::/32' });
    expect(splitVpnKey('10.1.1.0/24')).toBeUndefined();
  });
});

describe('VrfReplicator', () => {
  const x1 = agent('compute-1', '10.0.0.11');
  const gw = ibgp('10.0.0.1');

  it('exports a VRF path to bgp.l3vpn.0 under RD:prefix with the export RTs appended', () => {
    const { vpn, blue, red, rep } = setup();
    const attrs = store.intern({ nextHop: '10.0.0.11', extCommunities: [0x030c00000000000dn] }); // MPLSoUDP encap
    const out = rep.process(blue.add('10.1.1.3/32', { source: x1, attrs, labels: [25] }));
    expect(keysIn(out, 'bgp.l3vpn.0')).toEqual(['10.0.0.100:1:10.1.1.3/32']);
    const p = vpn.get('10.0.0.100:1:10.1.1.3/32')!.best!;
    expect(p.source).toBe(x1);
    expect(p.primary).toEqual({ table: 'blue', key: '10.1.1.3/32' });
    expect(p.labels).toEqual([25]);
    expect(p.attrs.extCommunities).toEqual([0x030c00000000000dn, BLUE]);
    expect(red.size).toBe(0);
  });

  it('uses a source RD when the option gives one (Contrail: agent next hop : instance id)', () => {
    const vpn = new Table('bgp.l3vpn.0');
    const blue = new Table('blue');
    const rep = new VrfReplicator(vpn, store, {
      sourceRd: (p) => (p.source.kind === 'xmpp' ? `${p.attrs.nextHop}:3` : undefined),
    });
    rep.addVrf(blue, { importTargets: [BLUE], exportTargets: [BLUE], rd: '10.0.0.100:1' });
    rep.process(blue.add('10.1.1.3/32', { source: x1, attrs: store.intern({ nextHop: '10.0.0.11' }) }));
    expect([...vpn.destinations()].map((d) => d.key)).toEqual(['10.0.0.11:3:10.1.1.3/32']);
  });

  it('imports VPN paths into the VRFs whose import RTs they carry, one path per RD', () => {
    const { vpn, blue, red, rep } = setup();
    const blueOnly = store.intern({ nextHop: '192.0.2.1', extCommunities: [BLUE] });
    let out = rep.process(vpn.add('64512:7:10.2.0.0/16', { source: gw, attrs: blueOnly, labels: [100] }));
    expect(keysIn(out, 'blue')).toEqual(['10.2.0.0/16']);
    expect(red.size).toBe(0);
    const imported = blue.get('10.2.0.0/16')!.best!;
    expect(imported.primary).toEqual({ table: 'bgp.l3vpn.0', key: '64512:7:10.2.0.0/16' });
    expect(imported.labels).toEqual([100]);

    // The same prefix under a second RD is a second path, not a replacement.
    rep.process(vpn.add('64512:8:10.2.0.0/16', { source: gw, attrs: blueOnly, labels: [101] }));
    expect(blue.get('10.2.0.0/16')!.paths.map((p) => p.labels![0]).sort()).toEqual([100, 101]);

    // Adding the red RT pulls it into red too; withdrawing takes it out of both.
    const both = store.intern({ nextHop: '192.0.2.1', extCommunities: [BLUE, RED] });
    out = rep.process(vpn.add('64512:7:10.2.0.0/16', { source: gw, attrs: both, labels: [100] }));
    expect(keysIn(out, 'red')).toEqual(['10.2.0.0/16']);
    out = rep.process(vpn.withdraw('64512:7:10.2.0.0/16', { source: gw }));
    expect(keysIn(out, 'red')).toEqual(['10.2.0.0/16']);
    expect(red.size).toBe(0);
    expect(blue.get('10.2.0.0/16')!.paths.map((p) => p.labels![0])).toEqual([101]);
  });

  it('replicates VRF to VRF directly, and never re-replicates a secondary path', () => {
    const { vpn, blue, red, rep } = setup();
    rep.updateVrf('red', { importTargets: [RED, BLUE], exportTargets: [RED], rd: '10.0.0.100:2' });
    rep.process(blue.add('10.1.1.3/32', { source: x1, attrs: store.intern({ nextHop: '10.0.0.11' }) }));
    const inRed = red.get('10.1.1.3/32')!.best!;
    expect(inRed.primary).toEqual({ table: 'blue', key: '10.1.1.3/32' });
    expect(rts(inRed)).toEqual([String(BLUE)]); // red's export RT is not added to a path it imported
    expect(vpn.size).toBe(1); // exported once, by blue

    // Config change: red stops importing blue -> the copy goes, nothing else moves.
    const out = rep.updateVrf('red', { importTargets: [RED], exportTargets: [RED], rd: '10.0.0.100:2' });
    expect(out.map((c) => [c.table, c.key])).toEqual([['red', '10.1.1.3/32']]);
    expect(red.size).toBe(0);
  });

  it('replicates only best/ECMP primaries: a better imported path stops the local one being exported', () => {
    const { vpn, blue, rep } = setup();
    rep.process(blue.add('10.3.0.0/24', { source: x1, attrs: store.intern({ nextHop: '10.0.0.11', localPref: 100 }) }));
    expect(vpn.get('10.0.0.100:1:10.3.0.0/24')).toBeDefined();

    const better = store.intern({ nextHop: '192.0.2.1', localPref: 200, extCommunities: [BLUE] });
    const out = rep.process(vpn.add('64512:7:10.3.0.0/24', { source: gw, attrs: better }));
    expect(blue.get('10.3.0.0/24')!.best!.source).toBe(gw);
    expect(vpn.get('10.0.0.100:1:10.3.0.0/24')).toBeUndefined();
    expect(out.find((c) => c.key === '10.0.0.100:1:10.3.0.0/24')!.best).toBeUndefined();

    // And back when the better path goes.
    rep.process(vpn.withdraw('64512:7:10.3.0.0/24', { source: gw }));
    expect(vpn.get('10.0.0.100:1:10.3.0.0/24')!.best!.source).toBe(x1);
  });

  it('exports every ECMP primary of a VRF destination', () => {
    const { vpn, blue, rep } = setup();
    const x2 = agent('compute-2', '10.0.0.12');
    rep.process(blue.add('10.1.1.5/32', { source: x1, attrs: store.intern({ nextHop: '10.0.0.11' }) }));
    rep.process(blue.add('10.1.1.5/32', { source: x2, attrs: store.intern({ nextHop: '10.0.0.12' }) }));
    expect(vpn.get('10.0.0.100:1:10.1.1.5/32')!.paths.map((p) => p.source)).toEqual([x1, x2]);
    rep.process(blue.withdrawAll(x1));
    expect(vpn.get('10.0.0.100:1:10.1.1.5/32')!.paths.map((p) => p.source)).toEqual([x2]);
  });

  it('removing a VRF withdraws its exports and its imports', () => {
    const { vpn, blue, red, rep } = setup();
    rep.process(blue.add('10.1.1.3/32', { source: x1, attrs: store.intern({ nextHop: '10.0.0.11' }) }));
    rep.process(vpn.add('64512:7:10.2.0.0/16', { source: gw, attrs: store.intern({ nextHop: '192.0.2.1', extCommunities: [BLUE] }) }));
    expect(blue.size).toBe(2);
    const out = rep.removeVrf('blue');
    expect(out.map((c) => [c.table, c.key])).toEqual([['bgp.l3vpn.0', '10.0.0.100:1:10.1.1.3/32']]);
    expect([...vpn.destinations()].map((d) => d.key)).toEqual(['64512:7:10.2.0.0/16']);
    expect([...blue.destinations()].map((d) => d.key)).toEqual(['10.1.1.3/32']); // primaries only
    expect(red.size).toBe(0);
    expect(rep.table('blue')).toBeUndefined();
  });
});
