import type { CompositeMember, TunnelEncap } from '../vrouter/nexthop.js';
import type { VRouter } from '../vrouter/router.js';
import type { ReceivedNextHop, ReceivedRoute } from './xmpp-client.js';

/**
 * Routes learnt from the control nodes -> the vRouter's tables (dialect notes 10.3, 13).
 *
 * Each (VRF, prefix) keeps one entry per control node, as the real agent keeps one path per
 * peer: both CNs normally send the same route, and while one is away its copy stays, stale,
 * so forwarding goes on; it is removed when that CN's new session ends its initial sync
 * (end-of-RIB) without having refreshed it. The route installed is the first fresh CN's
 * copy, else a stale one.
 *
 * Installing: a remote next hop becomes a Tunnel next hop to its address, the encapsulation
 * chosen by the local priority among those the route lists, with the label (or the VNI for
 * VXLAN); a next hop at our own vhost address is resolved through our label table to the
 * local interface next hop. Several usable next hops make a Composite (ECMP) next hop. Local
 * pod routes (told by `addLocal`) stay Encap routes as long as the CN's route has no other
 * next hop than ourselves: the reflected copy of our own route changes nothing.
 *
 * Each installed route keeps the tag ids of its owner (every next hop's `tag-list`; for a
 * local pod, its port's tags): the firewall asks the route what a remote address is.
 */

/** The CN side of the priority: names in a next hop's tunnel-encapsulation list. */
const WIRE_NAME: Record<TunnelEncap, string> = { MPLSoGRE: 'gre', MPLSoUDP: 'udp', VXLAN: 'vxlan' };
/** Used when none of the configured encapsulations is advertised ([C:…/controller_init.cc `GetTypeBitmap`]). */
const FALLBACK: readonly TunnelEncap[] = ['MPLSoGRE', 'MPLSoUDP', 'VXLAN'];

export interface RouteSyncOptions {
  /** Routing-instance name -> VRF index; undefined = a VRF this agent does not have (ignored). */
  vrfIndex: (vrf: string) => number | undefined;
  encapPriority: readonly TunnelEncap[];
  /**
   * The VXLAN id of a VRF's network from the agent's configuration, if it has one. The CN's
   * inet routes never carry `vxlan` or a VNI (dialect notes 9.1: it drops vxlan for inet), yet
   * the VNI is the network's, the same on every vRouter, and the encapsulation priority is
   * global (global-vrouter-config): so a next hop without a VNI of such a network is taken as
   * also reachable by VXLAN with that VNI, and the priority decides.
   */
  configuredVni?: (vrf: number) => number | undefined;
}

interface CnCopy {
  route: ReceivedRoute;
  stale: boolean;
}

interface Entry {
  vrf: number;
  prefix: string;
  /** By control node, in arrival order. */
  copies: Map<string, CnCopy>;
  /** The next hop this module installed for the prefix (a tunnel, a composite, or a local one). */
  installedNh?: number;
}

interface LocalRoute {
  nh: number;
  label: number;
  tags?: readonly number[];
}

/** What the route table got for a prefix, for tests and introspection. */
export interface SyncedRoute {
  vrf: number;
  prefix: string;
  /** Which CN's copy is installed, and whether every copy is stale. */
  from?: string;
  stale: boolean;
  copies: { cn: string; stale: boolean }[];
  attrs?: Pick<ReceivedRoute, 'virtualNetwork' | 'localPreference' | 'sequenceNumber' | 'securityGroups'>;
}

function key(vrf: number, prefix: string): string {
  return `${vrf}/${prefix}`;
}

/** Tag ids of all of a route's next hops, first seen first: an ECMP route's owners are all its members. */
export function routeTags(r: Pick<ReceivedRoute, 'nextHops'>): number[] {
  const out: number[] = [];
  for (const h of r.nextHops) for (const t of h.tags) if (!out.includes(t)) out.push(t);
  return out;
}

