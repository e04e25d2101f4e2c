/**
 * The packet path, sans-IO: `process(router, frame, ingressVif)` says what to do with one
 * frame (emit on a vif, send into a tunnel, hand to the host, drop with a reason) and updates
 * the router's flows and counters. It never throws: a malformed frame is a counted drop.
 *
 * From a pod: ARP is answered for the vRouter's addresses; IPv4 goes through the flow table
 * (first packet: policy, NAT, ECMP choice), then route -> next hop. From the fabric: MPLSoUDP
 * (6635, 51234), MPLSoGRE and VXLAN are decapsulated, label or VNI -> next hop -> flow -> pod.
 */
import {
  ArpOp,
  EtherType,
  IpProtocol,
  VXLAN_FLAG_I,
  VXLAN_PORT,
  decodeArp,
  decodeEthernet,
  decodeGre,
  decodeIpv4,
  decodeMpls,
  decodeUdp,
  decodeVxlan,
  isMplsInUdpPort,
  type Ipv4Packet,
} from '../../codecs/net/index.js';
import { isDecodeError } from '../../codecs/util/errors.js';
import { ipv4ToInt } from './addr.js';
import { arpAnswered, arpReply } from './arp.js';
import { DropReason } from './drops.js';
import { encapsulate } from './encap.js';
import { flowKeyHash, updateTcpState, type FlowAction, type FlowEntry, type FlowKey, type FlowRewrite } from './flow.js';
import type { TunnelEncap } from './nexthop.js';
import { applyNat, decrementTtl } from './packet-edit.js';
import type { FlowContext, FlowEgress, PolicyDecision } from './policy.js';
import type { Route } from './route-table.js';
import type { VRouter } from './router.js';
import type { Vif } from './vif.js';

export type Action =
  | { type: 'emit'; vif: number; bytes: Uint8Array }
  | {
      type: 'tunnel';
      encap: TunnelEncap;
      nh: number;
      src: string;
      dst: string;
      /** MPLS label, or the VNI for VXLAN. */
      label: number;
      srcPort?: number;
      /** The outer IPv4 datagram. */
      bytes: Uint8Array;
      /** Where the UDP payload starts in `bytes` (UDP encapsulations). */
      udpPayloadOffset?: number;
    }
  /** For the compute node's own stack or the agent: not overlay traffic, a Receive or a Resolve next hop. */
  | { type: 'host'; reason: 'receive' | 'resolve' | 'not-for-us'; vrf: number; bytes: Uint8Array }
  | { type: 'drop'; reason: DropReason; detail?: string };

/** Handles one frame received on vif `ingress`. */
export function processPacket(router: VRouter, frame: Uint8Array, ingress: number): Action[] {
  const vif = router.vifs.get(ingress);
  if (!vif) return [drop(router, undefined, DropReason.InvalidIf, `no vif ${ingress}`)];
  vif.stats.rxPackets++;
  vif.stats.rxBytes += frame.length;
  try {
    if (vif.type === 'virtual') return fromPod(router, vif, frame);
    if (vif.type === 'physical') return fromFabric(router, vif, frame);
    return [drop(router, vif, DropReason.InvalidIf, `vif ${ingress} is ${vif.type}`)];
  } catch (e) {
    if (isDecodeError(e)) return [drop(router, vif, DropReason.InvalidPacket, e.message)];
    return [drop(router, vif, DropReason.InternalError, e instanceof Error ? e.message : String(e))];
  }
}

export { processPacket as process };

/**
 * Entry points for a host whose kernel already took the outer headers apart: a UDP socket
 * hands over the UDP payload (MPLS label stack or VXLAN header) and the sender's address, a
 * raw GRE socket the whole IPv4 datagram. Same checks, counters and actions as a frame on
 * the fabric vif, without rebuilding outer headers the data plane would only parse again.
 */
export function processTunnelPayload(
  router: VRouter,
  encap: 'MPLSoUDP' | 'VXLAN',
  payload: Uint8Array,
  tunnelSrc: string,
  ingress = 0,
): Action[] {
  return fabricEntry(router, ingress, payload.length, (vif) =>
    encap === 'VXLAN' ? [vxlanIn(router, vif, payload, tunnelSrc)] : [mplsIn(router, vif, payload, tunnelSrc)],
  );
}

