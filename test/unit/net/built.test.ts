/**
 * Frames built with the encoders (checksums and lengths left to them) must decode with good
 * checksums, and tshark must read them as well-formed with the values we put in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../codecs/util/hex.js';
import {
  DhcpMessageType,
  DhcpOptionCode,
  decodeDhcp,
  decodeIpv4,
  dhcpClientMac,
  dhcpOption,
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeIpv6,
  encodeMpls,
  encodeMplsInUdp,
  encodeTcp,
  encodeUdp,
  encodeVxlan,
  flowHash,
  greChecksumOk,
  mplsInUdpSourcePort,
  tcpChecksumOk,
  udpChecksumOk,
  type DhcpOptionInput,
} from '../../../codecs/net/index.js';
import { writePcap } from './pcap-frames.js';
import { dissect, layersOf, rebuild } from './stack.js';
import { CHECKSUM_PREFS, tsharkFields } from './tshark.js';

const MAC_A = '02:00:00:00:00:01';
const MAC_B = '02:00:00:00:00:02';
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function eth(payload: Uint8Array, etherType = 0x0800, src = MAC_A, dst = MAC_B): Uint8Array {
  return encodeEthernet({ src, dst, etherType, payload });
}

function ipv4(src: string, dst: string, protocol: number, payload: Uint8Array, identification = 1): Uint8Array {
  return encodeIpv4({ src, dst, protocol, payload, identification, df: true, ttl: 64 });
}

function icmpEcho(src: string, dst: string, sequence: number): Uint8Array {
  return ipv4(src, dst, 1, encodeIcmp({ type: 8, identifier: 0x1234, sequence, data: text('weft-ping-payload') }));
}

function udp(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  return ipv4(src, dst, 17, encodeUdp({ srcPort, dstPort, payload }, { src, dst }));
}

const dhcpOptions = (type: number, extra: DhcpOptionInput[]): DhcpOptionInput[] => [
  { code: DhcpOptionCode.MESSAGE_TYPE, value: type },
  ...extra,
  { code: DhcpOptionCode.END },
];

const CLIENT_MAC = '02:42:ac:11:00:05';
const discover = encodeDhcp({
  op: 1,
  xid: 0x3903f326,
  flags: 0x8000,
  chaddr: CLIENT_MAC,
  options: dhcpOptions(DhcpMessageType.DISCOVER, [
    { code: DhcpOptionCode.CLIENT_ID, value: { type: 1, id: Uint8Array.of(0x02, 0x42, 0xac, 0x11, 0x00, 0x05) } },
    { code: DhcpOptionCode.REQUESTED_IP, value: '10.1.1.5' },
    { code: DhcpOptionCode.HOSTNAME, value: 'pod-a' },
    { code: DhcpOptionCode.PARAMETER_REQUEST_LIST, value: [1, 3, 6, 15, 26, 51, 58, 59] },
  ]),
  // Clients pad to the 300-byte BOOTP minimum.
  padding: new Uint8Array(300 - 240 - 3 - 9 - 6 - 7 - 10 - 1),
});
const offer = encodeDhcp({
  op: 2,
  xid: 0x3903f326,
  yiaddr: '10.1.1.5',
  siaddr: '10.1.1.1',
  chaddr: CLIENT_MAC,
  options: dhcpOptions(DhcpMessageType.OFFER, [
    { code: DhcpOptionCode.SERVER_ID, value: '10.1.1.1' },
    { code: DhcpOptionCode.LEASE_TIME, value: 86400 },
    { code: DhcpOptionCode.RENEWAL_TIME, value: 43200 },
    { code: DhcpOptionCode.REBINDING_TIME, value: 75600 },
    { code: DhcpOptionCode.SUBNET_MASK, value: '255.255.255.0' },
    { code: DhcpOptionCode.ROUTER, value: ['10.1.1.1'] },
    { code: DhcpOptionCode.DNS_SERVERS, value: ['10.1.1.2', '10.1.1.3'] },
    { code: DhcpOptionCode.DOMAIN_NAME, value: 'weft.local' },
    { code: DhcpOptionCode.MTU, value: 1450 },
  ]),
});

const tcpPayload = text('hello over tcp');
const tcpSegment = (src: string, dst: string): Uint8Array =>
  encodeTcp(
    {
      srcPort: 40000,
      dstPort: 8080,
      seq: 1000,
      ack: 2000,
      flags: { ack: true, psh: true },
      window: 502,
      options: [
        { type: 'nop' },
        { type: 'nop' },
        { type: 'timestamps', tsval: 123456, tsecr: 654321 },
        { type: 'nop' },
        { type: 'nop' },
        { type: 'sack', blocks: [{ left: 2100, right: 2200 }] },
      ],
      payload: tcpPayload,
    },
    { src, dst },
  );
const synSegment = (src: string, dst: string): Uint8Array =>
  encodeTcp(
    {
      srcPort: 40001,
      dstPort: 179,
      seq: 77,
      flags: { syn: true },
      window: 64240,
      options: [
        { type: 'mss', mss: 1460 },
        { type: 'sack-permitted' },
        { type: 'timestamps', tsval: 1, tsecr: 0 },
        { type: 'nop' },
        { type: 'window-scale', shift: 7 },
        { type: 'md5', digest: new Uint8Array(16).fill(0xab) },
      ],
      payload: new Uint8Array(0),
    },
    { src, dst },
  );

const innerPacket = icmpEcho('10.1.1.1', '10.2.2.2', 7);
const entropyPort = mplsInUdpSourcePort(flowHash({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 1 }));

/** name -> frame; the order is the pcap's. */
const FRAMES: [string, Uint8Array][] = [
  ['icmp', eth(icmpEcho('192.0.2.1', '192.0.2.2', 1))],
  ['ipv4-options', eth(encodeIpv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, ttl: 1, optionList: [
    { type: 'ra', kind: 148, length: 4, value: 0 },
    { type: 'rr', kind: 7, length: 11, pointer: 4, addresses: ['0.0.0.0', '0.0.0.0'] },
    { type: 'nop' },
    { type: 'eol' },
  ], payload: encodeIcmp({ type: 8, identifier: 9, sequence: 9, data: text('opts') }) }))],
  ['tcp', eth(ipv4('192.0.2.1', '192.0.2.2', 6, tcpSegment('192.0.2.1', '192.0.2.2')))],
  ['tcp-syn-md5', eth(ipv4('192.0.2.3', '192.0.2.4', 6, synSegment('192.0.2.3', '192.0.2.4')))],
  ['arp', eth(encodeArp({ op: 1, sha: MAC_A, spa: '192.0.2.1', tha: '00:00:00:00:00:00', tpa: '192.0.2.2', trailer: new Uint8Array(18) }), 0x0806, MAC_A, 'ff:ff:ff:ff:ff:ff')],
  ['dhcp-discover', eth(udp('0.0.0.0', '255.255.255.255', 68, 67, discover), 0x0800, CLIENT_MAC, 'ff:ff:ff:ff:ff:ff')],
  ['dhcp-offer', eth(udp('10.1.1.1', '10.1.1.5', 67, 68, offer), 0x0800, MAC_B, CLIENT_MAC)],
  ['vxlan', eth(udp('172.16.0.1', '172.16.0.2', 49153, 4789, encodeVxlan({ vni: 5000, payload: eth(innerPacket, 0x0800, '02:00:00:00:00:0a', '02:00:00:00:00:0b') })))],
  ['mpls-in-udp', eth(ipv4('172.16.0.1', '172.16.0.2', 17, encodeMplsInUdp({ srcPort: entropyPort, labels: [{ label: 16001 }], payload: innerPacket, srcIp: '172.16.0.1', dstIp: '172.16.0.2' })))],
  ['mpls-in-gre', eth(ipv4('172.16.0.1', '172.16.0.2', 47, encodeGre({ protocolType: 0x8847, checksumPresent: true, key: 42, sequence: 3,
    payload: encodeMpls({ labels: [{ label: 16002, tc: 5, ttl: 255 }, { label: 30 }], payload: innerPacket }) })))],
  ['qinq-udp', encodeEthernet({ src: MAC_A, dst: MAC_B, tags: [{ tpid: 0x88a8, pcp: 3, dei: false, vid: 100 }, { tpid: 0x8100, pcp: 5, dei: true, vid: 200 }], etherType: 0x0800,
    payload: udp('192.0.2.1', '192.0.2.2', 33000, 33001, text('tagged')) })],
  ['ipv6-udp', eth(encodeIpv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 17, flowLabel: 0x12345, trafficClass: 0xb8,
    payload: encodeUdp({ srcPort: 33000, dstPort: 33001, payload: text('six') }, { src: '2001:db8::1', dst: '2001:db8::2' }) }), 0x86dd)],
];
const frame = (name: string): Uint8Array => FRAMES.find(([n]) => n === name)![1];

