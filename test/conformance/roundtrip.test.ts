/**
 * Acceptance point 3: encode(decode(x)) is x, byte for byte, for every well-formed BGP message
 * there is: all messages of the conformance captures, every message the unit tests build, the
 * NLRI fixtures of every family wrapped in MP_REACH/MP_UNREACH UPDATEs, and UPDATEs of the
 * codec benchmark. "Well-formed" means the strict decoder accepts it under the options the
 * receiver would use. The counts are pinned, so an extractor that finds nothing cannot pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeBgpMessage,
  encodeBgpMessage,
  guessFourOctetAs,
  negotiateOptions,
  type BgpCodecOptions,
  type BgpMessage,
  type OpenMessage,
} from '../../codecs/bgp/index.js';
import { readCapture } from '../../codecs/pcap/index.js';
import { DecodeError } from '../../codecs/util/errors.js';
import { toHex } from '../../codecs/util/hex.js';
import { decodeCapture } from '../../src/decode/index.js';
import { BENCH_OPTIONS, vpnUpdates } from '../../tools/bench/vpnv4-capture.js';
import { builtMessages, fixtureUpdates } from '../support/bgp-built.js';
import { PCAP_DIR } from '../support/paths.js';
import { splitBgp, tcpStreams } from '../unit/bgp/pcap-payloads.js';

interface Sample {
  where: string;
  bytes: Uint8Array;
  opts: BgpCodecOptions;
}

/**
 * Options per direction as the receiver has them: from both OPENs of the connection when the
 * capture holds them, else the AS size guessed from AS_PATH the way Wireshark guesses it.
 * bgp-addpath.pcap has no OPEN and carries path ids on every family.
 */
