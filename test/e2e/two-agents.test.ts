/**
 * Issue 5, acceptance 1: two `weft agent` processes, each in its own compute-node namespace,
 * and `weft control` in a third, all joined by a bridge in a fabric namespace (10.255.0.0/24,
 * nothing in the host's namespace). Pods made with `weft pod add` on both nodes ping each
 * other and move 100 MB over TCP (iperf3), once per encapsulation; a capture of cn1's underlay
 * link must decode in tshark with no malformed packet and show the pods' labels (the VN's VNI
 * for VXLAN) between the two vhost addresses.
 *
 * VXLAN: the control node drops `vxlan` from inet routes (dialect notes 9.1), so VXLAN comes
 * from the agents' configuration: the network's vxlan-id, with VXLAN first in the priority.
 *
 * Root, iproute2, iperf3, ping, dumpcap and tshark are required: missing ones fail the test.
 * The CLI runs from dist/ (`npm test` builds it first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT, agentGet, inNs, makeUnderlay, malformedFrames, must, procs, requireRootAndTools, run, start, stop, tunnelRouteOf, until, weft } from './support/procs.js';
import { agentYaml, controlYaml, startAgent, startControl } from './support/weft-setup.js';

const P = `wf${process.pid % 100000}`;
const NS = { fab: `${P}-fab`, ctl: `${P}-ctl`, cn1: `${P}-cn1`, cn2: `${P}-cn2` } as const;
const POD_A = `${P}-pa`;
const POD_B = `${P}-pb`;
const ADDR = { cn1: '10.255.0.1', cn2: '10.255.0.2', ctl: '10.255.0.3' } as const;
const VN = 'default-domain:e2e:vn1';
const INSTANCE = `${VN}:vn1`;
const VNI = 5;
const IP_A = '10.91.0.3';
const IP_B = '10.91.0.4';
/** 1500-byte underlay; the pods leave room for VXLAN's 50 bytes, the largest overhead. */
const POD_MTU = 1450;
const BYTES = 100 * 1024 * 1024;

type Encap = 'MPLSoUDP' | 'MPLSoGRE' | 'VXLAN';

let dir = '';

