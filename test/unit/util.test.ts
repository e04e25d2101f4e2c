import { describe, expect, it } from 'vitest';
import { Reader, formatIpv6 } from '../../codecs/util/reader.js';
import { Writer, parseIpv6 } from '../../codecs/util/writer.js';
import { DecodeError } from '../../codecs/util/errors.js';
import { internetChecksum } from '../../codecs/util/checksum.js';

describe('Reader', () => {
  it('reads big-endian fields and fails with the field name and offset when short', () => {
    const r = new Reader(Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a]));
    expect(r.u16('a')).toBe(0x1234);
    expect(r.u16('b')).toBe(0x5678);
    try {
      r.u16('c');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).field).toBe('c');
      expect((e as DecodeError).offset).toBe(4);
    }
  });
  it('u32 stays unsigned', () => {
    expect(new Reader(Uint8Array.from([0xff, 0xff, 0xff, 0xfe])).u32('x')).toBe(0xfffffffe);
  });
  it('sub windows stop nested reads at the element end', () => {
    const r = new Reader(Uint8Array.from([1, 2, 3, 4]));
    const s = r.sub(2, 'w');
    s.u16('x');
    expect(() => s.u8('y')).toThrow(DecodeError);
    expect(r.u8('z')).toBe(3);
  });
});

describe('IPv6 text', () => {
  it('round-trips RFC 5952 forms', () => {
    for (const a of ['::', '::1', 'fe80::1', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '::ffff:10.1.2.3']) {
      expect(formatIpv6(parseIpv6(a))).toBe(a);
    }
  });
});

describe('checksum', () => {
  it('matches the RFC 1071 example', () => {
    // RFC 1071 section 3 example bytes sum to 0xddf2; the checksum is its complement.
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(internetChecksum(b)).toBe(~0xddf2 & 0xffff);
  });
  it('writer patches lengths', () => {
    const w = new Writer(1);
    w.u16(0).u32(0xdeadbeef);
    w.patchU16(0, 6);
    expect(Array.from(w.finish())).toEqual([0, 6, 0xde, 0xad, 0xbe, 0xef]);
  });
});
