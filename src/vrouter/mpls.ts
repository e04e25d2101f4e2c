/**
 * The MPLS input label map: label -> next hop. Labels are allocated per interface next hop
 * (not per VRF); 0-15 are reserved, unicast labels start at 16 and the table has 5120 slots
 * by default (vrouter's vr_mpls_labels).
 */
export const FIRST_UNICAST_LABEL = 16;
export const DEFAULT_LABEL_SPACE = 5120;

export class MplsTable {
  private readonly byLabel = new Map<number, number>();
  private readonly byNh = new Map<number, number>();
  private nextFree = FIRST_UNICAST_LABEL;

  constructor(readonly size = DEFAULT_LABEL_SPACE) {}

  /** The label of a next hop, allocating the lowest free one the first time; undefined when full. */
  allocate(nh: number): number | undefined {
    const have = this.byNh.get(nh);
    if (have !== undefined) return have;
    let l = this.nextFree;
    while (l < this.size && this.byLabel.has(l)) l++;
    if (l >= this.size) return undefined;
    this.byLabel.set(l, nh);
    this.byNh.set(nh, l);
    this.nextFree = l + 1;
    return l;
  }

  /** Installs a label chosen elsewhere (the agent restoring state); reserved labels refused. */
  set(label: number, nh: number): void {
    if (!Number.isInteger(label) || label < FIRST_UNICAST_LABEL || label >= this.size) {
      throw new RangeError(`label ${label} outside ${FIRST_UNICAST_LABEL}-${this.size - 1}`);
    }
    const old = this.byLabel.get(label);
    if (old !== undefined) this.byNh.delete(old);
    this.byLabel.set(label, nh);
    this.byNh.set(nh, label);
  }

  lookup(label: number): number | undefined {
    return this.byLabel.get(label);
  }

  labelOf(nh: number): number | undefined {
    return this.byNh.get(nh);
  }

  free(label: number): boolean {
    const nh = this.byLabel.get(label);
    if (nh === undefined) return false;
    this.byLabel.delete(label);
    if (this.byNh.get(nh) === label) this.byNh.delete(nh);
    if (label < this.nextFree) this.nextFree = label;
    return true;
  }

  list(): { label: number; nh: number }[] {
    return [...this.byLabel].map(([label, nh]) => ({ label, nh })).sort((a, b) => a.label - b.label);
  }
}
