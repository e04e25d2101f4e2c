import { formatIpv4, formatIpv6 } from '../../../codecs/util/reader.js';
import { parseIpv4, parseIpv6 } from '../../../codecs/util/writer.js';
import {
  unicastEntry,
  unicastNextHop,
  type PublishItem,
  type UnicastEntry,
  type UnicastNextHop,
} from '../../../codecs/xmpp/index.js';
import type { Path } from '../../rib/path.js';
import { agentExtraOf } from '../agent-path.js';
import { originVnOfAttrs } from '../origin-vn.js';
import type { AgentRoute, RouteUpdate, UnicastFamily } from '../route-hub.js';
import { violation } from './violation.js';

/**
 * Agent items in, CN items out, for the unicast families (dialect notes sections 7.1, 8.3, 9.1,
 * 10.1). Checks are those the real CN makes before it turns an item into a path, plus the
 * syntax it would assert on; a failure is a `bad-format` stream error.
 */

/** The master (fabric) instance: plain inet routes there carry label 0, elsewhere non-zero. */
export const MASTER_INSTANCE = 'default-domain:default-project:ip-fabric:__default__';

const MAX_LABEL = 0xfffff;
/** Names the CN maps to tunnel-encapsulation communities; `vxlan` is ignored for inet (9.1). */
const INET_ENCAPS = new Set(['gre', 'udp', 'mpls', 'native']);

function parseAddress(family: UnicastFamily, text: string): Uint8Array | undefined {
  try {
    return family === 'inet' ? parseIpv4(text) : parseIpv6(text);
  } catch {
    return undefined;
  }
}

/** `addr/plen` in canonical text with host bits cleared, or undefined when malformed. */
export function canonicalPrefix(family: UnicastFamily, text: string): string | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const lenText = text.slice(slash + 1);
  if (lenText.length === 0 || lenText.length > 3) return undefined;
  let plen = 0;
  for (let i = 0; i < lenText.length; i++) {
    const d = lenText.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    plen = plen * 10 + d;
  }
  const bits = family === 'inet' ? 32 : 128;
  if (plen > bits) return undefined;
  const b = parseAddress(family, text.slice(0, slash));
  if (!b) return undefined;
  for (let i = 0; i < b.length; i++) {
    const keep = Math.min(8, Math.max(0, plen - i * 8));
    b[i] = b[i]! & (0xff00 >> keep) & 0xff;
  }
  return `${family === 'inet' ? formatIpv4(b) : formatIpv6(b)}/${plen}`;
}

/** The node's AFI/SAFI as a family this slice routes, or undefined. */
export function unicastFamilyOf(afi: number, safi: number): UnicastFamily | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'inet' : afi === 2 ? 'inet6' : undefined;
}

/** The prefix an item names (all a dissociate needs). */
export function itemPrefix(family: UnicastFamily, entry: UnicastEntry): string {
  const afi = family === 'inet' ? 1 : 2;
  if (entry.nlri.af !== afi || entry.nlri.safi !== 1) {
    violation('bad-format', `nlri af/safi ${entry.nlri.af}/${entry.nlri.safi} do not match the publish node's ${afi}/1`);
  }
  const prefix = canonicalPrefix(family, entry.nlri.address);
  if (prefix === undefined) violation('bad-format', `nlri address "${entry.nlri.address}" is not a ${family} prefix`);
  return prefix;
}

/** An associate's item as a route, or a ProtocolViolation. */
export function agentRoute(family: UnicastFamily, instance: string, entry: UnicastEntry): AgentRoute {
  const prefix = itemPrefix(family, entry);
  if (entry.nextHops.length !== 1) violation('bad-format', `an agent route has exactly one next-hop, found ${entry.nextHops.length}`);
  const nh = entry.nextHops[0]!;
  if (nh.af !== 1) violation('bad-format', `next-hop af ${nh.af}: agents announce IPv4 next hops`);
  const addr = parseAddress('inet', nh.address);
  if (!addr || (addr[0] === 0 && addr[1] === 0 && addr[2] === 0 && addr[3] === 0)) {
    violation('bad-format', `next-hop address "${nh.address}" is not a non-zero IPv4 address`);
  }
  if (nh.label > MAX_LABEL) violation('bad-format', `label ${nh.label} exceeds 20 bits`);
  const master = instance === MASTER_INSTANCE;
  if (master && nh.label !== 0) violation('bad-format', `label ${nh.label} in the master instance (must be 0)`);
  if (!master && nh.label === 0) violation('bad-format', `label 0 outside the master instance`);
  const encapsulations: string[] = [];
  for (const e of nh.tunnelEncapsulation) if (INET_ENCAPS.has(e) && !encapsulations.includes(e)) encapsulations.push(e);
  // The CN marks such a path infeasible; a path nobody can reach is an agent bug worth surfacing.
  if (nh.tunnelEncapsulation.length > 0 && encapsulations.length === 0) {
    violation('bad-format', `no usable tunnel encapsulation in [${nh.tunnelEncapsulation.join(', ')}]`);
  }
  return {
    prefix,
    nextHop: formatIpv4(addr),
    label: nh.label,
    encapsulations,
    mac: nh.mac,
    tags: nh.tags,
    localPreference: entry.localPreference,
    med: entry.med,
    securityGroups: entry.securityGroups,
    communityTags: entry.communityTags,
    sequenceNumber: entry.mobility.seqno !== 0 ? entry.mobility.seqno : entry.sequenceNumber,
    sticky: entry.mobility.sticky,
    loadBalance: entry.loadBalance,
    subProtocol: entry.subProtocol,
  };
}

