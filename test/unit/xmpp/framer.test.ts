import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import { XmppFramer, type XmppFrame } from '../../../codecs/xmpp/index.js';
import { randomSplit, rng } from '../../support/rng.js';

const enc = new TextEncoder();

interface Outcome {
  frames: XmppFrame[];
  error?: { field: string; offset: number; reason: string };
}

/** Push pieces until the framer fails; collect every frame handed out before that. */
function run(pieces: Uint8Array[], opts?: ConstructorParameters<typeof XmppFramer>[0]): Outcome {
  const f = new XmppFramer(opts);
  const frames: XmppFrame[] = [];
  try {
    for (const p of pieces) frames.push(...f.push(p));
    frames.push(...f.end());
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { frames, error: { field: e.field, offset: e.offset, reason: e.reason } };
  }
  return { frames };
}

function bytewise(b: Uint8Array): Uint8Array[] {
  return Array.from(b, (_, i) => b.subarray(i, i + 1));
}

const HEADER =
  '<stream:stream from="compute-1" to="network-control@contrailsystems.com" version="1.0" xml:lang="en" xmlns="" xmlns:stream="http://etherx.jabber.org/streams" >';
const IQ =
  '<iq type="set" from="compute-1" to="network-control@contrailsystems.com/bgp-peer" id="subscribe7">\n<pubsub xmlns="http://jabber.org/protocol/pubsub">\n<subscribe node="a>b"><options><instance-id>3</instance-id></options></subscribe>\n</pubsub>\n</iq>';
const MSG =
  '\n<message from="network-control@contrailsystems.com" to="compute-1/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="1/1/vn-é中🙂"><!-- a > comment </iq> --><retract id=\'x"/>y\' /><![CDATA[</message>]]></items></event></message>\n';
const STREAM = `<?xml version="1.0"?>\n${HEADER}\u0200 ${IQ}${MSG}<?xml version="1.0"?><stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls></stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>\t</stream:stream>`;

