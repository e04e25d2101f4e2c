/**
 * The readable form of `weft decode` (packetToText) for BGP: names where tshark -V shows
 * names, values cross-checked against `tshark -O bgp` on the shared captures, and no
 * `undefined` for absent optional fields.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../codecs/pcap/index.js';
import { decodeCapture, packetToJson, packetToText, type DecodedPacket } from '../../../src/decode/index.js';
import { PCAP_DIR } from '../../support/paths.js';

function decode(file: string): DecodedPacket[] {
  return decodeCapture(readCapture(new Uint8Array(readFileSync(path.join(PCAP_DIR, file)))));
}

function frameText(file: string, frame: number): string {
  const p = decode(file).find((x) => x.frame === frame);
  if (!p) throw new Error(`${file} has no frame ${frame}`);
  return packetToText(p);
}

describe('packetToText for BGP', () => {
  it('names the message type, ORIGIN and attributes, and prints AS paths as tshark does (bgp-4byte-asn frame 13)', () => {
    const t = frameText('bgp-4byte-asn.pcap', 13);
    expect(t).toContain('\nBorder Gateway Protocol\n    UPDATE Message\n        Length: 95\n        Type: UPDATE Message (2)\n');
    // tshark: "Path Attribute - ORIGIN: INCOMPLETE", "AS_PATH: 200 1 23456 23456 23456", "AS4_PATH: 1 222222 333333 4294967290"
    expect(t).toContain('Path Attribute - ORIGIN (1): INCOMPLETE (2)\n                Flags: 0x40, Well-known, Transitive, Complete\n');
    expect(t).toContain('Path Attribute - AS_PATH (2): 200 1 23456 23456 23456\n');
    expect(t).toContain('AS Path segment: AS_SEQUENCE (2): 200 1 23456 23456 23456\n');
    expect(t).toContain('Path Attribute - NEXT_HOP (3): 1.0.2.1\n');
    expect(t).toContain('Path Attribute - AS4_PATH (17): 1 222222 333333 4294967290\n                Flags: 0xe0, Optional, Transitive, Partial\n');
    expect(t).toContain('Network Layer Reachability Information (5)\n            4.4.4.4/32\n            5.5.5.5/32\n');
    expect(t).toContain('[Session: 2-octet AS (from the OPENs)]');
  });

  it('names capabilities in OPEN (bgp-4byte-asn frame 28) and NOTIFICATION codes (frame 85)', () => {
    const open = frameText('bgp-4byte-asn.pcap', 28);
    expect(open).toContain('        My AS: 23456\n        Hold Time: 180\n        BGP Identifier: 0.0.1.1\n');
    expect(open).toContain('Capability: Multiprotocol extensions capability (1): AFI IPv4 (1), SAFI Unicast (1)\n');
    expect(open).toContain('Capability: Support for 4-octet AS number capability (65): AS 2764334674\n');
    expect(open).toContain('Capability: Support for Additional Paths (69): AFI IPv4 (1), SAFI Unicast (1) Receive (1)\n');
    // tshark: "Major error Code: Cease (6)", "Minor error Code (Cease): Other Configuration Change (6)"
    expect(frameText('bgp-4byte-asn.pcap', 85)).toContain('    NOTIFICATION Message\n        Length: 21\n        Type: NOTIFICATION Message (3)\n        Error: Cease / Other Configuration Change (6/6)\n');
  });

  it('prints communities, extended communities, EVPN and labeled NLRI with the codec formats', () => {
    // tshark: "LARGE_COMMUNITY: 65535:1:1 4294967295:4294967295:4294967295"
    expect(frameText('bgp-large-community.pcap', 1)).toContain('Path Attribute - LARGE_COMMUNITY (32): 65535:1:1 4294967295:4294967295:4294967295\n');
    const encap = frameText('bgp-encap.pcap', 1);
    expect(encap).toContain('Route Target: 65000:101 [Transitive 2-Octet AS-Specific]\n');
    expect(encap).toContain('Encapsulation: VXLAN Encapsulation [Transitive Opaque]\n');
    expect(encap).toContain('MP_REACH_NLRI (14): AFI Layer-2 VPN (25), SAFI EVPN (70), next hop 4.4.4.4\n');
    // tshark: RD 00:01:04:04:04:04:00:04 (type 1, 4.4.4.4:4), MAC 02:06:0a:0e:fa:f3, VNI 101
    expect(encap).toContain('EVPN MAC Advertisement Route (2): RD 4.4.4.4:4, ESI 00:00:00:00:00:00:00:00:00:00, tag 0, MAC 02:06:0a:0e:fa:f3, label 6 (bottom) / VNI 101\n');
    // tshark: "Label Stack=100,101,102,103 (bottom) IPv4=30.1.1.1/32"
    expect(frameText('bgp-lu-multiple-labels.pcap', 18)).toContain('30.1.1.1/32 label 100,101,102,103 (bottom)\n');
    expect(frameText('bgp-rt-prefix.pcap', 5)).toContain('RT membership: origin AS 22, route target 1:65537 (/96)\n');
  });

  it('shows malformed attributes with their error, RFC 7606 action and NOTIFICATION name (bgp-addpath)', () => {
    const t = frameText('bgp-addpath.pcap', 1);
    expect(t).toContain(
      'Path Attribute - NEXT_HOP (3)\n                Flags: 0x40, Well-known, Transitive, Complete\n' +
        '                [Malformed (RFC 7606: treat-as-withdraw): bgp.update.attr.next_hop at offset 46: length 0, expected 4 (NOTIFICATION UPDATE Message Error / Attribute Length Error (3/5))]\n',
    );
    expect(t).toContain('            8.2.0.0/24 path-id 20\n');
    expect(t).toContain('[RFC 7606: session-reset]');
  });

  it('never prints undefined, and the JSON has no undefined keys either (every shared capture)', () => {
    for (const f of readdirSync(PCAP_DIR).filter((x) => /\.pcap(ng)?$/.test(x))) {
      for (const p of decode(f)) {
        expect(packetToText(p), `${f} frame ${p.frame}`).not.toMatch(/\bundefined\b/);
        expect(packetToJson(p), `${f} frame ${p.frame}`).not.toMatch(/undefined|null/);
      }
    }
  });
});
