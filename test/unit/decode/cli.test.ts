import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { writePcap } from '../../../codecs/pcap/index.js';
import { encodeEthernet, encodeIpv4, encodeTcp } from '../../../codecs/net/index.js';
import type { DecodedPacket } from '../../../src/decode/index.js';
import { pcapPath } from '../../support/paths.js';


async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

async function decodeJson(file: string, ...extra: string[]): Promise<DecodedPacket[]> {
  const r = await run('decode', file, '--json', ...extra);
  expect(r.code).toBe(0);
  return r.out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as DecodedPacket);
}

const BGP_TYPE: Record<string, number> = { open: 1, update: 2, notification: 3, keepalive: 4, 'route-refresh': 5 };

/** "frame:type,type" for every frame with BGP messages, as tshark's -T fields prints them. */
function bgpPerFrame(pkts: DecodedPacket[]): string {
  const parts: string[] = [];
  for (const p of pkts) {
    const types: number[] = [];
    for (const l of p.layers) {
      if (l.layer !== 'bgp') continue;
      for (const m of l.messages as { type: string }[]) types.push(BGP_TYPE[m.type] ?? -1);
    }
    if (types.length) parts.push(`${p.frame}:${types.join(',')}`);
  }
  return parts.join(' ');
}

// tshark -r F -T fields -e frame.number | wc -l, and
// tshark -r F -Y bgp -T fields -e frame.number -e bgp.type (tshark 4.0.17)
const TSHARK: [string, number, string][] = [
  ['bgp-4byte-asn.pcap', 91, '6:1 8:1 10:4 12:4 13:2 14:4 15:4 28:1 30:1 32:4 34:4 35:4 37:2 39:4 44:1 46:1 48:4 50:4 51:4 52:2,4 56:2 58:2 60:2 67:1 69:1 71:4 72:4 75:2,4 76:4 79:2 81:2 83:2 85:3'],
  ['bgp-addpath.pcap', 1, '1:2'],
  ['bgp-bgp_capabilities_print-oobr-1.pcap', 1, '1:1'],
  ['bgp-encap.pcap', 1, '1:2'],
  ['bgp-enhanced-route-refresh.pcapng', 1, '1:1'],
  ['bgp-evpn.pcap', 1, '1:1'],
  ['bgp-extended-msg.pcapng', 1, '1:1'],
  ['bgp-large-community.pcap', 1, '1:2,2,2,2,2'],
  ['bgp-lu-multiple-labels.pcap', 39, '6:1 8:1 10:4 11:4 14:4,2,2 15:4 18:2 20:3 28:1 30:1 32:4 33:4 35:4,2 36:4,2,2 38:2'],
  ['bgp-rt-prefix.pcap', 14, '1:2 3:2,2 5:2 7:2 9:2 11:2 13:2'],
  ['bgp_mp_reach_nlri-oobr.pcap', 1, '1:2'],
  ['bgp_notification_rr_msg_error.pcap', 1, '1:3'],
  ['gre-heapoverflow-1.pcap', 2, ''],
  ['mpbgp-linklocal-nexthop.pcap', 1, '1:2'],
  ['mpls-label-heapoverflow.pcap', 1, ''],
  ['mpls-over-udp.pcap', 2, ''],
  ['various_gre.pcap', 100, ''],
  ['vxlan.pcap', 10, ''],
];

