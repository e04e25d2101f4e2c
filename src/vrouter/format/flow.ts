/** `flow -l` / `flow --match <ip>[:port]` in the vRouter utility's layout. */
import { tcpStateString, type FlowAction, type FlowEntry, type FlowTableStats } from '../flow.js';

export const FLOW_LEGEND = [
  'Action:F=Forward, D=Drop N=NAT(S=SNAT, D=DNAT, Ps=SPAT, Pd=DPAT, L=Link Local Port)',
  ' Other:K(nh)=Key_Nexthop, S(nh)=RPF_Nexthop',
  ' Flags:E=Evicted, Ec=Evict Candidate, N=New Flow, M=Modified Dm=Delete Marked',
  'TCP(r=reverse):S=SYN, F=FIN, R=RST, C=HalfClose, E=Established, D=Dead',
];
export const FLOW_COLUMNS = '    Index                Source:Port/Destination:Port                      Proto(V)';
export const FLOW_RULE = ' ----------------------------------------------------------------------------------';

/** F, D(reason) or N(S D Ps Pd letters), as the Action field shows. */
export function flowActionString(a: FlowAction): string {
  if (a.type === 'forward') return 'F';
  if (a.type === 'drop') return `D(${a.reason})`;
  return `N(${a.snat ? 'S' : ''}${a.dnat ? 'D' : ''}${a.spat ? 'Ps' : ''}${a.dpat ? 'Pd' : ''})`;
}

/** The utility wraps the detail line once it has passed this column. */
const WRAP_AFTER = 68;

export function formatFlowEntry(e: FlowEntry): string {
  const idx = String(e.index).padStart(9) + '<=>' + String(e.rflow).padEnd(13);
  // NAT entries carry a destination VRF and print it even when it is the same one.
  const v = e.action.type === 'nat' ? `${e.key.vrf}->${e.destVrf}` : String(e.key.vrf);
  const lines = [
    `${idx}${`${e.key.src}:${e.key.sport}`.padEnd(49)}${String(e.key.proto).padStart(4)} (${v})`,
    `${' '.repeat(25)}${e.key.dst}:${e.key.dport}`,
  ];
  let line =
    `(Gen: ${e.gen}, K(nh):${e.keyNh}, Action:${flowActionString(e.action)}, Flags:, TCP:${tcpStateString(e.tcp)}, ` +
    `QOS:-1, S(nh):${e.rpfNh}, `;
  for (const seg of [` Stats:${e.packets}/${e.bytes}, `, ` SPort ${e.udpSrcPort}, TTL ${e.ttl}, Sinfo ${e.sinfo})`]) {
    if (line.length > WRAP_AFTER) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += seg;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

export interface FlowListing {
  entries: readonly FlowEntry[];
  stats: FlowTableStats;
  capacity: number;
  sizeBytes: number;
  /** Flows created per CPU; one CPU (all of `stats.created`) unless told. */
  perCpu?: readonly number[];
  /** `flow --match`: the ip[:port] asked for. */
  match?: { ip: string; port?: number };
}

export function formatFlowList(l: FlowListing): string {
  const s = l.stats;
  const out = [
    `Flow table(size ${l.sizeBytes}, entries ${l.capacity})`,
    '',
    `Entries: Created ${s.created} Added ${s.added} Deleted ${s.deleted} Changed ${s.changed}Processed ${s.processed} Used Overflow entries ${s.overflow}`,
    `(Created Flows/CPU: ${(l.perCpu ?? [s.created]).join(' ')})(oflows ${s.overflow})`,
    '',
    ...FLOW_LEGEND,
    '',
  ];
  if (l.match) out.push(`Listing flows matching ([${l.match.ip}]:${l.match.port ?? '*'})`, '');
  out.push(FLOW_COLUMNS, FLOW_RULE);
  for (const e of l.entries) out.push(formatFlowEntry(e), '');
  // Entries leave a blank line after them; with none the rule still ends its line.
  if (l.entries.length === 0) out.push('');
  return out.join('\n');
}
