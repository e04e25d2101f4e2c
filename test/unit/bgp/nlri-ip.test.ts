import { describe, expect, it } from 'vitest';
import { real, crafted, decodeHex, encodeHex, roundTrip } from './nlri-fixtures.js';

describe('IPv4/IPv6 unicast and multicast NLRI', () => {
  it('decodes ADD-PATH prefixes of bgp-addpath.pcap as tshark shows them', () => {
    const ap = { addPath: true };
    expect(decodeHex(real.addPath.withdrawn, 1, 1, ap)).toEqual([
      { kind: 'prefix', pathId: 20, prefix: '8.2.0.0/24' },
      { kind: 'prefix', pathId: 21, prefix: '8.2.1.0/24' },
    ]);
    expect(decodeHex(real.addPath.nlri, 1, 1, ap).map((n) => [n.kind === 'prefix' && n.prefix, 'pathId' in n && n.pathId])).toEqual([
      ['6.2.0.0/24', 10],
      ['6.2.1.0/24', 11],
    ]);
    expect(decodeHex(real.addPath.reach4, 1, 1, ap)).toEqual([
      { kind: 'prefix', pathId: 40, prefix: '120.4.0.0/24' },
      { kind: 'prefix', pathId: 41, prefix: '120.4.1.0/24' },
    ]);
    expect(decodeHex(real.addPath.unreach4, 1, 1, ap, true)).toEqual([
      { kind: 'prefix', pathId: 700, prefix: '32.45.0.0/24' },
      { kind: 'prefix', pathId: 701, prefix: '32.45.1.0/24' },
    ]);
    expect(decodeHex(real.addPath.reach6, 2, 1, ap)).toEqual([
      { kind: 'prefix', pathId: 1, prefix: '2002::1400:0/120' },
      { kind: 'prefix', pathId: 2, prefix: '2002::1400:100/120' },
    ]);
    expect(decodeHex(real.addPath.unreach6, 2, 1, ap, true)).toEqual([
      { kind: 'prefix', pathId: 100, prefix: '2002::2800:0/120' },
      { kind: 'prefix', pathId: 101, prefix: '2002::2800:100/120' },
    ]);
  });

  it('round-trips every ADD-PATH field of the capture byte for byte', () => {
    const ap = { addPath: true };
    for (const [hex, afi] of [
      [real.addPath.withdrawn, 1],
      [real.addPath.nlri, 1],
      [real.addPath.reach4, 1],
      [real.addPath.unreach4, 1],
      [real.addPath.reach6, 2],
      [real.addPath.unreach6, 2],
    ] as const) {
      expect(roundTrip(hex, afi, 1, ap)).toBe(hex);
    }
  });

  it('reads the same ADD-PATH bytes differently without ADD-PATH (the option matters)', () => {
    // Without the path id, 0x00 is a /0 prefix: the first NLRI is 0.0.0.0/0.
    const list = decodeHex('00' + '18080200', 1, 1);
    expect(list).toEqual([
      { kind: 'prefix', pathId: undefined, prefix: '0.0.0.0/0' },
      { kind: 'prefix', pathId: undefined, prefix: '8.2.0.0/24' },
    ]);
  });

  it('decodes the IPv6 prefix of mpbgp-linklocal-nexthop.pcap', () => {
    expect(decodeHex(real.llNlri, 2, 1)).toEqual([{ kind: 'prefix', pathId: undefined, prefix: '4:5::/64' }]);
    expect(roundTrip(real.llNlri, 2, 1)).toBe(real.llNlri);
  });

  it('decodes IPv4 multicast (SAFI 2) like unicast', () => {
    expect(decodeHex(crafted.mcast, 1, 2).map((n) => n.kind === 'prefix' && n.prefix)).toEqual(['232.1.1.0/24', '232.1.2.3/32']);
    expect(roundTrip(crafted.mcast, 1, 2)).toBe(crafted.mcast);
  });

  it('keeps host bits as sent so the bytes round-trip', () => {
    // 10.1.1.0/23 (bit 24 set) and 10.1.255.0/20 (0x0a01ff: bits past /20 set)
    const hex = '170a0101' + '140a01ff';
    expect(decodeHex(hex, 1, 1).map((n) => n.kind === 'prefix' && n.prefix)).toEqual(['10.1.1.0/23', '10.1.255.0/20']);
    expect(roundTrip(hex, 1, 1)).toBe(hex);
    const v6 = '41' + '20010db8000000008000000000000000'.slice(0, 18); // /65 with bit 65 set
    expect(decodeHex(v6, 2, 1)).toEqual([{ kind: 'prefix', pathId: undefined, prefix: '2001:db8:0:0:8000::/65' }]);
    expect(roundTrip(v6, 2, 1)).toBe(v6);
  });

  it('accepts the family maxima /32 and /128 and the /0 default', () => {
    expect(roundTrip('20ffffffff' + '00', 1, 1)).toBe('20ffffffff00');
    const full6 = '80' + 'ff'.repeat(16);
    expect(decodeHex(full6, 2, 1)).toEqual([{ kind: 'prefix', pathId: undefined, prefix: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128' }]);
  });

  it('encodes values built by hand', () => {
    expect(encodeHex([{ kind: 'prefix', prefix: '10.1.1.0/24' }, { kind: 'prefix', prefix: '2.0.0.0/7' }], 1, 1)).toBe('180a0101' + '0702');
    expect(encodeHex([{ kind: 'prefix', pathId: 7, prefix: '2001:db8::/32' }], 2, 1, { addPath: true })).toBe('00000007' + '2020010db8');
    expect(() => encodeHex([{ kind: 'prefix', prefix: '10.1.1.0/24' }], 1, 1, { addPath: true })).toThrow(TypeError);
    expect(() => encodeHex([{ kind: 'prefix', prefix: '10.1.1.0/33' }], 1, 1)).toThrow(TypeError);
    expect(() => encodeHex([{ kind: 'prefix', prefix: '10.1.1/24' }], 1, 1)).toThrow(TypeError);
    expect(() => encodeHex([{ kind: 'prefix', prefix: '10.1.1.0/24' }], 1, 128)).toThrow(TypeError);
  });

  it('keeps an unknown family as one raw element for the whole field', () => {
    const hex = '0102030405';
    const list = decodeHex(hex, 1, 5);
    expect(list).toEqual([{ kind: 'unknown', raw: Uint8Array.from([1, 2, 3, 4, 5]) }]);
    expect(roundTrip(hex, 1, 5)).toBe(hex);
    expect(decodeHex('', 16388, 71)).toEqual([]);
  });
});
