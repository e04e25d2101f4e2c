/**
 * Next hops, the vRouter's forwarding actions: what a route, a label or a VNI resolves to.
 * Ids are the vRouter's small integers, shown by `rt` and `nh`.
 */
export type TunnelEncap = 'MPLSoUDP' | 'MPLSoGRE' | 'VXLAN';

interface NextHopBase {
  id: number;
  vrf: number;
  /** Policy flag: flows through this next hop are subject to policy (pod interfaces, ECMP). */
  policy: boolean;
}

/** Deliver to a local vif, prepending the 14-byte L2 rewrite (pod MAC, vRouter MAC, 0x0800). */
export interface EncapNextHop extends NextHopBase {
  type: 'encap';
  oif: number;
  /** dst MAC, src MAC, EtherType: written in front of the IP packet. */
  encap: Uint8Array;
  /** `EncapFmly` column: 0x0806 (ARP) for an L3 interface next hop, as the book shows. */
  encapFamily: number;
}

/** Send to another vRouter or gateway: outer IPv4 from sip to dip, then UDP or GRE. */
export interface TunnelNextHop extends NextHopBase {
  type: 'tunnel';
  encapType: TunnelEncap;
  /** Fabric interface and its L2 rewrite towards the underlay next hop. */
  oif: number;
  l2: Uint8Array;
  sip: string;
  dip: string;
}

export interface CompositeMember {
  nh: number;
  /** Label (or VNI) pushed when this member is a tunnel; the member's own label otherwise. */
  label: number;
}

/** ECMP: one member per path; a flow keeps the member it was given. */
export interface CompositeNextHop extends NextHopBase {
  type: 'composite';
  ecmp: true;
  members: CompositeMember[];
}

/** To the host stack (vhost0): addresses the compute node owns. */
export interface ReceiveNextHop extends NextHopBase {
  type: 'receive';
  oif: number;
}

export interface DiscardNextHop extends NextHopBase {
  type: 'discard';
}

/** Destination known only by subnet: the agent must resolve it (ARP) before forwarding. */
export interface ResolveNextHop extends NextHopBase {
  type: 'resolve';
}

export type NextHop =
  | EncapNextHop
  | TunnelNextHop
  | CompositeNextHop
  | ReceiveNextHop
  | DiscardNextHop
  | ResolveNextHop;

/** What `add` takes: the id is allocated when absent, policy defaults to false. */
export type NextHopInput = NextHop extends infer T
  ? T extends NextHop
    ? Omit<T, 'id' | 'policy'> & { id?: number; policy?: boolean }
    : never
  : never;

export class NextHopTable {
  private readonly nhs = new Map<number, NextHop>();
  /** vRouter's nh 0 is the discard next hop; allocation starts above the fixed ones. */
  private next = 1;

  constructor() {
    this.nhs.set(0, { id: 0, type: 'discard', vrf: 0, policy: false });
  }

  add(input: NextHopInput): NextHop {
    let id = input.id;
    if (id === undefined) {
      while (this.nhs.has(this.next)) this.next++;
      id = this.next++;
    }
    const nh = { ...input, id, policy: input.policy ?? false } as NextHop;
    this.nhs.set(id, nh);
    return nh;
  }

  get(id: number): NextHop | undefined {
    return this.nhs.get(id);
  }

  delete(id: number): boolean {
    return id !== 0 && this.nhs.delete(id);
  }

  list(): NextHop[] {
    return [...this.nhs.values()].sort((a, b) => a.id - b.id);
  }
}
