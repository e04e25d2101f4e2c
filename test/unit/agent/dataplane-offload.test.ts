/**
 * The Dataplane's offload glue between two vRouters on loopback (real UDP sockets with
 * UDP_SEGMENT/UDP_GRO, fake TAPs that speak virtio headers): a TSO burst from pod A leaves as
 * one UDP_SEGMENT send, B reads it as one GRO buffer and writes pod B one merged TSO frame,
 * and the bytes the pod gets, cut the way the kernel cuts them, are the burst's. No root needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpProtocol, decodeIpv4, decodeTcp, encodeIpv4, encodeTcp, encodeUdp, tcpChecksumOk, udpChecksum } from '../../../codecs/net/index.js';
import { Dataplane, type PacketPort } from '../../../src/agent/dataplane.js';
import { VRouter } from '../../../src/vrouter/index.js';
import {
  VNET_F_NEEDS_CSUM,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_UDP_L4,
  VNET_HDR_LEN,
  readVnetHdr,
  tcpFrameOf,
  tsoSegment,
  writeVnetHdr,
} from '../../../src/vrouter/offload.js';
import { fromPod } from '../vrouter/lab.js';

const A_IP = '127.0.0.1';
const B_IP = '127.0.0.2';
const POD_A = { ip: '10.1.1.3', mac: '02:00:0a:01:01:03' };
const POD_B = { ip: '10.1.1.4', mac: '02:00:0a:01:01:04' };
const VRF = 1;
const MSS = 1398;
const MPLS_PORT = 30000 + (process.pid % 10000);

class VnetTap implements PacketPort {
  readonly vnetHdr = true;
  handler: ((frames: Uint8Array[]) => void) | undefined;
  written: { frame: Uint8Array; hdr: Uint8Array | undefined }[] = [];
  start(h: (frames: Uint8Array[]) => void): void {
    this.handler = h;
  }
  stop(): void {
    this.handler = undefined;
  }
  writeMany(frames: readonly Uint8Array[], hdrs?: readonly (Uint8Array | undefined)[]): number {
    frames.forEach((f, i) => this.written.push({ frame: Uint8Array.from(f), hdr: hdrs?.[i] ? Uint8Array.from(hdrs[i]!) : undefined }));
    return frames.length;
  }
}

function data(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 255);
}

function withHdr(hdr: Uint8Array, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(VNET_HDR_LEN + frame.length);
  out.set(hdr, 0);
  out.set(frame, VNET_HDR_LEN);
  return out;
}

/** What the pod's kernel makes of what was written: merged frames cut back into segments. */
function segmentsOf(written: VnetTap['written']): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const w of written) {
    const h = w.hdr ? readVnetHdr(w.hdr) : undefined;
    if (h?.gsoType !== VNET_GSO_TCPV4) {
      out.push(w.frame);
      continue;
    }
    const t = tcpFrameOf(w.frame)!;
    for (let i = 0; t.data + i * h.gsoSize < t.end; i++) out.push(tsoSegment(w.frame, t, h.gsoSize, i));
  }
  return out;
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
  const dp = new Dataplane(router, { vhostIp, sourcePortBase: 0, udpSenders: 2, mplsUdpPorts: [MPLS_PORT], vxlanPort: MPLS_PORT + 1, ageIntervalMs: 0 });
  return { router, dp };
}

