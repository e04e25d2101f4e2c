/**
 * Routing instances: one per virtual network, joined to bgp.l3vpn.0 by route targets.
 *
 *  agents --XMPP--> hub VRF tables --VrfReplicator--> vpn mirror --originate--> Speaker (bgp.l3vpn.0)
 *  Speaker (BGP peers' VPNv4) --onRibChange--> vpn mirror --VrfReplicator--> hub VRF tables --> agents
 *
 * The mirror is this layer's own bgp.l3vpn.0: the replicator works on whole tables it can
 * write, while the speaker's table belongs to the speaker. Agent paths become local
 * originations in the speaker (one per RD:prefix); BGP-learnt paths are copied into the
 * mirror. Paths the speaker holds from this layer are never copied back (they are local).
 *
 * RT membership (rtc-membership.ts) follows the same two inputs, the hub's subscriptions and the
 * instances' import targets, into the speaker's bgp.rtarget.0.
 *
 * Service chains (service-chain.ts) add paths of their own to the VRF tables, following agent,
 * replicated and BGP routes alike; replication then treats them as any VRF route.
 *
 * Dialect notes 11.1 (RDs), 11.2 (export RTs, OriginVN), 12 (communities), 10.1 (items).
 */
import type { Nlri } from '../../codecs/bgp/nlri.js';
import { parseRd } from '../../codecs/bgp/rd.js';
import type { LoadBalance } from '../../codecs/xmpp/index.js';
import type { Speaker } from '../bgp/speaker.js';
import { labelStack } from '../bgp/families.js';
import type { AttrStore, Attrs, ExtraValue, Path } from '../rib/path.js';
import { extCommunity, formatExtCommunity, parseRouteTarget } from '../rib/route-target.js';
import { Table, type RouteChange } from '../rib/table.js';
import { VrfReplicator, splitVpnKey, type VrfConfig } from '../rib/vrf-import.js';
import type { AgentExtra } from './agent-path.js';
import { agentExtraOf } from './agent-path.js';
import { autoRouteTarget, routingInstanceName, type ControlModel } from './config-model.js';
import { isOriginVn, originVnCommunity } from './origin-vn.js';
import type { RouteHub } from './route-hub.js';
import { RtcMemberships, type RtcMembershipView } from './rtc-membership.js';
import { isServiceChainPath, SERVICE_CHAIN_KEY, serviceChainRd, ServiceChains, serviceChainSpecs, type ServiceChainView } from './service-chain.js';

export const VPN_TABLE = 'bgp.l3vpn.0';
const INET_SUFFIX = '.inet.0';

/** Tunnel types of the tunnel-encapsulation community (dialect notes 12). */
const ENCAP_TO_TUNNEL: Readonly<Record<string, number>> = { gre: 11, udp: 13, mpls: 10, native: 16, vxlan: 8 };
const TUNNEL_TO_ENCAP: Readonly<Record<number, string>> = { 2: 'gre', 11: 'gre', 13: 'udp', 10: 'mpls', 16: 'native', 8: 'vxlan' };
const DEFAULT_LOAD_BALANCE: LoadBalance = { fields: [], decision: 'field-hash' };

export function tunnelEncapCommunity(encap: string): bigint | undefined {
  const t = ENCAP_TO_TUNNEL[encap];
  return t === undefined ? undefined : extCommunity(0x03, 0x0c, 0, t);
}

/** Encapsulation names an agent understands, from a path's tunnel-encapsulation communities. */
export function encapsulationsOf(ext: readonly bigint[]): string[] {
  const out: string[] = [];
  for (const c of ext) {
    if (Number(c >> 48n) !== 0x030c) continue;
    const name = TUNNEL_TO_ENCAP[Number(c & 0xffffn)];
    if (name !== undefined && !out.includes(name)) out.push(name);
  }
  return out;
}

export { originVnCommunity } from './origin-vn.js';

export interface RoutingInstanceView {
  name: string;
  virtualNetwork: string;
  index: number;
  rd: string;
  importTargets: string[];
  exportTargets: string[];
}

interface Instance {
  view: RoutingInstanceView;
  config: VrfConfig;
}

export interface RoutingInstancesOptions {
  hub: RouteHub;
  store: AttrStore;
  speaker?: Speaker;
  /** Called after changes were handed to the hub: deliver them to agents soon. */
  scheduleFlush?: () => void;
}

