/**
 * Issue 5, acceptance 3: tunnel packets built outside weft reach the pod, malformed ones are
 * counted drops and never crash the agent.
 *
 * `weft control` and one `weft agent` (with a pod) in namespaces on a bridge, plus a "crafter"
 * namespace on the same underlay. The crafter runs a small python3 script (standard library
 * only: struct + socket) that builds MPLSoUDP, MPLSoGRE and VXLAN packets byte by byte around
 * an ICMP echo request to the pod, with the pod's label (checked against the agent's /mpls)
 * or the network's VNI. Good packets: the pod's kernel counts the echo requests and answers
 * them (the answers then die in the agent as NoRoute: the crafter's overlay address is in no
 * VRF, which is also proof that the pod answered). Malformed ones: each must raise exactly
 * its /drops reason by the number sent, deliver nothing to the pod, and leave the agent up
 * and forwarding.
 *
 * Outer IP/UDP length errors never reach the agent: the kernels on the way drop them (IP
 * layer / udp_rcv, counted in /proc/net/snmp and netstat), so for those the test sends raw
 * frames (AF_PACKET) and checks the kernels' counters and that the agent saw nothing.
 *
 * Root, iproute2, nsenter and python3 are required: missing ones fail the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, makeUnderlay, must, procs, requireRootAndTools, run, stop, weft, type Started } from './support/procs.js';
import { agentYaml, apiRelay, controlYaml, startAgent, startControl } from './support/weft-setup.js';

const P = `wc${process.pid % 100000}`;
const NS = { fab: `${P}-fab`, ctl: `${P}-ctl`, cn1: `${P}-cn1`, cr: `${P}-cr` } as const;
const POD = `${P}-pa`;
const ADDR = { cn1: '10.255.0.1', ctl: '10.255.0.3', cr: '10.255.0.9' } as const;
const VN = 'default-domain:e2e:vn1';
const INSTANCE = `${VN}:vn1`;
const VNI = 5;
const POD_IP = '10.91.0.3';
/** The crafted packets' inner source: in no VRF, so the pod's answers end as NoRoute. */
const OVERLAY_SRC = '10.91.7.7';
const N = 3;

let dir = '';

/** The agent's API; the test makes a few hundred requests. */
const agentGet = apiRelay(NS.cn1);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The crafter. Every byte is laid out here with struct, checksums included; weft's codecs are
 * not involved. argv: case label vni pod-ip vhost-ip count [dst-mac].
 */
