import { describe, expect, it } from 'vitest';
import {
  FIRST_UNICAST_LABEL,
  FlowTable,
  Ipv4RouteTable,
  MplsTable,
  NextHopTable,
  TcpState,
  VifTable,
  VniTable,
  ipv4ToInt,
  intToIpv4,
  routeFlags,
  tcpStateString,
  updateTcpState,
  type FlowEntryInit,
} from '../../../src/vrouter/index.js';

const lpm = (t: Ipv4RouteTable, ip: string) => t.lookup(ipv4ToInt(ip))?.nh;

describe('IPv4 longest-prefix match', () => {
  it('picks the longest of overlapping prefixes, with /0 as the last resort and /32 first', () => {
    const t = new Ipv4RouteTable();
    t.add({ prefix: '0.0.0.0/0', nh: 1 });
    t.add({ prefix: '10.32.0.0/12', nh: 2 });
    t.add({ prefix: '10.47.0.0/16', nh: 3 });
    t.add({ prefix: '10.47.255.0/24', nh: 4 });
    t.add({ prefix: '10.47.255.236/32', nh: 5 });
    expect(lpm(t, '10.47.255.236')).toBe(5);
    expect(lpm(t, '10.47.255.237')).toBe(4);
    expect(lpm(t, '10.47.1.1')).toBe(3);
    expect(lpm(t, '10.33.0.1')).toBe(2);
    expect(lpm(t, '10.48.0.1')).toBe(1);
    expect(lpm(t, '255.255.255.255')).toBe(1);
    t.delete('0.0.0.0/0');
    expect(lpm(t, '10.48.0.1')).toBeUndefined();
    t.delete('10.47.255.236/32');
    expect(lpm(t, '10.47.255.236')).toBe(4);
  });

  it('clears host bits, replaces on re-add and keeps high addresses apart (no sign confusion)', () => {
    const t = new Ipv4RouteTable();
    const r = t.add({ prefix: '192.168.7.9/24', nh: 7 });
    expect(r.prefix).toBe('192.168.7.0/24');
    t.add({ prefix: '192.168.7.0/24', nh: 8 });
    expect(t.size).toBe(1);
    expect(lpm(t, '192.168.7.200')).toBe(8);
    t.add({ prefix: '128.0.0.0/1', nh: 9 });
    t.add({ prefix: '0.0.0.0/1', nh: 10 });
    expect(lpm(t, '200.1.1.1')).toBe(9);
    expect(lpm(t, '127.255.255.255')).toBe(10);
    expect(lpm(t, '255.255.255.255')).toBe(9);
    expect(t.list().map((x) => x.prefix)).toEqual(['0.0.0.0/1', '128.0.0.0/1', '192.168.7.0/24']);
  });

  it('agrees with a brute-force search over random tables', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const t = new Ipv4RouteTable();
    const all: { addr: number; plen: number; nh: number }[] = [];
    for (let i = 0; i < 400; i++) {
      const plen = Math.floor(rnd() * 33);
      const addr = Math.floor(rnd() * 2 ** 32);
      const r = t.add({ prefix: `${intToIpv4(addr)}/${plen}`, nh: i });
      const idx = all.findIndex((x) => x.addr === r.addr && x.plen === plen);
      if (idx >= 0) all.splice(idx, 1);
      all.push({ addr: r.addr, plen, nh: i });
    }
    for (let i = 0; i < 2000; i++) {
      // Half the probes inside a known prefix, so long matches are exercised.
      const base = all[Math.floor(rnd() * all.length)]!;
      const addr = rnd() < 0.5 ? (base.addr | Math.floor(rnd() * 2 ** (32 - base.plen))) >>> 0 : Math.floor(rnd() * 2 ** 32);
      let best: { plen: number; nh: number } | undefined;
      for (const x of all) {
        const mask = x.plen === 0 ? 0 : (0xffffffff << (32 - x.plen)) >>> 0;
        if (((addr & mask) >>> 0) === x.addr && (!best || x.plen > best.plen)) best = x;
      }
      expect(t.lookup(addr)?.nh).toBe(best?.nh);
    }
  });

  it('shows the L/P/T/F flags in rt order', () => {
    const t = new Ipv4RouteTable();
    expect(routeFlags(t.add({ prefix: '10.99.225.17/32', nh: 50, label: 38, proxyArp: true }))).toBe('LP');
    expect(routeFlags(t.add({ prefix: '0.0.0.0/8', nh: 1, trapArp: true }))).toBe('T');
    expect(routeFlags(t.add({ prefix: '10.0.0.0/8', nh: 1, label: 0, floodArp: true }))).toBe('LF');
  });
});

