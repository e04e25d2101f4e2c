import type { RouteDistinguisher } from '../rd.js';

export interface NlriOptions {
  /** RFC 7911: a 4-byte path identifier precedes each NLRI. */
  addPath?: boolean;
  /** Labels per labeled NLRI (RFC 8277 Multiple Labels capability count); default 1. */
  maxLabels?: number;
  /** Dotted path used in DecodeError fields, default 'bgp.nlri' (gives 'bgp.nlri[2].length'). */
  field?: string;
}

/**
 * One 3-byte label field (RFC 3032 layout without TTL). `value`, `tc` and `bottom` hold all
 * 24 bits, so the encoder builds the field from them; `raw` is the field as one number for
 * reading it whole (EVPN carries a 24-bit VNI there, withdrawals a compatibility value).
 */
export interface MplsLabel {
  value: number;
  tc?: number;
  bottom: boolean;
  raw?: number;
}

/** Plain IPv4/IPv6 unicast or multicast prefix (SAFI 1, 2). */
export interface PrefixNlri {
  kind: 'prefix';
  pathId?: number;
  /** '10.1.1.0/24'; host bits are kept as sent ('10.1.1.5/24') so the bytes round-trip. */
  prefix: string;
}

/** Labeled unicast (SAFI 4, RFC 8277). */
export interface LabeledNlri {
  kind: 'labeled';
  pathId?: number;
  labels: MplsLabel[];
  prefix: string;
}

/** VPNv4 / VPNv6 (SAFI 128, RFC 4364 / RFC 4659). */
export interface VpnNlri {
  kind: 'vpn';
  pathId?: number;
  labels: MplsLabel[];
  rd: RouteDistinguisher;
  prefix: string;
}

/** Route target membership (AFI 1 SAFI 132, RFC 4684). */
export interface RtcNlri {
  kind: 'rtc';
  pathId?: number;
  /** Prefix length in bits: 0 (default route) or 32..96. */
  length: number;
  /** Absent for the default route. */
  originAs?: number;
  /** The route-target bytes present (length - 32 bits, rounded up; partial bytes as sent). */
  routeTarget: Uint8Array;
  /** Text of a full 8-byte route target ('64512:10000'); informational, the encoder ignores it. */
  rt?: string;
}

export interface EvpnCommon {
  kind: 'evpn';
  pathId?: number;
}

/** ESI as 10 colon-separated lower-case hex bytes, like tshark prints it. */
export type Esi = string;

export interface EvpnEthernetAd extends EvpnCommon {
  routeType: 1;
  rd: RouteDistinguisher;
  esi: Esi;
  ethernetTag: number;
  label: MplsLabel;
}

export interface EvpnMacIp extends EvpnCommon {
  routeType: 2;
  rd: RouteDistinguisher;
  esi: Esi;
  ethernetTag: number;
  mac: string;
  /** Absent when the IP address length is 0. */
  ip?: string;
  label1: MplsLabel;
  label2?: MplsLabel;
}

export interface EvpnInclusiveMulticast extends EvpnCommon {
  routeType: 3;
  rd: RouteDistinguisher;
  ethernetTag: number;
  originatorIp: string;
}

export interface EvpnEthernetSegment extends EvpnCommon {
  routeType: 4;
  rd: RouteDistinguisher;
  esi: Esi;
  originatorIp: string;
}

/** RFC 9136 IP prefix route. */
export interface EvpnIpPrefix extends EvpnCommon {
  routeType: 5;
  rd: RouteDistinguisher;
  esi: Esi;
  ethernetTag: number;
  /** Full address as carried (4 or 16 bytes) and the prefix length: '10.9.8.0/24'. */
  prefix: string;
  gateway: string;
  label: MplsLabel;
}

/** A route type this codec does not know: the bytes after the length, as sent. */
export interface EvpnUnknownRoute extends EvpnCommon {
  routeType: number;
  raw: Uint8Array;
}

export type EvpnNlri = EvpnEthernetAd | EvpnMacIp | EvpnInclusiveMulticast | EvpnEthernetSegment | EvpnIpPrefix | EvpnUnknownRoute;

/** Family this codec does not decode: the whole remaining NLRI field, as sent. */
export interface UnknownNlri {
  kind: 'unknown';
  raw: Uint8Array;
}

export type Nlri = PrefixNlri | LabeledNlri | VpnNlri | RtcNlri | EvpnNlri | UnknownNlri;
