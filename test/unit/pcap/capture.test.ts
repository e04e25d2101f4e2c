import { describe, expect, it } from 'vitest';
import {
  decodePcap,
  decodePcapng,
  encodePcap,
  encodePcapng,
  formatTime,
  readCapture,
  writeCapture,
  writePcap,
  writePcapng,
} from '../../../codecs/pcap/index.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import { Writer } from '../../../codecs/util/writer.js';
import { randInt, rng } from '../../support/rng.js';
import { pcapBytes } from '../../support/paths.js';

const load = pcapBytes;

// From: tshark -r F -T fields -e frame.time_epoch -e frame.cap_len -e frame.len
// [file, frames, sum(cap_len), sum(len), first time, last time]
const TSHARK: [string, number, number, number, string, string][] = [
  ['bgp-4byte-asn.pcap', 91, 7237, 7237, '1555002999.743518000', '1555003020.444552000'],
  ['bgp-addpath.pcap', 1, 271, 271, '1504706188.053206000', '1504706188.053206000'],
  ['bgp-bgp_capabilities_print-oobr-1.pcap', 1, 232, 262144, '6397453.999999000', '6397453.999999000'],
  ['bgp-encap.pcap', 1, 174, 174, '1567083563.482812000', '1567083563.482812000'],
  ['bgp-enhanced-route-refresh.pcapng', 1, 161, 161, '1635708974.856146000', '1635708974.856146000'],
  ['bgp-evpn.pcap', 1, 141, 141, '1565966010.055180000', '1565966010.055180000'],
  ['bgp-extended-msg.pcapng', 1, 161, 161, '1635707731.105336000', '1635707731.105336000'],
  ['bgp-large-community.pcap', 1, 441, 441, '1477552886.812466000', '1477552886.812466000'],
  ['bgp-lu-multiple-labels.pcap', 39, 3305, 3305, '1557865877.039331000', '1557865882.726086000'],
  ['bgp-rt-prefix.pcap', 14, 1411, 1411, '1584111705.841851000', '1584111705.997673000'],
  ['bgp_mp_reach_nlri-oobr.pcap', 1, 2674, 262144, '167804941.999999000', '167804941.999999000'],
  ['bgp_notification_rr_msg_error.pcap', 1, 77, 77, '1214780929.782272000', '1214780929.782272000'],
  ['gre-heapoverflow-1.pcap', 2, 146, 524288, '808464432.999999000', '808464432.999999000'],
  ['mpbgp-linklocal-nexthop.pcap', 1, 156, 156, '1330601410.196605000', '1330601410.196605000'],
  ['mpls-label-heapoverflow.pcap', 1, 22, 262144, '808464432.999999000', '808464432.999999000'],
  ['mpls-over-udp.pcap', 2, 260, 260, '1581189012.233047000', '1581189012.233101000'],
  ['various_gre.pcap', 100, 8444, 8444, '1497606301.394037000', '1497606342.185807000'],
  ['vxlan.pcap', 10, 1368, 1368, '1368908504.837063000', '1368908507.885359000'],
];

