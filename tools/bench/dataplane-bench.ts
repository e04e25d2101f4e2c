/**
 * Issue 5, acceptance 6: weft's dataplane against the kernel's. Pod -> pod across two `weft
 * agent`s over MPLSoUDP, and in the same run the same figures between two namespaces joined by
 * kernel VXLAN devices, all on one underlay bridge in a fabric namespace (nothing in the
 * host's namespace). Figures: iperf3 TCP throughput, 64-byte UDP packets/s as the iperf3
 * server counted them, and new flows/s (one UDP packet from each of N distinct source ports,
 * counted by the receiver). Prints a table and one JSON line with weft, kernel and ratio.
 *
 * Root, iproute2, nsenter, iperf3 and python3 are required. Run from dist/ after a build:
 * `npm run bench:dataplane`. Every namespace and process it made is removed on the way out,
 * on failure and on SIGINT/SIGTERM too. BENCH_SECONDS, BENCH_FLOWS and BENCH_ONLY (tcp, udp,
 * flows) tune a run; WEFT_AGENT_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" profiles the agents.
 *
 * Both sides keep the same inner MTU (1450) on the same 1500-byte underlay, and both use the
 * kernel's offloads: the VXLAN devices TSO/GSO and GRO, the agents TSO bursts from their pod
 * TAPs (IFF_VNET_HDR) sent as UDP_SEGMENT bursts, UDP_GRO on receive, and merged TCP (TSO) or
 * UDP (USO) frames written to the pod TAPs; policy, flows and NAT stay on (src/agent/dataplane.ts).
 *
 * Last measured ratios weft / kernel (2-core shared VM, 5 s per figure, two runs each):
 *   before (node:dgram, a JS round per packet): TCP 0.017, 0.018  UDP 64 B 0.36, 0.32  new flows 0.17, 0.29
 *   after (batched I/O, offloads):              TCP 0.222, 0.252  UDP 64 B 0.80, 0.91  new flows 0.48, 0.64
 * The kernel's own figures move by 2x between runs on a busy machine: compare ratios of one run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The e2e helpers, one copy: compiled next to this file under dist/, same relative path.
import { agentGet, inNs, makeUnderlay, must, procs, run, start, stop, tunnelRouteOf, until } from '../../test/e2e/support/procs.js';
import { agentYaml, controlYaml, startAgent, startControl } from '../../test/e2e/support/weft-setup.js';

/** The repository root from tools/bench (sources) or dist/tools/bench (compiled). */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.basename(path.resolve(HERE, '../..')) === 'dist' ? path.resolve(HERE, '../../..') : path.resolve(HERE, '../..');
const WEFT = path.join(ROOT, 'bin', 'weft.js');

const P = `db${process.pid % 100000}`;
const NS = { fab: `${P}-fab`, ctl: `${P}-ctl`, cn1: `${P}-cn1`, cn2: `${P}-cn2`, kv1: `${P}-kv1`, kv2: `${P}-kv2` } as const;
const POD_A = `${P}-pa`;
const POD_B = `${P}-pb`;
const ADDR = { cn1: '10.255.0.1', cn2: '10.255.0.2', ctl: '10.255.0.3', kv1: '10.255.0.4', kv2: '10.255.0.5' } as const;
const VN = 'default-domain:bench:vn1';
const INSTANCE = `${VN}:vn1`;
const IP_A = '10.91.0.3';
const IP_B = '10.91.0.4';
const KIP_A = '10.92.0.1';
const KIP_B = '10.92.0.2';
const KVNI = 42;
/** Both sides get the same inner MTU: the underlay's 1500 less VXLAN's 50 bytes. */
const MTU = 1450;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const FLOWS = Number(process.env['BENCH_FLOWS'] ?? 20000);
const FLOW_PORT = 7000;
/** BENCH_ONLY=udp (or tcp, flows, comma-separated): a subset, e.g. to profile one figure. */
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'tcp,udp,flows').split(',').map((x) => x.trim()));

const controlConfig = controlYaml({
  ctl: ADDR.ctl,
  project: 'default-domain:bench',
  vrouters: { cn1: ADDR.cn1, cn2: ADDR.cn2 },
  vn: { name: VN, id: 5, subnet: '10.91.0.0/24' },
});

