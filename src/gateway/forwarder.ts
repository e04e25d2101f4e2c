/**
 * The SDN gateway's forwarding core (sans-IO): what the MX does for VRF k8s-test in the book.
 *
 *   Internet -> FIP:  Ethernet frame the kernel routed into the TAP (table 100: FIP pool dev
 *                     weft-gw0) -> longest-prefix match in the VRF routes -> one ECMP member by
 *                     the inner 5-tuple hash -> IPv4(local -> next hop) / GRE 0x8847 /
 *                     MPLS(label, S=1, TTL = inner TTL) / inner packet.
 *   fabric -> Internet: IPv4 / GRE / MPLS as read from the raw GRE socket -> the label must be
 *                     the one the gateway advertised (one label for the VRF, as Junos
 *                     vrf-table-label) and the inner destination one of its advertised
 *                     prefixes -> Ethernet(to the TAP's MAC) / inner packet, which the kernel
 *                     then routes to the Internet host (iif weft-gw0 -> table 100).
 *
 * The kernel already decremented the TTL when it routed the packet into the TAP, and does so
 * again on the way out of it, so nothing here touches the inner header. Every outcome is one
 * action; malformed input is a counted drop (the vRouter's reasons), never an exception.
 */
import { EtherType, IpProtocol, decodeEthernet, decodeGre, decodeIpv4, decodeMpls, encodeEthernet, flowHash } from '../../codecs/net/index.js';
import type { Ipv4Packet } from '../../codecs/net/index.js';
import { isDecodeError } from '../../codecs/util/errors.js';
import { ipv4ToInt, parsePrefix, maskOf } from '../vrouter/addr.js';
import { DropReason, emptyDropStats, type DropStats } from '../vrouter/drops.js';
import { encapsulate } from '../vrouter/encap.js';
import type { TunnelNextHop } from '../vrouter/nexthop.js';
import { Ipv4RouteTable } from '../vrouter/route-table.js';
import type { RouteEntry, VpnPath } from './gobgp-rib.js';

export interface ForwarderOptions {
  /** The tunnel end point (the gateway loopback): outer source, and the only outer destination accepted. */
  localAddress: string;
  /** The label of the gateway's own advertised routes. */
  label: number;
  /** The advertised prefixes: inner destinations that label may carry. */
  accept: readonly string[];
  /** Destination MAC of frames written to the TAP (its own, so the kernel takes them). */
  tapMac: string;
  /** Source MAC of those frames. */
  routerMac?: string;
}

export type GatewayAction =
  | { type: 'fabric'; dst: string; packet: Uint8Array; path: PathState }
  | { type: 'tap'; frame: Uint8Array }
  | { type: 'drop'; reason: DropReason; detail: string };

export interface PathState {
  path: VpnPath;
  nh: TunnelNextHop;
  packets: number;
  bytes: number;
}

interface Installed {
  prefix: string;
  members: PathState[];
}

export interface GatewayCounters {
  internet: { rx: number; toFabric: number };
  fabric: { rx: number; toInternet: number };
  drops: DropStats;
  /** The last few drops, newest last: reason and why. */
  lastDrops: string[];
}

export interface RouteView {
  prefix: string;
  paths: { nexthop: string; label: number; rd: string; localPref: number; med: number; rts: string[]; packets: number; bytes: number }[];
}

/** Source MAC of the frames written into the TAP: the kernel only checks the destination; a fixed one is easy to spot in a capture. */
export const DEFAULT_ROUTER_MAC = '00:00:5e:00:02:04';
const LAST_DROPS = 16;

function l4Ports(ip: Ipv4Packet): { sport: number; dport: number } {
  const p = ip.payload;
  if (ip.mf || ip.fragmentOffset !== 0) return { sport: 0, dport: 0 };
  if ((ip.protocol === IpProtocol.TCP || ip.protocol === IpProtocol.UDP) && p.length >= 4) {
    return { sport: (p[0]! << 8) | p[1]!, dport: (p[2]! << 8) | p[3]! };
  }
  // An echo's identifier is its flow's "port", as the vRouter keys it.
  if (ip.protocol === IpProtocol.ICMP && p.length >= 8 && (p[0] === 8 || p[0] === 0)) return { sport: (p[4]! << 8) | p[5]!, dport: 0 };
  return { sport: 0, dport: 0 };
}