describe('frames built with the encoders', () => {
  it('decode with every checksum good and rebuild to the same bytes', () => {
    for (const [name, f] of FRAMES) {
      const d = dissect(f);
      expect(d.error, name).toBeUndefined();
      expect(toHex(rebuild(d.layers)), name).toBe(toHex(f));
      for (const l of layersOf(d.layers, 'ipv4')) {
        expect(l.v.checksumOk, name).toBe(true);
        expect(l.v.truncated, name).toBe(false);
        if (l.v.protocol === 17) expect(udpChecksumOk(l.v.src, l.v.dst, l.v.payload), name).toBe(true);
        if (l.v.protocol === 6) expect(tcpChecksumOk(l.v.src, l.v.dst, l.v.payload), name).toBe(true);
        if (l.v.protocol === 47) expect(greChecksumOk(l.v.payload), name).toBe(true);
      }
      for (const l of layersOf(d.layers, 'ipv6')) expect(udpChecksumOk(l.v.src, l.v.dst, l.v.payload), name).toBe(true);
      for (const l of layersOf(d.layers, 'icmp')) expect(l.v.checksumOk, name).toBe(true);
      for (const l of layersOf(d.layers, 'gre')) if (l.v.checksumPresent) expect(l.v.checksumOk, name).toBe(true);
    }
  });

  it('computes the RFC 1071 IPv4 header checksum (RFC 791 example header bytes)', () => {
    // 4500 0073 0000 4000 4011 xxxx c0a8 0001 c0a8 00c7: the widely used worked example, 0xb861.
    const p = encodeIpv4({ src: '192.168.0.1', dst: '192.168.0.199', protocol: 17, ttl: 64, df: true, identification: 0, totalLength: 0x73, payload: new Uint8Array(0) });
    expect(toHex(p.subarray(10, 12))).toBe('b861');
    expect(decodeIpv4(p).checksumOk).toBe(true);
  });

  it('DHCP typed views read back what was built', () => {
    const d = decodeDhcp(discover);
    expect(discover.length).toBe(300);
    expect(dhcpClientMac(d)).toBe(CLIENT_MAC);
    expect(dhcpOption(d, DhcpOptionCode.MESSAGE_TYPE)).toBe(1);
    expect(dhcpOption(d, DhcpOptionCode.PARAMETER_REQUEST_LIST)).toEqual([1, 3, 6, 15, 26, 51, 58, 59]);
    expect(dhcpOption(d, DhcpOptionCode.HOSTNAME)).toBe('pod-a');
    expect(d.options.map((o) => o.code)).toEqual([53, 61, 50, 12, 55, 255]);
    const o = decodeDhcp(offer);
    expect(o.yiaddr).toBe('10.1.1.5');
    expect(dhcpOption(o, DhcpOptionCode.DNS_SERVERS)).toEqual(['10.1.1.2', '10.1.1.3']);
    expect(dhcpOption(o, DhcpOptionCode.LEASE_TIME)).toBe(86400);
    expect(dhcpOption(o, DhcpOptionCode.MTU)).toBe(1450);
    expect(o.padding.length).toBe(0);
  });

  it('puts the MPLSoUDP entropy port in 49152-65535', () => {
    expect(entropyPort).toBeGreaterThanOrEqual(49152);
    expect(entropyPort).toBeLessThanOrEqual(65535);
  });
});

