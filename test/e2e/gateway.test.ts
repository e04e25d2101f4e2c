/**
 * Issue 6, the SDN gateway (book: the MX "camaro"; here gobgpd + `weft gateway`).
 *
 * The pure parts (gobgpd TOML, reading GoBGP's RIB, the forwarding core) are tested without a
 * kernel in test/unit/gateway/. Here, a topology of the test's own, shaped like the lab's
 * weft-gateway corner:
 *
 *   h6-<n>-inet  eth0 198.51.100.2/24 ---- to-inet 198.51.100.1/24  h6-<n>-gw
 *                                         lo 192.168.0.204/32, br-fabric 10.169.25.1/24,
 *                                         gobgpd (config from `weft gateway --gobgpd-config`),
 *                                         `weft gateway` (TAP weft-gw0, table 100, rules)
 *   h6-<n>-cmp   eth0 10.169.25.20/24 + 10.169.25.21/24 ---- br-fabric
 *
 * No control node or agent: the FIP routes an agent would publish are added to gobgpd with
 * `gobgp global rib -a vpnv4 add ...`, and the compute namespace runs a small python3 GRE
 * responder (raw sockets, standard library) that answers ICMP echo inside MPLSoGRE with the
 * gateway's advertised label. tshark on the compute side checks the wire.
 *
 * Root, iproute2, nsenter, python3, tshark, ping, gobgpd and gobgp are required: a missing one
 * fails the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, must, procs, requireRootAndTools, run, start, stop, until, WEFT, type Started } from './support/procs.js';

const LOOPBACK = '192.168.0.204';
const GW_LABEL = 299776;

// ---------------------------------------------------------------------------------------
// Namespaces, gobgpd, `weft gateway`, a GRE responder

const P = `h6-${process.pid % 100000}`;
const NS = { gw: `${P}-gw`, inet: `${P}-inet`, cmp: `${P}-cmp` } as const;
const CMP = ['10.169.25.20', '10.169.25.21'] as const;

/**
 * The compute node's stand-in. One raw GRE socket per address (bound, so each receives its own
 * address's packets and answers from it); an ICMP echo request inside MPLS is answered with an
 * echo reply inside MPLS with the gateway's label, back to the outer source. Every byte is laid
 * out here with struct; weft's codecs are not involved. argv: label address...
 */
const RESPONDER_PY = String.raw`
import select, socket, struct, sys
label = int(sys.argv[1])

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

socks = []
for a in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    s.bind((a, 0))
    socks.append(s)
print('responder ready', flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        pkt = s.recv(65535)
        g = pkt[(pkt[0] & 15) * 4:]
        if len(g) < 8 or struct.unpack('!HH', g[:4]) != (0, 0x8847): continue
        inner = g[8:]
        if len(inner) < 28 or inner[0] >> 4 != 4 or inner[9] != 1: continue
        ihl, tot = (inner[0] & 15) * 4, struct.unpack('!H', inner[2:4])[0]
        icmp = bytearray(inner[ihl:tot])
        if icmp[0] != 8: continue
        icmp[0] = 0
        icmp[2:4] = b'\0\0'
        icmp[2:4] = struct.pack('!H', csum(bytes(icmp)))
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, inner[16:20], inner[12:16])
        h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
        s.sendto(struct.pack('!HHI', 0, 0x8847, (label << 12) | 0x100 | 64) + h + bytes(icmp), (socket.inet_ntoa(pkt[12:16]), 0))
`;

/** Bad tunnel packets from the compute side. argv: gateway label case count */
const CRAFT_PY = String.raw`
import socket, struct, sys
gw, label, case, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ipv4(src, dst, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
udp = struct.pack('!HHHH', 7, 9, 12, 0) + b'weft'
mpls = lambda l, p: struct.pack('!I', (l << 12) | 0x100 | 64) + p
cases = {
    'unknown-label': struct.pack('!HH', 0, 0x8847) + mpls(label + 1, ipv4('203.0.113.2', '198.51.100.2', udp)),
    'not-mpls':      struct.pack('!HH', 0, 0x0800) + ipv4('203.0.113.2', '198.51.100.2', udp),
    'truncated':     struct.pack('!HH', 0, 0x8847) + b'\x49\x00',
    'not-internet':  struct.pack('!HH', 0, 0x8847) + mpls(label, ipv4('203.0.113.2', '10.169.25.21', udp)),
}
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
for _ in range(n): s.sendto(cases[case], (gw, 0))
`;