const agentConfig = (name: 'cn1' | 'cn2') => agentYaml({ name, vhost: ADDR[name], ctl: ADDR.ctl, encap: ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] });

/**
 * Receiver of the flow test: counts distinct source ports, and times first to last packet so
 * the figure is the rate the path delivered new flows, not the sender's. Stops 2 s after the
 * last packet (or 10 s with none).
 */
const FLOW_RECEIVER = `
import socket, sys, time, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print("listening", flush=True)
s.settimeout(10)
ports = set(); first = last = None
try:
    while True:
        d, a = s.recvfrom(2048)
        now = time.monotonic()
        if first is None: first = now; s.settimeout(2)
        last = now; ports.add(a[1])
except socket.timeout:
    pass
print(json.dumps({"flows": len(ports), "seconds": (last - first) if first is not None else 0}), flush=True)
`;

/** Sender: one datagram from each of N source ports, a fresh socket each (a new 5-tuple). */
const FLOW_SENDER = `
import socket, sys, time, json
dst = (sys.argv[1], int(sys.argv[2])); n = int(sys.argv[3]); base = 20000
t0 = time.monotonic(); sent = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", base + i))
    try:
        s.sendto(b"x" * 18, dst); sent += 1
    except OSError:
        pass
    s.close()
print(json.dumps({"sent": sent, "seconds": time.monotonic() - t0}), flush=True)
`;

interface Figures {
  tcpMbps: number;
  tcpRetransmits: number;
  udpPps: number;
  udpLossPct: number;
  flowsPerSec: number;
  flowsReceived: number;
}

async function iperfTcp(client: string, server: string, ip: string): Promise<{ mbps: number; retransmits: number }> {
  const srv = start(server, ['iperf3', '-s', '-1', '--forceflush', '-B', ip, '-p', '5201'], `iperf3 -s ${server}`);
  try {
    await srv.ready(/Server listening/);
    const c = run(inNs(client, ['iperf3', '-c', ip, '-p', '5201', '-t', String(SECONDS), '-J', '--connect-timeout', '5000']));
    if (c.code !== 0) throw new Error(`iperf3 TCP ${client} -> ${ip}: ${c.out}${c.err}`);
    const j = JSON.parse(c.out) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits: number } } };
    return { mbps: j.end.sum_received.bits_per_second / 1e6, retransmits: j.end.sum_sent.retransmits };
  } finally {
    await stop(srv.p);
  }
}

/** 64-byte UDP as fast as the client can; the server's count of what arrived, per second. */
async function iperfUdp(client: string, server: string, ip: string): Promise<{ pps: number; lossPct: number }> {
  // -J on the server too, or --get-server-output brings back only text.
  const srv = start(server, ['iperf3', '-s', '-1', '-J', '-B', ip, '-p', '5202'], `iperf3 -s ${server}`);
  try {
    await until('iperf3 -s -J listening', () => (run(inNs(server, ['ss', '-Hltn', 'sport = :5202'])).out.trim() !== '' ? true : undefined), 10_000);
    const c = run(inNs(client, ['iperf3', '-c', ip, '-p', '5202', '-u', '-l', '64', '-b', '0', '-t', String(SECONDS), '-J', '--get-server-output', '--connect-timeout', '5000']));
    if (c.code !== 0) throw new Error(`iperf3 UDP ${client} -> ${ip}: ${c.out}${c.err}`);
    const j = JSON.parse(c.out) as { server_output_json?: { end: { sum: { packets: number; lost_packets: number; seconds: number } } } };
    const sum = j.server_output_json?.end.sum;
    if (!sum) throw new Error(`iperf3 UDP: no server_output_json in ${c.out.slice(0, 500)}`);
    const received = sum.packets - sum.lost_packets;
    return { pps: received / sum.seconds, lossPct: sum.packets > 0 ? (100 * sum.lost_packets) / sum.packets : 0 };
  } finally {
    await stop(srv.p);
  }
}