/** The encapsulation for a next hop: the first of the priority it advertises (an empty list means `gre`, 10.1). */
export function chooseEncap(nh: Pick<ReceivedNextHop, 'encapsulations' | 'vni'>, priority: readonly TunnelEncap[]): TunnelEncap | undefined {
  const listed = nh.encapsulations.length === 0 ? ['gre'] : nh.encapsulations;
  const usable = (e: TunnelEncap): boolean => listed.includes(WIRE_NAME[e]) && (e !== 'VXLAN' || nh.vni > 0);
  for (const e of priority) if (usable(e)) return e;
  for (const e of FALLBACK) if (usable(e)) return e;
  return undefined;
}

export class RouteSync {
  private readonly entries = new Map<string, Entry>();
  private readonly byCn = new Map<string, Set<string>>();
  private readonly locals = new Map<string, LocalRoute>();
  /** Composites this module made, by member list, with the number of routes using each. */
  private readonly composites = new Map<string, { id: number; refs: number }>();
  /** Tunnel next hops this module uses, with the number of routes/composites using each. */
  private readonly tunnelRefs = new Map<number, number>();
  private readonly tunnelIds = new Map<string, number>();

  constructor(
    readonly router: VRouter,
    private readonly opts: RouteSyncOptions,
  ) {}

  // ---- local routes ---------------------------------------------------------------------

  /**
   * A pod route the agent installed (addPodInterface): it wins over remote copies of itself.
   * `tags`: the port's tag ids, put on the route (without them the reflected copy's are used).
   */
  addLocal(vrf: number, prefix: string, nh: number, label: number, tags?: readonly number[]): void {
    const k = key(vrf, prefix);
    this.locals.set(k, tags && tags.length > 0 ? { nh, label, tags: [...tags] } : { nh, label });
    const e = this.entries.get(k);
    if (e) this.install(e);
    else if (tags && tags.length > 0) {
      // No CN copy yet: the agent's own route is in the table already; it only lacks the tags.
      const r = this.router.vrfs.get(vrf)?.routes.get(prefix);
      if (r && r.nh === nh) r.tags = [...tags];
    }
  }

  /** The pod is gone; the agent has removed its route, label and next hop already. */
  removeLocal(vrf: number, prefix: string): void {
    const k = key(vrf, prefix);
    this.locals.delete(k);
    const e = this.entries.get(k);
    if (e) {
      // The route table no longer has what we may have recorded as installed.
      if (e.installedNh !== undefined && !this.router.nhs.get(e.installedNh)) delete e.installedNh;
      this.install(e);
    }
  }

  // ---- from the control nodes -----------------------------------------------------------

  update(cn: string, r: ReceivedRoute): void {
    const vrf = this.opts.vrfIndex(r.vrf);
    if (vrf === undefined) return;
    // Section 10.3: label 0 means nothing outside the fabric VRF.
    if (vrf !== 0 && r.nextHops.every((h) => h.label === 0 && h.vni === 0)) {
      this.withdraw(cn, r.vrf, r.prefix);
      return;
    }
    const k = key(vrf, r.prefix);
    let e = this.entries.get(k);
    if (!e) {
      e = { vrf, prefix: r.prefix, copies: new Map() };
      this.entries.set(k, e);
    }
    e.copies.set(cn, { route: r, stale: false });
    this.cnKeys(cn).add(k);
    this.install(e);
  }

  withdraw(cn: string, vrfName: string, prefix: string): void {
    const vrf = this.opts.vrfIndex(vrfName);
    if (vrf === undefined) return;
    const k = key(vrf, prefix);
    const e = this.entries.get(k);
    if (!e || !e.copies.delete(cn)) return;
    this.byCn.get(cn)?.delete(k);
    this.install(e);
  }

  /** The CN's session went down: its copies are kept, stale, and forwarding goes on. */
  cnDown(cn: string): void {
    const keys = this.byCn.get(cn);
    if (!keys) return;
    for (const k of keys) {
      const e = this.entries.get(k)!;
      e.copies.get(cn)!.stale = true;
      // Another CN's fresh copy now takes precedence, if there is one.
      this.install(e);
    }
  }

