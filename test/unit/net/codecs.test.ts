/** Edge cases of each net codec: errors name the field and the absolute offset. */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../codecs/util/errors.js';
import { fromHex, toHex } from '../../../codecs/util/hex.js';
import {
  DHCP_MAGIC_COOKIE,
  MPLS_IN_UDP_PORT,
  decodeArp,
  decodeDhcp,
  decodeEthernet,
  decodeGre,
  decodeIcmp,
  decodeIpv4,
  decodeIpv6,
  decodeMpls,
  decodeTcp,
  decodeUdp,
  decodeVxlan,
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeIpv6,
  encodeMplsInUdp,
  encodeTcp,
  encodeUdp,
  etherTypeName,
  flowHash,
  greChecksumOk,
  guessMplsPayload,
  ipProtocolName,
  isMplsInUdpPort,
  mplsInUdpSourcePort,
  parseIpv4Options,
  udpChecksum,
  udpChecksumOk,
} from '../../../codecs/net/index.js';

function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

/** The bytes after `pad` filler bytes, to show that error offsets are absolute. */
function at(pad: number, hex: string): Uint8Array {
  const b = fromHex(hex);
  const out = new Uint8Array(pad + b.length).fill(0xee);
  out.set(b, pad);
  return out;
}

// 20-byte IPv4 header: total length 0x20, TTL 64, UDP, 10.0.0.1 -> 10.0.0.2, checksum 0x66ca
// (computed independently with Python's struct: ~(0x4500+0x20+1+0x4011+0xa00+1+0xa00+2)).
const IPV4_HDR = '45000020000100004011' + '66ca' + '0a0000010a000002';

describe('ethernet', () => {
  it('reads stacked 802.1ad + 802.1Q tags and re-encodes them', () => {
    const f = fromHex('ffffffffffff020000000001' + '88a8' + '6064' + '8100' + 'b0c8' + '0800' + 'abcd');
    const e = decodeEthernet(f);
    expect(e.tags).toEqual([
      { tpid: 0x88a8, pcp: 3, dei: false, vid: 100 },
      { tpid: 0x8100, pcp: 5, dei: true, vid: 200 },
    ]);
    expect(e.etherType).toBe(0x0800);
    expect(toHex(encodeEthernet(e))).toBe(toHex(f));
  });
  it('fails on a tag that runs out of bytes, at the absolute offset', () => {
    const e = decodeError(() => decodeEthernet(at(5, 'ffffffffffff020000000001' + '8100' + '00'), 5));
    expect([e.field, e.offset]).toEqual(['ethernet.vlan.tci', 19]);
  });
  it('an 802.3 length beyond the capture is truncated, not an error', () => {
    const e = decodeEthernet(fromHex('0180c2000000020000000001' + '0064' + '424203'));
    expect(e).toMatchObject({ length: 100, truncated: true });
    expect(e.payload.length).toBe(3);
    expect(toHex(encodeEthernet(e))).toBe('0180c2000000020000000001' + '0064' + '424203');
  });
  it('builds an 802.3 frame with the length worked out', () => {
    const b = encodeEthernet({ dst: '01:80:c2:00:00:00', src: '02:00:00:00:00:01', payload: fromHex('424203'), trailer: new Uint8Array(2) });
    expect(toHex(b.subarray(12))).toBe('0003' + '424203' + '0000');
  });
});

describe('arp', () => {
  it('keeps non-Ethernet/IPv4 addresses raw', () => {
    // htype 6 (IEEE 802), ptype 0x86dd with 16-byte protocol addresses.
    const hex = '0006' + '86dd' + '06' + '10' + '0001' + '020000000001' + '20010db8000000000000000000000001' + '000000000000' + '20010db8000000000000000000000002';
    const a = decodeArp(fromHex(hex));
    expect(a.sha).toBeInstanceOf(Uint8Array);
    expect(toHex(a.tpa as Uint8Array)).toBe('20010db8000000000000000000000002');
    expect(toHex(encodeArp(a))).toBe(hex);
  });
  it('fails when an address is cut', () => {
    expect(decodeError(() => decodeArp(fromHex('0001080006040001' + '0200000000')))).toMatchObject({ field: 'arp.sha', offset: 8 });
  });
});

