/**
 * The address families the speaker carries, their config names, and the route keys of their
 * NLRI in the Loc-RIB tables. A route key names a destination only (never labels or path ids):
 * labels ride on the path, so a re-announcement with a new label replaces the old path.
 */
import type { Nlri, RtcNlri, VpnNlri } from '../../codecs/bgp/index.js';
import { formatRd, parseRd, type RouteDistinguisher } from '../../codecs/bgp/rd.js';
import type { AfiSafi } from './fsm/messages.js';
import { rtcRouteKey } from '../rib/rtc.js';
import type { RtMembershipRoute } from '../rib/rtc.js';

export type FamilyName = 'ipv4-unicast' | 'vpnv4' | 'vpnv6' | 'rtc';

export const FAMILY_NAMES: readonly FamilyName[] = ['ipv4-unicast', 'vpnv4', 'vpnv6', 'rtc'];

const AFI_SAFI: Readonly<Record<FamilyName, AfiSafi>> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  vpnv4: { afi: 1, safi: 128 },
  vpnv6: { afi: 2, safi: 128 },
  rtc: { afi: 1, safi: 132 },
};

/** Table names as operators know them from Junos and Contrail. */
export const TABLE_NAMES: Readonly<Record<FamilyName, string>> = {
  'ipv4-unicast': 'inet.0',
  vpnv4: 'bgp.l3vpn.0',
  vpnv6: 'bgp.l3vpn-inet6.0',
  rtc: 'bgp.rtarget.0',
};

export function afiSafiOf(f: FamilyName): AfiSafi {
  return AFI_SAFI[f];
}

export function familyOf(afi: number, safi: number): FamilyName | undefined {
  if (afi === 1) {
    if (safi === 1) return 'ipv4-unicast';
    if (safi === 128) return 'vpnv4';
    if (safi === 132) return 'rtc';
  } else if (afi === 2 && safi === 128) return 'vpnv6';
  return undefined;
}

export function isVpnFamily(f: FamilyName): boolean {
  return f === 'vpnv4' || f === 'vpnv6';
}

export function isFamilyName(s: string): s is FamilyName {
  return (FAMILY_NAMES as readonly string[]).includes(s);
}

/** The RD of the previous key and its text: routes come in runs sharing one RD. */
let keyRd: RouteDistinguisher | undefined;
let keyRdText = '';

/**
 * The RD part of a key with its trailing ':'. Type 2 RDs get an 'L' so '64512:1' (type 0) and
 * AS 64512 in 4 bytes (type 2) never collide.
 */
function rdKey(n: VpnNlri): string {
  const rd = n.rd;
  const last = keyRd;
  if (last !== undefined && rd.assigned === last.assigned && rd.admin === last.admin && rd.type === last.type && rd.type <= 2) return keyRdText;
  const text = rd.type === 2 ? `${rd.admin}L:${rd.assigned}:` : `${formatRd(rd)}:`;
  keyRd = rd;
  keyRdText = text;
  return text;
}

/** The RT membership route an RTC NLRI stands for (route target bytes left-aligned in 64 bits). */
export function rtcMembership(n: RtcNlri): RtMembershipRoute {
  let rt = 0n;
  for (let i = 0; i < 8; i++) rt = (rt << 8n) | BigInt(n.routeTarget[i] ?? 0);
  return { prefixLength: n.length, originAs: n.originAs ?? 0, routeTarget: rt };
}

/** Route key of an NLRI of `family`, or undefined for NLRI the family cannot hold. */
export function routeKey(family: FamilyName, n: Nlri): string | undefined {
  switch (n.kind) {
    case 'prefix':
      return family === 'ipv4-unicast' ? n.prefix : undefined;
    case 'vpn':
      return family === 'vpnv4' || family === 'vpnv6' ? rdKey(n) + n.prefix : undefined;
    case 'rtc':
      return family === 'rtc' ? rtcRouteKey(rtcMembership(n)) : undefined;
    default:
      return undefined;
  }
}

/** Label values of a labeled NLRI (the RIB keeps them on the path). */
export function nlriLabels(n: Nlri): number[] | undefined {
  if (n.kind !== 'vpn' && n.kind !== 'labeled') return undefined;
  const out: number[] = new Array<number>(n.labels.length);
  for (let i = 0; i < n.labels.length; i++) out[i] = n.labels[i]!.value;
  return out;
}

export function labelStack(labels: readonly number[] | undefined): VpnNlri['labels'] {
  // RFC 8277: a route needs a label; 3 (implicit null) stands in when the path has none.
  if (labels === undefined || labels.length === 0) return [{ value: 3, tc: 0, bottom: true }];
  const out: VpnNlri['labels'] = new Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = { value: labels[i]!, tc: 0, bottom: i === labels.length - 1 };
  return out;
}

/**
 * Whether routeNlri cannot rebuild this NLRI from its route key, so the speaker must keep the
 * NLRI itself: RTC routes (their key is normalised) and RD types beyond 0-2 (kept as raw bytes).
 */
export function needsTemplate(n: Nlri): boolean {
  return n.kind === 'rtc' || (n.kind === 'vpn' && n.rd.type > 2);
}

/** The RD of the previous call: routes come in runs sharing one, and the encoder does not mutate it. */
let lastRdText = '';
let lastRd: RouteDistinguisher = { type: 0, admin: 0, assigned: 0 };

/**
 * The inverse of routeKey, with the path's labels: the NLRI to advertise or withdraw for a
 * destination. Rebuilding it costs less than holding a decoded NLRI per route; keys that
 * needsTemplate reports give undefined.
 */
export function routeNlri(family: FamilyName, key: string, labels: readonly number[] | undefined): Nlri | undefined {
  if (family === 'ipv4-unicast') return { kind: 'prefix', prefix: key };
  if (family !== 'vpnv4' && family !== 'vpnv6') return undefined;
  // An RD key holds exactly one ':' (type 2 carries an 'L'), so the second one ends it.
  const end = key.indexOf(':', key.indexOf(':') + 1);
  if (end < 0) return undefined;
  let rd: RouteDistinguisher;
  if (end === lastRdText.length && key.startsWith(lastRdText)) rd = lastRd;
  else {
    const text = key.slice(0, end);
    const colon = text.indexOf(':');
    if (text.charCodeAt(colon - 1) === 76 /* L */) {
      const r = parseRd(text.slice(0, colon - 1) + text.slice(colon));
      rd = { type: 2, admin: r.admin, assigned: r.assigned };
    } else rd = parseRd(text);
    lastRdText = text;
    lastRd = rd;
  }
  return { kind: 'vpn', rd, prefix: key.slice(end + 1), labels: labelStack(labels) };
}
