import { describe, expect, it } from 'vitest';
import { decodeNlriList, encodeNlriList, type NlriOptions } from '../../../codecs/bgp/nlri.js';
import { Reader } from '../../../codecs/util/reader.js';
import { Writer } from '../../../codecs/util/writer.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import { crafted, real } from './nlri-fixtures.js';
import { rng } from '../../support/rng.js';
import { pcapBytes } from '../../support/paths.js';


function errorOf(hex: string, afi: number, safi: number, opts: NlriOptions = {}, withdraw = false, start = 0): DecodeError {
  const buf = fromHex(hex);
  try {
    decodeNlriList(new Reader(buf, start), afi, safi, opts, withdraw);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).notification).toEqual({ code: 3, subcode: 10 });
    return e as DecodeError;
  }
  throw new Error(`no error for ${hex}`);
}

const where = (e: DecodeError) => [e.field, e.offset];

describe('malformed NLRI: one DecodeError with 3/10, the field and the offset', () => {
  it('prefix length beyond the family maximum', () => {
    expect(where(errorOf('21' + '0a010101ff', 1, 1))).toEqual(['bgp.nlri[0].length', 0]);
    expect(where(errorOf('180a0101' + '21' + '0a010101ff', 1, 1))).toEqual(['bgp.nlri[1].length', 4]);
    expect(where(errorOf('81' + '00'.repeat(17), 2, 1))).toEqual(['bgp.nlri[0].length', 0]);
    // VPNv4: 24 + 64 + 33
    expect(where(errorOf('79' + '000641' + '0000fc0000000001' + '0a01010100', 1, 128))).toEqual(['bgp.nlri[0].length', 0]);
    // VPNv4 too short for label + RD
    expect(where(errorOf('50' + '000641' + '0000fc0000000001', 1, 128))).toEqual(['bgp.nlri[0].length', 0]);
    expect(where(errorOf('10' + '0006', 1, 4))).toEqual(['bgp.nlri[0].length', 0]);
    expect(errorOf('21' + '0a010101ff', 1, 1).message).toMatch(/33 exceeds 32/);
  });

  it('fields cut short by the end of the window', () => {
    expect(where(errorOf('180a01', 1, 1))).toEqual(['bgp.nlri[0].prefix', 1]);
    expect(where(errorOf('000000', 1, 1, { addPath: true }))).toEqual(['bgp.nlri[0].pathId', 0]);
    expect(where(errorOf('00000001', 1, 1, { addPath: true }))).toEqual(['bgp.nlri[0].length', 4]);
    expect(where(errorOf('70' + '0006', 1, 128))).toEqual(['bgp.nlri[0].labels', 1]);
    expect(where(errorOf('70' + '000641' + '0000fc', 1, 128))).toEqual(['bgp.nlri[0].rd', 4]);
    expect(where(errorOf(crafted.vpnv4.slice(0, 28), 1, 128))).toEqual(['bgp.nlri[0].prefix', 12]);
  });

  it('reports absolute offsets inside a larger buffer and the caller\'s field path', () => {
    const e = errorOf('ffffffff' + '180a0101' + '21', 1, 1, { field: 'bgp.update.mp_reach.nlri' }, false, 4);
    expect(where(e)).toEqual(['bgp.update.mp_reach.nlri[1].length', 8]);
  });

  it('a wrong maxLabels shows as a length error, not a misparse', () => {
    expect(where(errorOf(real.luMultiReach, 1, 4, { maxLabels: 2 }))).toEqual(['bgp.nlri[0].length', 0]);
  });
});

/** Decode must succeed or throw a DecodeError; what decodes must encode back to the same bytes. */
function checkTotal(buf: Uint8Array, start: number, end: number, afi: number, safi: number, opts: NlriOptions, withdraw: boolean): boolean {
  const r = new Reader(buf, start, end);
  let list;
  try {
    list = decodeNlriList(r, afi, safi, opts, withdraw);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError for AFI ${afi} SAFI ${safi} ${toHex(buf.subarray(start, end))}: ${String(e)}`);
    if (e.offset < start || e.offset > end) throw new Error(`offset ${e.offset} outside [${start}, ${end}]`);
    // the dispatcher turns stray exceptions into DecodeErrors; none may occur
    if (e.reason.startsWith('internal')) throw new Error(`decoder bug: ${e.message}`);
    return false;
  }
  if (r.pos !== r.end) throw new Error('decoder did not consume its window');
  const w = new Writer(64);
  encodeNlriList(w, afi, safi, list, opts);
  const want = toHex(buf.subarray(start, end));
  if (toHex(w.view()) !== want) throw new Error(`round trip differs for AFI ${afi} SAFI ${safi} ${JSON.stringify(opts)}: ${want}`);
  return true;
}

const FAMILIES: [number, number][] = [[1, 1], [2, 1], [1, 2], [1, 4], [2, 4], [1, 128], [2, 128], [1, 132], [25, 70], [1, 5]];
const OPTIONS: NlriOptions[] = [{}, { addPath: true }, { maxLabels: 3 }];

describe('totality', () => {
  it('survives every window of bgp_mp_reach_nlri-oobr.pcap (a fuzzer-made capture) for every family', () => {
    const buf = pcapBytes('bgp_mp_reach_nlri-oobr.pcap');
    let ok = 0;
    let failed = 0;
    for (let start = 0; start < buf.length; start += 7) {
      for (const len of [9, 37, 300]) {
        const end = Math.min(buf.length, start + len);
        for (const [afi, safi] of FAMILIES) {
          for (const opts of OPTIONS) {
            for (const withdraw of [false, true]) {
              if (checkTotal(buf, start, end, afi, safi, opts, withdraw)) ok++;
              else failed++;
            }
          }
        }
      }
    }
    // Both outcomes must really occur, or the loop proves nothing.
    expect(ok).toBeGreaterThan(1000);
    expect(failed).toBeGreaterThan(1000);
  });

  it('survives seeded random bytes and mutations of the valid fixtures', () => {
    const rnd = rng(0x12345678);
    const samples: [string, number, number][] = [
      [crafted.vpnv4, 1, 128], [crafted.vpnv6, 2, 128], [crafted.evpn, 25, 70], [crafted.rtcFull, 1, 132],
      [real.luMultiReach, 1, 4], [real.addPath.reach6, 2, 1], [real.evpnMac, 25, 70], [crafted.lu6, 2, 4],
    ];
    let ok = 0;
    for (let k = 0; k < 8000; k++) {
      const [hex, afi, safi] = samples[k % samples.length]!;
      const buf = fromHex(hex);
      // flip a few bytes, sometimes the length bytes, sometimes cut the tail
      const flips = 1 + Math.floor(rnd() * 3);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      const end = rnd() < 0.3 ? Math.floor(rnd() * buf.length) : buf.length;
      const opts = OPTIONS[Math.floor(rnd() * OPTIONS.length)]!;
      if (checkTotal(buf, 0, end, afi, safi, opts, rnd() < 0.5)) ok++;
      const junk = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
      const [fa, fs] = FAMILIES[k % FAMILIES.length]!;
      checkTotal(junk, 0, junk.length, fa, fs, opts, false);
    }
    expect(ok).toBeGreaterThan(1000);
  });
});
