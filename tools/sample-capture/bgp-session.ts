/**
 * The BGP part of the sample capture: one iBGP session on TCP 179 between weft's control node
 * and a peer, every message built with codecs/bgp and the values tshark must show for it.
 */
import {
  AFI_IPV4,
  AFI_IPV6,
  AFI_L2VPN,
  AsPathSegmentType,
  SAFI_EVPN,
  SAFI_RTC,
  SAFI_UNICAST,
  SAFI_VPN,
  defaultAttrFlags,
  encodeBgpMessage,
  encodeExtCommunity,
  formatRd,
  negotiateOptions,
  openCapabilities,
  type BgpCodecOptions,
  type BgpMessage,
  type Capability,
  type ExtCommunity,
  type LargeCommunity,
  type OpenMessage,
  type PathAttribute,
  type RouteDistinguisher,
  type VpnNlri,
} from '../../codecs/bgp/index.js';
import { toHex } from '../../codecs/util/hex.js';
import { TcpConversation, hex, type FrameList, type TsharkFields } from './frames.js';

const AS = 64512;
/** A 4-octet AS (RFC 6996 private range) in the AS_PATH and a type-2 route target. */
const AS4 = 4200000001;
const CN = { mac: '02:00:c0:00:02:01', ip: '192.0.2.1' };
const PEER = { mac: '02:00:c0:00:02:02', ip: '192.0.2.2' };

function attr<K extends PathAttribute['kind']>(code: number, kind: K, value: Omit<Extract<PathAttribute, { kind: K }>, 'flags' | 'code' | 'kind'>): PathAttribute {
  return { flags: defaultAttrFlags(code), code, kind, ...value } as PathAttribute;
}

/** Everything weft's capability codec knows, as the control node would offer it. */
function cnCapabilities(): Capability[] {
  const mp = (afi: number, safi: number): Capability => ({ kind: 'multiprotocol', code: 1, afi, reserved: 0, safi });
  return [
    mp(AFI_IPV4, SAFI_UNICAST),
    mp(AFI_IPV4, SAFI_VPN),
    mp(AFI_IPV6, SAFI_VPN),
    mp(AFI_IPV4, SAFI_RTC),
    mp(AFI_L2VPN, SAFI_EVPN),
    { kind: 'route-refresh', code: 2 },
    { kind: 'enhanced-route-refresh', code: 70 },
    { kind: 'four-octet-as', code: 65, asn: AS },
    {
      kind: 'graceful-restart',
      code: 64,
      restart: false,
      notification: true,
      reservedFlags: 0,
      time: 120,
      families: [
        { afi: AFI_IPV4, safi: SAFI_UNICAST, forwarding: true, reservedFlags: 0 },
        { afi: AFI_IPV4, safi: SAFI_VPN, forwarding: true, reservedFlags: 0 },
      ],
    },
    // Receive only: the peer offers no ADD-PATH, so no NLRI of this session carries a path id.
    { kind: 'add-path', code: 69, families: [{ afi: AFI_IPV4, safi: SAFI_UNICAST, sendReceive: 1 }] },
    { kind: 'extended-message', code: 6 },
    { kind: 'fqdn', code: 73, hostname: 'cn1', domain: 'example.net' },
    {
      kind: 'extended-next-hop',
      code: 5,
      tuples: [
        { afi: AFI_IPV4, safi: SAFI_UNICAST, nextHopAfi: AFI_IPV6 },
        { afi: AFI_IPV4, safi: SAFI_VPN, nextHopAfi: AFI_IPV6 },
      ],
    },
  ];
}

function peerCapabilities(): Capability[] {
  const mp = (afi: number, safi: number): Capability => ({ kind: 'multiprotocol', code: 1, afi, reserved: 0, safi });
  return [mp(AFI_IPV4, SAFI_UNICAST), mp(AFI_IPV4, SAFI_VPN), mp(AFI_IPV4, SAFI_RTC), { kind: 'route-refresh', code: 2 }, { kind: 'four-octet-as', code: 65, asn: AS }];
}

