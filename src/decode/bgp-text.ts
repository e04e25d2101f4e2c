import {
  ATTR_NAMES,
  BGP_TYPE_NAMES,
  CAPABILITY_NAMES,
  TUNNEL_TYPE_NAMES,
  describeExtCommunity,
  formatAsPath,
  formatCommunity,
  formatLabelStack,
  formatLargeCommunity,
  formatMpNextHop,
  formatNlri,
  formatRd,
  notificationName,
  type Capability,
  type MplsLabel,
  type Nlri,
  type OptionalParameter,
  type PathAttribute,
} from '../../codecs/bgp/index.js';
import { toHex } from '../../codecs/util/hex.js';
import type { DecodedBgpMessage } from './bgp-session.js';
import type { Layer, LayerError } from './types.js';

/**
 * The `bgp` layer as text, in the manner of `tshark -V`: one subtree per message, codes shown
 * with their names (message types, capabilities, path attributes, ORIGIN, AFI/SAFI,
 * NOTIFICATION codes), AS paths, communities and NLRI in the codec's text forms. The JSON
 * output stays the plain codec values; this is for people.
 */

const ORIGIN_NAMES: Readonly<Record<number, string>> = { 0: 'IGP', 1: 'EGP', 2: 'INCOMPLETE' };

/** tshark 4.0 wording. */
const AFI_NAMES: Readonly<Record<number, string>> = { 1: 'IPv4', 2: 'IPv6', 25: 'Layer-2 VPN' };
const SAFI_NAMES: Readonly<Record<number, string>> = {
  1: 'Unicast',
  2: 'Multicast',
  4: 'Labeled Unicast',
  70: 'EVPN',
  128: 'Labeled VPN Unicast',
  132: 'Route Target Filter',
};
const ADD_PATH_DIRECTIONS: Readonly<Record<number, string>> = { 1: 'Receive', 2: 'Send', 3: 'Receive/Send' };
const ROUTE_REFRESH_SUBTYPES: Readonly<Record<number, string>> = {
  0: 'Normal route refresh request',
  1: 'Begin of Route Refresh',
  2: 'End of Route Refresh',
};
const EVPN_ROUTE_NAMES: Readonly<Record<number, string>> = {
  1: 'Ethernet AD Route',
  2: 'MAC Advertisement Route',
  3: 'Inclusive Multicast Route',
  4: 'Ethernet Segment Route',
  5: 'IP Prefix route',
};

const named = (names: Readonly<Record<number, string>>, code: number): string => `${names[code] ?? 'Unknown'} (${code})`;
const afiSafi = (afi: number, safi: number): string => `AFI ${named(AFI_NAMES, afi)}, SAFI ${named(SAFI_NAMES, safi)}`;

function flagsText(flags: number): string {
  const f = [flags & 0x80 ? 'Optional' : 'Well-known', flags & 0x40 ? 'Transitive' : 'Non-transitive', flags & 0x20 ? 'Partial' : 'Complete'];
  if (flags & 0x10) f.push('Extended Length');
  return `0x${flags.toString(16).padStart(2, '0')}, ${f.join(', ')}`;
}

export function errorText(e: LayerError): string {
  const n = e.notification ? ` (NOTIFICATION ${notificationName(e.notification.code, e.notification.subcode)})` : '';
  return `${e.field} at offset ${e.offset}: ${e.reason}${n}`;
}

/** Appends the text of a `bgp` layer's messages (the layer title is the caller's). */
export function bgpLayerText(lines: string[], layer: Layer, indent: string): void {
  const cont = layer['continuation'];
  if (typeof cont === 'number') lines.push(`${indent}Continuation: ${cont} bytes before the first marker`);
  const messages = Array.isArray(layer['messages']) ? (layer['messages'] as DecodedBgpMessage[]) : [];
  for (const m of messages) messageText(lines, m, indent);
}

