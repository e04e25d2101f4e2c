/**
 * The utilities' text layouts against the book's own printouts (read from the shared copy of
 * the book, trailing blanks and the author's "#<---" markers removed).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FLOW_LEGEND,
  Ipv4RouteTable,
  NextHopTable,
  VIF_LEGEND,
  VifTable,
  formatFlowEntry,
  formatFlowList,
  formatMplsTable,
  formatNextHop,
  formatNextHops,
  formatRtDump,
  formatRtGet,
  formatVifList,
  jsonReplacer,
  process,
  toJson,
  type FlowEntry,
  type FlowTableStats,
} from '../../../src/vrouter/index.js';
import { fromHex } from '../../../codecs/util/hex.js';
import { POD1, POD2, fromPod, makeLab, tcpPacket } from './lab.js';

const BOOK = readFileSync(new URL('../../../../shared/docs/seed-book-kubernetes-contrail-day-one.txt', import.meta.url), 'utf8').split('\n');

/** Book lines first..last (1-based, inclusive), as printed. */
function book(first: number, last: number): string[] {
  return BOOK.slice(first - 1, last).map((l) => l.replace(/\s*#<---\s*$/, '').trimEnd());
}

describe('rt', () => {
  it('prints rt --get 10.99.225.17/32 --vrf 2 as the book does (lines 8273-8278)', () => {
    const t = new Ipv4RouteTable();
    const r = t.add({ prefix: '10.99.225.17/32', nh: 50, label: 38, proxyArp: true });
    expect(formatRtGet(2, '10.99.225.17/32', r).split('\n').slice(0, 6)).toEqual(book(8273, 8278));
  });

  it('dumps every route under the same header, short prefixes padded like rt.c', () => {
    const t = new Ipv4RouteTable();
    t.add({ prefix: '0.0.0.0/8', nh: 1, trapArp: true });
    t.add({ prefix: '10.47.255.236/32', nh: 26, label: 38, proxyArp: true, ppl: 32, stitchedMac: { mac: '02:bd:e8:bc:46:9a', index: 131292 } });
    const lines = formatRtDump(2, t.list()).split('\n');
    expect(lines.slice(0, 3)).toEqual(book(8275, 8277));
    expect(lines[3]).toBe('0.0.0.0/8               0            T          -              1        -');
    expect(lines[4]).toBe('10.47.255.236/32       32           LP         38             26        2:bd:e8:bc:46:9a(131292)');
  });
});

describe('nh', () => {
  const refs: Record<number, number> = { 87: 2, 51: 18, 37: 5, 61: 5604, 50: 33, 26: 9 };
  const l2 = (hex: string) => fromHex(hex);

  it('prints Composite, Tunnel and Encap next hops as nh --get does (lines 5260-5273)', () => {
    const t = new NextHopTable();
    t.add({ id: 87, type: 'composite', vrf: 2, ecmp: true, policy: true, members: [{ nh: 51, label: 43 }, { nh: 37, label: 28 }] });
    t.add({ id: 51, type: 'tunnel', vrf: 0, encapType: 'MPLSoUDP', oif: 0, l2: l2('0050569ee6660050569e62250800'), sip: '10.169.25.20', dip: '10.169.25.21' });
    t.add({ id: 37, type: 'encap', vrf: 2, oif: 8, encap: l2('023051c0fc9e00005e0001000800'), encapFamily: 0x0806 });
    const text = formatNextHops([t.get(87)!, t.get(51)!, t.get(37)!], (id) => refs[id]!);
    expect(text.split('\n').slice(0, 14)).toEqual(book(5260, 5273));
  });

  it('prints the MPLSoGRE tunnel to the gateway and the pod Encap with Policy (lines 8172-8175, 8425-8428)', () => {
    const t = new NextHopTable();
    const gre = t.add({ id: 61, type: 'tunnel', vrf: 0, encapType: 'MPLSoGRE', oif: 0, l2: l2('f01c2d4190000050569e62250800'), sip: '10.169.25.20', dip: '192.168.0.204' });
    expect(formatNextHop(gre, 5604).split('\n')).toEqual(book(8172, 8175));
    const enc = t.add({ id: 26, type: 'encap', vrf: 2, oif: 4, encap: l2('02bde8bc469a00005e0001000800'), encapFamily: 0x0806, policy: true });
    expect(formatNextHop(enc, 9).split('\n')).toEqual(book(8425, 8428));
  });

  it('prints the pod next hop the router builds like the book one, and a Vxlan tunnel flag', () => {
    const lab = makeLab(undefined, 'VXLAN');
    const nh = lab.router.nhs.get(lab.router.vifs.get(POD2.vif)!.nh!)!;
    const lines = formatNextHop(nh, lab.router.nhRefCount(nh.id)).split('\n');
    expect(lines[1]).toBe('              Flags:Valid, Policy, Etree Root,');
    expect(lines[3]).toBe('              Encap Data: 02 bd e8 bc 46 9a 00 00 5e 00 01 00 08 00');
    // vif, label and /32 route refer to it.
    expect(lines[0]).toMatch(/Ref_cnt:3 +Vrf:2$/);
    expect(formatNextHop(lab.router.nhs.get(lab.tunnelB)!, 1).split('\n')[1]).toBe('              Flags:Valid, Vxlan, Etree Root,');
  });
});

describe('mpls', () => {
  it('prints the input label map as mpls --get 38 does (lines 8418-8422)', () => {
    expect(formatMplsTable([{ label: 38, nh: 26 }]).split('\n').slice(0, 5)).toEqual(book(8418, 8422));
  });
});

describe('vif', () => {
  it('prints the title, legend and a pod vif as vif -l does (lines 10609-10628)', () => {
    const t = new VifTable();
    const v = t.add({ index: 3, osName: 'tapeth0-89a4e2', type: 'virtual', vrf: 3, mac: '00:00:5e:00:01:00', ip: '10.47.255.252', plen: 12 });
    Object.assign(v.stats, { rxPackets: 10760, rxBytes: 452800, txPackets: 14239, txBytes: 598366, drops: 10744 });
    const lines = formatVifList([v]).split('\n');
    expect(lines.slice(0, 2)).toEqual(book(10609, 10610));
    // The book wraps the three longest legend lines at the page edge; the utility does not.
    const unwrapped = book(10611, 10619).reduce<string[]>((acc, l) => {
      if (/^\S/.test(l) && !l.startsWith('Flags:')) acc[acc.length - 1] += ` ${l}`;
      else acc.push(l);
      return acc;
    }, []);
    expect(VIF_LEGEND).toEqual(unwrapped.map((l) => l.replace(/ {2,}(?=\S)/g, (m, off) => (off === 0 ? m : ' '))));
    expect(lines.slice(2, 8)).toEqual(VIF_LEGEND);
    expect(lines.slice(9, 15)).toEqual(book(10623, 10628));
  });
});

describe('flow', () => {
  const entry = (o: Partial<FlowEntry> & Pick<FlowEntry, 'index' | 'rflow' | 'key' | 'action'>): FlowEntry => ({
    destVrf: o.key.vrf,
    keyNh: 0,
    rpfNh: 0,
    tcp: 0,
    gen: 1,
    packets: 0,
    bytes: 0,
    udpSrcPort: 0,
    ecmpIndex: -1,
    hash: 0,
    ttl: 0,
    sinfo: '0.0.0.0',
    isNew: false,
    created: 0,
    lastUsed: 0,
    ...o,
  });
  const SSrEEr = 0x1 | 0x2 | 0x4 | 0x8;
  const nat = (snat: boolean, dnat: boolean, spat: boolean, dpat: boolean) => ({ type: 'nat' as const, snat, dnat, spat, dpat });

  it('prints the FIP pair N(D) / N(S) as flow --match does (lines 8160-8168)', () => {
    const fwd = entry({
      index: 114272, rflow: 459264, gen: 3, keyNh: 89, rpfNh: 61, tcp: SSrEEr, packets: 2, bytes: 112, udpSrcPort: 50985, sinfo: '192.168.0.204',
      key: { vrf: 2, proto: 6, src: '15.15.15.2', dst: '101.101.101.1', sport: 42786, dport: 80 }, destVrf: 2, action: nat(false, true, false, false),
    });
    const rev = entry({
      index: 459264, rflow: 114272, keyNh: 89, rpfNh: 89, tcp: SSrEEr, packets: 1, bytes: 74, udpSrcPort: 60289, sinfo: '8.0.0.0',
      key: { vrf: 2, proto: 6, src: '10.47.255.238', dst: '15.15.15.2', sport: 80, dport: 42786 }, destVrf: 5, action: nat(true, false, false, false),
    });
    expect(formatFlowEntry(fwd).split('\n')).toEqual(book(8160, 8163));
    expect(formatFlowEntry(rev).split('\n')).toEqual(book(8165, 8168));
  });

  it('wraps N(SPs) / N(DPd) and F entries where the utility does (lines 5563-5566, 5520-5524)', () => {
    const spat = entry({
      index: 238980, rflow: 424192, keyNh: 24, rpfNh: 24, tcp: SSrEEr, packets: 8448, bytes: 202185290, udpSrcPort: 62581, sinfo: '3.0.0.0',
      key: { vrf: 2, proto: 6, src: '10.47.255.238', dst: '10.47.255.237', sport: 90, dport: 42332 }, destVrf: 3, action: nat(true, false, true, false),
    });
    expect(formatFlowEntry(spat).split('\n')).toEqual(book(5563, 5566));
    const fwd = entry({
      index: 40100, rflow: 340544, keyNh: 59, rpfNh: 59, tcp: SSrEEr, packets: 7878, bytes: 520046, udpSrcPort: 65053, sinfo: '6.0.0.0',
      key: { vrf: 3, proto: 6, src: '10.47.255.237', dst: '10.101.102.27', sport: 42332, dport: 9999 }, action: { type: 'forward' },
    });
    const lines = formatFlowEntry(fwd).split('\n');
    const want = book(5520, 5523);
    expect(lines[0]).toBe(want[0]);
    // The book lost the ':' of 10.101.102.27:9999 in print.
    expect(lines[1]).toBe(want[1]!.replace('279999', '27:9999'));
    expect(lines.slice(2)).toEqual(want.slice(2));
  });

  it('prints the header, legend and the policy drop pair (lines 9299-9317)', () => {
    const stats: FlowTableStats = { created: 33, added: 33, deleted: 30, changed: 54, processed: 33, overflow: 0 };
    const rev = entry({
      index: 158672, rflow: 495824, keyNh: 59, rpfNh: 63, tcp: 0x2, udpSrcPort: 54194,
      key: { vrf: 5, proto: 6, src: '10.47.255.232', dst: '10.47.255.233', sport: 80, dport: 42282 }, action: { type: 'drop', reason: 'Unknown' },
    });
    const text = formatFlowList({ entries: [rev], stats, capacity: 629760, sizeBytes: 80609280, perCpu: [7, 9, 11, 6], match: { ip: '10.47.255.232', port: 80 } });
    expect(text.split('\n').slice(0, 19)).toEqual(book(9299, 9317));
    expect(FLOW_LEGEND).toEqual(book(9304, 9307));
  });

  it('prints what the pipeline recorded for a denied SYN', () => {
    const lab = makeLab((ctx) => (ctx.key.dport === 80 ? { action: 'drop', reason: 'FwPolicy' } : { action: 'forward' }));
    process(lab.router, fromPod(POD1, tcpPacket(POD1.ip, POD2.ip, 42282, 80, { syn: true })), POD1.vif);
    const f = lab.router.flows;
    const text = formatFlowList({ entries: f.match(POD2.ip, 80), stats: f.stats, capacity: f.capacity, sizeBytes: f.sizeBytes, match: { ip: POD2.ip, port: 80 } });
    expect(text).toContain('Flow table(size 80609280, entries 629760)');
    expect(text).toMatch(/Action:D\(FwPolicy\), Flags:, TCP:S, QOS:-1, S\(nh\):\d+,\n Stats:1\/54,  SPort \d+, TTL 0, Sinfo 3\.0\.0\.0\)/);
    expect(text).toMatch(/Action:D\(Unknown\), Flags:, TCP:Sr, QOS:-1, S\(nh\):\d+,\n Stats:0\/0,  SPort \d+, TTL 0, Sinfo 0\.0\.0\.0\)/);
  });
});

describe('--json', () => {
  it('writes bytes as hex and keeps the rest as plain values', () => {
    const lab = makeLab();
    const nh = lab.router.nhs.get(lab.router.vifs.get(POD1.vif)!.nh!)!;
    const parsed = JSON.parse(toJson(nh)) as Record<string, unknown>;
    expect(parsed).toMatchObject({ type: 'encap', vrf: 2, oif: POD1.vif, encap: '023051c0fc9e00005e0001000800', encapFamily: 0x0806 });
    expect(jsonReplacer('x', new Uint8Array([1, 2]))).toBe('0102');
    expect(JSON.parse(toJson(lab.router.vifs.get(POD1.vif)))).toMatchObject({ index: POD1.vif, ip: POD1.ip, gateway: '10.47.255.254' });
  });
});
