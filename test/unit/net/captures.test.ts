/**
 * Real captures through the net codecs: every frame of every classic pcap is dissected,
 * rebuilt byte for byte, and (when tshark is installed) compared field by field with tshark.
 * The hard-coded numbers below were read from tshark 4.0 on the same files.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../codecs/util/hex.js';
import { udpChecksumOk, tcpChecksumOk } from '../../../codecs/net/index.js';
import { PCAP_DIR, pcapPath } from '../../support/paths.js';
import { readPcap } from './pcap-frames.js';
import { dissect, layersOf, rebuild, type Dissection } from './stack.js';
import { CROSS_CHECK_FIELDS, ourFields, tsharkFields } from './tshark.js';

const CLASSIC = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap'));

/** LINKTYPE_RAW (101) and its old DLT numbers start at the IP header. */
function firstLayer(linkType: number): 'ethernet' | 'ipv4' {
  if (linkType === 1) return 'ethernet';
  if (linkType === 101 || linkType === 12 || linkType === 14) return 'ipv4';
  throw new Error(`link type ${linkType}`);
}

function dissectFile(name: string): Dissection[] {
  const { linkType, records } = readPcap(name);
  return records.map((r) => dissect(r.data, firstLayer(linkType)));
}

/** Frames the codecs reject, with the field and frame offset of the rejection. */
const EXPECTED_ERRORS: Record<string, { field: string; offset: number }> = {
  // "Internet Protocol Version 4 / 0000 .... = Version: 0" in tshark.
  'gre-heapoverflow-1.pcap#2': { field: 'ipv4.version', offset: 14 },
};

describe('every frame of the conformance captures', () => {
  it('finds the captures', () => {
    expect(CLASSIC).toEqual(expect.arrayContaining(['vxlan.pcap', 'mpls-over-udp.pcap', 'various_gre.pcap', 'bgp-4byte-asn.pcap']));
  });

  for (const name of CLASSIC) {
    it(`${name}: dissects and rebuilds byte for byte`, () => {
      const { linkType, records } = readPcap(name);
      records.forEach((rec, i) => {
        const d = dissect(rec.data, firstLayer(linkType));
        const key = `${name}#${i + 1}`;
        const expected = EXPECTED_ERRORS[key];
        if (expected) {
          expect(d.error, key).toBeDefined();
          expect({ field: d.error!.field, offset: d.error!.offset }, key).toEqual(expected);
          return;
        }
        expect(d.error, `${key}: ${d.error?.message}`).toBeUndefined();
        expect(toHex(rebuild(d.layers)), key).toBe(toHex(rec.data));
      });
    });

    it(`${name}: decoded values match tshark`, () => {
      const rows = tsharkFields(pcapPath(name), CROSS_CHECK_FIELDS);
      const ours = dissectFile(name);
      expect(rows.length).toBe(ours.length);
      ours.forEach((d, i) => expect(ourFields(d.layers), `${name} frame ${i + 1}`).toEqual(rows[i]));
    });
  }
});

describe('vxlan.pcap', () => {
  const frames = dissectFile('vxlan.pcap');

  it('frame 1: ICMP echo in VXLAN VNI 100', () => {
    const { layers } = frames[0]!;
    expect(layers.map((l) => l.kind)).toEqual(['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp']);
    const [outerEth, innerEth] = layersOf(layers, 'ethernet');
    expect(outerEth!.v).toMatchObject({ src: '36:dc:85:1e:b3:40', dst: '00:16:3e:08:71:cf', etherType: 0x0800, tags: [] });
    const [outer, inner] = layersOf(layers, 'ipv4');
    expect(outer!.v).toMatchObject({ src: '192.168.203.1', dst: '192.168.202.1', ttl: 64, checksum: 0x5152, identification: 0xd2c0, checksumOk: true });
    const udp = layersOf(layers, 'udp')[0]!.v;
    expect(udp).toMatchObject({ srcPort: 45149, dstPort: 4789, length: 114, checksum: 0 });
    expect(layersOf(layers, 'vxlan')[0]!.v).toMatchObject({ flags: 0x08, reserved1: 0, vni: 100, reserved2: 0 });
    expect(innerEth!.v).toMatchObject({ src: '00:16:3e:37:f6:04', dst: '00:30:88:01:00:02' });
    expect(inner!.v).toMatchObject({ src: '192.168.203.3', dst: '192.168.203.5', checksumOk: true });
    expect(layersOf(layers, 'icmp')[0]!.v).toMatchObject({ type: 8, code: 0, identifier: 1292, sequence: 1, checksum: 0xf6f2, checksumOk: true });
    // Checksum 0 = none, which udpChecksumOk reports as undefined rather than wrong.
    expect(udpChecksumOk(outer!.v.src, outer!.v.dst, outer!.v.payload)).toBeUndefined();
  });

  it('frame 2: ARP request inside VXLAN', () => {
    const arp = layersOf(frames[1]!.layers, 'arp')[0]!.v;
    expect(arp).toMatchObject({ htype: 1, ptype: 0x0800, op: 1, sha: '00:30:88:01:00:02', spa: '192.168.203.5', tpa: '192.168.203.3' });
    expect(arp.trailer.length).toBe(0);
    expect(layersOf(frames[1]!.layers, 'ethernet')[1]!.v.dst).toBe('ff:ff:ff:ff:ff:ff');
  });
});