export class RoutingInstances {
  readonly vpn = new Table(VPN_TABLE, { maxPaths: 16 });
  private readonly replicator: VrfReplicator;
  private readonly instances = new Map<string, Instance>();
  /** table name -> instance name. */
  private readonly byTable = new Map<string, string>();
  /** RD:prefix originated into the speaker, with its NLRI (for the withdrawal). */
  private readonly originated = new Map<string, Nlri>();
  /** Export RT -> the VN index of the instances exporting it; -1 when several VNs do. */
  private vnByTarget = new Map<bigint, number>();
  private readonly chains: ServiceChains;
  private readonly rtc: RtcMemberships;
  /** VN index -> network fq name, for the OriginVN of route items. */
  private networkByIndex = new Map<number, string>();
  private asn = 64512;

  constructor(private readonly o: RoutingInstancesOptions) {
    this.replicator = new VrfReplicator(this.vpn, o.store, { sourceRd: (p, vrf) => this.sourceRd(p, vrf) });
    this.chains = new ServiceChains({
      store: o.store,
      asn: () => this.asn,
      instanceOf: (network) => {
        const name = routingInstanceName(network);
        const inst = this.instances.get(name);
        return inst ? { table: name + INET_SUFFIX, index: inst.view.index } : undefined;
      },
      // By name, not by current instance: a chain whose VRF just went still withdraws what it made.
      table: (name) => (name.endsWith(INET_SUFFIX) ? this.o.hub.table(name.slice(0, -INET_SUFFIX.length), 'inet') : undefined),
      vnIndexOfTable: (table) => this.indexOfTable(table),
      vnIndexOfTargets: (rts) => this.vnIndexOfTargets(rts),
      rdOf: (p, table) => this.rdOf(p, table),
    });
    this.rtc = new RtcMemberships({ store: o.store, speaker: o.speaker });
    o.hub.onSubscription((e) => this.rtc.event(e));
    o.hub.onChange((changes) => this.fromHub(changes));
    o.speaker?.onRibChange((family, changes) => {
      if (family === 'vpnv4') this.fromSpeaker(changes);
    });
  }

  /** Brings the instances in line with the model: adds, changes and removes VRFs. */
  apply(m: ControlModel): void {
    this.asn = m.global.asn;
    const want = new Map<string, Instance>();
    const auto = new Map(m.virtualNetworks.map((v) => [v.name, autoRouteTarget(m.global.asn, v.id)]));
    // Network policies: a pass rule between two networks makes each import the other's auto RT.
    const leaks = new Map<string, Set<string>>();
    const leak = (a: string, b: string) => {
      const rt = auto.get(b);
      if (rt === undefined || a === b) return;
      let s = leaks.get(a);
      if (!s) leaks.set(a, (s = new Set()));
      s.add(rt);
    };
    for (const p of m.networkPolicies) {
      for (const r of p.rules) {
        if (r.action !== 'pass' || r.serviceInstance !== undefined) continue;
        leak(r.sourceNetwork, r.destinationNetwork);
        if (r.direction === '<>') leak(r.destinationNetwork, r.sourceNetwork);
      }
    }
    // A service joins its VIP's network and each backend's network both ways: Contrail's
    // default pod/service policy (book ch. 3), so clients in the pod network get the VIP's
    // ECMP route and the service VRF reaches the backends.
    const portNetwork = new Map(m.ports.map((p) => [p.name, p.network]));
    for (const s of m.services) {
      for (const backend of s.backends) {
        const n = portNetwork.get(backend);
        if (n === undefined) continue;
        leak(s.network, n);
        leak(n, s.network);
      }
    }
    for (const vn of m.virtualNetworks) {
      const name = routingInstanceName(vn.name);
      const a = auto.get(vn.name)!;
      const exportTargets = uniq([a, ...vn.routeTargets, ...vn.exportRouteTargets]);
      const importTargets = uniq([a, ...vn.routeTargets, ...vn.importRouteTargets, ...(leaks.get(vn.name) ?? [])]);
      const rd = `${m.global.routerId}:${vn.id}`;
      want.set(name, {
        view: { name, virtualNetwork: vn.name, index: vn.id, rd, importTargets, exportTargets },
        config: { rd, importTargets: importTargets.map(parseRouteTarget), exportTargets: exportTargets.map(parseRouteTarget) },
      });
    }
    const produced: RouteChange[] = [];
    for (const name of [...this.instances.keys()]) {
      if (want.has(name)) continue;
      this.instances.delete(name);
      this.byTable.delete(name + INET_SUFFIX);
      produced.push(...this.replicator.removeVrf(name + INET_SUFFIX));
    }
    for (const [name, inst] of want) {
      const old = this.instances.get(name);
      this.instances.set(name, inst);
      this.byTable.set(name + INET_SUFFIX, name);
      if (!old) produced.push(...this.replicator.addVrf(this.o.hub.table(name, 'inet'), inst.config));
      else if (JSON.stringify(old.view) !== JSON.stringify(inst.view)) produced.push(...this.replicator.updateVrf(name + INET_SUFFIX, inst.config));
    }
    this.networkByIndex = new Map([...want.values()].map((i) => [i.view.index, i.view.virtualNetwork]));
    this.vnByTarget = new Map();
    for (const inst of want.values()) {
      for (const rt of inst.config.exportTargets) {
        const seen = this.vnByTarget.get(rt);
        this.vnByTarget.set(rt, seen === undefined || seen === inst.view.index ? inst.view.index : -1);
      }
    }
    this.rtc.setInstances(m.global.asn, new Map([...want].map(([name, i]) => [name, i.config.importTargets])));
    // Every chain is brought up to date: the model may have moved RTs, and so origin VNs.
    produced.push(...this.settle(this.chains.apply(serviceChainSpecs(m))));
    this.dispatch(produced);
  }