function open(bgpId: string, capabilities: Capability[]): OpenMessage & { type: 'open' } {
  return { type: 'open', version: 4, myAs: AS, holdTime: 90, bgpId, params: [{ kind: 'capabilities', type: 2, capabilities }] };
}

/** What tshark shows of a list of capabilities, per capability kind. */
function capabilityFields(caps: readonly Capability[]): TsharkFields {
  const f: Record<string, string[]> = {};
  const push = (k: string, ...v: (number | string)[]) => (f[k] ??= []).push(...v.map(String));
  for (const c of caps) {
    push('bgp.cap.type', c.code);
    switch (c.kind) {
      case 'multiprotocol':
        push('bgp.cap.mp.afi', c.afi);
        push('bgp.cap.mp.safi', c.safi);
        break;
      case 'four-octet-as':
        push('bgp.cap.4as', c.asn);
        break;
      case 'graceful-restart':
        push('bgp.cap.gr.timers.restart_flag', c.restart ? 1 : 0);
        push('bgp.cap.gr.timers.notification_flag', c.notification ? 1 : 0);
        push('bgp.cap.gr.timers.restart_time', c.time);
        for (const fam of c.families) {
          push('bgp.cap.gr.afi', fam.afi);
          push('bgp.cap.gr.safi', fam.safi);
          push('bgp.cap.gr.flag.pfs', fam.forwarding ? 1 : 0);
        }
        break;
      case 'add-path':
        for (const fam of c.families) {
          push('bgp.cap.ap.afi', fam.afi);
          push('bgp.cap.ap.safi', fam.safi);
          push('bgp.cap.ap.sendreceive', fam.sendReceive);
        }
        break;
      case 'fqdn':
        push('bgp.cap.orf.fqdn.hostname', c.hostname);
        push('bgp.cap.orf.fqdn.domain_name', c.domain);
        break;
      case 'extended-next-hop':
        for (const t of c.tuples) {
          push('bgp.cap.enh.afi', t.afi);
          push('bgp.cap.enh.safi', t.safi);
          push('bgp.cap.enh.nhafi', t.nextHopAfi);
        }
        break;
      default:
        break;
    }
  }
  return f;
}

/** What tshark shows for one extended community, field by field. */
function extCommunityFields(list: readonly ExtCommunity[]): TsharkFields {
  const f: TsharkFields = {
    'bgp.ext_com.type': [],
    'bgp.ext_com.stype_tr_as2': [],
    'bgp.ext_com.stype_tr_IP4': [],
    'bgp.ext_com.stype_tr_as4': [],
    'bgp.ext_com.stype_tr_opaque': [],
    'bgp.ext_com.stype_tr_exp': [],
    'bgp.ext_com.value_raw': [],
    'bgp.ext_com.tunnel_type': [],
    'bgp.ext_com.value_as2': [],
    'bgp.ext_com.value_an4': [],
    'bgp.ext_com.value_IP4': [],
    'bgp.ext_com.value_an2': [],
    'bgp.ext_com.value_as4': [],
  };
  const push = (k: string, v: string) => f[k]!.push(v);
  for (const ec of list) {
    push('bgp.ext_com.type', hex(ec.type, 2));
    switch (ec.kind) {
      case 'as2':
        if (ec.type === 0x80) {
          // Contrail's communities sit in the experimental range (RFC 4360 section 3): tshark
          // names no subtype there and shows the 6 value bytes as one number.
          const b = encodeExtCommunity(ec);
          push('bgp.ext_com.stype_tr_exp', hex(ec.subtype, 2));
          push('bgp.ext_com.value_raw', `0x0000${toHex(b.subarray(2))}`);
          break;
        }
        push('bgp.ext_com.stype_tr_as2', hex(ec.subtype, 2));
        push('bgp.ext_com.value_as2', String(ec.asn));
        push('bgp.ext_com.value_an4', String(ec.local));
        break;
      case 'ipv4':
        push('bgp.ext_com.stype_tr_IP4', hex(ec.subtype, 2));
        push('bgp.ext_com.value_IP4', ec.address);
        push('bgp.ext_com.value_an2', String(ec.local));
        break;
      case 'as4':
        push('bgp.ext_com.stype_tr_as4', hex(ec.subtype, 2));
        push('bgp.ext_com.value_as4', String(ec.asn));
        push('bgp.ext_com.value_an2', String(ec.local));
        break;
      case 'encapsulation':
        push('bgp.ext_com.stype_tr_opaque', hex(ec.subtype, 2));
        push('bgp.ext_com.tunnel_type', String(ec.tunnelType));
        break;
      default:
        throw new TypeError(`no tshark expectation for ${ec.kind}`);
    }
  }
  for (const k of Object.keys(f)) if (f[k]!.length === 0) delete f[k];
  return f;
}