const CRAFT_PY = String.raw`
import socket, struct, sys
case, label, vni, pod, vhost, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
SRC = '${OVERLAY_SRC}'

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def icmp_echo(seq):
    h = struct.pack('!BBHHH', 8, 0, 0, 0x4242, seq) + b'weft-crafted-' + bytes(range(32))
    return h[:2] + struct.pack('!H', csum(h)) + h[4:]

def ipv4(payload, proto=1, src=SRC, dst=None, tot=None, bad_csum=False):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tot, 7, 0x4000, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst or pod))
    c = csum(h) ^ (0x0101 if bad_csum else 0)
    return h[:10] + struct.pack('!H', c) + h[12:] + payload

def mpls(lbl, payload, bos=True):
    return struct.pack('!I', (lbl << 12) | (0x100 if bos else 0) | 64) + payload

def vxlan(v, payload, flags=0x08):
    return struct.pack('!BBHI', flags, 0, 0, v << 8) + payload

def eth(payload, etype=0x0800):
    return bytes.fromhex('0200000000010200000000fe') + struct.pack('!H', etype) + payload

def gre(payload, proto=0x8847, word=0):
    return struct.pack('!HH', word, proto) + payload

UNKNOWN = 0xffff0
arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, b'\x02' * 6, socket.inet_aton(SRC), b'\0' * 6, socket.inet_aton(pod))
cases = {
    'good-mplsoudp':   lambda i: ('udp', 6635, mpls(label, ipv4(icmp_echo(i)))),
    'good-mplsogre':   lambda i: ('gre', gre(mpls(label, ipv4(icmp_echo(i))))),
    'good-vxlan':      lambda i: ('udp', 4789, vxlan(vni, eth(ipv4(icmp_echo(i))))),
    'unknown-label':   lambda i: ('udp', 6635, mpls(UNKNOWN, ipv4(icmp_echo(i)))),
    'two-labels':      lambda i: ('udp', 6635, mpls(label, mpls(label, ipv4(icmp_echo(i))), bos=False)),
    'truncated-mpls':  lambda i: ('udp', 6635, mpls(label, b'')[:3]),
    'mpls-no-bos':     lambda i: ('udp', 6635, mpls(label, b'', bos=False)),
    'inner-truncated': lambda i: ('udp', 6635, mpls(label, ipv4(icmp_echo(i))[:12])),
    'inner-bad-len':   lambda i: ('udp', 6635, mpls(label, ipv4(icmp_echo(i), tot=20 + 53 + 40))),
    'inner-bad-csum':  lambda i: ('udp', 6635, mpls(label, ipv4(icmp_echo(i), bad_csum=True))),
    'inner-short-icmp':lambda i: ('udp', 6635, mpls(label, ipv4(b'\x08\x00\xf7\xff'))),
    'wrong-vni':       lambda i: ('udp', 4789, vxlan(vni + 1000, eth(ipv4(icmp_echo(i))))),
    'vxlan-i-clear':   lambda i: ('udp', 4789, vxlan(vni, eth(ipv4(icmp_echo(i))), flags=0)),
    'vxlan-truncated': lambda i: ('udp', 4789, vxlan(vni, b'')[:5]),
    'vxlan-not-ip':    lambda i: ('udp', 4789, vxlan(vni, eth(arp, 0x0806))),
    'gre-garbage':     lambda i: ('gre', gre(b'\xde\xad', word=0xb000)),
    'gre-tiny':        lambda i: ('gre', b'\xff\xff\xff'),
    'gre-not-mpls':    lambda i: ('gre', gre(ipv4(icmp_echo(i)), proto=0x0800)),
    'gre-unknown-label': lambda i: ('gre', gre(mpls(UNKNOWN, ipv4(icmp_echo(i))))),
}

def outer(udp_len_delta, ip_len_delta, i):
    # A whole frame, for what only AF_PACKET can send: outer lengths that lie.
    inner = mpls(label, ipv4(icmp_echo(i)))
    u = struct.pack('!HHHH', 49999, 6635, 8 + len(inner) + udp_len_delta, 0) + inner
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(u) + ip_len_delta, 9, 0x4000, 64, 17, 0, socket.inet_aton(sys.argv[8]), socket.inet_aton(vhost))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return bytes.fromhex(sys.argv[7].replace(':', '')) + b'\x02\x00\x00\x00\x00\x09' + b'\x08\x00' + h + u

frames = {
    'outer-ip-len-long':  lambda i: outer(0, 100, i),
    'outer-udp-len-long': lambda i: outer(100, 0, i),
}

if case in frames:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(('ul0', 0))
    for i in range(count): s.send(frames[case](i))
    sys.exit(0)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
g = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
for i in range(count):
    p = cases[case](i)
    if p[0] == 'udp': u.sendto(p[2], (vhost, p[1]))
    else: g.sendto(p[1], (vhost, 0))
`;

interface Drops {
  pipeline: Record<string, number>;
  io: Record<string, number>;
}

/** Icmp/Ip/IpExt/Udp counters of a namespace's kernel (/proc/net/snmp follows the network namespace). */
function icmpCounters(ns: string): Record<string, number> {
  const lines = must(inNs(ns, ['cat', '/proc/net/snmp', '/proc/net/netstat'])).split('\n');
  const out: Record<string, number> = {};
  for (const proto of ['Icmp', 'Ip', 'Udp', 'IpExt']) {
    const rows = lines.filter((l) => l.startsWith(`${proto}:`));
    const names = rows[0]!.split(/\s+/).slice(1);
    const vals = rows[1]!.split(/\s+/).slice(1);
    names.forEach((n, i) => (out[`${proto}${n}`] = Number(vals[i])));
  }
  return out;
}