  /** The service chains and what each re-originated (introspection). */
  serviceChains(): ServiceChainView[] {
    return this.chains.views();
  }

  /** The RT membership routes originated for subscribed instances (introspection). */
  rtcMemberships(): RtcMembershipView[] {
    return this.rtc.views();
  }

  list(): RoutingInstanceView[] {
    return [...this.instances.values()].map((i) => i.view);
  }

  get(name: string): RoutingInstanceView | undefined {
    return this.instances.get(name)?.view;
  }

  /** The fq name of the network with this VN index (an OriginVN's), if it has an instance. */
  networkOfIndex(index: number): string | undefined {
    return this.networkByIndex.get(index);
  }

  /** The RD of an agent path in the VPN table: `<next hop>:<instance-id the agent subscribed with>`. */
  private sourceRd(p: Path, vrfTable: string): string | undefined {
    if (isServiceChainPath(p)) return serviceChainRd(p);
    if (p.source.kind !== 'xmpp') return undefined;
    const inst = this.byTable.get(vrfTable);
    const id = inst === undefined ? undefined : this.o.hub.instanceIdOf(p.source.agent, inst);
    return id === undefined ? undefined : `${p.attrs.nextHop}:${id}`;
  }

  /** The RD a VRF path has in bgp.l3vpn.0: its source RD, its VPN primary's, or the instance RD. */
  private rdOf(p: Path, vrfTable: string): string | undefined {
    if (p.primary?.table === VPN_TABLE) return splitVpnKey(p.primary.key)?.rd;
    const home = p.primary?.table ?? vrfTable;
    const inst = this.byTable.get(home);
    return this.sourceRd(p, home) ?? (inst === undefined ? undefined : this.instances.get(inst)?.view.rd);
  }

  private indexOfTable(table: string): number | undefined {
    const inst = this.byTable.get(table);
    return inst === undefined ? undefined : this.instances.get(inst)?.view.index;
  }

  /** Contrail's GetVnIndexByExtCommunity: the one VN the RTs name, 0 when none or several. */
  private vnIndexOfTargets(rts: readonly bigint[]): number {
    let vn = 0;
    for (const rt of rts) {
      const i = this.vnByTarget.get(rt);
      if (i === undefined) continue;
      if (i < 0 || (vn !== 0 && i !== vn)) return 0;
      vn = i;
    }
    return vn;
  }

  /**
   * Service-chain paths follow from changes, and replication follows from those paths (and may
   * bring routes into a chain's far VRF): alternate until nothing moves.
   */
  private settle(chained: RouteChange[]): RouteChange[] {
    const out: RouteChange[] = [];
    for (let round = 0; chained.length > 0; round++) {
      // Each round carries routes one chain further; chains never feed themselves (origin VN).
      if (round > 64) throw new Error('service chains do not converge');
      const replicated = this.replicator.process(chained);
      out.push(...chained, ...replicated);
      chained = this.chains.process([...chained, ...replicated]);
    }
    return out;
  }

  private fromHub(changes: readonly RouteChange[]): void {
    const mine = changes.filter((c) => this.byTable.has(c.table));
    if (mine.length === 0) return;
    const replicated = this.replicator.process(mine);
    this.dispatch([...replicated, ...this.settle(this.chains.process([...mine, ...replicated]))]);
  }

  /** BGP-learnt VPNv4 selection changed: copy the peers' best paths into the mirror. */
  private fromSpeaker(changes: readonly RouteChange[]): void {
    const mirrored: RouteChange[] = [];
    for (const c of changes) {
      const want = c.ecmp.filter((p) => p.source.kind === 'bgp');
      const have = this.vpn.get(c.key)?.paths.filter((p) => p.source.kind === 'bgp') ?? [];
      if (want.length === 0 && have.length === 0) continue;
      for (const p of have) if (!want.some((w) => w.source.key === p.source.key)) mirrored.push(...this.vpn.withdraw(c.key, { source: p.source }));
      for (const p of want) {
        const attrs = this.withAgentView(p.attrs);
        mirrored.push(...this.vpn.add(c.key, { source: p.source, attrs, ...(p.labels ? { labels: p.labels } : {}) }));
      }
    }
    if (mirrored.length === 0) return;
    const replicated = this.replicator.process(mirrored);
    this.dispatch([...mirrored, ...replicated], false);
    // Paths chained from BGP routes are this node's own: they go to the speaker.
    this.dispatch(this.settle(this.chains.process([...mirrored, ...replicated])));
  }

