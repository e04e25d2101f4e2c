import { describe, expect, it } from 'vitest';
import { agentPathAttrs } from '../../../src/control/agent-path.js';
import { parseControlModel } from '../../../src/control/config-model.js';
import { originVnCommunity, originVnOfAttrs, originVnPathOf, originVnPathTlv } from '../../../src/control/origin-vn.js';
import type { AgentRoute } from '../../../src/control/route-hub.js';
import { ServiceChains, isServiceChainPath, serviceChainRd, serviceChainSpecs, type ServiceChainHost, type ServiceChainSpec } from '../../../src/control/service-chain.js';
import { AttrStore, bgpSource, localSource, xmppSource, type Path, type PathInput } from '../../../src/rib/path.js';
import { parseRouteTarget, routeTargets } from '../../../src/rib/route-target.js';
import { Table, type RouteChange } from '../../../src/rib/table.js';

const ASN = 64512;
const L = 'default-domain:p:left';
const R = 'default-domain:p:right';
const X = 'default-domain:p:other';
const SI = 'default-domain:p:fw';

function model(rules: string, extraPorts = ''): ReturnType<typeof parseControlModel> {
  return parseControlModel(`
global: { router-id: 10.0.0.1 }
projects: [{ name: default-domain:p }]
vrouters: [{ name: c1, address: 10.0.0.11 }]
virtual-networks:
  - { name: ${L}, id: 1, subnets: [{ prefix: 10.10.10.0/24 }] }
  - { name: ${R}, id: 2, subnets: [{ prefix: 20.20.20.0/24 }] }
  - { name: ${X}, id: 3, subnets: [{ prefix: 30.30.30.0/24 }] }
ports:
  - { name: default-domain:p:fw-left, network: ${L}, mac: "02:00:00:00:00:01", ips: [10.10.10.2], vrouter: c1 }
  - { name: default-domain:p:fw-right, network: ${R}, mac: "02:00:00:00:00:02", ips: [20.20.20.2], vrouter: c1 }
  - { name: default-domain:p:bare, network: ${R}, mac: "02:00:00:00:00:03", vrouter: c1 }
${extraPorts}
service-instances:
  - { name: ${SI}, left-port: default-domain:p:fw-left, right-port: default-domain:p:fw-right }
  - { name: default-domain:p:noaddr, left-port: default-domain:p:fw-left, right-port: default-domain:p:bare }
network-policies:
  - name: default-domain:p:pol
    rules:
${rules}
`);
}

const brief = (s: ServiceChainSpec) => `${s.serviceInstance.split(':')[2]} ${s.farNetwork.split(':')[2]}->${s.network.split(':')[2]} via ${s.address}`;

describe('serviceChainSpecs', () => {
  it('a <> rule chains both ways, each side behind the service port in its own network', () => {
    const m = model(`      - { source-network: ${L}, destination-network: ${R}, service-instance: ${SI} }`);
    expect(serviceChainSpecs(m).map(brief)).toEqual(['fw right->left via 10.10.10.2', 'fw left->right via 20.20.20.2']);
  });

  it('a > rule chains the destination into the source only (Contrail adds the far side for <> only)', () => {
    const m = model(`      - { direction: '>', source-network: ${L}, destination-network: ${R}, service-instance: ${SI} }`);
    expect(serviceChainSpecs(m).map(brief)).toEqual(['fw right->left via 10.10.10.2']);
  });

  it('picks the near port by network, so a rule written right to left works too', () => {
    const m = model(`      - { direction: '>', source-network: ${R}, destination-network: ${L}, service-instance: ${SI} }`);
    expect(serviceChainSpecs(m).map(brief)).toEqual(['fw left->right via 20.20.20.2']);
  });

  it('chains nothing for deny rules, rules without a service, services not between the two networks, ports without an address', () => {
    const m = model(
      [
        `      - { action: deny, source-network: ${L}, destination-network: ${R}, service-instance: ${SI} }`,
        `      - { source-network: ${L}, destination-network: ${R} }`,
        `      - { source-network: ${L}, destination-network: ${X}, service-instance: ${SI} }`,
        `      - { direction: '>', source-network: ${R}, destination-network: ${L}, service-instance: default-domain:p:noaddr }`,
      ].join('\n'),
    );
    expect(serviceChainSpecs(m)).toEqual([]);
  });

  it('two rules asking for the same chain make it once', () => {
    const m = model(
      [`      - { source-network: ${L}, destination-network: ${R}, service-instance: ${SI} }`, `      - { source-network: ${R}, destination-network: ${L}, service-instance: ${SI} }`].join('\n'),
    );
    expect(serviceChainSpecs(m)).toHaveLength(2);
  });
});

