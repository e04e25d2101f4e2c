/** The gateway's forwarding core with no kernel: Internet frames to MPLSoGRE, MPLSoGRE to the TAP (src/gateway/forwarder.ts). */
import { describe, expect, it } from 'vitest';
import { EtherType, IpProtocol, decodeEthernet, decodeGre, decodeIpv4, decodeMpls } from '../../../codecs/net/index.js';
import { GatewayForwarder } from '../../../src/gateway/forwarder.js';
import { importedPaths, ribPathsFromText, selectRoutes } from '../../../src/gateway/gobgp-rib.js';
import { GW_LABEL, LOOPBACK, TAP_MAC, fabricGre, gobgpPath, internetFrame, rib } from './support.js';

describe('gateway: forwarding core', () => {
  const make = () => {
    const f = new GatewayForwarder({ localAddress: LOOPBACK, label: GW_LABEL, accept: ['198.51.100.0/24'], tapMac: TAP_MAC });
    const { paths } = ribPathsFromText(
      rib([
        gobgpPath({ prefix: '203.0.113.2/32', label: 30, rd: '10.169.25.20:5', nh: '10.169.25.20', rts: ['500:500'] }),
        gobgpPath({ prefix: '203.0.113.0/24', label: 33, rd: '10.169.25.20:9', nh: '10.169.25.20', rts: ['500:500'] }),
        gobgpPath({ prefix: '203.0.113.3/32', label: 31, rd: '10.169.25.20:6', nh: '10.169.25.20', rts: ['500:500'] }),
        gobgpPath({ prefix: '203.0.113.3/32', label: 41, rd: '10.169.25.21:6', nh: '10.169.25.21', rts: ['500:500'] }),
      ]),
    );
    f.setRoutes(selectRoutes(importedPaths(paths, { importRts: ['target:500:500'] })));
    return f;
  };

  it('sends an Internet packet to a FIP as MPLSoGRE from the loopback with the longest match label', () => {
    const f = make();
    const a = f.fromInternet(internetFrame('198.51.100.2', '203.0.113.2', 'icmp', 1, 63));
    expect(a.type).toBe('fabric');
    if (a.type !== 'fabric') return;
    const outer = decodeIpv4(a.packet);
    expect(outer).toMatchObject({ src: LOOPBACK, dst: '10.169.25.20', protocol: IpProtocol.GRE, checksumOk: true });
    const gre = decodeGre(outer.payload);
    expect(gre).toMatchObject({ protocolType: 0x8847, version: 0, checksumPresent: false, keyPresent: false });
    const mpls = decodeMpls(gre.payload);
    expect(mpls.labels).toEqual([{ label: 30, tc: 0, bottom: true, ttl: 63 }]);
    expect(decodeIpv4(mpls.payload)).toMatchObject({ src: '198.51.100.2', dst: '203.0.113.2', ttl: 63 });
    const b = f.fromInternet(internetFrame('198.51.100.2', '203.0.113.7', 'icmp', 1));
    expect(b.type === 'fabric' && decodeMpls(decodeGre(decodeIpv4(b.packet).payload).payload).labels[0]!.label).toBe(33);
    expect(f.fromInternet(internetFrame('198.51.100.2', '192.0.2.1', 'icmp', 1))).toMatchObject({ type: 'drop', reason: 'NoRoute' });
    expect(f.counters.drops.NoRoute).toBe(1);
  });

  it('spreads flows over ECMP members by the 5-tuple and keeps each flow on one', () => {
    const f = make();
    const memberOf = (sport: number) => {
      const a = f.fromInternet(internetFrame('198.51.100.2', '203.0.113.3', 'udp', sport));
      return a.type === 'fabric' ? a.dst : a.type;
    };
    const first = new Map<number, string>();
    for (let sport = 40000; sport < 40064; sport++) first.set(sport, memberOf(sport));
    const counts = [...first.values()].reduce<Record<string, number>>((m, d) => ((m[d] = (m[d] ?? 0) + 1), m), {});
    expect(Object.keys(counts).sort()).toEqual(['10.169.25.20', '10.169.25.21']);
    expect(Math.min(...Object.values(counts))).toBeGreaterThan(10);
    for (const [sport, dst] of first) expect(memberOf(sport)).toBe(dst);
    const paths = f.routes().find((r) => r.prefix === '203.0.113.3/32')!.paths;
    expect(paths.reduce((n, p) => n + p.packets, 0)).toBe(128);
  });

  it('delivers MPLSoGRE with its own label to the TAP and counts everything else as drops', () => {
    const f = make();
    const a = f.fromFabric(fabricGre(GW_LABEL, '198.51.100.2'));
    expect(a.type).toBe('tap');
    if (a.type !== 'tap') return;
    const eth = decodeEthernet(a.frame);
    expect(eth).toMatchObject({ dst: TAP_MAC, etherType: EtherType.IPV4 });
    expect(decodeIpv4(eth.payload)).toMatchObject({ src: '203.0.113.2', dst: '198.51.100.2', ttl: 64, checksumOk: true });
    const cases: [Uint8Array, string][] = [
      [fabricGre(30, '198.51.100.2'), 'InvalidLabel'],
      [fabricGre(GW_LABEL, '10.169.25.21'), 'NoRoute'],
      [fabricGre(GW_LABEL, '198.51.100.2', { greProto: 0x0800 }), 'InvalidProtocol'],
      [fabricGre(GW_LABEL, '198.51.100.2', { outerDst: '10.169.25.1' }), 'InvalidPacket'],
      [fabricGre(GW_LABEL, '198.51.100.2').subarray(0, 26), 'InvalidPacket'],
      [fabricGre(GW_LABEL, '198.51.100.2').subarray(0, 30), 'InvalidPacket'],
      [new Uint8Array(0), 'InvalidPacket'],
    ];
    for (const [pkt, reason] of cases) expect(f.fromFabric(pkt), reason).toMatchObject({ type: 'drop', reason });
    expect(f.counters.fabric).toEqual({ rx: 8, toInternet: 1 });
    expect(f.fromInternet(new Uint8Array(5))).toMatchObject({ type: 'drop', reason: 'InvalidPacket' });
  });
});
