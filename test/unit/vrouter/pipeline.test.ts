import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArpOp,
  decodeArp,
  decodeEthernet,
  decodeGre,
  decodeIcmp,
  decodeIpv4,
  decodeMpls,
  decodeUdp,
  decodeVxlan,
  tcpChecksumOk,
  udpChecksumOk,
} from '../../../codecs/net/index.js';
import { internetChecksum } from '../../../codecs/util/checksum.js';
import { bytesEqual } from '../../../codecs/util/hex.js';
import { flowActionString, gratuitousArps, natPolicy, process, tcpStateString, type Action } from '../../../src/vrouter/index.js';
import { writePcap } from '../net/pcap-frames.js';
import { tsharkFields } from '../net/tshark.js';
import {
  GATEWAY,
  NODE_A,
  NODE_B,
  POD1,
  POD2,
  POD_VRF,
  REMOTE_POD,
  arpRequest,
  fromPod,
  icmpPacket,
  makeLab,
  mplsOverGreFrame,
  mplsOverUdpFrame,
  tcpPacket,
  udpPacket,
  vxlanFrame,
  emitted,
  one,
  tunnelled,
} from './lab.js';

const VROUTER_MAC = '00:00:5e:00:01:00';

function dropped(a: Action): string {
  if (a.type !== 'drop') throw new Error(`expected drop, got ${a.type}`);
  return a.reason;
}

/** Tunnel output as the fabric carries it: underlay Ethernet + the outer datagram. */
const tunnelFrames: Uint8Array[] = [];
function onFabric(a: Extract<Action, { type: 'tunnel' }>): void {
  const f = new Uint8Array(14 + a.bytes.length);
  f.set([0x00, 0x50, 0x56, 0x9e, 0xe6, 0x66, 0x00, 0x50, 0x56, 0x9e, 0x62, 0x25, 0x08, 0x00]);
  f.set(a.bytes, 14);
  tunnelFrames.push(f);
}

describe('ARP from a pod', () => {
  const lab = makeLab();
  it('answers the subnet .254 and .253 with the vRouter MAC', () => {
    for (const target of ['10.47.255.254', '10.47.255.253']) {
      const out = emitted(one(process(lab.router, arpRequest(POD1.mac, POD1.ip, target), POD1.vif)));
      expect(out.vif).toBe(POD1.vif);
      const eth = decodeEthernet(out.bytes);
      expect(eth.dst).toBe(POD1.mac);
      expect(eth.src).toBe(VROUTER_MAC);
      expect(eth.etherType).toBe(0x0806);
      const arp = decodeArp(eth.payload);
      expect(arp).toMatchObject({ op: ArpOp.REPLY, sha: VROUTER_MAC, spa: target, tha: POD1.mac, tpa: POD1.ip });
    }
  });

  it('answers for local and remote pods of the VRF, not for unknown or own addresses', () => {
    for (const target of [POD2.ip, REMOTE_POD.ip]) {
      const arp = decodeArp(decodeEthernet(emitted(one(process(lab.router, arpRequest(POD1.mac, POD1.ip, target), POD1.vif))).bytes).payload);
      expect(arp.sha).toBe(VROUTER_MAC);
      expect(arp.spa).toBe(target);
    }
    expect(dropped(one(process(lab.router, arpRequest(POD1.mac, POD1.ip, '10.47.1.1'), POD1.vif)))).toBe('ArpNoWhereToGo');
    expect(dropped(one(process(lab.router, arpRequest(POD1.mac, POD1.ip, POD1.ip), POD1.vif)))).toBe('ArpNoWhereToGo');
  });

  it('sends gratuitous ARPs for .254 and .253 to the pod, as the book capture shows', () => {
    const frames = gratuitousArps(lab.router, lab.router.vifs.get(POD1.vif)!);
    expect(frames.map((f) => f.length)).toEqual([42, 42]);
    const arps = frames.map((f) => decodeArp(decodeEthernet(f).payload));
    expect(arps.map((a) => [a.op, a.spa, a.tpa])).toEqual([
      [1, '10.47.255.254', '10.47.255.254'],
      [1, '10.47.255.253', '10.47.255.253'],
    ]);
    expect(decodeEthernet(frames[0]!).dst).toBe(POD1.mac);
  });
});

