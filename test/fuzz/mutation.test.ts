/**
 * Acceptance point 5: a seeded mutation fuzz of every decoder over the whole corpus (the
 * conformance captures as files, frames and BGP messages; the BGP messages the tests build;
 * the XMPP examples of the dialect notes and a built session). Mutations are bit flips, byte
 * sets, truncations, random extensions, cut ranges and, for half the cases, corruption of a
 * known length field (BGP header/withdrawn/attribute/next-hop/prefix/parameter/capability
 * lengths, IPv4 IHL and total length, IPv6 payload length, UDP length, TCP data offset, pcap
 * caplen, pcapng block and option lengths) or a cut of XML text at markup.
 *
 * The one exception a decoder may throw is DecodeError. Anything else fails with the seed, the
 * case number, the decoder, the mutations and the input's hex (harness.ts); WEFT_FUZZ_SEED
 * changes the seed. Each block also requires that inputs were both accepted and rejected,
 * so a fuzzer that only ever produced garbage (or never broke anything) would fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bgpMessageLength,
  decodeBgpMessage,
  decodeNlriList,
  encodeBgpMessage,
  guessFourOctetAs,
  type BgpCodecOptions,
} from '../../codecs/bgp/index.js';
import { readCapture, decodePcap, decodePcapng, decodeLinkLayer, isPcapngMagic, type Capture } from '../../codecs/pcap/index.js';
import {
  decodeArp,
  decodeDhcp,
  decodeEthernet,
  decodeGre,
  decodeIcmp,
  decodeIpv4,
  decodeIpv6,
  decodeMpls,
  decodeTcp,
  decodeUdp,
  decodeVxlan,
} from '../../codecs/net/index.js';
import { Reader } from '../../codecs/util/reader.js';
import { XmppFramer, decodeFrame, decodeStreamOpen, parseXmlFragment } from '../../codecs/xmpp/index.js';
import { PortBindings, decodeCapture, packetToJson, packetToText, jsonReplacer } from '../../src/decode/index.js';
import { PacketDissector } from '../../src/decode/dissect.js';
import { dissect } from '../unit/net/stack.js';
import { FUZZ_SEED, caseRng, exercise, int, mutate, quietStacks, tally, type Tally } from './harness.js';
import { loadCorpus } from './corpus.js';
import { frameLengthFields } from './length-fields.js';

const corpus = loadCorpus();

/** Cases per block; the sum is the acceptance figure (at least 200,000). */
const CASES = { bgp: 100_000, nlri: 20_000, frames: 50_000, captures: 10_000, engine: 1_500, xmpp: 30_000 };

const ALL_ON: BgpCodecOptions = { fourOctetAs: true, addPath: () => true, multipleLabels: () => 3, extendedMessage: true };
const OPTION_SETS: BgpCodecOptions[] = [{ fourOctetAs: false }, { fourOctetAs: true }, ALL_ON];

type Tallies = Map<string, Tally>;

function counter(t: Tallies, name: string): Tally {
  let x = t.get(name);
  if (!x) t.set(name, (x = tally()));
  return x;
}

/** Every decoder met both outcomes: some inputs decoded, some were rejected. */
function expectBothOutcomes(t: Tallies, exempt: string[] = []): void {
  for (const [name, x] of t) {
    if (exempt.includes(name)) continue;
    expect(x.ok, `${name}: no mutated input decoded`).toBeGreaterThan(0);
    expect(x.rejected, `${name}: no mutated input was rejected`).toBeGreaterThan(0);
  }
}

function summary(block: string, cases: number, t: Tallies): void {
  const parts = [...t].map(([n, x]) => `${n} ${x.ok}/${x.rejected}`);
  process.stdout.write(`[fuzz ${block}] seed 0x${FUZZ_SEED.toString(16)}: ${cases} cases; decoded/rejected: ${parts.join(', ')}\n`);
}

