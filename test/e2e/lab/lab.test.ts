/**
 * Issue 6: the book's lab (../shared/docs/book-lab.md) built by `weft lab up` once, the
 * scenarios run against it in order, then `weft lab down` must leave the host as it found it.
 * Root, iproute2, nsenter, ping, curl, gobgpd and gobgp are required: a missing one fails.
 *
 * Pods (fixtures/lab/book-lab.yaml): client 10.47.255.236 and webserver-1 .238 on cent222 (A),
 * webserver-2 .237 and client-2 .234 on cent333 (B), all in k8s-default-pod-network;
 * isolated-2 .233 on A and isolated-1 .235 on B in the isolated namespace's network.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRootAndTools } from '../support/procs.js';
import {
  ADDR,
  REPO,
  WEFT,
  NS,
  controlRest,
  footprint,
  gobgpNeighbors,
  gobgpRib,
  httpGet,
  lab,
  labState,
  ping,
  runIn,
  sleep,
  until,
  vifOf,
  weftJson,
  weftText,
} from './support.js';

const POD = {
  client: { name: 'client', ip: '10.47.255.236', ns: NS.a },
  webserver1: { name: 'webserver-1', ip: '10.47.255.238', ns: NS.a },
  webserver2: { name: 'webserver-2', ip: '10.47.255.237', ns: NS.b },
  client2: { name: 'client-2', ip: '10.47.255.234', ns: NS.b },
  isolated1: { name: 'isolated-1', ip: '10.47.255.235', ns: NS.b },
  isolated2: { name: 'isolated-2', ip: '10.47.255.233', ns: NS.a },
} as const;

const UP_LIMIT_S = 60;

/** What only the lab makes: weft-* namespaces, and its link names should one ever land in the host. */
const LAB_LINK = /^(br-fabric|to-inet|weft-gw0|fab-.+)$/;
const labPart = (f: ReturnType<typeof footprint>) => ({ namespaces: f.namespaces.filter((n) => n.startsWith('weft-')), links: f.links.filter((l) => LAB_LINK.test(l)) });

function page(ip: string, hostname: string): RegExp {
  return new RegExp(`<h1>Hello</h1>.*This page is served by a <b>Contrail</b> pod.*IP address = ${ip.replace(/\./g, '\\.')}<br>Hostname = ${hostname}<`, 's');
}

let before: ReturnType<typeof footprint>;

beforeAll(() => {
  requireRootAndTools(['ip', 'nsenter', 'ping', 'curl', 'gobgpd', 'gobgp', 'sysctl']);
  // A lab left by someone else would make every assertion below about that one.
  expect(labPart(footprint()), 'a weft lab is already up: `weft lab down` first').toEqual({ namespaces: [], links: [] });
  before = footprint();
  const up = lab('up');
  expect(up.code, `weft lab up failed:\n${up.out}\n${up.err}`).toBe(0);
  expect(up.seconds, up.out).toBeLessThan(UP_LIMIT_S);
  expect(up.out).toMatch(/weft lab: up in [\d.]+ s/);
  // What to try next names this lab's real pods and addresses.
  expect(up.out).toContain(`ip netns exec ${NS.pod('client')} ping -c 3 ${POD.webserver2.ip}`);
  expect(up.out).toContain('ip netns exec weft-internet curl http://203.0.113.2/');
  expect(up.out).toContain('ip netns exec weft-gateway gobgp global rib -a vpnv4');
}, 90_000);

afterAll(() => {
  const pids = recordedPids();
  const down = lab('down');
  expect(down.code, `${down.out}\n${down.err}`).toBe(0);
  expect(labPart(footprint())).toEqual(labPart(before));
  expect(pids.filter(isRunning)).toEqual([]);
}, 60_000);

function recordedPids(): number[] {
  try {
    return labState().procs.map((p) => p.pid);
  } catch {
    return []; // no state file: nothing is up
  }
}