describe('pod to pod on the same vRouter', () => {
  const lab = makeLab();
  it('routes with the L2 rewrite, decrements TTL and keeps the IP checksum right', () => {
    const ip = icmpPacket(POD1.ip, POD2.ip, 0x20a, 1);
    const out = emitted(one(process(lab.router, fromPod(POD1, ip), POD1.vif)));
    expect(out.vif).toBe(POD2.vif);
    const eth = decodeEthernet(out.bytes);
    expect(eth.dst).toBe(POD2.mac);
    expect(eth.src).toBe(VROUTER_MAC);
    const got = decodeIpv4(eth.payload);
    expect(got.ttl).toBe(63);
    expect(got.checksumOk).toBe(true);
    expect(bytesEqual(got.payload, decodeIpv4(ip).payload)).toBe(true);
    // The echo reply is the reverse flow of the same pair.
    const back = emitted(one(process(lab.router, fromPod(POD2, icmpPacket(POD2.ip, POD1.ip, 0x20a, 1, true)), POD2.vif)));
    expect(back.vif).toBe(POD1.vif);
    expect(decodeIcmp(decodeIpv4(decodeEthernet(back.bytes).payload).payload).type).toBe(0);
    expect(lab.router.flows.size).toBe(2);
    const [a, b] = lab.router.flows.list();
    expect(a!.packets + b!.packets).toBe(2);
    expect(lab.router.vifs.get(POD2.vif)!.stats.txPackets).toBe(1);
    expect(lab.router.vifs.get(POD1.vif)!.stats.rxPackets).toBe(1);
  });

  it('drops a packet whose TTL would run out', () => {
    expect(dropped(one(process(lab.router, fromPod(POD1, icmpPacket(POD1.ip, POD2.ip, 7, 1, false, 1)), POD1.vif)))).toBe('TtlExceeded');
  });
});