describe('ipv4', () => {
  it('IHL below 5 and totalLength below the header are errors with their offsets', () => {
    expect(decodeError(() => decodeIpv4(at(3, '44' + IPV4_HDR.slice(2)), 3))).toMatchObject({ field: 'ipv4.ihl', offset: 3 });
    expect(decodeError(() => decodeIpv4(at(3, '4500' + '0013' + IPV4_HDR.slice(8)), 3))).toMatchObject({ field: 'ipv4.totalLength', offset: 5 });
    expect(decodeError(() => decodeIpv4(fromHex('6000')))).toMatchObject({ field: 'ipv4.version', offset: 0 });
    expect(decodeError(() => decodeIpv4(fromHex(IPV4_HDR.slice(0, 30))))).toMatchObject({ field: 'ipv4.src', offset: 12 });
  });
  it('keeps a wrong checksum, reports it, and writes it back', () => {
    const hex = IPV4_HDR.slice(0, 20) + 'beef' + IPV4_HDR.slice(24) + '0035003500' + '0c' + '0000aabbccdd';
    const p = decodeIpv4(fromHex(hex));
    expect(p).toMatchObject({ checksum: 0xbeef, checksumOk: false, totalLength: 32, truncated: false });
    expect(toHex(encodeIpv4(p))).toBe(hex);
    const fixed = decodeIpv4(encodeIpv4({ ...p, checksum: undefined }));
    expect(fixed).toMatchObject({ checksum: 0x66ca, checksumOk: true });
    expect(decodeIpv4(fromHex(IPV4_HDR + '00'.repeat(12))).checksumOk).toBe(true);
  });
  it('keeps bytes after totalLength as the trailer', () => {
    const hex = IPV4_HDR + '0035003500' + '0c' + '0000aabbccdd' + '000000000000';
    const p = decodeIpv4(fromHex(hex));
    expect(p.payload.length).toBe(12);
    expect(toHex(p.trailer)).toBe('000000000000');
    expect(toHex(encodeIpv4(p))).toBe(hex);
  });
  it('parses the timestamp option with addresses (flag 1)', () => {
    // type 68, length 12, pointer 13 (full), overflow 0 flag 1, one (address, timestamp) pair.
    const opts = fromHex('440c0d01' + '0a000001' + '00000064');
    expect(parseIpv4Options(opts, 0, 12)).toEqual([
      { type: 'ts', kind: 68, length: 12, pointer: 13, overflow: 0, flag: 1, entries: [{ address: '10.0.0.1', timestamp: 100 }] },
    ]);
  });
  it('an option length below 2 or past the header is an error', () => {
    expect(decodeError(() => parseIpv4Options(fromHex('0101' + '8801'), 0, 4))).toMatchObject({ field: 'ipv4.options[2].length', offset: 3 });
    expect(decodeError(() => parseIpv4Options(fromHex('07' + '27' + '04'), 0, 3)).field).toBe('ipv4.options[0].length');
  });
  it('an option whose length does not fit its layout is kept as unknown', () => {
    expect(parseIpv4Options(fromHex('9403' + '00' + '00'), 0, 4)).toEqual([
      { type: 'unknown', kind: 148, length: 3, data: Uint8Array.of(0) },
      { type: 'eol' },
    ]);
  });
});

describe('ipv6', () => {
  it('decodes the fixed header and re-encodes it', () => {
    const hex = '6b812345' + '0004' + '11' + '40' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002' + 'deadbeef' + '0000';
    const p = decodeIpv6(fromHex(hex));
    expect(p).toMatchObject({ trafficClass: 0xb8, flowLabel: 0x12345, payloadLength: 4, nextHeader: 17, hopLimit: 64, src: '2001:db8::1', dst: '2001:db8::2', truncated: false });
    expect(toHex(p.trailer)).toBe('0000');
    expect(toHex(encodeIpv6(p))).toBe(hex);
  });
  it('a payload length beyond the capture is truncated', () => {
    const p = decodeIpv6(fromHex('60000000' + '0100' + '3b' + '01' + '00'.repeat(32) + 'aa'));
    expect(p).toMatchObject({ truncated: true, payloadLength: 256 });
    expect(decodeError(() => decodeIpv6(fromHex('4500')))).toMatchObject({ field: 'ipv6.version' });
  });
});

describe('icmp', () => {
  it('keeps the second word of a non-echo message (fragmentation needed, MTU 1400)', () => {
    const m = encodeIcmp({ type: 3, code: 4, restOfHeader: 1400, data: fromHex(IPV4_HDR) });
    const d = decodeIcmp(m);
    expect(d).toMatchObject({ type: 3, code: 4, restOfHeader: 1400, checksumOk: true });
    expect(d.identifier).toBeUndefined();
    expect(toHex(encodeIcmp(d))).toBe(toHex(m));
  });
  it('needs the whole 8-byte header', () => {
    expect(decodeError(() => decodeIcmp(fromHex('0800f7ff0001')))).toMatchObject({ field: 'icmp.sequence', offset: 6 });
  });
});