/** Exists and is not a zombie (whoever inherited the lab's daemons may reap them late). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

describe('lab status', () => {
  it('lists every process alive, the sessions and the pods, and exits 0', () => {
    const r = lab('status', '--json');
    expect(r.code, r.out).toBe(0);
    const st = JSON.parse(r.out) as { up: boolean; processes: { name: string; alive: boolean }[]; checks: { what: string; ok: boolean }[]; pods: { name: string; present: boolean }[] };
    expect(st.up).toBe(true);
    expect(st.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['gobgpd', 'gateway', 'control', 'agent-cent222', 'agent-cent333', 'pod-client']));
    expect(st.processes.every((p) => p.alive)).toBe(true);
    expect(st.checks.map((c) => c.what)).toEqual(expect.arrayContaining([`BGP control -> gateway ${ADDR.gateway}`, 'agent cent222 XMPP', 'agent cent333 XMPP']));
    expect(st.pods.map((p) => p.name).sort()).toEqual(['cirros-left', 'cirros-right', 'client', 'client-2', 'csrx', 'isolated-1', 'isolated-2', 'webserver-1', 'webserver-2']);
    expect(st.pods.every((p) => p.present)).toBe(true);
    const text = lab('status');
    expect(text.out).toMatch(/alive\s+control\s+pid \d+/);
    expect(text.out).toMatch(/ok\s+BGP gobgpd -> control 10\.169\.25\.19: Established/);
  });

  it('makes the service pod of the chain forward and every other pod serve the page', () => {
    expect(runIn(NS.pod('csrx'), ['sysctl', '-n', 'net.ipv4.ip_forward']).out.trim()).toBe('1');
    expect(httpGet(NS.pod('csrx'), 'http://127.0.0.1/', 2).status).toBe(0);
    expect(httpGet(NS.pod('cirros-left'), 'http://127.0.0.1/').body).toMatch(page('10.10.10.1', 'cirros-left'));
  });
});

describe('S1: pods across nodes (book 4118-4225, 8272-8448)', () => {
  it('ping both ways between client on cent222 and webserver-2 on cent333', () => {
    const ab = ping(NS.pod('client'), POD.webserver2.ip);
    expect(ab.lossPercent, ab.out).toBe(0);
    const ba = ping(NS.pod('webserver-2'), POD.client.ip);
    expect(ba.lossPercent, ba.out).toBe(0);
  });

  it('HTTP both ways returns the book page of the pod asked', () => {
    const ab = httpGet(NS.pod('client'), `http://${POD.webserver2.ip}/`);
    expect(ab.status).toBe(200);
    expect(ab.body).toMatch(page(POD.webserver2.ip, 'webserver-2'));
    const ba = httpGet(NS.pod('webserver-2'), `http://${POD.client.ip}/`);
    expect(ba.status).toBe(200);
    expect(ba.body).toMatch(page(POD.client.ip, 'client'));
  });

  it('on A the route to the pod on B is LP with a label over an MPLSoUDP tunnel 10.169.25.20 -> 10.169.25.21; on B the label leads to the pod vif', () => {
    const vrf = vifOf(NS.a, POD.client.ip).vrf;
    const rt = weftJson<{ route: { prefix: string; label?: number; proxyArp: boolean; nh: number } | null }>(NS.a, ['rt', '--get', `${POD.webserver2.ip}/32`, '--vrf', String(vrf)]);
    expect(rt.route).not.toBeNull();
    const route = rt.route!;
    expect(route.prefix).toBe(`${POD.webserver2.ip}/32`);
    expect(route.label).toBeGreaterThanOrEqual(16);
    expect(route.proxyArp).toBe(true);
    // The table as the book prints it: flags column LP.
    const row = weftText(NS.a, ['rt', '--get', `${POD.webserver2.ip}/32`, '--vrf', String(vrf)]).split('\n').find((l) => l.startsWith(`${POD.webserver2.ip}/32`));
    expect(row?.split(/\s+/)).toEqual([`${POD.webserver2.ip}/32`, '0', 'LP', String(route.label), String(route.nh), '-']);

    const nh = weftJson<{ nexthops: { id: number; type: string; encapType?: string; sip?: string; dip?: string }[] }>(NS.a, ['nh', '--get', String(route.nh)]).nexthops[0]!;
    expect(nh).toMatchObject({ id: route.nh, type: 'tunnel', encapType: 'MPLSoUDP', sip: ADDR.a, dip: ADDR.b });
    expect(weftText(NS.a, ['nh', '--get', String(route.nh)])).toMatch(/MPLSoUDP[\s\S]*Sip:10\.169\.25\.20 Dip:10\.169\.25\.21/);

    const podVif = vifOf(NS.b, POD.webserver2.ip);
    const mpls = weftJson<{ labels: { label: number; nh: number }[] }>(NS.b, ['mpls', '--get', String(route.label)]).labels;
    expect(mpls).toHaveLength(1);
    const encap = weftJson<{ nexthops: { type: string; oif?: number }[] }>(NS.b, ['nh', '--get', String(mpls[0]!.nh)]).nexthops[0]!;
    expect(encap).toMatchObject({ type: 'encap', oif: podVif.index });
  });
});

describe('S2: isolated namespace (book 4083-4222)', () => {
  it('a pod of the default namespace cannot reach a pod of the isolated one', () => {
    const r = ping(NS.pod('client'), POD.isolated1.ip, 3, 1);
    expect(r.lossPercent, r.out).toBe(100);
    expect(httpGet(NS.pod('client'), `http://${POD.isolated1.ip}/`, 2).status).toBe(0);
  });

  it('the isolated pods on the two nodes reach each other', () => {
    const ab = ping(NS.pod('isolated-2'), POD.isolated1.ip);
    expect(ab.lossPercent, ab.out).toBe(0);
    const ba = ping(NS.pod('isolated-1'), POD.isolated2.ip);
    expect(ba.lossPercent, ba.out).toBe(0);
    expect(httpGet(NS.pod('isolated-2'), `http://${POD.isolated1.ip}/`).body).toMatch(page(POD.isolated1.ip, 'isolated-1'));
  });

  it('the two networks are different VRFs on the node even with the same subnet', () => {
    expect(vifOf(NS.a, POD.isolated2.ip).vrf).not.toBe(vifOf(NS.a, POD.client.ip).vrf);
  });
});

describe('S3: BGP peering with the gateway (book 4545-4577)', () => {
  it('the control node sees gobgpd Established over VPNv4', () => {
    const ns = weftJson<{ address: string; remoteAs: number; state: string; negotiated?: { families: string[] } }[]>(NS.control, ['bgp', 'neighbors']);
    const gw = ns.find((n) => n.address === ADDR.gateway);
    expect(gw).toMatchObject({ remoteAs: 64512, state: 'Established' });
    expect(gw!.negotiated?.families).toContain('vpnv4');
  });

  it("gobgpd's neighbor view shows the control node 10.169.25.19, AS 64512, Established, VPNv4 routes received", () => {
    const n = gobgpNeighbors().find((x) => x.conf.neighbor_address === ADDR.control);
    expect(n).toBeDefined();
    expect(n!.conf.peer_asn).toBe(64512);
    expect(n!.state.session_state === 6 || n!.state.session_state === 'established').toBe(true);
    expect(n!.state.router_id).toBe(ADDR.control);
    const vpn = n!.afi_safis?.find((a) => a.state?.family?.afi === 1 && a.state.family.safi === 128);
    expect(vpn?.state?.received).toBeGreaterThan(0);
    expect(runIn(NS.gateway, ['gobgp', 'neighbor']).out).toMatch(/10\.169\.25\.19\s+64512\s+\S+\s+Establ/);
  });
});

const FIP_VN = 'default-domain:k8s-ns-user-1:vn-ns-default';
const POOL = `${FIP_VN}:pool-ns-default`;
const PORT = {
  webserver1: 'default-domain:k8s-default:webserver-1-eth0',
  webserver2: 'default-domain:k8s-default:webserver-2-eth0',
} as const;
const enc = encodeURIComponent;

/** One flow pair of `weft flow --match` as printed (the book's layout, 8144-8168). */
interface PrintedFlow {
  index: number;
  rflow: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: number;
  action: string;
  tcp: string;
  keyNh: number;
  rpfNh: number;
}

