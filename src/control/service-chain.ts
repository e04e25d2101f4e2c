/**
 * Service chaining in the control node (book ch. 10, dialect notes 14; Contrail's
 * ServiceChainMgr). A network-policy pass rule between two networks that names a service
 * instance, one port of it in each network, makes each network reach the other THROUGH the
 * service: every eligible route of the far network gets, in the near network's VRF, a path with
 * the next hop, label and encapsulations of the service instance's near-side interface as its
 * agent published it (the "connected route", the port's /32). Agents then send traffic for the
 * far prefixes into the service pod, which forwards it out of its other interface.
 *
 * Contrail builds service routing instances for this and has them import/export the networks'
 * route targets. weft writes the paths straight into the near network's VRF as primaries of a
 * `service-chain:<instance>` local source, so the VRF's own replication exports them to
 * bgp.l3vpn.0 with its export RTs, as Contrail's service RI (exporting the VN's RTs) does.
 *
 * Sans-IO: the owner feeds table changes in and gets the changes this made back.
 */
import type { ControlModel } from '../config/control-model.js';
import { localSource, pathKey, routeTargetsOf } from '../rib/path.js';
import type { AttrStore, Attrs, ExtraValue, LocalSource, Path, PathInput } from '../rib/path.js';
import { isRouteTarget } from '../rib/route-target.js';
import type { RouteChange, Table } from '../rib/table.js';
import { agentExtraOf, type AgentExtra } from './agent-path.js';
import { isOriginVn, originVnCommunity, originVnIndex, originVnOfAttrs, originVnPathOf, originVnPathTlv, ORIGIN_VN_PATH_KEY } from './origin-vn.js';

/** One direction of a chain: the far network's routes go into the near network's VRF. */
export interface ServiceChainSpec {
  readonly serviceInstance: string;
  /** The network whose VRF gets the paths. */
  readonly network: string;
  /** The service instance's port in `network`, and the address whose /32 is the connected route. */
  readonly port: string;
  readonly address: string;
  /** The network whose routes are re-originated. */
  readonly farNetwork: string;
}

/**
 * The chains a model asks for. A rule `source -> destination` puts the destination's routes
 * into the source's VRF; `<>` adds the reverse. A one-way rule (`>`) chains one way only, as
 * Contrail's schema transformer does (the far side gets service-chain info only for `<>`).
 * Which port is "near" is decided by network, so a rule written either way round works; a
 * service instance without a port with an address in each of the two networks chains nothing.
 */
export function serviceChainSpecs(m: ControlModel): ServiceChainSpec[] {
  const ports = new Map(m.ports.map((p) => [p.name, p]));
  const instances = new Map(m.serviceInstances.map((s) => [s.name, s]));
  const out = new Map<string, ServiceChainSpec>();
  const add = (si: string, network: string, farNetwork: string) => {
    const s = instances.get(si);
    if (!s || network === farNetwork) return;
    const sides = [ports.get(s.leftPort), ports.get(s.rightPort)];
    const near = sides.find((p) => p?.network === network);
    const far = sides.find((p) => p !== near && p?.network === farNetwork);
    const address = near?.ips[0];
    if (!near || !far || address === undefined) return;
    const key = `${si}\u0000${network}`;
    if (!out.has(key)) out.set(key, { serviceInstance: si, network, port: near.name, address, farNetwork });
  };
  for (const p of m.networkPolicies) {
    for (const r of p.rules) {
      if (r.action !== 'pass' || r.serviceInstance === undefined) continue;
      add(r.serviceInstance, r.sourceNetwork, r.destinationNetwork);
      if (r.direction === '<>') add(r.serviceInstance, r.destinationNetwork, r.sourceNetwork);
    }
  }
  return [...out.values()];
}

/** What the chains need to know about the routing instances around them. */
export interface ServiceChainHost {
  readonly store: AttrStore;
  asn(): number;
  /** A network's VRF table name and VN index, when it has a routing instance. */
  instanceOf(network: string): { table: string; index: number } | undefined;
  table(name: string): Table | undefined;
  vnIndexOfTable(table: string): number | undefined;
  /** VN index the route targets name unambiguously (by the instances' export RTs), 0 otherwise. */
  vnIndexOfTargets(rts: readonly bigint[]): number;
  /** The RD a path goes to bgp.l3vpn.0 with (for an agent path, `<next hop>:<instance-id>`). */
  rdOf(p: Path, table: string): string | undefined;
}

