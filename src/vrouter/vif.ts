/** vRouter interfaces (vifs): pod TAPs, the fabric NIC, the agent's pkt0 and vhost0. */
import { ipv4ToInt, maskOf } from './addr.js';

export type VifType = 'virtual' | 'physical' | 'agent' | 'host';

/**
 * `vif`'s flag letters in the order its legend lists them, which is also the order it
 * prints them in (PL3DEr = Policy, Layer 3, DHCP, Etree Root).
 */
export const VIF_FLAG_ORDER = [
  'P', 'X', 'S', 'Mr', 'Mt', 'Tc', 'L3', 'L2', 'D', 'Vp', 'Pr', 'Vnt', 'Mnp', 'Dpdk', 'Rfl', 'Mon',
  'Uuf', 'Vof', 'Df', 'L', 'Proxy', 'Er', 'Mn', 'Ig',
] as const;
export type VifFlag = (typeof VIF_FLAG_ORDER)[number];

export interface VifStats {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  drops: number;
}

export interface Vif {
  index: number;
  /** OS device name: tapeth0-304431 for a pod's eth0, eth0 / vhost0 / pkt0 for the others. */
  osName: string;
  type: VifType;
  vrf: number;
  mcastVrf: number;
  /** HWaddr column: the vRouter MAC on pod vifs, the NIC's MAC on the fabric. */
  mac: string;
  /** IPaddr column: the pod address (0.0.0.0 when none). */
  ip: string;
  /** Prefix length of the pod's subnet; its .254 / .253 are answered by ARP. */
  plen: number;
  /** The subnet's gateway and service addresses, answered by the vRouter (broadcast-1, -2 by default). */
  gateway?: string;
  dns?: string;
  /** The pod's own MAC (02:..), the destination of frames the vRouter sends it. */
  peerMac?: string;
  /** Interface next hop (Encap) and the L3 label allocated for it. */
  nh?: number;
  label?: number;
  flags: VifFlag[];
  qos: number;
  ref: number;
  stats: VifStats;
}

export interface VifInput {
  index?: number;
  osName: string;
  type: VifType;
  vrf?: number;
  mcastVrf?: number;
  mac: string;
  ip?: string;
  plen?: number;
  gateway?: string;
  dns?: string;
  peerMac?: string;
  flags?: VifFlag[];
  qos?: number;
  ref?: number;
}

export function emptyVifStats(): VifStats {
  return { rxPackets: 0, rxBytes: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txErrors: 0, drops: 0 };
}

/** The flags as `vif` prints them: concatenated in legend order. */
export function vifFlagString(flags: readonly VifFlag[]): string {
  return VIF_FLAG_ORDER.filter((f) => flags.includes(f)).join('');
}

export class VifTable {
  private readonly vifs = new Map<number, Vif>();

  add(input: VifInput): Vif {
    const index = input.index ?? this.nextIndex();
    if (this.vifs.has(index)) throw new RangeError(`vif0/${index} already exists`);
    const ip = input.ip ?? '0.0.0.0';
    const plen = input.plen ?? 32;
    const vif: Vif = {
      index,
      osName: input.osName,
      type: input.type,
      vrf: input.vrf ?? 0,
      mcastVrf: input.mcastVrf ?? input.vrf ?? 0,
      mac: input.mac,
      ip,
      plen,
      flags: input.flags ?? (input.type === 'virtual' ? ['P', 'L3', 'D', 'Er'] : ['L3', 'L2', 'Er']),
      qos: input.qos ?? -1,
      ref: input.ref ?? 6,
      stats: emptyVifStats(),
    };
    if (input.type === 'virtual' && ip !== '0.0.0.0' && plen < 31) {
      // Contrail gives every subnet's last two usable addresses to the vRouter: .254 gateway, .253 DNS.
      const broadcast = ((ipv4ToInt(ip) & maskOf(plen)) | ~maskOf(plen)) >>> 0;
      vif.gateway = input.gateway ?? intToText(broadcast - 1);
      vif.dns = input.dns ?? intToText(broadcast - 2);
    } else {
      if (input.gateway) vif.gateway = input.gateway;
      if (input.dns) vif.dns = input.dns;
    }
    if (input.peerMac) vif.peerMac = input.peerMac;
    this.vifs.set(index, vif);
    return vif;
  }

  get(index: number): Vif | undefined {
    return this.vifs.get(index);
  }

  delete(index: number): boolean {
    return this.vifs.delete(index);
  }

  list(): Vif[] {
    return [...this.vifs.values()].sort((a, b) => a.index - b.index);
  }

  private nextIndex(): number {
    let i = 0;
    while (this.vifs.has(i)) i++;
    return i;
  }
}

function intToText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