/* ---------- the chains on plain tables ---------- */

const store = new AttrStore();
const cent1 = xmppSource('cent1', '10.0.0.11');
const cent2 = xmppSource('cent2', '10.0.0.12');
const RT = { L: parseRouteTarget('target:64512:8000001'), R: parseRouteTarget('target:64512:8000002'), X: parseRouteTarget('target:64512:8000003') };

function agentRoute(prefix: string, nextHop: string, label: number, sg: number[] = []): AgentRoute {
  return {
    prefix,
    nextHop,
    label,
    encapsulations: ['gre', 'udp'],
    mac: '',
    tags: [],
    localPreference: 200,
    med: 0,
    securityGroups: sg,
    communityTags: [],
    sequenceNumber: 0,
    sticky: false,
    loadBalance: { fields: [], decision: 'field-hash' },
    subProtocol: 'interface',
  };
}

function agentPath(source: typeof cent1, prefix: string, label: number, sg: number[] = []): PathInput {
  return { source, attrs: agentPathAttrs(store, agentRoute(prefix, source.address, label, sg)), labels: [label] };
}

class World implements ServiceChainHost {
  readonly store = store;
  readonly tables = new Map([L, R, X].map((n, i) => [n, { table: new Table(`${n}.inet.0`, { maxPaths: 16 }), index: i + 1 }]));
  readonly chains = new ServiceChains(this);
  asn(): number {
    return ASN;
  }
  instanceOf(network: string) {
    const t = this.tables.get(network);
    return t ? { table: t.table.name, index: t.index } : undefined;
  }
  table(name: string): Table | undefined {
    return [...this.tables.values()].find((t) => t.table.name === name)?.table;
  }
  vnIndexOfTable(name: string): number | undefined {
    return [...this.tables.values()].find((t) => t.table.name === name)?.index;
  }
  vnIndexOfTargets(rts: readonly bigint[]): number {
    const ix = rts.map((rt) => (rt === RT.L ? 1 : rt === RT.R ? 2 : rt === RT.X ? 3 : 0)).filter((i) => i !== 0);
    return new Set(ix).size === 1 ? ix[0]! : 0;
  }
  rdOf(p: Path, table: string): string | undefined {
    if (isServiceChainPath(p)) return serviceChainRd(p);
    if (p.source.kind === 'xmpp') return `${p.attrs.nextHop}:${this.vnIndexOfTable(p.primary?.table ?? table)}`;
    return undefined;
  }
  t(network: string): Table {
    return this.tables.get(network)!.table;
  }
  /** A table operation, followed through the chains until nothing moves (as RoutingInstances does). */
  run(changes: readonly RouteChange[]): RouteChange[] {
    const all: RouteChange[] = [];
    let next = this.chains.process(changes);
    for (let i = 0; next.length > 0; i++) {
      if (i > 10) throw new Error('no convergence');
      all.push(...next);
      next = this.chains.process(next);
    }
    return all;
  }
  /** prefix -> `next hop/label` of each path from a service chain. */
  chained(network: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const d of this.t(network).destinations()) {
      const hops = d.paths.filter(isServiceChainPath).map((p) => `${p.attrs.nextHop}/${p.labels?.join()}`);
      if (hops.length) out[d.key] = hops;
    }
    return out;
  }
}

const spec = (network: string, address: string, farNetwork: string): ServiceChainSpec => ({ serviceInstance: SI, network, port: 'p', address, farNetwork });
const BOTH = [spec(L, '10.10.10.2', R), spec(R, '20.20.20.2', L)];