describe('pod to remote pod through each encapsulation', () => {
  for (const encap of ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] as const) {
    it(`${encap}: outer headers, label/VNI and inner packet`, () => {
      const lab = makeLab(undefined, encap);
      const ip = tcpPacket(POD1.ip, REMOTE_POD.ip, 42332, 80, { syn: true });
      const t = tunnelled(one(process(lab.router, fromPod(POD1, ip), POD1.vif)));
      onFabric(t);
      expect(t).toMatchObject({ encap, src: NODE_A, dst: NODE_B, label: REMOTE_POD.label });
      const outer = decodeIpv4(t.bytes);
      expect(outer.src).toBe(NODE_A);
      expect(outer.dst).toBe(NODE_B);
      expect(outer.checksumOk).toBe(true);
      expect(outer.truncated).toBe(false);
      let inner: Uint8Array;
      if (encap === 'MPLSoGRE') {
        expect(outer.protocol).toBe(47);
        const gre = decodeGre(outer.payload);
        expect(gre).toMatchObject({ protocolType: 0x8847, checksumPresent: false, keyPresent: false, sequencePresent: false, version: 0 });
        const mpls = decodeMpls(gre.payload);
        expect(mpls.labels).toEqual([{ label: 38, tc: 0, bottom: true, ttl: 63 }]);
        inner = mpls.payload;
      } else {
        expect(outer.protocol).toBe(17);
        const udp = decodeUdp(outer.payload);
        expect(udp.length).toBe(outer.payload.length);
        expect(udp.srcPort).toBeGreaterThanOrEqual(49152);
        expect(udp.srcPort).toBeLessThanOrEqual(65535);
        expect(udp.srcPort).toBe(t.srcPort);
        expect(udpChecksumOk(NODE_A, NODE_B, outer.payload)).toBeUndefined(); // 0: none, as vRouter sends
        expect(bytesEqual(t.bytes.subarray(t.udpPayloadOffset!), udp.payload)).toBe(true);
        if (encap === 'MPLSoUDP') {
          expect(udp.dstPort).toBe(6635);
          const mpls = decodeMpls(udp.payload);
          expect(mpls.labels).toEqual([{ label: 38, tc: 0, bottom: true, ttl: 63 }]);
          inner = mpls.payload;
        } else {
          expect(udp.dstPort).toBe(4789);
          const vx = decodeVxlan(udp.payload);
          expect(vx.flags).toBe(0x08);
          expect(vx.vni).toBe(38);
          const eth = decodeEthernet(vx.payload);
          expect(eth.etherType).toBe(0x0800);
          inner = eth.payload;
        }
      }
      const in4 = decodeIpv4(inner);
      expect(in4).toMatchObject({ src: POD1.ip, dst: REMOTE_POD.ip, ttl: 63, checksumOk: true });
      expect(tcpChecksumOk(POD1.ip, REMOTE_POD.ip, in4.payload)).toBe(true);
      // Same flow, same entropy port; the flow remembers it.
      const again = tunnelled(one(process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, REMOTE_POD.ip, 42332, 80, { ack: true })), POD1.vif)));
      expect(again.srcPort).toBe(t.srcPort);
      const flow = lab.router.flows.lookup({ vrf: POD_VRF, proto: 6, src: POD1.ip, dst: REMOTE_POD.ip, sport: 42332, dport: 80 })!;
      if (encap !== 'MPLSoGRE') expect(flow.udpSrcPort).toBe(t.srcPort);
      expect(flow.keyNh).toBe(lab.router.vifs.get(POD1.vif)!.nh);
      expect(flow.rpfNh).toBe(lab.router.vifs.get(POD1.vif)!.nh);
      expect(flow.sinfo).toBe(`${POD1.vif}.0.0.0`);
    });
  }

  it('spreads different flows over the entropy port range', () => {
    const lab = makeLab();
    const ports = new Set<number>();
    for (let sport = 40000; sport < 40050; sport++) {
      ports.add(tunnelled(one(process(lab.router, fromPod(POD1, udpPacket(POD1.ip, REMOTE_POD.ip, sport, 53, new Uint8Array(4))), POD1.vif))).srcPort!);
    }
    expect(ports.size).toBeGreaterThan(40);
  });
});

describe('tshark reads the tunnel packets as well-formed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-vrouter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('shows the labels, VNI, ports and inner addresses we sent, with no malformed packet', () => {
    expect(tunnelFrames).toHaveLength(3);
    const file = join(dir, 'tunnels.pcap');
    writePcap(file, tunnelFrames);
    const fields = ['ip.src', 'ip.dst', 'ip.checksum.status', 'udp.dstport', 'gre.proto', 'mpls.label', 'mpls.ttl', 'vxlan.vni', 'tcp.srcport', 'tcp.checksum.status', '_ws.malformed', '_ws.expert.severity'];
    const rows = tsharkFields(file, fields, ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE']);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r['ip.src']).toBe(`${NODE_A},${POD1.ip}`);
      expect(r['ip.dst']).toBe(`${NODE_B},${REMOTE_POD.ip}`);
      expect(r['ip.checksum.status']).toBe('1,1');
      expect(r['tcp.srcport']).toBe('42332');
      expect(r['tcp.checksum.status']).toBe('1');
      expect(r['_ws.malformed']).toBe('');
    }
    expect(rows[0]).toMatchObject({ 'udp.dstport': '6635', 'mpls.label': '38', 'mpls.ttl': '63' });
    expect(rows[1]).toMatchObject({ 'gre.proto': '0x8847', 'mpls.label': '38', 'mpls.ttl': '63' });
    expect(rows[2]).toMatchObject({ 'udp.dstport': '4789', 'vxlan.vni': '38' });
  });
});

