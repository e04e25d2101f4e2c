/**
 * Messages built from typed values: encode, decode, compare; byte layouts from the RFCs and
 * the interop-recipes.md generator (whose tshark output is quoted there). The messages live in
 * test/support/bgp-built.ts, shared with the round-trip and fuzz corpora.
 */
import { describe, expect, it } from 'vitest';
import {
  bgpMessageLength,
  decodeBgpMessage,
  decodeExtCommunity,
  describeExtCommunity,
  encodeBgpMessage,
  encodeExtCommunity,
  formatCommunity,
  formatExtCommunity,
  negotiateOptions,
  notificationName,
  parseExtCommunity,
  type BgpCodecOptions,
  type BgpMessage,
  type Capability,
  type ExtCommunity,
  type OpenMessage,
} from '../../../codecs/bgp/index.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import {
  O4,
  SHUTDOWN_TEXT,
  communitiesUpdate,
  enhancedRouteRefreshBoRR,
  keepalive,
  notUtf8Notification,
  openEveryCapability,
  openExtendedParamsForced,
  openExtendedParamsSmall,
  openFourOctetOnly,
  openMixedParams,
  recipeVpnv4Update,
  routeRefreshWithOrf,
  shutdownNotification,
  twoOctetUpdate,
  vpnv4TunnelEncapUpdate,
} from '../../support/bgp-built.js';


function roundTrip(m: BgpMessage, opts: BgpCodecOptions = O4): Uint8Array {
  const bytes = encodeBgpMessage(m, opts);
  const back = decodeBgpMessage(bytes, 0, opts);
  expect(back).toEqual(m);
  expect(toHex(encodeBgpMessage(back, opts))).toBe(toHex(bytes));
  return bytes;
}


describe('OPEN', () => {
  it('with every capability in one parameter: exact RFC layouts', () => {
    const b = roundTrip(openEveryCapability);
    // header 19 + fixed 10; param header 2; the capabilities as RFC 2858/8950/8654/8277/4724/6793/7911/7313/FQDN/Cisco define them
    const caps =
      '01040001' + '0080' + // MP: AFI 1, reserved 0, SAFI 128
      '0200' +
      '0506000100800002' + // ENH: NLRI AFI 1, NLRI SAFI 128 (2 bytes), next-hop AFI 2
      '0600' +
      '080400010403' +
      '4006' + 'c078' + '00018080' + // R+N, 120 s; AFI 1 SAFI 128 forwarding
      '4104fa56ea00' +
      '4504' + '00018003' +
      '4600' +
      '4911' + '03636e31' + '0c776566742e6578616d706c65' +
      '8000' +
      '4700';
    expect(toHex(b.subarray(29))).toBe(`02${(caps.length / 2).toString(16).padStart(2, '0')}${caps}`);
    expect(toHex(b.subarray(19, 29))).toBe('045ba0005a0a000001' + (caps.length / 2 + 2).toString(16).padStart(2, '0'));
  });

  it('one capability per parameter and unknown parameter types are kept as they were', () => {
    const b = roundTrip(openMixedParams);
    expect(toHex(b.subarray(28))).toBe('10' + '02020200' + '01020909' + '02064104' + '0000fc00');
  });

  it('RFC 9072 extended optional parameters: kept when asked, forced beyond 255 bytes', () => {
    const b = roundTrip({ type: 'open', ...openExtendedParamsSmall });
    expect(toHex(b.subarray(28))).toBe('ff' + 'ff' + '0005' + '02' + '0002' + '0200');
    const big = encodeBgpMessage(openExtendedParamsForced, O4);
    expect(toHex(big.subarray(28, 35))).toBe(`ffff${(3 + 420).toString(16).padStart(4, '0')}02${'01a4'}`);
    const back = decodeBgpMessage(big, 0, O4);
    expect(back.type === 'open' && back.extendedParams).toBe(true);
  });

  it('errors: version 3 is 2/1, a capability overrunning its parameter is 2/0', () => {
    const ok = encodeBgpMessage(openFourOctetOnly, O4);
    const v3 = Uint8Array.from(ok);
    v3[19] = 3;
    expect(() => decodeBgpMessage(v3, 0, O4)).toThrow(expect.objectContaining({ field: 'bgp.open.version', notification: { code: 2, subcode: 1, data: Uint8Array.of(0, 4) } }));
    const bad = Uint8Array.from(ok);
    bad[32] = 5; // capability length 5 in a parameter of 6
    expect(() => decodeBgpMessage(bad, 0, O4)).toThrow(expect.objectContaining({ notification: { code: 2, subcode: 0 } }));
    const bad2 = Uint8Array.from(ok);
    bad2[32] = 3; // 4-octet AS capability of 3 bytes
    expect(() => decodeBgpMessage(bad2, 0, O4)).toThrow(/length 3, expected 4/);
  });

  it('negotiateOptions: 4-octet AS both ways, ADD-PATH receive only where the peer sends', () => {
    const mk = (caps: Capability[]): OpenMessage => ({ version: 4, myAs: 1, holdTime: 90, bgpId: '1.1.1.1', params: [{ kind: 'capabilities', type: 2, capabilities: caps }] });
    const local = mk([{ kind: 'four-octet-as', code: 65, asn: 1 }, { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 1 }, { afi: 1, safi: 128, sendReceive: 1 }] }]);
    const remote = mk([{ kind: 'four-octet-as', code: 65, asn: 2 }, { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }, { afi: 1, safi: 128, sendReceive: 1 }] }]);
    const o = negotiateOptions(local, remote);
    expect([o.fourOctetAs, o.addPath?.(1, 1), o.addPath?.(1, 128), o.extendedMessage]).toEqual([true, true, false, undefined]);
    expect(negotiateOptions(local, mk([])).fourOctetAs).toBe(false);
  });
});

