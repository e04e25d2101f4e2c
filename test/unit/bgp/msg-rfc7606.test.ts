/**
 * RFC 7606 revised error handling: one crafted UPDATE per class of malformation, with the
 * verdict (action) and the NOTIFICATION a session reset would send (RFC 4271 section 6.3).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeBgpMessage,
  decodeUpdate,
  decodeUpdateStrict,
  encodeBgpMessage,
  endOfRib,
  missingWellKnown,
  type BgpCodecOptions,
  type UpdateMessage,
} from '../../../codecs/bgp/index.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';

const O2: BgpCodecOptions = { fourOctetAs: false };
const O4: BgpCodecOptions = { fourOctetAs: true };

/** UPDATE body from hex parts: withdrawn routes, attributes, NLRI. */
function body(attrs: string, nlri = '', withdrawn = ''): Uint8Array {
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return fromHex(h(withdrawn.length / 2) + withdrawn + h(attrs.length / 2) + attrs + nlri);
}

const ORIGIN = '40010100';
const AS_PATH = '400204' + '0201fde8'; // AS_SEQUENCE 65000 (2-octet)
const NEXT_HOP = '400304c0000201';
const GOOD = ORIGIN + AS_PATH + NEXT_HOP;
const NLRI = '180a0100'; // 10.1.0.0/24

function verdictOf(b: Uint8Array, opts = O2) {
  const { update, verdict } = decodeUpdate(b, opts);
  const first = verdict.errors[0];
  return { update, verdict, action: verdict.action, note: first?.error.notification, field: first?.error.field };
}

describe('clean UPDATEs', () => {
  it('no verdict, and it round-trips', () => {
    const b = body(GOOD, NLRI);
    const { verdict, update } = verdictOf(b);
    expect(verdict).toEqual({ errors: [] });
    expect(update.nlri).toEqual([{ kind: 'prefix', prefix: '10.1.0.0/24' }]);
    const msg = encodeBgpMessage({ type: 'update', ...update }, O2);
    expect(toHex(msg.subarray(19))).toBe(toHex(b));
  });
  it('End-of-RIB markers', () => {
    expect(endOfRib(decodeUpdate(body(''), O2).update)).toEqual({ afi: 1, safi: 1 });
    expect(endOfRib(decodeUpdate(body('800f03000180'), O2).update)).toEqual({ afi: 1, safi: 128 });
    expect(endOfRib(decodeUpdate(body(GOOD, NLRI), O2).update)).toBeUndefined();
  });
});