function flowsMatching(ns: string, match: string): PrintedFlow[] {
  const text = weftText(ns, ['flow', '--match', match]);
  const re = /^\s+(\d+)<=>(\d+)\s+([\d.]+):(\d+)\s+(\d+) \([^)]*\)\n\s+([\d.]+):(\d+)\n\(Gen: \d+, K\(nh\):(\d+), Action:([^,]+), Flags:[^,]*, TCP:([^,]*), QOS:-?\d+, S\(nh\):(\d+),/gm;
  const out: PrintedFlow[] = [];
  for (const m of text.matchAll(re)) {
    out.push({
      index: Number(m[1]),
      rflow: Number(m[2]),
      src: m[3]!,
      sport: Number(m[4]),
      proto: Number(m[5]),
      dst: m[6]!,
      dport: Number(m[7]),
      keyNh: Number(m[8]),
      action: m[9]!,
      tcp: m[10]!,
      rpfNh: Number(m[11]),
    });
  }
  return out;
}

interface NhJson {
  id: number;
  type: string;
  encapType?: string;
  sip?: string;
  dip?: string;
  oif?: number;
  members?: { nh: number; label: number }[];
}

function nhOf(ns: string, id: number): NhJson {
  return weftJson<{ nexthops: NhJson[] }>(ns, ['nh', '--get', String(id)]).nexthops[0]!;
}

function routeIn(ns: string, prefix: string, vrf: number): { prefix: string; label?: number; nh: number } | null {
  return weftJson<{ route: { prefix: string; label?: number; nh: number } | null }>(ns, ['rt', '--get', prefix, '--vrf', String(vrf)]).route;
}

