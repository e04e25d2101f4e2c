/**
 * One vRouter's state: the tables the data plane reads and the counters it writes. Helpers
 * here do what the agent does when a pod port or a remote route appears, so tests and the
 * agent build the same structures.
 */
import { VROUTER_MAC, macBytes } from './addr.js';
import { emptyDropStats, type DropStats } from './drops.js';
import { FlowTable } from './flow.js';
import { MplsTable } from './mpls.js';
import { NextHopTable, type EncapNextHop, type TunnelEncap, type TunnelNextHop } from './nexthop.js';
import { allowAll, type PolicyHook } from './policy.js';
import { VifTable, type Vif } from './vif.js';
import { VniTable } from './vni.js';
import { VrfTable } from './vrf.js';

export interface VRouterOptions {
  /** vhost0 address: the tunnel source and the address tunnels arrive at. */
  vhostIp: string;
  /** The fabric NIC's MAC and the underlay gateway's, for the tunnel next hops' L2 rewrite. */
  fabricMac?: string;
  underlayMac?: string;
  policy?: PolicyHook;
  /** Milliseconds; the flow table's notion of time (a fake clock in tests). */
  clock?: () => number;
  flowEntries?: number;
  labelSpace?: number;
  /** Idle time after which `ageFlows` removes a pair (vRouter agent default 180 s). */
  flowIdleMs?: number;
}

export class VRouter {
  readonly mac = VROUTER_MAC;
  readonly vhostIp: string;
  readonly fabricMac: string;
  readonly underlayMac: string;
  readonly vifs = new VifTable();
  readonly vrfs = new VrfTable();
  readonly nhs = new NextHopTable();
  readonly mpls: MplsTable;
  readonly vnis = new VniTable();
  readonly flows: FlowTable;
  readonly drops: DropStats = emptyDropStats();
  policy: PolicyHook;
  clock: () => number;
  flowIdleMs: number;

  constructor(o: VRouterOptions) {
    this.vhostIp = o.vhostIp;
    this.fabricMac = o.fabricMac ?? '00:00:00:00:00:01';
    this.underlayMac = o.underlayMac ?? '00:00:00:00:00:02';
    this.policy = o.policy ?? allowAll;
    this.clock = o.clock ?? Date.now;
    this.flows = new FlowTable(o.flowEntries);
    this.mpls = new MplsTable(o.labelSpace);
    this.flowIdleMs = o.flowIdleMs ?? 180_000;
    this.vrfs.ensure(0, 'default-domain:default-project:ip-fabric:__default__');
  }

  /** The fabric NIC (vif0/0 by convention). */
  addFabric(osName = 'eth0', index = 0): Vif {
    return this.vifs.add({ index, osName, type: 'physical', vrf: 0, mac: this.fabricMac, flags: ['L3', 'L2', 'Vp', 'Er'] });
  }

  /**
   * A pod interface: the vif, its Encap next hop (pod MAC <- vRouter MAC, IPv4), an L3 label
   * for it and the /32 route (flags LP) in its VRF.
   */
  addPodInterface(p: { index?: number; osName: string; vrf: number; ip: string; plen: number; podMac: string; nhId?: number }): {
    vif: Vif;
    nh: EncapNextHop;
    label: number;
  } {
    const vrf = this.vrfs.ensure(p.vrf);
    const vif = this.vifs.add({
      ...(p.index !== undefined ? { index: p.index } : {}),
      osName: p.osName,
      type: 'virtual',
      vrf: p.vrf,
      mac: this.mac,
      ip: p.ip,
      plen: p.plen,
      peerMac: p.podMac,
    });
    const encap = new Uint8Array(14);
    encap.set(macBytes(p.podMac), 0);
    encap.set(macBytes(this.mac), 6);
    encap[12] = 0x08;
    const nh = this.nhs.add({
      ...(p.nhId !== undefined ? { id: p.nhId } : {}),
      type: 'encap',
      vrf: p.vrf,
      oif: vif.index,
      encap,
      encapFamily: 0x0806,
      policy: true,
    }) as EncapNextHop;
    const label = this.mpls.allocate(nh.id);
    if (label === undefined) throw new RangeError('MPLS label space exhausted');
    vif.nh = nh.id;
    vif.label = label;
    vrf.routes.add({ prefix: `${p.ip}/32`, nh: nh.id, label, proxyArp: true });
    return { vif, nh, label };
  }

  /** A tunnel next hop to another vRouter or gateway, reusing one that exists for the same ends. */
  tunnelTo(dip: string, encapType: TunnelEncap, id?: number): TunnelNextHop {
    for (const nh of this.nhs.list()) {
      if (nh.type === 'tunnel' && nh.dip === dip && nh.encapType === encapType && (id === undefined || nh.id === id)) return nh;
    }
    const l2 = new Uint8Array(14);
    l2.set(macBytes(this.underlayMac), 0);
    l2.set(macBytes(this.fabricMac), 6);
    l2[12] = 0x08;
    return this.nhs.add({
      ...(id !== undefined ? { id } : {}),
      type: 'tunnel',
      vrf: 0,
      encapType,
      oif: 0,
      l2,
      sip: this.vhostIp,
      dip,
    }) as TunnelNextHop;
  }

  /** Removes flow pairs idle for `flowIdleMs` (the agent's ageing sweep). */
  ageFlows(now = this.clock()): number {
    return this.flows.age(now, this.flowIdleMs);
  }

  /** References to a next hop (routes, labels, composites, vifs): `nh`'s Ref_cnt. */
  nhRefCount(id: number): number {
    let n = 0;
    for (const v of this.vrfs.list()) for (const r of v.routes.list()) if (r.nh === id) n++;
    for (const m of this.mpls.list()) if (m.nh === id) n++;
    for (const nh of this.nhs.list()) if (nh.type === 'composite') for (const m of nh.members) if (m.nh === id) n++;
    for (const v of this.vifs.list()) if (v.nh === id) n++;
    return n;
  }
}
