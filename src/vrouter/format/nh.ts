/** `nh --list` / `nh --get <id>` in the vRouter utility's layout. */
import type { NextHop } from '../nexthop.js';

const INDENT = ' '.repeat(14);
const TYPE_NAMES: Record<NextHop['type'], string> = {
  encap: 'Encap',
  tunnel: 'Tunnel',
  composite: 'Composite',
  receive: 'Receive',
  discard: 'Drop',
  resolve: 'Resolve',
};

function hexBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ' ' : '') + b[i]!.toString(16).padStart(2, '0');
  return s;
}

function flags(nh: NextHop): string {
  const f = ['Valid'];
  if (nh.policy) f.push('Policy');
  if (nh.type === 'composite') f.push('Ecmp');
  if (nh.type === 'tunnel') f.push(nh.encapType === 'VXLAN' ? 'Vxlan' : nh.encapType);
  f.push('Etree Root');
  return `${INDENT}Flags:${f.join(', ')},`;
}

/** One next hop: `Id:%-9d  Type:%-13s  Fmly:%8s  Rid:0  Ref_cnt:%-10d Vrf:%d` and its details. */
export function formatNextHop(nh: NextHop, refCount: number): string {
  const out = [
    `Id:${String(nh.id).padEnd(9)}  Type:${TYPE_NAMES[nh.type].padEnd(13)}  Fmly:${'AF_INET'.padStart(8)}  Rid:0  Ref_cnt:${String(refCount).padEnd(10)} Vrf:${nh.vrf}`,
    flags(nh),
  ];
  switch (nh.type) {
    case 'encap':
      out.push(`${INDENT}EncapFmly:${nh.encapFamily.toString(16).padStart(4, '0')} Oif:${nh.oif} Len:${nh.encap.length}`);
      out.push(`${INDENT}Encap Data: ${hexBytes(nh.encap)}`);
      break;
    case 'tunnel':
      out.push(`${INDENT}Oif:${nh.oif} Len:${nh.l2.length} Data:${hexBytes(nh.l2)}`);
      out.push(`${INDENT}Sip:${nh.sip} Dip:${nh.dip}`);
      break;
    case 'composite':
      out.push(`${INDENT}Valid Hash Key Parameters: Proto,SrcIP,SrcPort,DstIp,DstPort`);
      out.push(`${INDENT}Sub NH(label): ${nh.members.map((m) => `${m.nh}(${m.label})`).join(' ')}`);
      break;
    case 'receive':
      out.push(`${INDENT}Oif:${nh.oif}`);
      break;
    case 'discard':
    case 'resolve':
      break;
  }
  return out.join('\n');
}

/** Blocks separated by a blank line, as `nh --list` prints them. */
export function formatNextHops(nhs: readonly NextHop[], refCount: (id: number) => number): string {
  return nhs.map((nh) => `${formatNextHop(nh, refCount(nh.id))}\n`).join('\n');
}