describe('tshark reads the built frames', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-net-'));
  const file = join(dir, 'built.pcap');
  writePcap(file, FRAMES.map(([, f]) => f));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fields = [
    'frame.protocols',
    '_ws.malformed',
    '_ws.expert.severity',
    '_ws.expert.message',
    'ip.checksum.status',
    'udp.checksum.status',
    'tcp.checksum.status',
    'icmp.checksum.status',
    'gre.checksum.status',
    'vxlan.vni',
    'mpls.label',
    'mpls.exp',
    'mpls.bottom',
    'mpls.ttl',
    'gre.key',
    'gre.sequence_number',
    'udp.srcport',
    'dhcp.option.dhcp',
    'dhcp.option.requested_ip_address',
    'dhcp.option.dhcp_server_id',
    'dhcp.option.ip_address_lease_time',
    'dhcp.option.domain_name_server',
    'dhcp.option.hostname',
    'dhcp.hw.mac_addr',
    'tcp.option_kind',
    'tcp.options.sack_le',
    'tcp.options.timestamp.tsval',
    'tcp.len',
    'arp.opcode',
    'arp.dst.proto_ipv4',
    'ieee8021ad.id',
    'ieee8021ad.priority',
    'vlan.id',
    'vlan.priority',
    'vlan.dei',
    'ipv6.flow',
    'ipv6.tclass',
    'ip.opt.type',
    'ip.hdr_len',
  ];
  const rows = tsharkFields(file, fields, CHECKSUM_PREFS);
  const row = (name: string): Record<string, string> => rows[FRAMES.findIndex(([n]) => n === name)]!;

  it('finds nothing malformed and nothing of warning severity or worse', () => {
    expect(rows.length).toBe(FRAMES.length);
    rows.forEach((r, i) => {
      const name = FRAMES[i]![0];
      expect(r['_ws.malformed'], name).toBe('');
      const severities = r['_ws.expert.severity'] ? r['_ws.expert.severity'].split(',').map(Number) : [];
      for (const s of severities) expect(s, `${name}: ${r['_ws.expert.message']}`).toBeLessThan(0x00600000);
    });
  });

  it('verifies every checksum as good (status 1)', () => {
    const good = (v: string): void => expect(v.split(',').every((s) => s === '1'), v).toBe(true);
    for (const [name] of FRAMES) {
      const r = row(name);
      for (const f of ['ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', 'icmp.checksum.status', 'gre.checksum.status']) {
        if (r[f]) good(r[f]!);
      }
    }
    expect(row('icmp')['icmp.checksum.status']).toBe('1');
    expect(row('tcp')['tcp.checksum.status']).toBe('1');
    expect(row('tcp-syn-md5')['tcp.checksum.status']).toBe('1');
    expect(row('dhcp-offer')['udp.checksum.status']).toBe('1');
    expect(row('vxlan')['ip.checksum.status']).toBe('1,1');
    expect(row('mpls-in-udp')['udp.checksum.status']).toBe('1');
    expect(row('mpls-in-gre')['gre.checksum.status']).toBe('1');
    expect(row('ipv6-udp')['udp.checksum.status']).toBe('1');
    expect(row('ipv4-options')['ip.checksum.status']).toBe('1');
  });

  it('sees the protocol stacks we built', () => {
    expect(row('vxlan')['frame.protocols']).toBe('eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data');
    expect(row('mpls-in-udp')['frame.protocols']).toBe('eth:ethertype:ip:udp:mpls:ip:icmp:data');
    expect(row('mpls-in-gre')['frame.protocols']).toBe('eth:ethertype:ip:gre:mpls:ip:icmp:data');
    expect(row('dhcp-discover')['frame.protocols']).toBe('eth:ethertype:ip:udp:dhcp');
    expect(row('arp')['frame.protocols']).toBe('eth:ethertype:arp');
    expect(row('qinq-udp')['frame.protocols']).toBe('eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp:data');
    expect(row('ipv6-udp')['frame.protocols']).toBe('eth:ethertype:ipv6:udp:data');
  });

  it('reads the values we encoded', () => {
    expect(row('vxlan')['vxlan.vni']).toBe('5000');
    expect(row('mpls-in-udp')['mpls.label']).toBe('16001');
    expect(row('mpls-in-udp')['udp.srcport']).toBe(String(entropyPort));
    expect(row('mpls-in-gre')).toMatchObject({ 'mpls.label': '16002,30', 'mpls.exp': '5,0', 'mpls.bottom': '0,1', 'mpls.ttl': '255,64', 'gre.key': '0x0000002a', 'gre.sequence_number': '3' });
    expect(row('dhcp-discover')).toMatchObject({ 'dhcp.option.dhcp': '1', 'dhcp.option.requested_ip_address': '10.1.1.5', 'dhcp.option.hostname': 'pod-a', 'dhcp.hw.mac_addr': `${CLIENT_MAC},${CLIENT_MAC}` });
    expect(row('dhcp-offer')).toMatchObject({ 'dhcp.option.dhcp': '2', 'dhcp.option.dhcp_server_id': '10.1.1.1', 'dhcp.option.ip_address_lease_time': '86400', 'dhcp.option.domain_name_server': '10.1.1.2,10.1.1.3' });
    // tshark prints SACK edges relative to the peer's ISN, which it takes as ack - 1 = 1999.
    expect(row('tcp')).toMatchObject({ 'tcp.option_kind': '1,1,8,1,1,5', 'tcp.options.sack_le': '101', 'tcp.options.timestamp.tsval': '123456', 'tcp.len': String(tcpPayload.length) });
    // 38 option bytes: the encoder zero-pads 2, which tshark lists as two EOLs.
    expect(row('tcp-syn-md5')['tcp.option_kind']).toBe('2,4,8,1,3,19,0,0');
    expect(row('arp')).toMatchObject({ 'arp.opcode': '1', 'arp.dst.proto_ipv4': '192.0.2.2' });
    // tshark files the 0x88a8 outer tag under ieee8021ad and the 0x8100 inner one under vlan.
    expect(row('qinq-udp')).toMatchObject({ 'ieee8021ad.id': '100', 'ieee8021ad.priority': '3', 'vlan.id': '200', 'vlan.priority': '5', 'vlan.dei': '1' });
    expect(row('ipv6-udp')).toMatchObject({ 'ipv6.flow': '0x012345', 'ipv6.tclass': '0x000000b8' });
    expect(row('ipv4-options')['ip.hdr_len']).toBe('40');
    expect(row('ipv4-options')['ip.opt.type']).toBe('148,7,1,0');
  });
});

