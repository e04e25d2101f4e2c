import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../codecs/util/hex.js';
import { RtMembership, normaliseMembership, rtcRouteKey } from '../../../src/rib/rtc.js';
import type { RtMembershipRoute } from '../../../src/rib/rtc.js';
import {
  extCommunityFromBytes,
  extCommunityToBytes,
  formatExtCommunity,
  isRouteTarget,
  parseRouteTarget,
} from '../../../src/rib/route-target.js';
import { store } from './fixtures.js';
import { pcapPath } from '../../support/paths.js';


/** Test-side reading of one RFC 4684 NLRI (length in bits, origin AS, RT prefix bytes). */
function nlri(hex: string): RtMembershipRoute {
  const b = fromHex(hex);
  const len = b[0]!;
  if (len === 0) return { prefixLength: 0, originAs: 0, routeTarget: 0n };
  const originAs = ((b[1]! << 24) | (b[2]! << 16) | (b[3]! << 8) | b[4]!) >>> 0;
  const rt = new Uint8Array(8);
  rt.set(b.subarray(5, 5 + Math.ceil((len - 32) / 8)));
  return { prefixLength: len, originAs, routeTarget: extCommunityFromBytes(rt) };
}

// RTC NLRIs as they appear in bgp-rt-prefix.pcap (the UPDATE bytes in the frame noted).
const F5 = nlri('60 00000016 0002 0001 00010001'); // frame 5: tshark "22:1:65537/96"
const F7 = nlri('60 00000016 0202 000186a0 ffff'); // frame 7: AS4 RT, AS 100000, number 65535
const F13 = nlri('60 00000017 0102 01020304 ffff'); // frame 13: tshark "23:1.2.3.4:65535/96"
const F3a = nlri('30 00000016 0002'); // frame 3: /48, type + sub-type only = every 2-byte-AS RT
const F3b = nlri('50 00000016 0202 00010000'); // frame 3: /80, every AS4 RT of AS 65536
const F11 = nlri('53 00000017 0102 01020304 e0'); // frame 11: /83, IPv4 RT 1.2.3.4, number 0b111...
const F9 = nlri('30 00000017 0102'); // frame 9: /48, every IPv4-specific RT

describe('route targets as 64-bit values', () => {
  it('reads the ext communities of bgp-encap.pcap as tshark shows them', () => {
    const file = readFileSync(pcapPath('bgp-encap.pcap'));
    // EXTENDED_COMMUNITIES attribute: flags c0, type 16, length 16.
    const at = file.indexOf(Buffer.from('c01010', 'hex'));
    expect(at).toBeGreaterThan(0);
    const rt = extCommunityFromBytes(file, at + 3);
    const encap = extCommunityFromBytes(file, at + 11);
    expect(formatExtCommunity(rt)).toBe('target:65000:101'); // tshark: Route Target: 65000:101
    expect(isRouteTarget(encap)).toBe(false); // tshark: Encapsulation VXLAN (8), type 0x03 sub 0x0c
    expect(formatExtCommunity(encap)).toBe('0x030c000000000008');
    expect(Buffer.from(extCommunityToBytes(rt)).equals(file.subarray(at + 3, at + 11))).toBe(true);
  });

  it('parses and formats the three RT forms, inverse of each other', () => {
    expect(parseRouteTarget('target:64512:8000016')).toBe(0x0002fc00007a1210n);
    expect(parseRouteTarget('target:1.2.3.4:65535')).toBe(0x010201020304ffffn);
    expect(parseRouteTarget('target:100000:65535')).toBe(0x0202000186a0ffffn);
    expect(parseRouteTarget('64512L:5')).toBe(0x02020000fc000005n);
    for (const s of ['target:64512:8000016', 'target:1.2.3.4:65535', 'target:100000:65535', 'target:64512L:5', 'target:0:0']) {
      expect(formatExtCommunity(parseRouteTarget(s))).toBe(s);
    }
    for (const bad of ['target:64512', 'target:1.2.3:4', 'target:100000:65536', 'target:x:1', 'target:1.2.3.4:70000']) {
      expect(() => parseRouteTarget(bad)).toThrow(TypeError);
    }
  });

  it('formats the RTs of the capture NLRIs as tshark does', () => {
    expect(formatExtCommunity(F5.routeTarget)).toBe('target:1:65537');
    expect(formatExtCommunity(F13.routeTarget)).toBe('target:1.2.3.4:65535');
    // tshark 4.0 prints "4294967295:65535" for frame 7; the bytes say AS 0x000186a0 = 100000.
    expect(formatExtCommunity(F7.routeTarget)).toBe('target:100000:65535');
    expect(rtcRouteKey(F5)).toBe('22:target:1:65537/96');
  });
});