/** The VRF index on a node whose table holds `prefix` as a local (Encap) route. */
function localVrfOf(ns: string, prefix: string): number {
  for (let vrf = 1; vrf < 32; vrf++) {
    const r = routeIn(ns, prefix, vrf);
    if (r && r.prefix === prefix && nhOf(ns, r.nh).type === 'encap') return vrf;
  }
  throw new Error(`no VRF in ${ns} holds ${prefix} locally`);
}

/** gobgpd's paths for one prefix of the VPNv4 RIB, with the attributes a test looks at. */
function gatewayPaths(prefix: string) {
  const rib = gobgpRib('vpnv4');
  const out: { rd: string; labels: number[]; nextHop?: string; med?: number; localPref?: number; origin?: number; asPath: unknown[]; ext: { type: number; subtype: number; value?: string; tunnel_type?: number }[] }[] = [];
  for (const [key, paths] of Object.entries(rib)) {
    if (!key.endsWith(`:${prefix}`)) continue;
    for (const p of paths) {
      const a = (t: number) => p.attrs.find((x) => x.type === t) as Record<string, unknown> | undefined;
      out.push({
        rd: key.slice(0, key.length - prefix.length - 1),
        labels: p.nlri.labels ?? [],
        nextHop: a(14)?.['nexthop'] as string | undefined,
        med: a(4)?.['metric'] as number | undefined,
        localPref: a(5)?.['value'] as number | undefined,
        origin: a(1)?.['value'] as number | undefined,
        asPath: (a(2)?.['as_paths'] as unknown[] | undefined) ?? [],
        ext: (a(16)?.['value'] as { type: number; subtype: number; value?: string; tunnel_type?: number }[] | undefined) ?? [],
      });
    }
  }
  return out;
}

/**
 * Opens `n` TCP connections from a namespace and holds them (idle) until stopped, so their
 * flows stay in the tables (a closed connection's flows are removed at once).
 */
async function holdConnections(ns: string, ip: string, port: number, n: number): Promise<{ stop: () => void }> {
  const js = `const net=require('net');let open=0;const s=[];for(let i=0;i<${n};i++){const c=net.connect(${port},'${ip}',()=>{if(++open===${n})console.log('open')});c.on('error',e=>{console.log('error '+e.message);process.exit(1)});s.push(c)}process.stdin.on('end',()=>process.exit(0));process.stdin.resume();`;
  const child = spawn('nsenter', [`--net=/var/run/netns/${ns}`, 'node', '-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connections did not open in 10 s')), 10_000);
    child.stdout.once('data', (b: Buffer) => {
      clearTimeout(t);
      resolve(b.toString().trim());
    });
  });
  if (line !== 'open') {
    child.kill('SIGKILL');
    throw new Error(`holding ${n} connections to ${ip}:${port} from ${ns}: ${line}`);
  }
  return { stop: () => child.kill('SIGKILL') };
}