describe('built frames, directly', () => {
  it('the TCP encoder pads options to a word and decodes them back', () => {
    const tcp = layersOf(dissect(frame('tcp-syn-md5')).layers, 'tcp')[0]!.v;
    expect(tcp.dataOffset).toBe(15);
    // The first pad byte reads as EOL; the second is padding after it.
    expect(tcp.options[tcp.options.length - 1]).toEqual({ type: 'eol' });
    expect(toHex(tcp.padding)).toBe('00');
    expect(tcp.options.map((o) => o.type)).toEqual(['mss', 'sack-permitted', 'timestamps', 'nop', 'window-scale', 'md5', 'eol']);
    expect(tcp.flags.syn).toBe(true);
  });

  it('the IPv4 option list decodes back to what was encoded', () => {
    const ip = layersOf(dissect(frame('ipv4-options')).layers, 'ipv4')[0]!.v;
    // 17 option bytes, zero-padded to 20.
    expect(ip.ihl).toBe(10);
    expect(toHex(ip.options.subarray(17))).toBe('000000');
    expect(ip.optionList).toEqual([
      { type: 'ra', kind: 148, length: 4, value: 0 },
      { type: 'rr', kind: 7, length: 11, pointer: 4, addresses: ['0.0.0.0', '0.0.0.0'] },
      { type: 'nop' },
      { type: 'eol' },
    ]);
  });
});
