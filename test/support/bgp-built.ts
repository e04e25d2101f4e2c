/**
 * BGP messages the tests build from typed values (and the few they write as hex), shared by
 * the unit tests that check their layouts (test/unit/bgp/msg-build.test.ts) and the corpus
 * tests that take every message there is (test/conformance/roundtrip.test.ts, test/fuzz/).
 * Every entry here is well formed: encode(decode(bytes)) gives back the bytes.
 */
import {
  AttrCode,
  encodeBgpMessage,
  makeTunnelSubTlv,
  parseCommunity,
  parseExtCommunity,
  type BgpCodecOptions,
  type BgpMessage,
  type Capability,
  type OpenMessage,
} from '../../codecs/bgp/index.js';
import { fromHex } from '../../codecs/util/hex.js';
import { crafted, real } from '../unit/bgp/nlri-fixtures.js';

export const O2: BgpCodecOptions = { fourOctetAs: false };
export const O4: BgpCodecOptions = { fourOctetAs: true };
export const O4_EXTENDED: BgpCodecOptions = { fourOctetAs: true, extendedMessage: true };

export const everyCapability: Capability[] = [
  { kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 128 },
  { kind: 'route-refresh', code: 2 },
  { kind: 'extended-next-hop', code: 5, tuples: [{ afi: 1, safi: 128, nextHopAfi: 2 }] },
  { kind: 'extended-message', code: 6 },
  { kind: 'multiple-labels', code: 8, families: [{ afi: 1, safi: 4, count: 3 }] },
  {
    kind: 'graceful-restart',
    code: 64,
    restart: true,
    notification: true,
    reservedFlags: 0,
    time: 120,
    families: [{ afi: 1, safi: 128, forwarding: true, reservedFlags: 0 }],
  },
  { kind: 'four-octet-as', code: 65, asn: 4200000000 },
  { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 128, sendReceive: 3 }] },
  { kind: 'enhanced-route-refresh', code: 70 },
  { kind: 'fqdn', code: 73, hostname: 'cn1', domain: 'weft.example' },
  { kind: 'route-refresh-cisco', code: 128 },
  { kind: 'unknown', code: 71, raw: new Uint8Array(0) },
];

export const openEveryCapability: BgpMessage = {
  type: 'open',
  version: 4,
  myAs: 23456,
  holdTime: 90,
  bgpId: '10.0.0.1',
  params: [{ kind: 'capabilities', type: 2, capabilities: everyCapability }],
};

export const openMixedParams: BgpMessage = {
  type: 'open',
  version: 4,
  myAs: 64512,
  holdTime: 180,
  bgpId: '1.2.3.4',
  params: [
    { kind: 'capabilities', type: 2, capabilities: [{ kind: 'route-refresh', code: 2 }] },
    { kind: 'unknown', type: 1, raw: Uint8Array.of(9, 9) },
    { kind: 'capabilities', type: 2, capabilities: [{ kind: 'four-octet-as', code: 65, asn: 64512 }] },
  ],
};

/** RFC 9072 extended optional parameters asked for on a small OPEN. */
export const openExtendedParamsSmall: OpenMessage = {
  version: 4,
  myAs: 1,
  holdTime: 3,
  bgpId: '1.1.1.1',
  extendedParams: true,
  params: [{ kind: 'capabilities', type: 2, capabilities: [{ kind: 'route-refresh', code: 2 }] }],
};

/** 70 capabilities: more than 255 bytes of parameters, so RFC 9072 is forced. */
export const openExtendedParamsForced: BgpMessage = {
  type: 'open',
  version: 4,
  myAs: 1,
  holdTime: 3,
  bgpId: '1.1.1.1',
  params: [{ kind: 'capabilities', type: 2, capabilities: Array.from({ length: 70 }, (_, i) => ({ kind: 'multiprotocol' as const, code: 1 as const, afi: 1, reserved: 0, safi: i })) }],
};

export const openFourOctetOnly: BgpMessage = {
  type: 'open',
  version: 4,
  myAs: 1,
  holdTime: 3,
  bgpId: '1.1.1.1',
  params: [{ kind: 'capabilities', type: 2, capabilities: [{ kind: 'four-octet-as', code: 65, asn: 7 }] }],
};

