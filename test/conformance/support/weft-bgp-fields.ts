/**
 * The BGP fields the tshark conformance test compares, and a mapper from one message of
 * `weft decode --json` (docs/decode-json.md) to the values tshark 4.0 shows for them, in
 * tshark's text formats. Formatting is this module's job; the values must come from weft's
 * JSON as printed (the test parses packetToJson's output, not the typed objects), so anything
 * missing from the JSON shows up as a difference.
 *
 * A compared field is one tshark key, or a family of keys where tshark's key name depends on
 * a value weft keeps as a number (the subtype key of an extended community depends on its
 * type, the minor error key of a NOTIFICATION on its code). Keys tshark shows that are not in
 * this list are not compared.
 */
import { formatLabelStack, formatRd, formatRouteTarget, type MplsLabel, type RouteDistinguisher } from '../../../codecs/bgp/index.js';
import { fromHex } from '../../../codecs/util/hex.js';

export interface ComparedField {
  /** The tshark key, or `prefix*` for every key starting with prefix. */
  name: string;
  match: (key: string) => boolean;
}

const exact = (name: string): ComparedField => ({ name, match: (k) => k === name });
const prefixed = (prefix: string): ComparedField => ({ name: `${prefix}*`, match: (k) => k.startsWith(prefix) });

const PA = 'bgp.update.path_attribute';
const REACH = `${PA}.mp_reach_nlri`;
const UNREACH = `${PA}.mp_unreach_nlri`;

export const COMPARED_FIELDS: readonly ComparedField[] = [
  exact('bgp.type'),
  exact('bgp.length'),
  // OPEN
  exact('bgp.open.version'),
  exact('bgp.open.myas'),
  exact('bgp.open.holdtime'),
  exact('bgp.open.identifier'),
  exact('bgp.open.opt.param.type'),
  exact('bgp.cap.type'),
  exact('bgp.cap.mp.afi'),
  exact('bgp.cap.mp.safi'),
  exact('bgp.cap.4as'),
  exact('bgp.cap.gr.timers.restart_time'),
  exact('bgp.cap.ap.afi'),
  exact('bgp.cap.ap.safi'),
  exact('bgp.cap.ap.sendreceive'),
  exact('bgp.cap.orf.fqdn.hostname'),
  // UPDATE attributes
  exact(`${PA}.type_code`),
  exact(`${PA}.flags`),
  exact(`${PA}.origin`),
  exact(`${PA}.as_path_segment.type`),
  exact(`${PA}.as_path_segment.as2`),
  exact(`${PA}.as_path_segment.as4`),
  exact(`${PA}.next_hop`),
  exact(`${PA}.multi_exit_disc`),
  exact(`${PA}.local_pref`),
  exact(`${PA}.aggregator_as`),
  exact(`${PA}.aggregator_origin`),
  exact(`${PA}.originator_id`),
  exact(`${PA}.community_as`),
  exact(`${PA}.community_value`),
  exact(`${PA}.community_wellknown`),
  exact('bgp.ext_com.type'),
  prefixed('bgp.ext_com.stype_'),
  exact('bgp.ext_com.value_as2'),
  exact('bgp.ext_com.value_an4'),
  exact('bgp.ext_com.value_IP4'),
  exact('bgp.ext_com.value_an2'),
  exact('bgp.ext_com.value_as4'),
  exact('bgp.ext_com.tunnel_type'),
  exact('bgp.large_communities.ga'),
  exact('bgp.large_communities.ldp1'),
  exact('bgp.large_communities.ldp2'),
  exact(`${REACH}.afi`),
  exact(`${REACH}.safi`),
  exact(`${REACH}.next_hop.rd`),
  exact(`${REACH}.next_hop.ipv4`),
  exact(`${REACH}.next_hop.ipv6`),
  exact(`${REACH}.next_hop.ipv6.link_local`),
  exact(`${UNREACH}.afi`),
  exact(`${UNREACH}.safi`),
  // NLRI, withdrawn routes, MP_REACH / MP_UNREACH prefixes
  exact('bgp.nlri_prefix'),
  exact('bgp.withdrawn_prefix'),
  exact('bgp.mp_reach_nlri_ipv4_prefix'),
  exact('bgp.mp_reach_nlri_ipv6_prefix'),
  exact('bgp.mp_unreach_nlri_ipv4_prefix'),
  exact('bgp.mp_unreach_nlri_ipv6_prefix'),
  exact('bgp.prefix_length'),
  exact('bgp.nlri_path_id'),
  exact('bgp.rd'),
  exact('bgp.label_stack'),
  exact('bgp.originating_as'),
  exact('bgp.community_prefix'),
  exact('bgp.evpn.nlri.rt'),
  exact('bgp.evpn.nlri.rd'),
  exact('bgp.evpn.nlri.esi'),
  exact('bgp.evpn.nlri.etag'),
  exact('bgp.evpn.nlri.mac_addr'),
  exact('bgp.evpn.nlri.ip.addr'),
  exact('bgp.evpn.nlri.ipv6.addr'),
  exact('bgp.evpn.nlri.or_addr_ipv4'),
  exact('bgp.evpn.nlri.or_addr_ipv6'),
  exact('bgp.evpn.nlri.vni'),
  exact('bgp.evpn.nlri.mpls_ls1'),
  // NOTIFICATION, ROUTE-REFRESH
  exact('bgp.notify.major_error'),
  prefixed('bgp.notify.minor_error'),
  exact('bgp.notify.minor_data'),
  exact('bgp.route_refresh.afi'),
  exact('bgp.route_refresh.safi'),
];