/** Where a service-chain path keeps what only the control node needs (its RD). */
export const SERVICE_CHAIN_KEY = 'serviceChain';
const SOURCE_PREFIX = 'service-chain:';

export function isServiceChainPath(p: Path): boolean {
  return p.source.kind === 'local' && p.source.name.startsWith(SOURCE_PREFIX);
}

/** The RD chosen for a service-chain path: its connected path's (dialect notes 14). */
export function serviceChainRd(p: Path): string | undefined {
  const x = p.attrs.extra[SERVICE_CHAIN_KEY] as { rd?: ExtraValue } | undefined;
  return typeof x?.rd === 'string' ? x.rd : undefined;
}

const NO_ADVERTISE = 0xffffff02;
const NO_REORIGINATE = 0xfffff000;
const ACCEPT_OWN_NEXTHOP = 0xffff0008;

const top16 = (c: bigint) => Number(c >> 48n);
const isSecurityGroup = (c: bigint) => top16(c) === 0x8004 || top16(c) === 0x8204;
const isTag = (c: bigint) => top16(c) === 0x8084 || top16(c) === 0x8284;
const isSiteOfOrigin = (c: bigint) => (top16(c) & 0xff) === 0x03 && top16(c) >> 8 <= 0x02;
const isLoadBalance = (c: bigint) => top16(c) === 0x03aa;
/** What the re-originated path takes from the far route rather than from the service interface. */
const fromFarRoute = (c: bigint) => isSecurityGroup(c) || isTag(c) || isSiteOfOrigin(c);

function ipv4Number(a: string): number {
  const o = a.split('.').map(Number);
  return o.length === 4 && o.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0 : 0;
}

interface Chain {
  readonly spec: ServiceChainSpec;
  /** The spec and both instances, as text: a change of any makes a new chain. */
  readonly identity: string;
  readonly source: LocalSource;
  readonly table: string;
  readonly index: number;
  readonly farTable: string;
  readonly farIndex: number;
  readonly connectedPrefix: string;
  /** prefix -> path key -> what this chain put in `table`. */
  readonly made: Map<string, Map<string, PathInput>>;
}

export interface ServiceChainView extends ServiceChainSpec {
  /** The service interface's route is there (published by an agent): the chain is up. */
  connected: boolean;
  /** Prefixes re-originated into the network's VRF. */
  prefixes: string[];
}

export class ServiceChains {
  private chains = new Map<string, Chain>();
  private byFarTable = new Map<string, Chain[]>();
  private byTable = new Map<string, Chain[]>();

  constructor(private readonly host: ServiceChainHost) {}

  /**
   * Makes the chains those of `specs` (whose networks have instances) and brings every chain's
   * paths up to date: a model change can move route targets and so origin VNs. Chains that
   * went away withdraw all they made.
   */
  apply(specs: readonly ServiceChainSpec[]): RouteChange[] {
    const want = new Map<string, Chain>();
    for (const spec of specs) {
      const near = this.host.instanceOf(spec.network);
      const far = this.host.instanceOf(spec.farNetwork);
      if (!near || !far) continue;
      const identity = JSON.stringify([spec, near, far]);
      const old = this.chains.get(identity);
      want.set(
        identity,
        old ?? {
          spec,
          identity,
          source: localSource(SOURCE_PREFIX + spec.serviceInstance),
          table: near.table,
          index: near.index,
          farTable: far.table,
          farIndex: far.index,
          connectedPrefix: `${spec.address}/32`,
          made: new Map(),
        },
      );
    }
    const changes: RouteChange[] = [];
    for (const [id, c] of this.chains) if (!want.has(id)) changes.push(...this.clear(c));
    this.chains = want;
    this.byFarTable = groupBy(want.values(), (c) => c.farTable);
    this.byTable = groupBy(want.values(), (c) => c.table);
    for (const c of want.values()) changes.push(...this.refresh(c));
    return changes;
  }

