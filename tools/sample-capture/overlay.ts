/**
 * The data-plane part of the sample capture: pod traffic between two compute nodes in each of
 * the vRouter's encapsulations (MPLSoUDP, MPLSoGRE, VXLAN), and what a pod sees of its vRouter
 * on the wire (ARP for the gateway answered with the vRouter MAC, DHCP).
 */
import {
  ArpOp,
  DhcpMessageType,
  DhcpOptionCode,
  EtherType,
  IcmpType,
  IpProtocol,
  MPLS_IN_UDP_PORT,
  VXLAN_PORT,
  encodeArp,
  encodeDhcp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeMpls,
  encodeMplsInUdp,
  encodeTcp,
  encodeVxlan,
  flowHash,
  mplsInUdpSourcePort,
  tcpFlagsValue,
  type DhcpOptionInput,
} from '../../codecs/net/index.js';
import { ethernetIpv4, hex, type FrameList, type Host, type TsharkFields } from './frames.js';

const COMPUTE1: Host = { mac: '02:00:c0:00:02:0b', ip: '192.0.2.11' };
const COMPUTE2: Host = { mac: '02:00:c0:00:02:0c', ip: '192.0.2.12' };
const POD_A: Host = { mac: '02:8c:1a:00:00:03', ip: '10.10.0.3' };
const POD_B: Host = { mac: '02:8c:1a:00:00:04', ip: '10.10.0.4' };
/** The vRouter answers for the pod gateway with this MAC (VRRP-style 00:00:5e:00:01:00). */
const VROUTER_MAC = '00:00:5e:00:01:00';
const GATEWAY = '10.10.0.1';
const DNS = '10.10.0.2';
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

const PING_ID = 0x0d01;
const PING_DATA = new TextEncoder().encode('weft overlay ping 0123456789abcdef');

interface InnerPacket {
  ip: Uint8Array;
  src: Host;
  dst: Host;
  what: string;
  tshark: TsharkFields;
}

/** An echo request from pod A and B's reply, and a TCP SYN from A: one flow set per tunnel. */
function innerPackets(list: FrameList, seq: number, tcpSrcPort: number): InnerPacket[] {
  const echo = (type: number, src: Host, dst: Host, what: string): InnerPacket => ({
    ip: list.ipv4(src.ip, dst.ip, IpProtocol.ICMP, encodeIcmp({ type, identifier: PING_ID, sequence: seq, data: PING_DATA })),
    src,
    dst,
    what,
    tshark: { 'icmp.type': [String(type)], 'icmp.seq': [String(seq)], 'icmp.checksum.status': ['1'] },
  });
  const synFlags = { syn: true };
  const syn = encodeTcp(
    { srcPort: tcpSrcPort, dstPort: 80, seq: 0x5eed0000 + seq, flags: synFlags, window: 64240, options: [{ type: 'mss', mss: 1410 }], payload: new Uint8Array(0) },
    { src: POD_A.ip, dst: POD_B.ip },
  );
  return [
    echo(IcmpType.ECHO_REQUEST, POD_A, POD_B, 'ICMP echo request'),
    echo(IcmpType.ECHO_REPLY, POD_B, POD_A, 'ICMP echo reply'),
    {
      ip: list.ipv4(POD_A.ip, POD_B.ip, IpProtocol.TCP, syn),
      src: POD_A,
      dst: POD_B,
      what: 'TCP SYN',
      tshark: {
        'tcp.srcport': [String(tcpSrcPort)],
        'tcp.dstport': ['80'],
        'tcp.flags': [hex(tcpFlagsValue({ flags: synFlags }), 4)],
        'tcp.options.mss_val': ['1410'],
        'tcp.checksum.status': ['1'],
      },
    },
  ];
}

/** Pod A lives on compute 1, pod B on compute 2: which node a packet goes from and to. */
const nodeOf = (pod: Host): Host => (pod === POD_A ? COMPUTE1 : COMPUTE2);

function addMplsOverUdp(list: FrameList): void {
  const label = 16;
  for (const p of innerPackets(list, 1, 40001)) {
    const [from, to] = [nodeOf(p.src), nodeOf(p.dst)];
    // RFC 7510 section 3: the source port is the inner flow's entropy.
    const srcPort = mplsInUdpSourcePort(flowHash({ src: p.src.ip, dst: p.dst.ip, protocol: p.ip[9]! }));
    const udp = encodeMplsInUdp({ srcPort, labels: [{ label }], payload: p.ip, srcIp: from.ip, dstIp: to.ip });
    list.add(ethernetIpv4(from, to, list.ipv4(from.ip, to.ip, IpProtocol.UDP, udp)), `MPLSoUDP: ${p.what}`, {
      'ip.src': [from.ip, p.src.ip],
      'ip.dst': [to.ip, p.dst.ip],
      'udp.srcport': [String(srcPort)],
      'udp.dstport': [String(MPLS_IN_UDP_PORT)],
      'udp.checksum.status': ['1'],
      'mpls.label': [String(label)],
      'mpls.bottom': ['1'],
      'mpls.ttl': ['64'],
      ...p.tshark,
    });
  }
}