/** UDP datagrams from one source port each (two per port), the flows ECMP spreads. argv: dst first count */
const FLOWS_PY = String.raw`
import socket, sys
dst, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for port in range(first, first + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('198.51.100.2', port))
    for _ in range(2): s.sendto(b'weft-ecmp', (dst, 9))
    s.close()
`;

const GATEWAY_YAML = `name: h6-camaro
local-address: ${LOOPBACK}
bgp: { as: 64512, neighbors: [{ address: 10.169.25.19 }] }
vrf: { name: k8s-test, rd: 192.168.0.204:1, import: [target:500:500], export: [target:500:500] }
internet: { interface: to-inet, networks: [198.51.100.0/24], floating-ip-pools: [203.0.113.0/24] }
advertise: { label: ${GW_LABEL} }
tap: { name: weft-gw0 }
gobgp: { address: 127.0.0.1, port: 50051, poll-interval-ms: 300 }
introspect: { address: 127.0.0.1, port: 8086 }
`;

interface RouteView {
  prefix: string;
  paths: { nexthop: string; label: number; packets: number }[];
}
interface Status {
  counters: { internet: { rx: number; toFabric: number }; fabric: { rx: number; toInternet: number }; drops: Record<string, number>; lastDrops: string[] };
  gobgp: { polls: number; lastError?: string };
  tap: { name: string; mac: string; mtu: number };
}

