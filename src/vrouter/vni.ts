/** VXLAN network identifiers -> VRF (the VN id, or the configured VXLAN id). */
export class VniTable {
  private readonly byVni = new Map<number, number>();

  set(vni: number, vrf: number): void {
    if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new RangeError(`VNI ${vni} outside 1-16777215`);
    this.byVni.set(vni, vrf);
  }

  lookup(vni: number): number | undefined {
    return this.byVni.get(vni);
  }

  delete(vni: number): boolean {
    return this.byVni.delete(vni);
  }

  list(): { vni: number; vrf: number }[] {
    return [...this.byVni].map(([vni, vrf]) => ({ vni, vrf })).sort((a, b) => a.vni - b.vni);
  }
}