function messageText(lines: string[], m: DecodedBgpMessage, ind: string): void {
  const code = TYPE_CODES[m.type] ?? Number(/^type-(\d+)$/.exec(m.type)?.[1] ?? 0);
  const typeName = BGP_TYPE_NAMES[code] ?? 'Unknown message type';
  const i1 = `${ind}    `;
  lines.push(`${ind}${typeName} Message`);
  lines.push(`${i1}Length: ${m.length}${m.truncated ? ' (truncated: the capture ends inside the message)' : ''}`);
  lines.push(`${i1}Type: ${typeName} Message (${code})`);
  if (m.frames) lines.push(`${i1}[Reassembled from frames ${m.frames.join(', ')}]`);
  if (m.options && m.type === 'update') {
    const o = [m.options.fourOctetAs ? '4-octet AS' : '2-octet AS'];
    if (m.options.addPath) o.push('ADD-PATH');
    if (m.options.extendedMessage) o.push('extended messages');
    lines.push(`${i1}[Session: ${o.join(', ')} (${m.options.source === 'open' ? 'from the OPENs' : 'guessed'})]`);
  }
  const body = m.message as Record<string, unknown> | undefined;
  if (body) {
    switch (m.type) {
      case 'open':
        openText(lines, body, i1);
        break;
      case 'update':
        updateText(lines, body, i1);
        break;
      case 'notification': {
        const c = body['code'] as number;
        const s = body['subcode'] as number;
        lines.push(`${i1}Error: ${notificationName(c, s)}`);
        if (typeof body['shutdownMessage'] === 'string') lines.push(`${i1}Shutdown communication: ${JSON.stringify(body['shutdownMessage'])}`);
        else if (body['data'] instanceof Uint8Array && body['data'].length) lines.push(`${i1}Data: ${toHex(body['data'])}`);
        break;
      }
      case 'route-refresh':
        lines.push(`${i1}${afiSafi(body['afi'] as number, body['safi'] as number)}`);
        lines.push(`${i1}Subtype: ${named(ROUTE_REFRESH_SUBTYPES, body['subtype'] as number)}`);
        if (body['orf'] instanceof Uint8Array) lines.push(`${i1}ORF entries: ${toHex(body['orf'])}`);
        break;
    }
  }
  if (m.raw) lines.push(`${i1}Raw: ${toHex(m.raw)}`);
  if (m.action) lines.push(`${i1}[RFC 7606: ${m.action}]`);
  // Errors of attributes were shown on the attribute; the packet lists all of them again.
  const shown = new Set<string>();
  for (const a of (body?.['attributes'] as PathAttribute[] | undefined) ?? []) if (a.kind === 'malformed') shown.add(`${a.error.field}@${a.error.offset}`);
  for (const e of m.errors ?? []) if (!shown.has(`${e.field}@${e.offset}`)) lines.push(`${i1}[Malformed: ${errorText(e)}]`);
}

const TYPE_CODES: Readonly<Record<string, number>> = { open: 1, update: 2, notification: 3, keepalive: 4, 'route-refresh': 5 };

function openText(lines: string[], o: Record<string, unknown>, ind: string): void {
  lines.push(`${ind}Version: ${String(o['version'])}`);
  lines.push(`${ind}My AS: ${String(o['myAs'])}`);
  lines.push(`${ind}Hold Time: ${String(o['holdTime'])}`);
  lines.push(`${ind}BGP Identifier: ${String(o['bgpId'])}`);
  if (o['extendedParams']) lines.push(`${ind}[Extended optional parameters (RFC 9072)]`);
  for (const p of (o['params'] as OptionalParameter[] | undefined) ?? []) {
    if (p.kind === 'unknown') {
      lines.push(`${ind}Optional Parameter: Unknown (${p.type})${p.raw.length ? `: ${toHex(p.raw)}` : ''}`);
      continue;
    }
    lines.push(`${ind}Optional Parameter: Capability (${p.type})`);
    for (const c of p.capabilities) lines.push(`${ind}    Capability: ${named(CAPABILITY_NAMES, c.code)}${capabilityDetail(c)}`);
  }
}

