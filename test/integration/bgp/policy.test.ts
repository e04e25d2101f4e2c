/**
 * Per-neighbour policies on a weft route reflector with three weft clients on loopback: once
 * with hooks written in code, once from a YAML config through toSpeakerConfig; both must
 * behave the same.
 *   c1 import: reject RT X (target:64512:666)
 *   c2 import: RT Z (target:64512:300) gets LOCAL_PREF 300
 *   c3 export: only RT Y (target:64512:100), next hop self
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VpnNlri } from '../../../codecs/bgp/nlri.js';
import { compileImportRules, type ImportPolicy } from '../../../src/bgp/policy.js';
import { Speaker, type SpeakerConfig } from '../../../src/bgp/speaker.js';
import { bgpConfigSchema, toSpeakerConfig } from '../../../src/config/bgp-speaker.js';
import { parseConfigText } from '../../../src/config/index.js';
import { routeTargetsOf } from '../../../src/rib/path.js';
import { parseRouteTarget } from '../../../src/rib/route-target.js';

const AS = 64512;
const X = 'target:64512:666';
const Y = 'target:64512:100';
const Z = 'target:64512:300';
const W = 'target:64512:400';

async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function vpn(rd: number, prefix: string, label: number): VpnNlri {
  return { kind: 'vpn', rd: { type: 0, admin: AS, assigned: rd }, prefix, labels: [{ value: label, tc: 0, bottom: true }] };
}

const key = (rd: number, prefix: string) => `${AS}:${rd}:${prefix}`;

interface Addresses {
  rr: string;
  c1: string;
  c2: string;
  c3: string;
}

/** The policies as hooks written by hand (what the control node would hand the speaker). */
function codeConfig(a: Addresses): SpeakerConfig {
  const x = parseRouteTarget(X);
  const rejectX: ImportPolicy = (attrs) => (routeTargetsOf(attrs).includes(x) ? 'reject' : 'accept');
  return {
    localAs: AS,
    routerId: a.rr,
    clusterId: '10.255.1.1',
    listen: { address: a.rr, port: 0 },
    families: ['vpnv4'],
    neighbors: [
      { address: a.c1, remoteAs: AS, passive: true, rrClient: true, importPolicy: rejectX },
      { address: a.c2, remoteAs: AS, passive: true, rrClient: true, importPolicy: compileImportRules([{ routeTargets: [Z], action: 'accept', localPref: 300 }]) },
      { address: a.c3, remoteAs: AS, passive: true, rrClient: true, exportPolicy: { routeTargets: [Y], nextHopSelf: true } },
    ],
  };
}

function yamlConfig(a: Addresses): SpeakerConfig {
  const c = parseConfigText(
    `global: {local-as: ${AS}, router-id: ${a.rr}, cluster-id: 10.255.1.1, listen: {address: ${a.rr}, port: 0}, families: [vpnv4]}
neighbors:
  - {address: ${a.c1}, remote-as: ${AS}, passive: true, route-reflector-client: true, policy: no-x}
  - {address: ${a.c2}, remote-as: ${AS}, passive: true, route-reflector-client: true, policy: prefer-z}
  - {address: ${a.c3}, remote-as: ${AS}, passive: true, route-reflector-client: true, policy: only-y}
policies:
  no-x:
    import:
      - {route-targets: ["${X}"], action: reject}
  prefer-z:
    import:
      - {route-targets: ["${Z}"], local-pref: 300}
  only-y:
    export: {route-targets: ["${Y}"], next-hop-self: true}
`,
    bgpConfigSchema,
  );
  return toSpeakerConfig(c);
}