function captureSamples(file: string): Sample[] {
  const streams = tcpStreams(file);
  const opens = new Map<string, OpenMessage>();
  for (const s of streams) {
    const first = splitBgp(s.data).messages[0];
    if (first?.[18] !== 1) continue;
    try {
      const m = decodeBgpMessage(first, 0, { fourOctetAs: false });
      if (m.type === 'open') opens.set(s.key, m);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  const out: Sample[] = [];
  for (const s of streams) {
    const remote = opens.get(s.key);
    const local = opens.get(`${s.dst}:${s.dport}>${s.src}:${s.sport}`);
    splitBgp(s.data).messages.forEach((bytes, i) => {
      let opts: BgpCodecOptions;
      if (remote && local) opts = negotiateOptions(local, remote);
      else {
        opts = { fourOctetAs: (bytes[18] === 2 ? guessFourOctetAs(bytes.subarray(19)) : undefined) ?? false };
        if (file === 'bgp-addpath.pcap') opts.addPath = () => true;
      }
      out.push({ where: `${file} ${s.key} message ${i}`, bytes, opts });
    });
  }
  return out;
}

/** BGP messages per capture as `tshark -r F -T fields -e bgp.type` counts them (tshark 4.0). */
const TSHARK_MESSAGES: Record<string, number> = {
  'bgp-4byte-asn.pcap': 35,
  'bgp-addpath.pcap': 1,
  'bgp-bgp_capabilities_print-oobr-1.pcap': 1,
  'bgp-encap.pcap': 1,
  'bgp-enhanced-route-refresh.pcapng': 1,
  'bgp-evpn.pcap': 1,
  'bgp-extended-msg.pcapng': 1,
  'bgp-large-community.pcap': 5,
  'bgp-lu-multiple-labels.pcap': 20,
  'bgp-rt-prefix.pcap': 8,
  'bgp_mp_reach_nlri-oobr.pcap': 1,
  'bgp_notification_rr_msg_error.pcap': 1,
  'gre-heapoverflow-1.pcap': 0,
  'mpbgp-linklocal-nexthop.pcap': 1,
  'mpls-label-heapoverflow.pcap': 0,
  'mpls-over-udp.pcap': 0,
  'various_gre.pcap': 0,
  'vxlan.pcap': 0,
};

/**
 * The malformed ones (tshark marks all three): an UPDATE with flag errors and repeated MP
 * attributes, an OPEN of version 255, and an UPDATE whose withdrawn prefix is 33+ bits long.
 */
const MALFORMED = ['bgp-addpath.pcap', 'bgp-bgp_capabilities_print-oobr-1.pcap', 'bgp_mp_reach_nlri-oobr.pcap'];

type Outcome = { ok: true; msg: BgpMessage } | { ok: false; error: DecodeError };

function strict(s: Sample): Outcome {
  try {
    return { ok: true, msg: decodeBgpMessage(s.bytes, 0, s.opts) };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ok: false, error: e };
  }
}

/** Hex compare only on failure: toHex of every message would dominate the run. */
function expectSameBytes(got: Uint8Array, want: Uint8Array, where: string): void {
  if (!Buffer.from(got).equals(want)) expect(toHex(got), where).toBe(toHex(want));
}

function nlriCount(m: BgpMessage): number {
  if (m.type !== 'update') return 0;
  let n = m.nlri.length + m.withdrawn.length;
  for (const a of m.attributes) {
    if (a.kind === 'mp-reach') n += a.nlri.length;
    if (a.kind === 'mp-unreach') n += a.withdrawn.length;
  }
  return n;
}

describe('conformance captures', () => {
  const files = readdirSync(PCAP_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
  const byFile = new Map(files.map((f) => [f, captureSamples(f)]));

  it('finds as many BGP messages in each capture as tshark does (77 in all)', () => {
    expect(files).toEqual(Object.keys(TSHARK_MESSAGES).sort());
    const counts = Object.fromEntries(files.map((f) => [f, byFile.get(f)!.length]));
    expect(counts).toEqual(TSHARK_MESSAGES);
    expect([...byFile.values()].flat()).toHaveLength(77);
  });

  it("weft's decode engine frames the same messages out of the same captures", () => {
    for (const f of files) {
      const packets = decodeCapture(readCapture(new Uint8Array(readFileSync(path.join(PCAP_DIR, f)))));
      let n = 0;
      for (const p of packets) for (const l of p.layers) if (l.layer === 'bgp' && Array.isArray(l['messages'])) n += (l['messages'] as unknown[]).length;
      expect(n, f).toBe(TSHARK_MESSAGES[f]);
    }
  });

  it('round-trips all 74 well-formed messages byte for byte; the 3 others are the malformed captures', () => {
    const bad: string[] = [];
    let good = 0;
    for (const s of [...byFile.values()].flat()) {
      const d = strict(s);
      if (!d.ok) {
        bad.push(s.where.split(' ')[0]!);
        continue;
      }
      expectSameBytes(encodeBgpMessage(d.msg, s.opts), s.bytes, s.where);
      good++;
    }
    expect(good).toBe(74);
    expect(bad.sort()).toEqual([...MALFORMED].sort());
  });

  it('lenient decoding round-trips too, unless the verdict is a session reset (malformed attributes go back as received)', () => {
    let n = 0;
    for (const s of [...byFile.values()].flat()) {
      let m: BgpMessage;
      try {
        m = decodeBgpMessage(s.bytes, 0, s.opts, { mode: 'lenient' });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        continue;
      }
      if (m.type === 'update' && m.verdict?.action === 'session-reset') continue;
      expectSameBytes(encodeBgpMessage(m, s.opts), s.bytes, s.where);
      n++;
    }
    // The 74 well-formed ones; the addpath UPDATE is a session reset, the version-255 OPEN throws.
    expect(n).toBe(74);
  });
});

describe('messages the tests build', () => {
  const built = builtMessages();

  it('all 16 decode strictly and encode back to the same bytes', () => {
    expect(built).toHaveLength(16);
    let exact = 0;
    for (const b of built) {
      const m = decodeBgpMessage(b.bytes, 0, b.opts);
      expectSameBytes(encodeBgpMessage(m, b.opts), b.bytes, b.name);
      if (b.value) {
        expect(m, b.name).toEqual(b.value);
        exact++;
      }
    }
    // The others decode to a different but equivalent value (AS_TRANS, extended-length bit,
    // RFC 9072 flag, the NOTIFICATION data behind the shutdown text).
    expect(exact).toBe(9);
  });

  it('NLRI fixtures of every family, wrapped in MP_REACH/MP_UNREACH, round-trip as whole UPDATEs', () => {
    const samples = fixtureUpdates();
    expect(samples).toHaveLength(21);
    let nlri = 0;
    for (const s of samples) {
      const d = strict({ where: s.name, bytes: s.bytes, opts: s.opts });
      if (!d.ok) throw new Error(`${s.name}: ${d.error.message}`);
      expectSameBytes(encodeBgpMessage(d.msg, s.opts), s.bytes, s.name);
      const n = nlriCount(d.msg);
      expect(n, s.name).toBeGreaterThan(0);
      nlri += n;
    }
    // The NLRIs the nlri-*.test.ts files find in these fixtures (EVPN: types 1, 2, 2, 3, 3, 4, 5, 5).
    expect(nlri).toBe(52);
  });

  it('benchmark UPDATEs: 268 VPNv4 routes each, 4089 bytes, round-trip', () => {
    const msgs = vpnUpdates(268 * 3 + 5);
    expect(msgs).toHaveLength(4);
    const sizes: number[] = [];
    for (const v of msgs) {
      const bytes = encodeBgpMessage(v, BENCH_OPTIONS);
      sizes.push(bytes.length);
      const m = decodeBgpMessage(bytes, 0, BENCH_OPTIONS);
      expectSameBytes(encodeBgpMessage(m, BENCH_OPTIONS), bytes, 'bench UPDATE');
    }
    expect(sizes).toEqual([4089, 4089, 4089, 19 + 4 + 46 + 5 * 15]);
  });
});