/** An IPv4 datagram received on the fabric without its link header (a raw IP socket's read). */
export function processFabricIp(router: VRouter, datagram: Uint8Array, ingress = 0): Action[] {
  return fabricEntry(router, ingress, datagram.length, (vif) => fromFabricIp(router, vif, datagram, 0, datagram));
}

function fabricEntry(router: VRouter, ingress: number, length: number, run: (vif: Vif) => Action[]): Action[] {
  const vif = router.vifs.get(ingress);
  if (!vif || vif.type !== 'physical') return [drop(router, vif, DropReason.InvalidIf, `vif ${ingress} is not a fabric vif`)];
  vif.stats.rxPackets++;
  vif.stats.rxBytes += length;
  try {
    return run(vif);
  } catch (e) {
    if (isDecodeError(e)) return [drop(router, vif, DropReason.InvalidPacket, e.message)];
    return [drop(router, vif, DropReason.InternalError, e instanceof Error ? e.message : String(e))];
  }
}

function drop(router: VRouter, vif: Vif | undefined, reason: DropReason, detail?: string): Action {
  router.drops[reason]++;
  if (vif) vif.stats.drops++;
  return detail === undefined ? { type: 'drop', reason } : { type: 'drop', reason, detail };
}

// ---------------------------------------------------------------------------------------
// From a pod

function fromPod(router: VRouter, vif: Vif, frame: Uint8Array): Action[] {
  let ipStart = 14;
  // Untagged IPv4, nearly every frame: its IP header starts at 14, no need to decode the MACs.
  if (frame.length < 14 || frame[12] !== 0x08 || frame[13] !== 0x00) {
    const eth = decodeEthernet(frame);
    if (eth.tags.length > 0) return [drop(router, vif, DropReason.InvalidProtocol, 'VLAN-tagged frame on a pod vif')];
    if (eth.etherType === EtherType.ARP) return [podArp(router, vif, eth.payload)];
    if (eth.etherType !== EtherType.IPV4) return [drop(router, vif, DropReason.InvalidProtocol, `EtherType ${eth.etherType ?? 'none'}`)];
    ipStart = frame.length - eth.payload.length;
  }
  const ip = decodeIpv4(frame, ipStart);
  const bad = ipProblem(ip);
  if (bad) return [drop(router, vif, DropReason.InvalidPacket, bad)];
  const l4 = l4Of(ip);
  if (typeof l4 === 'string') return [drop(router, vif, DropReason.InvalidPacket, l4)];
  const key: FlowKey = { vrf: vif.vrf, proto: ip.protocol, src: ip.src, dst: ip.dst, sport: l4.sport, dport: l4.dport };
  const e = flowFor(router, key, { kind: 'vif', vif: vif.index }, vif.nh ?? 0, undefined);
  if (typeof e === 'string') return [drop(router, vif, e)];
  const done = account(router, e, `${vif.index}.0.0.0`, frame.length - ip.trailer.length, ip, l4.tcpFlags);
  if (e.action.type === 'drop') return finish(router, e, done, [drop(router, vif, DropReason.FlowActionDrop, e.action.reason)]);
  if (ip.ttl <= 1) return finish(router, e, done, [drop(router, vif, DropReason.TtlExceeded)]);
  const out = frame.slice(ipStart, ipStart + ip.totalLength);
  decrementTtl(out);
  if (e.rewrite) applyNat(out, e.rewrite);
  const dst = e.rewrite ? e.rewrite.dst : key.dst;
  const route = router.vrfs.get(e.destVrf)?.routes.lookup(ipv4ToInt(dst));
  if (!route) return finish(router, e, done, [drop(router, vif, DropReason.NoRoute, `${dst} in VRF ${e.destVrf}`)]);
  return finish(router, e, done, [forward(router, vif, e, route.nh, route.label, out, false, route, 0)]);
}

function podArp(router: VRouter, vif: Vif, payload: Uint8Array): Action {
  const arp = decodeArp(payload);
  if (typeof arp.sha !== 'string' || typeof arp.spa !== 'string' || typeof arp.tpa !== 'string') {
    return drop(router, vif, DropReason.InvalidArp, 'not Ethernet/IPv4 ARP');
  }
  if (arp.op !== ArpOp.REQUEST) return drop(router, vif, DropReason.ArpNoWhereToGo, `ARP op ${arp.op}`);
  const req = { ...arp, sha: arp.sha, spa: arp.spa, tpa: arp.tpa };
  if (!arpAnswered(router, vif, req.tpa, req.spa)) return drop(router, vif, DropReason.ArpNoWhereToGo, `who-has ${req.tpa}`);
  return emit(router, vif.index, arpReply(router, req));
}