describe('fabric to pod', () => {
  it('decapsulates MPLSoUDP (6635 and 51234), MPLSoGRE and VXLAN to the pod the label or VNI names', () => {
    const lab = makeLab();
    lab.router.vnis.set(5, POD_VRF);
    const frames = [
      mplsOverUdpFrame(lab.pod1Label, icmpPacket(REMOTE_POD.ip, POD1.ip, 1, 1)),
      mplsOverUdpFrame(lab.pod1Label, icmpPacket(REMOTE_POD.ip, POD1.ip, 2, 1), NODE_B, 51234),
      mplsOverGreFrame(lab.pod1Label, icmpPacket(REMOTE_POD.ip, POD1.ip, 3, 1), NODE_B),
      vxlanFrame(5, icmpPacket(REMOTE_POD.ip, POD1.ip, 4, 1)),
    ];
    for (const f of frames) {
      const out = emitted(one(process(lab.router, f, 0)));
      expect(out.vif).toBe(POD1.vif);
      const eth = decodeEthernet(out.bytes);
      expect(eth.dst).toBe(POD1.mac);
      expect(eth.src).toBe(VROUTER_MAC);
      const ip = decodeIpv4(eth.payload);
      expect(ip).toMatchObject({ src: REMOTE_POD.ip, dst: POD1.ip, ttl: 64, checksumOk: true });
    }
    const f = lab.router.flows.lookup({ vrf: POD_VRF, proto: 1, src: REMOTE_POD.ip, dst: POD1.ip, sport: 1, dport: 0 })!;
    expect(f.sinfo).toBe(NODE_B);
    expect(f.keyNh).toBe(lab.router.vifs.get(POD1.vif)!.nh);
    expect(f.rpfNh).toBe(lab.tunnelB);
    // The pod's reply goes back through the reverse entry of that pair.
    const reply = tunnelled(one(process(lab.router, fromPod(POD1, icmpPacket(POD1.ip, REMOTE_POD.ip, 1, 1, true)), POD1.vif)));
    expect(reply.label).toBe(REMOTE_POD.label);
    expect(lab.router.flows.size).toBe(8);
  });

  it('hands the host what is not overlay traffic', () => {
    const lab = makeLab();
    const notOurs = mplsOverUdpFrame(lab.pod1Label, icmpPacket(REMOTE_POD.ip, POD1.ip, 1, 1));
    notOurs[14 + 19] = 99; // outer destination 10.169.25.99
    notOurs[14 + 10] = 0;
    expect(one(process(lab.router, notOurs, 0)).type).toBe('host');
    expect(one(process(lab.router, mplsOverUdpFrame(lab.pod1Label, new Uint8Array(0), NODE_B, 7000), 0)).type).toBe('host');
  });
});