const labelText = (l: VpnNlri['labels'][number]): string => `${l.value}${l.bottom ? ' (bottom)' : ''}`;

export function addBgpSession(list: FrameList): void {
  const tcp = new TcpConversation(list, { ...CN, port: 38179, isn: 0x1c0a0001 }, { ...PEER, port: 179, isn: 0x2d0b0001 });
  tcp.handshake('BGP');

  const cnOpen = open(CN.ip, cnCapabilities());
  const peerOpen = open(PEER.ip, peerCapabilities());
  // What each side decodes with, from both OPENs, as the speaker would negotiate it.
  const opts: BgpCodecOptions = negotiateOptions(cnOpen, peerOpen);
  const bytes = (m: BgpMessage) => encodeBgpMessage(m, opts);
  const openFields = (m: OpenMessage): TsharkFields => ({
    'bgp.type': ['1'],
    'bgp.open.version': [String(m.version)],
    'bgp.open.myas': [String(m.myAs)],
    'bgp.open.holdtime': [String(m.holdTime)],
    'bgp.open.identifier': [m.bgpId],
    ...capabilityFields(openCapabilities(m)),
  });
  tcp.send(true, bytes(cnOpen), 'BGP OPEN (control node, every capability)', openFields(cnOpen));
  tcp.send(false, bytes(peerOpen), 'BGP OPEN (peer)', openFields(peerOpen));
  tcp.send(true, bytes({ type: 'keepalive' }), 'BGP KEEPALIVE', { 'bgp.type': ['4'], 'bgp.length': ['19'] });
  tcp.send(false, bytes({ type: 'keepalive' }), 'BGP KEEPALIVE', { 'bgp.type': ['4'], 'bgp.length': ['19'] });

  // VPNv4 routes of two pods, with an RD of each common type.
  const rd0: RouteDistinguisher = { type: 0, admin: AS, assigned: 1 };
  const rd1: RouteDistinguisher = { type: 1, admin: CN.ip, assigned: 3 };
  const vpn: VpnNlri[] = [
    { kind: 'vpn', labels: [{ value: 16, bottom: true }], rd: rd0, prefix: '10.10.0.3/32' },
    { kind: 'vpn', labels: [{ value: 17, bottom: true }], rd: rd1, prefix: '10.10.1.0/24' },
  ];
  const ecs: ExtCommunity[] = [
    { kind: 'as2', type: 0x00, subtype: 0x02, asn: AS, local: 10000 },
    { kind: 'ipv4', type: 0x01, subtype: 0x02, address: CN.ip, local: 5 },
    { kind: 'as4', type: 0x02, subtype: 0x02, asn: AS4, local: 7 },
    { kind: 'encapsulation', type: 3, subtype: 0x0c, tunnelType: 13 },
    { kind: 'encapsulation', type: 3, subtype: 0x0c, tunnelType: 11 },
    { kind: 'encapsulation', type: 3, subtype: 0x0c, tunnelType: 8 },
    // Contrail origin VN (0x80/0x71): AS + VN index.
    { kind: 'as2', type: 0x80, subtype: 0x71, asn: AS, local: 3 },
  ];
  const asPath = [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [64513, AS4] }];
  const reach = bytes({
    type: 'update',
    withdrawn: [],
    nlri: [],
    attributes: [
      attr(1, 'origin', { origin: 0 }),
      attr(2, 'as-path', { segments: asPath }),
      attr(4, 'med', { med: 200 }),
      attr(5, 'local-pref', { localPref: 100 }),
      attr(14, 'mp-reach', {
        afi: AFI_IPV4,
        safi: SAFI_VPN,
        nextHop: { kind: 'vpn-ipv4', rd: { type: 0, admin: 0, assigned: 0 }, address: CN.ip },
        reserved: 0,
        nlri: vpn,
      }),
      attr(16, 'ext-communities', { communities: ecs }),
    ],
  });
  // One message over two segments: tshark must reassemble it and show it in the second frame.
  const cut = 40;
  tcp.send(true, reach.subarray(0, cut), 'BGP UPDATE VPNv4, first segment', {});
  tcp.send(true, reach.subarray(cut), 'BGP UPDATE VPNv4 (MP_REACH, reassembled from two segments)', {
    'bgp.type': ['2'],
    'bgp.length': [String(reach.length)],
    'bgp.update.path_attribute.origin': ['0'],
    'bgp.update.path_attribute.as_path_segment.as4': asPath[0]!.asns.map(String),
    'bgp.update.path_attribute.multi_exit_disc': ['200'],
    'bgp.update.path_attribute.local_pref': ['100'],
    'bgp.update.path_attribute.mp_reach_nlri.afi': ['1'],
    'bgp.update.path_attribute.mp_reach_nlri.safi': ['128'],
    'bgp.update.path_attribute.mp_reach_nlri.next_hop.rd': ['0:0'],
    'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4': [CN.ip],
    'bgp.rd': vpn.map((n) => formatRd(n.rd)),
    'bgp.label_stack': vpn.map((n) => labelText(n.labels[0]!)),
    'bgp.mp_reach_nlri_ipv4_prefix': vpn.map((n) => n.prefix.split('/')[0]!),
    'bgp.prefix_length': vpn.map((n) => String(24 + 64 + Number(n.prefix.split('/')[1]))),
    ...extCommunityFields(ecs),
  });

  // Route target membership: the control node wants routes with RT 64512:10000.
  const rt = Uint8Array.of(0x00, 0x02, AS >> 8, AS & 0xff, 0, 0, 10000 >> 8, 10000 & 0xff);
  tcp.send(
    true,
    bytes({
      type: 'update',
      withdrawn: [],
      nlri: [],
      attributes: [
        attr(1, 'origin', { origin: 0 }),
        attr(2, 'as-path', { segments: [] }),
        attr(5, 'local-pref', { localPref: 100 }),
        attr(14, 'mp-reach', {
          afi: AFI_IPV4,
          safi: SAFI_RTC,
          nextHop: { kind: 'ipv4', address: CN.ip },
          reserved: 0,
          nlri: [{ kind: 'rtc', length: 96, originAs: AS, routeTarget: rt }],
        }),
      ],
    }),
    'BGP UPDATE RTC (route target membership)',
    {
      'bgp.type': ['2'],
      'bgp.update.path_attribute.mp_reach_nlri.safi': ['132'],
      'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4': [CN.ip],
      'bgp.prefix_length': ['96'],
      'bgp.originating_as': [String(AS)],
      'bgp.community_prefix': [`${AS}:10000`],
    },
  );

  // Plain IPv4 unicast with standard and large communities.
  const communities = [((AS << 16) | 100) >>> 0, 0xffffff01];
  const large: LargeCommunity[] = [{ global: AS4, local1: 1, local2: 2 }];
  const v4 = ['203.0.113.0/24', '198.51.100.128/25'];
  tcp.send(
    true,
    bytes({
      type: 'update',
      withdrawn: [],
      nlri: v4.map((prefix) => ({ kind: 'prefix', prefix })),
      attributes: [
        attr(1, 'origin', { origin: 0 }),
        attr(2, 'as-path', { segments: asPath }),
        attr(3, 'next-hop', { nextHop: CN.ip }),
        attr(5, 'local-pref', { localPref: 100 }),
        attr(8, 'communities', { communities }),
        attr(32, 'large-communities', { communities: large }),
      ],
    }),
    'BGP UPDATE IPv4 unicast with communities and large communities',
    {
      'bgp.type': ['2'],
      'bgp.update.path_attribute.next_hop': [CN.ip],
      'bgp.update.path_attribute.local_pref': ['100'],
      'bgp.update.path_attribute.community_as': [String(communities[0]! >>> 16)],
      'bgp.update.path_attribute.community_value': [String(communities[0]! & 0xffff)],
      // Well-known communities (RFC 1997) are shown whole.
      'bgp.update.path_attribute.community_wellknown': [hex(communities[1]!, 8)],
      'bgp.large_communities.ga': [String(AS4)],
      'bgp.large_communities.ldp1': ['1'],
      'bgp.large_communities.ldp2': ['2'],
      'bgp.nlri_prefix': v4.map((p) => p.split('/')[0]!),
    },
  );

  // Withdraw the first VPNv4 route. RFC 8277 section 2.4: the label field of a withdrawal
  // carries the compatibility value 0x800000, which the receiver ignores.
  const gone = vpn[0]!;
  tcp.send(
    true,
    bytes({
      type: 'update',
      withdrawn: [],
      nlri: [],
      attributes: [
        attr(15, 'mp-unreach', {
          afi: AFI_IPV4,
          safi: SAFI_VPN,
          withdrawn: [{ ...gone, labels: [{ value: 0x80000, bottom: false }] }],
        }),
      ],
    }),
    'BGP UPDATE VPNv4 withdraw (MP_UNREACH)',
    {
      'bgp.type': ['2'],
      'bgp.update.path_attribute.mp_unreach_nlri.afi': ['1'],
      'bgp.update.path_attribute.mp_unreach_nlri.safi': ['128'],
      'bgp.rd': [formatRd(gone.rd)],
      // The label is ignored on withdrawal; tshark says so for 0x800000 (and 0x000000).
      'bgp.label_stack': ['0 (withdrawn)'],
      'bgp.mp_unreach_nlri_ipv4_prefix': [gone.prefix.split('/')[0]!],
    },
  );

  // End-of-RIB (RFC 4724): an empty UPDATE for IPv4 unicast, an empty MP_UNREACH for VPNv4.
  const eorV4 = bytes({ type: 'update', withdrawn: [], nlri: [], attributes: [] });
  tcp.send(true, eorV4, 'BGP UPDATE End-of-RIB IPv4 unicast', { 'bgp.type': ['2'], 'bgp.length': [String(eorV4.length)] });
  tcp.send(
    true,
    bytes({ type: 'update', withdrawn: [], nlri: [], attributes: [attr(15, 'mp-unreach', { afi: AFI_IPV4, safi: SAFI_VPN, withdrawn: [] })] }),
    'BGP UPDATE End-of-RIB VPNv4',
    { 'bgp.type': ['2'], 'bgp.update.path_attribute.mp_unreach_nlri.safi': ['128'] },
  );

  tcp.send(false, bytes({ type: 'route-refresh', afi: AFI_IPV4, subtype: 0, safi: SAFI_VPN }), 'BGP ROUTE-REFRESH VPNv4', {
    'bgp.type': ['5'],
    'bgp.route_refresh.afi': ['1'],
    'bgp.route_refresh.safi': ['128'],
  });

  const text = 'weft sample: maintenance window';
  tcp.send(true, bytes({ type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0), shutdownMessage: text }), 'BGP NOTIFICATION Cease / administrative shutdown', {
    'bgp.type': ['3'],
    'bgp.notify.major_error': ['6'],
    'bgp.notify.minor_error_cease': ['2'],
    'bgp.notify.communication_length': [String(text.length)],
    'bgp.notify.communication': [text],
  });
  tcp.close('BGP');
}
