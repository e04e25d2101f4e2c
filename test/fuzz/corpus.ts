/**
 * What the fuzzer mutates: every conformance capture (whole files and each frame), every BGP
 * message in them, every BGP message the tests build, and the XMPP text of the dialect notes'
 * examples and of a built session. Each seed carries its known length fields.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeBgpMessage, type BgpCodecOptions } from '../../codecs/bgp/index.js';
import { readCapture } from '../../codecs/pcap/index.js';
import { encodeStanza } from '../../codecs/xmpp/index.js';
import { BENCH_OPTIONS, vpnUpdate } from '../../tools/bench/vpnv4-capture.js';
import { builtMessages, fixtureUpdates } from '../support/bgp-built.js';
import { PCAP_DIR } from '../support/paths.js';
import { splitBgp, tcpStreams } from '../unit/bgp/pcap-payloads.js';
import { inlineTlsElements, xmlBlocks } from '../unit/xmpp/doc-examples.js';
import { session } from '../unit/xmpp/session-fixture.js';
import { bgpLengthFields, captureLengthFields, frameLengthFields, type LengthField } from './length-fields.js';

export interface CaptureSeed {
  file: string;
  bytes: Uint8Array;
  fields: LengthField[];
}

export interface FrameSeed {
  where: string;
  linkType: number;
  bytes: Uint8Array;
  fields: LengthField[];
}

export interface BgpSeed {
  where: string;
  bytes: Uint8Array;
  /** The options it was built or negotiated with (the fuzzer tries others too). */
  opts?: BgpCodecOptions;
  fields: LengthField[];
}

export interface Corpus {
  captures: CaptureSeed[];
  frames: FrameSeed[];
  bgp: BgpSeed[];
  xmpp: string[];
}

export function loadCorpus(): Corpus {
  const files = readdirSync(PCAP_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
  const captures: CaptureSeed[] = [];
  const frames: FrameSeed[] = [];
  const bgp: BgpSeed[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(path.join(PCAP_DIR, file)));
    captures.push({ file, bytes, fields: captureLengthFields(bytes) });
    readCapture(bytes).packets.forEach((p, i) => {
      frames.push({ where: `${file} frame ${i + 1}`, linkType: p.linkType, bytes: p.data, fields: frameLengthFields(p.data, p.linkType) });
    });
    for (const s of tcpStreams(file)) {
      splitBgp(s.data).messages.forEach((m, i) => bgp.push({ where: `${file} ${s.key} message ${i}`, bytes: m, fields: bgpLengthFields(m) }));
    }
  }
  for (const b of [...builtMessages(), ...fixtureUpdates()]) bgp.push({ where: b.name, bytes: b.bytes, opts: b.opts, fields: bgpLengthFields(b.bytes) });
  // One benchmark-shaped UPDATE, cut to 20 routes to keep each case cheap.
  const bench = encodeBgpMessage(vpnUpdate(0, 20), BENCH_OPTIONS);
  bgp.push({ where: 'benchmark VPNv4 UPDATE', bytes: bench, opts: BENCH_OPTIONS, fields: bgpLengthFields(bench) });

  const xmpp = [...xmlBlocks().map((b) => b.text), ...inlineTlsElements().map((b) => b.text)];
  const stanzas = session();
  // Windows of a few stanzas of a real session: whole units and the boundaries between them.
  // The two windows of bulk route updates (50-80 KB) would take most of the run's time while
  // adding no shape the smaller ones lack.
  for (let i = 0; i + 3 <= stanzas.length; i += 2) {
    const text = stanzas.slice(i, i + 3).map((s) => encodeStanza(s)).join(' ');
    if (text.length <= 8192) xmpp.push(text);
  }
  return { captures, frames, bgp, xmpp };
}