  /** The CN's new session has sent everything: what it did not refresh is gone. Returns how many copies went. */
  sweepStale(cn: string): number {
    const keys = this.byCn.get(cn);
    if (!keys) return 0;
    let n = 0;
    for (const k of [...keys]) {
      const e = this.entries.get(k)!;
      if (!e.copies.get(cn)!.stale) continue;
      e.copies.delete(cn);
      keys.delete(k);
      n++;
      this.install(e);
    }
    return n;
  }

  /** The agent left a routing instance: everything learnt in it goes. */
  dropVrf(vrf: number): void {
    for (const [k, e] of this.entries) {
      if (e.vrf !== vrf) continue;
      for (const cn of e.copies.keys()) this.byCn.get(cn)?.delete(k);
      e.copies.clear();
      this.install(e);
    }
  }

  get(vrf: number, prefix: string): SyncedRoute | undefined {
    const e = this.entries.get(key(vrf, prefix));
    if (!e) return undefined;
    const best = this.best(e);
    const out: SyncedRoute = {
      vrf,
      prefix,
      stale: best === undefined || best[1].stale,
      copies: [...e.copies].map(([cn, c]) => ({ cn, stale: c.stale })),
    };
    if (best) {
      out.from = best[0];
      const r = best[1].route;
      out.attrs = { virtualNetwork: r.virtualNetwork, localPreference: r.localPreference, sequenceNumber: r.sequenceNumber, securityGroups: r.securityGroups };
    }
    return out;
  }

  /** Every learnt (VRF, prefix). */
  list(): SyncedRoute[] {
    const out: SyncedRoute[] = [];
    for (const e of this.entries.values()) out.push(this.get(e.vrf, e.prefix)!);
    return out;
  }

  // ---- installing -----------------------------------------------------------------------

  private cnKeys(cn: string): Set<string> {
    let s = this.byCn.get(cn);
    if (!s) this.byCn.set(cn, (s = new Set()));
    return s;
  }

  private best(e: Entry): [string, CnCopy] | undefined {
    let stale: [string, CnCopy] | undefined;
    for (const c of e.copies) {
      if (!c[1].stale) return c;
      stale ??= c;
    }
    return stale;
  }

  /** Members for the route's next hops, deduplicated; tunnels are created (and counted) here. */
  private resolve(r: ReceivedRoute, vrf: number): { members: CompositeMember[]; self: boolean } {
    const members: CompositeMember[] = [];
    let self = false;
    const vni = this.opts.configuredVni?.(vrf);
    for (const advertised of r.nextHops) {
      const h =
        vni !== undefined && advertised.vni === 0
          ? { ...advertised, vni, encapsulations: [...(advertised.encapsulations.length === 0 ? ['gre'] : advertised.encapsulations), 'vxlan'] }
          : advertised;
      let m: CompositeMember | undefined;
      if (h.address === this.router.vhostIp) {
        // Our own route reflected back (10.1): its label names our interface next hop.
        self = true;
        const nh = this.router.mpls.lookup(h.label);
        if (nh !== undefined) m = { nh, label: h.label };
      } else {
        const encap = chooseEncap(h, this.opts.encapPriority);
        if (encap !== undefined) {
          m = { nh: this.tunnel(h.address, encap), label: encap === 'VXLAN' ? h.vni : h.label };
        }
      }
      if (m && !members.some((x) => x.nh === m.nh && x.label === m.label)) members.push(m);
    }
    return { members, self };
  }

  /** VRouter.tunnelTo walks every next hop; a full table sync asks for the same few tunnels again and again. */
  private tunnel(dip: string, encap: TunnelEncap): number {
    const k = `${dip}|${encap}`;
    const id = this.tunnelIds.get(k);
    const nh = id === undefined ? undefined : this.router.nhs.get(id);
    if (nh?.type === 'tunnel' && nh.dip === dip && nh.encapType === encap) return nh.id;
    const t = this.router.tunnelTo(dip, encap);
    this.tunnelIds.set(k, t.id);
    return t.id;
  }