describe('S4: floating IP on a pod (book 4283-4628, 6646-6701, 8144-8168)', () => {
  const FIP = '203.0.113.2';

  it('the Internet host fetches the pod page and pings through the FIP (MPLSoGRE from the gateway)', () => {
    const r = httpGet(NS.internet, `http://${FIP}/`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(page(POD.webserver1.ip, 'webserver-1'));
    const p = ping(NS.internet, FIP);
    expect(p.lossPercent, p.out).toBe(0);
  });

  it("the gateway holds exactly one VPNv4 route for the FIP /32 with the book's attributes", async () => {
    const paths = await until('the FIP /32 at the gateway', () => {
      const p = gatewayPaths(`${FIP}/32`);
      return p.length === 1 ? p : undefined;
    });
    expect(paths).toHaveLength(1);
    const p = paths[0]!;
    const vif = vifOf(NS.a, POD.webserver1.ip);
    const fipVrf = localVrfOf(NS.a, `${FIP}/32`);
    expect(p.rd).toBe(`${ADDR.a}:${fipVrf}`);
    expect(p.nextHop).toBe(ADDR.a);
    expect(p.labels).toEqual([routeIn(NS.a, `${POD.webserver1.ip}/32`, vif.vrf)!.label]);
    const rts = p.ext.filter((e) => e.type === 0 && e.subtype === 2).map((e) => e.value);
    expect(rts.sort()).toEqual(['500:500', '64512:8000016']);
    const tunnels = p.ext.filter((e) => e.type === 3 && e.subtype === 12).map((e) => e.tunnel_type);
    expect(tunnels[0], 'GRE first for the gateway').toBe(11);
    expect(p.origin).toBe(2); // incomplete
    expect(p.asPath).toEqual([]);
    expect(p.med).toBe(100);
    expect(p.localPref).toBe(200);
  });

  it('on cent222 the flow table shows the N(D) / N(S) pair, its RPF next hop the GRE tunnel to the gateway', () => {
    ping(NS.internet, FIP, 2);
    const flows = flowsMatching(NS.a, '198.51.100.2');
    const fwd = flows.find((f) => f.src === '198.51.100.2' && f.dst === FIP && f.proto === 1);
    expect(fwd, JSON.stringify(flows)).toBeDefined();
    expect(fwd!.action).toBe('N(D)');
    const rev = flows.find((f) => f.index === fwd!.rflow)!;
    expect(rev).toMatchObject({ src: POD.webserver1.ip, dst: '198.51.100.2', action: 'N(S)', rflow: fwd!.index });
    expect(nhOf(NS.a, fwd!.rpfNh)).toMatchObject({ type: 'tunnel', encapType: 'MPLSoGRE', sip: ADDR.a, dip: ADDR.gateway });
  });
  it('unbound through the REST API the FIP leaves the gateway and stops answering; bound again, both come back', async () => {
    const name = `${POOL}:webserver-1-fip`;
    const fip = controlRest('GET', `floating-ips/${enc(name)}`).body as Record<string, unknown>;
    expect(controlRest('PUT', `floating-ips/${enc(name)}`, { ...fip, ports: [] }).status).toBe(200);
    try {
      await until('the FIP withdrawn at the gateway', () => (gatewayPaths(`${FIP}/32`).length === 0 ? true : undefined));
      expect(httpGet(NS.internet, `http://${FIP}/`, 2).status).toBe(0);
    } finally {
      expect(controlRest('PUT', `floating-ips/${enc(name)}`, fip).status).toBe(200);
    }
    await until('the FIP back at the gateway', () => (gatewayPaths(`${FIP}/32`).length === 1 ? true : undefined));
    await until('the page through the FIP again', () => (httpGet(NS.internet, `http://${FIP}/`, 2).status === 200 ? true : undefined));
  });
});

describe('S5: ClusterIP service with ECMP (book 5075-5333, 5505-5590)', () => {
  const VIP = '10.105.137.227';

  it('20 fresh connections from the client pod to the VIP reach both backends', () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = httpGet(NS.pod('client'), `http://${VIP}:8888/`);
      expect(r.status).toBe(200);
      const host = /Hostname = ([\w-]+)/.exec(r.body)?.[1] ?? '?';
      seen.set(host, (seen.get(host) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['webserver-1', 'webserver-2']);
  });

  it("on the client's node the VIP's next hop is Composite ECMP: one local Encap member, one MPLSoUDP Tunnel member", () => {
    const vrf = vifOf(NS.a, POD.client.ip).vrf;
    const route = routeIn(NS.a, `${VIP}/32`, vrf)!;
    expect(route.prefix).toBe(`${VIP}/32`);
    const comp = nhOf(NS.a, route.nh);
    expect(comp.type).toBe('composite');
    expect(comp.members).toHaveLength(2);
    const kinds = comp.members!.map((m) => nhOf(NS.a, m.nh));
    expect(kinds.map((k) => k.type).sort()).toEqual(['encap', 'tunnel']);
    expect(kinds.find((k) => k.type === 'tunnel')).toMatchObject({ encapType: 'MPLSoUDP', sip: ADDR.a, dip: ADDR.b });
    expect(kinds.find((k) => k.type === 'encap')!.oif).toBe(vifOf(NS.a, POD.webserver1.ip).index);
    expect(weftText(NS.a, ['nh', '--get', String(route.nh)])).toMatch(/Type:Composite[\s\S]*Ecmp[\s\S]*Sub NH\(label\): \d+\(\d+\) \d+\(\d+\)/);
  });

  it('NAT happens on the backend node: N(DPd) forward, N(SPs) reverse', async () => {
    const held = await holdConnections(NS.pod('client'), VIP, 8888, 12);
    try {
      // Connections that went to webserver-2 are translated on cent333; the others on cent222.
      const onB = flowsMatching(NS.b, POD.client.ip).filter((f) => f.proto === 6);
      const onA = flowsMatching(NS.a, POD.client.ip).filter((f) => f.proto === 6 && f.dport === 8888);
      const natB = onB.filter((f) => f.dst === VIP && f.dport === 8888);
      const natA = onA.filter((f) => f.action === 'N(DPd)');
      expect(natB.length, 'connections picked the remote backend').toBeGreaterThan(0);
      expect(natA.length, 'connections picked the local backend').toBeGreaterThan(0);
      expect(natB.length + natA.length).toBe(12);
      for (const f of natB) {
        expect(f.action).toBe('N(DPd)');
        const rev = onB.find((r) => r.index === f.rflow)!;
        expect(rev).toMatchObject({ src: POD.webserver2.ip, sport: 80, dst: POD.client.ip, action: 'N(SPs)' });
      }
      // On the client's node the remote choices are plain forwards.
      expect(onA.filter((f) => f.action === 'F').length).toBe(natB.length);
    } finally {
      held.stop();
    }
  });
});

describe('S6: LoadBalancer service (book 5600-6011)', () => {
  const LB = '203.0.113.252';

  it('the gateway holds the LB FIP /32 with both backend nodes as next hops', async () => {
    const paths = await until('both LB paths at the gateway', () => {
      const p = gatewayPaths(`${LB}/32`);
      return p.length === 2 ? p : undefined;
    });
    expect(paths.map((p) => p.nextHop).sort()).toEqual([ADDR.a, ADDR.b]);
    for (const p of paths) expect(p.rd.startsWith(`${p.nextHop}:`)).toBe(true);
  });

  it('the Internet host reaches both backends through it (port 8888 -> 80), the gateway using both paths', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const r = httpGet(NS.internet, `http://${LB}:8888/`);
      expect(r.status).toBe(200);
      seen.add(/Hostname = ([\w-]+)/.exec(r.body)?.[1] ?? '?');
    }
    expect([...seen].sort()).toEqual(['webserver-1', 'webserver-2']);
  });
});