async function newFlows(client: string, server: string, ip: string): Promise<{ perSec: number; received: number; sent: number }> {
  const rcv = start(server, ['python3', '-c', FLOW_RECEIVER, ip, String(FLOW_PORT)], `flow receiver ${server}`);
  try {
    await rcv.ready(/listening/);
    const s = run(inNs(client, ['python3', '-c', FLOW_SENDER, ip, String(FLOW_PORT), String(FLOWS)]));
    if (s.code !== 0) throw new Error(`flow sender: ${s.err}`);
    await rcv.ready(/"flows"/, 30_000);
    const line = rcv.log().split('\n').find((l) => l.startsWith('{'))!;
    const r = JSON.parse(line) as { flows: number; seconds: number };
    const sent = (JSON.parse(s.out) as { sent: number }).sent;
    return { perSec: r.seconds > 0 ? r.flows / r.seconds : 0, received: r.flows, sent };
  } finally {
    await stop(rcv.p);
  }
}

async function measure(label: string, a: string, b: string, ipB: string): Promise<Figures> {
  const ping = run(inNs(a, ['ping', '-c', '3', '-i', '0.2', '-W', '2', ipB]));
  if (!/ 0% packet loss/.test(ping.out)) throw new Error(`${label}: ${a} cannot ping ${ipB}: ${ping.out}${ping.err}`);
  const tcp = ONLY.has('tcp') ? await iperfTcp(a, b, ipB) : { mbps: 0, retransmits: 0 };
  console.error(`[${label}] TCP ${tcp.mbps.toFixed(0)} Mbit/s`);
  const udp = ONLY.has('udp') ? await iperfUdp(a, b, ipB) : { pps: 0, lossPct: 0 };
  console.error(`[${label}] UDP64 ${udp.pps.toFixed(0)} pkt/s received (${udp.lossPct.toFixed(1)}% lost)`);
  const fl = ONLY.has('flows') ? await newFlows(a, b, ipB) : { perSec: 0, received: 0, sent: 0 };
  console.error(`[${label}] flows ${fl.received}/${fl.sent} received, ${fl.perSec.toFixed(0)}/s`);
  return { tcpMbps: tcp.mbps, tcpRetransmits: tcp.retransmits, udpPps: udp.pps, udpLossPct: udp.lossPct, flowsPerSec: fl.perSec, flowsReceived: fl.received };
}

async function weftSide(dir: string): Promise<Figures> {
  const control = await startControl(NS.ctl, dir, controlConfig, WEFT);
  const agents = (['cn1', 'cn2'] as const).map((n) => startAgent(NS[n], n, path.join(dir, `${n}.yaml`), agentConfig(n), WEFT));
  const logs = () => [control, ...agents].map((x) => x.log().slice(-4000)).join('\n');
  try {
    await Promise.all(agents.map((x) => x.ready(/API on/)));
    const add = (ns: string, pod: string, ip: string) => {
      const r = run(inNs(ns, ['node', WEFT, 'pod', 'add', pod, '--network', INSTANCE, '--ip', `${ip}/24`, '--mtu', String(MTU), '--json']));
      if (r.code !== 0) throw new Error(`pod add ${pod}: ${r.err}\n${logs()}`);
      return JSON.parse(r.out) as { vrf: number };
    };
    const a = add(NS.cn1, POD_A, IP_A);
    const b = add(NS.cn2, POD_B, IP_B);
    await until(`cn1 learns ${IP_B}`, () => tunnelRouteOf(NS.cn1, a.vrf, IP_B));
    await until(`cn2 learns ${IP_A}`, () => tunnelRouteOf(NS.cn2, b.vrf, IP_A));
    const before = agentGet(NS.cn2, '/flow') as { stats: { created: number } };
    const f = await measure('weft MPLSoUDP', POD_A, POD_B, IP_B);
    const after = agentGet(NS.cn2, '/flow') as { stats: Record<string, number> };
    console.error(`[weft MPLSoUDP] cn2 flow table: ${after.stats['created']! - before.stats.created} entries created, stats ${JSON.stringify(after.stats)}`);
    for (const n of ['cn1', 'cn2'] as const) {
      const dp = (agentGet(NS[n], '/status') as { dataplane: { rx: unknown; tx: unknown; drops: Record<string, number>; offload: unknown } }).dataplane;
      console.error(`[weft MPLSoUDP] ${n} rx ${JSON.stringify(dp.rx)} tx ${JSON.stringify(dp.tx)} drops ${JSON.stringify(dp.drops)} offload ${JSON.stringify(dp.offload)}`);
    }
    return f;
  } catch (e) {
    console.error(logs());
    throw e;
  } finally {
    await Promise.all(agents.map((x) => stop(x.p)));
    await stop(control.p);
  }
}