export class GatewayForwarder {
  readonly counters: GatewayCounters = {
    internet: { rx: 0, toFabric: 0 },
    fabric: { rx: 0, toInternet: 0 },
    drops: emptyDropStats(),
    lastDrops: [],
  };
  private table = new Ipv4RouteTable();
  private installed: Installed[] = [];
  private readonly accept: { addr: number; mask: number }[];
  private readonly routerMac: string;

  constructor(private readonly opts: ForwarderOptions) {
    this.accept = opts.accept.map((p) => {
      const { addr, plen } = parsePrefix(p);
      return { addr, mask: maskOf(plen) };
    });
    this.routerMac = opts.routerMac ?? DEFAULT_ROUTER_MAC;
  }

  get label(): number {
    return this.opts.label;
  }

  /** Replaces the VRF routes; a path that stays keeps its counters. */
  setRoutes(routes: readonly RouteEntry[]): void {
    const old = new Map<string, PathState>();
    for (const r of this.installed) for (const m of r.members) old.set(`${r.prefix} ${m.path.nexthop}/${m.path.label}`, m);
    const table = new Ipv4RouteTable();
    const installed: Installed[] = [];
    for (const r of routes) {
      if (r.paths.length === 0) continue;
      const members = r.paths.map((path) => {
        const prev = old.get(`${r.prefix} ${path.nexthop}/${path.label}`);
        if (prev) {
          prev.path = path;
          return prev;
        }
        const nh: TunnelNextHop = { id: 0, vrf: 0, policy: false, type: 'tunnel', encapType: 'MPLSoGRE', oif: 0, l2: new Uint8Array(0), sip: this.opts.localAddress, dip: path.nexthop };
        return { path, nh, packets: 0, bytes: 0 };
      });
      table.add({ prefix: r.prefix, nh: installed.length });
      installed.push({ prefix: r.prefix, members });
    }
    this.table = table;
    this.installed = installed;
  }

  routes(): RouteView[] {
    return this.installed.map((r) => ({
      prefix: r.prefix,
      paths: r.members.map((m) => ({
        nexthop: m.path.nexthop,
        label: m.path.label,
        rd: m.path.rd,
        localPref: m.path.localPref,
        med: m.path.med,
        rts: m.path.rts,
        packets: m.packets,
        bytes: m.bytes,
      })),
    }));
  }

  /** A frame read from the TAP: an Internet host's packet to a floating IP. */
  fromInternet(frame: Uint8Array): GatewayAction {
    this.counters.internet.rx++;
    try {
      const eth = decodeEthernet(frame);
      if (eth.etherType !== EtherType.IPV4 || eth.tags.length > 0) {
        return this.drop(DropReason.InvalidProtocol, `from the Internet: EtherType ${eth.etherType ?? 'none'}${eth.tags.length ? ' tagged' : ''}`);
      }
      const ipStart = frame.length - eth.payload.length;
      const ip = decodeIpv4(frame, ipStart);
      const bad = ipProblem(ip);
      if (bad) return this.drop(DropReason.InvalidPacket, `from the Internet: ${bad}`);
      if (ip.ttl === 0) return this.drop(DropReason.TtlExceeded, `from the Internet: ${ip.src} -> ${ip.dst}`);
      const route = this.table.lookup(ipv4ToInt(ip.dst));
      if (!route) return this.drop(DropReason.NoRoute, `${ip.dst} in the VRF`);
      const members = this.installed[route.nh]!.members;
      const { sport, dport } = l4Ports(ip);
      const m = members.length === 1 ? members[0]! : members[flowHash({ src: ip.src, dst: ip.dst, protocol: ip.protocol, srcPort: sport, dstPort: dport }) % members.length]!;
      const inner = frame.subarray(ipStart, ipStart + ip.totalLength);
      const pkt = encapsulate(m.nh, m.path.label, 0, inner, ip.ttl, { dst: this.routerMac, src: this.routerMac });
      m.packets++;
      m.bytes += inner.length;
      this.counters.internet.toFabric++;
      return { type: 'fabric', dst: m.path.nexthop, packet: pkt.bytes, path: m };
    } catch (e) {
      return this.failed('from the Internet', e);
    }
  }