describe('S7: active/standby preference (book 6717-6725)', () => {
  const FIP = '203.0.113.7';
  const NAME = `${POOL}:s7-active-standby`;
  let ports: Record<string, Record<string, unknown>> = {};

  beforeAll(() => {
    for (const p of [PORT.webserver1, PORT.webserver2]) ports[p] = controlRest('GET', `ports/${enc(p)}`).body as Record<string, unknown>;
  });
  afterAll(() => {
    controlRest('DELETE', `floating-ips/${enc(NAME)}`);
    for (const [p, body] of Object.entries(ports)) controlRest('PUT', `ports/${enc(p)}`, body);
    ports = {};
  });

  it('two nodes publish the /32 with local-pref 200 and 100: the gateway sees only the 200 path', async () => {
    expect(controlRest('PUT', `ports/${enc(PORT.webserver1)}`, { ...ports[PORT.webserver1], 'local-preference': 200 }).status).toBe(200);
    expect(controlRest('PUT', `ports/${enc(PORT.webserver2)}`, { ...ports[PORT.webserver2], 'local-preference': 100 }).status).toBe(200);
    expect(controlRest('PUT', `floating-ips/${enc(NAME)}`, { name: NAME, address: FIP, ports: [PORT.webserver1, PORT.webserver2] }).status).toBe(200);
    // The agents publish at their own pace: the 100 path may show first, until the 200 one comes.
    await until('the active path at the gateway', () => {
      const p = gatewayPaths(`${FIP}/32`);
      return p.length === 1 && p[0]!.nextHop === ADDR.a ? p : undefined;
    });
    await sleep(1000);
    // Both agents publish it; only the best path is advertised, and it stays so.
    const paths = gatewayPaths(`${FIP}/32`);
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatchObject({ nextHop: ADDR.a, localPref: 200, med: 100 });
  });

  it('withdrawn from the active node, the 100 path is advertised in its place', async () => {
    expect(controlRest('PUT', `floating-ips/${enc(NAME)}`, { name: NAME, address: FIP, ports: [PORT.webserver2] }).status).toBe(200);
    const paths = await until('the standby path at the gateway', () => {
      const p = gatewayPaths(`${FIP}/32`);
      return p.length === 1 && p[0]!.nextHop === ADDR.b ? p : undefined;
    });
    expect(paths[0]).toMatchObject({ nextHop: ADDR.b, localPref: 100, med: 200 });
    expect(httpGet(NS.internet, `http://${FIP}/`).body).toMatch(page(POD.webserver2.ip, 'webserver-2'));
  });
});

