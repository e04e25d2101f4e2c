/** Numbers that say what the next layer is: EtherTypes, IP protocol numbers, well-known ports. */

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  /** Transparent Ethernet Bridging: Ethernet inside GRE (NVGRE, gretap). */
  TEB: 0x6558,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  /** Cisco MetaData (SGT) shim, seen inside GRE in various_gre.pcap. */
  CISCO_METADATA: 0x8909,
  /** Pre-802.1ad QinQ TPID still sent by some switches. */
  QINQ_LEGACY: 0x9100,
  /** Ethernet configuration testing protocol (loopback). */
  LOOP: 0x9000,
} as const;

export const ETHERTYPE_NAMES: Readonly<Record<number, string>> = {
  0x0800: 'IPv4',
  0x0806: 'ARP',
  0x6558: 'Transparent Ethernet Bridging',
  0x8100: '802.1Q VLAN',
  0x86dd: 'IPv6',
  0x8847: 'MPLS',
  0x8848: 'MPLS multicast',
  0x88a8: '802.1ad QinQ',
  0x88cc: 'LLDP',
  0x8909: 'Cisco MetaData',
  0x9100: 'QinQ (legacy)',
  0x9000: 'Loopback',
};

export const IpProtocol = {
  HOPOPT: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
  OSPF: 89,
  PIM: 103,
  VRRP: 112,
  SCTP: 132,
  MPLS_IN_IP: 137,
} as const;

export const IP_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'IPv6 Hop-by-Hop',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6 Routing',
  44: 'IPv6 Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'IPv6 No Next Header',
  60: 'IPv6 Destination Options',
  89: 'OSPF',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
  137: 'MPLS-in-IP',
};

/** Ports that select a decoder above UDP/TCP (the same bindings tshark uses by default). */
export const WellKnownPort = {
  BGP: 179,
  DHCP_SERVER: 67,
  DHCP_CLIENT: 68,
  VXLAN: 4789,
  MPLS_IN_UDP: 6635,
  XMPP_CLIENT: 5222,
  XMPP_SERVER: 5269,
} as const;

export function etherTypeName(type: number): string {
  return ETHERTYPE_NAMES[type] ?? `0x${type.toString(16).padStart(4, '0')}`;
}

export function ipProtocolName(protocol: number): string {
  return IP_PROTOCOL_NAMES[protocol] ?? String(protocol);
}
