import { describe, expect, it } from 'vitest';
import type { Nlri } from '../../../codecs/bgp/nlri.js';
import { needsTemplate, nlriLabels, routeKey, routeNlri } from '../../../src/bgp/families.js';
import { crafted, decodeHex, encodeHex } from './nlri-fixtures.js';

/** The NLRI as the speaker re-advertises it: its label values, TC 0, bottom on the last. */
const asSent = (n: Nlri): Nlri => (n.kind === 'vpn' ? { ...n, pathId: undefined, labels: n.labels.map((l, i) => ({ value: l.value, tc: 0, bottom: i === n.labels.length - 1 })) } : n);

describe('route keys and the NLRI rebuilt from them', () => {
  it('names VPN destinations by RD and prefix, type 2 RDs with an L', () => {
    const list = decodeHex(crafted.vpnv4, 1, 128);
    expect(list.map((n) => routeKey('vpnv4', n))).toEqual(['64512:1:10.1.1.0/24', '192.0.2.1:5:10.2.0.0/16', '4200000000L:7:10.3.3.3/32', '1:2:10.1.1.0/24', '1:2:0.0.0.0/0']);
    expect(routeKey('vpnv6', decodeHex(crafted.vpnv6, 2, 128)[1]!)).toBe('65536L:1:2001:db8:2:3::/64');
  });

  it('gives back the same bytes for every RD type, IPv4 and IPv6, from the key and the labels alone', () => {
    for (const [hex, afi, family] of [
      [crafted.vpnv4, 1, 'vpnv4'],
      [crafted.vpnv6, 2, 'vpnv6'],
    ] as const) {
      const list = decodeHex(hex, afi, 128);
      const rebuilt = list.map((n) => routeNlri(family, routeKey(family, n)!, nlriLabels(n))!);
      expect(list.some(needsTemplate)).toBe(false);
      expect(encodeHex(rebuilt, afi, 128)).toBe(encodeHex(list.map(asSent), afi, 128));
    }
    // Type 0 and type 2 with the same numbers stay apart; the RD cache must not mix them up.
    const t0 = routeNlri('vpnv4', '100:7:10.0.0.0/8', [16]);
    const t2 = routeNlri('vpnv4', '100L:7:10.0.0.0/8', [16]);
    expect(t0).toMatchObject({ kind: 'vpn', rd: { type: 0, admin: 100, assigned: 7 }, prefix: '10.0.0.0/8' });
    expect(t2).toMatchObject({ kind: 'vpn', rd: { type: 2, admin: 100, assigned: 7 }, prefix: '10.0.0.0/8' });
  });

  it('uses implicit null for a path without labels, a plain prefix for IPv4 unicast, and nothing for RTC', () => {
    expect(routeNlri('vpnv4', '64512:1:10.1.1.0/24', undefined)).toMatchObject({ labels: [{ value: 3, tc: 0, bottom: true }] });
    expect(routeNlri('ipv4-unicast', '10.1.1.5/24', undefined)).toEqual({ kind: 'prefix', prefix: '10.1.1.5/24' });
    expect(routeNlri('rtc', '64512:64512:100/96', undefined)).toBeUndefined();
    expect(needsTemplate({ kind: 'vpn', labels: [], rd: { type: 3, admin: '000000000001', assigned: 0, raw: new Uint8Array(8) }, prefix: '10.0.0.0/8' })).toBe(true);
  });
});