function addMplsOverGre(list: FrameList): void {
  const label = 17;
  for (const p of innerPackets(list, 2, 40002)) {
    const [from, to] = [nodeOf(p.src), nodeOf(p.dst)];
    const gre = encodeGre({ protocolType: EtherType.MPLS, payload: encodeMpls({ labels: [{ label }], payload: p.ip }) });
    list.add(ethernetIpv4(from, to, list.ipv4(from.ip, to.ip, IpProtocol.GRE, gre)), `MPLSoGRE: ${p.what}`, {
      'ip.src': [from.ip, p.src.ip],
      'ip.dst': [to.ip, p.dst.ip],
      'gre.proto': [hex(EtherType.MPLS, 4)],
      'mpls.label': [String(label)],
      'mpls.bottom': ['1'],
      ...p.tshark,
    });
  }
}

function addVxlan(list: FrameList): void {
  const vni = 5001;
  for (const p of innerPackets(list, 3, 40003)) {
    const [from, to] = [nodeOf(p.src), nodeOf(p.dst)];
    const inner = encodeEthernet({ dst: p.dst.mac, src: p.src.mac, etherType: EtherType.IPV4, payload: p.ip });
    const srcPort = mplsInUdpSourcePort(flowHash({ src: p.src.ip, dst: p.dst.ip, protocol: p.ip[9]! }));
    const udp = list.udp(from.ip, to.ip, srcPort, VXLAN_PORT, encodeVxlan({ vni, payload: inner }));
    list.add(ethernetIpv4(from, to, udp), `VXLAN: ${p.what}`, {
      'eth.src': [from.mac, p.src.mac],
      'eth.dst': [to.mac, p.dst.mac],
      'ip.src': [from.ip, p.src.ip],
      'udp.dstport': [String(VXLAN_PORT)],
      'udp.checksum.status': ['1'],
      'vxlan.flags': [hex(0x0800, 4)],
      'vxlan.vni': [String(vni)],
      ...p.tshark,
    });
  }
}

function addArp(list: FrameList): void {
  const frame = (src: string, dst: string, arp: Uint8Array) => encodeEthernet({ dst, src, etherType: EtherType.ARP, payload: arp });
  const zeroMac = '00:00:00:00:00:00';
  list.add(
    frame(POD_A.mac, BROADCAST_MAC, encodeArp({ op: ArpOp.REQUEST, sha: POD_A.mac, spa: POD_A.ip, tha: zeroMac, tpa: GATEWAY })),
    'ARP request: who has the gateway',
    { 'arp.opcode': ['1'], 'arp.src.hw_mac': [POD_A.mac], 'arp.src.proto_ipv4': [POD_A.ip], 'arp.dst.proto_ipv4': [GATEWAY] },
  );
  list.add(
    frame(VROUTER_MAC, POD_A.mac, encodeArp({ op: ArpOp.REPLY, sha: VROUTER_MAC, spa: GATEWAY, tha: POD_A.mac, tpa: POD_A.ip })),
    'ARP reply: the vRouter answers for the gateway',
    { 'arp.opcode': ['2'], 'arp.src.hw_mac': [VROUTER_MAC], 'arp.src.proto_ipv4': [GATEWAY], 'arp.dst.hw_mac': [POD_A.mac] },
  );
  // Gratuitous ARP (RFC 5227 section 3 announcement form: sender and target address equal).
  list.add(
    frame(VROUTER_MAC, BROADCAST_MAC, encodeArp({ op: ArpOp.REQUEST, sha: VROUTER_MAC, spa: GATEWAY, tha: zeroMac, tpa: GATEWAY })),
    'ARP gratuitous: the vRouter announces the gateway',
    { 'arp.opcode': ['1'], 'arp.src.hw_mac': [VROUTER_MAC], 'arp.isgratuitous': ['1'] },
  );
}

