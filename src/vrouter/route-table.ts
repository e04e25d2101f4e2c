/**
 * Per-VRF IPv4 unicast routes with longest-prefix match. One hash map per prefix length and a
 * list of the lengths in use, longest first: a lookup is at most one map probe per length in
 * use (a pod VRF typically has /32, a subnet, maybe /0), with no per-bit walk and no
 * allocation.
 */
import { intToIpv4, maskOf, parsePrefix } from './addr.js';

export interface RouteInput {
  /** "a.b.c.d/n"; host bits are cleared. */
  prefix: string;
  nh: number;
  /** MPLS label or VXLAN VNI towards the next hop; present = flag L (Label Valid). */
  label?: number;
  /** P: the vRouter answers ARP for addresses in this prefix. */
  proxyArp?: boolean;
  /** T: ARP requests for it go to the agent. */
  trapArp?: boolean;
  /** F: ARP requests for it are flooded. */
  floodArp?: boolean;
  /** `rt`'s PPL column (the prefix length this entry replaced); 0 unless told. */
  ppl?: number;
  /** Stitched MAC column: the MAC (and bridge index) of a host route. */
  stitchedMac?: { mac: string; index: number };
  /**
   * Tag ids of the endpoint(s) owning the prefix, from the route's path(s) (XMPP `tag-list`):
   * how the firewall knows what a remote address is. Empty or absent = untagged.
   */
  tags?: readonly number[];
}

export interface Route {
  prefix: string;
  addr: number;
  plen: number;
  nh: number;
  label?: number;
  proxyArp: boolean;
  trapArp: boolean;
  floodArp: boolean;
  ppl: number;
  stitchedMac?: { mac: string; index: number };
  /** Only present when non-empty. */
  tags?: readonly number[];
}

/** `rt`'s flag letters, in its order: L=Label Valid, P=Proxy ARP, T=Trap ARP, F=Flood ARP. */
export function routeFlags(r: Route): string {
  return (r.label !== undefined ? 'L' : '') + (r.proxyArp ? 'P' : '') + (r.trapArp ? 'T' : '') + (r.floodArp ? 'F' : '');
}

export class Ipv4RouteTable {
  /** byLength[n]: masked address (as int32) -> route. */
  private readonly byLength: (Map<number, Route> | undefined)[] = new Array(33);
  /** Lengths with at least one route, longest first. */
  private lengths: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds or replaces the route for the prefix. */
  add(input: RouteInput): Route {
    const { addr, plen } = parsePrefix(input.prefix);
    const route: Route = {
      prefix: `${intToIpv4(addr)}/${plen}`,
      addr,
      plen,
      nh: input.nh,
      proxyArp: input.proxyArp ?? false,
      trapArp: input.trapArp ?? false,
      floodArp: input.floodArp ?? false,
      ppl: input.ppl ?? 0,
    };
    if (input.label !== undefined) route.label = input.label;
    if (input.stitchedMac) route.stitchedMac = input.stitchedMac;
    if (input.tags && input.tags.length > 0) route.tags = [...input.tags];
    let m = this.byLength[plen];
    if (!m) {
      m = new Map();
      this.byLength[plen] = m;
      this.lengths.push(plen);
      this.lengths.sort((a, b) => b - a);
    }
    if (!m.has(addr | 0)) this.count++;
    m.set(addr | 0, route);
    return route;
  }

  delete(prefix: string): boolean {
    const { addr, plen } = parsePrefix(prefix);
    const m = this.byLength[plen];
    if (!m || !m.delete(addr | 0)) return false;
    this.count--;
    if (m.size === 0) {
      this.byLength[plen] = undefined;
      this.lengths = this.lengths.filter((l) => l !== plen);
    }
    return true;
  }

  /** Exact match on a prefix. */
  get(prefix: string): Route | undefined {
    const { addr, plen } = parsePrefix(prefix);
    return this.byLength[plen]?.get(addr | 0);
  }

  /** Longest-prefix match of an address given as an unsigned number. */
  lookup(addr: number): Route | undefined {
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const plen = lengths[i]!;
      const r = this.byLength[plen]!.get((addr & maskOf(plen)) | 0);
      if (r) return r;
    }
    return undefined;
  }

  /** Every route, by address then prefix length (the order `rt --dump` walks). */
  list(): Route[] {
    const all: Route[] = [];
    for (const m of this.byLength) if (m) for (const r of m.values()) all.push(r);
    return all.sort((a, b) => a.addr - b.addr || a.plen - b.plen);
  }
}