describe('UPDATE', () => {
  const recipe = recipeVpnv4Update;

  it('decodes the interop-recipes VPNv4 UPDATE to the values tshark shows', () => {
    const m = decodeBgpMessage(recipe, 0, O4);
    if (m.type !== 'update') throw new Error();
    const ec = m.attributes.find((a) => a.kind === 'ext-communities');
    expect(ec?.kind === 'ext-communities' && ec.communities.map(describeExtCommunity)).toEqual([
      'Route Target: 64512:10000 [Transitive 2-Octet AS-Specific]',
      'Encapsulation: MPLS in UDP Encapsulation [Transitive Opaque]',
    ]);
    const mp = m.attributes.find((a) => a.kind === 'mp-reach');
    expect(mp?.kind === 'mp-reach' && [mp.afi, mp.safi, mp.nextHop, mp.nlri]).toEqual([
      1,
      128,
      { kind: 'vpn-ipv4', rd: { type: 0, admin: 0, assigned: 0 }, address: '127.0.0.2' },
      [{ kind: 'vpn', labels: [{ value: 100, tc: 0, bottom: true, raw: 1601 }], rd: { type: 0, admin: 64512, assigned: 1 }, prefix: '10.1.1.0/24' }],
    ]);
    expect(toHex(encodeBgpMessage(m, O4))).toBe(toHex(recipe));
  });

  it('VPNv4 + RT + tunnel encapsulation + origin VN built from values round-trips', () => {
    const b = roundTrip(vpnv4TunnelEncapUpdate);
    // The ext communities as Contrail puts them on the wire (contrail-xmpp-dialect.md section 12).
    expect(toHex(b)).toContain(
      '0002fc0000000064' + '030c00000000000d' + '030c000000000008' + '8071fc0000000003' + '8004fc00007a1201' + '828400011170' + '0005',
    );
    // RFC 9012 sub-TLVs: VXLAN V+M flags, VNI 5001, MAC; endpoint reserved/AS/AF 1/address; color EC; UDP port.
    expect(toHex(b)).toContain('0008' + '002c' + '010c' + 'c0001389020000000001' + '0000' + '060e' + '00000000' + '0000fc00' + '0001' + '0a000005' + '0408' + '030b000000000007' + '0802' + '12b5');
    expect(toHex(b)).toContain('000d' + '0006' + 'c8' + '0003' + '010203');
    const back = decodeBgpMessage(b, 0, O4);
    const te = back.type === 'update' ? back.attributes.find((a) => a.kind === 'tunnel-encap') : undefined;
    expect(te?.kind === 'tunnel-encap' && te.tunnels[0]!.subTlvs.map((s) => s.value)).toEqual([
      { kind: 'vxlan', flags: 0xc0, vnid: 5001, mac: '02:00:00:00:00:01' },
      { kind: 'remote-endpoint', asn: 64512, address: '10.0.0.5' },
      { kind: 'color', flags: 0, color: 7 },
      { kind: 'udp-port', port: 4789 },
    ]);
  });

  it('2-octet sessions write AS_TRANS for big ASes and the 6-byte AGGREGATOR', () => {
    const b = encodeBgpMessage(twoOctetUpdate, { fourOctetAs: false });
    expect(toHex(b.subarray(19))).toBe(
      '0003' + '100a09' + '002c' + '40010102' + '40020a' + '02015ba0' + '01020001' + '0002' + '400304c0000201' + 'c00706' + '5ba0c0000209' + 'c00808' + 'ffffff01' + 'fc000007' + '0f0a08',
    );
    const back = decodeBgpMessage(b, 0, { fourOctetAs: false });
    expect(back.type === 'update' && back.attributes[4]!.kind === 'communities' && back.attributes[4]!.communities.map(formatCommunity)).toEqual(['NO_EXPORT', '64512:7']);
  });

  it('an attribute over 255 bytes gets the extended-length bit', () => {
    const communities = Array.from({ length: 100 }, (_, i) => i);
    const b = encodeBgpMessage(communitiesUpdate(100), O4);
    expect(toHex(b.subarray(23, 27))).toBe('d0080190');
    const back = decodeBgpMessage(b, 0, O4);
    expect(back.type === 'update' && back.attributes[0]).toEqual({ kind: 'communities', flags: 0xd0, code: 8, communities });
  });
});