function addDhcp(list: FrameList): void {
  const xid = 0x3903f326;
  const leaseTime = 86400;
  const mask = '255.255.255.0';
  const clientId: DhcpOptionInput = { code: DhcpOptionCode.CLIENT_ID, value: { type: 1, id: Uint8Array.from(POD_A.mac.split(':').map((x) => parseInt(x, 16))) } };
  const prl: DhcpOptionInput = { code: DhcpOptionCode.PARAMETER_REQUEST_LIST, value: [1, 3, 6, 15, 26, 51] };
  const end: DhcpOptionInput = { code: DhcpOptionCode.END };
  const type = (t: number): DhcpOptionInput => ({ code: DhcpOptionCode.MESSAGE_TYPE, value: t });
  const serverOptions = (t: number): DhcpOptionInput[] => [
    type(t),
    { code: DhcpOptionCode.SERVER_ID, value: GATEWAY },
    { code: DhcpOptionCode.LEASE_TIME, value: leaseTime },
    { code: DhcpOptionCode.SUBNET_MASK, value: mask },
    { code: DhcpOptionCode.ROUTER, value: [GATEWAY] },
    { code: DhcpOptionCode.DNS_SERVERS, value: [DNS] },
    { code: DhcpOptionCode.DOMAIN_NAME, value: 'pods.example.net' },
    { code: DhcpOptionCode.MTU, value: 1450 },
    end,
  ];
  // Pad every message to the 300-byte BOOTP minimum (RFC 1542 section 3.3) as clients do.
  const bootp = (m: Parameters<typeof encodeDhcp>[0]): Uint8Array => {
    const b = encodeDhcp(m);
    return b.length >= 300 ? b : encodeDhcp({ ...m, padding: new Uint8Array(300 - b.length) });
  };
  const fromClient = (t: number, extra: DhcpOptionInput[]) => {
    const dhcp = bootp({ op: 1, xid, secs: 0, flags: 0, chaddr: POD_A.mac, options: [type(t), clientId, ...extra, prl, end] });
    const ip = list.udp('0.0.0.0', '255.255.255.255', 68, 67, dhcp);
    return encodeEthernet({ dst: BROADCAST_MAC, src: POD_A.mac, etherType: EtherType.IPV4, payload: ip });
  };
  const fromServer = (t: number) => {
    const dhcp = bootp({ op: 2, xid, flags: 0, yiaddr: POD_A.ip, chaddr: POD_A.mac, options: serverOptions(t) });
    return ethernetIpv4({ mac: VROUTER_MAC, ip: GATEWAY }, POD_A, list.udp(GATEWAY, POD_A.ip, 67, 68, dhcp));
  };
  const common = { 'dhcp.id': [hex(xid, 8)], 'dhcp.hw.mac_addr': [POD_A.mac], 'udp.checksum.status': ['1'] };
  // The client identifier option (61) holds the MAC too, and tshark shows it with the same field.
  const clientFields = { ...common, 'dhcp.hw.mac_addr': [POD_A.mac, POD_A.mac] };
  list.add(fromClient(DhcpMessageType.DISCOVER, []), 'DHCP DISCOVER', {
    ...clientFields,
    'dhcp.option.dhcp': [String(DhcpMessageType.DISCOVER)],
    'udp.srcport': ['68'],
    'udp.dstport': ['67'],
  });
  const serverFields = (t: number): TsharkFields => ({
    ...common,
    'dhcp.option.dhcp': [String(t)],
    'dhcp.ip.your': [POD_A.ip],
    'dhcp.option.dhcp_server_id': [GATEWAY],
    'dhcp.option.ip_address_lease_time': [String(leaseTime)],
    'dhcp.option.subnet_mask': [mask],
    'dhcp.option.router': [GATEWAY],
    'dhcp.option.domain_name_server': [DNS],
    'dhcp.option.interface_mtu': ['1450'],
  });
  list.add(fromServer(DhcpMessageType.OFFER), 'DHCP OFFER', serverFields(DhcpMessageType.OFFER));
  list.add(
    fromClient(DhcpMessageType.REQUEST, [
      { code: DhcpOptionCode.REQUESTED_IP, value: POD_A.ip },
      { code: DhcpOptionCode.SERVER_ID, value: GATEWAY },
    ]),
    'DHCP REQUEST',
    {
      ...clientFields,
      'dhcp.option.dhcp': [String(DhcpMessageType.REQUEST)],
      'dhcp.option.requested_ip_address': [POD_A.ip],
      'dhcp.option.dhcp_server_id': [GATEWAY],
    },
  );
  list.add(fromServer(DhcpMessageType.ACK), 'DHCP ACK', serverFields(DhcpMessageType.ACK));
}

export function addOverlay(list: FrameList): void {
  addDhcp(list);
  addArp(list);
  addMplsOverUdp(list);
  addMplsOverGre(list);
  addVxlan(list);
}
