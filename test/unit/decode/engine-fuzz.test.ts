import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture, type Capture } from '../../../codecs/pcap/index.js';
import { decodeCapture, packetToJson, packetToText } from '../../../src/decode/index.js';

const PCAPS = fileURLToPath(new URL('../../../../shared/conformance/pcaps/', import.meta.url));

describe('the engine never throws on mangled packets', () => {
  it('random byte flips and truncations in every conformance capture only give errors entries', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const files = ['bgp-4byte-asn.pcap', 'bgp-lu-multiple-labels.pcap', 'bgp-rt-prefix.pcap', 'various_gre.pcap', 'vxlan.pcap', 'mpls-over-udp.pcap', 'bgp-large-community.pcap', 'bgp-evpn.pcap', 'bgp-encap.pcap'];
    let errors = 0;
    for (let round = 0; round < 40; round++) {
      for (const f of files) {
        const c = readCapture(new Uint8Array(readFileSync(PCAPS + f)));
        const packets = c.packets.map((p) => {
          const data = Uint8Array.from(p.data.subarray(0, p.data.length - (rnd() % 3 === 0 ? rnd() % (p.data.length + 1) : 0)));
          const flips = rnd() % 4;
          for (let k = 0; k < flips && data.length; k++) data[rnd() % data.length] = rnd() & 0xff;
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
