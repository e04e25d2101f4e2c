import { describe, expect, it } from 'vitest';
import { formatLabelStack, type LabeledNlri, type MplsLabel, type Nlri } from '../../../codecs/bgp/nlri.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { real, crafted, decodeHex, encodeHex, roundTrip } from './nlri-fixtures.js';

const labeled = (n: Nlri | undefined): LabeledNlri => {
  if (n?.kind !== 'labeled') throw new Error(`not labeled: ${n?.kind}`);
  return n;
};
const values = (ls: MplsLabel[]) => ls.map((l) => l.value);

describe('labeled unicast NLRI (SAFI 4, RFC 8277)', () => {
  it('reads the 4-label stack of bgp-lu-multiple-labels.pcap when 4 labels are negotiated', () => {
    const [n] = decodeHex(real.luMultiReach, 1, 4, { maxLabels: 4 });
    const lu = labeled(n);
    expect(values(lu.labels)).toEqual([100, 101, 102, 103]);
    expect(lu.labels.map((l) => l.bottom)).toEqual([false, false, false, true]);
    expect(lu.labels[3]).toEqual({ value: 103, tc: 0, bottom: true, raw: 0x000671 });
    expect(lu.prefix).toBe('30.1.1.1/32');
    // tshark: 'MP Reach NLRI Label Stack: 100,101,102,103 (bottom)'
    expect(formatLabelStack(lu.labels)).toBe('100,101,102,103 (bottom)');
    expect(roundTrip(real.luMultiReach, 1, 4, { maxLabels: 4 })).toBe(real.luMultiReach);
  });

  it('stops at the bottom-of-stack bit before maxLabels', () => {
    const lu = labeled(decodeHex(real.luMultiReach, 1, 4, { maxLabels: 8 })[0]);
    expect(values(lu.labels)).toEqual([100, 101, 102, 103]);
  });

  it('takes exactly one label without the multiple-labels capability, whatever its S bit', () => {
    // Label 100 has S=0 here; with one label the remaining 104 bits cannot be an IPv4 prefix.
    try {
      decodeHex(real.luMultiReach, 1, 4);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      const d = e as DecodeError;
      expect(d.field).toBe('bgp.nlri[0].length');
      expect(d.offset).toBe(0);
      expect(d.notification).toEqual({ code: 3, subcode: 10 });
    }
    // S=0 on a single label is ignored (RFC 8277 2.2): 0x000640 = label 100, S=0
    const lu = labeled(decodeHex('38' + '000640' + '1e010101', 1, 4)[0]);
    expect(lu.labels).toEqual([{ value: 100, tc: 0, bottom: false, raw: 0x000640 }]);
    expect(lu.prefix).toBe('30.1.1.1/32');
  });

  it('decodes the MP_UNREACH of the capture (0x800001) as one field even with 4 labels negotiated', () => {
    for (const maxLabels of [1, 4, 7]) {
      const lu = labeled(decodeHex(real.luWithdraw, 1, 4, { maxLabels }, true)[0]);
      // tshark: 'MP Unreach NLRI Label Stack: 524288 (bottom)', '30.1.1.1', prefix length 56
      expect(lu.labels).toEqual([{ value: 524288, tc: 0, bottom: true, raw: 0x800001 }]);
      expect(formatLabelStack(lu.labels)).toBe('524288 (bottom)');
      expect(lu.prefix).toBe('30.1.1.1/32');
      expect(roundTrip(real.luWithdraw, 1, 4, { maxLabels }, true)).toBe(real.luWithdraw);
    }
  });

  it('decodes each implementation\'s withdrawal label field and restores it on encode', () => {
    const variants: [string, string, string][] = [
      ['RFC 8277 compat', '800000', '0 (withdrawn)'],
      ['FRR', '000000', '0 (withdrawn)'],
      ['BIRD', '000001', '0 (bottom)'],
      ['GoBGP', '000c81', '200 (bottom)'],
    ];
    for (const [, field, text] of variants) {
      const hex = '38' + field + '1e010101';
      for (const maxLabels of [1, 3]) {
        const list = decodeHex(hex, 1, 4, { maxLabels }, true);
        expect(list).toHaveLength(1);
        const lu = labeled(list[0]);
        expect(lu.labels).toHaveLength(1);
        expect(lu.labels[0]!.raw).toBe(parseInt(field, 16));
        expect(lu.prefix).toBe('30.1.1.1/32');
        expect(formatLabelStack(lu.labels)).toBe(text);
        expect(encodeHex(list, 1, 4, { maxLabels })).toBe(hex);
      }
    }
  });

  it('FRR\'s S=0 withdrawal would be misread by a reader that looks for the bottom of stack', () => {
    // Two FRR withdrawals back to back: reading on past 0x000000 would swallow the prefix.
    const hex = '38000000' + '1e010101' + '30000000' + '0a0101';
    const list = decodeHex(hex, 1, 4, { maxLabels: 4 }, true);
    expect(list.map((n) => labeled(n).prefix)).toEqual(['30.1.1.1/32', '10.1.1.0/24']);
  });

  it('reads an echoed multi-label stack in a withdrawal up to its bottom', () => {
    const list = decodeHex(real.luMultiReach, 1, 4, { maxLabels: 4 }, true);
    expect(values(labeled(list[0]).labels)).toEqual([100, 101, 102, 103]);
  });

  it('decodes IPv6 labeled unicast (crafted; tshark: Label Stack=3 (bottom), 2001:db8:5::/48)', () => {
    const lu = labeled(decodeHex(crafted.lu6, 2, 4)[0]);
    expect(formatLabelStack(lu.labels)).toBe('3 (bottom)');
    expect(lu.prefix).toBe('2001:db8:5::/48');
    expect(roundTrip(crafted.lu6, 2, 4)).toBe(crafted.lu6);
  });

  it('encodes labels from value, tc and bottom', () => {
    const hex = encodeHex([{ kind: 'labeled', labels: [{ value: 16001, tc: 5, bottom: true }], prefix: '10.0.0.0/8' }], 1, 4);
    // 16001 << 4 | 5 << 1 | 1 = 0x3e81b
    expect(hex).toBe('20' + '03e81b' + '0a');
    expect(() => encodeHex([{ kind: 'labeled', labels: [{ value: 0x100000, bottom: true }], prefix: '10.0.0.0/8' }], 1, 4)).toThrow(TypeError);
    expect(() => encodeHex([{ kind: 'labeled', labels: [], prefix: '10.0.0.0/8' }], 1, 4)).toThrow(TypeError);
  });

  it('formats label stacks like tshark', () => {
    expect(formatLabelStack([{ value: 100, bottom: true }])).toBe('100 (bottom)');
    expect(formatLabelStack([{ value: 0, bottom: false }])).toBe('0 (withdrawn)');
    expect(formatLabelStack([{ value: 0x80000, bottom: false }])).toBe('0 (withdrawn)');
    expect(formatLabelStack([{ value: 5, bottom: false }, { value: 6, bottom: false }])).toBe('5,6');
    expect(formatLabelStack([])).toBe('');
  });
});
