import { describe, expect, it } from 'vitest';
import type { Nlri, RtcNlri } from '../../../codecs/bgp/nlri.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex } from '../../../codecs/util/hex.js';
import { real, crafted, decodeHex, encodeHex, roundTrip } from './nlri-fixtures.js';

const rtc = (n: Nlri | undefined): RtcNlri => {
  if (n?.kind !== 'rtc') throw new Error(`not rtc: ${n?.kind}`);
  return n;
};

describe('route target membership NLRI (AFI 1 SAFI 132, RFC 4684)', () => {
  it('decodes the full-length routes of bgp-rt-prefix.pcap', () => {
    // tshark: 'MP Reach NLRI 22:1:65537/96'
    expect(rtc(decodeHex(real.rtc5, 1, 132)[0])).toEqual({
      kind: 'rtc', pathId: undefined, length: 96, originAs: 22,
      routeTarget: fromHex('0002000100010001'), rt: '1:65537',
    });
    // tshark: 'MP Unreach NLRI 23:1.2.3.4:65535/96'
    const w = rtc(decodeHex(real.rtc13, 1, 132, {}, true)[0]);
    expect([w.originAs, w.rt, w.length]).toEqual([23, '1.2.3.4:65535', 96]);
    // Type 0x02 (4-byte AS) route target: AS 0x000186a0, number 0xffff. tshark 4.0 prints
    // 4294967295:65535 here, which the bytes do not say.
    expect(rtc(decodeHex(real.rtc7, 1, 132)[0]).rt).toBe('100000:65535');
    for (const hex of [real.rtc5, real.rtc7, real.rtc13]) expect(roundTrip(hex, 1, 132)).toBe(hex);
  });

  it('keeps partial route-target prefixes of the capture byte for byte', () => {
    const got = real.rtcPartial.map((hex) => {
      const n = rtc(decodeHex(hex, 1, 132)[0]);
      expect(n.rt).toBeUndefined();
      expect(roundTrip(hex, 1, 132)).toBe(hex);
      return [n.length, n.originAs, Buffer.from(n.routeTarget).toString('hex')];
    });
    expect(got).toEqual([
      [32, 22, ''],
      [48, 22, '0002'],
      [80, 22, '020200010000'],
      [48, 23, '0102'],
      [83, 23, '010201020304e0'], // 51 RT bits: 7 bytes, the last one partial
    ]);
  });

  it('decodes the default route and full routes (crafted; tshark: Wildcard route target, 64512:64512:10000/96, 64512:192.0.2.1:7/96)', () => {
    expect(decodeHex(crafted.rtcDefault, 1, 132)).toEqual([
      { kind: 'rtc', pathId: undefined, length: 0, routeTarget: new Uint8Array(0) },
    ]);
    const list = decodeHex(crafted.rtcFull, 1, 132).map(rtc);
    expect(list.map((n) => [n.originAs, n.rt])).toEqual([
      [64512, '64512:10000'],
      [64512, '192.0.2.1:7'],
    ]);
    expect(roundTrip(crafted.rtcDefault + crafted.rtcFull, 1, 132)).toBe(crafted.rtcDefault + crafted.rtcFull);
  });

  it('rejects lengths 1..31 and above 96 with 3/10 at the length byte', () => {
    for (const [hex, at] of [['1f00000016', 0], ['61' + '00000016' + '00'.repeat(9), 0], ['00' + '08ff', 1]] as const) {
      try {
        decodeHex(hex, 1, 132);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        expect((e as DecodeError).field).toBe(`bgp.nlri[${at}].length`);
        expect((e as DecodeError).offset).toBe(at);
        expect((e as DecodeError).notification).toEqual({ code: 3, subcode: 10 });
      }
    }
  });

  it('rejects a truncated route target', () => {
    expect(() => decodeHex('60000000160002', 1, 132)).toThrow(/bgp\.nlri\[0\]\.routeTarget/);
  });

  it('encodes ADD-PATH RTC and refuses an inconsistent value', () => {
    const hex = encodeHex([{ kind: 'rtc', pathId: 1, length: 0, routeTarget: new Uint8Array(0) }], 1, 132, { addPath: true });
    expect(hex).toBe('0000000100');
    expect(() => encodeHex([{ kind: 'rtc', length: 96, originAs: 1, routeTarget: new Uint8Array(3) }], 1, 132)).toThrow(TypeError);
  });
});