describe('tunnel packets crafted outside weft', () => {
  let agent: Started;
  let label = 0;
  let ulMac = '';

  const craft = (c: string, count = N) => {
    const r = run(inNs(NS.cr, ['python3', path.join(dir, 'craft.py'), c, String(label), String(VNI), POD_IP, ADDR.cn1, String(count), ulMac, ADDR.cr]));
    if (r.code !== 0) throw new Error(`craft ${c}: ${r.err}${r.out}`);
  };
  const drops = async () => (await agentGet('/drops')) as Drops;
  const status = async () => ((await agentGet('/status')) as { dataplane: { rx: Record<string, number> } }).dataplane.rx;
  const alive = () => {
    expect(agent.p.exitCode, agent.log()).toBeNull();
    expect(agent.p.signalCode, agent.log()).toBeNull();
  };

  beforeAll(async () => {
    requireRootAndTools(['ip', 'nsenter', 'python3']);
    dir = mkdtempSync(path.join(tmpdir(), `${P}-`));
    writeFileSync(path.join(dir, 'craft.py'), CRAFT_PY);
    makeUnderlay(NS.fab, { cn1: { ns: NS.cn1, address: ADDR.cn1 }, ctl: { ns: NS.ctl, address: ADDR.ctl }, cr: { ns: NS.cr, address: ADDR.cr } });
    ulMac = (JSON.parse(must(['ip', '-n', NS.cn1, '-j', 'link', 'show', 'ul0'])) as { address: string }[])[0]!.address;
    const vn = { name: VN, id: VNI, vxlanId: VNI, subnet: '10.91.0.0/24' };
    await startControl(NS.ctl, dir, controlYaml({ ctl: ADDR.ctl, project: 'default-domain:e2e', vrouters: { cn1: ADDR.cn1 }, vn }));
    const network = { instance: INSTANCE, vxlanId: VNI };
    const yaml = agentYaml({ name: 'cn1', vhost: ADDR.cn1, ctl: ADDR.ctl, encap: ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'], network });
    agent = startAgent(NS.cn1, 'cn1', path.join(dir, 'cn1.yaml'), yaml);
    await agent.ready(/API on/);
    const r = weft(NS.cn1, ['pod', 'add', POD, '--network', INSTANCE, '--ip', `${POD_IP}/24`, '--json']);
    if (r.code !== 0) throw new Error(`pod add: ${r.err}\n${agent.log()}`);
    const pod = JSON.parse(r.out) as { label: number; vif: number; nh?: number };
    label = pod.label;
    // The pod's IPv6 chatter (router solicitations, MLD) would be counted drops mixed into the
    // per-case deltas below.
    must(inNs(POD, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
    // The label the crafter uses is the one in the agent's input label map.
    const m = await agentGet(`/mpls?label=${label}`) as { labels: { label: number; nh: number }[] };
    expect(m.labels).toHaveLength(1);
  }, 40_000);

  afterAll(async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    for (const ns of [POD, ...Object.values(NS)]) run(['ip', 'netns', 'delete', ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `c` and waits until the agent has read all of it (its rx counters), then for the pod's answers. */
  async function sendAndSettle(c: string, rxKey: string | undefined, count = N): Promise<void> {
    const before = rxKey ? (await status())[rxKey]! : 0;
    craft(c, count);
    if (rxKey) {
      for (let t0 = Date.now(); (await status())[rxKey]! < before + count; ) {
        if (Date.now() - t0 > 5000) throw new Error(`${c}: agent read ${(await status())[rxKey]! - before} of ${count}\n${agent.log()}`);
        await sleep(50);
      }
    }
    await sleep(150);
  }

  const good = [
    ['good-mplsoudp', 'mplsUdp'],
    ['good-mplsogre', 'gre'],
    ['good-vxlan', 'vxlan'],
  ] as const;

  for (const [c, rx] of good) {
    it(`${c}: the pod receives and answers every echo request`, async () => {
      const icmp0 = icmpCounters(POD);
      const d0 = await drops();
      await sendAndSettle(c, rx);
      const icmp1 = icmpCounters(POD);
      expect(icmp1['IcmpInEchos']! - icmp0['IcmpInEchos']!).toBe(N);
      expect(icmp1['IcmpOutEchoReps']! - icmp0['IcmpOutEchoReps']!).toBe(N);
      // The answers came back into the agent, for an address it has no route to.
      const d1 = await drops();
      expect(d1.pipeline['NoRoute']! - d0.pipeline['NoRoute']!).toBe(N);
      expect(d1.pipeline['InvalidPacket']).toBe(d0.pipeline['InvalidPacket']);
      alive();
    });
  }

  const bad: [string, string, string][] = [
    ['unknown-label', 'mplsUdp', 'InvalidLabel'],
    ['two-labels', 'mplsUdp', 'InvalidLabel'],
    ['truncated-mpls', 'mplsUdp', 'InvalidPacket'],
    ['mpls-no-bos', 'mplsUdp', 'InvalidPacket'],
    ['inner-truncated', 'mplsUdp', 'InvalidPacket'],
    ['inner-bad-len', 'mplsUdp', 'InvalidPacket'],
    ['inner-bad-csum', 'mplsUdp', 'InvalidPacket'],
    ['inner-short-icmp', 'mplsUdp', 'InvalidPacket'],
    ['wrong-vni', 'vxlan', 'InvalidVnid'],
    ['vxlan-i-clear', 'vxlan', 'InvalidVnid'],
    ['vxlan-truncated', 'vxlan', 'InvalidPacket'],
    ['vxlan-not-ip', 'vxlan', 'InvalidProtocol'],
    ['gre-garbage', 'gre', 'InvalidPacket'],
    ['gre-tiny', 'gre', 'InvalidPacket'],
    ['gre-not-mpls', 'gre', 'InvalidProtocol'],
    ['gre-unknown-label', 'gre', 'InvalidLabel'],
  ];

  for (const [c, rx, reason] of bad) {
    it(`${c}: dropped as ${reason}, nothing delivered, agent up`, async () => {
      const icmp0 = icmpCounters(POD);
      const d0 = await drops();
      await sendAndSettle(c, rx);
      const d1 = await drops();
      const delta: Record<string, number> = {};
      for (const [k, v] of Object.entries(d1.pipeline)) if (v !== d0.pipeline[k]) delta[k] = v - d0.pipeline[k]!;
      for (const [k, v] of Object.entries(d1.io)) if (v !== d0.io[k]) delta[`io.${k}`] = v - d0.io[k]!;
      expect(delta).toEqual({ [reason]: N });
      expect(icmpCounters(POD)['IcmpInMsgs']).toBe(icmp0['IcmpInMsgs']);
      alive();
    });
  }

  // Where the kernels count them: a too-long IP total length is caught by whichever IP layer
  // looks first (the fabric bridge's br_netfilter validation when bridge-nf-call-iptables is
  // on, else cn1's ip_rcv), a too-long UDP length by cn1's udp_rcv.
  for (const [c, counter] of [
    ['outer-ip-len-long', 'IpExtInTruncatedPkts'],
    ['outer-udp-len-long', 'UdpInErrors'],
  ] as const) {
    it(`${c}: the underlay's kernels drop it before the agent`, async () => {
      const kernels = () => icmpCounters(NS.fab)[counter]! + icmpCounters(NS.cn1)[counter]!;
      const k0 = kernels();
      const rx0 = await status();
      const d0 = await drops();
      await sendAndSettle(c, undefined);
      expect(kernels() - k0).toBe(N);
      expect(await status()).toEqual(rx0);
      expect(await drops()).toEqual(d0);
      alive();
    });
  }

  it('after all that, a good packet of each kind still reaches the pod', async () => {
    for (const [c, rx] of good) {
      const icmp0 = icmpCounters(POD);
      await sendAndSettle(c, rx, 1);
      expect(icmpCounters(POD)['IcmpInEchos']! - icmp0['IcmpInEchos']!, c).toBe(1);
    }
    const io = (await drops()).io;
    expect(io).toMatchObject({ HandlerError: 0, TapFull: 0, SendError: 0 });
    alive();
  });
});