describe('RtMembership', () => {
  const rt = parseRouteTarget;
  const a = (...ext: bigint[]) => store.intern({ nextHop: '10.0.0.1', extCommunities: ext });

  it('matches exact RTs, ignoring the membership origin AS', () => {
    const m = new RtMembership();
    expect(m.add('p', F5)).toBe(true);
    expect(m.peerWantsRoute('p', a(rt('target:1:65537')))).toBe(true);
    expect(m.peerWantsRoute('p', [0x030c000000000008n, rt('target:1:65537')])).toBe(true);
    expect(m.peerWantsRoute('p', a(rt('target:1:65538')))).toBe(false);
    expect(m.peerWantsRoute('p', a())).toBe(false);
    expect(m.peersWanting(a(rt('target:1:65537')))).toEqual(['p']);
  });

  it('the default route (length 0) wants everything, even routes without RTs', () => {
    const m = new RtMembership();
    m.add('p', { prefixLength: 0, originAs: 0, routeTarget: 0n });
    expect(m.peerWantsRoute('p', a())).toBe(true);
    expect(m.peerWantsRoute('p', a(rt('target:9:9')))).toBe(true);
  });

  it('partial RT prefixes from the capture match by leading bits', () => {
    const m = new RtMembership();
    m.add('as2', F3a); // 00 02: every 2-byte-AS RT
    m.add('as4', F3b); // 02 02 0001 00: 4-byte-AS RTs with AS 65536..65791
    m.add('ip', F11); // 01 02 01020304 111: IPv4 RTs of 1.2.3.4 with number >= 0xe000
    m.add('anyIp', F9);
    expect(m.peersWanting(a(rt('target:64512:1'))).sort()).toEqual(['as2']);
    expect(m.peersWanting(a(rt('target:65536:7'))).sort()).toEqual(['as4']);
    expect(m.peersWanting(a(rt('target:65537:7')))).toEqual([]);
    expect(m.peersWanting(a(rt('target:1.2.3.4:57344'))).sort()).toEqual(['anyIp', 'ip']);
    expect(m.peersWanting(a(rt('target:1.2.3.4:57343'))).sort()).toEqual(['anyIp']);
    expect(m.peersWanting(a(rt('target:1.2.3.5:65535'))).sort()).toEqual(['anyIp']);
  });

  it('origin AS only (/32) matches any route target but not a route without one, nor non-RT communities', () => {
    const m = new RtMembership();
    m.add('p', { prefixLength: 32, originAs: 64512, routeTarget: 0xffffn });
    expect(m.peerWantsRoute('p', a(rt('target:7:7')))).toBe(true);
    expect(m.peerWantsRoute('p', a(0x030c000000000008n))).toBe(false);
    expect(m.peerWantsRoute('p', [0x030c000000000008n])).toBe(false);
  });

  it('counts the same RT from several origin ASes and ignores re-announcements', () => {
    const m = new RtMembership();
    const from22 = { ...F13, originAs: 22 };
    const from23 = F13;
    const from24 = { ...F13, originAs: 24 };
    m.add('p', from22);
    expect(m.add('p', from22)).toBe(false);
    m.add('p', from24);
    m.add('p', from23);
    const route = a(rt('target:1.2.3.4:65535'));
    expect(m.remove('p', from22)).toBe(true);
    expect(m.remove('p', from22)).toBe(false);
    expect(m.peerWantsRoute('p', route)).toBe(true);
    m.remove('p', from24);
    expect(m.peerWantsRoute('p', route)).toBe(true);
    m.remove('p', from23);
    expect(m.peerWantsRoute('p', route)).toBe(false);
    // Partial prefixes are counted the same way.
    m.add('p', F9);
    m.add('p', { ...F9, originAs: 99 });
    m.remove('p', F9);
    expect(m.peerWantsRoute('p', route)).toBe(true);
    m.remove('p', { ...F9, originAs: 99 });
    expect(m.peerWantsRoute('p', route)).toBe(false);
  });

  it('an RTC peer with no membership yet wants nothing; unknown peers are told apart by hasPeer', () => {
    const m = new RtMembership();
    m.addPeer('quiet');
    expect(m.peerWantsRoute('quiet', a(rt('target:1:1')))).toBe(false);
    expect(m.hasPeer('quiet')).toBe(true);
    expect(m.hasPeer('other')).toBe(false);
    m.add('gone', F5);
    m.removePeer('gone');
    expect(m.peerWantsRoute('gone', a(rt('target:1:65537')))).toBe(false);
  });

  it('normalises lengths and trailing bits', () => {
    expect(() => normaliseMembership({ prefixLength: 31, originAs: 1, routeTarget: 0n })).toThrow(TypeError);
    expect(() => normaliseMembership({ prefixLength: 97, originAs: 1, routeTarget: 0n })).toThrow(TypeError);
    expect(normaliseMembership({ prefixLength: 48, originAs: 1, routeTarget: 0x0002ffffffffffffn }).routeTarget).toBe(
      0x0002000000000000n,
    );
    expect(rtcRouteKey({ prefixLength: 0, originAs: 5, routeTarget: 7n })).toBe('0:0x0000000000000000/0');
  });
});