describe('MPLS labels', () => {
  it('allocates from 16 per next hop, reuses freed labels and refuses reserved ones', () => {
    const m = new MplsTable(20);
    expect(m.allocate(26)).toBe(FIRST_UNICAST_LABEL);
    expect(m.allocate(27)).toBe(17);
    expect(m.allocate(26)).toBe(16);
    expect(m.lookup(17)).toBe(27);
    expect(m.free(16)).toBe(true);
    expect(m.lookup(16)).toBeUndefined();
    expect(m.allocate(30)).toBe(16);
    expect(() => m.set(15, 1)).toThrow(RangeError);
    expect(() => m.set(0, 1)).toThrow(RangeError);
    m.set(18, 40);
    expect(m.labelOf(40)).toBe(18);
    expect(m.allocate(41)).toBe(19);
    expect(m.allocate(42)).toBeUndefined();
    expect(m.list()).toEqual([
      { label: 16, nh: 30 },
      { label: 17, nh: 27 },
      { label: 18, nh: 40 },
      { label: 19, nh: 41 },
    ]);
  });
});

describe('next hops, VNIs, vifs', () => {
  it('holds every next-hop type; nh 0 is the discard next hop', () => {
    const t = new NextHopTable();
    expect(t.get(0)?.type).toBe('discard');
    const e = t.add({ type: 'encap', vrf: 2, oif: 8, encap: new Uint8Array(14), encapFamily: 0x0806, policy: true });
    const tn = t.add({ type: 'tunnel', vrf: 0, encapType: 'MPLSoGRE', oif: 0, l2: new Uint8Array(14), sip: '10.169.25.20', dip: '192.168.0.204' });
    const c = t.add({ id: 87, type: 'composite', vrf: 2, ecmp: true, members: [{ nh: tn.id, label: 43 }, { nh: e.id, label: 28 }], policy: true });
    const r = t.add({ type: 'receive', vrf: 0, oif: 1 });
    const rs = t.add({ type: 'resolve', vrf: 2 });
    expect([e.id, tn.id, c.id, r.id, rs.id]).toEqual([1, 2, 87, 3, 4]);
    expect(t.list().map((n) => n.type)).toEqual(['discard', 'encap', 'tunnel', 'receive', 'resolve', 'composite']);
    expect(t.delete(0)).toBe(false);
  });

  it('maps VNIs to VRFs within 24 bits', () => {
    const v = new VniTable();
    v.set(5, 2);
    expect(v.lookup(5)).toBe(2);
    expect(v.lookup(6)).toBeUndefined();
    expect(() => v.set(0x1000000, 1)).toThrow(RangeError);
  });

  it('gives a pod vif its subnet .254 gateway and .253 DNS', () => {
    const t = new VifTable();
    const v = t.add({ index: 8, osName: 'tapeth0-304431', type: 'virtual', vrf: 2, mac: '00:00:5e:00:01:00', ip: '10.47.255.236', plen: 12 });
    expect(v.gateway).toBe('10.47.255.254');
    expect(v.dns).toBe('10.47.255.253');
    const w = t.add({ osName: 'tapeth1-89a4e2', type: 'virtual', vrf: 5, mac: '00:00:5e:00:01:00', ip: '10.20.20.1', plen: 24 });
    expect(w.index).toBe(0);
    expect(w.gateway).toBe('10.20.20.254');
    expect(() => t.add({ index: 8, osName: 'x', type: 'virtual', mac: '00:00:5e:00:01:00' })).toThrow(RangeError);
  });
});

