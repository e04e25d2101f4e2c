/**
 * NLRI and next-hop bytes cut out of captures, with what tshark 4.0 shows for them.
 *
 * "real": from /work/shared/conformance/pcaps (tshark -T fields -e tcp.payload, then the
 * MP_REACH/MP_UNREACH value split into next hop and NLRI). "crafted": UPDATEs written with the
 * interop-recipes section 7.1 generator (extended with the families below) into a pcap and
 * decoded by `tshark -O bgp`; the expected values in the tests are what tshark printed.
 */
import { Reader } from '../../../codecs/util/reader.js';
import { Writer } from '../../../codecs/util/writer.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import { decodeNlriList, encodeNlriList, type Nlri, type NlriOptions } from '../../../codecs/bgp/nlri.js';

export const real = {
  /** bgp-lu-multiple-labels.pcap frame 18: IPv4 labeled unicast, NH 1.1.1.2; tshark: 'Label Stack=100,101,102,103 (bottom) IPv4=30.1.1.1/32'. */
  luMultiReach: '800006400006500006600006711e010101',
  /** Same capture frame 38, MP_UNREACH: one 3-byte field 0x800001; tshark: '524288 (bottom)', 30.1.1.1, prefix length 56. */
  luWithdraw: '388000011e010101',
  /** bgp-rt-prefix.pcap frame 5: tshark 'MP Reach NLRI 22:1:65537/96'. */
  rtc5: '60000000160002000100010001',
  /** frame 7: type 0x02 RT; tshark prints '22:4294967295:65535' but the bytes say AS 0x000186a0 = 100000. */
  rtc7: '60000000160202000186a0ffff',
  /** frame 13 (MP_UNREACH): tshark 'MP Unreach NLRI 23:1.2.3.4:65535/96'. */
  rtc13: '6000000017010201020304ffff',
  /** Partial route-target prefixes (frames 1, 3, 3, 9, 11); tshark 4.0 flags these [Malformed], RFC 4684 allows 32..96 bits. */
  rtcPartial: ['2000000016', '30000000160002', '5000000016020200010000', '30000000170102', '5300000017010201020304e0'],
  /** mpbgp-linklocal-nexthop.pcap: AFI 2 SAFI 1; tshark 'Next hop: IPv6=dead:beef::1 Link-local=fe80::1ff:fe01:0', NLRI '4:5::/64'. */
  llNextHop: 'deadbeef000000000000000000000001fe80000000000000000001fffe010000',
  llNlri: '400004000500000000',
  /** bgp-addpath.pcap (ADD-PATH on every family). */
  addPath: {
    withdrawn: '00000014180802000000001518080201', // 8.2.0.0/24 PathId 20, 8.2.1.0/24 PathId 21
    reach4Nh: '01020304', // 1.2.3.4
    reach4: '00000028187804000000002918780401', // 120.4.0.0/24 PathId 40, 120.4.1.0/24 PathId 41
    unreach4: '000002bc18202d00000002bd18202d01', // 32.45.0.0/24 PathId 700, 32.45.1.0/24 PathId 701
    reach6Nh: '20000000000000400000000000000001', // 2000:0:0:40::1
    reach6: '00000001782002000000000000000000001400000000000278200200000000000000000000140001', // 2002::1400:0/120 PathId 1, 2002::1400:100/120 PathId 2
    unreach6: '00000064782002000000000000000000002800000000006578200200000000000000000000280001', // 2002::2800:0/120 PathId 100, 2002::2800:100/120 PathId 101
    nlri: '0000000a180602000000000b18060201', // 6.2.0.0/24 PathId 10, 6.2.1.0/24 PathId 11
  },
  /** bgp-encap.pcap: EVPN MAC route, NH 4.4.4.4; tshark RD 4.4.4.4:4, ESI all zero, tag 0, MAC 02:06:0a:0e:fa:f3, no IP, 'VNI: 101'. */
  evpnMac: '0221000104040404000400000000000000000000000000003002060a0efaf300000065',
};