/**
 * interop-recipes.md 7.1 bgp_update_vpnv4(): tshark shows RT 64512:10000, MPLS in UDP (13),
 * next hop RD 0:0 + 127.0.0.2, label 100 (bottom), RD 64512:1, prefix 10.1.1.0, length 112.
 */
export const recipeVpnv4Update = fromHex(
  'ffffffffffffffffffffffffffffffff005b02000000444001010040020040050400000064c010100002fc0000002710030c00000000000d800e200001800c00000000000000007f00000200700006410000fc00000000010a0101',
);

export const vpnv4TunnelEncapUpdate: BgpMessage = {
  type: 'update',
  withdrawn: [],
  nlri: [],
  attributes: [
    { kind: 'origin', flags: 0x40, code: 1, origin: 0 },
    { kind: 'as-path', flags: 0x40, code: 2, segments: [{ type: 2, asns: [64512, 4200000000] }] },
    { kind: 'local-pref', flags: 0x40, code: 5, localPref: 100 },
    {
      kind: 'ext-communities',
      flags: 0xc0,
      code: 16,
      communities: ['target:64512:100', 'encapsulation:mplsoudp', 'encapsulation:vxlan', 'originvn:64512:3', 'secgroup:64512:8000001', 'tag:70000:5'].map(parseExtCommunity),
    },
    {
      kind: 'tunnel-encap',
      flags: 0xc0,
      code: AttrCode.TUNNEL_ENCAPSULATION,
      tunnels: [
        {
          tunnelType: 8,
          subTlvs: [
            makeTunnelSubTlv({ kind: 'vxlan', flags: 0, vnid: 5001, mac: '02:00:00:00:00:01' }),
            makeTunnelSubTlv({ kind: 'remote-endpoint', asn: 64512, address: '10.0.0.5' }),
            makeTunnelSubTlv({ kind: 'color', flags: 0, color: 7 }),
            makeTunnelSubTlv({ kind: 'udp-port', port: 4789 }),
          ],
        },
        { tunnelType: 13, subTlvs: [{ type: 200, raw: Uint8Array.of(1, 2, 3) }] },
      ],
    },
    {
      kind: 'mp-reach',
      flags: 0x80,
      code: 14,
      afi: 1,
      safi: 128,
      nextHop: { kind: 'vpn-ipv4', rd: { type: 0, admin: 0, assigned: 0 }, address: '10.0.0.5' },
      reserved: 0,
      nlri: [
        { kind: 'vpn', labels: [{ value: 16, tc: 0, bottom: true, raw: 0x101 }], rd: { type: 1, admin: '10.0.0.5', assigned: 3 }, prefix: '10.1.1.3/32' },
        { kind: 'vpn', labels: [{ value: 17, tc: 0, bottom: true, raw: 0x111 }], rd: { type: 0, admin: 64512, assigned: 4 }, prefix: '10.2.0.0/16' },
      ],
    },
  ],
};

/** For a 2-octet session: AS 70000 goes out as AS_TRANS, AGGREGATOR in 6 bytes. */
export const twoOctetUpdate: BgpMessage = {
  type: 'update',
  withdrawn: [{ kind: 'prefix', prefix: '10.9.0.0/16' }],
  nlri: [{ kind: 'prefix', prefix: '10.8.0.0/15' }],
  attributes: [
    { kind: 'origin', flags: 0x40, code: 1, origin: 2 },
    { kind: 'as-path', flags: 0x40, code: 2, segments: [{ type: 2, asns: [70000] }, { type: 1, asns: [1, 2] }] },
    { kind: 'next-hop', flags: 0x40, code: 3, nextHop: '192.0.2.1' },
    { kind: 'aggregator', flags: 0xc0, code: 7, asn: 70000, address: '192.0.2.9' },
    { kind: 'communities', flags: 0xc0, code: 8, communities: [parseCommunity('NO_EXPORT'), parseCommunity('64512:7')] },
  ],
};

