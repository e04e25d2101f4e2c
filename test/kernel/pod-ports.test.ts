/**
 * The agent's pod API making a pod from ports of its configuration view (book-lab S9): three
 * ports in three networks become eth0/eth1/eth2 of one namespace, TAPs named
 * `tapeth<N>-<6 hex>` with one suffix, each with its port's address and MAC, the default
 * route only via eth0's gateway; the vRouter answers ARP for each gateway on its TAP.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortHash } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/agent/config.js';
import { AgentService, type PodView } from '../../src/agent/service.js';
import { podCommand } from '../../src/cli/pod.js';
import { parseConfigText } from '../../src/config/load.js';
import { emptyAgentView, type AgentView, type ViewPort } from '../../src/config/agent-view.js';
import { execInNetns, listNetns } from '../../src/vrouter/kernel/netns.js';
import { requireKernelAccess } from './preconditions.js';

const PREFIX = `h2-${process.pid}`;
const POD = `${PREFIX}-csrx`;
const OLD_POD = `${PREFIX}-old`;
/** A loopback address of its own: the data plane binds its tunnel ports there. */
const VHOST = `127.42.${process.pid % 250}.${1 + (Math.floor(process.pid / 250) % 250)}`;
const VROUTER_MAC = '00:00:5e:00:01:00';

const NETS = {
  pod: { vn: 'default-domain:k8s-default:k8s-default-pod-network', prefix: '10.32.0.0/12', gateway: '10.47.255.254', ip: '10.47.255.240', plen: 12 },
  left: { vn: 'default-domain:k8s-default:k8s-vn-left-1-pod-network', prefix: '10.10.10.0/24', gateway: '10.10.10.254', ip: '10.10.10.3', plen: 24 },
  right: { vn: 'default-domain:k8s-default:k8s-vn-right-1-pod-network', prefix: '20.20.20.0/24', gateway: '20.20.20.254', ip: '20.20.20.3', plen: 24 },
};
const instance = (vn: string): string => `${vn}:${vn.slice(vn.lastIndexOf(':') + 1)}`;

function port(name: string, net: (typeof NETS)[keyof typeof NETS], mac: string, itf?: string): ViewPort {
  return { name, network: net.vn, instance: instance(net.vn), mac, ips: [net.ip], vrouter: 'h2-cent222', tags: [], tagIds: [], pod: 'csrx', ...(itf ? { interface: itf } : {}) };
}

const P_DEFAULT = port('default-domain:k8s-default:csrx-eth0', NETS.pod, '02:c5:f6:3f:45:20');
const P_LEFT = port('default-domain:k8s-default:csrx-left', NETS.left, '02:c5:f6:3f:45:21');
const P_RIGHT = port('default-domain:k8s-default:csrx-right', NETS.right, '02:c5:f6:3f:45:22', 'eth2');

function view(): AgentView {
  const v = emptyAgentView('h2-cent222', VHOST);
  v.networks = Object.values(NETS).map((n, i) => {
    const host = n.gateway.split('.');
    host[3] = '253';
    return { name: n.vn, instance: instance(n.vn), id: 20 + i, subnets: [{ prefix: n.prefix, gateway: n.gateway, serviceAddress: host.join('.') }] };
  });
  v.ports = [P_DEFAULT, P_LEFT, P_RIGHT];
  return v;
}

interface Link {
  ifname: string;
  address: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

function links(ns: string): Link[] {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'addr', 'show'], { encoding: 'utf8' })) as Link[];
}