describe('S8: firewall policy (book ch. 8, 8838-9334, 9700-9766)', () => {
  const APS = 'default-domain:k8s-default:k8s';
  afterAll(() => {
    controlRest('DELETE', `application-policy-sets/${enc(APS)}`);
  });

  it("with the chapter's policy set, the allowed pairs get HTTP through and the denied ones time out", async () => {
    const body = parseYaml(readFileSync(`${REPO}/fixtures/lab/chapter8-policy-set.yaml`, 'utf8')) as unknown;
    expect(controlRest('PUT', `application-policy-sets/${enc(APS)}`, body).status).toBe(200);
    // The matrix of book-lab.yaml's comment: webserver-1 plays webserver-dev, webserver-2 dbserver-dev.
    const matrix: [keyof typeof POD, keyof typeof POD, boolean][] = [
      ['client', 'webserver1', true],
      ['webserver1', 'webserver2', true],
      ['client', 'client2', true],
      ['client2', 'client', true],
      ['client', 'webserver2', false],
      ['client2', 'webserver1', false],
      ['webserver2', 'client', false],
      ['webserver1', 'client', false],
    ];
    await until('the policy set at both agents', () => (httpGet(NS.pod('client'), `http://${POD.webserver2.ip}/`, 1).status === 0 ? true : undefined));
    for (const [from, to, allowed] of matrix) {
      const r = httpGet(NS.pod(POD[from].name), `http://${POD[to].ip}/`, 2);
      expect(r.status, `${from} -> ${to}`).toBe(allowed ? 200 : 0);
    }
  });

  it('a denied SYN leaves D(FwPolicy) / D(Unknown) on the source vRouter and nothing on the destination', () => {
    // webserver-2 (cent333) -> client (cent222): the book's listing (9298-9334).
    httpGet(NS.pod('webserver-2'), `http://${POD.client.ip}/`, 1);
    const src = flowsMatching(NS.b, POD.client.ip).filter((f) => f.proto === 6 && f.src === POD.webserver2.ip && f.dport === 80);
    expect(src.length).toBeGreaterThan(0);
    for (const f of src) {
      expect(f.action).toBe('D(FwPolicy)');
      expect(flowsMatching(NS.b, POD.client.ip).find((r) => r.index === f.rflow)?.action).toBe('D(Unknown)');
      const atDst = flowsMatching(NS.a, POD.webserver2.ip).filter((d) => d.sport === f.sport || d.dport === f.sport);
      expect(atDst).toEqual([]);
    }
  });

  it('deleting the policy set opens the pods again', async () => {
    expect(controlRest('DELETE', `application-policy-sets/${enc(APS)}`).status).toBe(200);
    await until('client -> webserver-2 open again', () => (httpGet(NS.pod('client'), `http://${POD.webserver2.ip}/`, 1).status === 200 ? true : undefined));
  });
});

describe('S9: multi-interface pod (book ch. 9, 9789-10179)', () => {
  const pod = 'multi';
  const ports = [
    { name: 'default-domain:k8s-default:multi-eth0', network: 'default-domain:k8s-default:k8s-default-pod-network', mac: '02:c5:f6:3f:46:00', ip: '10.47.255.230' },
    { name: 'default-domain:k8s-default:multi-eth1', network: 'default-domain:k8s-default:k8s-vn-left-1-pod-network', mac: '02:c5:f6:3f:46:01', ip: '10.10.10.30' },
    { name: 'default-domain:k8s-default:multi-eth2', network: 'default-domain:k8s-default:k8s-vn-right-1-pod-network', mac: '02:c5:f6:3f:46:02', ip: '20.20.20.30' },
  ];
  afterAll(() => {
    runIn(NS.a, ['node', WEFT, 'pod', 'del', NS.pod(pod)]);
    for (const p of ports) controlRest('DELETE', `ports/${enc(p.name)}`);
  });

  it('a pod on the default, left and right networks gets eth0/eth1/eth2, each a vif in its own VRF, tap names sharing one suffix', async () => {
    for (const p of ports) {
      const r = controlRest('PUT', `ports/${enc(p.name)}`, { name: p.name, pod, network: p.network, mac: p.mac, ips: [p.ip], vrouter: 'cent222' });
      expect(r.status).toBe(200);
    }
    const add = await until('the agent to know the ports', () => {
      const r = runIn(NS.a, ['node', WEFT, 'pod', 'add', NS.pod(pod), ...ports.flatMap((p) => ['--port', p.name])]);
      return r.code === 0 ? r : undefined;
    });
    expect(add.out).toContain(NS.pod(pod));
    const addrs = runIn(NS.pod(pod), ['ip', '-o', '-4', 'addr', 'show']).out;
    ports.forEach((p, i) => expect(addrs).toMatch(new RegExp(`eth${i}\\s+inet ${p.ip.replace(/\./g, '\\.')}/`)));
    const vifs = ports.map((p) => vifOf(NS.a, p.ip));
    expect(new Set(vifs.map((v) => v.vrf)).size).toBe(3);
    const names = vifs.map((v) => v.osName);
    names.forEach((n, i) => expect(n).toMatch(new RegExp(`^tapeth${i}-[0-9a-f]{6}$`)));
    expect(new Set(names.map((n) => n.slice(-6))).size).toBe(1);
    // Each interface works in its own network.
    expect(ping(NS.pod(pod), '10.10.10.1').lossPercent).toBe(0);
    expect(ping(NS.pod(pod), POD.webserver2.ip).lossPercent).toBe(0);
  });
});