  /** A datagram from the raw GRE socket (outer IPv4 header included, as the kernel gives it). */
  fromFabric(datagram: Uint8Array): GatewayAction {
    this.counters.fabric.rx++;
    try {
      const outer = decodeIpv4(datagram);
      const bad = ipProblem(outer);
      if (bad) return this.drop(DropReason.InvalidPacket, `outer ${bad}`);
      if (outer.protocol !== IpProtocol.GRE) return this.drop(DropReason.InvalidProtocol, `outer protocol ${outer.protocol}`);
      if (outer.dst !== this.opts.localAddress) return this.drop(DropReason.InvalidPacket, `GRE to ${outer.dst}, not the tunnel end point ${this.opts.localAddress}`);
      const gre = decodeGre(outer.payload);
      if (gre.version !== 0) return this.drop(DropReason.InvalidProtocol, `GRE version ${gre.version} from ${outer.src}`);
      if (gre.checksumPresent && gre.checksumOk === false) return this.drop(DropReason.InvalidPacket, `GRE checksum from ${outer.src}`);
      if (gre.protocolType !== EtherType.MPLS) return this.drop(DropReason.InvalidProtocol, `GRE protocol 0x${gre.protocolType.toString(16)} from ${outer.src}`);
      const mpls = decodeMpls(gre.payload);
      const top = mpls.labels[0]!;
      if (mpls.labels.length !== 1 || top.label !== this.opts.label) {
        return this.drop(DropReason.InvalidLabel, `label ${mpls.labels.map((l) => l.label).join('/')} from ${outer.src}`);
      }
      const p = mpls.payload;
      if (p.length === 0 || p[0]! >> 4 !== 4) return this.drop(DropReason.InvalidProtocol, `label ${top.label} carries no IPv4 (from ${outer.src})`);
      const ip = decodeIpv4(p);
      const ibad = ipProblem(ip);
      if (ibad) return this.drop(DropReason.InvalidPacket, `inner ${ibad} (from ${outer.src})`);
      if (!this.accepts(ipv4ToInt(ip.dst))) return this.drop(DropReason.NoRoute, `${ip.dst} is not behind label ${top.label} (from ${outer.src})`);
      const frame = encodeEthernet({ dst: this.opts.tapMac, src: this.routerMac, etherType: EtherType.IPV4, payload: p.subarray(0, ip.totalLength) });
      this.counters.fabric.toInternet++;
      return { type: 'tap', frame };
    } catch (e) {
      return this.failed('from the fabric', e);
    }
  }

  private accepts(addr: number): boolean {
    for (const a of this.accept) if (((addr & a.mask) >>> 0) === a.addr) return true;
    return false;
  }

  private failed(where: string, e: unknown): GatewayAction {
    if (isDecodeError(e)) return this.drop(DropReason.InvalidPacket, `${where}: ${e.message}`);
    return this.drop(DropReason.InternalError, `${where}: ${e instanceof Error ? e.message : String(e)}`);
  }

  private drop(reason: DropReason, detail: string): GatewayAction {
    this.counters.drops[reason]++;
    const l = this.counters.lastDrops;
    l.push(`${reason}: ${detail}`);
    if (l.length > LAST_DROPS) l.shift();
    return { type: 'drop', reason, detail };
  }
}

function ipProblem(ip: Ipv4Packet): string | undefined {
  if (ip.truncated) return `ipv4 total length ${ip.totalLength} beyond the packet`;
  if (!ip.checksumOk) return 'ipv4 header checksum';
  return undefined;
}
