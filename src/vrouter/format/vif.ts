/** `vif --list` / `vif --get N` in the vRouter utility's layout. */
import { vifFlagString, type Vif, type VifType } from '../vif.js';

export const VIF_LEGEND = [
  'Flags: P=Policy, X=Cross Connect, S=Service Chain, Mr=Receive Mirror',
  '       Mt=Transmit Mirror, Tc=Transmit Checksum Offload, L3=Layer 3, L2=Layer 2',
  '       D=DHCP, Vp=Vhost Physical, Pr=Promiscuous, Vnt=Native Vlan Tagged',
  '       Mnp=No MAC Proxy, Dpdk=DPDK PMD Interface, Rfl=Receive Filtering Offload, Mon=Interface is Monitored',
  '       Uuf=Unknown Unicast Flood, Vof=VLAN insert/strip offload, Df=Drop New Flows, L=MAC Learning Enabled',
  '       Proxy=MAC Requests Proxied Always, Er=Etree Root, Mn=Mirror without Vlan Tag, Ig=Igmp Trap Enabled',
];

const TYPE_NAMES: Record<VifType, string> = { virtual: 'Virtual', physical: 'Physical', agent: 'Agent', host: 'Host' };
const INDENT = ' '.repeat(12);

export function formatVif(v: Vif): string {
  return [
    `vif0/${v.index}`.padEnd(12) + `OS: ${v.osName}`,
    `${INDENT}Type:${TYPE_NAMES[v.type]} HWaddr:${v.mac} IPaddr:${v.ip}`,
    `${INDENT}Vrf:${v.vrf} Mcast Vrf:${v.mcastVrf} Flags:${vifFlagString(v.flags)} QOS:${v.qos} Ref:${v.ref}`,
    `${INDENT}RX packets:${v.stats.rxPackets}  bytes:${v.stats.rxBytes} errors:${v.stats.rxErrors}`,
    `${INDENT}TX packets:${v.stats.txPackets}  bytes:${v.stats.txBytes} errors:${v.stats.txErrors}`,
    `${INDENT}Drops:${v.stats.drops}`,
  ].join('\n');
}

/** `vif --list` (or `--get` with one vif): title, flag legend, then one block per vif. */
export function formatVifList(vifs: readonly Vif[]): string {
  const out = ['Vrouter Interface Table', '', ...VIF_LEGEND, ''];
  for (const v of vifs) out.push(formatVif(v), '');
  return out.join('\n');
}