function agentConfig(name: 'cn1' | 'cn2', encap: Encap): string {
  const order = [encap, ...(['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] as const).filter((e) => e !== encap)];
  return agentYaml({ name, vhost: ADDR[name], ctl: ADDR.ctl, encap: order, network: { instance: INSTANCE, vxlanId: VNI } });
}

interface PodJson {
  label: number;
  vif: number;
  vrf: number;
  mac: string;
}

describe('two weft agents forward pod traffic over the underlay', () => {
  let control: ReturnType<typeof start>;

  beforeAll(async () => {
    requireRootAndTools(['ip', 'nsenter', 'ping', 'iperf3', 'dumpcap', 'tshark']);
    dir = mkdtempSync(path.join(tmpdir(), `${P}-`));
    makeUnderlay(NS.fab, { cn1: { ns: NS.cn1, address: ADDR.cn1 }, cn2: { ns: NS.cn2, address: ADDR.cn2 }, ctl: { ns: NS.ctl, address: ADDR.ctl } });
    const vn = { name: VN, id: VNI, vxlanId: VNI, subnet: '10.91.0.0/24' };
    control = await startControl(NS.ctl, dir, controlYaml({ ctl: ADDR.ctl, project: 'default-domain:e2e', vrouters: { cn1: ADDR.cn1, cn2: ADDR.cn2 }, vn }));
  });

  afterAll(async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    for (const ns of [POD_A, POD_B, NS.cn1, NS.cn2, NS.ctl, NS.fab]) run(['ip', 'netns', 'delete', ns]);
    // WEFT_E2E_KEEP=1 keeps the configurations and captures for a look.
    if (dir && !process.env['WEFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`e2e files kept in ${dir}`);
  });

  for (const encap of ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] as const) {
    it(`${encap}: pods ping each other and move 100 MB over TCP; tshark reads the underlay cleanly`, async () => {
      const agents = (['cn1', 'cn2'] as const).map((n) => {
        return startAgent(NS[n], n, path.join(dir, `${n}-${encap}.yaml`), agentConfig(n, encap));
      });
      const logs = () => [control, ...agents].map((x) => x.log()).join('\n');
      let capture: ReturnType<typeof start> | undefined;
      try {
        await Promise.all(agents.map((a) => a.ready(/API on/)));
        const add = (ns: string, pod: string, ip: string) => {
          const r = weft(ns, ['pod', 'add', pod, '--network', INSTANCE, '--ip', `${ip}/24`, '--mtu', String(POD_MTU), '--json']);
          if (r.code !== 0) throw new Error(`pod add ${pod}: ${r.err}\n${logs()}`);
          return JSON.parse(r.out) as PodJson;
        };
        const a = add(NS.cn1, POD_A, IP_A);
        const b = add(NS.cn2, POD_B, IP_B);
        expect(a.mac).toMatch(/^02:/);

        // Each agent's route to the other pod: a tunnel of this encapsulation to the other vhost.
        const tunnelRoute = (ns: string, vrf: number, ip: string) => until(`${ns} learns ${ip}`, () => tunnelRouteOf(ns, vrf, ip));
        const wantLabel = (p: PodJson) => (encap === 'VXLAN' ? VNI : p.label);
        expect(await tunnelRoute(NS.cn1, a.vrf, IP_B)).toEqual({ label: wantLabel(b), encap, dip: ADDR.cn2 });
        expect(await tunnelRoute(NS.cn2, b.vrf, IP_A)).toEqual({ label: wantLabel(a), encap, dip: ADDR.cn1 });

        const pcap = path.join(dir, `${encap}.pcapng`);
        // Headers are what is checked: 200 bytes keep the outer and inner ones, not 100 MB of payload.
        capture = start(NS.cn1, ['dumpcap', '-i', 'ul0', '-s', '200', '-w', pcap], `dumpcap ${encap}`);
        await capture.ready(/Capturing on/);

        const ping = run(inNs(POD_A, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_B]));
        expect(ping.out, `${ping.out}${ping.err}\n${logs()}`).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
        const back = run(inNs(POD_B, ['ping', '-c', '2', '-i', '0.2', '-W', '2', IP_A]));
        expect(back.out, `${back.out}${back.err}\n${logs()}`).toMatch(/2 packets transmitted, 2 received/);
        console.log(`[${encap}] ${ping.out.trim().split('\n').slice(-2).join(' | ')}`);

        const server = start(POD_B, ['iperf3', '-s', '-1', '--forceflush', '-B', IP_B, '-p', '5201'], 'iperf3 -s');
        await server.ready(/Server listening/);
        const client = run(inNs(POD_A, ['iperf3', '-c', IP_B, '-p', '5201', '-n', String(BYTES), '-J', '--connect-timeout', '5000']));
        await stop(server.p);
        if (client.code !== 0) throw new Error(`iperf3 client: ${client.out}${client.err}\n${logs()}`);
        const res = JSON.parse(client.out) as { end: { sum_sent: { bytes: number; bits_per_second: number; retransmits: number }; sum_received: { bytes: number; bits_per_second: number } } };
        // All 100 MiB went into the connection; the server's count stops at iperf3's TEST_END,
        // before the last in-flight window is read (a few MB short is iperf3, not loss).
        expect(res.end.sum_sent.bytes).toBeGreaterThanOrEqual(BYTES);
        expect(res.end.sum_received.bytes).toBeGreaterThan(0.95 * BYTES);
        console.log(
          `[${encap}] iperf3: ${res.end.sum_received.bytes} bytes received, ${(res.end.sum_received.bits_per_second / 1e6).toFixed(0)} Mbit/s, ${res.end.sum_sent.retransmits} retransmits`,
        );
        await stop(capture.p, 'SIGINT');

        // tshark: nothing malformed, and the tunnel packets are the ones expected.
        const malformed = malformedFrames(pcap);
        expect(malformed, `malformed frames: ${malformed}`).toBe('');
        const filter = encap === 'VXLAN' ? 'vxlan' : encap === 'MPLSoGRE' ? 'gre && mpls' : 'udp.dstport == 6635 && mpls';
        const field = encap === 'VXLAN' ? 'vxlan.vni' : 'mpls.label';
        const rows = must(['tshark', '-r', pcap, '-Y', filter, '-T', 'fields', '-E', 'occurrence=f', '-e', 'ip.src', '-e', 'ip.dst', '-e', field, '-e', 'ip.proto'])
          .trim()
          .split('\n')
          .filter((l) => l !== '');
        const seen = new Map<string, number>();
        const proto = encap === 'MPLSoGRE' ? '47' : '17';
        let icmpErrors = 0;
        for (const r of rows) {
          // An outer ICMP error quoting a tunnel packet: see below.
          if (r.endsWith('\t1')) icmpErrors++;
          else seen.set(r, (seen.get(r) ?? 0) + 1);
        }
        if (icmpErrors > 0) {
          // Linux 6.x answers a GRE packet with protocol-unreachable when the raw socket's
          // receive buffer is full (raw_v4_input no longer counts it as delivered): a burst the
          // agent could not read in time. Rate-limited by the kernel, so only a count here.
          console.log(`[${encap}] ${icmpErrors} outer ICMP error(s) quoting tunnel packets (receive buffer overflow)`);
          expect(encap).toBe('MPLSoGRE');
        }
        expect([...seen.keys()].sort()).toEqual(
          [`${ADDR.cn1}\t${ADDR.cn2}\t${wantLabel(b)}\t${proto}`, `${ADDR.cn2}\t${ADDR.cn1}\t${wantLabel(a)}\t${proto}`].sort(),
        );
        // The transfer went through the tunnel: 100 MiB crossed cn1 -> cn2. Counted in bytes, not
        // packets: the agents send TCP bursts with UDP GSO, which a veth carries (and dumpcap sees)
        // as one packet of up to 64 KB; dumpcap may lose some under load, so only the bulk is required.
        const dataPackets = seen.get(`${ADDR.cn1}\t${ADDR.cn2}\t${wantLabel(b)}\t${proto}`)!;
        const dataBytes = must(['tshark', '-r', pcap, '-Y', `${filter} && ip.src == ${ADDR.cn1}`, '-T', 'fields', '-e', 'frame.len'])
          .trim()
          .split('\n')
          .reduce((sum, l) => sum + (Number(l) || 0), 0);
        console.log(`[${encap}] ${dataPackets} tunnel packets, ${dataBytes} bytes cn1 -> cn2 captured`);
        expect(dataBytes).toBeGreaterThan(BYTES / 2);
        // The pods' own packets inside: ICMP and TCP between the pod addresses.
        const inner = must(['tshark', '-r', pcap, '-Y', `${filter} && icmp`, '-T', 'fields', '-E', 'occurrence=l', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type']);
        expect(inner).toContain(`${IP_A}\t${IP_B}\t8`);
        expect(inner).toContain(`${IP_B}\t${IP_A}\t0`);
        if (encap !== 'MPLSoGRE') {
          const ports = must(['tshark', '-r', pcap, '-Y', filter, '-T', 'fields', '-E', 'occurrence=f', '-e', 'udp.srcport']).trim().split('\n');
          // Source ports from the agents' sender pool (49152..49159), several flows -> several ports.
          for (const sp of ports) expect(Number(sp)).toBeGreaterThanOrEqual(49152);
        }
        // The agents counted no I/O failure.
        for (const ns of [NS.cn1, NS.cn2]) {
          const st = agentGet(ns, '/status') as { dataplane: { drops: Record<string, number> } };
          expect({ ns, ...st.dataplane.drops }).toMatchObject({ ns, TapFull: 0, SendError: 0, NoTunnelSocket: 0, GreFull: 0, HandlerError: 0 });
        }
      } finally {
        if (capture) await stop(capture.p, 'SIGINT');
        await Promise.all(agents.map((x) => stop(x.p)));
      }
      // The agents deleted their pods on the way out.
      expect(run(['ip', 'netns', 'list']).out).not.toContain(POD_A);
    });
  }
});