function capabilityDetail(c: Capability): string {
  switch (c.kind) {
    case 'multiprotocol':
      return `: ${afiSafi(c.afi, c.safi)}`;
    case 'four-octet-as':
      return `: AS ${c.asn}`;
    case 'graceful-restart': {
      const f = [c.restart ? 'Restart' : '', c.notification ? 'Notification' : ''].filter(Boolean);
      const fam = c.families.map((x) => `${afiSafi(x.afi, x.safi)}${x.forwarding ? ' (forwarding preserved)' : ''}`);
      return `: restart time ${c.time} s${f.length ? `, flags ${f.join(', ')}` : ''}${fam.length ? `; ${fam.join('; ')}` : ''}`;
    }
    case 'add-path':
      return `: ${c.families.map((x) => `${afiSafi(x.afi, x.safi)} ${named(ADD_PATH_DIRECTIONS, x.sendReceive)}`).join('; ')}`;
    case 'fqdn':
      return `: hostname ${JSON.stringify(c.hostname)}, domain ${JSON.stringify(c.domain)}`;
    case 'extended-next-hop':
      return `: ${c.tuples.map((x) => `${afiSafi(x.afi, x.safi)} via ${named(AFI_NAMES, x.nextHopAfi)}`).join('; ')}`;
    case 'multiple-labels':
      return `: ${c.families.map((x) => `${afiSafi(x.afi, x.safi)} up to ${x.count} labels`).join('; ')}`;
    case 'unknown':
      return c.raw.length ? `: ${toHex(c.raw)}` : '';
    default:
      return '';
  }
}

function updateText(lines: string[], u: Record<string, unknown>, ind: string): void {
  const withdrawn = (u['withdrawn'] as Nlri[] | undefined) ?? [];
  const attributes = (u['attributes'] as PathAttribute[] | undefined) ?? [];
  const nlri = (u['nlri'] as Nlri[] | undefined) ?? [];
  if (withdrawn.length) {
    lines.push(`${ind}Withdrawn Routes (${withdrawn.length})`);
    for (const n of withdrawn) lines.push(`${ind}    ${nlriText(n)}`);
  }
  lines.push(`${ind}Path attributes (${attributes.length})`);
  for (const a of attributes) attributeText(lines, a, `${ind}    `);
  if (nlri.length) {
    lines.push(`${ind}Network Layer Reachability Information (${nlri.length})`);
    for (const n of nlri) lines.push(`${ind}    ${nlriText(n)}`);
  }
}

function attributeText(lines: string[], a: PathAttribute, ind: string): void {
  const name = ATTR_NAMES[a.code] ?? 'Unknown';
  const v = a.kind === 'malformed' ? a.value : a;
  const summary = v ? attributeSummary(v) : '';
  lines.push(`${ind}Path Attribute - ${name} (${a.code})${summary ? `: ${summary}` : ''}`);
  const i1 = `${ind}    `;
  lines.push(`${i1}Flags: ${flagsText(a.flags)}`);
  if (a.kind === 'malformed') {
    lines.push(`${i1}[Malformed (RFC 7606: ${a.action}): ${errorText(a.error)}]`);
    if (!v && a.raw.length) lines.push(`${i1}Value: ${toHex(a.raw)}`);
  }
  if (v) attributeDetail(lines, v, i1);
}

function attributeSummary(a: PathAttribute): string {
  switch (a.kind) {
    case 'origin':
      return named(ORIGIN_NAMES, a.origin);
    case 'as-path':
    case 'as4-path':
      return a.segments.length ? formatAsPath(a.segments) : '(empty)';
    case 'next-hop':
      return a.nextHop;
    case 'med':
      return String(a.med);
    case 'local-pref':
      return String(a.localPref);
    case 'aggregator':
    case 'as4-aggregator':
      return `AS ${a.asn}, ${a.address}`;
    case 'communities':
      return a.communities.map(formatCommunity).join(' ');
    case 'originator-id':
      return a.originatorId;
    case 'cluster-list':
      return a.clusterList.join(' ');
    case 'large-communities':
      return a.communities.map(formatLargeCommunity).join(' ');
    case 'mp-reach':
      return `${afiSafi(a.afi, a.safi)}, next hop ${formatMpNextHop(a.nextHop)}`;
    case 'mp-unreach':
      return afiSafi(a.afi, a.safi);
    case 'ext-communities':
      return `${a.communities.length} communit${a.communities.length === 1 ? 'y' : 'ies'}`;
    case 'pmsi-tunnel':
      return `tunnel type ${a.tunnelType}, flags 0x${a.tunnelFlags.toString(16).padStart(2, '0')}, label field ${a.label}, tunnel id ${toHex(a.tunnelId)}`;
    case 'tunnel-encap':
      return a.tunnels.map((t) => TUNNEL_TYPE_NAMES[t.tunnelType] ?? `tunnel type ${t.tunnelType}`).join(', ');
    case 'unknown':
      return `${a.raw.length} bytes${a.raw.length ? ` ${toHex(a.raw)}` : ''}`;
    default:
      return '';
  }
}

