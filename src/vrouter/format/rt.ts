/** `rt --dump <vrf>` / `rt --get <prefix> --vrf <vrf>` in the vRouter utility's layout. */
import { routeFlags, type Route } from '../route-table.js';

export const RT_LEGEND = 'Flags: L=Label Valid, P=Proxy ARP, T=Trap ARP, F=Flood ARP';
export const RT_COLUMNS = 'Destination           PPL        Flags        Label         Nexthop    Stitched MAC(Index)';

/** ether_ntoa style: octets without leading zeros, as `rt` prints the stitched MAC. */
function shortMac(mac: string): string {
  return mac
    .split(':')
    .map((o) => o.replace(/^0(?=.)/, ''))
    .join(':');
}

/** Field widths as rt.c prints them: prefix padded to 21, PPL %4d, flags %5s, label %5d, nh %7d. */
export function formatRoute(r: Route): string {
  const dest = `${r.prefix.slice(0, r.prefix.indexOf('/'))}/${String(r.plen).padEnd(2)}`.padEnd(21);
  const label = r.label !== undefined ? String(r.label).padStart(5) : '    -';
  const mac = r.stitchedMac ? `${shortMac(r.stitchedMac.mac)}(${r.stitchedMac.index})` : '-';
  return `${dest}${String(r.ppl).padStart(4)}${' '.repeat(8)}${routeFlags(r).padStart(5)}${' '.repeat(6)}${label}${' '.repeat(8)}${String(r.nh).padStart(7)}${' '.repeat(8)}${mac}`;
}

function header(vrf: number): string[] {
  return [RT_LEGEND, `vRouter inet4 routing table 0/${vrf}/unicast`, RT_COLUMNS];
}

export function formatRtDump(vrf: number, routes: readonly Route[]): string {
  return [...header(vrf), ...routes.map(formatRoute), ''].join('\n');
}

/** `rt --get`: the matching route (longest prefix) under a "Match" line. */
export function formatRtGet(vrf: number, asked: string, route: Route | undefined): string {
  const out = [`Match ${asked} in vRouter inet4 table 0/${vrf}/unicast`, '', ...header(vrf)];
  if (route) out.push(formatRoute(route));
  out.push('');
  return out.join('\n');
}