export const crafted = {
  /** VPNv4, NH RD 0:0 + 127.0.0.2; tshark labels 100/200/300/16/17 (bottom), RDs 64512:1, 192.0.2.1:5, 4200000000:7, 1:2, 1:2. */
  vpnv4Nh: '00000000000000007f000002',
  vpnv4: '700006410000fc00000000010a010168000c810001c000020100050a02780012cb0002fa56ea0000070a0303037000010100000001000000020a0101580001110000000100000002',
  /** MP_UNREACH VPNv4 with the label fields each implementation sends: 0x800000 (RFC), 0x000000 (FRR), 0x000001 (BIRD), 0x000c81 (GoBGP, label 200). */
  vpnv4Withdraw: '708000000000fc00000000010a0101700000000000fc00000000020a2802700000010000fc00000000070a1e0770000c8100017f00000200030a1402',
  /** VPNv6, NH RD 0:0 + 2001:db8::1 (24 bytes); NLRI 16 (bottom) 65000:100 2001:db8:1::/48 and label 17, RD 65536:1 (type 2), 2001:db8:2:3::/64. */
  vpnv6Nh: '000000000000000020010db8000000000000000000000001',
  vpnv6: '880001010000fde80000006420010db8000198000111000200010000000120010db800020003',
  /** VPNv6 NH of 48 bytes: tshark 'RD=0:0 IPv6=2001:db8::1 RD=0:0 Link-local=fe80::1'. */
  vpnv6NhLl: '000000000000000020010db80000000000000000000000010000000000000000fe800000000000000000000000000001',
  /** VPNv4 with an RFC 8950 IPv6 next hop: tshark 'RD=0:0 IPv6=2001:db8::2'. */
  vpnv4Nh6: '000000000000000020010db8000000000000000000000002',
  /** VPNv4 with RD type 3: tshark 'Unknown (0x0003) RD type'. */
  vpnv4Rd3: '7000064100030102030405060a0101',
  /** IPv6 labeled unicast: tshark 'Label Stack=3 (bottom), IPv6=2001:db8:5::/48', NH 2001:db8::9. */
  lu6Nh: '20010db8000000000000000000000009',
  lu6: '4800003120010db80005',
  /** IPv4 multicast: 232.1.1.0/24, 232.1.2.3/32, NH 192.0.2.9. */
  mcast: '18e8010120e8010203',
  /** RTC: the default route (tshark 'Wildcard route target'), then 64512:64512:10000/96 and 64512:192.0.2.1:7/96. */
  rtcDefault: '00',
  rtcFull: '600000fc000002fc0000002710600000fc000102c00002010007',
  /** EVPN route types 1-5 (see the EVPN test for tshark's view of each). */
  evpn: '0119000104040404000400010203040506070809ffffffff00064102280000fde80000000100000000000000000000000000003002060a0efaf3200a00000500006500138802310000fde80000000100000000000000000000000000073002060a0efaf48020010db8000000000000000000000005000c8103110000fde800000001000000002004040404031d0000fde8000000010000000a8020010db80000000000000000000000040417000104040404000100010203040506070809200404040405220000fde8000000050000000000000000000000000000180a0908000000000000138d053a0000fde80000000500010203040506070809000000004020010db800090000000000000000000020010db80000000000000000000000010004d1',
  /** EVPN route type 9 (tshark: 'Invalid EVPN Route Type (9)'), NH 2001:db8::4. */
  evpnUnknown: '09050102030405',
};

export function decodeHex(hex: string, afi: number, safi: number, opts: NlriOptions = {}, withdraw = false): Nlri[] {
  const r = new Reader(fromHex(hex));
  const out = decodeNlriList(r, afi, safi, opts, withdraw);
  if (!r.atEnd()) throw new Error('decoder stopped before the end of its window');
  return out;
}

export function encodeHex(list: Nlri[], afi: number, safi: number, opts: NlriOptions = {}): string {
  const w = new Writer(16);
  encodeNlriList(w, afi, safi, list, opts);
  return toHex(w.view());
}

/** decode -> encode gives the same bytes. */
export function roundTrip(hex: string, afi: number, safi: number, opts: NlriOptions = {}, withdraw = false): string {
  return encodeHex(decodeHex(hex, afi, safi, opts, withdraw), afi, safi, opts);
}