describe('mpls-over-udp.pcap', () => {
  const frames = dissectFile('mpls-over-udp.pcap');
  it('labels 21 and 46 over UDP 6635, inner ICMP echo', () => {
    const expected = [
      { label: 21, sport: 58699, icmp: 8, src: '10.3.0.10' },
      { label: 46, sport: 51348, icmp: 0, src: '10.1.0.10' },
    ];
    frames.forEach(({ layers }, i) => {
      const e = expected[i]!;
      expect(layers.map((l) => l.kind)).toEqual(['ethernet', 'ipv4', 'udp', 'mpls', 'ipv4', 'icmp']);
      expect(layersOf(layers, 'udp')[0]!.v).toMatchObject({ srcPort: e.sport, dstPort: 6635, checksum: 0 });
      expect(layersOf(layers, 'mpls')[0]!.v.labels).toEqual([{ label: e.label, tc: 0, bottom: true, ttl: 63 }]);
      const inner = layersOf(layers, 'ipv4')[1]!.v;
      expect(inner).toMatchObject({ src: e.src, ttl: 63, checksumOk: true });
      expect(layersOf(layers, 'icmp')[0]!.v).toMatchObject({ type: e.icmp, identifier: 42731, sequence: 16, checksumOk: true });
    });
  });
});

describe('various_gre.pcap', () => {
  const frames = dissectFile('various_gre.pcap');

  it('frame 3: untagged 802.3 frame (LLC/STP) keeps its length and padding', () => {
    const eth = layersOf(frames[2]!.layers, 'ethernet')[0]!.v;
    expect(eth.etherType).toBeUndefined();
    expect(eth.length).toBe(38);
    expect(eth.payload.subarray(0, 3)).toEqual(Uint8Array.of(0x42, 0x42, 0x03));
    expect(toHex(eth.trailer!)).toBe('0000000000000000');
    expect(eth.truncated).toBe(false);
  });

  it('frame 2: 802.3 length behind an 802.1Q tag', () => {
    const eth = layersOf(frames[1]!.layers, 'ethernet')[0]!.v;
    expect(eth.tags).toEqual([{ tpid: 0x8100, pcp: 0, dei: false, vid: 1213 }]);
    expect(eth.length).toBe(50);
    expect(eth.payload[0]).toBe(0xaa);
  });

  it('frame 11: GRE keepalive with key 0x28 behind Cisco MetaData', () => {
    const { layers } = frames[10]!;
    expect(layers.map((l) => l.kind)).toEqual(['ethernet', 'ipv4', 'gre', 'cmd', 'ipv4', 'gre', 'raw']);
    const [outer, inner] = layersOf(layers, 'ipv4');
    expect(outer!.v).toMatchObject({ src: '10.172.64.7', dst: '10.172.64.6', dscp: 48, ttl: 255, protocol: 47, checksum: 0x24c6, totalLength: 64 });
    expect(inner!.v).toMatchObject({ src: '10.172.64.6', dst: '10.172.64.7', totalLength: 28, checksum: 0x24eb });
    const [g1, g2] = layersOf(layers, 'gre');
    expect(g1!.v).toMatchObject({ checksumPresent: false, keyPresent: true, sequencePresent: false, reserved0: 0, version: 0, protocolType: 0x8909, key: 0x28 });
    expect(g2!.v).toMatchObject({ keyPresent: true, protocolType: 0, key: 0x28 });
    expect(g2!.v.payload.length).toBe(0);
  });

  it('frame 25: ICMP echo inside GRE', () => {
    const icmp = layersOf(frames[24]!.layers, 'icmp')[0]!.v;
    expect(icmp).toMatchObject({ type: 8, identifier: 1, sequence: 0, checksum: 0x64fe, checksumOk: true });
    expect(icmp.data.length).toBe(72);
    expect(layersOf(frames[24]!.layers, 'ipv4')[1]!.v).toMatchObject({ src: '172.17.1.54', dst: '172.17.1.55', checksum: 0x6104 });
  });
});

