import { describe, expect, it } from 'vitest';
import { readCapture, type Capture } from '../../../codecs/pcap/index.js';
import { decodeCapture, packetToJson, packetToText } from '../../../src/decode/index.js';
import { randInt, rng } from '../../support/rng.js';
import { pcapBytes } from '../../support/paths.js';

describe('the engine never throws on mangled packets', () => {
  it('random byte flips and truncations in every conformance capture only give errors entries', () => {
    const rnd = rng(7);
    const files = ['bgp-4byte-asn.pcap', 'bgp-lu-multiple-labels.pcap', 'bgp-rt-prefix.pcap', 'various_gre.pcap', 'vxlan.pcap', 'mpls-over-udp.pcap', 'bgp-large-community.pcap', 'bgp-evpn.pcap', 'bgp-encap.pcap'];
    let errors = 0;
    for (let round = 0; round < 40; round++) {
      for (const f of files) {
        const c = readCapture(pcapBytes(f));
        const packets = c.packets.map((p) => {
          const data = Uint8Array.from(p.data.subarray(0, p.data.length - (randInt(rnd, 3) === 0 ? randInt(rnd, p.data.length + 1) : 0)));
          const flips = randInt(rnd, 4);
          for (let k = 0; k < flips && data.length; k++) data[randInt(rnd, data.length)] = randInt(rnd, 256);
          return { ...p, data, caplen: data.length };
        });
        const mangled = { ...c, packets } as Capture;
        const out = decodeCapture(mangled);
        expect(out.length).toBe(packets.length);
        for (const p of out) {
          errors += p.errors.length;
          JSON.parse(packetToJson(p));
          packetToText(p);
        }
      }
    }
    // The mangling must actually have produced malformed layers, or this proves nothing.
    expect(errors).toBeGreaterThan(100);
  });
});
