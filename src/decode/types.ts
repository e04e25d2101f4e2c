/**
 * The values `weft decode` produces, one per captured packet. docs/decode-json.md describes
 * their JSON form; keep the two in step.
 */

/** A malformed layer: what DecodeError said, ready for JSON. */
export interface LayerError {
  /** Dotted path of the field, e.g. `bgp.update.attr[3].length`. */
  field: string;
  /**
   * Byte offset. For packet layers (eth..dhcp) it counts from the start of the frame; for
   * bgp from the start of the message, for xmpp from the start of the unit.
   */
  offset: number;
  reason: string;
  /** BGP only: the NOTIFICATION the malformation maps to. */
  notification?: { code: number; subcode: number; data?: Uint8Array };
}

export interface PacketError {
  layer: string;
  error: LayerError;
}

/**
 * One protocol layer. `layer` is tshark's protocol name (eth, vlan, arp, ip, ipv6, icmp, udp,
 * tcp, gre, mpls, vxlan, dhcp, bgp, xmpp; sll, sll2, null, ppp for capture headers; data for
 * bytes nothing claimed). The other keys are the layer's fields.
 */
export interface Layer {
  layer: string;
  [field: string]: unknown;
}

export interface DecodedPacket {
  /** 1-based, as tshark numbers frames. */
  frame: number;
  /** Epoch seconds with nine decimals. */
  ts: string;
  caplen: number;
  len: number;
  /** Index of the capture interface (pcapng) the packet came from. */
  interfaceId: number;
  linkType: number;
  layers: Layer[];
  errors: PacketError[];
}

export type TcpApp = 'bgp' | 'xmpp';
export type UdpApp = 'mpls' | 'vxlan' | 'dhcp';

/** `--decode-as tcp.port==N,bgp` and friends. */
export type DecodeAsRule =
  | { transport: 'tcp'; port: number; app: TcpApp }
  | { transport: 'udp'; port: number; app: UdpApp };

export interface DecodeOptions {
  decodeAs?: DecodeAsRule[];
}
