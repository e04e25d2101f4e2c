import { describe, expect, it } from 'vitest';
import { formatLabelStack, formatNlri, type Nlri, type VpnNlri } from '../../../codecs/bgp/nlri.js';
import { formatRd } from '../../../codecs/bgp/rd.js';
import { crafted, decodeHex, encodeHex, roundTrip } from './nlri-fixtures.js';

const vpn = (n: Nlri | undefined): VpnNlri => {
  if (n?.kind !== 'vpn') throw new Error(`not vpn: ${n?.kind}`);
  return n;
};
/** The three columns tshark prints per VPN prefix: label stack, RD, prefix. */
const columns = (list: Nlri[]) => list.map((n) => [formatLabelStack(vpn(n).labels), formatRd(vpn(n).rd), vpn(n).prefix]);

describe('VPNv4 / VPNv6 NLRI (SAFI 128)', () => {
  it('decodes RD types 0, 1 and 2 as tshark shows them', () => {
    const list = decodeHex(crafted.vpnv4, 1, 128);
    expect(columns(list)).toEqual([
      ['100 (bottom)', '64512:1', '10.1.1.0/24'],
      ['200 (bottom)', '192.0.2.1:5', '10.2.0.0/16'],
      ['300 (bottom)', '4200000000:7', '10.3.3.3/32'],
      ['16 (bottom)', '1:2', '10.1.1.0/24'],
      ['17 (bottom)', '1:2', '0.0.0.0/0'],
    ]);
    expect(list[0]).toEqual({
      kind: 'vpn',
      pathId: undefined,
      labels: [{ value: 100, tc: 0, bottom: true, raw: 0x000641 }],
      rd: { type: 0, admin: 64512, assigned: 1 },
      prefix: '10.1.1.0/24',
    });
    expect(vpn(list[1]).rd).toEqual({ type: 1, admin: '192.0.2.1', assigned: 5 });
    expect(vpn(list[2]).rd).toEqual({ type: 2, admin: 4200000000, assigned: 7 });
    // the third label was sent with TC 5
    expect(vpn(list[2]).labels[0]).toEqual({ value: 300, tc: 5, bottom: true, raw: (300 << 4) | (5 << 1) | 1 });
    expect(roundTrip(crafted.vpnv4, 1, 128)).toBe(crafted.vpnv4);
  });

  it('decodes the withdrawal label fields of GoBGP, BIRD, FRR and RFC 8277 senders (interop-recipes section 6)', () => {
    const list = decodeHex(crafted.vpnv4Withdraw, 1, 128, {}, true);
    expect(columns(list)).toEqual([
      ['0 (withdrawn)', '64512:1', '10.1.1.0/24'],
      ['0 (withdrawn)', '64512:2', '10.40.2.0/24'],
      ['0 (bottom)', '64512:7', '10.30.7.0/24'],
      ['200 (bottom)', '127.0.0.2:3', '10.20.2.0/24'],
    ]);
    expect(list.map((n) => vpn(n).labels[0]!.raw)).toEqual([0x800000, 0x000000, 0x000001, 0x000c81]);
    expect(roundTrip(crafted.vpnv4Withdraw, 1, 128, {}, true)).toBe(crafted.vpnv4Withdraw);
    // the same with a multi-label session: still one field each
    expect(columns(decodeHex(crafted.vpnv4Withdraw, 1, 128, { maxLabels: 3 }, true))).toEqual(columns(list));
  });

  it('keeps an unknown RD type raw (tshark: Unknown (0x0003) RD type)', () => {
    const n = vpn(decodeHex(crafted.vpnv4Rd3, 1, 128)[0]);
    expect(n.rd.type).toBe(3);
    expect(n.rd.raw).toEqual(Uint8Array.from([0, 3, 1, 2, 3, 4, 5, 6]));
    expect(n.prefix).toBe('10.1.1.0/24');
    expect(roundTrip(crafted.vpnv4Rd3, 1, 128)).toBe(crafted.vpnv4Rd3);
  });

  it('decodes VPNv6 (tshark: Label Stack=16 (bottom) RD=65000:100, IPv6=2001:db8:1::/48)', () => {
    const list = decodeHex(crafted.vpnv6, 2, 128);
    expect(columns(list)).toEqual([
      ['16 (bottom)', '65000:100', '2001:db8:1::/48'],
      // tshark 4.0 prints only '17 (bottom)' for this one; the bytes are RD type 2 65536:1 and 2001:db8:2:3::/64
      ['17 (bottom)', '65536:1', '2001:db8:2:3::/64'],
    ]);
    expect(roundTrip(crafted.vpnv6, 2, 128)).toBe(crafted.vpnv6);
  });

  it('decodes ADD-PATH VPNv4', () => {
    const hex = '0000002a' + crafted.vpnv4.slice(0, 30);
    const n = vpn(decodeHex(hex, 1, 128, { addPath: true })[0]);
    expect(n.pathId).toBe(42);
    expect(n.prefix).toBe('10.1.1.0/24');
    expect(roundTrip(hex, 1, 128, { addPath: true })).toBe(hex);
  });

  it('encodes a route built by hand like the interop-recipes generator does', () => {
    // vpnv4_nlri(100, rd_type0(64512, 1), '10.1.1.0', 24) of interop-recipes 7.1
    const hex = encodeHex([{ kind: 'vpn', labels: [{ value: 100, bottom: true }], rd: { type: 0, admin: 64512, assigned: 1 }, prefix: '10.1.1.0/24' }], 1, 128);
    expect(hex).toBe('70' + '000641' + '0000fc0000000001' + '0a0101');
    expect(formatNlri(decodeHex(hex, 1, 128)[0]!)).toBe('64512:1:10.1.1.0/24 label 100 (bottom)');
  });

  it('decodes many NLRIs in one field and keeps their order', () => {
    const list: Nlri[] = [];
    for (let i = 0; i < 300; i++) {
      list.push({ kind: 'vpn', pathId: undefined, labels: [{ value: 1000 + i, tc: 0, bottom: true, raw: ((1000 + i) << 4) | 1 }], rd: { type: 0, admin: 64512, assigned: i }, prefix: `10.${i >> 8}.${i & 255}.0/24` });
    }
    const hex = encodeHex(list, 1, 128);
    expect(decodeHex(hex, 1, 128)).toEqual(list);
  });
});
