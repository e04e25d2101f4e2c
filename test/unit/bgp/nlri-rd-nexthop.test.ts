import { describe, expect, it } from 'vitest';
import { decodeMpNextHop, encodeMpNextHop, formatMpNextHop, type MpNextHop } from '../../../codecs/bgp/nexthop.js';
import { decodeRd, encodeRd, formatRd, parseRd, formatRouteTarget } from '../../../codecs/bgp/rd.js';
import { Reader } from '../../../codecs/util/reader.js';
import { Writer } from '../../../codecs/util/writer.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { real, crafted } from './nlri-fixtures.js';

function nh(hex: string, afi: number, safi: number): MpNextHop {
  const r = new Reader(fromHex(hex));
  const v = decodeMpNextHop(r, afi, safi);
  expect(r.atEnd()).toBe(true);
  return v;
}

function nhBytes(v: MpNextHop, afi: number, safi: number): string {
  const w = new Writer(8);
  encodeMpNextHop(w, afi, safi, v);
  return toHex(w.view());
}

/** The encoder writes the length byte, then the next hop as it was read. */
function nhRoundTrip(hex: string, afi: number, safi: number): void {
  expect(nhBytes(nh(hex, afi, safi), afi, safi)).toBe((hex.length / 2).toString(16).padStart(2, '0') + hex);
}

describe('route distinguisher', () => {
  it('decodes and formats the three types like tshark', () => {
    const cases: [string, string][] = [
      ['0000fc0000000001', '64512:1'],
      ['0001c00002010005', '192.0.2.1:5'],
      ['0002fa56ea000007', '4200000000:7'],
      ['0001040404040004', '4.4.4.4:4'],
    ];
    for (const [hex, text] of cases) {
      const rd = decodeRd(new Reader(fromHex(hex)));
      expect(formatRd(rd)).toBe(text);
      expect(parseRd(text)).toEqual(rd);
      const w = new Writer(8);
      encodeRd(w, rd);
      expect(toHex(w.view())).toBe(hex);
    }
  });

  it('parses the type from the admin field size and rejects what does not fit', () => {
    expect(parseRd('65535:4294967295')).toEqual({ type: 0, admin: 65535, assigned: 4294967295 });
    expect(parseRd('65536:1')).toEqual({ type: 2, admin: 65536, assigned: 1 });
    for (const bad of ['65536:65536', '1.2.3.4:65536', '1:4294967296', 'x:1', '1:', ':1', '1.2.3:4', '64512']) {
      expect(() => parseRd(bad)).toThrow(TypeError);
    }
  });

  it('keeps unknown types raw', () => {
    const rd = decodeRd(new Reader(fromHex('0003010203040506')));
    expect(rd.type).toBe(3);
    expect(formatRd(rd)).toBe('3:010203040506');
    const w = new Writer(8);
    encodeRd(w, rd);
    expect(toHex(w.view())).toBe('0003010203040506');
  });

  it('fails short with a DecodeError naming the field', () => {
    expect(() => decodeRd(new Reader(fromHex('000000')), 'x.rd')).toThrow(DecodeError);
  });

  it('formats route targets by type', () => {
    expect(formatRouteTarget(fromHex('0002fc0000002710'))).toBe('64512:10000');
    expect(formatRouteTarget(fromHex('0102c00002010007'))).toBe('192.0.2.1:7');
    expect(formatRouteTarget(fromHex('0202000186a0ffff'))).toBe('100000:65535');
    expect(formatRouteTarget(fromHex('0302000000000001'))).toBe('0302000000000001');
  });
});

describe('MP_REACH next hop', () => {
  it('decodes the global + link-local next hop of mpbgp-linklocal-nexthop.pcap', () => {
    // tshark: 'Next hop: IPv6=dead:beef::1 Link-local=fe80::1ff:fe01:0'
    expect(nh(real.llNextHop, 2, 1)).toEqual({ kind: 'ipv6', address: 'dead:beef::1', linkLocal: 'fe80::1ff:fe01:0' });
    nhRoundTrip(real.llNextHop, 2, 1);
  });

  it('decodes IPv4 and IPv6 next hops of the captures', () => {
    expect(nh(real.addPath.reach4Nh, 1, 1)).toEqual({ kind: 'ipv4', address: '1.2.3.4' });
    expect(nh(real.addPath.reach6Nh, 2, 1)).toEqual({ kind: 'ipv6', address: '2000:0:0:40::1' });
    expect(nh('04040404', 25, 70)).toEqual({ kind: 'ipv4', address: '4.4.4.4' });
    expect(nh(crafted.lu6Nh, 2, 4)).toEqual({ kind: 'ipv6', address: '2001:db8::9' });
    expect(nh('01000002', 1, 132)).toEqual({ kind: 'ipv4', address: '1.0.0.2' });
    expect(nh('20010db8000000000000000000000004', 25, 70)).toEqual({ kind: 'ipv6', address: '2001:db8::4' });
  });

  it('decodes VPN next hops: RD + IPv4, RD + IPv6 (RFC 8950), and with link-local', () => {
    const v4 = nh(crafted.vpnv4Nh, 1, 128);
    expect(v4).toEqual({ kind: 'vpn-ipv4', rd: { type: 0, admin: 0, assigned: 0 }, address: '127.0.0.2' });
    expect(formatMpNextHop(v4)).toBe('RD=0:0 127.0.0.2');
    expect(nh(crafted.vpnv4Nh6, 1, 128)).toEqual({ kind: 'vpn-ipv6', rd: { type: 0, admin: 0, assigned: 0 }, address: '2001:db8::2' });
    expect(nh(crafted.vpnv6Nh, 2, 128)).toEqual({ kind: 'vpn-ipv6', rd: { type: 0, admin: 0, assigned: 0 }, address: '2001:db8::1' });
    expect(nh(crafted.vpnv6NhLl, 2, 128)).toEqual({
      kind: 'vpn-ipv6', rd: { type: 0, admin: 0, assigned: 0 }, address: '2001:db8::1',
      linkLocalRd: { type: 0, admin: 0, assigned: 0 }, linkLocal: 'fe80::1',
    });
    for (const [hex, afi] of [[crafted.vpnv4Nh, 1], [crafted.vpnv4Nh6, 1], [crafted.vpnv6Nh, 2], [crafted.vpnv6NhLl, 2]] as const) {
      nhRoundTrip(hex, afi, 128);
    }
  });

  it('keeps a non-zero VPN next-hop RD as sent', () => {
    const hex = '0000fc00000000017f000002';
    expect(nh(hex, 1, 128)).toMatchObject({ kind: 'vpn-ipv4', rd: { admin: 64512, assigned: 1 } });
    nhRoundTrip(hex, 1, 128);
  });

  it('keeps unknown lengths raw and never throws', () => {
    for (const [hex, afi, safi] of [
      ['', 1, 1], ['0102', 1, 1], ['01020304', 1, 128], [real.llNextHop, 25, 70], ['00'.repeat(32), 1, 132], ['00'.repeat(13), 1, 128],
    ] as const) {
      const v = nh(hex, afi, safi);
      expect(v).toEqual({ kind: 'raw', raw: fromHex(hex) });
      nhRoundTrip(hex, afi, safi);
    }
  });

  it('reads only its window', () => {
    const buf = fromHex('ff' + '0a000001' + 'ee');
    const r = new Reader(buf, 1, 5);
    expect(decodeMpNextHop(r, 1, 1)).toEqual({ kind: 'ipv4', address: '10.0.0.1' });
    expect(r.pos).toBe(5);
  });
});
