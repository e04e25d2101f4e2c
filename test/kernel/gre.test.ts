/**
 * Raw GRE sockets opened by the addon inside two namespaces joined by a veth pair: one
 * MPLSoGRE packet (GRE protocol 0x8847, label stack, inner IPv4) each way, plus a batch
 * through sendmmsg, decoded on arrival with codecs/net.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeGre,
  decodeIcmp,
  decodeIpv4,
  decodeMpls,
  encodeGre,
  encodeIcmp,
  encodeIpv4,
  encodeMpls,
  EtherType,
  IcmpType,
  IpProtocol,
} from '../../codecs/net/index.js';
import { toHex } from '../../codecs/util/hex.js';
import { ipv4ToU32 } from '../../src/vrouter/kernel/native.js';
import { configureLink, createNetns, createVethPair, deleteNetns, listNetns, netnsPath } from '../../src/vrouter/kernel/netns.js';
import { IPPROTO_GRE, openGreSocket, type RawIpSocket } from '../../src/vrouter/kernel/raw-ip.js';
import { requireKernelAccess, testPrefix } from './preconditions.js';

const NS1 = testPrefix('gre1');
const NS2 = testPrefix('gre2');
const VETH1 = `wt${process.pid}a`;
const VETH2 = `wt${process.pid}b`;
const A1 = '10.92.0.1';
const A2 = '10.92.0.2';

function mplsOverGre(label: number, seq: number): { gre: Uint8Array; inner: Uint8Array } {
  const icmp = encodeIcmp({ type: IcmpType.ECHO_REQUEST, identifier: 0x77, sequence: seq, data: new Uint8Array([1, 2, 3, 4]) });
  const inner = encodeIpv4({ protocol: IpProtocol.ICMP, src: '10.93.1.3', dst: '10.93.2.3', ttl: 63, payload: icmp });
  const gre = encodeGre({ protocolType: EtherType.MPLS, payload: encodeMpls({ labels: [{ label, ttl: 63 }], payload: inner }) });
  return { gre, inner };
}

/** Resolves with the first `n` packets the socket reads (copied: the slab is reused). */
function receive(sock: RawIpSocket, n: number, timeoutMs = 3000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const got: Uint8Array[] = [];
    const timer = setTimeout(() => {
      sock.stop();
      reject(new Error(`received ${got.length} of ${n} GRE packets`));
    }, timeoutMs);
    sock.start((frames) => {
      for (const f of frames) got.push(f.slice());
      if (got.length >= n) {
        clearTimeout(timer);
        sock.stop();
        resolve(got);
      }
    }, reject);
  });
}

describe('raw GRE between two namespaces', () => {
  let s1: RawIpSocket;
  let s2: RawIpSocket;

  beforeAll(async () => {
    requireKernelAccess(['ip']);
    await createNetns(NS1);
    await createNetns(NS2);
    await createVethPair(VETH1, VETH2, NS1, NS2);
    await configureLink(NS1, VETH1, { address: `${A1}/30`, up: true });
    await configureLink(NS2, VETH2, { address: `${A2}/30`, up: true });
    s1 = openGreSocket({ netnsPath: netnsPath(NS1) });
    s2 = openGreSocket({ netnsPath: netnsPath(NS2) });
  });

  afterAll(async () => {
    s1?.close();
    s2?.close();
    const present = await listNetns();
    // Deleting NS1 destroys the veth pair with it.
    for (const ns of [NS1, NS2]) if (present.includes(ns)) await deleteNetns(ns);
  });

  it('carries one MPLSoGRE packet from ns1 to ns2 and one back', async () => {
    expect(s1.protocol).toBe(IPPROTO_GRE);
    const { gre, inner } = mplsOverGre(38, 1);
    const arriving = receive(s2, 1);
    expect(s1.send(gre, A2)).toBe(true);
    const [pkt] = await arriving;
    const outer = decodeIpv4(pkt!);
    expect(outer).toMatchObject({ src: A1, dst: A2, protocol: IpProtocol.GRE, checksumOk: true });
    expect(toHex(outer.payload)).toBe(toHex(gre));
    const g = decodeGre(outer.payload);
    expect(g).toMatchObject({ protocolType: 0x8847, checksumPresent: false, keyPresent: false, version: 0 });
    const m = decodeMpls(g.payload);
    expect(m.labels).toEqual([{ label: 38, tc: 0, bottom: true, ttl: 63 }]);
    expect(toHex(m.payload)).toBe(toHex(inner));
    expect(decodeIcmp(decodeIpv4(m.payload).payload)).toMatchObject({ type: IcmpType.ECHO_REQUEST, sequence: 1, checksumOk: true });

    const back = mplsOverGre(17, 2);
    const returning = receive(s1, 1);
    expect(s2.send(back.gre, ipv4ToU32(A1))).toBe(true);
    const [r] = await returning;
    const rOuter = decodeIpv4(r!);
    expect(rOuter).toMatchObject({ src: A2, dst: A1, protocol: IpProtocol.GRE });
    expect(decodeMpls(decodeGre(rOuter.payload).payload).labels[0]!.label).toBe(17);
  });

  it('sends a batch with one sendmmsg and every packet arrives in order', async () => {
    const batch = [20, 21, 22, 23].map((label, i) => mplsOverGre(label, 10 + i).gre);
    const arriving = receive(s2, batch.length);
    expect(s1.sendMany(batch, batch.map(() => ipv4ToU32(A2)))).toBe(batch.length);
    const got = await arriving;
    expect(got.map((p) => decodeMpls(decodeGre(decodeIpv4(p).payload).payload).labels[0]!.label)).toEqual([20, 21, 22, 23]);
  });
});