// ---------------------------------------------------------------------------------------
// From the fabric

function fromFabric(router: VRouter, vif: Vif, frame: Uint8Array): Action[] {
  const eth = decodeEthernet(frame);
  if (eth.etherType !== EtherType.IPV4 || eth.tags.length > 0) return [host('not-for-us', 0, frame)];
  return fromFabricIp(router, vif, frame, frame.length - eth.payload.length, frame);
}

/** `frame` from `ipStart` is the outer IPv4 datagram; `whole` is what goes to the host when it is not a tunnel. */
function fromFabricIp(router: VRouter, vif: Vif, frame: Uint8Array, ipStart: number, whole: Uint8Array): Action[] {
  const outer = decodeIpv4(frame, ipStart);
  if (outer.dst !== router.vhostIp) return [host('not-for-us', 0, whole)];
  const bad = ipProblem(outer);
  if (bad) return [drop(router, vif, DropReason.InvalidPacket, `outer ${bad}`)];
  if (outer.mf || outer.fragmentOffset !== 0) return [drop(router, vif, DropReason.InvalidPacket, 'fragmented tunnel packet')];
  const l4Start = ipStart + outer.ihl * 4;
  const l4End = l4Start + outer.payload.length;
  if (outer.protocol === IpProtocol.GRE) {
    const gre = decodeGre(frame, l4Start, l4End);
    if (gre.protocolType !== EtherType.MPLS) return [drop(router, vif, DropReason.InvalidProtocol, `GRE protocol ${gre.protocolType}`)];
    return [mplsIn(router, vif, gre.payload, outer.src)];
  }
  if (outer.protocol === IpProtocol.UDP) {
    const udp = decodeUdp(frame, l4Start, l4End);
    if (udp.truncated) return [drop(router, vif, DropReason.InvalidPacket, 'UDP length beyond the datagram')];
    if (isMplsInUdpPort(udp.dstPort)) return [mplsIn(router, vif, udp.payload, outer.src)];
    if (udp.dstPort === VXLAN_PORT) return [vxlanIn(router, vif, udp.payload, outer.src)];
  }
  return [host('not-for-us', 0, whole)];
}

function mplsIn(router: VRouter, vif: Vif, bytes: Uint8Array, tunnelSrc: string): Action {
  const mpls = decodeMpls(bytes);
  if (mpls.labels.length !== 1) return drop(router, vif, DropReason.InvalidLabel, `${mpls.labels.length} labels`);
  const label = mpls.labels[0]!.label;
  const nhId = router.mpls.lookup(label);
  const nh = nhId === undefined ? undefined : router.nhs.get(nhId);
  if (nhId === undefined || !nh) return drop(router, vif, DropReason.InvalidLabel, `label ${label}`);
  if (nh.type !== 'encap' && nh.type !== 'composite') return drop(router, vif, DropReason.InvalidNh, `label ${label} -> ${nh.type}`);
  return overlayIn(router, vif, mpls.payload, nh.vrf, nhId, tunnelSrc);
}

function vxlanIn(router: VRouter, vif: Vif, bytes: Uint8Array, tunnelSrc: string): Action {
  const vx = decodeVxlan(bytes);
  if ((vx.flags & VXLAN_FLAG_I) === 0) return drop(router, vif, DropReason.InvalidVnid, 'I flag clear');
  const vrf = router.vnis.lookup(vx.vni);
  if (vrf === undefined) return drop(router, vif, DropReason.InvalidVnid, `VNI ${vx.vni}`);
  const inner = decodeEthernet(vx.payload);
  if (inner.etherType !== EtherType.IPV4) return drop(router, vif, DropReason.InvalidProtocol, 'VXLAN payload not IPv4');
  return overlayIn(router, vif, inner.payload, vrf, undefined, tunnelSrc);
}

