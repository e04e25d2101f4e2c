/**
 * The book lab's compute node A (cent222, 10.169.25.20) as a vRouter, and frame builders
 * made with the net encoders.
 */
import {
  ArpOp,
  EtherType,
  IpProtocol,
  encodeArp,
  encodeEthernet,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeMpls,
  encodeMplsInUdp,
  encodeTcp,
  encodeUdp,
  encodeVxlan,
  type TcpFlags,
} from '../../../codecs/net/index.js';
import { expect } from 'vitest';
import { VRouter, type Action, type PolicyHook } from '../../../src/vrouter/index.js';

export const NODE_A = '10.169.25.20';
export const NODE_B = '10.169.25.21';
export const GATEWAY = '192.168.0.204';
export const FABRIC_MAC = '00:50:56:9e:62:25';
export const UNDERLAY_MAC = '00:50:56:9e:e6:66';
export const POD1 = { ip: '10.47.255.236', mac: '02:30:51:c0:fc:9e', vif: 3 };
export const POD2 = { ip: '10.47.255.237', mac: '02:bd:e8:bc:46:9a', vif: 4 };
/** A pod on node B, reached with label 38 (book line 8275). */
export const REMOTE_POD = { ip: '10.47.255.238', label: 38 };
export const POD_VRF = 2;

export interface Lab {
  router: VRouter;
  now: { t: number };
  pod1Label: number;
  pod2Label: number;
  tunnelB: number;
}

export function makeLab(policy?: PolicyHook, encap: 'MPLSoUDP' | 'MPLSoGRE' | 'VXLAN' = 'MPLSoUDP'): Lab {
  const now = { t: 1_000_000 };
  const router = new VRouter({
    vhostIp: NODE_A,
    fabricMac: FABRIC_MAC,
    underlayMac: UNDERLAY_MAC,
    clock: () => now.t,
    ...(policy ? { policy } : {}),
  });
  router.addFabric('eth0', 0);
  const p1 = router.addPodInterface({ index: POD1.vif, osName: 'tapeth0-304431', vrf: POD_VRF, ip: POD1.ip, plen: 12, podMac: POD1.mac });
  const p2 = router.addPodInterface({ index: POD2.vif, osName: 'tapeth0-baa392', vrf: POD_VRF, ip: POD2.ip, plen: 12, podMac: POD2.mac });
  const t = router.tunnelTo(NODE_B, encap);
  router.vrfs.get(POD_VRF)!.routes.add({ prefix: `${REMOTE_POD.ip}/32`, nh: t.id, label: REMOTE_POD.label, proxyArp: true });
  return { router, now, pod1Label: p1.label, pod2Label: p2.label, tunnelB: t.id };
}

export function ethFrame(src: string, dst: string, etherType: number, payload: Uint8Array): Uint8Array {
  return encodeEthernet({ src, dst, etherType, payload });
}

export function arpRequest(fromMac: string, fromIp: string, target: string): Uint8Array {
  const arp = encodeArp({ op: ArpOp.REQUEST, sha: fromMac, spa: fromIp, tha: '00:00:00:00:00:00', tpa: target });
  return ethFrame(fromMac, 'ff:ff:ff:ff:ff:ff', EtherType.ARP, arp);
}

export function icmpPacket(src: string, dst: string, id: number, seq: number, reply = false, ttl = 64): Uint8Array {
  const icmp = encodeIcmp({ type: reply ? 0 : 8, identifier: id, sequence: seq, data: new Uint8Array(56).fill(0x61) });
  return encodeIpv4({ src, dst, protocol: IpProtocol.ICMP, ttl, identification: seq, payload: icmp });
}

export function tcpPacket(src: string, dst: string, sport: number, dport: number, flags: Partial<TcpFlags>, data = new Uint8Array(0)): Uint8Array {
  const tcp = encodeTcp({ srcPort: sport, dstPort: dport, seq: 1000, ack: flags.ack ? 2000 : 0, flags, window: 29200, payload: data }, { src, dst });
  return encodeIpv4({ src, dst, protocol: IpProtocol.TCP, df: true, payload: tcp });
}

export function udpPacket(src: string, dst: string, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const udp = encodeUdp({ srcPort: sport, dstPort: dport, payload: data }, { src, dst });
  return encodeIpv4({ src, dst, protocol: IpProtocol.UDP, payload: udp });
}

/** A frame a pod sends: to the vRouter MAC (its gateway's). */
export function fromPod(pod: { mac: string }, ip: Uint8Array): Uint8Array {
  return ethFrame(pod.mac, '00:00:5e:00:01:00', EtherType.IPV4, ip);
}

/** Underlay frames arriving on the fabric NIC of node A. */
export function mplsOverUdpFrame(label: number, inner: Uint8Array, from = NODE_B, dstPort = 6635): Uint8Array {
  const udp = encodeMplsInUdp({ srcPort: 50000, dstPort, labels: [{ label }], payload: inner });
  return ethFrame(UNDERLAY_MAC, FABRIC_MAC, EtherType.IPV4, encodeIpv4({ src: from, dst: NODE_A, protocol: IpProtocol.UDP, payload: udp }));
}

export function mplsOverGreFrame(label: number, inner: Uint8Array, from = GATEWAY): Uint8Array {
  const gre = encodeGre({ protocolType: EtherType.MPLS, payload: encodeMpls({ labels: [{ label }], payload: inner }) });
  return ethFrame(UNDERLAY_MAC, FABRIC_MAC, EtherType.IPV4, encodeIpv4({ src: from, dst: NODE_A, protocol: IpProtocol.GRE, payload: gre }));
}

export function vxlanFrame(vni: number, inner: Uint8Array, from = NODE_B, flags?: number): Uint8Array {
  const innerEth = ethFrame('00:00:5e:00:01:00', '00:00:5e:00:01:00', EtherType.IPV4, inner);
  const vx = encodeVxlan({ vni, payload: innerEth, ...(flags !== undefined ? { flags } : {}) });
  const udp = encodeUdp({ srcPort: 50001, dstPort: 4789, payload: vx });
  return ethFrame(UNDERLAY_MAC, FABRIC_MAC, EtherType.IPV4, encodeIpv4({ src: from, dst: NODE_A, protocol: IpProtocol.UDP, payload: udp }));
}

/** The one action a packet produced. */
export function one(actions: Action[]): Action {
  expect(actions).toHaveLength(1);
  return actions[0]!;
}

export function emitted(a: Action): { vif: number; bytes: Uint8Array } {
  if (a.type !== 'emit') throw new Error(`expected emit, got ${JSON.stringify({ ...a, bytes: undefined })}`);
  return a;
}

export function tunnelled(a: Action): Extract<Action, { type: 'tunnel' }> {
  if (a.type !== 'tunnel') throw new Error(`expected tunnel, got ${JSON.stringify({ ...a, bytes: undefined })}`);
  return a;
}