/** COMMUNITIES of n values (n > 63 needs the extended-length bit; n > 1018 an extended message). */
export function communitiesUpdate(n: number): BgpMessage {
  return { type: 'update', withdrawn: [], nlri: [], attributes: [{ kind: 'communities', flags: 0xc0, code: 8, communities: Array.from({ length: n }, (_, i) => i) }] };
}

export const SHUTDOWN_TEXT = 'maintenance: back at 10:00 ✓';

export const shutdownNotification: BgpMessage = { type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0), shutdownMessage: SHUTDOWN_TEXT };

/** Cease / Administrative Shutdown whose data is not UTF-8: kept as bytes. */
export const notUtf8Notification = fromHex('ffffffffffffffffffffffffffffffff' + '0019' + '03' + '0604' + '03ff' + 'fe80');

export const keepalive: BgpMessage = { type: 'keepalive' };
export const enhancedRouteRefreshBoRR: BgpMessage = { type: 'route-refresh', afi: 1, subtype: 1, safi: 128 };
export const routeRefreshWithOrf: BgpMessage = { type: 'route-refresh', afi: 1, subtype: 0, safi: 1, orf: Uint8Array.of(1, 0x40, 0, 0) };
export const routeRefreshPlain: BgpMessage = { type: 'route-refresh', afi: 1, subtype: 0, safi: 1 };

export interface BuiltMessage {
  name: string;
  bytes: Uint8Array;
  opts: BgpCodecOptions;
  /** The value it was built from, when decoding gives that same value back. */
  value?: BgpMessage;
}

/** Every well-formed message above, encoded. */
export function builtMessages(): BuiltMessage[] {
  const enc = (name: string, value: BgpMessage, opts: BgpCodecOptions, exact = true): BuiltMessage => {
    const m: BuiltMessage = { name, bytes: encodeBgpMessage(value, opts), opts };
    if (exact) m.value = value;
    return m;
  };
  return [
    enc('OPEN with every capability', openEveryCapability, O4),
    enc('OPEN with mixed parameters', openMixedParams, O4),
    enc('OPEN with RFC 9072 parameters (asked)', { type: 'open', ...openExtendedParamsSmall }, O4),
    // Decodes with extendedParams: true, which the value did not say.
    enc('OPEN with RFC 9072 parameters (forced)', openExtendedParamsForced, O4, false),
    enc('OPEN with 4-octet AS only', openFourOctetOnly, O4),
    { name: 'interop-recipes VPNv4 UPDATE', bytes: recipeVpnv4Update, opts: O4 },
    enc('VPNv4 UPDATE with tunnel encapsulation', vpnv4TunnelEncapUpdate, O4),
    // AS 70000 decodes as AS_TRANS.
    enc('2-octet session UPDATE', twoOctetUpdate, O2, false),
    // Decodes with the extended-length bit in its flags.
    enc('UPDATE with an extended-length attribute', communitiesUpdate(100), O4, false),
    enc('UPDATE of 4427 bytes (extended message)', communitiesUpdate(1100), O4_EXTENDED, false),
    // Decodes with `data` holding the length byte and the text as well.
    enc('NOTIFICATION with shutdown text', shutdownNotification, O4, false),
    { name: 'NOTIFICATION with non-UTF-8 data', bytes: notUtf8Notification, opts: O4 },
    enc('KEEPALIVE', keepalive, O4),
    enc('ROUTE-REFRESH BoRR', enhancedRouteRefreshBoRR, O4),
    enc('ROUTE-REFRESH with ORF', routeRefreshWithOrf, O4),
    enc('ROUTE-REFRESH', routeRefreshPlain, O4),
  ];
}

const u16 = (n: number) => n.toString(16).padStart(4, '0');
const u8 = (n: number) => n.toString(16).padStart(2, '0');