describe('Dataplane offloads over loopback UDP', () => {
  const A = side(A_IP);
  const B = side(B_IP);
  const tapA = new VnetTap();
  const tapB = new VnetTap();

  beforeAll(async () => {
    A.router.addPodInterface({ index: 3, osName: 'tapeth0-aaaaaa', vrf: VRF, ip: POD_A.ip, plen: 24, podMac: POD_A.mac });
    const labelB = B.router.addPodInterface({ index: 3, osName: 'tapeth0-bbbbbb', vrf: VRF, ip: POD_B.ip, plen: 24, podMac: POD_B.mac }).label;
    A.router.vrfs.get(VRF)!.routes.add({ prefix: `${POD_B.ip}/32`, nh: A.router.tunnelTo(B_IP, 'MPLSoUDP').id, label: labelB, proxyArp: true });
    await A.dp.start();
    await B.dp.start();
    A.dp.attach(3, tapA);
    B.dp.attach(3, tapB);
  });

  afterAll(async () => {
    await A.dp.stop();
    await B.dp.stop();
  });

  it('a TSO burst from pod A reaches pod B as the same segments, checksums valid, counted per segment', async () => {
    const bytes = 20 * MSS + 100;
    const tcp = encodeTcp({ srcPort: 33000, dstPort: 80, seq: 1, ack: 9, flags: { ack: true, psh: true }, window: 500, payload: data(bytes) }, { src: POD_A.ip, dst: POD_B.ip });
    const frame = fromPod(POD_A, encodeIpv4({ src: POD_A.ip, dst: POD_B.ip, protocol: IpProtocol.TCP, df: true, identification: 7, payload: tcp }));
    const hdr = writeVnetHdr({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 54, gsoSize: MSS, csumStart: 34, csumOffset: 16 });
    const before = tapB.written.length;
    tapA.handler!([withHdr(hdr, frame)]);
    await until('B writes the burst', () => segmentsOf(tapB.written.slice(before)).length >= 21);
    const segs = segmentsOf(tapB.written.slice(before));
    expect(segs).toHaveLength(21);
    const payload: number[] = [];
    segs.forEach((s, i) => {
      const ip = decodeIpv4(s, 14);
      expect(ip).toMatchObject({ src: POD_A.ip, dst: POD_B.ip, ttl: 63, checksumOk: true, identification: 7 + i });
      expect(tcpChecksumOk(ip.src, ip.dst, ip.payload)).toBe(true);
      const t = decodeTcp(ip.payload);
      expect(t.seq).toBe(1 + i * MSS);
      expect(t.flags.psh).toBe(i === 20);
      payload.push(...t.payload);
    });
    expect(Uint8Array.from(payload)).toEqual(data(bytes));
    expect(A.dp.stats.offload.tsoBursts).toBe(1);
    expect(A.dp.stats.tx.MPLSoUDP).toBe(21);
    expect(B.dp.stats.rx.mplsUdp).toBe(21);
    expect(B.dp.stats.offload.groMerged).toBeGreaterThanOrEqual(1);
    // The flows count every segment, as if each had gone through the pipeline.
    const flowA = A.router.flows.list().find((e) => e.key.src === POD_A.ip && e.key.sport === 33000)!;
    const flowB = B.router.flows.list().find((e) => e.key.src === POD_A.ip && e.key.sport === 33000)!;
    expect(flowA.packets).toBe(21);
    expect(flowB.packets).toBe(21);
  });

  it('a frame with a partial checksum leaves with the checksum finished, and plain frames pass as before', async () => {
    const udp = encodeUdp({ srcPort: 4000, dstPort: 5000, payload: data(40) });
    const c = udpChecksum(POD_A.ip, POD_B.ip, udp);
    udp[6] = c >>> 8;
    udp[7] = c & 255;
    const want = encodeIpv4({ src: POD_A.ip, dst: POD_B.ip, protocol: IpProtocol.UDP, payload: udp });
    const partial = Uint8Array.from(want);
    // What a TAP with TUN_F_CSUM hands over: the UDP checksum field holds the pseudo-header sum.
    const sum = (partial[12]! << 8) + partial[13]! + (partial[14]! << 8) + partial[15]! + (partial[16]! << 8) + partial[17]! + (partial[18]! << 8) + partial[19]! + 17 + 48;
    const folded = (sum & 0xffff) + (sum >>> 16);
    partial[26] = folded >>> 8;
    partial[27] = folded & 255;
    const before = tapB.written.length;
    tapA.handler!([
      withHdr(writeVnetHdr({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 34, csumOffset: 6 }), fromPod(POD_A, partial)),
      withHdr(new Uint8Array(VNET_HDR_LEN), fromPod(POD_A, want)),
    ]);
    await until('B writes both', () => tapB.written.length >= before + 2);
    for (const w of tapB.written.slice(before)) {
      expect(w.hdr === undefined || readVnetHdr(w.hdr).gsoType !== VNET_GSO_UDP_L4).toBe(true);
      const ip = decodeIpv4(w.frame, 14);
      expect(Buffer.from(ip.payload).toString("hex")).toBe(Buffer.from(udp).toString("hex"));
    }
  });
});