describe('attribute value errors (RFC 7606 section 7)', () => {
  it.each<[string, string, string, number, string]>([
    ['ORIGIN value 3: 3/6', '40010103' + AS_PATH + NEXT_HOP, 'treat-as-withdraw', 6, '40010103'],
    ['ORIGIN length 2: 3/5', '4001020000' + AS_PATH + NEXT_HOP, 'treat-as-withdraw', 5, '4001020000'],
    ['AS_PATH segment type 5: 3/11', ORIGIN + '4002040501fde8' + NEXT_HOP, 'treat-as-withdraw', 11, '4002040501fde8'],
    ['AS_PATH segment overrun: 3/11', ORIGIN + '4002040202fde8' + NEXT_HOP, 'treat-as-withdraw', 11, '4002040202fde8'],
    ['AS_PATH empty segment: 3/11', ORIGIN + '4002020200' + NEXT_HOP, 'treat-as-withdraw', 11, '4002020200'],
    ['NEXT_HOP multicast: 3/8', ORIGIN + AS_PATH + '400304e0000001', 'treat-as-withdraw', 8, '400304e0000001'],
    ['NEXT_HOP length 5: 3/5', ORIGIN + AS_PATH + '400305c000020100', 'treat-as-withdraw', 5, '400305c000020100'],
    ['MED length 3: 3/5', GOOD + '800403000001', 'treat-as-withdraw', 5, '800403000001'],
    ['LOCAL_PREF length 2: 3/5', GOOD + '4005020064', 'treat-as-withdraw', 5, '4005020064'],
    ['ATOMIC_AGGREGATE length 1', GOOD + '40060100', 'attribute-discard', 5, '40060100'],
    ['AGGREGATOR of 8 bytes on a 2-octet session', GOOD + 'c00708' + '0000fde8c0000201', 'attribute-discard', 5, 'c007080000fde8c0000201'],
    ['COMMUNITIES length 6', GOOD + 'c00806ffffff010001', 'treat-as-withdraw', 5, 'c00806ffffff010001'],
    ['ORIGINATOR_ID length 3', GOOD + '800903010203', 'treat-as-withdraw', 5, '800903010203'],
    ['CLUSTER_LIST length 0', GOOD + '800a00', 'treat-as-withdraw', 5, '800a00'],
    ['EXTENDED_COMMUNITIES length 12', GOOD + 'c0100c0002fde80000006400000000', 'treat-as-withdraw', 5, 'c0100c0002fde80000006400000000'],
    ['AS4_PATH overrun', GOOD + 'c0110602020000fde8', 'attribute-discard', 11, 'c0110602020000fde8'],
    ['AS4_AGGREGATOR length 6', GOOD + 'c01206fde8c0000201', 'attribute-discard', 5, 'c01206fde8c0000201'],
    ['LARGE_COMMUNITY length 8', GOOD + 'c020080000fde800000001', 'treat-as-withdraw', 5, 'c020080000fde800000001'],
    ['PMSI_TUNNEL length 4', GOOD + 'c0160400060000', 'treat-as-withdraw', 5, 'c0160400060000'],
    ['TUNNEL_ENCAPSULATION TLV overrun', GOOD + 'c01704' + '00080009', 'attribute-discard', 9, 'c0170400080009'],
  ])('%s', (_name, attrs, action, subcode, data) => {
    const { action: a, note, update } = verdictOf(body(attrs, NLRI));
    expect(a).toBe(action);
    expect(note).toEqual({ code: 3, subcode, data: fromHex(data) });
    // The NLRI are still read: treat-as-withdraw needs them.
    expect(update.nlri).toEqual([{ kind: 'prefix', prefix: '10.1.0.0/24' }]);
    const bad = update.attributes.find((x) => x.kind === 'malformed');
    expect(bad?.kind === 'malformed' && toHex(bad.raw)).toBe(data.slice(data.length - 2 * bad!.raw.length));
    // Malformed values are kept raw, so the message still re-encodes as received.
    expect(toHex(encodeBgpMessage({ type: 'update', ...update }, O2).subarray(19))).toBe(toHex(body(attrs, NLRI)));
  });

  it('the strongest action wins: attribute-discard + treat-as-withdraw', () => {
    const { verdict } = verdictOf(body('40010103' + AS_PATH + NEXT_HOP + '40060100', NLRI));
    expect(verdict.action).toBe('treat-as-withdraw');
    expect(verdict.errors.map((e) => e.action)).toEqual(['treat-as-withdraw', 'attribute-discard']);
  });
});

describe('MP_REACH / MP_UNREACH (RFC 7606 sections 5.3, 7.11)', () => {
  it('malformed NLRI after the AFI/SAFI: AFI/SAFI disable (3/9 if the session resets)', () => {
    // VPNv4 NLRI of 200 bits
    const mp = '800e14' + '000180' + '0c' + '0000000000000000c0000201' + '00' + 'c8' + '0000';
    const { verdict } = verdictOf(body(GOOD + mp, NLRI));
    expect([verdict.action, verdict.families, verdict.notification?.code, verdict.notification?.subcode]).toEqual(['afi-safi-disable', [{ afi: 1, safi: 128 }], 3, 9]);
  });
  it('too short to hold its AFI/SAFI: session reset, 3/9', () => {
    const { verdict } = verdictOf(body(GOOD + '800e020001', NLRI));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 9, data: fromHex('800e020001') }]);
  });
  it('MP_UNREACH twice: session reset, Malformed Attribute List (3/1)', () => {
    const { verdict } = verdictOf(body('800f03000180' + '800f03000180'));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 1 }]);
  });
});