describe('udp', () => {
  it('length below 8 is an error; past the capture is truncation; short of it leaves a trailer', () => {
    expect(decodeError(() => decodeUdp(at(2, '0035003500070000'), 2))).toMatchObject({ field: 'udp.length', offset: 6 });
    expect(decodeUdp(fromHex('003500350010000001'))).toMatchObject({ truncated: true, length: 16 });
    const u = decodeUdp(fromHex('0035003500090000' + 'aa' + 'bbcc'));
    expect(toHex(u.payload)).toBe('aa');
    expect(toHex(u.trailer)).toBe('bbcc');
  });
  it('checksums over the IPv4 pseudo-header, as in the RFC 768 layout', () => {
    const d = encodeUdp({ srcPort: 1234, dstPort: 53, payload: fromHex('0102') }, { src: '10.0.0.1', dst: '10.0.0.2' });
    // 0xe5ce computed independently (Python struct over pseudo-header + datagram).
    expect(toHex(d.subarray(6, 8))).toBe('e5ce');
    expect(udpChecksum('10.0.0.1', '10.0.0.2', d)).toBe(0xe5ce);
    expect(udpChecksumOk('10.0.0.1', '10.0.0.2', d)).toBe(true);
    expect(udpChecksumOk('10.0.0.1', '10.0.0.3', d)).toBe(false);
  });
});

describe('tcp', () => {
  const base = '9c40' + '00b3' + '00000001' + '00000000';
  it('data offset below 5 is an error at byte 12', () => {
    expect(decodeError(() => decodeTcp(at(4, base + '4002' + 'ffff00000000'), 4))).toMatchObject({ field: 'tcp.dataOffset', offset: 16 });
  });
  it('an option running past the header is an error naming it', () => {
    expect(decodeError(() => decodeTcp(fromHex(base + '6002' + 'ffff00000000' + '0101' + '0208')))).toMatchObject({ field: 'tcp.options[2].length' });
    expect(decodeError(() => decodeTcp(fromHex(base + '6002' + 'ffff00000000' + '1e01' + '0000'))).field).toBe('tcp.options[0].length');
  });
  it('parses SACK blocks and TCP-AO, and keeps a misfit MSS as unknown', () => {
    const opts = '0101' + '0512' + '0000000a' + '00000014' + '0000001e' + '00000028' + '1d08' + '0709' + 'aabbccdd' + '0203' + '05' + '00';
    const hl = 20 + opts.length / 2;
    const hex = base + (hl / 4).toString(16) + '0' + '10' + 'ffff00000000' + opts + 'cafe';
    const t = decodeTcp(fromHex(hex));
    expect(t.options).toEqual([
      { type: 'nop' },
      { type: 'nop' },
      { type: 'sack', blocks: [{ left: 10, right: 20 }, { left: 30, right: 40 }] },
      { type: 'tcp-ao', keyId: 7, rNextKeyId: 9, mac: fromHex('aabbccdd') },
      { type: 'unknown', kind: 2, data: fromHex('05') },
      { type: 'eol' },
    ]);
    expect(toHex(t.payload)).toBe('cafe');
    expect(toHex(encodeTcp(t))).toBe(hex);
  });
});

describe('gre', () => {
  it('computes and verifies the RFC 2784 checksum; RFC 2890 key and sequence', () => {
    const g = encodeGre({ protocolType: 0x0800, checksumPresent: true, key: 0x01020304, sequence: 9, payload: fromHex(IPV4_HDR) });
    expect(toHex(g.subarray(0, 4))).toBe('b0000800');
    const d = decodeGre(g);
    expect(d).toMatchObject({ checksumPresent: true, keyPresent: true, sequencePresent: true, key: 0x01020304, sequence: 9, reserved1: 0, checksumOk: true });
    expect(greChecksumOk(g)).toBe(true);
    const bad = Uint8Array.from(g);
    bad[bad.length - 1]! ^= 1;
    expect(decodeGre(bad).checksumOk).toBe(false);
    expect(greChecksumOk(fromHex('00000800'))).toBeUndefined();
  });
  it('keeps reserved0 bits and the version for round trip', () => {
    const hex = '4081' + '880b' + 'aabb';
    const d = decodeGre(fromHex(hex));
    expect(d).toMatchObject({ reserved0: 0x4080, version: 1, checksumPresent: false });
    expect(toHex(encodeGre(d))).toBe(hex);
  });
  it('fails on a missing key', () => {
    expect(decodeError(() => decodeGre(fromHex('20006558' + '0000')))).toMatchObject({ field: 'gre.key', offset: 4 });
  });
});

describe('mpls', () => {
  it('reading past the end before S=1 is an error naming the label', () => {
    expect(decodeError(() => decodeMpls(at(1, '00010040' + '00020040' + '0003'), 1))).toMatchObject({ field: 'mpls.labels[2]', offset: 9 });
  });
  it('guesses the payload from the first nibble', () => {
    expect(guessMplsPayload(fromHex('45'))).toBe('ipv4');
    expect(guessMplsPayload(fromHex('60'))).toBe('ipv6');
    expect(guessMplsPayload(fromHex('00000000'))).toBe('ethernet');
    expect(guessMplsPayload(fromHex('f0'))).toBe('unknown');
    expect(guessMplsPayload(new Uint8Array(0))).toBe('unknown');
  });
});