describe('readCapture on the conformance captures', () => {
  for (const [file, frames, capSum, lenSum, first, last] of TSHARK) {
    it(`${file}: ${frames} frames as tshark reads them, written back byte for byte`, () => {
      const bytes = load(file);
      const c = readCapture(bytes);
      expect(c.format).toBe(file.endsWith('.pcapng') ? 'pcapng' : 'pcap');
      expect(c.packets.length).toBe(frames);
      expect(c.packets.reduce((s, p) => s + p.caplen, 0)).toBe(capSum);
      expect(c.packets.reduce((s, p) => s + p.origLen, 0)).toBe(lenSum);
      expect(formatTime(c.packets[0]!.ts)).toBe(first);
      expect(formatTime(c.packets.at(-1)!.ts)).toBe(last);
      expect(c.notes).toEqual([]);
      expect(toHex(writeCapture(c))).toBe(toHex(bytes));
    });
  }

  it('reads the link types capinfos reports (rawip for bgp-addpath, ether elsewhere)', () => {
    expect(readCapture(load('bgp-addpath.pcap')).linkTypes).toEqual([101]);
    expect(readCapture(load('vxlan.pcap')).linkTypes).toEqual([1]);
    expect(readCapture(load('bgp-extended-msg.pcapng')).linkTypes).toEqual([1]);
    // The upper bits of the network field carry FCS information; the link type is still 1.
    const odd = decodePcap(load('mpls-label-heapoverflow.pcap'));
    expect(odd.header.linkType).toBe(1);
    expect(odd.header.linkTypeFlags).toBe(0x3000);
    expect(odd.header.snapLen).toBe(22);
  });

  it('keeps the pcapng SHB options (shb_userappl "Editcap (Wireshark) 3.2.3 ...")', () => {
    const f = decodePcapng(load('bgp-extended-msg.pcapng'));
    const shb = f.sections[0]!;
    expect(shb.byteOrder).toBe('le');
    expect(shb.sectionLength).toBe(-1n);
    const appl = shb.options.list.find((o) => o.code === 4)!;
    expect(Buffer.from(appl.value).toString()).toBe('Editcap (Wireshark) 3.2.3 (Git v3.2.3 packaged as 3.2.3-1)');
    const idb = shb.blocks[0]!;
    expect(idb.type === 'idb' && idb.snapLen).toBe(262144);
  });

  it('writePcap of the packets read gives the original file back (LE, microseconds)', () => {
    for (const file of ['bgp-4byte-asn.pcap', 'vxlan.pcap', 'bgp-rt-prefix.pcap']) {
      const bytes = load(file);
      const c = readCapture(bytes);
      if (c.format !== 'pcap') throw new Error('pcap expected');
      const again = writePcap(c.packets, c.linkTypes[0]!, { snapLen: c.file.header.snapLen });
      expect(toHex(again)).toBe(toHex(bytes));
    }
  });
});

describe('pcap variants', () => {
  const pkts = [
    { ts: { sec: 1700000000, nsec: 123456789 }, data: fromHex('0102030405'), origLen: 60 },
    { ts: { sec: 1700000001, nsec: 0 }, data: fromHex('aabb') },
  ];

  it('big-endian nanosecond files keep nanoseconds and round-trip', () => {
    const bytes = writePcap(pkts, 101, { byteOrder: 'be', nanosecond: true, snapLen: 65535 });
    expect(toHex(bytes.subarray(0, 4))).toBe('a1b23c4d');
    const c = readCapture(bytes);
    expect(c.packets.map((p) => formatTime(p.ts))).toEqual(['1700000000.123456789', '1700000001.000000000']);
    expect(c.packets[0]!.origLen).toBe(60);
    expect(c.packets[1]!.origLen).toBe(2);
    expect(c.linkTypes).toEqual([101]);
    expect(toHex(writeCapture(c))).toBe(toHex(bytes));
  });

  it('microsecond files drop the sub-microsecond digits', () => {
    const bytes = writePcap(pkts, 1, { byteOrder: 'be' });
    expect(toHex(bytes.subarray(0, 4))).toBe('a1b2c3d4');
    expect(formatTime(readCapture(bytes).packets[0]!.ts)).toBe('1700000000.123456000');
  });

  it('a record cut short keeps the packets before it, notes the cut and still round-trips', () => {
    const whole = writePcap(pkts, 1);
    const cut = whole.subarray(0, whole.length - 1);
    const c = readCapture(cut);
    expect(c.packets.length).toBe(1);
    expect(c.notes.length).toBe(1);
    expect(c.notes[0]).toMatch(/^file cut short: pcap\.record\[1\]\.data at offset 61/);
    expect(toHex(writeCapture(c))).toBe(toHex(cut));
  });

  it('rejects what is not a capture with one DecodeError naming the magic', () => {
    expect(() => readCapture(fromHex('00'))).toThrow(DecodeError);
    try {
      readCapture(fromHex('deadbeef00000000'));
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).field).toBe('capture.magic');
      expect((e as DecodeError).reason).toContain('deadbeef');
    }
    expect(() => readCapture(fromHex('d4c3b2a10200'))).toThrow(DecodeError); // header cut short
  });
});