/** UPDATE with ORIGIN IGP, an empty AS_PATH and one MP attribute (extended length, as FRR sends it). */
function mpUpdate(afi: number, safi: number, reach: { nh: string; nlri: string } | { withdrawn: string }): Uint8Array {
  const value = 'nh' in reach ? u16(afi) + u8(safi) + u8(reach.nh.length / 2) + reach.nh + '00' + reach.nlri : u16(afi) + u8(safi) + reach.withdrawn;
  const attrs = '40010100' + '400200' + ('nh' in reach ? '900e' : '900f') + u16(value.length / 2) + value;
  const body = '0000' + u16(attrs.length / 2) + attrs;
  return fromHex('ff'.repeat(16) + u16(19 + body.length / 2) + '02' + body);
}

/**
 * The NLRI fixtures of test/unit/bgp/nlri-fixtures.ts (cut from captures or checked against
 * tshark there), one UPDATE per family and shape, with the options each needs.
 */
export function fixtureUpdates(): BuiltMessage[] {
  const O: BgpCodecOptions = { fourOctetAs: true };
  const ap = real.addPath;
  const list: [string, Uint8Array, BgpCodecOptions][] = [
    ['labeled unicast, 4 labels', mpUpdate(1, 4, { nh: '01010102', nlri: real.luMultiReach }), { ...O, multipleLabels: () => 7 }],
    ['labeled unicast withdrawal', mpUpdate(1, 4, { withdrawn: real.luWithdraw }), O],
    ['RTC 96-bit', mpUpdate(1, 132, { nh: '01000002', nlri: real.rtc5 + real.rtc7 }), O],
    ['RTC withdrawal', mpUpdate(1, 132, { withdrawn: real.rtc13 }), O],
    ['RTC partial route targets', mpUpdate(1, 132, { nh: '01000002', nlri: real.rtcPartial.join('') }), O],
    ['IPv6 with link-local next hop', mpUpdate(2, 1, { nh: real.llNextHop, nlri: real.llNlri }), O],
    ['ADD-PATH IPv4', mpUpdate(1, 1, { nh: ap.reach4Nh, nlri: ap.reach4 }), { ...O, addPath: () => true }],
    ['ADD-PATH IPv6', mpUpdate(2, 1, { nh: ap.reach6Nh, nlri: ap.reach6 }), { ...O, addPath: () => true }],
    ['ADD-PATH IPv4 withdrawal', mpUpdate(1, 1, { withdrawn: ap.unreach4 }), { ...O, addPath: () => true }],
    ['EVPN MAC route', mpUpdate(25, 70, { nh: '04040404', nlri: real.evpnMac }), O],
    ['VPNv4', mpUpdate(1, 128, { nh: crafted.vpnv4Nh, nlri: crafted.vpnv4 }), O],
    ['VPNv4 withdrawals', mpUpdate(1, 128, { withdrawn: crafted.vpnv4Withdraw }), O],
    ['VPNv4, RFC 8950 next hop', mpUpdate(1, 128, { nh: crafted.vpnv4Nh6, nlri: crafted.vpnv4 }), O],
    ['VPNv4, RD type 3', mpUpdate(1, 128, { nh: crafted.vpnv4Nh, nlri: crafted.vpnv4Rd3 }), O],
    ['VPNv6', mpUpdate(2, 128, { nh: crafted.vpnv6Nh, nlri: crafted.vpnv6 }), O],
    ['VPNv6, link-local next hop', mpUpdate(2, 128, { nh: crafted.vpnv6NhLl, nlri: crafted.vpnv6 }), O],
    ['IPv6 labeled unicast', mpUpdate(2, 4, { nh: crafted.lu6Nh, nlri: crafted.lu6 }), O],
    ['IPv4 multicast', mpUpdate(1, 2, { nh: 'c0000209', nlri: crafted.mcast }), O],
    ['RTC default and full', mpUpdate(1, 132, { nh: '01000002', nlri: crafted.rtcDefault + crafted.rtcFull }), O],
    ['EVPN route types 1-5', mpUpdate(25, 70, { nh: '04040404', nlri: crafted.evpn }), O],
    ['EVPN route type 9', mpUpdate(25, 70, { nh: '20010db8000000000000000000000004', nlri: crafted.evpnUnknown }), O],
  ];
  return list.map(([name, bytes, opts]) => ({ name, bytes, opts }));
}