describe('fuzzed captures (tcpdump heap-overflow reproducers)', () => {
  it('mpls-label-heapoverflow.pcap: two labels, S on the second, empty payload', () => {
    const [d] = dissectFile('mpls-label-heapoverflow.pcap');
    expect(d!.error).toBeUndefined();
    const mpls = layersOf(d!.layers, 'mpls')[0]!.v;
    expect(mpls.labels).toEqual([
      { label: 197379, tc: 0, bottom: false, ttl: 48 },
      { label: 197387, tc: 5, bottom: true, ttl: 48 },
    ]);
    expect(mpls.payload.length).toBe(0);
  });

  it('gre-heapoverflow-1.pcap: unknown EtherType kept raw; IPv4 version 0 rejected', () => {
    const [d1, d2] = dissectFile('gre-heapoverflow-1.pcap');
    expect(d1!.layers.map((l) => l.kind)).toEqual(['ethernet', 'raw']);
    expect(layersOf(d1!.layers, 'ethernet')[0]!.v.etherType).toBe(0x3030);
    expect(d2!.error?.field).toBe('ipv4.version');
  });
});

describe('BGP captures: Ethernet, VLAN, IPv4, TCP', () => {
  it('bgp-4byte-asn.pcap: ARP, then a SYN with MSS/SACK-permitted/timestamps/NOP/window scale', () => {
    const frames = dissectFile('bgp-4byte-asn.pcap');
    expect(layersOf(frames[0]!.layers, 'arp')[0]!.v).toMatchObject({ op: 1, sha: '02:01:00:01:00:00', spa: '1.0.2.2', tha: '00:00:00:00:00:00', tpa: '1.0.2.1' });
    const ip = layersOf(frames[2]!.layers, 'ipv4')[0]!.v;
    expect(ip).toMatchObject({ df: true, checksumOk: true });
    const syn = layersOf(frames[2]!.layers, 'tcp')[0]!.v;
    expect(syn).toMatchObject({ srcPort: 42741, dstPort: 179, seq: 2331667506, ack: 0, dataOffset: 10, window: 29200, checksum: 0x9871 });
    expect(syn.flags).toEqual({ ns: false, cwr: false, ece: false, urg: false, ack: false, psh: false, rst: false, syn: true, fin: false });
    expect(syn.options).toEqual([
      { type: 'mss', mss: 1460 },
      { type: 'sack-permitted' },
      { type: 'timestamps', tsval: 667578586, tsecr: 0 },
      { type: 'nop' },
      { type: 'window-scale', shift: 9 },
    ]);
    expect(syn.padding.length).toBe(0);
    expect(tcpChecksumOk(ip.src, ip.dst, ip.payload)).toBe(true);
    // Frame 4 is the SYN-ACK: checksum correct over the pseudo-header too.
    const ip4 = layersOf(frames[3]!.layers, 'ipv4')[0]!.v;
    expect(tcpChecksumOk(ip4.src, ip4.dst, ip4.payload)).toBe(true);
  });

  it('bgp-encap.pcap and bgp-evpn.pcap: 802.1Q VLANs 14 and 23', () => {
    expect(layersOf(dissectFile('bgp-encap.pcap')[0]!.layers, 'ethernet')[0]!.v.tags[0]!.vid).toBe(14);
    expect(layersOf(dissectFile('bgp-evpn.pcap')[0]!.layers, 'ethernet')[0]!.v.tags[0]!.vid).toBe(23);
  });

  it('bgp_mp_reach_nlri-oobr.pcap: totalLength 65535 in a 2674-byte capture is truncated, not an error', () => {
    const [d] = dissectFile('bgp_mp_reach_nlri-oobr.pcap');
    const ip = layersOf(d!.layers, 'ipv4')[0]!.v;
    expect(ip).toMatchObject({ totalLength: 65535, truncated: true, reservedFlag: true, df: false, mf: false, dscp: 63, ecn: 3 });
    expect(ip.payload.length).toBe(2674 - 14 - 20);
    const tcp = layersOf(d!.layers, 'tcp')[0]!.v;
    // tshark: "Flags: 0xf00 (AE, Reserved)", header 60 bytes, options EOL then non-zero padding.
    expect(tcp.reserved).toBe(7);
    expect(tcp.flags.ns).toBe(true);
    expect(tcp.dataOffset).toBe(15);
    expect(tcp.options).toEqual([{ type: 'eol' }]);
    expect(tcp.padding.length).toBe(39);
    expect(tcp.urgentPointer).toBe(54);
  });

  it('bgp-bgp_capabilities_print-oobr-1.pcap: all three IPv4 flag bits survive', () => {
    const [d] = dissectFile('bgp-bgp_capabilities_print-oobr-1.pcap');
    const ip = layersOf(d!.layers, 'ipv4')[0]!.v;
    expect(ip).toMatchObject({ reservedFlag: true, df: true, mf: true, totalLength: 4135, truncated: true });
  });

  it('bgp-addpath.pcap: raw-IP link type', () => {
    const { linkType } = readPcap('bgp-addpath.pcap');
    expect(firstLayer(linkType)).toBe('ipv4');
    const [d] = dissectFile('bgp-addpath.pcap');
    expect(layersOf(d!.layers, 'tcp')[0]!.v).toMatchObject({ srcPort: 179, dstPort: 59631 });
  });
});
