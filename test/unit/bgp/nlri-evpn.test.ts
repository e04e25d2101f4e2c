import { describe, expect, it } from 'vitest';
import { formatLabelStack, type EvpnNlri, type Nlri } from '../../../codecs/bgp/nlri.js';
import { formatRd } from '../../../codecs/bgp/rd.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { real, crafted, decodeHex, encodeHex, roundTrip } from './nlri-fixtures.js';

const evpn = (n: Nlri | undefined): EvpnNlri => {
  if (n?.kind !== 'evpn') throw new Error(`not evpn: ${n?.kind}`);
  return n;
};
const ZERO_ESI = '00:00:00:00:00:00:00:00:00:00';
const ESI = '00:01:02:03:04:05:06:07:08:09';

describe('EVPN NLRI (AFI 25 SAFI 70)', () => {
  it('decodes the MAC route of bgp-encap.pcap as tshark shows it', () => {
    const [n] = decodeHex(real.evpnMac, 25, 70);
    // tshark: RD 0001040404040004 (4.4.4.4:4), ESI zero, Ethernet Tag ID 0, MAC 02:06:0a:0e:fa:f3,
    // IP Address Length 0, 'VNI: 101' (the label field read whole under VXLAN encapsulation)
    expect(n).toEqual({
      kind: 'evpn', pathId: undefined, routeType: 2,
      rd: { type: 1, admin: '4.4.4.4', assigned: 4 },
      esi: ZERO_ESI, ethernetTag: 0, mac: '02:06:0a:0e:fa:f3', ip: undefined,
      label1: { value: 6, tc: 2, bottom: true, raw: 101 },
    });
    expect(roundTrip(real.evpnMac, 25, 70)).toBe(real.evpnMac);
  });

  it('decodes route types 1 to 5 (crafted, values as tshark 4.0 printed them)', () => {
    const list = decodeHex(crafted.evpn, 25, 70).map(evpn);
    expect(list.map((n) => n.routeType)).toEqual([1, 2, 2, 3, 3, 4, 5, 5]);
    const [ad, mac4, mac6, imet4, imet6, es, ipp4, ipp6] = list;
    // Ethernet AD Route: RD 4.4.4.4:4, ESI 00:01:..:09, Ethernet Tag ID 4294967295
    expect(ad).toMatchObject({ routeType: 1, esi: ESI, ethernetTag: 4294967295, label: { value: 100, bottom: true } });
    expect('rd' in ad! && formatRd(ad.rd)).toBe('4.4.4.4:4');
    // MAC Advertisement Route: 65000:1, MAC 02:06:0a:0e:fa:f3, IPv4 10.0.0.5, two label fields
    expect(mac4).toMatchObject({ routeType: 2, esi: ZERO_ESI, ethernetTag: 0, mac: '02:06:0a:0e:fa:f3', ip: '10.0.0.5', label1: { raw: 101 }, label2: { raw: 5000 } });
    expect(mac6).toMatchObject({ routeType: 2, ethernetTag: 7, mac: '02:06:0a:0e:fa:f4', ip: '2001:db8::5', label1: { value: 200, bottom: true } });
    expect('label2' in mac6!).toBe(false);
    // Inclusive Multicast Route: tag 0 / IPv4 4.4.4.4, tag 10 / IPv6 2001:db8::4
    expect(imet4).toMatchObject({ routeType: 3, ethernetTag: 0, originatorIp: '4.4.4.4' });
    expect(imet6).toMatchObject({ routeType: 3, ethernetTag: 10, originatorIp: '2001:db8::4' });
    // Ethernet Segment Route: RD 4.4.4.4:1, ESI, IPv4 4.4.4.4
    expect(es).toMatchObject({ routeType: 4, esi: ESI, originatorIp: '4.4.4.4', rd: { type: 1, admin: '4.4.4.4', assigned: 1 } });
    // IP Prefix route: 10.9.8.0 /24, gateway 0.0.0.0, 'MPLS Label Stack: 312 (bottom)'
    expect(ipp4).toMatchObject({ routeType: 5, esi: ZERO_ESI, ethernetTag: 0, prefix: '10.9.8.0/24', gateway: '0.0.0.0' });
    if (ipp4!.routeType !== 5 || !('label' in ipp4!)) throw new Error('type 5 expected');
    expect(formatLabelStack([ipp4.label])).toBe('312 (bottom)');
    expect(ipp4.label.raw).toBe(5005);
    // IPv6: 2001:db8:9:: /64, gateway 2001:db8::1, '77 (bottom)'
    expect(ipp6).toMatchObject({ routeType: 5, esi: ESI, prefix: '2001:db8:9::/64', gateway: '2001:db8::1', label: { value: 77, bottom: true } });
    expect(roundTrip(crafted.evpn, 25, 70)).toBe(crafted.evpn);
  });

  it('keeps an unknown route type raw', () => {
    expect(decodeHex(crafted.evpnUnknown, 25, 70)).toEqual([
      { kind: 'evpn', pathId: undefined, routeType: 9, raw: Uint8Array.from([1, 2, 3, 4, 5]) },
    ]);
    expect(roundTrip(crafted.evpnUnknown + real.evpnMac, 25, 70)).toBe(crafted.evpnUnknown + real.evpnMac);
  });

  it('reads ADD-PATH EVPN', () => {
    const hex = '00000005' + real.evpnMac;
    expect(evpn(decodeHex(hex, 25, 70, { addPath: true })[0]).pathId).toBe(5);
    expect(roundTrip(hex, 25, 70, { addPath: true })).toBe(hex);
  });

  it('rejects bodies that fit no layout of their type, naming the field', () => {
    const cases: [string, string, number][] = [
      // type 1 with 24 bytes
      ['0118' + '00'.repeat(24), 'bgp.nlri[0].length', 1],
      // type 2 whose MAC length says 47
      ['0221' + '00'.repeat(22) + '2f' + '00'.repeat(10), 'bgp.nlri[0].macLength', 24],
      // type 2 with IP length 24
      ['0224' + '00'.repeat(22) + '30' + '00'.repeat(6) + '18' + '00'.repeat(6), 'bgp.nlri[0].ipLength', 31],
      // type 2 claiming a 32-bit IP but carrying none
      ['0221' + '00'.repeat(22) + '30' + '00'.repeat(6) + '20' + '000000', 'bgp.nlri[0].length', 1],
      // type 3 whose IP length disagrees with the route length
      ['0311' + '00'.repeat(12) + '80' + '04040404', 'bgp.nlri[0].ipLength', 14],
      // type 5 with IPv4 prefix length 33
      ['0522' + '00'.repeat(22) + '21' + '00'.repeat(11), 'bgp.nlri[0].prefixLength', 24],
      // body runs past the field
      ['0321' + '00'.repeat(10), 'bgp.nlri[0].body', 2],
      // lone type byte
      [real.evpnMac + '02', 'bgp.nlri[1].length', 35],
    ];
    for (const [hex, field, offset] of cases) {
      try {
        decodeHex(hex, 25, 70);
        expect.unreachable(field);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        const d = e as DecodeError;
        expect([d.field, d.offset]).toEqual([field, offset]);
        expect(d.notification).toEqual({ code: 3, subcode: 10 });
      }
    }
  });

  it('encodes a route built by hand', () => {
    const hex = encodeHex([{
      kind: 'evpn', routeType: 3, rd: { type: 0, admin: 65000, assigned: 1 }, ethernetTag: 0, originatorIp: '4.4.4.4',
    }], 25, 70);
    expect(hex).toBe('0311' + '0000fde800000001' + '00000000' + '20' + '04040404');
    expect(() => encodeHex([{
      kind: 'evpn', routeType: 5, rd: { type: 0, admin: 1, assigned: 1 }, esi: ZERO_ESI, ethernetTag: 0,
      prefix: '10.0.0.0/24', gateway: '2001:db8::1', label: { value: 1, bottom: true },
    }], 25, 70)).toThrow(TypeError);
    expect(() => encodeHex([{
      kind: 'evpn', routeType: 4, rd: { type: 0, admin: 1, assigned: 1 }, esi: '00:01', originatorIp: '1.1.1.1',
    }], 25, 70)).toThrow(TypeError);
  });
});
