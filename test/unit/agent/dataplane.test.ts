/**
 * The Dataplane between two vRouters on loopback (vhosts 127.0.0.1 and 127.0.0.2, real UDP
 * sockets, fake TAPs): pod frames cross as MPLSoUDP and VXLAN, garbage from the fabric is a
 * counted drop, and what cannot be sent is counted by reason. No root needed.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArpOp, EtherType, decodeArp, decodeEthernet, decodeIpv4, decodeUdp, encodeMplsInUdp } from '../../../codecs/net/index.js';
import { Dataplane, type PacketPort } from '../../../src/agent/dataplane.js';
import { VRouter } from '../../../src/vrouter/index.js';
import { fromPod, udpPacket } from '../vrouter/lab.js';

const A_IP = '127.0.0.1';
const B_IP = '127.0.0.2';
const POD_A = { ip: '10.1.1.3', mac: '02:00:0a:01:01:03' };
const POD_B = { ip: '10.1.1.4', mac: '02:00:0a:01:01:04' };
const POD_B2 = { ip: '10.1.1.5', mac: '02:00:0a:01:01:05' };
const POD_C = { ip: '10.1.1.9', mac: '02:00:0a:01:01:09' };
const VRF = 1;
const VNI = 5;
// Both sides must agree on the tunnel ports; unusual ones keep clear of anything on the host.
const MPLS_PORT = 40000 + (process.pid % 10000);
const VXLAN_PORT = MPLS_PORT + 1;

class FakeTap implements PacketPort {
  handler: ((frames: Uint8Array[]) => void) | undefined;
  written: Uint8Array[] = [];
  start(h: (frames: Uint8Array[]) => void): void {
    this.handler = h;
  }
  stop(): void {
    this.handler = undefined;
  }
  writeMany(frames: readonly Uint8Array[]): number {
    for (const f of frames) this.written.push(f.slice());
    return frames.length;
  }
}

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function side(vhostIp: string): { router: VRouter; dp: Dataplane } {
  const router = new VRouter({ vhostIp });
  router.addFabric('eth0', 0);
  const dp = new Dataplane(router, { vhostIp, sourcePortBase: 0, udpSenders: 4, mplsUdpPorts: [MPLS_PORT], vxlanPort: VXLAN_PORT, ageIntervalMs: 0 });
  return { router, dp };
}

describe('Dataplane over loopback UDP', () => {
  const A = side(A_IP);
  const B = side(B_IP);
  const tapA = new FakeTap();
  const tapB = new FakeTap();
  let labelB = 0;
  let labelB2 = 0;

  beforeAll(async () => {
    A.router.addPodInterface({ index: 3, osName: 'tapeth0-aaaaaa', vrf: VRF, ip: POD_A.ip, plen: 24, podMac: POD_A.mac });
    labelB = B.router.addPodInterface({ index: 3, osName: 'tapeth0-bbbbbb', vrf: VRF, ip: POD_B.ip, plen: 24, podMac: POD_B.mac }).label;
    // A second pod on B whose TAP is never attached.
    labelB2 = B.router.addPodInterface({ index: 4, osName: 'tapeth0-cccccc', vrf: VRF, ip: POD_B2.ip, plen: 24, podMac: POD_B2.mac }).label;
    B.router.vnis.set(VNI, VRF);
    const routes = A.router.vrfs.get(VRF)!.routes;
    routes.add({ prefix: `${POD_B.ip}/32`, nh: A.router.tunnelTo(B_IP, 'MPLSoUDP').id, label: labelB, proxyArp: true });
    routes.add({ prefix: `${POD_B2.ip}/32`, nh: A.router.tunnelTo(B_IP, 'MPLSoUDP').id, label: labelB2, proxyArp: true });
    routes.add({ prefix: '10.1.1.6/32', nh: A.router.tunnelTo(B_IP, 'VXLAN').id, label: VNI, proxyArp: true });
    routes.add({ prefix: `${POD_C.ip}/32`, nh: A.router.tunnelTo('127.0.0.3', 'MPLSoGRE').id, label: 20, proxyArp: true });
    await A.dp.start();
    await B.dp.start();
    A.dp.attach(3, tapA);
    B.dp.attach(3, tapB);
  });

  afterAll(async () => {
    await A.dp.stop();
    await B.dp.stop();
  });

  it('greets an attached pod with gratuitous ARPs for its gateway (.254) and DNS (.253)', () => {
    const arps = tapA.written.map((f) => decodeEthernet(f)).filter((e) => e.etherType === EtherType.ARP);
    expect(arps.map((e) => e.dst)).toEqual([POD_A.mac, POD_A.mac]);
    expect(arps.map((e) => decodeArp(e.payload))).toMatchObject([
      { op: ArpOp.REQUEST, sha: '00:00:5e:00:01:00', spa: '10.1.1.254', tpa: '10.1.1.254' },
      { op: ArpOp.REQUEST, sha: '00:00:5e:00:01:00', spa: '10.1.1.253', tpa: '10.1.1.253' },
    ]);
  });

  it('a pod frame crosses as MPLSoUDP and is written to the other pod\'s TAP', async () => {
    const before = tapB.written.length;
    const payload = new TextEncoder().encode('over mpls-in-udp');
    tapA.handler!([fromPod(POD_A, udpPacket(POD_A.ip, POD_B.ip, 4000, 7, payload))]);
    await until('B writes the frame', () => tapB.written.length > before);
    const eth = decodeEthernet(tapB.written.at(-1)!);
    expect(eth).toMatchObject({ dst: POD_B.mac, src: '00:00:5e:00:01:00', etherType: EtherType.IPV4 });
    const ip = decodeIpv4(eth.payload);
    expect(ip).toMatchObject({ src: POD_A.ip, dst: POD_B.ip, ttl: 63 });
    expect(new TextDecoder().decode(decodeUdp(ip.payload).payload)).toBe('over mpls-in-udp');
    expect(A.dp.stats.tx.MPLSoUDP).toBe(1);
    expect(B.dp.stats.rx.mplsUdp).toBe(1);
    // The flow on B was learnt from A's vhost (the sender the socket reported).
    expect(B.router.flows.list().some((e) => e.sinfo === A_IP)).toBe(true);
  });

  it('and as VXLAN with the VNI picking B\'s VRF', async () => {
    // B routes 10.1.1.6 nowhere: add it as a second address of pod B's next hop.
    B.router.vrfs.get(VRF)!.routes.add({ prefix: '10.1.1.6/32', nh: B.router.vifs.get(3)!.nh!, label: labelB, proxyArp: true });
    const before = tapB.written.length;
    tapA.handler!([fromPod(POD_A, udpPacket(POD_A.ip, '10.1.1.6', 4001, 7, new Uint8Array(4)))]);
    await until('B writes the VXLAN frame', () => tapB.written.length > before);
    expect(decodeIpv4(decodeEthernet(tapB.written.at(-1)!).payload)).toMatchObject({ src: POD_A.ip, dst: '10.1.1.6' });
    expect(A.dp.stats.tx.VXLAN).toBe(1);
    expect(B.dp.stats.rx.vxlan).toBe(1);
  });

  it('counts garbage from the fabric as pipeline drops with reasons and keeps forwarding', async () => {
    const s = dgram.createSocket('udp4');
    const send = (b: Uint8Array, port: number) => new Promise<void>((r) => s.send(b, port, B_IP, () => r()));
    const invalidLabel = B.router.drops.InvalidLabel;
    const invalidPacket = B.router.drops.InvalidPacket;
    const invalidVnid = B.router.drops.InvalidVnid;
    await send(new Uint8Array([1, 2, 3]), MPLS_PORT); // shorter than a label
    await send(encodeMplsInUdp({ srcPort: 1, labels: [{ label: 999 }], payload: new Uint8Array(20) }).subarray(8), MPLS_PORT); // unknown label
    await send(new Uint8Array([0x08, 0, 0, 0, 0, 0, 0x63, 0]), VXLAN_PORT); // VNI 99, no inner frame
    await s.close();
    await until('three drops', () => B.dp.stats.rx.mplsUdp + B.dp.stats.rx.vxlan >= 5);
    expect(B.router.drops.InvalidPacket - invalidPacket).toBe(1);
    expect(B.router.drops.InvalidLabel - invalidLabel).toBe(1);
    expect(B.router.drops.InvalidVnid - invalidVnid).toBe(1);
    expect(B.dp.stats.drops.HandlerError).toBe(0);
    const before = tapB.written.length;
    tapA.handler!([fromPod(POD_A, udpPacket(POD_A.ip, POD_B.ip, 4002, 7, new Uint8Array(1)))]);
    await until('still forwarding', () => tapB.written.length > before);
  });

  it('counts what the I/O layer cannot do: no GRE socket, no TAP attached', async () => {
    tapA.handler!([fromPod(POD_A, udpPacket(POD_A.ip, POD_C.ip, 4003, 7, new Uint8Array(1)))]);
    expect(A.dp.stats.drops.NoTunnelSocket).toBe(1);
    const noTap = B.dp.stats.drops.NoTap;
    tapA.handler!([fromPod(POD_A, udpPacket(POD_A.ip, POD_B2.ip, 4004, 7, new Uint8Array(1)))]);
    await until('B drops for lack of a TAP', () => B.dp.stats.drops.NoTap > noTap);
    expect(B.dp.detach(3)).toBe(true);
    expect(B.dp.detach(3)).toBe(false);
  });

  it('sends from a pool of source ports, one per flow', () => {
    const ports = A.dp.udpSourcePorts;
    expect(ports).toHaveLength(4);
    expect(new Set(ports).size).toBe(4);
  });
});