describe('attribute list errors (RFC 7606 sections 3 and 4)', () => {
  it('ORIGIN twice: the second is discarded', () => {
    const { verdict, update } = verdictOf(body(GOOD + '40010101', NLRI));
    expect(verdict.action).toBe('attribute-discard');
    expect(update.attributes[0]).toEqual({ kind: 'origin', flags: 0x40, code: 1, origin: 0 });
    expect(update.attributes[3]?.kind).toBe('malformed');
  });
  it('flags conflict (ORIGIN marked optional): 3/4, treat-as-withdraw, value kept', () => {
    const { verdict, update, field } = verdictOf(body('c0010100' + AS_PATH + NEXT_HOP, NLRI));
    expect([verdict.action, verdict.errors[0]!.error.notification, field]).toEqual(['treat-as-withdraw', { code: 3, subcode: 4, data: fromHex('c0010100') }, 'bgp.update.attr.origin.flags']);
    const a = update.attributes[0];
    expect(a?.kind === 'malformed' && a.value).toEqual({ kind: 'origin', flags: 0xc0, code: 1, origin: 0 });
  });
  it('unrecognized well-known attribute: session reset, 3/2 with the attribute', () => {
    const { verdict } = verdictOf(body(GOOD + '406302abcd', NLRI));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 2, data: fromHex('406302abcd') }]);
  });
  it('unknown optional transitive attribute: kept with its Partial bit, no error', () => {
    const b = body(GOOD + 'e06302abcd', NLRI);
    const { verdict, update } = verdictOf(b);
    expect(verdict.errors).toEqual([]);
    expect(update.attributes[3]).toEqual({ kind: 'unknown', flags: 0xe0, code: 0x63, raw: fromHex('abcd') });
    expect(toHex(encodeBgpMessage({ type: 'update', ...update }, O2).subarray(19))).toBe(toHex(b));
  });
  it('an attribute overrunning the attribute block: treat-as-withdraw, the NLRI still found', () => {
    // MED claims 9 bytes, 4 remain in the block
    const { verdict, update } = verdictOf(body(GOOD + '80040900000001', NLRI));
    expect([verdict.action, verdict.errors[0]!.error.notification]).toEqual(['treat-as-withdraw', { code: 3, subcode: 1 }]);
    expect(update.nlri).toHaveLength(1);
  });
  it('... but session reset when the overrunning attribute is MP_REACH_NLRI', () => {
    const { verdict } = verdictOf(body(GOOD + '800e20000101', NLRI));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 1 }]);
  });
  it('fewer than 3 bytes left for an attribute header: treat-as-withdraw', () => {
    const { verdict } = verdictOf(body(GOOD + '4001', NLRI));
    expect(verdict.action).toBe('treat-as-withdraw');
  });
  it('withdrawn routes length beyond the message: session reset, 3/1', () => {
    const { verdict } = verdictOf(fromHex('0010' + '180a01'));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 1 }]);
  });
  it('total attribute length beyond the message: session reset, 3/1', () => {
    const { verdict } = verdictOf(fromHex('0000' + '0040' + ORIGIN));
    expect([verdict.action, verdict.notification]).toEqual(['session-reset', { code: 3, subcode: 1 }]);
  });
  it('NLRI prefix length 33: session reset, Invalid Network Field (3/10)', () => {
    const { verdict } = verdictOf(body(GOOD, '210a010000ff'));
    expect([verdict.action, verdict.notification?.code, verdict.notification?.subcode]).toEqual(['session-reset', 3, 10]);
  });
  it('withdrawn route malformed: session reset, 3/10', () => {
    const { verdict } = verdictOf(body('', '', '200a01'));
    expect([verdict.action, verdict.notification?.subcode]).toEqual(['session-reset', 10]);
  });
  it('decodeUpdate never throws, even on garbage', () => {
    for (const hex of ['', '00', '0000', 'ffff', '00000001', '0000000340']) {
      expect(decodeUpdate(fromHex(hex), O4).verdict.action, hex).toBe('session-reset');
    }
    expect(decodeUpdate(fromHex('00000000'), O4).verdict.action).toBeUndefined();
  });
});

describe('strict mode (weft decode)', () => {
  it('throws the first error as a DecodeError', () => {
    try {
      decodeUpdateStrict(body(ORIGIN + AS_PATH + '400304e0000001' + '40060100', NLRI), O2);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect([(e as DecodeError).field, (e as DecodeError).notification?.subcode]).toEqual(['bgp.update.attr.next_hop', 8]);
    }
    const m = fromHex('ffffffffffffffffffffffffffffffff' + '001b02' + toHex(body('40010103')));
    expect(() => decodeBgpMessage(m, 0, O2)).toThrow(/ORIGIN 3/);
    expect(decodeBgpMessage(m, 0, O2, { mode: 'lenient' })).toMatchObject({ type: 'update', verdict: { action: 'treat-as-withdraw' } });
  });
});

describe('missingWellKnown (RFC 7606 3d, session level)', () => {
  const u = (attrs: string, nlri = NLRI): UpdateMessage => decodeUpdate(body(attrs, nlri), O2).update;
  it('NEXT_HOP is needed only with IPv4 NLRI; LOCAL_PREF only on iBGP', () => {
    expect(missingWellKnown(u(ORIGIN + AS_PATH))).toEqual({ missing: [3], notification: { code: 3, subcode: 3, data: Uint8Array.of(3) } });
    expect(missingWellKnown(u(GOOD))).toBeUndefined();
    expect(missingWellKnown(u(GOOD), true)?.missing).toEqual([5]);
    const mp = '800e11' + '000180' + '0c' + '0000000000000000c0000201' + '00';
    expect(decodeUpdate(body(mp), O2).verdict.errors).toEqual([]);
    expect(missingWellKnown(u(mp, ''))?.missing).toEqual([1, 2]);
    expect(missingWellKnown(u('', ''))).toBeUndefined(); // End-of-RIB
  });
});