/** One message of a `bgp` layer in weft's JSON (docs/decode-json.md), as parsed. */
export interface WeftBgpMessageJson {
  type: string;
  length: number;
  options?: { fourOctetAs?: boolean };
  message?: Record<string, unknown>;
  errors?: unknown[];
  raw?: string;
}

type Obj = Record<string, unknown>;
export type FieldValues = Map<string, string[]>;

const TYPE_CODES: Readonly<Record<string, number>> = { open: 1, update: 2, notification: 3, keepalive: 4, 'route-refresh': 5 };

/** tshark's type codes of the EXTENDED_COMMUNITIES whose value is AS2+AN4, IP4+AN2, AS4+AN2. */
const EXT_AS2 = new Set([0x00, 0x40]);
const EXT_IP4 = new Set([0x01, 0x41]);
const EXT_AS4 = new Set([0x02, 0x42]);
/** RFC 9012 tunnel types after which tshark shows an EVPN label field as a VNI. */
const VXLAN_TUNNELS = new Set([8, 12]);

class Out {
  readonly values: FieldValues = new Map();
  add(key: string, v: string | number | undefined): void {
    if (v === undefined) return;
    let list = this.values.get(key);
    if (!list) this.values.set(key, (list = []));
    list.push(String(v));
  }
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const colonHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The values tshark would show for `COMPARED_FIELDS`, keyed by field name. */
export function weftBgpFields(m: WeftBgpMessageJson): FieldValues {
  const out = new Out();
  out.add('bgp.type', TYPE_CODES[m.type] ?? (/^type-(\d+)$/.exec(m.type)?.[1] ?? m.type));
  out.add('bgp.length', m.length);
  const body = m.message;
  if (!body) return out.values;
  switch (m.type) {
    case 'open':
      openFields(out, body);
      break;
    case 'update':
      updateFields(out, body, m.options?.fourOctetAs === true);
      break;
    case 'notification': {
      const code = num(body['code']);
      out.add('bgp.notify.major_error', code);
      out.add('bgp.notify.minor_error*', num(body['subcode']));
      // OPEN errors and Cease put their data in dedicated fields (bad peer AS, shutdown
      // communication); the others show it raw.
      const data = str(body['data']);
      if (data && code !== 2 && code !== 6) out.add('bgp.notify.minor_data', colonHex(fromHex(data)));
      break;
    }
    case 'route-refresh':
      out.add('bgp.route_refresh.afi', num(body['afi']));
      out.add('bgp.route_refresh.safi', num(body['safi']));
      break;
  }
  return out.values;
}

function openFields(out: Out, o: Obj): void {
  out.add('bgp.open.version', num(o['version']));
  out.add('bgp.open.myas', num(o['myAs']));
  out.add('bgp.open.holdtime', num(o['holdTime']));
  out.add('bgp.open.identifier', str(o['bgpId']));
  for (const p of list(o['params'])) {
    out.add('bgp.open.opt.param.type', num(p['type']));
    for (const c of list(p['capabilities'])) {
      out.add('bgp.cap.type', num(c['code']));
      switch (c['kind']) {
        case 'multiprotocol':
          out.add('bgp.cap.mp.afi', num(c['afi']));
          out.add('bgp.cap.mp.safi', num(c['safi']));
          break;
        case 'four-octet-as':
          out.add('bgp.cap.4as', num(c['asn']));
          break;
        case 'graceful-restart':
          out.add('bgp.cap.gr.timers.restart_time', num(c['time']));
          break;
        case 'add-path':
          for (const f of list(c['families'])) {
            out.add('bgp.cap.ap.afi', num(f['afi']));
            out.add('bgp.cap.ap.safi', num(f['safi']));
            out.add('bgp.cap.ap.sendreceive', num(f['sendReceive']));
          }
          break;
        case 'fqdn':
          out.add('bgp.cap.orf.fqdn.hostname', str(c['hostname']));
          break;
      }
    }
  }
}

function updateFields(out: Out, u: Obj, fourOctetAs: boolean): void {
  for (const n of list(u['withdrawn'])) nlriFields(out, n, 'bgp.withdrawn_prefix', false);
  let vxlan = false;
  for (const raw of list(u['attributes'])) {
    out.add(`${PA}.type_code`, num(raw['code']));
    const flags = num(raw['flags']);
    out.add(`${PA}.flags`, flags === undefined ? undefined : hex2(flags));
    // A malformed attribute keeps its decoded value when only the flags were wrong.
    const a = raw['kind'] === 'malformed' ? obj(raw['value']) : raw;
    switch (a['kind']) {
      case 'origin':
        out.add(`${PA}.origin`, num(a['origin']));
        break;
      case 'as-path':
      case 'as4-path': {
        const key = a['kind'] === 'as-path' && !fourOctetAs ? 'as2' : 'as4';
        for (const s of list(a['segments'])) {
          out.add(`${PA}.as_path_segment.type`, num(s['type']));
          for (const asn of Array.isArray(s['asns']) ? s['asns'] : []) out.add(`${PA}.as_path_segment.${key}`, num(asn));
        }
        break;
      }
      case 'next-hop':
        out.add(`${PA}.next_hop`, str(a['nextHop']));
        break;
      case 'med':
        out.add(`${PA}.multi_exit_disc`, num(a['med']));
        break;
      case 'local-pref':
        out.add(`${PA}.local_pref`, num(a['localPref']));
        break;
      case 'aggregator':
      case 'as4-aggregator':
        out.add(`${PA}.aggregator_as`, num(a['asn']));
        out.add(`${PA}.aggregator_origin`, str(a['address']));
        break;
      case 'originator-id':
        out.add(`${PA}.originator_id`, str(a['originatorId']));
        break;
      case 'communities':
        for (const c of Array.isArray(a['communities']) ? a['communities'] : []) {
          if (typeof c !== 'number') continue;
          // tshark shows the reserved ranges 0x0000xxxx and 0xFFFFxxxx as one well-known value.
          const high = c >>> 16;
          if (high === 0 || high === 0xffff) out.add(`${PA}.community_wellknown`, hex8(c));
          else {
            out.add(`${PA}.community_as`, high);
            out.add(`${PA}.community_value`, c & 0xffff);
          }
        }
        break;
      case 'ext-communities':
        for (const ec of list(a['communities'])) {
          const t = num(ec['type']) ?? -1;
          out.add('bgp.ext_com.type', hex2(t));
          out.add('bgp.ext_com.stype_*', hex2(num(ec['subtype']) ?? -1));
          if (ec['kind'] === 'as2' && EXT_AS2.has(t)) {
            out.add('bgp.ext_com.value_as2', num(ec['asn']));
            out.add('bgp.ext_com.value_an4', num(ec['local']));
          } else if (ec['kind'] === 'ipv4' && EXT_IP4.has(t)) {
            out.add('bgp.ext_com.value_IP4', str(ec['address']));
            out.add('bgp.ext_com.value_an2', num(ec['local']));
          } else if (ec['kind'] === 'as4' && EXT_AS4.has(t)) {
            out.add('bgp.ext_com.value_as4', num(ec['asn']));
            out.add('bgp.ext_com.value_an2', num(ec['local']));
          } else if (ec['kind'] === 'encapsulation') {
            const tt = num(ec['tunnelType']);
            out.add('bgp.ext_com.tunnel_type', tt);
            if (tt !== undefined && VXLAN_TUNNELS.has(tt)) vxlan = true;
          }
        }
        break;
      case 'large-communities':
        for (const c of list(a['communities'])) {
          out.add('bgp.large_communities.ga', num(c['global']));
          out.add('bgp.large_communities.ldp1', num(c['local1']));
          out.add('bgp.large_communities.ldp2', num(c['local2']));
        }
        break;
      case 'mp-reach': {
        const afi = num(a['afi']);
        out.add(`${REACH}.afi`, afi);
        out.add(`${REACH}.safi`, num(a['safi']));
        nextHopFields(out, obj(a['nextHop']));
        const key = afi === 2 ? 'bgp.mp_reach_nlri_ipv6_prefix' : 'bgp.mp_reach_nlri_ipv4_prefix';
        for (const n of list(a['nlri'])) nlriFields(out, n, key, vxlan);
        break;
      }
      case 'mp-unreach': {
        const afi = num(a['afi']);
        out.add(`${UNREACH}.afi`, afi);
        out.add(`${UNREACH}.safi`, num(a['safi']));
        const key = afi === 2 ? 'bgp.mp_unreach_nlri_ipv6_prefix' : 'bgp.mp_unreach_nlri_ipv4_prefix';
        for (const n of list(a['withdrawn'])) nlriFields(out, n, key, vxlan);
        break;
      }
    }
  }
  for (const n of list(u['nlri'])) nlriFields(out, n, 'bgp.nlri_prefix', false);
}

function nextHopFields(out: Out, nh: Obj): void {
  const rd = nh['rd'];
  if (rd !== undefined) out.add(`${REACH}.next_hop.rd`, formatRd(rd as RouteDistinguisher));
  if (nh['kind'] === 'ipv4' || nh['kind'] === 'vpn-ipv4') out.add(`${REACH}.next_hop.ipv4`, str(nh['address']));
  if (nh['kind'] === 'ipv6' || nh['kind'] === 'vpn-ipv6') {
    out.add(`${REACH}.next_hop.ipv6`, str(nh['address']));
    out.add(`${REACH}.next_hop.ipv6.link_local`, str(nh['linkLocal']));
  }
}

function splitPrefix(p: string): { addr: string; bits: number } {
  const slash = p.lastIndexOf('/');
  return { addr: p.slice(0, slash), bits: Number(p.slice(slash + 1)) };
}

/** `prefixKey` is where tshark puts the address for this NLRI's place in the message. */
function nlriFields(out: Out, n: Obj, prefixKey: string, vxlan: boolean): void {
  out.add('bgp.nlri_path_id', num(n['pathId']));
  const labels = list(n['labels']) as unknown as MplsLabel[];
  switch (n['kind']) {
    case 'prefix':
    case 'labeled':
    case 'vpn': {
      const { addr, bits } = splitPrefix(str(n['prefix']) ?? '');
      // tshark's Prefix Length is the NLRI length field: labels and RD included.
      out.add('bgp.prefix_length', bits + 24 * labels.length + (n['kind'] === 'vpn' ? 64 : 0));
      if (n['kind'] !== 'prefix') out.add('bgp.label_stack', formatLabelStack(labels));
      if (n['kind'] === 'vpn') out.add('bgp.rd', formatRd(n['rd'] as RouteDistinguisher));
      out.add(prefixKey, addr);
      break;
    }
    case 'rtc': {
      const length = num(n['length']) ?? 0;
      out.add('bgp.prefix_length', length);
      out.add('bgp.originating_as', num(n['originAs']));
      if (length === 96) out.add('bgp.community_prefix', str(n['rt']) ?? formatRouteTarget(fromHex(str(n['routeTarget']) ?? '')));
      break;
    }
    case 'evpn':
      evpnFields(out, n, vxlan);
      break;
  }
}

function rdBytes(rd: Obj): Uint8Array {
  if (typeof rd['raw'] === 'string') return fromHex(rd['raw']);
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  const type = num(rd['type']) ?? 0;
  dv.setUint16(0, type);
  const admin = rd['admin'];
  const assigned = num(rd['assigned']) ?? 0;
  if (type === 0) {
    dv.setUint16(2, Number(admin));
    dv.setUint32(4, assigned);
  } else if (type === 1) {
    String(admin)
      .split('.')
      .forEach((x, i) => dv.setUint8(2 + i, Number(x)));
    dv.setUint16(6, assigned);
  } else {
    dv.setUint32(2, Number(admin));
    dv.setUint16(6, assigned);
  }
  return b;
}

function evpnFields(out: Out, n: Obj, vxlan: boolean): void {
  const rt = num(n['routeType']);
  out.add('bgp.evpn.nlri.rt', rt);
  if (n['rd'] !== undefined) out.add('bgp.evpn.nlri.rd', colonHex(rdBytes(obj(n['rd']))));
  out.add('bgp.evpn.nlri.esi', str(n['esi']));
  out.add('bgp.evpn.nlri.etag', num(n['ethernetTag']));
  out.add('bgp.evpn.nlri.mac_addr', str(n['mac']));
  const ip = str(n['ip']) ?? (rt === 5 ? splitPrefix(str(n['prefix']) ?? '/').addr || undefined : undefined);
  if (ip !== undefined) out.add(ip.includes(':') ? 'bgp.evpn.nlri.ipv6.addr' : 'bgp.evpn.nlri.ip.addr', ip);
  const orig = str(n['originatorIp']);
  if (orig !== undefined) out.add(orig.includes(':') ? 'bgp.evpn.nlri.or_addr_ipv6' : 'bgp.evpn.nlri.or_addr_ipv4', orig);
  // tshark reads the first label field as a VNI when an earlier encapsulation community
  // names a VXLAN tunnel, else as an MPLS label.
  const label = obj(n['label1'] ?? n['label']);
  if (label['raw'] !== undefined) {
    if (vxlan) out.add('bgp.evpn.nlri.vni', num(label['raw']));
    else out.add('bgp.evpn.nlri.mpls_ls1', num(label['value']));
  }
}
