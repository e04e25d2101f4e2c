/**
 * The agent's offloads (src/vrouter/offload.ts) against the per-packet path: a TSO burst sent
 * as one UDP_SEGMENT buffer must hold exactly the datagrams the pipeline makes of its
 * segments one by one, and a GRO-merged frame must cut back into exactly the frames the
 * pipeline writes for each received segment. Checksums are checked with the codecs.
 */
import { describe, expect, it } from 'vitest';
import { IpProtocol, decodeIpv4, decodeTcp, encodeIpv4, encodeTcp, encodeUdp, tcpChecksumOk } from '../../../codecs/net/index.js';
import { pseudoHeaderSum } from '../../../codecs/net/transport-checksum.js';
import { processPacket, processTunnelPayload } from '../../../src/vrouter/pipeline.js';
import {
  VNET_GSO_TCPV4,
  completeChecksum,
  groMerge,
  groMergeUdp,
  VNET_GSO_UDP_L4,
  readVnetHdr,
  segmentCount,
  tcpFrameOf,
  tsoSegment,
  tsoTunnelBuffers,
} from '../../../src/vrouter/offload.js';
import { NODE_B, POD1, REMOTE_POD, emitted, fromPod, makeLab, one, tunnelled } from './lab.js';

const MSS = 1398;

function data(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);
}

/** A TSO burst as a TAP hands it over: one IPv4/TCP packet holding several MSS of payload. */
function burst(src: string, dst: string, bytes: number, psh = true, seq = 5000): Uint8Array {
  const tcp = encodeTcp({ srcPort: 40000, dstPort: 80, seq, ack: 777, flags: { ack: true, psh }, window: 501, payload: data(bytes) }, { src, dst });
  return encodeIpv4({ src, dst, protocol: IpProtocol.TCP, df: true, identification: 100, payload: tcp });
}

describe('TSO segments', () => {
  it('cuts a burst into MSS segments with their own lengths, ids, sequence numbers, flags and valid checksums', () => {
    const frame = fromPod(POD1, burst(POD1.ip, REMOTE_POD.ip, 5000));
    const t = tcpFrameOf(frame)!;
    expect(segmentCount(t, MSS)).toBe(4);
    const segs = [0, 1, 2, 3].map((i) => tsoSegment(frame, t, MSS, i));
    const payload: number[] = [];
    segs.forEach((s, i) => {
      const ip = decodeIpv4(s, 14);
      expect(ip.checksumOk).toBe(true);
      expect(ip.identification).toBe(100 + i);
      expect(tcpChecksumOk(ip.src, ip.dst, ip.payload)).toBe(true);
      const tcp = decodeTcp(ip.payload);
      expect(tcp.seq).toBe(5000 + i * MSS);
      expect(tcp.flags.psh).toBe(i === 3);
      expect(tcp.flags.ack).toBe(true);
      payload.push(...tcp.payload);
    });
    expect(Uint8Array.from(payload)).toEqual(data(5000));
  });

  it('one UDP_SEGMENT buffer holds the very datagrams the pipeline makes of each segment', () => {
    const lab = makeLab();
    const frame = fromPod(POD1, burst(POD1.ip, REMOTE_POD.ip, 9000));
    const t = tcpFrameOf(frame)!;
    const n = segmentCount(t, MSS);
    const head = tunnelled(one(processPacket(lab.router, tsoSegment(frame, t, MSS, 0), POD1.vif)));
    const p0 = head.bytes.subarray(head.udpPayloadOffset!);
    // Small buffers: the cut into several sends is exercised too.
    const bufs = tsoTunnelBuffers(p0, frame, t, MSS, 3 * p0.length, 64)!;
    expect(bufs.length).toBe(Math.ceil(n / 3));
    const datagrams: Uint8Array[] = [];
    for (const b of bufs) for (let at = 0; at < b.length; at += p0.length) datagrams.push(b.subarray(at, Math.min(at + p0.length, b.length)));
    expect(datagrams).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      const one_ = tunnelled(one(processPacket(lab.router, tsoSegment(frame, t, MSS, i), POD1.vif)));
      expect(datagrams[i]).toEqual(one_.bytes.subarray(one_.udpPayloadOffset!));
    }
  });
});