describe('XmppFramer', () => {
  const bytes = enc.encode(STREAM);
  const whole = run([bytes]);

  it('cuts the units of the dialect', () => {
    expect(whole.error).toBeUndefined();
    const f = whole.frames;
    expect(f.map((x) => (x.kind === 'element' ? x.name : x.kind))).toEqual([
      'stream-open',
      'whitespace',
      'iq',
      'whitespace',
      'message',
      'whitespace',
      'stream:features',
      'starttls',
      'whitespace',
      'stream-close',
    ]);
    const texts = f.map((x) => ('text' in x ? x.text : ''));
    expect(texts[0]).toBe(`<?xml version="1.0"?>\n${HEADER}`);
    expect(texts[2]).toBe(IQ);
    expect(texts[4]).toBe(MSG.trim());
    expect(texts[6]!.startsWith('<?xml version="1.0"?><stream:features>')).toBe(true);
    expect(texts[9]).toBe('</stream:stream>');
    // U+0200 (C8 80) then a space: one keepalive run of three bytes.
    expect(f[1]).toEqual({ kind: 'whitespace', offset: enc.encode(`<?xml version="1.0"?>\n${HEADER}`).length, length: 3 });
    // Offsets are stream byte offsets and the bytes are the unit's own.
    for (const x of f) if ('bytes' in x) expect(bytes.subarray(x.offset, x.offset + x.bytes.length)).toEqual(x.bytes);
  });

  it('gives the same frames byte by byte and for random splits', () => {
    expect(run(bytewise(bytes))).toEqual(whole);
    const r = rng(7);
    for (let i = 0; i < 100; i++) expect(run(randomSplit(bytes, r, 1 + (i % 40)))).toEqual(whole);
  });

  it('refuses garbage between stanzas at its stream offset, with the same error for any split', () => {
    const bad = enc.encode(`${HEADER} <iq></iq>oops<iq></iq>`);
    const at = `${HEADER} <iq></iq>`.length;
    const o = run([bad]);
    expect(o.error).toEqual({ field: 'xmpp.framer', offset: at, reason: expect.stringContaining('between stanzas') });
    expect(o.frames.map((x) => x.kind)).toEqual(['stream-open', 'whitespace', 'element']);
    expect(run(bytewise(bad))).toEqual(o);
  });

  it('keeps complete units of a push that then fails, and throws the error on the next call', () => {
    const f = new XmppFramer();
    const frames = f.push(enc.encode('<iq></iq>&'));
    expect(frames).toHaveLength(1);
    expect(f.error).toBeInstanceOf(DecodeError);
    expect(() => f.push(enc.encode('<iq></iq>'))).toThrow(DecodeError);
    expect(() => f.end()).toThrow(DecodeError);
  });

  it('bounds a unit by maxUnitBytes, whatever the split', () => {
    const big = enc.encode(`<iq>${'x'.repeat(200)}</iq><iq/>`);
    const o = run([big], { maxUnitBytes: 100 });
    expect(o.error).toEqual({ field: 'xmpp.framer', offset: 0, reason: 'unit larger than 100 bytes' });
    expect(run(bytewise(big), { maxUnitBytes: 100 })).toEqual(o);
    // An unterminated attribute value cannot make it buffer forever either.
    expect(run([enc.encode(`<iq a="${'y'.repeat(500)}`)], { maxUnitBytes: 100 }).error?.reason).toBe('unit larger than 100 bytes');
    // Exactly at the limit is fine.
    const exact = enc.encode(`<iq>${'x'.repeat(91)}</iq>`);
    expect(exact.length).toBe(100);
    expect(run([exact], { maxUnitBytes: 100 }).frames).toHaveLength(1);
  });

  it('refuses DTDs, stray end tags, self-closed stream headers and invalid UTF-8', () => {
    const cases: [string | Uint8Array, string][] = [
      ['<!DOCTYPE iq [<!ENTITY a "b">]><iq>&a;</iq>', 'DTD'],
      ['<iq><!DOCTYPE x></iq>', 'DTD'],
      ['</iq>', 'end tag without a start tag'],
      ['<stream:stream xmlns:stream="http://etherx.jabber.org/streams"/>', 'closes the stream'],
      ['<!-- hi --><iq></iq>', 'comments are not allowed'],
      ['<?php x ?><iq></iq>', 'processing instructions'],
      ['< iq></iq>', 'not followed by a tag'],
      [Uint8Array.of(0x3c, 0x69, 0x71, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x69, 0x71, 0x3e), 'UTF-8'],
    ];
    for (const [input, reason] of cases) {
      const b = typeof input === 'string' ? enc.encode(input) : input;
      const o = run([b]);
      expect(o.error?.field, String(input)).toBe('xmpp.framer');
      expect(o.error?.reason, String(input)).toContain(reason);
      expect(run(bytewise(b))).toEqual(o);
    }
  });

  it('reports a unit cut short by the end of the stream', () => {
    const o = run([enc.encode('  <iq><a/>')]);
    expect(o.error).toEqual({ field: 'xmpp.framer', offset: 2, reason: 'stream ended inside a unit' });
    // Only keepalives pending: they come out at end().
    expect(run([enc.encode('<iq/> \n')]).frames.at(-1)).toEqual({ kind: 'whitespace', offset: 5, length: 2 });
  });

  it('does not keep keepalive bytes: a long idle stream uses no memory', () => {
    const f = new XmppFramer({ maxUnitBytes: 64 });
    const ka = Uint8Array.of(0xc8, 0x80);
    let n = 0;
    for (let i = 0; i < 10000; i++) n += f.push(ka).length;
    expect(n).toBe(0);
    expect(f.push(enc.encode('<iq></iq>'))).toEqual([
      { kind: 'whitespace', offset: 0, length: 20000 },
      expect.objectContaining({ kind: 'element', name: 'iq', offset: 20000 }),
    ]);
    expect(f.offset).toBe(20009);
  });
});