describe('weft decode --json on the conformance captures', () => {
  for (const [file, frames, bgp] of TSHARK) {
    it(`${file}: ${frames} frames, BGP messages per frame as tshark`, async () => {
      const pkts = await decodeJson(pcapPath(file));
      expect(pkts.map((p) => p.frame)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
      expect(bgpPerFrame(pkts)).toBe(bgp);
    });
  }

  it('shows the layers tshark shows (frame.protocols) for the tunnel captures', async () => {
    const names = (p: DecodedPacket) => p.layers.map((l) => l.layer).join(':');
    // tshark: eth:ethertype:ip:udp:mpls:ip:icmp:data
    expect((await decodeJson(pcapPath('mpls-over-udp.pcap'))).map(names)).toEqual(['eth:ip:udp:mpls:ip:icmp:data', 'eth:ip:udp:mpls:ip:icmp:data']);
    // tshark: eth:ethertype:ip:udp:vxlan:eth:ethertype:arp (frames 1-2), ...:ip:icmp:data
    const vx = await decodeJson(pcapPath('vxlan.pcap'));
    expect(vx.map(names).filter((n) => n === 'eth:ip:udp:vxlan:eth:arp').length).toBe(2);
    expect(vx.map(names).filter((n) => n === 'eth:ip:udp:vxlan:eth:ip:icmp:data').length).toBe(8);
    // tshark -e vxlan.vni: 100 in all 10 frames; -e mpls.label: 21, 46.
    expect(vx.map((p) => p.layers.find((l) => l.layer === 'vxlan')!.vni)).toEqual(Array(10).fill(100));
    const mpls = await decodeJson(pcapPath('mpls-over-udp.pcap'));
    expect(mpls.map((p) => (p.layers.find((l) => l.layer === 'mpls')!.labels as { label: number }[])[0]!.label)).toEqual([21, 46]);
    // tshark: eth:ethertype:vlan:ethertype:ip:gre (8 frames)
    const gre = await decodeJson(pcapPath('various_gre.pcap'));
    expect(gre.map(names).filter((n) => n.startsWith('eth:vlan:ip:gre')).length).toBe(8 + 2 + 8 + 10 + 2);
  });

  it('keeps a message that spans segments in the frame that completed it, with all its frames', async () => {
    // bgp-4byte-asn frame 13 is an UPDATE in one segment; every message names no extra frames
    // unless it was reassembled.
    const pkts = await decodeJson(pcapPath('bgp-4byte-asn.pcap'));
    const msgs = pkts.flatMap((p) => p.layers.filter((l) => l.layer === 'bgp').flatMap((l) => l.messages as { frames?: number[] }[]));
    expect(msgs.length).toBe(35);
    for (const m of msgs) if (m.frames) expect(m.frames.length).toBeGreaterThan(1);
  });

  it('reports malformed BGP as errors with field, offset and NOTIFICATION, and goes on', async () => {
    const [p] = await decodeJson(pcapPath('bgp_mp_reach_nlri-oobr.pcap'));
    expect(p!.errors.length).toBeGreaterThan(0);
    const first = p!.errors[0]!;
    expect(first.layer).toBe('bgp');
    expect(first.error.field).toBe('bgp.update.withdrawn[0].length');
    expect(first.error.notification).toEqual({ code: 3, subcode: 10 });
    // A broken packet layer is reported likewise (gre-heapoverflow frame 2: IP version 0).
    const g = await decodeJson(pcapPath('gre-heapoverflow-1.pcap'));
    expect(g[1]!.errors).toEqual([{ layer: 'ip', error: { field: 'ipv4.version', offset: 14, reason: 'version 0, expected 4' } }]);
  });

  it('guesses ADD-PATH without OPENs as tshark does (bgp-addpath: path ids 20, 21)', async () => {
    const [p] = await decodeJson(pcapPath('bgp-addpath.pcap'));
    const m = (p!.layers.find((l) => l.layer === 'bgp')!.messages as { message: { withdrawn: { pathId: number; prefix: string }[] } }[])[0]!;
    expect(m.message.withdrawn).toEqual([
      { kind: 'prefix', pathId: 20, prefix: '8.2.0.0/24' },
      { kind: 'prefix', pathId: 21, prefix: '8.2.1.0/24' },
    ]);
  });

  it('prints a tshark -V like tree without --json', async () => {
    const r = await run('decode', pcapPath('bgp_notification_rr_msg_error.pcap'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Frame 1: 77 bytes on wire, 77 bytes captured/);
    expect(r.out).toContain('\nBorder Gateway Protocol\n');
    expect(r.out).toContain('\nTransmission Control Protocol\n');
  });
});

/** A capture of one Ethernet/IPv4/TCP segment per payload, all from one client to `port`. */
function tcpCapture(port: number, payloads: Uint8Array[]): Uint8Array {
  let seq = 1000;
  const frames = payloads.map((payload, i) => {
    const tcp = encodeTcp({ srcPort: 40000, dstPort: port, seq, flags: { ack: true, psh: true }, payload }, { src: '10.0.0.1', dst: '10.0.0.2' });
    seq += payload.length;
    const ip = encodeIpv4({ protocol: 6, src: '10.0.0.1', dst: '10.0.0.2', payload: tcp });
    return { ts: { sec: 1700000000 + i, nsec: 0 }, data: encodeEthernet({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800, payload: ip }) };
  });
  return writePcap(frames, 1);
}

const KEEPALIVE = Uint8Array.from([...Array(16).fill(0xff), 0, 19, 4]);

describe('decode-as, XMPP and exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-decode-'));

  it('--decode-as tcp.port==N,bgp binds a port, as tshark -d', async () => {
    const f = join(dir, 'bgp10179.pcap');
    writeFileSync(f, tcpCapture(10179, [KEEPALIVE, KEEPALIVE.subarray(0, 7), KEEPALIVE.subarray(7)]));
    expect(bgpPerFrame(await decodeJson(f))).toBe('');
    const pkts = await decodeJson(f, '--decode-as', 'tcp.port==10179,bgp');
    expect(bgpPerFrame(pkts)).toBe('1:4 3:4');
    const m = pkts[2]!.layers.find((l) => l.layer === 'bgp')!.messages as { frames: number[] }[];
    expect(m[0]!.frames).toEqual([2, 3]);
  });

  it('decodes XMPP on tcp 5269 into typed stanzas, split across segments', async () => {
    const open = Buffer.from("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='a.example' to='b.example' version='1.0'>");
    const iq = Buffer.from("<iq type='set' from='agent@b' to='network-control@contrailsystems.com' id='x1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='default-domain:p:vn:vn'><options><instance-id>1</instance-id></options></subscribe></pubsub></iq>");
    const f = join(dir, 'xmpp.pcap');
    writeFileSync(f, tcpCapture(5269, [open, iq.subarray(0, 30), iq.subarray(30)]));
    const pkts = await decodeJson(f);
    const units = (n: number) => (pkts[n]!.layers.find((l) => l.layer === 'xmpp')?.units ?? []) as Record<string, unknown>[];
    expect(units(0).map((u) => u.kind)).toEqual(['stream-open']);
    expect(units(0)[0]!.from).toBe('a.example');
    expect(units(1)).toEqual([]);
    expect(units(2).map((u) => [u.kind, u.node, u.frames])).toEqual([['subscribe', 'default-domain:p:vn:vn', [2, 3]]]);
  });

  it('exit 1 naming the file when it is missing or not a capture; 2 on bad usage', async () => {
    const missing = await run('decode', join(dir, 'nope.pcap'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('nope.pcap');
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'hello world, not a capture');
    const bad = await run('decode', junk);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/junk\.pcap is not a readable capture: not a pcap or pcapng file \(magic 0x68656c6c\)/);
    expect((await run('decode')).code).toBe(2);
    expect((await run('decode', junk, '--bogus')).code).toBe(2);
    expect((await run('decode', junk, '--decode-as', 'tcp.port==179,http')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('decode');
    expect(help.out).toMatch(/lab +the book's lab in namespaces/);
  });

  it('a capture cut short is still decoded (exit 0) with a note on stderr', async () => {
    const whole = tcpCapture(179, [KEEPALIVE, KEEPALIVE]);
    const f = join(dir, 'cut.pcap');
    writeFileSync(f, whole.subarray(0, whole.length - 5));
    const r = await run('decode', f, '--json');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').length).toBe(1);
    expect(r.err).toContain('file cut short');
  });
});