describe('drops with a reason, never an exception', () => {
  const lab = makeLab();
  lab.router.vnis.set(5, POD_VRF);
  const inner = icmpPacket(REMOTE_POD.ip, POD1.ip, 1, 1);

  it('unknown label, wrong VNI, VXLAN without the I flag, stacked labels', () => {
    expect(dropped(one(process(lab.router, mplsOverUdpFrame(999, inner), 0)))).toBe('InvalidLabel');
    expect(dropped(one(process(lab.router, mplsOverGreFrame(3, inner), 0)))).toBe('InvalidLabel');
    expect(dropped(one(process(lab.router, vxlanFrame(6, inner), 0)))).toBe('InvalidVnid');
    expect(dropped(one(process(lab.router, vxlanFrame(5, inner, NODE_B, 0), 0)))).toBe('InvalidVnid');
    expect(lab.router.drops.InvalidLabel).toBe(2);
    expect(lab.router.drops.InvalidVnid).toBe(2);
  });

  it('truncated and malformed frames', () => {
    const good = mplsOverUdpFrame(lab.pod1Label, inner);
    expect(dropped(one(process(lab.router, good.subarray(0, good.length - 10), 0)))).toBe('InvalidPacket');
    expect(dropped(one(process(lab.router, good.subarray(0, 10), 0)))).toBe('InvalidPacket');
    const podFrame = fromPod(POD1, tcpPacket(POD1.ip, POD2.ip, 1, 2, { syn: true }));
    expect(dropped(one(process(lab.router, podFrame.subarray(0, 40), POD1.vif)))).toBe('InvalidPacket');
    const badSum = podFrame.slice();
    badSum[14 + 10] = badSum[14 + 10]! ^ 0xff;
    expect(dropped(one(process(lab.router, badSum, POD1.vif)))).toBe('InvalidPacket');
    // An IP header claiming a TCP segment shorter than a TCP header.
    const shortTcp = fromPod(POD1, tcpPacket(POD1.ip, POD2.ip, 1, 2, { syn: true }).subarray(0, 30));
    shortTcp[14 + 3] = 30;
    shortTcp[14 + 10] = 0;
    shortTcp[14 + 11] = 0;
    const c = internetChecksum(shortTcp, 14, 34);
    shortTcp[24] = c >>> 8;
    shortTcp[25] = c & 0xff;
    expect(dropped(one(process(lab.router, shortTcp, POD1.vif)))).toBe('InvalidPacket');
    expect(dropped(one(process(lab.router, fromPod(POD1, new Uint8Array(0)).subarray(0, 14), POD1.vif)))).toBe('InvalidPacket');
    expect(dropped(one(process(lab.router, podFrame, 42)))).toBe('InvalidIf');
  });

  it('survives random bytes and random corruptions of good frames', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const seeds = [
      mplsOverUdpFrame(lab.pod1Label, inner),
      mplsOverGreFrame(lab.pod1Label, inner),
      vxlanFrame(5, inner),
      fromPod(POD1, tcpPacket(POD1.ip, REMOTE_POD.ip, 5, 6, { syn: true })),
      arpRequest(POD1.mac, POD1.ip, '10.47.255.254'),
    ];
    for (let i = 0; i < 3000; i++) {
      const base = seeds[i % seeds.length]!;
      let f: Uint8Array;
      if (i % 4 === 0) f = Uint8Array.from({ length: Math.floor(rnd() * 120) }, () => Math.floor(rnd() * 256));
      else {
        f = base.slice(0, Math.max(0, base.length - Math.floor(rnd() * 8)));
        for (let k = 0; k < 3; k++) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
      }
      const actions = process(lab.router, f, i % 2 === 0 ? 0 : POD1.vif);
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) if (a.type === 'drop') expect(a.reason).not.toBe('InternalError');
    }
  });
});