describe('flow table', () => {
  const key = (sport: number) => ({ vrf: 2, proto: 6, src: '10.47.255.237', dst: '10.47.255.238', sport, dport: 80 });
  const rev = (sport: number) => ({ vrf: 2, proto: 6, src: '10.47.255.238', dst: '10.47.255.237', sport: 80, dport: sport });
  const init = (k: FlowEntryInit['key']): FlowEntryInit => ({ key: k, action: { type: 'forward' }, destVrf: 2, keyNh: 59, rpfNh: 59 });

  it('creates pairs that point at each other, with an entropy port in 49152-65535', () => {
    const t = new FlowTable(1000);
    const [f, r] = t.createPair(init(key(42332)), init(rev(42332)), 0)!;
    expect(f.rflow).toBe(r.index);
    expect(r.rflow).toBe(f.index);
    expect(t.lookup(key(42332))).toBe(f);
    expect(t.lookup(rev(42332))).toBe(r);
    for (const e of [f, r]) {
      expect(e.udpSrcPort).toBeGreaterThanOrEqual(49152);
      expect(e.udpSrcPort).toBeLessThanOrEqual(65535);
      expect(e.index).toBeLessThan(1000);
    }
    expect(t.stats.created).toBe(2);
  });

  it('refuses new pairs when full and counts the overflow', () => {
    const t = new FlowTable(4);
    expect(t.createPair(init(key(1)), init(rev(1)), 0)).toBeDefined();
    expect(t.createPair(init(key(2)), init(rev(2)), 0)).toBeDefined();
    expect(t.createPair(init(key(3)), init(rev(3)), 0)).toBeUndefined();
    expect(t.stats.overflow).toBe(1);
    expect(t.size).toBe(4);
  });

  it('ages out pairs idle in both directions only', () => {
    const t = new FlowTable(100);
    const [a] = t.createPair(init(key(1)), init(rev(1)), 0)!;
    const [, b2] = t.createPair(init(key(2)), init(rev(2)), 0)!;
    b2.lastUsed = 150;
    expect(t.age(179, 100)).toBe(2);
    expect(t.lookup(key(1))).toBeUndefined();
    expect(t.lookup(key(2))).toBeDefined();
    expect(t.age(250, 100)).toBe(2);
    expect(t.size).toBe(0);
    expect(a.index).toBeGreaterThanOrEqual(0);
  });

  it('tracks the TCP handshake as SSrEEr and ends on the last ACK or on RST', () => {
    const t = new FlowTable(100);
    const [f, r] = t.createPair(init(key(5)), init(rev(5)), 0)!;
    const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;
    expect(updateTcpState(f, r, SYN)).toBe(false);
    expect(tcpStateString(f.tcp)).toBe('S');
    expect(tcpStateString(r.tcp)).toBe('Sr');
    updateTcpState(r, f, SYN | ACK);
    updateTcpState(f, r, ACK);
    expect(tcpStateString(f.tcp)).toBe('SSrEEr');
    expect(tcpStateString(r.tcp)).toBe('SSrEEr');
    expect(updateTcpState(f, r, FIN | ACK)).toBe(false);
    expect(f.tcp & TcpState.C).toBeTruthy();
    expect(updateTcpState(r, f, ACK)).toBe(false);
    expect(updateTcpState(r, f, FIN | ACK)).toBe(false);
    expect(updateTcpState(f, r, ACK)).toBe(true);
    expect(f.tcp & TcpState.D).toBeTruthy();
    const [g, s] = t.createPair(init(key(6)), init(rev(6)), 0)!;
    expect(updateTcpState(g, s, RST)).toBe(true);
    expect(tcpStateString(s.tcp)).toBe('RD');
  });
});