/** Hand-built pcapng blocks, for the block kinds the conformance files lack. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const w = new Writer(64);
  const len = 12 + body.length;
  if (le) w.u32le(type).u32le(len).bytes(body).u32le(len);
  else w.u32(type).u32(len).bytes(body).u32(len);
  return w.finish();
}

function shb(le: boolean): Uint8Array {
  const w = new Writer(32);
  if (le) w.u32le(0x1a2b3c4d).u16le(1).u16le(0).u32le(0xffffffff).u32le(0xffffffff);
  else w.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
  const b = block(le, 0x0a0d0d0a, w.finish());
  return b;
}

function idb(le: boolean, linkType: number, tsresol?: number): Uint8Array {
  const w = new Writer(32);
  if (le) w.u16le(linkType).u16le(0).u32le(0);
  else w.u16(linkType).u16(0).u32(0);
  if (tsresol !== undefined) {
    if (le) w.u16le(9).u16le(1);
    else w.u16(9).u16(1);
    w.u8(tsresol).zeros(3).u32(0);
  }
  return block(le, 1, w.finish());
}

function epb(le: boolean, iface: number, units: bigint, data: Uint8Array): Uint8Array {
  const w = new Writer(64);
  const hi = Number(units >> 32n);
  const lo = Number(units & 0xffffffffn);
  if (le) w.u32le(iface).u32le(hi).u32le(lo).u32le(data.length).u32le(data.length);
  else w.u32(iface).u32(hi).u32(lo).u32(data.length).u32(data.length);
  w.bytes(data).zeros((4 - (data.length & 3)) & 3);
  return block(le, 6, w.finish());
}

const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

describe('pcapng', () => {
  it('reads big-endian sections, several sections, per-interface link types and if_tsresol', () => {
    const bytes = cat(
      shb(false),
      idb(false, 1), // default resolution: microseconds
      idb(false, 101, 9), // nanoseconds
      epb(false, 0, 1_700_000_000_123_456n, fromHex('000102')),
      epb(false, 1, 1_700_000_000_987_654_321n, fromHex('45')),
      shb(true),
      idb(true, 113, 0x80 | 20), // 2^-20 s units
      epb(true, 0, (1_700_000_002n << 20n) | (1n << 19n), fromHex('0000')),
    );
    const c = readCapture(bytes);
    expect(c.format).toBe('pcapng');
    expect(c.linkTypes).toEqual([1, 101, 113]);
    expect(c.packets.map((p) => [p.interfaceId, p.linkType, formatTime(p.ts), toHex(p.data)])).toEqual([
      [0, 1, '1700000000.123456000', '000102'],
      [1, 101, '1700000000.987654321', '45'],
      [2, 113, '1700000002.500000000', '0000'],
    ]);
    expect(c.notes).toEqual([]);
    expect(toHex(writeCapture(c))).toBe(toHex(bytes));
  });

  it('skips SPB, NRB, ISB and custom blocks with a note naming type and offset, and keeps them for writing', () => {
    const le = true;
    const head = cat(shb(le), idb(le, 1));
    const spb = block(le, 3, fromHex('04000000deadbeef'));
    const nrb = block(le, 4, fromHex('00000000'));
    const isb = block(le, 5, fromHex('00000000000000000000000000000000'));
    const custom = block(le, 0x40000bad, fromHex('0000a0b0'));
    const pkt = epb(le, 0, 1n, fromHex('11'));
    const bytes = cat(head, spb, nrb, pkt, isb, custom);
    const c = readCapture(bytes);
    expect(c.packets.length).toBe(1);
    let off = head.length;
    expect(c.notes).toEqual([
      `skipped block type 0x00000003 (Simple Packet Block) at offset ${off}`,
      `skipped block type 0x00000004 (Name Resolution Block) at offset ${(off += spb.length)}`,
      `skipped block type 0x00000005 (Interface Statistics Block) at offset ${(off += nrb.length + pkt.length)}`,
      `skipped block type 0x40000bad (Custom Block) at offset ${(off += isb.length)}`,
    ]);
    expect(toHex(writeCapture(c))).toBe(toHex(bytes));
  });

  it('writePcapng output is read back with the same packets (and tshark reads it: see docs)', () => {
    const pkts = [
      { ts: { sec: 1, nsec: 5 }, data: fromHex('01020304050607'), interfaceId: 1 },
      { ts: { sec: 2, nsec: 0 }, data: fromHex('ff'), origLen: 1500 },
    ];
    for (const nanosecond of [false, true]) {
      for (const byteOrder of ['le', 'be'] as const) {
        const bytes = writePcapng(pkts, [{ linkType: 1 }, { linkType: 101, snapLen: 9000 }], { nanosecond, byteOrder });
        const c = readCapture(bytes);
        expect(c.linkTypes).toEqual([1, 101]);
        expect(c.packets.map((p) => [p.interfaceId, p.linkType, formatTime(p.ts), toHex(p.data), p.origLen])).toEqual([
          [1, 101, nanosecond ? '1.000000005' : '1.000000000', '01020304050607', 7],
          [0, 1, '2.000000000', 'ff', 1500],
        ]);
        expect(toHex(encodePcapng(decodePcapng(bytes)))).toBe(toHex(bytes));
      }
    }
  });

  it('a packet for an undescribed interface or a bad trailer ends the file with a note', () => {
    const bad = cat(shb(true), idb(true, 1), epb(true, 0, 0n, fromHex('01')), epb(true, 3, 0n, fromHex('02')));
    const c = readCapture(bad);
    expect(c.packets.length).toBe(1);
    expect(c.notes[0]).toMatch(/pcapng\.epb\.interfaceId .*interface 3 has no Interface Description Block/);
    expect(toHex(writeCapture(c))).toBe(toHex(bad));

    const trailer = cat(shb(true), idb(true, 1));
    trailer[trailer.length - 1] = 0x99;
    const t = readCapture(trailer);
    expect(t.notes[0]).toMatch(/lengthTrailer/);
  });

  it('a bad byte-order magic throws DecodeError', () => {
    const b = shb(true);
    b[8] = 0;
    expect(() => readCapture(b)).toThrow(DecodeError);
  });
});

describe('totality: no exception but DecodeError, for any bytes', () => {
  // Deterministic PRNG so a failure can be reproduced.
  const rnd = rng(12345);
  const seeds = [
    load('bgp-extended-msg.pcapng'),
    load('vxlan.pcap'),
    writePcapng([{ ts: { sec: 1, nsec: 1 }, data: fromHex('0102') }], 1, { byteOrder: 'be', nanosecond: true }),
  ];
  it('mutated and truncated captures decode or fail with DecodeError, and whatever decodes round-trips', () => {
    for (let i = 0; i < 3000; i++) {
      const base = seeds[i % seeds.length]!;
      const b = Uint8Array.from(base.subarray(0, randInt(rnd, base.length + 1)));
      const flips = randInt(rnd, 6);
      for (let k = 0; k < flips && b.length; k++) b[randInt(rnd, b.length)] = randInt(rnd, 256);
      try {
        const c = readCapture(b);
        // Round trip holds for whatever decoded, except non-zero pcapng padding (not kept).
        if (c.format === 'pcap') expect(toHex(encodePcap(c.file))).toBe(toHex(b));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
  });
});
