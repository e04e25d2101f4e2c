/** Why the data plane dropped a packet; counted per reason like vRouter's `dropstats`. */
export const DropReason = {
  /** Malformed or truncated (a DecodeError, a bad header checksum, a short L4 header). */
  InvalidPacket: 'InvalidPacket',
  /** Ingress vif unknown, or a vif the data plane does not read from. */
  InvalidIf: 'InvalidIf',
  InvalidLabel: 'InvalidLabel',
  InvalidVnid: 'InvalidVnid',
  /** EtherType / IP protocol / GRE payload the data plane does not forward. */
  InvalidProtocol: 'InvalidProtocol',
  /** A next hop id that does not exist, or one of a kind that cannot be used there. */
  InvalidNh: 'InvalidNh',
  /** No route for the destination in the VRF. */
  NoRoute: 'NoRoute',
  /** Discard next hop. */
  Discard: 'Discard',
  /** The flow's action is Drop (policy). */
  FlowActionDrop: 'FlowActionDrop',
  FlowTableFull: 'FlowTableFull',
  TtlExceeded: 'TtlExceeded',
  /** ARP request the vRouter does not answer (not its address, not a VRF address). */
  ArpNoWhereToGo: 'ArpNoWhereToGo',
  InvalidArp: 'InvalidArp',
  /** A bug: an exception other than DecodeError. Counted instead of crashing the agent. */
  InternalError: 'InternalError',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export type DropStats = Record<DropReason, number>;

export function emptyDropStats(): DropStats {
  const s = {} as DropStats;
  for (const r of Object.values(DropReason)) s[r] = 0;
  return s;
}