/** The inner IP packet of a tunnel, in `vrf`; `labelNh` is where its label pointed (none for VXLAN). */
function overlayIn(router: VRouter, vif: Vif, inner: Uint8Array, vrf: number, labelNh: number | undefined, tunnelSrc: string): Action {
  const ip = decodeIpv4(inner);
  const bad = ipProblem(ip);
  if (bad) return drop(router, vif, DropReason.InvalidPacket, `inner ${bad}`);
  const l4 = l4Of(ip);
  if (typeof l4 === 'string') return drop(router, vif, DropReason.InvalidPacket, l4);
  const key: FlowKey = { vrf, proto: ip.protocol, src: ip.src, dst: ip.dst, sport: l4.sport, dport: l4.dport };
  let keyNh = labelNh;
  if (keyNh === undefined) keyNh = router.vrfs.get(vrf)?.routes.lookup(ipv4ToInt(ip.dst))?.nh ?? 0;
  const e = flowFor(router, key, { kind: 'fabric', tunnelSrc }, keyNh, labelNh);
  if (typeof e === 'string') return drop(router, vif, e);
  const done = account(router, e, tunnelSrc, ip.totalLength, ip, l4.tcpFlags);
  if (e.action.type === 'drop') return finish(router, e, done, [drop(router, vif, DropReason.FlowActionDrop, e.action.reason)])[0]!;
  const out = inner.slice(0, ip.totalLength);
  if (e.rewrite) applyNat(out, e.rewrite);
  // A label names the interface; only VXLAN (a VRF) needs a route lookup.
  let nh = labelNh;
  let route: Route | undefined;
  if (nh === undefined) {
    const dst = e.rewrite ? e.rewrite.dst : key.dst;
    route = router.vrfs.get(e.destVrf)?.routes.lookup(ipv4ToInt(dst));
    if (!route) return finish(router, e, done, [drop(router, vif, DropReason.NoRoute, `${dst} in VRF ${e.destVrf}`)])[0]!;
    nh = route.nh;
  }
  return finish(router, e, done, [forward(router, vif, e, nh, route?.label, out, true, route, 0)])[0]!;
}

// ---------------------------------------------------------------------------------------
// Shared: flows and next hops

function host(reason: 'receive' | 'resolve' | 'not-for-us', vrf: number, bytes: Uint8Array): Action {
  return { type: 'host', reason, vrf, bytes };
}

function emit(router: VRouter, index: number, bytes: Uint8Array): Action {
  const out = router.vifs.get(index);
  if (out) {
    out.stats.txPackets++;
    out.stats.txBytes += bytes.length;
  }
  return { type: 'emit', vif: index, bytes };
}

function ipProblem(ip: Ipv4Packet): string | undefined {
  if (ip.truncated) return `ipv4 total length ${ip.totalLength} beyond the frame`;
  if (!ip.checksumOk) return 'ipv4 header checksum';
  return undefined;
}

interface L4 {
  sport: number;
  dport: number;
  tcpFlags: number;
}

/** Ports (or ICMP echo identifier) for the flow key; a reason string when the header is short. */
function l4Of(ip: Ipv4Packet): L4 | string {
  const p = ip.payload;
  if (ip.mf || ip.fragmentOffset !== 0) return { sport: 0, dport: 0, tcpFlags: 0 };
  switch (ip.protocol) {
    case IpProtocol.TCP:
      if (p.length < 20) return `TCP header cut at ${p.length} bytes`;
      return { sport: (p[0]! << 8) | p[1]!, dport: (p[2]! << 8) | p[3]!, tcpFlags: p[13]! };
    case IpProtocol.UDP:
      if (p.length < 8) return `UDP header cut at ${p.length} bytes`;
      return { sport: (p[0]! << 8) | p[1]!, dport: (p[2]! << 8) | p[3]!, tcpFlags: 0 };
    case IpProtocol.ICMP: {
      if (p.length < 8) return `ICMP header cut at ${p.length} bytes`;
      const id = (p[4]! << 8) | p[5]!;
      // Request and reply must key as the two directions of one flow.
      if (p[0] === 8) return { sport: id, dport: 0, tcpFlags: 0 };
      if (p[0] === 0) return { sport: 0, dport: id, tcpFlags: 0 };
      return { sport: 0, dport: 0, tcpFlags: 0 };
    }
    default:
      return { sport: 0, dport: 0, tcpFlags: 0 };
  }
}

