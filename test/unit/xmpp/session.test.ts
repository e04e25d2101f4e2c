import { describe, expect, it } from 'vitest';
import {
  KEEPALIVE,
  MAX_ITEMS_PER_MESSAGE,
  XmppFramer,
  decodeFrame,
  encodeStanzaBytes,
  type Stanza,
} from '../../../codecs/xmpp/index.js';
import { concat, randomSplit, rng } from '../../support/rng.js';
import { VRF, session } from './session-fixture.js';

/**
 * A whole session, built with the builders, serialised, cut by the framer at random points and
 * decoded: every stanza comes back equal.
 */

describe('a whole session through builders, framer and decoders', () => {
  const stanzas = session();
  const r = rng(2024);
  const parts: Uint8Array[] = [];
  for (const s of stanzas) {
    parts.push(encodeStanzaBytes(s, { declaration: s.kind === 'config' || s.kind === 'features' }));
    if (r() < 0.5) parts.push(KEEPALIVE);
    if (r() < 0.3) parts.push(Uint8Array.of(0x0a));
  }
  const bytes = concat(parts);

  it('splits CN updates into messages of at most 32 items, withdrawals as asked', () => {
    const ev = stanzas.filter((s) => s.kind === 'event');
    expect(ev.map((m) => (m.kind === 'event' ? [m.items.length, m.retracts.length] : []))).toEqual([
      [32, 0],
      [32, 0],
      [6, 0],
      [0, 50],
      [0, 20],
    ]);
    expect(MAX_ITEMS_PER_MESSAGE).toBe(32);
  });

  it('decodes back to the same stanzas for any cut of the byte stream', () => {
    for (let round = 0; round < 30; round++) {
      const framer = new XmppFramer();
      const got: Stanza[] = [];
      let whitespace = 0;
      for (const piece of randomSplit(bytes, r, round === 0 ? 1 : 1 + round * 37)) {
        for (const f of framer.push(piece)) {
          const s = decodeFrame(f);
          if (s.kind === 'whitespace') whitespace += s.length;
          else got.push(s);
        }
      }
      for (const f of framer.end()) {
        const s = decodeFrame(f);
        if (s.kind === 'whitespace') whitespace += s.length;
      }
      expect(got).toEqual(stanzas);
      expect(whitespace).toBe(parts.filter((p) => p === KEEPALIVE).length * 2 + parts.filter((p) => p.length === 1).length);
    }
  });

  it('writes publish and collection back to back with the same node', () => {
    const i = stanzas.findIndex((s) => s.kind === 'publish' && s.id === 'pubsub_l23');
    const [pub, col] = [stanzas[i], stanzas[i + 1]];
    expect(pub).toMatchObject({ node: '25/242/02:8c:1a:2b:3c:4d,10.1.1.3/32' });
    expect(col).toMatchObject({ kind: 'collection', id: 'collection_l23', node: VRF, action: 'associate', target: '25/242/02:8c:1a:2b:3c:4d,10.1.1.3/32' });
  });
});