function attributeDetail(lines: string[], a: PathAttribute, ind: string): void {
  switch (a.kind) {
    case 'as-path':
    case 'as4-path':
      for (const s of a.segments) lines.push(`${ind}AS Path segment: ${named(SEGMENT_NAMES, s.type)}: ${s.asns.join(' ')}`);
      break;
    case 'ext-communities':
      for (const c of a.communities) lines.push(`${ind}${describeExtCommunity(c)}`);
      break;
    case 'mp-reach':
      if (a.reserved) lines.push(`${ind}Reserved (SNPA count): ${a.reserved}`);
      for (const n of a.nlri) lines.push(`${ind}${nlriText(n)}`);
      break;
    case 'mp-unreach':
      for (const n of a.withdrawn) lines.push(`${ind}${nlriText(n)}`);
      break;
    case 'tunnel-encap':
      for (const t of a.tunnels) {
        lines.push(`${ind}Tunnel: ${named(TUNNEL_TYPE_NAMES, t.tunnelType)}`);
        for (const s of t.subTlvs) lines.push(`${ind}    Sub-TLV ${s.type}: ${s.value ? JSON.stringify(s.value) : toHex(s.raw)}`);
      }
      break;
    default:
      break;
  }
}

const SEGMENT_NAMES: Readonly<Record<number, string>> = { 1: 'AS_SET', 2: 'AS_SEQUENCE', 3: 'AS_CONFED_SEQUENCE', 4: 'AS_CONFED_SET' };

function labelText(l: MplsLabel): string {
  // EVPN over VXLAN carries a VNI in the same 24 bits: show the field whole as well.
  return `${l.value}${l.bottom ? ' (bottom)' : ''}${l.raw !== undefined ? ` / VNI ${l.raw}` : ''}`;
}

function nlriText(n: Nlri): string {
  const pid = 'pathId' in n && n.pathId !== undefined ? ` path-id ${n.pathId}` : '';
  switch (n.kind) {
    case 'labeled':
      return `${n.prefix} label ${formatLabelStack(n.labels)}${pid}`;
    case 'vpn':
      return `RD ${formatRd(n.rd)} ${n.prefix} label ${formatLabelStack(n.labels)}${pid}`;
    case 'rtc':
      if (n.length === 0) return `RT membership: default route (/0)${pid}`;
      if (n.rt !== undefined) return `RT membership: origin AS ${n.originAs}, route target ${n.rt} (/${n.length})${pid}`;
      return `RT membership: origin AS ${n.originAs}${n.routeTarget.length ? `, route target prefix ${toHex(n.routeTarget)}` : ''} (/${n.length})${pid}`;
    case 'evpn': {
      const f: string[] = [];
      if ('rd' in n) f.push(`RD ${formatRd(n.rd)}`);
      if ('esi' in n) f.push(`ESI ${n.esi}`);
      if ('ethernetTag' in n) f.push(`tag ${n.ethernetTag}`);
      if ('mac' in n) f.push(`MAC ${n.mac}`);
      if ('ip' in n && n.ip !== undefined) f.push(`IP ${n.ip}`);
      if ('prefix' in n) f.push(`prefix ${n.prefix}, gateway ${n.gateway}`);
      if ('originatorIp' in n) f.push(`originator ${n.originatorIp}`);
      if ('label1' in n) f.push(`label ${labelText(n.label1)}`);
      if ('label2' in n && n.label2) f.push(`label2 ${labelText(n.label2)}`);
      if ('label' in n) f.push(`label ${labelText(n.label)}`);
      if ('raw' in n) f.push(`raw ${toHex(n.raw)}`);
      return `EVPN ${named(EVPN_ROUTE_NAMES, n.routeType)}: ${f.join(', ')}${pid}`;
    }
    default:
      return formatNlri(n);
  }
}
