/** VRFs: the vRouter's numbered routing instances, each with its own IPv4 route table. */
import { Ipv4RouteTable } from './route-table.js';

export interface Vrf {
  index: number;
  /** Routing-instance name (domain:project:vn:ri); informational. */
  name: string;
  routes: Ipv4RouteTable;
}

export class VrfTable {
  private readonly vrfs = new Map<number, Vrf>();

  /** Returns the VRF, creating it when new (index 0 is the fabric VRF). */
  ensure(index: number, name = `vrf-${index}`): Vrf {
    let v = this.vrfs.get(index);
    if (!v) {
      v = { index, name, routes: new Ipv4RouteTable() };
      this.vrfs.set(index, v);
    }
    return v;
  }

  get(index: number): Vrf | undefined {
    return this.vrfs.get(index);
  }

  delete(index: number): boolean {
    return this.vrfs.delete(index);
  }

  list(): Vrf[] {
    return [...this.vrfs.values()].sort((a, b) => a.index - b.index);
  }
}