describe('extended communities', () => {
  it.each<[string, string, string]>([
    ['target:64512:100', '0002fc0000000064', 'Route Target: 64512:100 [Transitive 2-Octet AS-Specific]'],
    ['target:10.0.0.1:5', '01020a0000010005', 'Route Target: 10.0.0.1:5 [Transitive IPv4-Address-Specific]'],
    ['target:4200000000:7', '0202fa56ea000007', 'Route Target: 4200000000:7 [Transitive 4-Octet AS-Specific]'],
    ['target:65000L:7', '02020000fde80007', 'Route Target: 65000:7 [Transitive 4-Octet AS-Specific]'],
    ['origin:64512:1', '0003fc0000000001', 'Route Origin: 64512:1 [Transitive 2-Octet AS-Specific]'],
    ['encapsulation:mplsogre', '030c00000000000b', 'Encapsulation: MPLS in GRE Encapsulation [Transitive Opaque]'],
    ['encapsulation:vxlan', '030c000000000008', 'Encapsulation: VXLAN Encapsulation [Transitive Opaque]'],
    ['default-gateway', '030d000000000000', 'Default Gateway [Transitive Opaque]'],
    ['load-balance:l3-src,l3-dst,l4-proto,l4-src,l4-dst', '03aaf80000000000', 'Load Balance: l3-src,l3-dst,l4-proto,l4-src,l4-dst [Transitive Opaque]'],
    ['mac-mobility:sticky:5', '0600010000000005', 'MAC Mobility: Sticky, Seq 5 [Transitive EVPN]'],
    ['esi-label:single-active:100', '0601010000000640', 'ESI Label: 100 (single-active) [Transitive EVPN]'],
    ['es-import:00:11:22:33:44:55', '0602001122334455', 'ES Import: 00:11:22:33:44:55 [Transitive EVPN]'],
    ['router-mac:02:00:00:00:00:01', '0603020000000001', "Router's MAC: 02:00:00:00:00:01 [Transitive EVPN]"],
    ['originvn:64512:3', '8071fc0000000003', 'Origin VN: 64512:3 [Generic Transitive Experimental Use]'],
    ['originvn:4200000000:3', '8271fa56ea000003', 'Origin VN: 4200000000:3 [Generic Transitive Experimental Use 4-Octet AS]'],
    ['secgroup:64512:8000001', '8004fc00007a1201', 'Security Group: 64512:8000001 [Generic Transitive Experimental Use]'],
    ['tag:64512:5', '8084fc0000000005', 'Tag: 64512:5 [Generic Transitive Experimental Use]'],
    ['subcluster:64512:9', '8085fc0000000009', 'Sub-Cluster: 64512:9 [Generic Transitive Experimental Use]'],
    ['raw:8008fde800000064', '8008fde800000064', 'Unknown subtype 0x08: fde800000064 [Generic Transitive Experimental Use]'],
    ['raw:030c000100000008', '030c000100000008', 'Unknown subtype 0x0c: 000100000008 [Transitive Opaque]'],
  ])('%s', (text, hex, tshark) => {
    const ec: ExtCommunity = parseExtCommunity(text);
    expect(toHex(encodeExtCommunity(ec))).toBe(hex);
    const back = decodeExtCommunity(fromHex(hex));
    expect(back).toEqual(ec);
    expect(formatExtCommunity(back)).toBe(text);
    expect(describeExtCommunity(back)).toBe(tshark);
  });
  it('rejects bad config text', () => {
    for (const t of ['target:1', 'target:x:1', 'target:65536:4294967296', 'encapsulation:warp', 'bogus:1:2', 'raw:12']) {
      expect(() => parseExtCommunity(t), t).toThrow(TypeError);
    }
  });
});