describe('floating IP: DNAT in, SNAT out', () => {
  const FIP = '203.0.113.1';
  const HOST = '198.51.100.2';
  const FIP_VRF = 5;
  const lab = makeLab(natPolicy({ floatingIps: [{ fixedIp: POD1.ip, vrf: POD_VRF, fip: FIP, fipVrf: FIP_VRF }] }));
  const gre = lab.router.tunnelTo(GATEWAY, 'MPLSoGRE');
  const fipVrf = lab.router.vrfs.ensure(FIP_VRF);
  fipVrf.routes.add({ prefix: '198.51.100.0/24', nh: gre.id, label: 299808 });
  fipVrf.routes.add({ prefix: `${FIP}/32`, nh: lab.router.vifs.get(POD1.vif)!.nh!, label: lab.pod1Label, proxyArp: true });

  it('translates the host -> FIP SYN to the pod address with good checksums', () => {
    const syn = tcpPacket(HOST, FIP, 42786, 80, { syn: true });
    const out = emitted(one(process(lab.router, mplsOverGreFrame(lab.pod1Label, syn), 0)));
    expect(out.vif).toBe(POD1.vif);
    const ip = decodeIpv4(decodeEthernet(out.bytes).payload);
    expect(ip).toMatchObject({ src: HOST, dst: POD1.ip, checksumOk: true });
    expect(tcpChecksumOk(HOST, POD1.ip, ip.payload)).toBe(true);
  });

  it('translates the pod reply back to the FIP and sends it over GRE to the gateway', () => {
    const synAck = tcpPacket(POD1.ip, HOST, 80, 42786, { syn: true, ack: true });
    const t = tunnelled(one(process(lab.router, fromPod(POD1, synAck), POD1.vif)));
    expect(t).toMatchObject({ encap: 'MPLSoGRE', dst: GATEWAY, label: 299808 });
    const mpls = decodeMpls(decodeGre(decodeIpv4(t.bytes).payload).payload);
    const ip = decodeIpv4(mpls.payload);
    expect(ip).toMatchObject({ src: FIP, dst: HOST, checksumOk: true, ttl: 63 });
    expect(tcpChecksumOk(FIP, HOST, ip.payload)).toBe(true);
    process(lab.router, mplsOverGreFrame(lab.pod1Label, tcpPacket(HOST, FIP, 42786, 80, { ack: true })), 0);
  });

  it('shows the pair as N(D) (2->2) and N(S) (2->5), established both ways', () => {
    const [fwd, rev] = [...lab.router.flows.list()].sort((a, b) => (a.key.src === HOST ? -1 : b.key.src === HOST ? 1 : 0));
    expect(flowActionString(fwd!.action)).toBe('N(D)');
    expect(flowActionString(rev!.action)).toBe('N(S)');
    expect([fwd!.key.vrf, fwd!.destVrf, rev!.key.vrf, rev!.destVrf]).toEqual([POD_VRF, POD_VRF, POD_VRF, FIP_VRF]);
    expect(tcpStateString(fwd!.tcp)).toBe('SSrEEr');
    expect(tcpStateString(rev!.tcp)).toBe('SSrEEr');
    expect(rev!.key).toMatchObject({ src: POD1.ip, dst: HOST, sport: 80, dport: 42786 });
    expect(fwd!.rpfNh).toBe(gre.id);
    expect(fwd!.sinfo).toBe(GATEWAY);
  });

  it('SNATs a pod-initiated connection to the FIP network, and matches the reply', () => {
    const out = tunnelled(one(process(lab.router, fromPod(POD1, udpPacket(POD1.ip, '198.51.100.9', 5000, 53, new Uint8Array(8))), POD1.vif)));
    const ip = decodeIpv4(decodeMpls(decodeGre(decodeIpv4(out.bytes).payload).payload).payload);
    expect(ip.src).toBe(FIP);
    expect(udpChecksumOk(FIP, '198.51.100.9', ip.payload)).toBe(true);
    const back = emitted(one(process(lab.router, mplsOverGreFrame(lab.pod1Label, udpPacket('198.51.100.9', FIP, 53, 5000, new Uint8Array(8))), 0)));
    const bip = decodeIpv4(decodeEthernet(back.bytes).payload);
    expect(bip.dst).toBe(POD1.ip);
    expect(udpChecksumOk('198.51.100.9', POD1.ip, bip.payload)).toBe(true);
    expect(lab.router.flows.size).toBe(4);
  });
});

describe('ECMP over a Composite next hop', () => {
  const VIP = '10.96.0.10';
  const lab = makeLab();
  const comp = lab.router.nhs.add({
    type: 'composite',
    vrf: POD_VRF,
    ecmp: true,
    policy: true,
    members: [
      { nh: lab.tunnelB, label: 43 },
      { nh: lab.router.vifs.get(POD2.vif)!.nh!, label: lab.pod2Label },
    ],
  });
  lab.router.vrfs.get(POD_VRF)!.routes.add({ prefix: `${VIP}/32`, nh: comp.id, label: 0, proxyArp: true });

  it('spreads new connections over both members and keeps each connection on its member', () => {
    const seen = new Map<number, string>();
    for (let sport = 30000; sport < 30040; sport++) {
      const a = one(process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, VIP, sport, 8888, { syn: true })), POD1.vif));
      const where = a.type === 'tunnel' ? `tunnel:${a.label}` : a.type === 'emit' ? `vif:${a.vif}` : a.type;
      seen.set(sport, where);
      const b = one(process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, VIP, sport, 8888, { ack: true })), POD1.vif));
      expect(b.type === 'tunnel' ? `tunnel:${b.label}` : b.type === 'emit' ? `vif:${b.vif}` : b.type).toBe(where);
    }
    const counts = [...seen.values()].reduce<Record<string, number>>((m, w) => ((m[w] = (m[w] ?? 0) + 1), m), {});
    expect(Object.keys(counts).sort()).toEqual(['tunnel:43', `vif:${POD2.vif}`]);
    expect(counts['tunnel:43']).toBeGreaterThan(8);
    expect(counts[`vif:${POD2.vif}`]).toBeGreaterThan(8);
  });
});