/** The lab: fw's left interface 10.10.10.2 and right 20.20.20.2 on cent1; a pod on each side. */
function lab(): World {
  const w = new World();
  w.chains.apply(BOTH);
  w.run(w.t(L).add('10.10.10.2/32', agentPath(cent1, '10.10.10.2/32', 42)));
  w.run(w.t(R).add('20.20.20.2/32', agentPath(cent1, '20.20.20.2/32', 43)));
  w.run(w.t(L).add('10.10.10.1/32', agentPath(cent1, '10.10.10.1/32', 41, [8000001])));
  w.run(w.t(R).add('20.20.20.1/32', agentPath(cent2, '20.20.20.1/32', 51, [8000005])));
  return w;
}

describe('ServiceChains', () => {
  it('puts each side behind the service interface facing it, and nothing back into its own side', () => {
    const w = lab();
    expect(w.chained(L)).toEqual({ '20.20.20.1/32': ['10.0.0.11/42'], '20.20.20.2/32': ['10.0.0.11/42'] });
    expect(w.chained(R)).toEqual({ '10.10.10.1/32': ['10.0.0.11/43'], '10.10.10.2/32': ['10.0.0.11/43'] });
    expect(w.chains.views().map((v) => [v.network, v.connected, v.prefixes])).toEqual([
      [L, true, ['20.20.20.1/32', '20.20.20.2/32']],
      [R, true, ['10.10.10.1/32', '10.10.10.2/32']],
    ]);
  });

  it('gives the path the interface\'s forwarding and the far route\'s identity', () => {
    const w = lab();
    const p = w.t(L).get('20.20.20.1/32')!.best!;
    expect(p.source).toEqual(localSource(`service-chain:${SI}`));
    expect(p.pathId).toBe(0x0a00000b); // the connected next hop, as Contrail's path id
    expect(p.attrs.nextHop).toBe('10.0.0.11');
    expect(p.labels).toEqual([42]);
    expect(p.attrs.localPref).toBe(200);
    expect(p.attrs.asPath).toEqual([]);
    expect(originVnOfAttrs(p.attrs)).toBe(2);
    expect(p.attrs.extCommunities).toEqual([originVnCommunity(ASN, 2)]);
    expect(p.attrs.communities).toEqual([0xffff0008]);
    expect(originVnPathOf(p.attrs)).toEqual([originVnCommunity(ASN, 2)]);
    const agent = p.attrs.extra['agent'] as unknown as { encapsulations: string[]; securityGroups: number[] };
    expect(agent.encapsulations).toEqual(['gre', 'udp']);
    expect(agent.securityGroups).toEqual([8000005]); // the far pod's SG, not the interface's
    expect(serviceChainRd(p)).toBe('10.0.0.11:1');
  });

  it('one path per compute node hosting the service (ECMP connected route)', () => {
    const w = lab();
    w.run(w.t(L).add('10.10.10.2/32', agentPath(cent2, '10.10.10.2/32', 62)));
    expect(w.chained(L)['20.20.20.1/32']?.sort()).toEqual(['10.0.0.11/42', '10.0.0.12/62']);
    expect(w.t(L).get('20.20.20.1/32')!.ecmp).toHaveLength(2);
    w.run(w.t(L).withdraw('10.10.10.2/32', { source: cent1 }));
    expect(w.chained(L)['20.20.20.1/32']).toEqual(['10.0.0.12/62']);
  });

  it('chains only the far network\'s own routes: not leaked ones, not no-advertise ones', () => {
    const w = lab();
    // A route of the third network imported into the right VRF (secondary of its VRF path).
    const xPath = agentPath(cent2, '30.30.30.1/32', 71);
    w.t(X).add('30.30.30.1/32', xPath);
    w.run(w.t(R).add('30.30.30.1/32', { ...xPath, primary: { table: w.t(X).name, key: '30.30.30.1/32' } }));
    // From bgp.l3vpn.0: a gateway route with the right network's RT is the right network's...
    const gw = bgpSource({ peer: '192.0.2.1', routerId: '192.0.2.1', asn: ASN, session: 'ibgp', rrClient: false });
    const vpn = (prefix: string, rts: bigint[], communities: number[] = []) => ({
      source: gw,
      primary: { table: 'bgp.l3vpn.0', key: `192.0.2.1:1:${prefix}` },
      attrs: store.intern({ nextHop: '192.0.2.1', extCommunities: rts, communities }),
      labels: [16],
    });
    w.run(w.t(R).add('0.0.0.0/0', vpn('0.0.0.0/0', [RT.R])));
    // ...one naming two networks is nobody's, and no-advertise is kept home.
    w.run(w.t(R).add('198.51.100.0/24', vpn('198.51.100.0/24', [RT.R, RT.X])));
    w.run(w.t(R).add('203.0.113.0/24', vpn('203.0.113.0/24', [RT.R], [0xffffff02])));
    // An explicit OriginVN of another network wins over the table.
    w.run(w.t(R).add('20.20.20.9/32', { source: cent2, attrs: store.with(agentPathAttrs(store, agentRoute('20.20.20.9/32', '10.0.0.12', 52)), { extCommunities: [originVnCommunity(ASN, 3)] }), labels: [52] }));
    expect(Object.keys(w.chained(L)).sort()).toEqual(['0.0.0.0/0', '20.20.20.1/32', '20.20.20.2/32']);
    const gwChained = w.t(L).get('0.0.0.0/0')!.best!;
    expect(routeTargets(gwChained.attrs.extCommunities)).toEqual([]); // RTs stripped: the VRF adds its own on export
  });

  it('follows the far route: a pod going away takes its chained copy with it', () => {
    const w = lab();
    const gone = w.run(w.t(R).withdraw('20.20.20.1/32', { source: cent2 }));
    expect(gone.some((c) => c.table === w.t(L).name && c.key === '20.20.20.1/32' && c.best === undefined)).toBe(true);
    expect(Object.keys(w.chained(L))).toEqual(['20.20.20.2/32']);
  });

  it('the interface going away withdraws its side only; a chain removed withdraws all it made', () => {
    const w = lab();
    w.run(w.t(L).withdraw('10.10.10.2/32', { source: cent1 }));
    expect(w.chained(L)).toEqual({});
    // 10.10.10.2 left the left VRF, so the right side loses that copy, keeps the pod's.
    expect(w.chained(R)).toEqual({ '10.10.10.1/32': ['10.0.0.11/43'] });
    expect(w.chains.views()[0]!.connected).toBe(false);
    w.run(w.chains.apply([]));
    expect(w.chained(R)).toEqual({});
    expect(w.t(R).get('10.10.10.1/32')).toBeUndefined();
  });

  it('a path the interface has no agent path for (only a local one) does not make the chain', () => {
    const w = new World();
    w.chains.apply([BOTH[0]!]);
    w.run(w.t(L).add('10.10.10.2/32', { source: localSource('static'), attrs: store.intern({ nextHop: '10.0.0.11' }), labels: [42] }));
    w.run(w.t(R).add('20.20.20.1/32', agentPath(cent2, '20.20.20.1/32', 51)));
    expect(w.chained(L)).toEqual({});
  });

  it('a route already carried through the near network is not chained back (OriginVnPath)', () => {
    const w = new World();
    w.chains.apply([BOTH[0]!]);
    w.run(w.t(L).add('10.10.10.2/32', agentPath(cent1, '10.10.10.2/32', 42)));
    const base = agentPathAttrs(store, agentRoute('20.20.20.7/32', '10.0.0.12', 57));
    const through = store.with(base, { extra: { ...base.extra, 'attr:243': originVnPathTlv([originVnCommunity(ASN, 1)]) } });
    w.run(w.t(R).add('20.20.20.7/32', { source: cent2, attrs: through, labels: [57] }));
    w.run(w.t(R).add('20.20.20.1/32', agentPath(cent2, '20.20.20.1/32', 51)));
    expect(Object.keys(w.chained(L))).toEqual(['20.20.20.1/32']);
  });
});

describe('OriginVnPath', () => {
  it('round-trips its communities, with the extended length past 255 bytes', () => {
    for (const n of [0, 1, 31, 32, 40]) {
      const list = Array.from({ length: n }, (_, i) => originVnCommunity(n > 31 ? 4_200_000_000 : ASN, i + 1));
      const attrs = store.intern({ nextHop: '10.0.0.1', extra: { 'attr:243': originVnPathTlv(list) } });
      expect(originVnPathOf(attrs)).toEqual(list);
    }
  });
});