/** The VN of a book-style instance name `<domain>:<project>:<vn>:<vn>` (origin VN, 10.1). */
export function virtualNetworkOf(instance: string): string {
  const i = instance.lastIndexOf(':');
  return i > 0 ? instance.slice(0, i) : 'unresolved';
}

/** A VN index's fq name (the model's virtual networks), undefined when no network has it. */
export type NetworkOfIndex = (index: number) => string | undefined;

const VRF_TABLE_SUFFIXES = ['.inet.0', '.inet6.0'];

/**
 * The network a path belongs to, as Contrail's CN names it per next hop (10.1): the OriginVN
 * community's network (`unresolved` when no network has that index). A path without one is
 * the VRF's own unless it was replicated from another VRF: Contrail stamps OriginVN on agent
 * paths when it takes them in, weft only when they leave for BGP, so the VRF it came from
 * stands in. A plain BGP route (a gateway's) stays the VRF's.
 */
export function pathNetwork(p: Path, instance: string, networkOf: NetworkOfIndex | undefined): string {
  const index = originVnOfAttrs(p.attrs);
  if (networkOf && index !== undefined) return networkOf(index) ?? 'unresolved';
  const home = p.primary?.table;
  const suffix = home === undefined ? undefined : VRF_TABLE_SUFFIXES.find((x) => home.endsWith(x));
  if (home !== undefined && suffix !== undefined) return virtualNetworkOf(home.slice(0, -suffix.length));
  return virtualNetworkOf(instance);
}

function nextHopOf(p: Path, vn: string): UnicastNextHop {
  const x = agentExtraOf(p);
  const label = p.labels?.[0] ?? 0;
  const encaps = x && x.encapsulations.length > 0 ? x.encapsulations : label !== 0 ? ['gre'] : [];
  return unicastNextHop({ af: 1, address: p.attrs.nextHop, label, tunnelEncapsulation: encaps, virtualNetwork: vn, tags: x?.tags ?? [] });
}

function sameNextHop(a: UnicastNextHop, b: UnicastNextHop): boolean {
  return (
    a.address === b.address &&
    a.label === b.label &&
    a.virtualNetwork === b.virtualNetwork &&
    a.tunnelEncapsulation.join() === b.tunnelEncapsulation.join() &&
    a.tags.join() === b.tags.join()
  );
}

/**
 * One item per prefix; ECMP paths become next-hops, one per distinct (address, label, encap, VN,
 * tags). The entry's network is the best path's. Without `networkOf` OriginVN is not read
 * (every path then names the VRF's network or the one it was replicated from).
 */
export function routeItem(family: UnicastFamily, instance: string, u: RouteUpdate, networkOf?: NetworkOfIndex): PublishItem {
  const best = u.ecmp[0]!;
  const vn = pathNetwork(best, instance, networkOf);
  const nextHops: UnicastNextHop[] = [];
  for (const p of u.ecmp) {
    const nh = nextHopOf(p, p === best ? vn : pathNetwork(p, instance, networkOf));
    if (!nextHops.some((o) => sameNextHop(o, nh))) nextHops.push(nh);
  }
  const x = agentExtraOf(best);
  const seqno = x?.sequenceNumber ?? 0;
  const entry = unicastEntry({
    nlri: { af: family === 'inet' ? 1 : 2, safi: 1, address: u.prefix },
    nextHops,
    virtualNetwork: vn,
    mobility: { sticky: x?.sticky ?? false, seqno },
    sequenceNumber: seqno,
    securityGroups: x?.securityGroups ?? [],
    communityTags: x?.communityTags ?? [],
    localPreference: best.attrs.localPref ?? 0,
    med: best.attrs.med ?? 0,
    ...(x ? { loadBalance: x.loadBalance, subProtocol: x.subProtocol } : {}),
  });
  return { id: u.prefix, entry };
}