describe('service VIP on the backend node: DNAT+DPAT in, SNAT+SPAT out', () => {
  const VIP = '10.96.0.10';
  const lab = makeLab(natPolicy({ vips: [{ vip: VIP, port: 8888, proto: 6, backend: POD1.ip, targetPort: 80 }] }));
  it('rewrites address and port both ways', () => {
    const out = emitted(one(process(lab.router, mplsOverUdpFrame(lab.pod1Label, tcpPacket(REMOTE_POD.ip, VIP, 54500, 8888, { syn: true })), 0)));
    const ip = decodeIpv4(decodeEthernet(out.bytes).payload);
    expect(ip.dst).toBe(POD1.ip);
    expect((ip.payload[2]! << 8) | ip.payload[3]!).toBe(80);
    expect(tcpChecksumOk(REMOTE_POD.ip, POD1.ip, ip.payload)).toBe(true);
    const back = tunnelled(one(process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, REMOTE_POD.ip, 80, 54500, { syn: true, ack: true })), POD1.vif)));
    const bip = decodeIpv4(decodeMpls(decodeUdp(decodeIpv4(back.bytes).payload).payload).payload);
    expect(bip.src).toBe(VIP);
    expect((bip.payload[0]! << 8) | bip.payload[1]!).toBe(8888);
    expect(tcpChecksumOk(VIP, REMOTE_POD.ip, bip.payload)).toBe(true);
    const actions = lab.router.flows.list().map((e) => flowActionString(e.action)).sort();
    expect(actions).toEqual(['N(DPd)', 'N(SPs)']);
  });
});

describe('policy drop and TCP close', () => {
  it('a denied SYN creates D(FwPolicy) / D(Unknown) and later packets drop on the flow', () => {
    const lab = makeLab((ctx) => (ctx.key.dport === 80 ? { action: 'drop', reason: 'FwPolicy' } : { action: 'forward' }));
    for (let i = 0; i < 3; i++) {
      expect(dropped(one(process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, POD2.ip, 42282, 80, { syn: true })), POD1.vif)))).toBe('FlowActionDrop');
    }
    const f = lab.router.flows.lookup({ vrf: POD_VRF, proto: 6, src: POD1.ip, dst: POD2.ip, sport: 42282, dport: 80 })!;
    const r = lab.router.flows.get(f.rflow)!;
    expect(flowActionString(f.action)).toBe('D(FwPolicy)');
    expect(flowActionString(r.action)).toBe('D(Unknown)');
    expect([f.packets, f.bytes, r.packets, r.bytes]).toEqual([3, 3 * 54, 0, 0]);
    expect(tcpStateString(f.tcp)).toBe('S');
    expect(tcpStateString(r.tcp)).toBe('Sr');
    expect(lab.router.drops.FlowActionDrop).toBe(3);
    expect(lab.router.vifs.get(POD1.vif)!.stats.drops).toBe(3);
  });

  it('removes the pair after FIN/FIN/ACK and ages idle pairs on the fake clock', () => {
    const lab = makeLab();
    const send = (a: typeof POD1, b: typeof POD1, sp: number, dp: number, flags: Record<string, boolean>) =>
      one(process(lab.router, fromPod(a, tcpPacket(a.ip, b.ip, sp, dp, flags)), a.vif));
    send(POD1, POD2, 1111, 80, { syn: true });
    send(POD2, POD1, 80, 1111, { syn: true, ack: true });
    send(POD1, POD2, 1111, 80, { ack: true });
    send(POD1, POD2, 1111, 80, { fin: true, ack: true });
    send(POD2, POD1, 80, 1111, { fin: true, ack: true });
    expect(lab.router.flows.size).toBe(2);
    expect(emitted(send(POD1, POD2, 1111, 80, { ack: true })).vif).toBe(POD2.vif);
    expect(lab.router.flows.size).toBe(0);

    send(POD1, POD2, 2222, 53, {});
    lab.now.t += 179_000;
    expect(lab.router.ageFlows()).toBe(0);
    lab.now.t += 1_000;
    expect(lab.router.ageFlows()).toBe(2);
    expect(lab.router.flows.size).toBe(0);
  });
});