describe('gateway: gobgpd + weft gateway in namespaces', () => {
  let dir = '';
  let gobgpd: Started;
  let gateway: Started;
  let responder: Started;

  const gobgp = (...args: string[]) => run(inNs(NS.gw, ['gobgp', '-p', '50051', ...args]));
  const gobgpMust = (...args: string[]) => must(inNs(NS.gw, ['gobgp', '-p', '50051', ...args]));
  const vpnRib = () => JSON.parse(gobgpMust('global', 'rib', '-a', 'vpnv4', '-j').trim() || 'null') as Record<string, { nlri: { labels: number[] }; attrs: { type: number; nexthop?: string; value?: unknown }[] }[]> | null;
  const gwGet = <T>(p: string): T =>
    JSON.parse(must(inNs(NS.gw, ['python3', '-c', `import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:8086${p}', timeout=5).read().decode())`]))) as T;
  const routes = () => gwGet<{ routes: RouteView[] }>('/routes').routes;
  const status = () => gwGet<Status>('/status');
  const logs = () => [gateway, gobgpd, responder].filter(Boolean).map((s) => s.log()).join('\n');

  function startGateway(): Started {
    const g = start(NS.gw, ['node', WEFT, 'gateway', '--config', path.join(dir, 'gateway.yaml')], 'weft gateway', true);
    return g;
  }

  /** Starts tshark on the compute side; returns a function that stops it and gives the decoded rows. */
  async function capture(name: string): Promise<() => Promise<string[][]>> {
    const file = path.join(dir, `${name}.pcap`);
    const t = start(NS.cmp, ['tshark', '-i', 'eth0', '-f', 'ip proto 47', '-w', file], `tshark ${name}`, true);
    await t.ready(/Capturing on/, 20_000);
    // "Capturing on" can come a moment before dumpcap sees packets: let it settle.
    await new Promise((r) => setTimeout(r, 1000));
    return async () => {
      await new Promise((r) => setTimeout(r, 500));
      await stop(t.p, 'SIGINT');
      const out = must(['tshark', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'gre.proto', '-e', 'mpls.label', '-e', 'mpls.bottom', '-e', 'icmp.type', '-e', 'udp.srcport']);
      return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    };
  }

  beforeAll(async () => {
    requireRootAndTools(['ip', 'nsenter', 'python3', 'tshark', 'ping', 'gobgpd', 'gobgp']);
    dir = mkdtempSync(path.join(tmpdir(), `${P}-`));
    writeFileSync(path.join(dir, 'responder.py'), RESPONDER_PY);
    writeFileSync(path.join(dir, 'craft.py'), CRAFT_PY);
    writeFileSync(path.join(dir, 'flows.py'), FLOWS_PY);
    writeFileSync(path.join(dir, 'gateway.yaml'), GATEWAY_YAML);
    for (const ns of Object.values(NS)) {
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // The gateway: loopback, fabric bridge, Internet link.
    must(['ip', '-n', NS.gw, 'addr', 'add', `${LOOPBACK}/32`, 'dev', 'lo']);
    must(['ip', '-n', NS.gw, 'link', 'add', 'br-fabric', 'type', 'bridge']);
    must(['ip', '-n', NS.gw, 'addr', 'add', '10.169.25.1/24', 'dev', 'br-fabric']);
    must(['ip', '-n', NS.gw, 'link', 'set', 'br-fabric', 'up']);
    must(['ip', '-n', NS.gw, 'link', 'add', 'fab-cmp', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.cmp]);
    must(['ip', '-n', NS.gw, 'link', 'set', 'fab-cmp', 'master', 'br-fabric', 'up']);
    for (const a of CMP) must(['ip', '-n', NS.cmp, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    must(['ip', '-n', NS.cmp, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', NS.cmp, 'route', 'add', 'default', 'via', '10.169.25.1']);
    must(['ip', '-n', NS.gw, 'link', 'add', 'to-inet', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.inet]);
    must(['ip', '-n', NS.gw, 'addr', 'add', '198.51.100.1/24', 'dev', 'to-inet']);
    must(['ip', '-n', NS.gw, 'link', 'set', 'to-inet', 'up']);
    must(['ip', '-n', NS.inet, 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0']);
    must(['ip', '-n', NS.inet, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', NS.inet, 'route', 'add', 'default', 'via', '198.51.100.1']);
    for (const ns of [NS.inet, NS.cmp]) must(inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));

    // gobgpd as the gateway's BGP speaker, configured by weft.
    const toml = path.join(dir, 'gobgpd.toml');
    const conf = run(['node', WEFT, 'gateway', '--config', path.join(dir, 'gateway.yaml'), '--gobgpd-config']);
    if (conf.code !== 0) throw new Error(`--gobgpd-config: ${conf.err}`);
    writeFileSync(toml, conf.out);
    const args = must(['node', WEFT, 'gateway', '--config', path.join(dir, 'gateway.yaml'), '--gobgpd-args', toml]).trim().split('\n');
    gobgpd = start(NS.gw, ['gobgpd', ...args], 'gobgpd', true);
    await until('gobgpd API', () => (gobgp('global').code === 0 ? true : undefined), 20_000);
    expect(gobgpMust('vrf')).toMatch(/k8s-test\s+192\.168\.0\.204:1\s+500:500\s+500:500/);

    // What agents would publish through the control node: a FIP on compute .20, an ECMP
    // FIP on .20 and .21, and one route of another VRF (RT 600:600) that must stay out.
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'add', '203.0.113.2/32', 'label', '30', 'rd', '10.169.25.20:5', 'rt', '500:500', 'nexthop', '10.169.25.20');
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'add', '203.0.113.3/32', 'label', '31', 'rd', '10.169.25.20:6', 'rt', '500:500', 'nexthop', '10.169.25.20');
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'add', '203.0.113.3/32', 'label', '41', 'rd', '10.169.25.21:6', 'rt', '500:500', 'nexthop', '10.169.25.21');
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'add', '203.0.113.4/32', 'label', '42', 'rd', '10.169.25.21:7', 'rt', '600:600', 'nexthop', '10.169.25.21');

    responder = start(NS.cmp, ['python3', '-u', path.join(dir, 'responder.py'), String(GW_LABEL), ...CMP], 'responder', true);
    await responder.ready(/responder ready/);
    gateway = startGateway();
    await gateway.ready(/introspect on/, 30_000);
    await until('the VRF routes in weft gateway', () => (routes().length === 2 ? true : undefined), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    for (const ns of Object.values(NS)) run(['ip', 'netns', 'delete', ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prepared the TAP and the Internet table: NOARP, table 100, rules for both sides', () => {
    const link = JSON.parse(must(['ip', '-n', NS.gw, '-j', 'link', 'show', 'weft-gw0'])) as { flags: string[]; mtu: number; address: string }[];
    expect(link[0]!.flags).toEqual(expect.arrayContaining(['NOARP', 'UP']));
    expect(link[0]!.mtu).toBe(1472);
    expect(status().tap).toEqual({ name: 'weft-gw0', mac: link[0]!.address, mtu: 1472 });
    const t100 = must(['ip', '-n', NS.gw, 'route', 'show', 'table', '100']);
    expect(t100).toMatch(/^198\.51\.100\.0\/24 dev to-inet/m);
    expect(t100).toMatch(/^203\.0\.113\.0\/24 dev weft-gw0/m);
    expect(t100).toMatch(/^unreachable default/m);
    const rules = must(['ip', '-n', NS.gw, 'rule', 'show']);
    expect(rules).toMatch(/iif to-inet lookup 100/);
    expect(rules).toMatch(/iif weft-gw0 lookup 100/);
    expect(gateway.log()).toMatch(/kernel: rule iif to-inet lookup 100/);
  });

  it('advertises 198.51.100.0/24 into k8s-test with its label, and GoBGP shows it', () => {
    const own = vpnRib()?.['192.168.0.204:1:198.51.100.0/24']?.[0];
    expect(own, gateway.log()).toBeDefined();
    expect(own!.nlri.labels).toEqual([GW_LABEL]);
    expect(own!.attrs.find((a) => a.type === 14)?.nexthop).toBe(LOOPBACK);
    expect(own!.attrs.find((a) => a.type === 16)?.value).toEqual([
      { type: 0, subtype: 2, value: '500:500' },
      { type: 3, subtype: 12, tunnel_type: 11 },
    ]);
    expect(gobgpMust('global', 'rib', '-a', 'vpnv4')).toMatch(/192\.168\.0\.204:1:198\.51\.100\.0\/24\s+\[299776\]\s+192\.168\.0\.204/);
    expect(gobgpMust('vrf', 'k8s-test', 'rib')).toMatch(/198\.51\.100\.0\/24\s+192\.168\.0\.204/);
  });

  it('holds the imported routes with their labels, the other VRF left out', () => {
    const r = routes();
    expect(r.map((x) => [x.prefix, x.paths.map((p) => `${p.nexthop}/${p.label}`)])).toEqual([
      ['203.0.113.2/32', ['10.169.25.20/30']],
      ['203.0.113.3/32', ['10.169.25.20/31', '10.169.25.21/41']],
    ]);
  });

  it('ping from the Internet host to the FIP crosses the gateway as MPLSoGRE with label 30', async () => {
    const done = await capture('ping');
    const p = run(inNs(NS.inet, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '203.0.113.2']));
    const rows = await done();
    expect(p.code, `${p.out}${p.err}\n${logs()}`).toBe(0);
    expect(p.out).toMatch(/3 packets transmitted, 3 received/);
    const requests = rows.filter((r) => r[5] === '8');
    const replies = rows.filter((r) => r[5] === '0');
    expect(requests).toHaveLength(3);
    expect(replies).toHaveLength(3);
    for (const r of requests) {
      expect(r.slice(0, 5)).toEqual([`${LOOPBACK},198.51.100.2`, '10.169.25.20,203.0.113.2', '0x8847', '30', '1']);
    }
    for (const r of replies) {
      expect(r.slice(0, 5)).toEqual([`10.169.25.20,203.0.113.2`, `${LOOPBACK},198.51.100.2`, '0x8847', String(GW_LABEL), '1']);
    }
    const s = status();
    expect(s.counters.internet.toFabric).toBeGreaterThanOrEqual(3);
    expect(s.counters.fabric.toInternet).toBeGreaterThanOrEqual(3);
  });

  it('the Internet host reaches neither the fabric nor a FIP of another VRF', () => {
    const fabric = run(inNs(NS.inet, ['ping', '-c', '1', '-W', '1', '10.169.25.20']));
    expect(fabric.code).not.toBe(0);
    expect(fabric.out + fabric.err).toMatch(/100% packet loss|[Uu]nreachable/);
    const before = status().counters.drops['NoRoute']!;
    const other = run(inNs(NS.inet, ['ping', '-c', '1', '-W', '1', '203.0.113.4']));
    expect(other.code).not.toBe(0);
    expect(status().counters.drops['NoRoute']).toBe(before + 1);
  });

  it('spreads flows to a prefix with two paths over both, each flow on one path', async () => {
    const before = new Map(routes().find((r) => r.prefix === '203.0.113.3/32')!.paths.map((p) => [p.nexthop, p.packets]));
    const done = await capture('ecmp');
    must(inNs(NS.inet, ['python3', path.join(dir, 'flows.py'), '203.0.113.3', '40000', '64']));
    const rows = await done();
    const paths = routes().find((r) => r.prefix === '203.0.113.3/32')!.paths;
    const sent = paths.map((p) => p.packets - (before.get(p.nexthop) ?? 0));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(128);
    for (const n of sent) expect(n).toBeGreaterThan(20);
    // On the wire: each source port went to one compute address, with that path's label.
    const bySport = new Map<string, Set<string>>();
    for (const r of rows.filter((x) => x[6])) {
      const outerDst = r[1]!.split(',')[0]!;
      expect(r[3]).toBe(outerDst === '10.169.25.20' ? '31' : '41');
      (bySport.get(r[6]!) ?? bySport.set(r[6]!, new Set()).get(r[6]!)!).add(outerDst);
    }
    expect(bySport.size).toBe(64);
    for (const dsts of bySport.values()) expect(dsts.size).toBe(1);
    const used = new Set([...bySport.values()].map((s) => [...s][0]));
    expect([...used].sort()).toEqual([...CMP]);
  });

  it('counts bad tunnel packets from the fabric as drops and keeps forwarding', async () => {
    const d0 = status().counters.drops;
    const expected: Record<string, string> = { 'unknown-label': 'InvalidLabel', 'not-mpls': 'InvalidProtocol', truncated: 'InvalidPacket', 'not-internet': 'NoRoute' };
    for (const c of Object.keys(expected)) must(inNs(NS.cmp, ['python3', path.join(dir, 'craft.py'), LOOPBACK, String(GW_LABEL), c, '2']));
    const want = Object.fromEntries(Object.values(expected).map((r) => [r, d0[r]! + 2]));
    await until('drop counters', () => {
      const d = status().counters.drops;
      return Object.entries(want).every(([r, n]) => d[r] === n) ? true : undefined;
    }, 5000).catch(() => undefined);
    expect(status().counters.drops).toMatchObject(want);
    expect(gateway.p.exitCode).toBeNull();
    const p = run(inNs(NS.inet, ['ping', '-c', '1', '-W', '2', '203.0.113.2']));
    expect(p.code, logs()).toBe(0);
  });

  it('follows GoBGP: a withdrawn FIP route is gone from the gateway within a poll or two', async () => {
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'del', '203.0.113.2/32', 'label', '30', 'rd', '10.169.25.20:5');
    await until('203.0.113.2/32 withdrawn', () => (routes().some((r) => r.prefix === '203.0.113.2/32') ? undefined : true), 3000);
    expect(run(inNs(NS.inet, ['ping', '-c', '1', '-W', '1', '203.0.113.2'])).code).not.toBe(0);
    gobgpMust('global', 'rib', '-a', 'vpnv4', 'add', '203.0.113.2/32', 'label', '30', 'rd', '10.169.25.20:5', 'rt', '500:500', 'nexthop', '10.169.25.20');
    await until('203.0.113.2/32 back', () => (routes().some((r) => r.prefix === '203.0.113.2/32') ? true : undefined), 3000);
    expect(run(inNs(NS.inet, ['ping', '-c', '1', '-W', '2', '203.0.113.2'])).code).toBe(0);
  });

  it('SIGTERM withdraws the advertisement and removes the TAP; a restart changes no kernel state and advertises again', async () => {
    await stop(gateway.p, 'SIGTERM');
    expect(gateway.p.exitCode, gateway.log()).toBe(0);
    expect(gateway.log()).toMatch(/withdrew 198\.51\.100\.0\/24 label 299776 rd 192\.168\.0\.204:1/);
    expect(vpnRib()?.['192.168.0.204:1:198.51.100.0/24']).toBeUndefined();
    expect(run(['ip', '-n', NS.gw, 'link', 'show', 'weft-gw0']).code).not.toBe(0);

    gateway = startGateway();
    await gateway.ready(/introspect on/, 30_000);
    // Only the new TAP's own settings and the FIP pool route (it went with the old TAP) are
    // made again; rules, the rest of table 100 and the namespace's sysctls stay.
    const kernelLines = gateway.log().split('\n').filter((l) => l.includes('kernel:') && !l.includes('.conf.weft-gw0.'));
    expect(kernelLines.map((l) => l.replace(/^.*kernel: /, ''))).toEqual(['route 203.0.113.0/24 dev weft-gw0 table 100']);
    await until('own route advertised again', () => (vpnRib()?.['192.168.0.204:1:198.51.100.0/24'] ? true : undefined), 5000);
    await until('routes again', () => (routes().length === 2 ? true : undefined), 5000);
    expect(run(inNs(NS.inet, ['ping', '-c', '1', '-W', '2', '203.0.113.2'])).code, logs()).toBe(0);
  });
});