describe('POST /pods with ports from the view', () => {
  let svc: AgentService;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, body: await res.json() };
  }

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
    const code = await podCommand([...args, '--agent', svc.url], io);
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    requireKernelAccess(['ip', 'ping']);
    const config = parseConfigText(
      `name: h2-cent222
vhost: { address: ${VHOST} }
control-nodes: [{ address: ${VHOST}, port: 9 }]
introspect: { address: 127.0.0.1, port: 0 }
dataplane: { gre: false, udp-senders: 1, source-port-base: 0 }
`,
      agentConfigSchema,
      'h2-agent.yaml',
    );
    svc = new AgentService(config);
    await svc.start();
    svc.agent.onView!(view());
  });

  afterAll(async () => {
    await svc?.stop();
    for (const ns of await listNetns()) if (ns.startsWith(PREFIX)) execFileSync('ip', ['netns', 'delete', ns]);
  });

  it('refuses a port the view does not have, naming it', async () => {
    const r = await call('POST', '/pods', { name: POD, ports: [P_DEFAULT.name, 'default-domain:k8s-default:nope'] });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain('default-domain:k8s-default:nope');
    expect(await listNetns()).not.toContain(POD);
    expect(svc.agent.podList()).toEqual([]);
  });

  it('makes eth0/eth1/eth2 in the ports\' interface order, tap names sharing the pod\'s suffix', async () => {
    // eth2 is named by the port; the others take the free slots in the order given.
    const r = await call('POST', '/pods', { name: POD, ports: [P_DEFAULT.name, P_RIGHT.name, P_LEFT.name], hostname: 'csrx' });
    expect(r.status).toBe(201);
    const pod = r.body as PodView;
    const suffix = shortHash(POD);
    expect(pod).toMatchObject({ name: POD, hostname: 'csrx', netns: POD, ip: NETS.pod.ip, gateway: NETS.pod.gateway });
    expect(pod.interfaces.map((i) => [i.ifname, i.port, i.network, `${i.ip}/${i.plen}`, i.mac, i.gateway, i.osName])).toEqual([
      ['eth0', P_DEFAULT.name, P_DEFAULT.instance, `${NETS.pod.ip}/12`, P_DEFAULT.mac, NETS.pod.gateway, `tapeth0-${suffix}`],
      ['eth1', P_LEFT.name, P_LEFT.instance, `${NETS.left.ip}/24`, P_LEFT.mac, NETS.left.gateway, `tapeth1-${suffix}`],
      ['eth2', P_RIGHT.name, P_RIGHT.instance, `${NETS.right.ip}/24`, P_RIGHT.mac, NETS.right.gateway, `tapeth2-${suffix}`],
    ]);
    // One vif per interface, each in its own network's VRF, its /32 routed to its next hop.
    const vrfs = new Set(pod.interfaces.map((i) => i.vrf));
    expect(vrfs.size).toBe(3);
    for (const i of pod.interfaces) {
      expect(svc.agent.router.vifs.get(i.vif)).toMatchObject({ osName: i.osName, vrf: i.vrf, ip: i.ip, peerMac: i.mac });
      expect(svc.agent.router.vrfs.get(i.vrf)!.routes.get(`${i.ip}/32`)?.nh).toBe(i.nh);
      expect(svc.agent.pod(i.port)?.label).toBe(i.label);
    }
    const get = await call('GET', '/pods');
    expect((get.body as PodView[]).map((p) => p.interfaces.map((i) => i.ifname))).toEqual([['eth0', 'eth1', 'eth2']]);
    // `weft pod list`: a line per interface.
    const out = await cli(['list']);
    expect(out.code).toBe(0);
    expect(out.stdout.split('\n').slice(0, 4)).toEqual([
      `${POD}:`,
      expect.stringMatching(new RegExp(`^  eth0 ${NETS.pod.ip}/12 mac ${P_DEFAULT.mac} gw ${NETS.pod.gateway} vif0/\\d+ tapeth0-${suffix} `)),
      expect.stringMatching(new RegExp(`^  eth1 ${NETS.left.ip}/24 .* tapeth1-${suffix} `)),
      expect.stringMatching(new RegExp(`^  eth2 ${NETS.right.ip}/24 .* tapeth2-${suffix} `)),
    ]);
  });

  it('the namespace holds the three interfaces with their MACs and addresses, and one default route via eth0\'s gateway', async () => {
    const byName = new Map(links(POD).map((l) => [l.ifname, l]));
    for (const [ifname, p, net] of [
      ['eth0', P_DEFAULT, NETS.pod],
      ['eth1', P_LEFT, NETS.left],
      ['eth2', P_RIGHT, NETS.right],
    ] as const) {
      const l = byName.get(ifname);
      expect(l, ifname).toBeDefined();
      expect(l!.address).toBe(p.mac);
      expect(l!.flags).toContain('UP');
      expect(l!.addr_info.find((a) => a.family === 'inet')).toMatchObject({ local: net.ip, prefixlen: net.plen });
    }
    const routes = JSON.parse(execFileSync('ip', ['-n', POD, '-j', 'route', 'show', 'default'], { encoding: 'utf8' })) as { gateway: string; dev: string }[];
    expect(routes).toEqual([expect.objectContaining({ dst: 'default', gateway: NETS.pod.gateway, dev: 'eth0' })]);
    // The TAPs are attached: the agent answers ARP for each subnet's gateway on its interface.
    await Promise.all(
      [
        ['eth0', NETS.pod.gateway],
        ['eth1', NETS.left.gateway],
        ['eth2', NETS.right.gateway],
      ].map(([dev, gw]) => execInNetns(POD, ['ping', '-c', '1', '-W', '1', '-I', dev!, gw!])),
    );
    for (const [dev, gw] of [
      ['eth0', NETS.pod.gateway],
      ['eth1', NETS.left.gateway],
      ['eth2', NETS.right.gateway],
    ]) {
      expect(execFileSync('ip', ['-n', POD, 'neigh', 'show', gw!, 'dev', dev!], { encoding: 'utf8' })).toContain(`lladdr ${VROUTER_MAC}`);
    }
  });

  it('a port already in a pod, or an interface slot out of range, is refused', async () => {
    const again = await call('POST', '/pods', { name: `${PREFIX}-dup`, ports: [P_LEFT.name] });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain(P_LEFT.name);
    const v = view();
    v.ports.push(port('default-domain:k8s-default:lonely', NETS.left, '02:c5:f6:3f:45:29', 'eth3'));
    svc.agent.onView!(v);
    const slot = await call('POST', '/pods', { name: `${PREFIX}-slot`, ports: ['default-domain:k8s-default:lonely'] });
    expect(slot.status).toBe(400);
    expect(slot.body.error).toMatch(/eth3/);
    expect((await listNetns()).filter((n) => n.startsWith(PREFIX))).toEqual([POD]);
  });

  it('the address form keeps working beside it (`weft pod add --network --ip`)', async () => {
    const add = await cli(['add', OLD_POD, '--network', P_LEFT.instance, '--ip', '10.10.10.9/24']);
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(new RegExp(`^${OLD_POD}: 10\\.10\\.10\\.9/24 mac 02:\\S+ gw 10\\.10\\.10\\.254 vif0/\\d+ tapeth0-[0-9a-f]{6} `));
    const r = await call('GET', `/pods/${OLD_POD}`);
    expect((r.body as PodView).interfaces).toEqual([expect.objectContaining({ ifname: 'eth0', ip: '10.10.10.9', gateway: '10.10.10.254' })]);
    expect((await cli(['del', OLD_POD])).code).toBe(0);
    expect(await listNetns()).not.toContain(OLD_POD);
  });

  it('DELETE takes every interface and the namespace away', async () => {
    const r = await call('DELETE', `/pods/${POD}`);
    expect(r.status).toBe(200);
    expect(await listNetns()).not.toContain(POD);
    expect(svc.agent.podList()).toEqual([]);
    expect(svc.agent.router.vifs.list().filter((v) => v.type === 'virtual')).toEqual([]);
  });
});