  /** What agents need from a BGP path: the encapsulations its communities name (10.1). */
  private withAgentView(a: Attrs): Attrs {
    const agent: AgentExtra = {
      encapsulations: encapsulationsOf(a.extCommunities),
      mac: '',
      tags: [],
      securityGroups: [],
      communityTags: [],
      sequenceNumber: 0,
      sticky: false,
      loadBalance: DEFAULT_LOAD_BALANCE,
      subProtocol: '',
    };
    return this.o.store.with(a, { extra: { ...a.extra, agent: agent as unknown as ExtraValue } });
  }

  /** VRF changes go to the hub (and so to agents); VPN changes to the speaker. */
  private dispatch(changes: readonly RouteChange[], syncSpeaker = true): void {
    if (changes.length === 0) return;
    const vrf: RouteChange[] = [];
    const vpnKeys = new Set<string>();
    for (const c of changes) {
      if (c.table === VPN_TABLE) vpnKeys.add(c.key);
      else if (this.byTable.has(c.table)) vrf.push(c);
    }
    if (vrf.length > 0) {
      this.o.hub.changed(vrf);
      this.o.scheduleFlush?.();
    }
    if (syncSpeaker) for (const k of vpnKeys) this.syncSpeaker(k);
  }

  /** The speaker's local path for RD:prefix = the best path this layer put in the mirror. */
  private syncSpeaker(key: string): void {
    const speaker = this.o.speaker;
    if (!speaker) return;
    const d = this.vpn.get(key);
    const local = d?.paths.find((p) => p.source.kind !== 'bgp' && p.primary !== undefined && d.ecmp.includes(p)) ??
      d?.paths.find((p) => p.source.kind !== 'bgp' && p.primary !== undefined);
    const prev = this.originated.get(key);
    if (!local) {
      if (prev) {
        this.originated.delete(key);
        speaker.withdrawLocal('vpnv4', prev);
      }
      return;
    }
    const parts = splitVpnKey(key)!;
    const nlri: Nlri = { kind: 'vpn', rd: parseRd(parts.rd), prefix: parts.prefix, labels: labelStack(local.labels) };
    this.originated.set(key, nlri);
    speaker.originate('vpnv4', nlri, this.bgpAttrs(local));
  }

  /** Agent attributes as BGP carries them: encapsulation and OriginVN communities, origin incomplete. */
  private bgpAttrs(p: Path): Attrs {
    const x = agentExtraOf(p);
    const ext = [...p.attrs.extCommunities];
    for (const e of x?.encapsulations ?? []) {
      const c = tunnelEncapCommunity(e);
      if (c !== undefined && !ext.includes(c)) ext.push(c);
    }
    const inst = p.primary ? this.byTable.get(p.primary.table) : undefined;
    const index = inst === undefined ? undefined : this.instances.get(inst)?.view.index;
    // A service-chain path already names the far network, as Contrail sends it.
    if (index !== undefined && !ext.some(isOriginVn)) ext.push(originVnCommunity(this.asn, index));
    // Contrail's control node keeps extended communities sorted (ExtCommunity normalises), so
    // a gateway reads route targets first and MPLSoGRE (tunnel type 11) before MPLSoUDP (13).
    ext.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const extra: Record<string, ExtraValue> = {};
    for (const [k, v] of Object.entries(p.attrs.extra)) if (k !== 'agent' && k !== SERVICE_CHAIN_KEY) extra[k] = v;
    return this.o.store.with(p.attrs, { origin: 'incomplete', extCommunities: ext, extra });
  }

  /** Introspection: the VRF tables' routes and the mirror, as text. */
  describe(): { instances: RoutingInstanceView[]; vpn: { key: string; paths: { source: string; nextHop: string; labels?: readonly number[]; extCommunities: string[] }[] }[] } {
    const vpn = [...this.vpn.destinations()].map((d) => ({
      key: d.key,
      paths: d.paths.map((p) => ({
        source: p.source.key,
        nextHop: p.attrs.nextHop,
        ...(p.labels ? { labels: p.labels } : {}),
        extCommunities: p.attrs.extCommunities.map(formatExtCommunity),
      })),
    }));
    return { instances: this.list(), vpn };
  }
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