/** The flow entry for a packet, creating the pair on a first packet; a DropReason when none can be. */
function flowFor(
  router: VRouter,
  key: FlowKey,
  ingress: FlowContext['ingress'],
  keyNh: number,
  labelNh: number | undefined,
): FlowEntry | DropReason {
  const found = router.flows.lookup(key);
  if (found) return found;
  const routeIn = (vrf: number, ip: string): Route | undefined => router.vrfs.get(vrf)?.routes.lookup(ipv4ToInt(ip));
  const egress = egressOf(router, labelNh ?? routeIn(key.vrf, key.dst)?.nh, flowKeyHash(key));
  const d: PolicyDecision = router.policy({ key, ingress, routeIn, ...(egress ? { egress } : {}) });
  let action: FlowAction;
  let revAction: FlowAction;
  let rewrite: FlowRewrite | undefined;
  let revRewrite: FlowRewrite | undefined;
  let destVrf = key.vrf;
  let revVrf: number;
  let revDestVrf = key.vrf;
  if (d.action === 'drop') {
    action = { type: 'drop', reason: d.reason };
    revAction = { type: 'drop', reason: 'Unknown' };
    revVrf = key.vrf;
  } else if (d.action === 'forward') {
    action = revAction = { type: 'forward' };
    destVrf = d.destVrf ?? key.vrf;
    revVrf = destVrf;
  } else {
    rewrite = { src: d.src ?? key.src, dst: d.dst ?? key.dst, sport: d.sport ?? key.sport, dport: d.dport ?? key.dport };
    revRewrite = { src: key.dst, dst: key.src, sport: key.dport, dport: key.sport };
    const snat = rewrite.src !== key.src;
    const dnat = rewrite.dst !== key.dst;
    const spat = rewrite.sport !== key.sport;
    const dpat = rewrite.dport !== key.dport;
    action = { type: 'nat', snat, dnat, spat, dpat };
    revAction = { type: 'nat', snat: dnat, dnat: snat, spat: dpat, dpat: spat };
    destVrf = d.destVrf ?? key.vrf;
    revVrf = d.reverseVrf ?? destVrf;
    revDestVrf = d.reverseDestVrf ?? key.vrf;
  }
  const post = rewrite ?? { src: key.src, dst: key.dst, sport: key.sport, dport: key.dport };
  const revKey: FlowKey = { vrf: revVrf, proto: key.proto, src: post.dst, dst: post.src, sport: post.dport, dport: post.sport };
  const fwdDstNh = labelNh ?? routeIn(destVrf, post.dst)?.nh;
  const revDstNh = routeIn(revDestVrf, key.src)?.nh;
  const fwdInit = {
    key,
    action,
    destVrf,
    keyNh,
    // RPF: the way back to the source, i.e. where the reply is routed.
    rpfNh: revDstNh ?? 0,
    ecmpMembers: ecmpSize(router, fwdDstNh),
    ...(rewrite ? { rewrite } : {}),
  };
  const revInit = {
    key: revKey,
    action: revAction,
    destVrf: revDestVrf,
    keyNh,
    rpfNh: routeIn(destVrf, post.dst)?.nh ?? 0,
    ecmpMembers: ecmpSize(router, revDstNh),
    ...(revRewrite ? { rewrite: revRewrite } : {}),
  };
  const pair = router.flows.createPair(fwdInit, revInit, router.clock());
  if (!pair) return DropReason.FlowTableFull;
  return pair[0];
}

/**
 * The next hop an untranslated packet of the flow leaves by: a Composite's member is the one
 * the flow entry will keep (FlowTable: hash of the key modulo the member count), so the
 * policy sees the same choice the forwarding makes.
 */
function egressOf(router: VRouter, nhId: number | undefined, hash: number): FlowEgress | undefined {
  if (nhId === undefined) return undefined;
  let id = nhId;
  let nh = router.nhs.get(id);
  if (nh?.type === 'composite' && nh.members.length > 0) {
    id = nh.members[hash % nh.members.length]!.nh;
    nh = router.nhs.get(id);
  }
  if (!nh) return undefined;
  if (nh.type !== 'encap') return { nh: id, type: nh.type };
  const vif = router.vifs.get(nh.oif);
  return { nh: id, type: 'encap', vif: nh.oif, ...(vif ? { ip: vif.ip } : {}) };
}

function ecmpSize(router: VRouter, nhId: number | undefined): number {
  if (nhId === undefined) return 0;
  const nh = router.nhs.get(nhId);
  return nh?.type === 'composite' ? nh.members.length : 0;
}

/** Counts the packet on its flow and advances TCP state; true when the pair is to be removed. */
function account(router: VRouter, e: FlowEntry, sinfo: string, bytes: number, ip: Ipv4Packet, tcpFlags: number): boolean {
  router.flows.stats.processed++;
  if (e.packets > 0) e.isNew = false;
  e.packets++;
  e.bytes += bytes;
  e.sinfo = sinfo;
  e.lastUsed = router.clock();
  if (ip.protocol !== IpProtocol.TCP || tcpFlags === 0) return false;
  return updateTcpState(e, router.flows.get(e.rflow), tcpFlags);
}