describe('GRO for the pod', () => {
  /** Segments as MPLSoUDP payloads to pod 1's label, as a peer sends them. */
  function received(lab: ReturnType<typeof makeLab>, bytes: number): Uint8Array[] {
    const frame = fromPod({ mac: '02:00:00:00:00:01' }, burst(REMOTE_POD.ip, POD1.ip, bytes, true, 0xfffff000));
    const t = tcpFrameOf(frame)!;
    return Array.from({ length: segmentCount(t, MSS) }, (_, i) => {
      const inner = tsoSegment(frame, t, MSS, i).subarray(14);
      const out = new Uint8Array(4 + inner.length);
      out.set([(lab.pod1Label >>> 12) & 255, (lab.pod1Label >>> 4) & 255, ((lab.pod1Label & 15) << 4) | 1, 64], 0);
      out.set(inner, 4);
      return out;
    });
  }

  it('merges a burst into one frame that cuts back into what the pipeline writes per segment', () => {
    const lab = makeLab();
    const segs = received(lab, 6000);
    const head = emitted(one(processTunnelPayload(lab.router, 'MPLSoUDP', segs[0]!, NODE_B)));
    const merged = groMerge(head.bytes, segs, 4)!;
    expect(merged).toBeDefined();
    const h = readVnetHdr(merged.vnet);
    expect(h).toMatchObject({ gsoType: VNET_GSO_TCPV4, gsoSize: MSS, csumStart: 34, csumOffset: 16, hdrLen: 54 });
    const ip = decodeIpv4(merged.frame, 14);
    expect(ip.checksumOk).toBe(true);
    expect(ip.totalLength).toBe(40 + 6000);
    // NEEDS_CSUM: the field holds the pseudo-header sum, not complemented.
    expect((merged.frame[50]! << 8) | merged.frame[51]!).toBe(pseudoHeaderSum(ip.src, ip.dst, 6, 6020));
    const mt = tcpFrameOf(merged.frame)!;
    for (let i = 0; i < segs.length; i++) {
      const each = emitted(one(processTunnelPayload(lab.router, 'MPLSoUDP', segs[i]!, NODE_B)));
      expect(tsoSegment(merged.frame, mt, MSS, i)).toEqual(each.bytes);
    }
  });

  it('leaves a burst alone when a segment is corrupted, out of sequence or not TCP', () => {
    const lab = makeLab();
    const segs = received(lab, 6000);
    const head = emitted(one(processTunnelPayload(lab.router, 'MPLSoUDP', segs[0]!, NODE_B)));
    const bad = segs.map((s) => Uint8Array.from(s));
    bad[2]![200] = bad[2]![200]! ^ 0xff;
    expect(groMerge(head.bytes, bad, 4)).toBeUndefined();
    expect(groMerge(head.bytes, [segs[0]!, segs[2]!, segs[1]!], 4)).toBeUndefined();
    const udp = encodeIpv4({ src: REMOTE_POD.ip, dst: POD1.ip, protocol: IpProtocol.UDP, payload: encodeUdp({ srcPort: 1, dstPort: 2, payload: data(100) }) });
    expect(groMerge(head.bytes, [segs[0]!, Uint8Array.from([...segs[0]!.subarray(0, 4), ...udp])], 4)).toBeUndefined();
  });
});

describe('GRO of a UDP flow for the pod (USO)', () => {
  function datagrams(lab: ReturnType<typeof makeLab>, n: number, opts: { gapAt?: number; noChecksumAt?: number; portAt?: number } = {}): Uint8Array[] {
    return Array.from({ length: n }, (_, k) => {
      const src = REMOTE_POD.ip;
      const dst = POD1.ip;
      const sport = k === opts.portAt ? 5001 : 5000;
      const udp = encodeUdp({ srcPort: sport, dstPort: 5201, payload: data(64).map((b) => b ^ k) }, k === opts.noChecksumAt ? undefined : { src, dst });
      const id = 900 + k + (opts.gapAt !== undefined && k >= opts.gapAt ? 1 : 0);
      const ip = encodeIpv4({ src, dst, protocol: IpProtocol.UDP, df: true, identification: id, payload: udp });
      const out = new Uint8Array(4 + ip.length);
      out.set([(lab.pod1Label >>> 12) & 255, (lab.pod1Label >>> 4) & 255, ((lab.pod1Label & 15) << 4) | 1, 64], 0);
      out.set(ip, 4);
      return out;
    });
  }

  it('merges equal-sized datagrams of one flow into one USO frame with all their payloads', () => {
    const lab = makeLab();
    const segs = datagrams(lab, 5);
    const head = emitted(one(processTunnelPayload(lab.router, 'MPLSoUDP', segs[0]!, NODE_B)));
    const m = groMergeUdp(head.bytes, segs, 4)!;
    expect(m).toBeDefined();
    expect(readVnetHdr(m.vnet)).toMatchObject({ gsoType: VNET_GSO_UDP_L4, gsoSize: 64, hdrLen: 42, csumStart: 34, csumOffset: 6 });
    expect(m.frame.subarray(0, 14)).toEqual(head.bytes.subarray(0, 14));
    const ip = decodeIpv4(m.frame, 14);
    expect(ip).toMatchObject({ checksumOk: true, totalLength: 28 + 5 * 64, ttl: head.bytes[22], identification: 900 });
    for (let k = 0; k < 5; k++) expect(m.frame.subarray(42 + 64 * k, 42 + 64 * (k + 1))).toEqual(data(64).map((b) => b ^ k));
    expect((m.frame[40]! << 8) | m.frame[41]!).toBe(pseudoHeaderSum(ip.src, ip.dst, 17, 8 + 5 * 64));
  });

  it('leaves datagrams alone across an IP id gap, without a checksum, or from another port', () => {
    const lab = makeLab();
    for (const opts of [{ gapAt: 2 }, { noChecksumAt: 3 }, { portAt: 1 }]) {
      const segs = datagrams(lab, 4, opts);
      const head = emitted(one(processTunnelPayload(lab.router, 'MPLSoUDP', segs[0]!, NODE_B)));
      expect(groMergeUdp(head.bytes, segs, 4), JSON.stringify(opts)).toBeUndefined();
    }
  });
});

describe('checksums left to the reader', () => {
  it('completeChecksum finishes a partial TCP checksum into the one the codec computes', () => {
    const frame = fromPod(POD1, burst(POD1.ip, REMOTE_POD.ip, 333));
    const want = Uint8Array.from(frame);
    const ip = decodeIpv4(frame, 14);
    const partial = pseudoHeaderSum(ip.src, ip.dst, 6, ip.payload.length);
    frame[50] = partial >>> 8;
    frame[51] = partial & 255;
    expect(completeChecksum(frame, 34, 16, false)).toBe(true);
    expect(Uint8Array.from(frame)).toEqual(want);
    expect(completeChecksum(frame, 34, 5000, false)).toBe(false);
  });
});
