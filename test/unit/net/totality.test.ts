/**
 * Decoders are total: truncated and mutated real frames make them return a value or throw a
 * DecodeError, nothing else. Whatever they do accept must encode back to the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import { bytesEqual, toHex } from '../../../codecs/util/hex.js';
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
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeIpv6,
  encodeMpls,
  encodeTcp,
  encodeUdp,
  encodeVxlan,
} from '../../../codecs/net/index.js';
import { readPcap } from './pcap-frames.js';
import { dissect } from './stack.js';
import { rng } from '../../support/rng.js';

interface Codec {
  name: string;
  decode(b: Uint8Array, offset?: number, end?: number): unknown;
  encode(v: never): Uint8Array;
}

const CODECS: Codec[] = [
  { name: 'ethernet', decode: decodeEthernet, encode: encodeEthernet },
  { name: 'arp', decode: decodeArp, encode: encodeArp },
  { name: 'ipv4', decode: decodeIpv4, encode: encodeIpv4 },
  { name: 'ipv6', decode: decodeIpv6, encode: encodeIpv6 },
  { name: 'icmp', decode: decodeIcmp, encode: encodeIcmp },
  { name: 'udp', decode: decodeUdp, encode: encodeUdp },
  { name: 'tcp', decode: decodeTcp, encode: encodeTcp },
  { name: 'gre', decode: decodeGre, encode: encodeGre },
  { name: 'mpls', decode: decodeMpls, encode: encodeMpls },
  { name: 'vxlan', decode: decodeVxlan, encode: encodeVxlan },
  { name: 'dhcp', decode: decodeDhcp, encode: encodeDhcp },
];

/** Every layer start of every frame in the captures that carry the protocols we decode. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of ['vxlan.pcap', 'mpls-over-udp.pcap', 'various_gre.pcap', 'gre-heapoverflow-1.pcap', 'mpls-label-heapoverflow.pcap', 'bgp-4byte-asn.pcap', 'bgp-encap.pcap', 'bgp_mp_reach_nlri-oobr.pcap']) {
    const seen = new Set<string>();
    for (const { data } of readPcap(name).records) {
      const key = toHex(data.subarray(0, 64)) + data.length;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(data);
      // Inner layers too, so that each decoder meets bytes meant for it.
      for (let i = 14; i < Math.min(data.length, 120); i += 2) out.push(data.subarray(i));
    }
  }
  return out;
}

/** Decode; on success, require a byte-exact round trip. Anything but DecodeError fails. */
function exercise(c: Codec, b: Uint8Array, where: string): 'ok' | 'rejected' {
  let v: unknown;
  try {
    v = c.decode(b);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`${where}: ${c.name} threw ${String(e)}`);
    // Plain checks, not expect(): this runs a few million times.
    if (e.offset < 0 || e.offset > b.length || !e.field.startsWith(c.name)) {
      throw new Error(`${where}: ${c.name} error names ${e.field} at ${e.offset} (buffer ${b.length})`);
    }
    return 'rejected';
  }
  const back = c.encode(v as never);
  if (!bytesEqual(back, b)) expect(toHex(back), `${where}: ${c.name} round trip`).toBe(toHex(b));
  return 'ok';
}

describe('decoder totality', () => {
  const samples = corpus();

  it('has a corpus', () => {
    expect(samples.length).toBeGreaterThan(500);
  });

  it('truncations at every length: DecodeError or exact round trip', () => {
    const tally: Record<string, { ok: number; rejected: number }> = {};
    for (const c of CODECS) tally[c.name] = { ok: 0, rejected: 0 };
    samples.forEach((s, si) => {
      if (si % 17 !== 0) return; // every 17th sample keeps the run short; all lengths of each
      for (let n = 0; n <= Math.min(s.length, 320); n++) {
        const b = s.subarray(0, n);
        for (const c of CODECS) tally[c.name]![exercise(c, b, `sample ${si} len ${n}`)]++;
      }
    });
    // Both outcomes must really happen for every decoder, or the loop proves nothing.
    for (const c of CODECS) {
      expect(tally[c.name]!.ok, c.name).toBeGreaterThan(0);
      expect(tally[c.name]!.rejected, c.name).toBeGreaterThan(0);
    }
  });

  it('random byte mutations: DecodeError or exact round trip', () => {
    const rnd = rng(0x5eed);
    for (let iter = 0; iter < 6_000; iter++) {
      const s = samples[Math.floor(rnd() * samples.length)]!;
      const b = Uint8Array.from(s.subarray(0, Math.min(s.length, 300)));
      const flips = 1 + Math.floor(rnd() * 6);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      for (const c of CODECS) exercise(c, b, `mutation ${iter}`);
    }
  });

  it('pure random bytes and offsets past the end', () => {
    const rnd = rng(42);
    for (let iter = 0; iter < 1_500; iter++) {
      const b = new Uint8Array(Math.floor(rnd() * 300));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      for (const c of CODECS) {
        exercise(c, b, `random ${iter}`);
        // An offset at or beyond the end, or an end before the offset, is just a short buffer.
        for (const [off, end] of [[b.length + 3, b.length], [10, 4]] as const) {
          try {
            c.decode(b, off, end);
            throw new Error(`${c.name} decoded an empty window`);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        }
      }
    }
  });

  it('the layer walker over mutated frames throws nothing but reports DecodeErrors', () => {
    const rnd = rng(7);
    let errors = 0;
    for (let iter = 0; iter < 5_000; iter++) {
      const s = samples[Math.floor(rnd() * samples.length)]!;
      const b = Uint8Array.from(s);
      b[Math.floor(rnd() * Math.min(b.length, 80))] = Math.floor(rnd() * 256);
      const d = dissect(b);
      if (d.error) errors++;
    }
    expect(errors).toBeGreaterThan(0);
  });
});