describe(`mutation fuzz (seed 0x${FUZZ_SEED.toString(16)})`, () => {
  let restoreStacks = () => {};
  beforeAll(() => {
    restoreStacks = quietStacks();
  });
  afterAll(() => restoreStacks());

  it('has a corpus of every kind, with length fields to aim at, and at least 200,000 cases', () => {
    expect(corpus.captures.length).toBe(18);
    // Every packet of the 18 files.
    expect(corpus.frames.length).toBe(269);
    // 77 capture messages, 16 built, 21 NLRI fixture UPDATEs, 1 benchmark UPDATE.
    expect(corpus.bgp.length).toBe(115);
    // The dialect notes' examples and the session windows up to 8 KB.
    expect(corpus.xmpp.length).toBe(27);
    for (const s of corpus.bgp) expect(s.fields.length, s.where).toBeGreaterThan(0);
    for (const c of corpus.captures) expect(c.fields.length, c.file).toBeGreaterThan(0);
    const withFields = corpus.frames.filter((f) => f.fields.length > 0).length;
    expect(withFields / corpus.frames.length).toBeGreaterThan(0.6);
    expect(Object.values(CASES).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(200_000);
  });

  it('the harness fails on any other exception, naming seed, case, decoder, mutations and input', () => {
    const t = tally();
    const boom = () => exercise(t, 0x1234, 7, 'boom', ['flip 1.2'], Uint8Array.of(0xab, 0xcd), () => Uint8Array.of(1).subarray(0, 2).at(5)!.toFixed());
    expect(boom).toThrow(/^seed 0x1234 case 7 decoder boom mutations \[flip 1\.2\] threw TypeError: [\s\S]*at [\s\S]*input \(2 bytes\): abcd$/);
    exercise(t, 1, 1, 'rejects', [], new Uint8Array(0), () => new Reader(new Uint8Array(0)).u8('x'));
    exercise(t, 1, 2, 'accepts', [], Uint8Array.of(9), () => new Reader(Uint8Array.of(9)).u8('x'));
    expect(t).toEqual({ ok: 1, rejected: 1 });
  });

  it(`BGP messages: ${CASES.bgp} mutants through the framer and strict/lenient decode under 3 option sets`, () => {
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0xb6b) >>> 0;
    let roundTrips = 0;
    for (let i = 0; i < CASES.bgp; i++) {
      const r = caseRng(seed, i);
      const src = corpus.bgp[i % corpus.bgp.length]!;
      const { bytes, ops } = mutate(src.bytes, r, src.fields);
      const go = (name: string, f: () => unknown) => exercise(counter(t, name), seed, i, name, ops, bytes, f);
      go('bgpMessageLength', () => bgpMessageLength(bytes, 0, false));
      go('bgpMessageLength/extended', () => bgpMessageLength(bytes, 0, true));
      go('guessFourOctetAs', () => guessFourOctetAs(bytes.subarray(19)));
      const sets = src.opts ? [src.opts, ...OPTION_SETS] : OPTION_SETS;
      // Two option sets per case (the seed's own first): three modes of reading, half the cost.
      for (const opts of [sets[0]!, sets[1 + int(r, sets.length - 1)]!]) {
        const tag = opts === ALL_ON ? 'all-on' : opts.fourOctetAs ? 'as4' : 'as2';
        go(`decodeBgpMessage/lenient/${tag}`, () => decodeBgpMessage(bytes, 0, opts, { mode: 'lenient' }));
        const m = go(`decodeBgpMessage/strict/${tag}`, () => decodeBgpMessage(bytes, 0, opts));
        // Whatever strict decoding accepts is well formed, so it must encode back to itself.
        if (m !== undefined && i % 4 === 0) {
          const back = go(`encodeBgpMessage/${tag}`, () => encodeBgpMessage(m as Parameters<typeof encodeBgpMessage>[0], opts)) as Uint8Array;
          const len = (bytes[16]! << 8) | bytes[17]!;
          if (!Buffer.from(back).equals(bytes.subarray(0, len))) {
            throw new Error(`seed 0x${seed.toString(16)} case ${i}: strict decode accepted input that does not re-encode to itself [${ops.join('; ')}]\n${Buffer.from(bytes).toString('hex')}`);
          }
          roundTrips++;
          JSON.stringify(m, jsonReplacer);
        }
      }
    }
    summary('bgp', CASES.bgp, t);
    expectBothOutcomes(t, ['guessFourOctetAs', 'encodeBgpMessage/as2', 'encodeBgpMessage/as4', 'encodeBgpMessage/all-on']);
    expect(roundTrips).toBeGreaterThan(2000);
  });

  it(`NLRI lists: ${CASES.nlri} mutated NLRI fields through decodeNlriList for every family`, () => {
    const families: [number, number][] = [[1, 1], [2, 1], [1, 2], [1, 4], [2, 4], [1, 128], [2, 128], [1, 132], [25, 70], [3, 1]];
    // The NLRI part of every MP_REACH/MP_UNREACH seed: the bytes after the attribute header.
    const seeds: Uint8Array[] = [];
    for (const s of corpus.bgp) {
      for (const f of s.fields) if (f.name.endsWith('nlri.length') || f.name.endsWith('prefixLength')) seeds.push(s.bytes.subarray(f.at, Math.min(s.bytes.length, f.at + 64)));
    }
    expect(seeds.length).toBeGreaterThan(100);
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0x2a1) >>> 0;
    for (let i = 0; i < CASES.nlri; i++) {
      const r = caseRng(seed, i);
      const { bytes, ops } = mutate(seeds[i % seeds.length]!, r);
      const [afi, safi] = families[int(r, families.length)]!;
      const opts = { addPath: r() < 0.3, maxLabels: 1 + int(r, 3), field: 'nlri' };
      const withdraw = r() < 0.3;
      exercise(counter(t, 'decodeNlriList'), seed, i, `decodeNlriList(${afi}/${safi})`, ops, bytes, () => decodeNlriList(new Reader(bytes), afi, safi, opts, withdraw));
    }
    summary('nlri', CASES.nlri, t);
    expectBothOutcomes(t);
  });

  it(`frames: ${CASES.frames} mutants through the net decoders and the packet dissector`, () => {
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0xf4a) >>> 0;
    const single = [
      ['decodeEthernet', decodeEthernet],
      ['decodeArp', decodeArp],
      ['decodeIpv4', decodeIpv4],
      ['decodeIpv6', decodeIpv6],
      ['decodeIcmp', decodeIcmp],
      ['decodeUdp', decodeUdp],
      ['decodeTcp', decodeTcp],
      ['decodeGre', decodeGre],
      ['decodeMpls', decodeMpls],
      ['decodeVxlan', decodeVxlan],
      ['decodeDhcp', decodeDhcp],
    ] as const;
    const dissector = new PacketDissector({ bindings: new PortBindings(), onTcp: () => {} });
    for (let i = 0; i < CASES.frames; i++) {
      const r = caseRng(seed, i);
      const src = corpus.frames[i % corpus.frames.length]!;
      const { bytes, ops } = mutate(src.bytes, r, src.fields);
      const go = (name: string, f: () => unknown) => exercise(counter(t, name), seed, i, name, ops, bytes, f);
      const link = go('decodeLinkLayer', () => decodeLinkLayer(src.linkType, bytes)) as ReturnType<typeof decodeLinkLayer> | undefined;
      // The layer walk: each layer's decoder on the frame with its window (stack.ts).
      if (link) {
        const first = link.next.kind === 'ethernet' ? 'ethernet' : link.next.kind === 'ipv6' ? 'ipv6' : 'ipv4';
        const d = go('net stack', () => dissect(bytes.subarray(link.offset), first)) as ReturnType<typeof dissect> | undefined;
        // stack.ts returns a DecodeError rather than throwing it: count it as a rejection.
        if (d?.error) {
          counter(t, 'net stack').ok--;
          counter(t, 'net stack').rejected++;
        }
      }
      // One decoder at a random offset: every decoder meets bytes that are not its own.
      const [name, dec] = single[int(r, single.length)]!;
      const off = int(r, Math.min(bytes.length + 1, 80));
      go(name, () => dec(bytes, off));
      if (i % 5 === 0) {
        const pkt = { ts: { sec: 0, nsec: 0 }, linkType: src.linkType, caplen: bytes.length, origLen: bytes.length, data: bytes, interfaceId: 0 };
        const p = go('PacketDissector', () => dissector.dissect(i + 1, pkt)) as ReturnType<PacketDissector['dissect']> | undefined;
        if (p) {
          packetToJson(p);
          packetToText(p);
        }
      }
    }
    summary('frames', CASES.frames, t);
    // The dissector reports malformed layers inside the packet, it never throws them; the
    // link layer of Ethernet and raw-IP captures has no header of its own to reject.
    expectBothOutcomes(t, ['PacketDissector', 'decodeLinkLayer']);
  });

  it(`capture files: ${CASES.captures} mutants through readCapture and the pcap/pcapng readers`, () => {
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0xca9) >>> 0;
    for (let i = 0; i < CASES.captures; i++) {
      const r = caseRng(seed, i);
      const src = corpus.captures[i % corpus.captures.length]!;
      const { bytes, ops } = mutate(src.bytes, r, src.fields);
      const go = (name: string, f: () => unknown) => exercise(counter(t, name), seed, i, name, ops, bytes, f);
      go('readCapture', () => readCapture(bytes));
      if (isPcapngMagic(bytes)) go('decodePcapng', () => decodePcapng(bytes));
      else go('decodePcap', () => decodePcap(bytes));
    }
    summary('captures', CASES.captures, t);
    expectBothOutcomes(t);
  });

  it(`decode engine: ${CASES.engine} mutated captures, whole files and frame by frame`, () => {
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0xe9e) >>> 0;
    let layerErrors = 0;
    // The small captures: each engine case decodes a whole file.
    const files = corpus.captures.filter((c) => c.bytes.length < 5000);
    for (let i = 0; i < CASES.engine; i++) {
      const r = caseRng(seed, i);
      const src = files[i % files.length]!;
      let capture: Capture | undefined;
      let ops: string[];
      let input: Uint8Array;
      if (r() < 0.4) {
        // The file itself (record and block lengths).
        const m = mutate(src.bytes, r, src.fields);
        ops = m.ops;
        input = m.bytes;
        capture = exercise(counter(t, 'readCapture'), seed, i, 'readCapture', ops, input, () => readCapture(m.bytes)) as Capture | undefined;
      } else {
        // A few frames of it (IP/UDP/TCP/BGP lengths), the file structure intact.
        const c = readCapture(src.bytes);
        ops = [];
        const packets = c.packets.map((p, k) => {
          if (r() > 0.3) return p;
          const m = mutate(p.data, r, frameLengthFields(p.data, p.linkType));
          ops.push(`frame ${k + 1}: ${m.ops.join(', ')}`);
          return { ...p, data: m.bytes, caplen: m.bytes.length };
        });
        capture = { ...c, packets } as Capture;
        input = src.bytes;
      }
      if (!capture) continue;
      const cap = capture;
      const out = exercise(counter(t, 'decodeCapture'), seed, i, `decodeCapture(${src.file})`, ops, input, () => decodeCapture(cap)) as ReturnType<typeof decodeCapture> | undefined;
      for (const p of out ?? []) {
        layerErrors += p.errors.length;
        exercise(counter(t, 'packetToJson'), seed, i, 'packetToJson', ops, input, () => JSON.parse(packetToJson(p)));
        exercise(counter(t, 'packetToText'), seed, i, 'packetToText', ops, input, () => packetToText(p));
      }
    }
    summary('engine', CASES.engine, t);
    expect(counter(t, 'readCapture').rejected).toBeGreaterThan(0);
    expect(counter(t, 'decodeCapture').ok).toBeGreaterThan(CASES.engine / 2);
    // The engine reports malformations as entries: the mutations must have produced them.
    expect(layerErrors).toBeGreaterThan(CASES.engine / 2);
  });

  it(`XMPP: ${CASES.xmpp} mutants through the framer (random splits), the stanza decoders and the XML parser`, () => {
    const t: Tallies = new Map();
    const seed = (FUZZ_SEED ^ 0x3d9) >>> 0;
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const seeds = corpus.xmpp.map((x) => enc.encode(x));
    for (let i = 0; i < CASES.xmpp; i++) {
      const r = caseRng(seed, i);
      const src = seeds[i % seeds.length]!;
      let { bytes, ops } = mutate(src, r);
      if (r() < 0.5) {
        // Cut the text at markup: just before or after a '<', '>', '"' or '&'.
        const marks: number[] = [];
        for (let k = 0; k < bytes.length; k++) {
          const c = bytes[k];
          if (c === 0x3c || c === 0x3e || c === 0x22 || c === 0x26) marks.push(k);
        }
        if (marks.length) {
          const at = marks[int(r, marks.length)]! + int(r, 2);
          bytes = bytes.slice(0, at);
          ops = [...ops, `xml cut ${at}`];
        }
      }
      const text = dec.decode(bytes);
      const go = (name: string, f: () => unknown) => exercise(counter(t, name), seed, i, name, ops, bytes, f);
      go('framer+decodeFrame', () => {
        const framer = new XmppFramer({ maxUnitBytes: 1 << 16 });
        let decoded = 0;
        for (let p = 0; p < bytes.length; ) {
          const n = 1 + int(r, 256);
          for (const f of framer.push(bytes.subarray(p, p + n))) {
            exercise(counter(t, 'decodeFrame'), seed, i, 'decodeFrame', ops, bytes, () => decodeFrame(f));
            decoded++;
          }
          p += n;
        }
        framer.end();
        return decoded;
      });
      go('parseXmlFragment', () => parseXmlFragment(text));
      go('decodeStreamOpen', () => decodeStreamOpen(text));
    }
    summary('xmpp', CASES.xmpp, t);
    expectBothOutcomes(t, ['decodeStreamOpen']);
    expect(counter(t, 'decodeStreamOpen').rejected).toBeGreaterThan(0);
  });
});