describe('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH, header', () => {
  it('names every RFC 4271 subcode and reads RFC 9003 shutdown text', () => {
    expect(notificationName(3, 11)).toBe('UPDATE Message Error / Malformed AS_PATH (3/11)');
    expect(notificationName(2, 7)).toBe('OPEN Message Error / Unsupported Capability (2/7)');
    expect(notificationName(6, 2)).toBe('Cease / Administratively Shutdown (6/2)');
    const text = SHUTDOWN_TEXT;
    const b = encodeBgpMessage(shutdownNotification, O4);
    const utf8 = Buffer.from(text, 'utf8');
    expect(toHex(b.subarray(19))).toBe('0602' + utf8.length.toString(16).padStart(2, '0') + utf8.toString('hex'));
    const back = decodeBgpMessage(b, 0, O4);
    expect(back.type === 'notification' && back.shutdownMessage).toBe(text);
    expect(toHex(encodeBgpMessage(back, O4))).toBe(toHex(b));
    // Not UTF-8: bytes kept, no text.
    const raw = decodeBgpMessage(notUtf8Notification, 0, O4);
    expect(raw.type === 'notification' && [raw.shutdownMessage, toHex(raw.data)]).toEqual([undefined, '03fffe80']);
  });
  it('KEEPALIVE and RFC 7313 ROUTE-REFRESH subtypes', () => {
    expect(toHex(roundTrip(keepalive))).toBe('ff'.repeat(16) + '001304');
    expect(toHex(roundTrip(enhancedRouteRefreshBoRR))).toBe('ff'.repeat(16) + '00170500010180');
    roundTrip(routeRefreshWithOrf);
    // EoRR with extra bytes: 7/1 with the whole message as data
    const bad = fromHex('ff'.repeat(16) + '0018050001020101');
    expect(() => decodeBgpMessage(bad, 0, O4)).toThrow(expect.objectContaining({ notification: { code: 7, subcode: 1, data: bad } }));
  });
  it('header errors: marker 1/1, length 1/2 with the length as data, type 1/3', () => {
    const ka = encodeBgpMessage({ type: 'keepalive' }, O4);
    const m = Uint8Array.from(ka);
    m[3] = 0;
    expect(() => decodeBgpMessage(m, 0, O4)).toThrow(expect.objectContaining({ offset: 3, notification: { code: 1, subcode: 1 } }));
    expect(() => bgpMessageLength(m, 0)).toThrow(DecodeError);
    const long = Uint8Array.from([...ka, 0]);
    long[17] = 20; // a KEEPALIVE of 20 bytes
    expect(() => decodeBgpMessage(long, 0, O4)).toThrow(expect.objectContaining({ notification: { code: 1, subcode: 2, data: Uint8Array.of(0, 20) } }));
    const big = Uint8Array.from(ka);
    big[16] = 0x10;
    big[17] = 0x01; // 4097
    expect(() => bgpMessageLength(big, 0)).toThrow(expect.objectContaining({ notification: { code: 1, subcode: 2, data: Uint8Array.of(0x10, 0x01) } }));
    expect(bgpMessageLength(big, 0, true)).toBe(4097);
    const t = Uint8Array.from(ka);
    t[18] = 9;
    expect(() => decodeBgpMessage(t, 0, O4)).toThrow(expect.objectContaining({ notification: { code: 1, subcode: 3, data: Uint8Array.of(9) } }));
    expect(bgpMessageLength(ka.subarray(0, 18), 0)).toBeUndefined();
    // two messages back to back: framing by length
    const two = Uint8Array.from([...ka, ...encodeBgpMessage({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }, O4)]);
    expect([bgpMessageLength(two, 0), bgpMessageLength(two, 19)]).toEqual([19, 23]);
    expect(decodeBgpMessage(two, 19, O4)).toEqual({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 });
    // truncated buffer: the length lies
    expect(() => decodeBgpMessage(two.subarray(0, 40), 19, O4)).toThrow(expect.objectContaining({ notification: expect.objectContaining({ code: 1, subcode: 2 }) }));
  });
  it('refuses to encode more than 4096 bytes without Extended Message', () => {
    const m = communitiesUpdate(1100);
    expect(() => encodeBgpMessage(m, O4)).toThrow(RangeError);
    const b = encodeBgpMessage(m, { fourOctetAs: true, extendedMessage: true });
    expect(b.length).toBe(19 + 4 + 4 + 4400);
    expect(() => decodeBgpMessage(b, 0, O4)).toThrow(expect.objectContaining({ notification: expect.objectContaining({ code: 1, subcode: 2 }) }));
    expect(decodeBgpMessage(b, 0, { fourOctetAs: true, extendedMessage: true }).type).toBe('update');
  });
});