  /** Follows changes of any table (agents', replication's, this class's own); returns what it changed. */
  process(changes: readonly RouteChange[]): RouteChange[] {
    if (this.chains.size === 0) return [];
    const whole = new Set<Chain>();
    const some = new Map<Chain, Set<string>>();
    for (const ch of changes) {
      for (const c of this.byTable.get(ch.table) ?? []) if (ch.key === c.connectedPrefix) whole.add(c);
      for (const c of this.byFarTable.get(ch.table) ?? []) {
        let s = some.get(c);
        if (!s) some.set(c, (s = new Set()));
        s.add(ch.key);
      }
    }
    const out: RouteChange[] = [];
    for (const c of whole) out.push(...this.refresh(c));
    for (const [c, prefixes] of some) {
      if (whole.has(c)) continue;
      for (const p of prefixes) out.push(...this.update(c, p));
    }
    return out;
  }

  views(): ServiceChainView[] {
    return [...this.chains.values()].map((c) => {
      const conn = this.host.table(c.table)?.get(c.connectedPrefix)?.best;
      return { ...c.spec, connected: conn?.source.kind === 'xmpp', prefixes: [...c.made.keys()].sort() };
    });
  }

  private refresh(c: Chain): RouteChange[] {
    const prefixes = new Set(c.made.keys());
    const far = this.host.table(c.farTable);
    if (far) for (const d of far.destinations()) prefixes.add(d.key);
    const out: RouteChange[] = [];
    for (const p of prefixes) out.push(...this.update(c, p));
    return out;
  }

  private clear(c: Chain): RouteChange[] {
    const t = this.host.table(c.table);
    const out: RouteChange[] = [];
    if (t) for (const [prefix, paths] of c.made) for (const input of paths.values()) out.push(...t.withdraw(prefix, input));
    c.made.clear();
    return out;
  }

  /** Brings the chain's paths for one prefix in line with the far route and the connected route. */
  private update(c: Chain, prefix: string): RouteChange[] {
    const t = this.host.table(c.table);
    if (!t) return [];
    const want = this.desired(c, prefix);
    const have = c.made.get(prefix);
    const out: RouteChange[] = [];
    for (const [k, input] of want) {
      const old = have?.get(k);
      if (old && old.attrs === input.attrs && sameLabels(old.labels, input.labels)) continue;
      out.push(...t.add(prefix, input));
    }
    if (have) for (const [k, input] of have) if (!want.has(k)) out.push(...t.withdraw(prefix, input));
    if (want.size === 0) c.made.delete(prefix);
    else c.made.set(prefix, want);
    return out;
  }

  private desired(c: Chain, prefix: string): Map<string, PathInput> {
    const want = new Map<string, PathInput>();
    // The service interface's own route is the chain's next hop, never one of its routes.
    if (prefix === c.connectedPrefix) return want;
    const orig = this.host.table(c.farTable)?.get(prefix)?.best;
    if (!orig || !this.eligible(c, orig)) return want;
    const conn = this.host.table(c.table)?.get(c.connectedPrefix);
    // Contrail takes the connected route only while an agent's path is its best.
    if (!conn?.best || conn.best.source.kind !== 'xmpp') return want;
    const origRd = this.host.rdOf(orig, c.farTable);
    const seen = new Set<string>();
    for (const cp of conn.ecmp) {
      if (isServiceChainPath(cp) || seen.has(cp.attrs.nextHop)) continue;
      // Contrail's path id is the next hop: one path per compute node hosting the service.
      seen.add(cp.attrs.nextHop);
      const rd = this.host.rdOf(cp, c.table);
      // A route that came from the very interface would come back to itself.
      if (rd !== undefined && rd === origRd) continue;
      const input: PathInput = {
        source: c.source,
        pathId: ipv4Number(cp.attrs.nextHop) || seen.size,
        attrs: this.attrsFor(c, cp, orig, rd),
        ...(cp.labels ? { labels: cp.labels } : {}),
      };
      want.set(pathKey(input), input);
    }
    return want;
  }

