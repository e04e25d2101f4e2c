import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import {
  XmppFramer,
  decodeFrame,
  decodeStanza,
  decodeStreamOpen,
  encodeStanza,
  parseXml,
  type Stanza,
} from '../../../codecs/xmpp/index.js';
import { inlineTlsElements, xmlBlocks } from './doc-examples.js';
import { randInt, randomSplit, rng } from '../../support/rng.js';
import { session } from './session-fixture.js';

/**
 * Seeded mutations of real dialect text through framer and decoders: the only exception that
 * may come out is DecodeError, and whatever decodes re-encodes to something that decodes to
 * the same value.
 */

const enc = new TextEncoder();

const TOKENS = [
  '<', '>', '/', '/>', '&', '&amp;', '&#0;', '&#x110000;', '&#x1F642;', '&bogus;', '"', "'", '=', ' ', '\n',
  '<!DOCTYPE x [<!ENTITY a "b">]>', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<?pi?>',
  '<iq>', '</iq>', '<message>', '</message>', '</stream:stream>', '<stream:stream xmlns:stream="http://etherx.jabber.org/streams">',
  ' __proto__="p"', '<item>', '<entry>', '</entry>', '<next-hop>', '<label>', '4294967296', '-1', 'é', '中', '🙂',
].map((t) => enc.encode(t));
const BYTES = [0x00, 0x01, 0x80, 0xc8, 0xff, 0xfe, 0xc3, 0xe4, 0xf0, 0x3c, 0x3e, 0x26];

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = src;
  const n = 1 + randInt(r, 3);
  for (let k = 0; k < n; k++) {
    const at = randInt(r, b.length + 1);
    switch (randInt(r, 6)) {
      case 0: // truncate
        b = b.subarray(0, at);
        break;
      case 1: {
        // overwrite one byte
        const c = Uint8Array.from(b);
        if (at < c.length) c[at] = r() < 0.5 ? BYTES[randInt(r, BYTES.length)]! : randInt(r, 256);
        b = c;
        break;
      }
      case 2: {
        // insert a token
        const t = TOKENS[randInt(r, TOKENS.length)]!;
        const c = new Uint8Array(b.length + t.length);
        c.set(b.subarray(0, at));
        c.set(t, at);
        c.set(b.subarray(at), at + t.length);
        b = c;
        break;
      }
      case 3: {
        // delete a range
        const end = Math.min(b.length, at + randInt(r, 16));
        const c = new Uint8Array(b.length - (end - at));
        c.set(b.subarray(0, at));
        c.set(b.subarray(end), at);
        b = c;
        break;
      }
      case 4: {
        // duplicate a range
        const len = randInt(r, 64);
        const piece = b.subarray(at, at + len);
        const c = new Uint8Array(b.length + piece.length);
        c.set(b.subarray(0, at + piece.length));
        c.set(piece, at + piece.length);
        c.set(b.subarray(at + piece.length), at + 2 * piece.length);
        b = c;
        break;
      }
      default: {
        // swap two bytes
        const c = Uint8Array.from(b);
        const j = randInt(r, c.length + 1);
        if (at < c.length && j < c.length) [c[at], c[j]] = [c[j]!, c[at]!];
        b = c;
      }
    }
  }
  return b;
}

/** Run bytes through everything; return how many stanzas decoded, rethrow anything but DecodeError. */
function exercise(bytes: Uint8Array, r: () => number): number {
  let decoded = 0;
  const framer = new XmppFramer({ maxUnitBytes: 1 << 16 });
  try {
    for (const piece of randomSplit(bytes, r, 1 + randInt(r, 200))) {
      for (const f of framer.push(piece)) {
        let s: ReturnType<typeof decodeFrame>;
        try {
          s = decodeFrame(f);
        } catch (e) {
          if (e instanceof DecodeError) continue;
          throw e;
        }
        if (s.kind === 'whitespace') continue;
        decoded++;
        checkReencode(s);
      }
    }
    framer.end();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  return decoded;
}

function checkReencode(s: Stanza): void {
  const text = encodeStanza(s);
  const again = s.kind === 'stream-open' ? decodeStreamOpen(text) : s.kind === 'stream-close' ? s : decodeStanza(parseXml(text));
  expect(again).toEqual(s);
}

describe('totality of framer and decoders', () => {
  const seeds: Uint8Array[] = [
    ...xmlBlocks().map((b) => enc.encode(b.text)),
    ...inlineTlsElements().map((b) => enc.encode(b.text)),
  ];
  const stanzas = session();
  // Small windows of a real session (a few stanzas each) keep every case cheap.
  for (let i = 0; i + 3 <= stanzas.length; i += 2) {
    seeds.push(enc.encode(stanzas.slice(i, i + 3).map((s) => encodeStanza(s)).join(' ')));
  }

  it('lets only DecodeError out of 4000 mutated inputs, and re-encodes whatever decodes', () => {
    const r = rng(0x5eed);
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const seed = seeds[i % seeds.length]!;
      decoded += exercise(mutate(seed, r), r);
    }
    // The mutations are not all fatal: a good share of stanzas still decode and re-encode.
    expect(decoded).toBeGreaterThan(1000);
  });

  it('every unmutated seed decodes', () => {
    const r = rng(1);
    for (const s of seeds.slice(xmlBlocks().length)) expect(exercise(s, r)).toBeGreaterThan(0);
  });
});