function scenario(name: string, a: Addresses, config: (a: Addresses) => SpeakerConfig): void {
  describe(name, () => {
    let rr: Speaker;
    let c1: Speaker;
    let c2: Speaker;
    let c3: Speaker;
    const paths = (s: Speaker, k: string) => s.rib('vpnv4').find((r) => r.key === k)?.paths;

    beforeAll(async () => {
      rr = new Speaker(config(a));
      await rr.start();
      const port = rr.listenPort!;
      const client = (id: string) =>
        new Speaker({ localAs: AS, routerId: id, listen: false, families: ['vpnv4'], neighbors: [{ address: a.rr, port, remoteAs: AS, localAddress: id, connectRetry: 1 }] });
      c1 = client(a.c1);
      c2 = client(a.c2);
      c3 = client(a.c3);
      await Promise.all([c1.start(), c2.start(), c3.start()]);
      await waitFor('three sessions Established', () => rr.neighborsSnapshot().every((n) => n.state === 'Established'));
    });

    afterAll(async () => {
      await c1?.stop();
      await c2?.stop();
      await c3?.stop();
      await rr?.stop();
    });

    it('import: rejects RT X from c1 (kept out of the Loc-RIB and from the other peers, still in its Adj-RIB-In), passes RT Y', async () => {
      c1.originate('vpnv4', vpn(1, '10.1.0.0/16', 101), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(X)] });
      c1.originate('vpnv4', vpn(1, '10.2.0.0/16', 102), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(Y)] });
      await waitFor('RT Y route at c2', () => paths(c2, key(1, '10.2.0.0/16')));
      await waitFor('RT Y route at c3', () => paths(c3, key(1, '10.2.0.0/16')));
      const rejected = await waitFor('RT X route rejected at the RR', () => rr.adjRibIn(a.c1, 'vpnv4').find((r) => r.key === key(1, '10.1.0.0/16')));
      expect(rejected.paths).toEqual([expect.objectContaining({ source: a.c1, best: false, rejected: true, labels: [101] })]);
      expect(rejected.paths[0]!.attributes.extCommunities).toEqual([X]);
      expect(paths(rr, key(1, '10.1.0.0/16'))).toBeUndefined();
      expect(paths(rr, key(1, '10.2.0.0/16'))?.[0]?.source).toBe(a.c1);
      expect(paths(c2, key(1, '10.1.0.0/16'))).toBeUndefined();
      expect(paths(c3, key(1, '10.1.0.0/16'))).toBeUndefined();
      expect(rr.adjRibOut(a.c2, 'vpnv4').map((r) => r.key)).toEqual([key(1, '10.2.0.0/16')]);
    });

    it('import: a path re-sent with RT X replaces the accepted one (withdrawn everywhere), and back', async () => {
      c1.originate('vpnv4', vpn(1, '10.2.0.0/16', 102), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(X)] });
      await waitFor('withdrawn at c2', () => paths(c2, key(1, '10.2.0.0/16')) === undefined);
      expect(paths(rr, key(1, '10.2.0.0/16'))).toBeUndefined();
      expect(rr.adjRibIn(a.c1, 'vpnv4').filter((r) => r.paths[0]!.rejected === true).map((r) => r.key).sort()).toEqual([key(1, '10.1.0.0/16'), key(1, '10.2.0.0/16')]);
      c1.originate('vpnv4', vpn(1, '10.2.0.0/16', 102), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(Y)] });
      await waitFor('back at c2', () => paths(c2, key(1, '10.2.0.0/16')));
      expect(rr.adjRibIn(a.c1, 'vpnv4').filter((r) => r.paths[0]!.rejected === true).map((r) => r.key)).toEqual([key(1, '10.1.0.0/16')]);
      c1.withdrawLocal('vpnv4', vpn(1, '10.1.0.0/16', 101));
      await waitFor('rejected path withdrawn', () => rr.adjRibIn(a.c1, 'vpnv4').every((r) => r.paths[0]!.rejected !== true));
    });

    it('import: local-pref set by policy wins the best path over the lower router id', async () => {
      // Same attributes from c1 and c2: the lower router id (c1) wins. (LOCAL_PREF 100 keeps each
      // client's own path its best, so that both reach the RR.)
      c1.originate('vpnv4', vpn(2, '10.3.0.0/16', 201), { localPref: 100, nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(Y)] });
      c2.originate('vpnv4', vpn(2, '10.3.0.0/16', 202), { localPref: 100, nextHop: '192.0.2.2', extCommunities: [parseRouteTarget(Y)] });
      await waitFor('two paths at the RR', () => paths(rr, key(2, '10.3.0.0/16'))?.length === 2);
      expect(paths(rr, key(2, '10.3.0.0/16'))!.find((p) => p.best)?.source).toBe(a.c1);
      // With RT Z, c2's policy sets LOCAL_PREF 300 and c2's path becomes the best.
      c1.originate('vpnv4', vpn(2, '10.4.0.0/16', 211), { localPref: 100, nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(Y)] });
      c2.originate('vpnv4', vpn(2, '10.4.0.0/16', 212), { localPref: 100, nextHop: '192.0.2.2', extCommunities: [parseRouteTarget(Y), parseRouteTarget(Z)] });
      // c1 then prefers the reflected path (300 over its own 100) and withdraws its own.
      const best = await waitFor('c2 path best at the RR', () => paths(rr, key(2, '10.4.0.0/16'))?.find((p) => p.best && p.source === a.c2));
      expect(best.attributes.localPref).toBe(300);
      expect(rr.adjRibIn(a.c2, 'vpnv4').find((r) => r.key === key(2, '10.4.0.0/16'))?.paths[0]?.attributes.localPref).toBe(300);
      // c1 gets c2's path (the best) with the policy's LOCAL_PREF.
      const atC1 = await waitFor('c2 path at c1', () => paths(c1, key(2, '10.4.0.0/16'))?.find((p) => p.source === a.rr));
      expect(atC1.attributes).toMatchObject({ localPref: 300, nextHop: '192.0.2.2', originatorId: a.c2 });
    });

    it('export: c3 gets only RT Y routes, with the RR as next hop; c2 gets the rest unchanged', async () => {
      c1.originate('vpnv4', vpn(3, '10.5.0.0/16', 301), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(W)] });
      c1.originate('vpnv4', vpn(3, '10.6.0.0/16', 302), { nextHop: '192.0.2.1', extCommunities: [parseRouteTarget(Y)] });
      await waitFor('RT W route at c2', () => paths(c2, key(3, '10.5.0.0/16')));
      const y3 = await waitFor('RT Y route at c3', () => paths(c3, key(3, '10.6.0.0/16')));
      expect(y3[0]!.attributes).toMatchObject({ nextHop: a.rr, originatorId: a.c1, clusterList: ['10.255.1.1'] });
      expect(y3[0]!.labels).toEqual([302]);
      expect(paths(c2, key(3, '10.6.0.0/16'))?.[0]?.attributes.nextHop).toBe('192.0.2.1');
      expect(paths(c2, key(3, '10.5.0.0/16'))?.[0]?.attributes.nextHop).toBe('192.0.2.1');
      expect(paths(c3, key(3, '10.5.0.0/16'))).toBeUndefined();
      expect(rr.adjRibOut(a.c3, 'vpnv4').map((r) => r.key)).not.toContain(key(3, '10.5.0.0/16'));
      expect(rr.adjRibOut(a.c3, 'vpnv4').every((r) => r.attributes.extCommunities.includes(Y) && r.attributes.nextHop === '0.0.0.0')).toBe(true);
      expect(rr.neighborsSnapshot().find((n) => n.address === a.c3)?.prefixesAdvertised.vpnv4).toBe(rr.adjRibOut(a.c3, 'vpnv4').length);
    });
  });
}

scenario('policies as hooks in code', { rr: '127.0.0.101', c1: '127.0.0.102', c2: '127.0.0.103', c3: '127.0.0.104' }, codeConfig);
scenario('policies from YAML through toSpeakerConfig', { rr: '127.0.0.111', c1: '127.0.0.112', c2: '127.0.0.113', c3: '127.0.0.114' }, yamlConfig);