  private install(e: Entry): void {
    const k = key(e.vrf, e.prefix);
    const local = this.locals.get(k);
    const best = this.best(e);
    const table = this.router.vrfs.ensure(e.vrf).routes;
    let members: CompositeMember[] = [];
    let self = false;
    if (best) ({ members, self } = this.resolve(best[1].route, e.vrf));
    const tags = local?.tags ?? (best ? routeTags(best[1].route) : []);
    const old = e.installedNh;
    let nh: number | undefined;
    let label: number | undefined;
    if (local && !(self && members.length > 1)) {
      // Local wins over remote copies of the same address unless the CN made it ECMP with us.
      nh = local.nh;
      label = local.label;
    } else if (members.length === 1) {
      nh = members[0]!.nh;
      label = members[0]!.label;
    } else if (members.length > 1) {
      nh = this.composite(members);
    }
    this.retainTunnels(members, nh !== undefined && members.length > 0 && !(local && nh === local.nh));
    if (nh === undefined) {
      if (old !== undefined && table.get(e.prefix)?.nh === old) table.delete(e.prefix);
      delete e.installedNh;
    } else {
      table.add({ prefix: e.prefix, nh, ...(label !== undefined ? { label } : {}), proxyArp: true, tags });
      e.installedNh = nh;
    }
    // Always: install() counted the new next hop's uses even when it is the old one.
    if (old !== undefined) this.releaseNh(old);
    if (e.copies.size === 0 && !local) this.entries.delete(k);
  }

  /**
   * Tunnels referenced by the new installation are counted once per route; resolve() may have
   * created tunnels that end up unused (a local route won), which are released at once.
   */
  private retainTunnels(members: CompositeMember[], used: boolean): void {
    for (const m of members) {
      const nh = this.router.nhs.get(m.nh);
      if (nh?.type !== 'tunnel') continue;
      if (used) this.tunnelRefs.set(m.nh, (this.tunnelRefs.get(m.nh) ?? 0) + 1);
      else if (!this.tunnelRefs.has(m.nh) && this.router.nhRefCount(m.nh) === 0) this.router.nhs.delete(m.nh);
    }
  }

  private composite(members: CompositeMember[]): number {
    const k = members.map((m) => `${m.nh}:${m.label}`).join(',');
    const have = this.composites.get(k);
    if (have) {
      have.refs++;
      return have.id;
    }
    const nh = this.router.nhs.add({ type: 'composite', vrf: 0, ecmp: true, members: members.map((m) => ({ ...m })), policy: true });
    this.composites.set(k, { id: nh.id, refs: 1 });
    return nh.id;
  }

  /** Drops one use of a next hop this module installed; deletes composites and tunnels nobody uses. */
  private releaseNh(id: number): void {
    const nh = this.router.nhs.get(id);
    if (!nh) return;
    if (nh.type === 'tunnel') return this.releaseTunnel(id);
    if (nh.type !== 'composite') return;
    for (const [k, c] of this.composites) {
      if (c.id !== id) continue;
      if (--c.refs === 0) {
        this.composites.delete(k);
        this.router.nhs.delete(id);
      }
      // Member tunnels are counted per route, like the composite.
      for (const m of nh.members) if (this.router.nhs.get(m.nh)?.type === 'tunnel') this.releaseTunnel(m.nh);
      return;
    }
  }

  private releaseTunnel(id: number): void {
    const n = (this.tunnelRefs.get(id) ?? 1) - 1;
    if (n > 0) {
      this.tunnelRefs.set(id, n);
      return;
    }
    this.tunnelRefs.delete(id);
    if (this.router.nhRefCount(id) === 0) this.router.nhs.delete(id);
  }
}