/** Removes a closed TCP pair once its last packet has been handled. */
function finish(router: VRouter, e: FlowEntry, done: boolean, actions: Action[]): Action[] {
  if (done) router.flows.removePair(e);
  return actions;
}

function forward(
  router: VRouter,
  vif: Vif,
  e: FlowEntry,
  nhId: number,
  label: number | undefined,
  ip: Uint8Array,
  fromFabric: boolean,
  route: Route | undefined,
  depth: number,
): Action {
  const nh = router.nhs.get(nhId);
  if (!nh) return drop(router, vif, DropReason.InvalidNh, `nh ${nhId}`);
  switch (nh.type) {
    case 'encap': {
      if (!router.vifs.get(nh.oif)) return drop(router, vif, DropReason.InvalidIf, `nh ${nhId} oif ${nh.oif}`);
      const out = new Uint8Array(nh.encap.length + ip.length);
      out.set(nh.encap, 0);
      out.set(ip, nh.encap.length);
      return emit(router, nh.oif, out);
    }
    case 'tunnel': {
      // Fabric to fabric would be transit, which a vRouter does not do.
      if (fromFabric) return drop(router, vif, DropReason.InvalidNh, `nh ${nhId}: tunnel from the fabric`);
      if (label === undefined) return drop(router, vif, DropReason.InvalidLabel, `route to nh ${nhId} has no label`);
      const pkt = encapsulate(nh, label, e.udpSrcPort, ip, ip[8]!, {
        dst: route?.stitchedMac?.mac ?? router.mac,
        src: router.mac,
      });
      const a: Action = { type: 'tunnel', encap: nh.encapType, nh: nh.id, src: nh.sip, dst: nh.dip, label, bytes: pkt.bytes };
      if (pkt.udpPayloadOffset !== undefined) {
        a.srcPort = e.udpSrcPort;
        a.udpPayloadOffset = pkt.udpPayloadOffset;
      }
      return a;
    }
    case 'composite': {
      const n = nh.members.length;
      if (depth > 0 || n === 0) return drop(router, vif, DropReason.InvalidNh, `composite nh ${nhId}`);
      const m = nh.members[(e.ecmpIndex >= 0 ? e.ecmpIndex : e.hash) % n]!;
      return forward(router, vif, e, m.nh, m.label, ip, fromFabric, route, depth + 1);
    }
    case 'receive':
      return host('receive', e.destVrf, ip);
    case 'resolve':
      return host('resolve', e.destVrf, ip);
    case 'discard':
      return drop(router, vif, DropReason.Discard, `nh ${nhId}`);
  }
}

/**
 * Counts `packets` more segments of a burst whose first segment went through the pipeline
 * (offloads: the rest took the same decision without being looked at one by one): the flow
 * of `ip` (the IPv4 header in `frame` at `ipStart`, before NAT) in `vrf`, and the vifs.
 */
export function creditSegments(
  router: VRouter,
  ingress: number,
  egress: number | undefined,
  vrf: number,
  frame: Uint8Array,
  ipStart: number,
  packets: number,
  bytes: number,
): void {
  const inVif = router.vifs.get(ingress);
  if (inVif) {
    inVif.stats.rxPackets += packets;
    inVif.stats.rxBytes += bytes;
  }
  const outVif = egress === undefined ? undefined : router.vifs.get(egress);
  if (outVif) {
    outVif.stats.txPackets += packets;
    outVif.stats.txBytes += bytes;
  }
  const b = frame;
  const i = ipStart;
  const l4 = i + (b[i]! & 15) * 4;
  if (l4 + 4 > b.length) return;
  const key: FlowKey = {
    vrf,
    proto: b[i + 9]!,
    src: `${b[i + 12]}.${b[i + 13]}.${b[i + 14]}.${b[i + 15]}`,
    dst: `${b[i + 16]}.${b[i + 17]}.${b[i + 18]}.${b[i + 19]}`,
    sport: (b[l4]! << 8) | b[l4 + 1]!,
    dport: (b[l4 + 2]! << 8) | b[l4 + 3]!,
  };
  const e = router.flows.lookup(key);
  if (!e) return;
  router.flows.stats.processed += packets;
  e.packets += packets;
  e.bytes += bytes;
  e.isNew = false;
}