/** Two namespaces, each a vxlan device (remote = the other) holding its overlay address. */
async function kernelSide(): Promise<Figures> {
  for (const [ns, local, remote, ip] of [
    [NS.kv1, ADDR.kv1, ADDR.kv2, KIP_A],
    [NS.kv2, ADDR.kv2, ADDR.kv1, KIP_B],
  ] as const) {
    must(['ip', '-n', ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', String(KVNI), 'remote', remote, 'local', local, 'dstport', '4789', 'dev', 'ul0']);
    must(['ip', '-n', ns, 'link', 'set', 'vx0', 'mtu', String(MTU), 'up']);
    must(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'vx0']);
  }
  return measure('kernel VXLAN', NS.kv1, NS.kv2, KIP_B);
}

async function cleanup(dir: string): Promise<void> {
  await Promise.all([...procs].map((p) => stop(p)));
  for (const ns of [POD_A, POD_B, NS.kv1, NS.kv2, NS.cn1, NS.cn2, NS.ctl, NS.fab]) {
    if (run(['ip', 'netns', 'list']).out.split('\n').some((l) => l.split(' ')[0] === ns)) run(['ip', 'netns', 'delete', ns]);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

function table(w: Figures, k: Figures): string {
  const rows: [string, number, number, number][] = [
    ['TCP throughput (Mbit/s)', w.tcpMbps, k.tcpMbps, 0],
    ['UDP 64 B received (pkt/s)', w.udpPps, k.udpPps, 0],
    ['new flows (flows/s)', w.flowsPerSec, k.flowsPerSec, 0],
  ];
  const lines = [`${'figure'.padEnd(28)}${'weft MPLSoUDP'.padStart(16)}${'kernel VXLAN'.padStart(16)}${'ratio'.padStart(9)}`];
  for (const [name, wv, kv] of rows) {
    lines.push(`${name.padEnd(28)}${wv.toFixed(0).padStart(16)}${kv.toFixed(0).padStart(16)}${(kv > 0 ? wv / kv : 0).toFixed(3).padStart(9)}`);
  }
  lines.push(`(UDP loss: weft ${w.udpLossPct.toFixed(1)}%, kernel ${k.udpLossPct.toFixed(1)}%; flows received of ${FLOWS}: weft ${w.flowsReceived}, kernel ${k.flowsReceived}; TCP retransmits: weft ${w.tcpRetransmits}, kernel ${k.tcpRetransmits})`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('dataplane-bench needs root (namespaces, TAPs, raw sockets)');
  for (const tool of ['ip', 'nsenter', 'iperf3', 'python3', 'ping']) {
    if (run(['sh', '-c', `command -v ${tool}`]).code !== 0) throw new Error(`dataplane-bench needs \`${tool}\` on PATH`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), `${P}-`));
  let cleaning: Promise<void> | undefined;
  const clean = () => (cleaning ??= cleanup(dir));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void clean().finally(() => process.exit(130)));
  }
  try {
    makeUnderlay(NS.fab, {
      cn1: { ns: NS.cn1, address: ADDR.cn1 },
      cn2: { ns: NS.cn2, address: ADDR.cn2 },
      ctl: { ns: NS.ctl, address: ADDR.ctl },
      kv1: { ns: NS.kv1, address: ADDR.kv1 },
      kv2: { ns: NS.kv2, address: ADDR.kv2 },
    });
    const w = await weftSide(dir);
    const k = await kernelSide();
    console.log(table(w, k));
    const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(4)) : null);
    console.log(
      JSON.stringify({
        bench: 'dataplane',
        seconds: SECONDS,
        flows: FLOWS,
        tcpMbps: { weft: w.tcpMbps, kernel: k.tcpMbps, ratio: ratio(w.tcpMbps, k.tcpMbps) },
        udp64Pps: { weft: w.udpPps, kernel: k.udpPps, ratio: ratio(w.udpPps, k.udpPps) },
        newFlowsPerSec: { weft: w.flowsPerSec, kernel: k.flowsPerSec, ratio: ratio(w.flowsPerSec, k.flowsPerSec) },
      }),
    );
  } finally {
    await clean();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