describe('S10: service chaining (book ch. 10, 10183-10898)', () => {
  const POLICY = 'default-domain:k8s-default:left-to-right';
  let policy: unknown;
  beforeAll(() => {
    policy = controlRest('GET', `network-policies/${enc(POLICY)}`).body;
  });
  afterAll(() => {
    if (policy) controlRest('PUT', `network-policies/${enc(POLICY)}`, policy);
  });

  it('without the chaining policy the left and right networks are isolated', async () => {
    expect(controlRest('DELETE', `network-policies/${enc(POLICY)}`).status).toBe(200);
    const leftVrf = vifOf(NS.a, '10.10.10.1').vrf;
    await until('the right pod gone from the left VRF', () => (routeIn(NS.a, '20.20.20.1/32', leftVrf)?.prefix === '20.20.20.1/32' ? undefined : true));
    expect(ping(NS.pod('cirros-left'), '20.20.20.1', 2, 1).lossPercent).toBe(100);
  });

  it('chained left->right: the right host routes appear in the left VRF via the service instance left interface, and back', async () => {
    expect(controlRest('PUT', `network-policies/${enc(POLICY)}`, policy).status).toBe(200);
    const leftVrf = vifOf(NS.a, '10.10.10.1').vrf;
    const csrxLeft = vifOf(NS.a, '10.10.10.2');
    const route = await until('20.20.20.1/32 in the left VRF', () => {
      const r = routeIn(NS.a, '20.20.20.1/32', leftVrf);
      return r?.prefix === '20.20.20.1/32' ? r : undefined;
    });
    expect(nhOf(NS.a, route.nh)).toMatchObject({ type: 'encap', oif: csrxLeft.index });
    // On cent333 the left pod's route in the right VRF points at cent222 (the csrx's right interface).
    const rightVrfB = vifOf(NS.b, '20.20.20.1').vrf;
    const back = await until('10.10.10.1/32 in the right VRF on cent333', () => {
      const r = routeIn(NS.b, '10.10.10.1/32', rightVrfB);
      return r?.prefix === '10.10.10.1/32' ? r : undefined;
    });
    expect(back.label).toBe(routeIn(NS.a, '20.20.20.2/32', vifOf(NS.a, '20.20.20.2').vrf)!.label);
    expect(nhOf(NS.b, back.nh)).toMatchObject({ type: 'tunnel', dip: ADDR.a });
  });

  it('ping from the left pod reaches the right pod through the service pod, TTL 61', () => {
    const p = ping(NS.pod('cirros-left'), '20.20.20.1');
    expect(p.lossPercent, p.out).toBe(0);
    expect(p.out).toMatch(/ttl=61/);
    expect(p.out).not.toMatch(/ttl=(?!61)\d+/);
    // The service pod forwarded them: its kernel counted the packets.
    const fwd = runIn(NS.pod('csrx'), ['cat', '/proc/net/snmp']).out;
    const ip = fwd.split('\n').filter((l) => l.startsWith('Ip:'));
    const forwarded = Number(ip[1]!.split(/\s+/)[ip[0]!.split(/\s+/).indexOf('ForwDatagrams')]);
    expect(forwarded).toBeGreaterThanOrEqual(6);
  });
});

describe('lab lifecycle', () => {
  it('up on a healthy lab says so and changes nothing', () => {
    const pids = labState().procs.map((p) => p.pid);
    const r = lab('up');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/already up and healthy/);
    expect(labState().procs.map((p) => p.pid)).toEqual(pids);
  });

  it('up after the control node crashed tears down and rebuilds a working lab', () => {
    const control = labState().procs.find((p) => p.name === 'control')!;
    process.kill(control.pid, 'SIGKILL');
    const st = lab('status');
    expect(st.code).toBe(1);
    expect(st.out).toMatch(/DEAD\s+control/);
    const r = lab('up');
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/removing what an earlier 'up' left/);
    expect(r.seconds).toBeLessThan(UP_LIMIT_S);
    expect(labState().procs.find((p) => p.name === 'control')!.pid).not.toBe(control.pid);
    expect(ping(NS.pod('client'), POD.webserver2.ip).lossPercent).toBe(0);
  }, 90_000);

  it('down twice: the first stops every process and namespace, the second finds nothing to remove; status then says down', () => {
    const pids = recordedPids();
    expect(pids.length).toBeGreaterThan(5);
    const first = lab('down');
    expect(first.code, first.err).toBe(0);
    expect(labPart(footprint())).toEqual(labPart(before));
    expect(pids.filter(isRunning)).toEqual([]);
    const second = lab('down');
    expect(second.code, second.err).toBe(0);
    expect(second.out).toMatch(/nothing to remove/);
    const st = lab('status');
    expect(st.code).toBe(1);
    expect(st.out).toMatch(/weft lab: down/);
  }, 60_000);
});
