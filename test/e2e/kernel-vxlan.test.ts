/**
 * Issue 5, acceptance 2: the Linux kernel as a VXLAN peer. One `weft agent` (cn1) with a pod,
 * `weft control`, and a namespace `kvx` whose kernel VXLAN device (VNI = the network's
 * vxlan-id, remote = cn1's vhost) carries an address in the pod's subnet, all on one underlay
 * bridge. Pod and kernel ping each other; a capture of cn1's underlay link decodes in tshark
 * with no malformed packet and shows VXLAN with the VNI both ways.
 *
 * How weft learns the kernel host: a scripted XMPP session under the name `kvx`
 * (support/static-route-agent.mjs, the agent's own client) publishes the host's /32 with kvx's
 * underlay address as next hop. The CN drops `vxlan` from inet routes (dialect notes 9.1), so
 * cn1 picks VXLAN from its configuration: the network's vxlan-id, VXLAN first in priority.
 *
 * The agent sends the inner frame to its own router MAC and the kernel's vxlan driver drops
 * frames whose inner source is the device's own MAC, so the kernel address sits on a bridge
 * that owns the router MAC, with vx0 as its port (learning off: the agent's frames come from
 * that same MAC).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VROUTER_MAC } from '../../src/vrouter/addr.js';
import {
  REPO,
  WEFT,
  inNs,
  makeUnderlay,
  malformedFrames,
  must,
  procs,
  requireRootAndTools,
  run,
  start,
  stop,
  tunnelRouteOf,
  until,
  weft,
  type Started,
} from './support/procs.js';
import { agentYaml, controlYaml, startAgent, startControl } from './support/weft-setup.js';

const P = `kx${process.pid % 100000}`;
const NS = { fab: `${P}-fab`, ctl: `${P}-ctl`, cn1: `${P}-cn1`, kvx: `${P}-kvx` } as const;
const POD = `${P}-pa`;
const ADDR = { cn1: '10.255.0.1', ctl: '10.255.0.3', kvx: '10.255.0.4' } as const;
const VN = 'default-domain:e2e:vn1';
const INSTANCE = `${VN}:vn1`;
const VNI = 7;
const IP_POD = '10.91.0.3';
const IP_KVX = '10.91.0.9';
const POD_MTU = 1450;

const controlConfig = controlYaml({
  ctl: ADDR.ctl,
  project: 'default-domain:e2e',
  vrouters: { cn1: ADDR.cn1, kvx: ADDR.kvx },
  vn: { name: VN, id: 5, vxlanId: VNI, subnet: '10.91.0.0/24' },
});

const agentConfig = agentYaml({ name: 'cn1', vhost: ADDR.cn1, ctl: ADDR.ctl, encap: ['VXLAN', 'MPLSoUDP', 'MPLSoGRE'], network: { instance: INSTANCE, vxlanId: VNI } });

describe('a kernel VXLAN device and a pod behind a weft agent reach each other', () => {
  let dir = '';
  const started: Started[] = [];
  const logs = () => started.map((s) => s.log()).join('\n');

  beforeAll(async () => {
    requireRootAndTools(['ip', 'nsenter', 'ping', 'dumpcap', 'tshark']);
    dir = mkdtempSync(path.join(tmpdir(), `${P}-`));
    makeUnderlay(NS.fab, {
      cn1: { ns: NS.cn1, address: ADDR.cn1 },
      ctl: { ns: NS.ctl, address: ADDR.ctl },
      kvx: { ns: NS.kvx, address: ADDR.kvx },
    });
    started.push(await startControl(NS.ctl, dir, controlConfig));
    const agent = startAgent(NS.cn1, 'cn1', path.join(dir, 'cn1.yaml'), agentConfig);
    started.push(agent);
    await agent.ready(/API on/);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    for (const ns of [POD, NS.kvx, NS.cn1, NS.ctl, NS.fab]) run(['ip', 'netns', 'delete', ns]);
    // WEFT_E2E_KEEP=1 keeps the configurations and the capture for a look.
    if (dir && !process.env['WEFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`e2e files kept in ${dir}`);
  });

  it('pings both ways over VXLAN with the VNI; tshark reads the underlay cleanly', async () => {
    const add = weft(NS.cn1, ['pod', 'add', POD, '--network', INSTANCE, '--ip', `${IP_POD}/24`, '--mtu', String(POD_MTU), '--json']);
    if (add.code !== 0) throw new Error(`pod add: ${add.err}\n${logs()}`);
    const pod = JSON.parse(add.out) as { vrf: number; mac: string };

    // The kernel side: vx0 (VNI, remote cn1) as the port of a bridge holding the overlay address.
    const k = (args: string[]) => must(['ip', '-n', NS.kvx, ...args]);
    k(['link', 'add', 'vx0', 'type', 'vxlan', 'id', String(VNI), 'remote', ADDR.cn1, 'local', ADDR.kvx, 'dstport', '4789', 'dev', 'ul0']);
    k(['link', 'add', 'brk', 'type', 'bridge']);
    k(['link', 'set', 'brk', 'address', VROUTER_MAC, 'mtu', String(POD_MTU)]);
    k(['link', 'set', 'vx0', 'master', 'brk']);
    k(['link', 'set', 'vx0', 'type', 'bridge_slave', 'learning', 'off']);
    k(['link', 'set', 'vx0', 'up']);
    k(['link', 'set', 'brk', 'up']);
    k(['addr', 'add', `${IP_KVX}/24`, 'dev', 'brk']);
    // No ARP across the tunnel: the agent answers ARP only on its pods' interfaces.
    k(['neigh', 'add', IP_POD, 'lladdr', pod.mac, 'dev', 'brk', 'nud', 'permanent']);

    const scripted = start(
      NS.kvx,
      ['node', path.join(REPO, 'test', 'e2e', 'support', 'static-route-agent.mjs'), 'kvx', ADDR.kvx, ADDR.ctl, INSTANCE, VN, `${IP_KVX}/32`, '16'],
      'static-route agent kvx',
    );
    started.push(scripted);
    await scripted.ready(/established/);

    // cn1's route to the kernel host: a VXLAN tunnel to kvx with the network's VNI.
    expect(await until(`cn1 learns ${IP_KVX}`, () => tunnelRouteOf(NS.cn1, pod.vrf, IP_KVX))).toEqual({ label: VNI, encap: 'VXLAN', dip: ADDR.kvx });

    const pcap = path.join(dir, 'kvx.pcapng');
    const capture = start(NS.cn1, ['dumpcap', '-i', 'ul0', '-w', pcap], 'dumpcap');
    started.push(capture);
    await capture.ready(/Capturing on/);

    const there = run(inNs(POD, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_KVX]));
    const back = run(inNs(NS.kvx, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_POD]));
    // dumpcap writes what it has on SIGINT; the last reply may still be on its way to it.
    await new Promise((r) => setTimeout(r, 500));
    await stop(capture.p, 'SIGINT');
    expect(there.out, `${there.out}${there.err}\n${logs()}`).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    expect(back.out, `${back.out}${back.err}\n${logs()}`).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);

    expect(malformedFrames(pcap), 'malformed frames').toBe('');
    const rows = must(['tshark', '-r', pcap, '-Y', 'vxlan && icmp', '-T', 'fields', '-E', 'occurrence=l', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type'])
      .trim()
      .split('\n');
    const outer = must(['tshark', '-r', pcap, '-Y', 'vxlan', '-T', 'fields', '-E', 'occurrence=f', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'vxlan.vni'])
      .trim()
      .split('\n');
    // Every VXLAN packet is between the two tunnel endpoints with the network's VNI, both ways.
    expect([...new Set(outer)].sort()).toEqual([`${ADDR.cn1}\t${ADDR.kvx}\t${VNI}`, `${ADDR.kvx}\t${ADDR.cn1}\t${VNI}`].sort());
    // Inside: both pings' requests and replies.
    for (const want of [`${IP_POD}\t${IP_KVX}\t8`, `${IP_KVX}\t${IP_POD}\t0`, `${IP_KVX}\t${IP_POD}\t8`, `${IP_POD}\t${IP_KVX}\t0`]) {
      expect(rows.filter((r) => r === `${VNI}\t${want}`).length, want).toBeGreaterThanOrEqual(3);
    }
    const st = run(inNs(NS.cn1, ['node', '-e', "fetch('http://127.0.0.1:8085/status').then(r=>r.text()).then(t=>process.stdout.write(t))"]));
    const drops = (JSON.parse(st.out) as { dataplane: { drops: Record<string, number> } }).dataplane.drops;
    expect(drops).toMatchObject({ TapFull: 0, SendError: 0, NoTunnelSocket: 0, HandlerError: 0 });
  }, 45_000);
});