describe('vxlan', () => {
  it('keeps the reserved fields', () => {
    const v = decodeVxlan(fromHex('0c000001' + '00138801' + 'ab'));
    expect(v).toMatchObject({ flags: 0x0c, reserved1: 1, vni: 5000, reserved2: 1 });
    expect(decodeError(() => decodeVxlan(fromHex('08000000')))).toMatchObject({ field: 'vxlan.vni', offset: 4 });
  });
});

describe('mpls-in-udp', () => {
  it('builds the datagram to 6635 with a label stack and, given IPs, a good checksum', () => {
    const d = encodeMplsInUdp({ srcPort: 50000, labels: [{ label: 100 }, { label: 200, ttl: 1 }], payload: fromHex(IPV4_HDR) });
    const u = decodeUdp(d);
    expect(u).toMatchObject({ srcPort: 50000, dstPort: MPLS_IN_UDP_PORT, length: 8 + 8 + 20, checksum: 0 });
    expect(toHex(u.payload.subarray(0, 8))).toBe('00064040' + '000c8101');
    const c = encodeMplsInUdp({ srcPort: 50000, dstPort: 51234, labels: [{ label: 100 }], payload: fromHex('45'), srcIp: '10.0.0.1', dstIp: '10.0.0.2' });
    expect(udpChecksumOk('10.0.0.1', '10.0.0.2', c)).toBe(true);
    expect(isMplsInUdpPort(51234) && isMplsInUdpPort(6635) && !isMplsInUdpPort(4789)).toBe(true);
  });
  it('entropy source ports stay in 49152-65535 and follow the flow', () => {
    expect(mplsInUdpSourcePort(0)).toBe(49152);
    expect(mplsInUdpSourcePort(16383)).toBe(65535);
    expect(mplsInUdpSourcePort(0xffffffff)).toBeLessThanOrEqual(65535);
    const a = flowHash({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 6, srcPort: 1000, dstPort: 80 });
    expect(flowHash({ src: Uint8Array.of(10, 1, 1, 1), dst: '10.2.2.2', protocol: 6, srcPort: 1000, dstPort: 80 })).toBe(a);
    expect(flowHash({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 6, srcPort: 1001, dstPort: 80 })).not.toBe(a);
  });
  it('spreads connections whose source ports are all even (as Linux gives connect()) over two ECMP members', () => {
    const members = [0, 0];
    for (let sp = 40000; sp < 40400; sp += 2) members[flowHash({ src: '10.47.255.236', dst: '10.105.137.227', protocol: 6, srcPort: sp, dstPort: 8888 }) % 2]!++;
    expect(Math.min(...members)).toBeGreaterThan(70);
  });
});

describe('dhcp', () => {
  const fixed = (cookie: string) =>
    '01010600' + '00000001' + '00000000' + '00000000'.repeat(4) + '020000000001' + '00'.repeat(10) + '00'.repeat(64 + 128) + cookie;
  it('plain BOOTP without a cookie keeps the tail as padding', () => {
    const m = decodeDhcp(fromHex(fixed('') + '0000'));
    expect(m.magicCookie).toBeUndefined();
    expect(m.padding.length).toBe(2);
    expect(toHex(encodeDhcp(m))).toBe(fixed('') + '0000');
  });
  it('keeps PAD, unknown options and bytes after END', () => {
    const hex = fixed('63825363') + '00' + '350101' + 'fa03010203' + '3d0701020000000001' + 'ff' + '0000';
    const m = decodeDhcp(fromHex(hex));
    expect(m.magicCookie).toBe(DHCP_MAGIC_COOKIE);
    expect(m.options.map((o) => o.code)).toEqual([0, 53, 250, 61, 255]);
    expect(m.options[2]).toEqual({ code: 250, data: fromHex('010203') });
    expect(m.options[3]!.value).toEqual({ type: 1, id: fromHex('020000000001') });
    expect(toHex(m.padding)).toBe('0000');
    expect(toHex(encodeDhcp(m))).toBe(hex);
  });
  it('an option running past the end is an error naming it', () => {
    expect(decodeError(() => decodeDhcp(fromHex(fixed('63825363') + '350101' + '0c05616263')))).toMatchObject({ field: 'dhcp.options[1].data', offset: 245 });
  });
});

describe('layers', () => {
  it('names EtherTypes and protocols, with a fallback', () => {
    expect(etherTypeName(0x8847)).toBe('MPLS');
    expect(etherTypeName(0x1234)).toBe('0x1234');
    expect(ipProtocolName(47)).toBe('GRE');
    expect(ipProtocolName(253)).toBe('253');
  });
});