  /**
   * Contrail's checks on a far route (service_chaining.cc `Match`): usable, not marked
   * no-advertise/no-reoriginate, of the far network itself (no transit: the model has no
   * allow-transit), and not already carried through the near network, which is what keeps the
   * two directions of a chain from feeding each other.
   */
  private eligible(c: Chain, orig: Path): boolean {
    const comms = orig.attrs.communities;
    if (comms.includes(NO_ADVERTISE) || comms.includes(NO_REORIGINATE)) return false;
    if (this.originVn(orig, c.farTable) !== c.farIndex) return false;
    return !originVnPathOf(orig.attrs).some((x) => isOriginVn(x) && originVnIndex(x) === c.index);
  }

  /**
   * A path's origin VN: its OriginVN community; else, for a path originated in the table (agent,
   * local), the table's network; else the network of the VRF it was replicated from; else (from
   * bgp.l3vpn.0) the network its route targets name.
   */
  private originVn(p: Path, table: string): number {
    const own = originVnOfAttrs(p.attrs);
    if (own !== undefined) return own;
    if (!p.primary) return this.host.vnIndexOfTable(table) ?? 0;
    const home = this.host.vnIndexOfTable(p.primary.table);
    return home ?? this.host.vnIndexOfTargets(routeTargetsOf(p.attrs));
  }

  /**
   * The connected path's forwarding (next hop, label, encapsulations, preference) with the far
   * route's identity (dialect notes 14): RTs stripped (the VRF's export RTs come with
   * replication), SG/tag/site-of-origin from the far route, load balance from it when the
   * interface has none, OriginVN the far network, accept-own-nexthop appended to the far
   * route's communities, OriginVnPath prepended with the far network, AS path cleared.
   */
  private attrsFor(c: Chain, cp: Path, orig: Path, rd: string | undefined): Attrs {
    const asn = this.host.asn();
    const originVn = originVnCommunity(asn, c.farIndex);
    const ext = cp.attrs.extCommunities.filter((x) => !isRouteTarget(x) && !fromFarRoute(x) && !isOriginVn(x));
    let soo = false;
    for (const x of orig.attrs.extCommunities) {
      if (!fromFarRoute(x) || ext.includes(x)) continue;
      if (isSiteOfOrigin(x)) {
        if (soo) continue;
        soo = true;
      }
      ext.push(x);
    }
    if (!ext.some(isLoadBalance)) {
      const lb = orig.attrs.extCommunities.find(isLoadBalance);
      if (lb !== undefined) ext.push(lb);
    }
    ext.push(originVn);
    const communities = orig.attrs.communities.includes(ACCEPT_OWN_NEXTHOP) ? [...orig.attrs.communities] : [...orig.attrs.communities, ACCEPT_OWN_NEXTHOP];
    const extra: Record<string, ExtraValue> = { ...cp.attrs.extra };
    extra[ORIGIN_VN_PATH_KEY] = originVnPathTlv([originVn, ...originVnPathOf(orig.attrs)]);
    extra[SERVICE_CHAIN_KEY] = rd === undefined ? { serviceInstance: c.spec.serviceInstance } : { serviceInstance: c.spec.serviceInstance, rd };
    const agent = agentExtraOf(cp);
    if (agent) extra['agent'] = withFarIdentity(agent, agentExtraOf(orig)) as unknown as ExtraValue;
    return this.host.store.with(cp.attrs, { asPath: [], extCommunities: ext, communities, extra });
  }
}

/** The agent-facing fields: SGs and tags of the far route, its load balance when the interface has the default. */
function withFarIdentity(conn: AgentExtra, orig: AgentExtra | undefined): AgentExtra {
  const defaultLb = conn.loadBalance.fields.length === 0 && conn.loadBalance.decision === 'field-hash';
  return {
    ...conn,
    securityGroups: orig?.securityGroups ?? [],
    tags: orig?.tags ?? [],
    loadBalance: defaultLb && orig ? orig.loadBalance : conn.loadBalance,
  };
}

function groupBy<T>(xs: Iterable<T>, key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function sameLabels(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
