/**
 * The agent's firewall (book ch. 8, book-lab.md S8) on the lab fixture's policies: the two
 * compute nodes as vRouters with the views the control node makes for them, and routes from
 * a control node's real session code (so a remote pod's tags travel as its route's
 * `tag-list`), judged at hook level and by pushing packets through both pipelines.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { routeTags, RouteSync } from '../../../src/agent/route-sync.js';
import { firewallHook, firewallMatcher, type FirewallLookup } from '../../../src/agent/firewall.js';
import type { LocalRoute } from '../../../src/agent/xmpp-client.js';
import type { AgentView, ViewFirewallRule } from '../../../src/config/agent-view.js';
import type { ControlModel } from '../../../src/config/control-model.js';
import { agentViewOf } from '../../../src/control/agent-config.js';
import { changeModel, loadControlModel, routingInstanceName } from '../../../src/control/config-model.js';
import {
  VRouter,
  flowActionString,
  formatFlowEntry,
  ipv4ToInt,
  processFabricIp,
  processPacket,
  tcpStateString,
  type Action,
  type FlowContext,
  type PolicyHook,
} from '../../../src/vrouter/index.js';
import { fromPod, icmpPacket, tcpPacket } from '../vrouter/lab.js';
import { Sim, SimLink } from './sim.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;
const POLICY_SET = new URL('../../../fixtures/lab/chapter8-policy-set.yaml', import.meta.url).pathname;
const POD_VN = 'default-domain:k8s-default:k8s-default-pod-network';
const POD_RI = routingInstanceName(POD_VN);
const PODS = ['webserver-1', 'webserver-2', 'client', 'client-2'] as const;
type Pod = (typeof PODS)[number];

// ---------------------------------------------------------------------------------------
// Two compute nodes: pods on vifs, their routes published with the port's tag ids, the
// other node's routes learnt through the control node into RouteSync.

interface PodAt {
  node: Node;
  ip: string;
  mac: string;
  vif: number;
}

class Node implements FirewallLookup {
  readonly router: VRouter;
  readonly sync: RouteSync;
  readonly link: SimLink;
  readonly view: AgentView;
  readonly vrfs = new Map<string, number>();
  readonly pods = new Map<string, PodAt>();

  constructor(
    sim: Sim,
    model: ControlModel,
    readonly name: string,
    readonly vrf: number,
    enforce = true,
  ) {
    // What the control node pushes this vRouter.
    this.view = agentViewOf(model, name);
    const address = this.view.vrouter.address;
    this.vrfs.set(POD_RI, vrf);
    this.router = new VRouter({ vhostIp: address, ...(enforce ? { policy: firewallHook(this.view, this) } : {}) });
    this.router.addFabric('eth0', 0);
    this.sync = new RouteSync(this.router, { vrfIndex: (n) => this.vrfs.get(n), encapPriority: ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] });
    this.link = new SimLink(sim, sim.cn('cent111'), { agent: name, vhostIp: address, random: () => 0.5, eorRxFallbackMs: 60_000 });
    this.link.onEvent = (a) => {
      if (a.type !== 'routes') return;
      for (const e of a.events) {
        if (e.kind === 'update') this.sync.update('cent111', e.route);
        else this.sync.withdraw('cent111', e.vrf, e.prefix);
      }
    };
    this.link.client.subscribe(POD_RI, vrf);
    let vifIndex = 3;
    for (const p of this.view.ports.filter((x) => x.network === POD_VN && x.pod !== undefined)) {
      const ip = p.ips[0]!;
      const { nh, label } = this.router.addPodInterface({ index: vifIndex, osName: `tapeth0-${vifIndex}`, vrf, ip, plen: 12, podMac: p.mac });
      this.sync.addLocal(vrf, `${ip}/32`, nh.id, label, p.tagIds);
      const route: LocalRoute = { vrf: POD_RI, prefix: `${ip}/32`, label, virtualNetwork: POD_VN, tags: p.tagIds };
      this.link.client.publish(route);
      this.pods.set(p.pod!, { node: this, ip, mac: p.mac, vif: vifIndex });
      vifIndex++;
    }
  }

  vrfOf(instance: string): number | undefined {
    return this.vrfs.get(instance);
  }

  ctx(key: FlowContext['key'], ingress: FlowContext['ingress']): FlowContext {
    return { key, ingress, routeIn: (vrf, ip) => this.router.vrfs.get(vrf)?.routes.lookup(ipv4ToInt(ip)) };
  }
}

interface Lab {
  a: Node;
  b: Node;
  pod(name: Pod): PodAt;
}

function makeLab(model: ControlModel, enforce: { a?: boolean; b?: boolean } = {}): Lab {
  const sim = new Sim();
  const a = new Node(sim, model, 'cent222', 2, enforce.a ?? true);
  const b = new Node(sim, model, 'cent333', 5, enforce.b ?? true);
  a.link.start();
  b.link.start();
  sim.advance(5_000);
  return {
    a,
    b,
    pod: (name) => {
      const p = a.pods.get(name) ?? b.pods.get(name);
      if (!p) throw new Error(`no pod ${name} in the lab`);
      return p;
    },
  };
}

// ---------------------------------------------------------------------------------------
// The book's matrix (fixture comment): who may open what.

type Probe = { name: string; proto: number; dport: number };
const HTTP: Probe = { name: 'TCP 80', proto: 6, dport: 80 };
const OTHER: Probe = { name: 'TCP 8080', proto: 6, dport: 8080 };
const PING: Probe = { name: 'ICMP echo', proto: 1, dport: 0 };

const HTTP_ALLOWED = new Set(['webserver-1>webserver-2', 'client>webserver-1', 'client>client-2', 'client-2>client']);
const ANY_ALLOWED = new Set(['client>client-2', 'client-2>client']);

function allowed(from: Pod, to: Pod, probe: Probe): boolean {
  return (probe === HTTP ? HTTP_ALLOWED : ANY_ALLOWED).has(`${from}>${to}`);
}

const PAIRS = PODS.flatMap((from) => PODS.filter((to) => to !== from).map((to) => [from, to] as const));

function packet(from: PodAt, to: PodAt, probe: Probe, sport: number): Uint8Array {
  return probe.proto === 1 ? icmpPacket(from.ip, to.ip, sport, 1) : tcpPacket(from.ip, to.ip, sport, probe.dport, { syn: true });
}

let model: ControlModel;
beforeAll(async () => {
  // The lab starts without chapter 8's policy set; S8 adds it through the REST API, as here.
  const lab = await loadControlModel(LAB);
  const change = changeModel(lab, { op: 'put', type: 'application-policy-sets', body: parseYaml(readFileSync(POLICY_SET, 'utf8')) });
  if (!change.ok) throw new Error(`${change.error}: ${JSON.stringify(change.issues)}`);
  model = change.model;
});

describe('route tags: what a remote address is', () => {
  it("a remote pod's route carries its port's tag ids from the control node; a local pod's route its own", () => {
    const lab = makeLab(model);
    const ids = new Map(lab.a.view.tags.map((t) => [t.name, t.id]));
    const ws2 = lab.pod('webserver-2');
    const remote = lab.a.router.vrfs.get(2)!.routes.get(`${ws2.ip}/32`)!;
    expect(lab.a.router.nhs.get(remote.nh)).toMatchObject({ type: 'tunnel', dip: '10.169.25.21' });
    expect(remote.tags).toEqual([ids.get('app=webserver-2'), ids.get('namespace=default')]);
    const ws1 = lab.pod('webserver-1');
    const local = lab.a.router.vrfs.get(2)!.routes.get(`${ws1.ip}/32`)!;
    expect(lab.a.router.nhs.get(local.nh)).toMatchObject({ type: 'encap' });
    expect(local.tags).toEqual([ids.get('app=webserver-1'), ids.get('namespace=default')]);
    // And the other way round on cent333, in its own VRF numbering.
    expect(lab.b.router.vrfs.get(5)!.routes.get(`${ws1.ip}/32`)!.tags).toEqual(local.tags);
  });

  it('an ECMP route has the tags of all its next hops; a withdrawn copy takes its tags away', () => {
    const router = new VRouter({ vhostIp: '10.0.0.11' });
    router.addFabric('eth0', 0);
    const sync = new RouteSync(router, { vrfIndex: () => 2, encapPriority: ['MPLSoUDP'] });
    const hop = (address: string, label: number, tags: number[]) => ({ address, label, vni: 0, encapsulations: ['udp'], virtualNetwork: POD_VN, tags });
    const route = (nextHops: ReturnType<typeof hop>[]) => ({ vrf: POD_RI, prefix: '10.96.0.25/32', nextHops, virtualNetwork: POD_VN, localPreference: 200, sequenceNumber: 0, securityGroups: [], communityTags: [] });
    sync.update('cn1', route([hop('10.0.0.12', 30, [7, 9]), hop('10.0.0.13', 31, [9, 8])]));
    expect(routeTags(route([hop('10.0.0.12', 30, [7, 9]), hop('10.0.0.13', 31, [9, 8])]))).toEqual([7, 9, 8]);
    const table = router.vrfs.get(2)!.routes;
    expect(router.nhs.get(table.get('10.96.0.25/32')!.nh)?.type).toBe('composite');
    expect(table.get('10.96.0.25/32')!.tags).toEqual([7, 9, 8]);
    sync.update('cn1', route([hop('10.0.0.13', 31, [9, 8])]));
    expect(table.get('10.96.0.25/32')!.tags).toEqual([9, 8]);
    sync.update('cn1', route([hop('10.0.0.13', 31, [])]));
    expect(table.get('10.96.0.25/32')!.tags).toBeUndefined();
  });

  it('the firewall judges a remote endpoint by its route tags: untagged or unknown ids match only `any`', () => {
    const lab = makeLab(model);
    const match = firewallMatcher(lab.a.view, lab.a);
    const client = lab.pod('client');
    const key = (dst: string) => ({ vrf: 2, proto: 6, src: client.ip, dst, sport: 40000, dport: 80 });
    const ws2 = lab.pod('webserver-2');
    expect(match(lab.a.ctx(key(ws2.ip), { kind: 'vif', vif: client.vif }))).toMatchObject({ policy: 'default-domain:k8s-default:k8s-denyall', sequence: 2, action: 'deny' });
    // The same address with its route's tags stripped: nothing names it, the client's namespace rule passes it.
    const table = lab.a.router.vrfs.get(2)!.routes;
    const r = table.get(`${ws2.ip}/32`)!;
    table.add({ prefix: r.prefix, nh: r.nh, label: r.label!, proxyArp: true });
    expect(match(lab.a.ctx(key(ws2.ip), { kind: 'vif', vif: client.vif }))).toMatchObject({ policy: 'default-domain:k8s-default:k8s-allowall', sequence: 1, action: 'pass' });
    // Ids this vRouter's view does not name do not stand in for any tag.
    table.add({ prefix: r.prefix, nh: r.nh, label: r.label!, proxyArp: true, tags: [0xfff0001, 0xfff0002] });
    expect(match(lab.a.ctx(key(ws2.ip), { kind: 'vif', vif: client.vif }))?.policy).toBe('default-domain:k8s-default:k8s-allowall');
    // An address on no route at all (the subnet route is not an endpoint's).
    expect(match(lab.a.ctx(key('10.47.255.200'), { kind: 'vif', vif: client.vif }))?.policy).toBe('default-domain:k8s-default:k8s-allowall');
  });
});

describe('addresses that are not a port\'s own', () => {
  it('a floating IP delivered to a local interface is judged as that interface\'s port', () => {
    const lab = makeLab(model);
    const ws1 = lab.pod('webserver-1');
    const match = firewallMatcher(lab.a.view, lab.a);
    // The Internet host fetching webserver-1's FIP (S4's flow, in the FIP network's VRF 9).
    const key = { vrf: 9, proto: 6, src: '198.51.100.2', dst: '203.0.113.2', sport: 40000, dport: 80 };
    const ingress: FlowContext['ingress'] = { kind: 'fabric', tunnelSrc: '192.168.0.204' };
    const nh = lab.a.router.vifs.get(ws1.vif)!.nh!;
    const toWs1 = { ...lab.a.ctx(key, ingress), egress: { nh, type: 'encap' as const, vif: ws1.vif, ip: ws1.ip } };
    expect(match(toWs1)).toMatchObject({ policy: 'default-domain:k8s-default:k8s-denyall', sequence: 3, action: 'deny' });
    // Going elsewhere (or nowhere known), the address stands for itself: untagged, no rule.
    expect(match(lab.a.ctx(key, ingress))).toBeUndefined();
    expect(match({ ...lab.a.ctx(key, ingress), egress: { nh: 1, type: 'tunnel' as const } })).toBeUndefined();
  });
});

describe('the fixture\'s policies over the four pods (book ch. 8 matrix)', () => {
  it('hook level: each pair and probe is judged the same by the source and the destination vRouter', () => {
    const lab = makeLab(model);
    const verdicts: string[] = [];
    for (const probe of [HTTP, OTHER, PING]) {
      for (const [from, to] of PAIRS) {
        const s = lab.pod(from);
        const d = lab.pod(to);
        const key = (vrf: number) => ({ vrf, proto: probe.proto, src: s.ip, dst: d.ip, sport: probe.proto === 1 ? 7 : 40000, dport: probe.dport });
        const atSource = s.node.router.policy(s.node.ctx(key(s.node.vrf), { kind: 'vif', vif: s.vif }));
        const ingress: FlowContext['ingress'] = s.node === d.node ? { kind: 'vif', vif: s.vif } : { kind: 'fabric', tunnelSrc: s.node.view.vrouter.address };
        const atDest = d.node.router.policy(d.node.ctx(key(d.node.vrf), ingress));
        const want = allowed(from, to, probe) ? { action: 'forward' } : { action: 'drop', reason: 'FwPolicy' };
        expect({ from, to, probe: probe.name, atSource, atDest }).toEqual({ from, to, probe: probe.name, atSource: want, atDest: want });
        verdicts.push(`${probe.name} ${from}>${to} ${atSource.action}`);
      }
    }
    // 12 pairs x 3 probes; HTTP opens 4 of them, the others 2 each.
    expect(verdicts.filter((v) => v.endsWith('forward'))).toHaveLength(4 + 2 + 2);
  });

  it('which rule decides: policy1 before denyall before allowall (APS sequences 38 < 42 < 43)', () => {
    const lab = makeLab(model);
    const at = (from: Pod, to: Pod, dport: number) => {
      const s = lab.pod(from);
      const d = lab.pod(to);
      return firewallMatcher(s.node.view, s.node)(s.node.ctx({ vrf: s.node.vrf, proto: 6, src: s.ip, dst: d.ip, sport: 40000, dport }, { kind: 'vif', vif: s.vif }));
    };
    const P = 'default-domain:k8s-default:';
    expect(at('client', 'webserver-1', 80)).toEqual({ policySet: `${P}k8s`, policy: `${P}k8s-default-policy1`, sequence: 2, action: 'pass' });
    expect(at('webserver-1', 'webserver-2', 80)).toEqual({ policySet: `${P}k8s`, policy: `${P}k8s-default-policy1`, sequence: 3, action: 'pass' });
    expect(at('client', 'webserver-1', 8080)).toMatchObject({ policy: `${P}k8s-denyall`, sequence: 3, action: 'deny' });
    expect(at('webserver-1', 'client', 80)).toMatchObject({ policy: `${P}k8s-denyall`, sequence: 1, action: 'deny' });
    expect(at('webserver-2', 'client', 80)).toMatchObject({ policy: `${P}k8s-denyall`, sequence: 4, action: 'deny' });
    expect(at('client-2', 'client', 80)).toMatchObject({ policy: `${P}k8s-allowall`, sequence: 1, action: 'pass' });
  });

  it('packets: allowed pairs reach the target pod, denied ones stop at the source vRouter with nothing on the fabric', () => {
    const lab = makeLab(model);
    let sport = 30000;
    for (const probe of [HTTP, OTHER, PING]) {
      for (const [from, to] of PAIRS) {
        const s = lab.pod(from);
        const d = lab.pod(to);
        const out = processPacket(s.node.router, fromPod(s, packet(s, d, probe, ++sport)), s.vif);
        expect(out).toHaveLength(1);
        let last: Action = out[0]!;
        if (last.type === 'tunnel') {
          expect(s.node).not.toBe(d.node);
          const arrived = processFabricIp(d.node.router, last.bytes);
          expect(arrived).toHaveLength(1);
          last = arrived[0]!;
        }
        const seen = last.type === 'emit' ? `emit ${last.vif}` : last.type === 'drop' ? `drop ${last.reason} ${last.detail ?? ''}` : last.type;
        const want = allowed(from, to, probe) ? `emit ${d.vif}` : 'drop FlowActionDrop FwPolicy';
        expect({ from, to, probe: probe.name, seen }).toEqual({ from, to, probe: probe.name, seen: want });
        if (!allowed(from, to, probe) && s.node !== d.node) expect(d.node.router.flows.match(s.ip, sport)).toEqual([]);
      }
    }
  });

  it("webserver-2 -> client (the book's flow listing): D(FwPolicy) / D(Unknown) on cent333, no flow on cent222", () => {
    const lab = makeLab(model);
    const db = lab.pod('webserver-2');
    const client = lab.pod('client');
    expect(db.node.name).toBe('cent333');
    expect(client.node.name).toBe('cent222');
    const syn = fromPod(db, tcpPacket(db.ip, client.ip, 42282, 80, { syn: true }));
    // curl retries its SYN; every copy dies on the flow.
    for (let i = 0; i < 3; i++) {
      const out = processPacket(db.node.router, syn, db.vif);
      expect(out).toEqual([{ type: 'drop', reason: 'FlowActionDrop', detail: 'FwPolicy' }]);
    }
    const pair = lab.b.router.flows.match(client.ip, 80);
    expect(pair).toHaveLength(2);
    const fwd = lab.b.router.flows.lookup({ vrf: 5, proto: 6, src: db.ip, dst: client.ip, sport: 42282, dport: 80 })!;
    const rev = lab.b.router.flows.get(fwd.rflow)!;
    expect(rev.key).toEqual({ vrf: 5, proto: 6, src: client.ip, dst: db.ip, sport: 80, dport: 42282 });
    expect([flowActionString(fwd.action), tcpStateString(fwd.tcp), fwd.packets]).toEqual(['D(FwPolicy)', 'S', 3]);
    expect([flowActionString(rev.action), tcpStateString(rev.tcp), rev.packets]).toEqual(['D(Unknown)', 'Sr', 0]);
    expect(formatFlowEntry(rev)).toContain('Action:D(Unknown), Flags:, TCP:Sr,');
    expect(formatFlowEntry(fwd)).toContain('Action:D(FwPolicy), Flags:, TCP:S,');
    expect(lab.a.router.flows.match(db.ip)).toEqual([]);
    expect(lab.a.router.flows.size).toBe(0);
  });

  it('the destination enforces too: a SYN a non-enforcing source lets out is dropped on arrival', () => {
    const lab = makeLab(model, { b: false });
    const c2 = lab.pod('client-2');
    const ws1 = lab.pod('webserver-1');
    const out = processPacket(lab.b.router, fromPod(c2, tcpPacket(c2.ip, ws1.ip, 41000, 80, { syn: true })), c2.vif);
    const t = out[0]!;
    if (t.type !== 'tunnel') throw new Error(`expected the SYN on the fabric, got ${t.type}`);
    expect(processFabricIp(lab.a.router, t.bytes)).toEqual([{ type: 'drop', reason: 'FlowActionDrop', detail: 'FwPolicy' }]);
    const fwd = lab.a.router.flows.lookup({ vrf: 2, proto: 6, src: c2.ip, dst: ws1.ip, sport: 41000, dport: 80 })!;
    expect(flowActionString(fwd.action)).toBe('D(FwPolicy)');
    expect(flowActionString(lab.a.router.flows.get(fwd.rflow)!.action)).toBe('D(Unknown)');
    expect(fwd.sinfo).toBe('10.169.25.21');
  });

  it('a passed flow carries its replies both ways, though its rule reads one way (`>`)', () => {
    const lab = makeLab(model);
    const ws1 = lab.pod('webserver-1');
    const ws2 = lab.pod('webserver-2');
    const syn = processPacket(lab.a.router, fromPod(ws1, tcpPacket(ws1.ip, ws2.ip, 43000, 80, { syn: true })), ws1.vif)[0]!;
    if (syn.type !== 'tunnel') throw new Error(`expected tunnel, got ${syn.type}`);
    expect(processFabricIp(lab.b.router, syn.bytes)[0]).toMatchObject({ type: 'emit', vif: ws2.vif });
    const synAck = processPacket(lab.b.router, fromPod(ws2, tcpPacket(ws2.ip, ws1.ip, 80, 43000, { syn: true, ack: true })), ws2.vif)[0]!;
    if (synAck.type !== 'tunnel') throw new Error(`expected tunnel, got ${synAck.type}`);
    expect(processFabricIp(lab.a.router, synAck.bytes)[0]).toMatchObject({ type: 'emit', vif: ws1.vif });
    // A connection webserver-2 opens itself is another flow, and denied.
    const back = processPacket(lab.b.router, fromPod(ws2, tcpPacket(ws2.ip, ws1.ip, 44000, 80, { syn: true })), ws2.vif);
    expect(back).toEqual([{ type: 'drop', reason: 'FlowActionDrop', detail: 'FwPolicy' }]);
  });
});

// ---------------------------------------------------------------------------------------
// Rule semantics on small hand-made views.

const A = { ip: '10.1.1.3', tags: ['app=a'] };
const B = { ip: '10.1.1.4', tags: ['app=b'] };
const VN = 'default-domain:p:vn';

function rule(sequence: number, action: 'pass' | 'deny', over: Partial<ViewFirewallRule> = {}): ViewFirewallRule {
  return {
    sequence,
    action,
    direction: '>',
    protocol: 'any',
    ports: [],
    endpoint1: { tags: ['app=a'], any: false },
    endpoint2: { tags: ['app=b'], any: false },
    ...over,
  };
}

/** Both pods local on one vRouter (VRF 2), one APS over the given policies. */
function tiny(policies: { name: string; sequence: number; rules: ViewFirewallRule[] }[], setTags: string[] = []): PolicyHook & { match: ReturnType<typeof firewallMatcher> } {
  const tags = ['app=a', 'app=b', 'tier=web'].map((name, i) => ({ name, id: i + 1 }));
  const port = (p: { ip: string; tags: string[] }, n: number) => ({
    name: `default-domain:p:pod-${n}`,
    network: VN,
    instance: routingInstanceName(VN),
    mac: `02:00:00:00:00:0${n}`,
    ips: [p.ip],
    vrouter: 'c1',
    tags: p.tags,
    tagIds: p.tags.map((t) => tags.find((x) => x.name === t)!.id),
  });
  const view: AgentView = {
    vrouter: { name: 'c1', address: '10.0.0.11' },
    networks: [{ name: VN, instance: routingInstanceName(VN), id: 1, subnets: [] }],
    ports: [port(A, 1), port(B, 2)],
    floatingIps: [],
    services: [],
    tags,
    firewallPolicies: policies.map((p) => ({ name: p.name, rules: p.rules })),
    policySets: [{ name: 'default-domain:p:aps', firewallPolicies: policies.map((p) => ({ policy: p.name, sequence: p.sequence })), tags: setTags }],
  };
  const lookup = { vrfOf: (i: string) => (i === routingInstanceName(VN) ? 2 : undefined) };
  const hook = firewallHook(view, lookup);
  return Object.assign((ctx: FlowContext) => hook(ctx), { match: firewallMatcher(view, lookup) });
}

function flow(src: string, dst: string, proto = 6, dport = 80): FlowContext {
  return { key: { vrf: 2, proto, src, dst, sport: 40000, dport }, ingress: { kind: 'vif', vif: 3 }, routeIn: () => undefined };
}

const DENY = { action: 'drop', reason: 'FwPolicy' };
const PASS = { action: 'forward' };

describe('rule order and matching', () => {
  it('rules go by sequence, not by listing: a lower-sequence deny beats a pass', () => {
    const denyFirst = tiny([{ name: 'p', sequence: 1, rules: [rule(20, 'pass', { protocol: 'tcp', ports: [80] }), rule(10, 'deny')] }]);
    expect(denyFirst(flow(A.ip, B.ip))).toEqual(DENY);
    expect(denyFirst.match(flow(A.ip, B.ip))?.sequence).toBe(10);
    const passFirst = tiny([{ name: 'p', sequence: 1, rules: [rule(20, 'deny'), rule(10, 'pass', { protocol: 'tcp', ports: [80] })] }]);
    expect(passFirst(flow(A.ip, B.ip))).toEqual(PASS);
    // Port 81 misses the pass rule and falls to the deny.
    expect(passFirst(flow(A.ip, B.ip, 6, 81))).toEqual(DENY);
  });

  it('policies go by their sequence in the set, before any of their rules', () => {
    const policies = [
      { name: 'allow', sequence: 50, rules: [rule(1, 'pass')] },
      { name: 'deny', sequence: 5, rules: [rule(99, 'deny')] },
    ];
    expect(tiny(policies)(flow(A.ip, B.ip))).toEqual(DENY);
    expect(tiny(policies.map((p) => ({ ...p, sequence: p.name === 'allow' ? 1 : 50 })))(flow(A.ip, B.ip))).toEqual(PASS);
  });

  it('direction: `>` is endpoint-1 to endpoint-2 only, `<` the other way, `<>` both', () => {
    const denyRest = rule(100, 'deny', { direction: '<>', endpoint1: { tags: [], any: true }, endpoint2: { tags: [], any: true } });
    const one = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'pass', { direction: '>' }), denyRest] }]);
    expect([one(flow(A.ip, B.ip)), one(flow(B.ip, A.ip))]).toEqual([PASS, DENY]);
    const back = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'pass', { direction: '<' }), denyRest] }]);
    expect([back(flow(A.ip, B.ip)), back(flow(B.ip, A.ip))]).toEqual([DENY, PASS]);
    const both = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'pass', { direction: '<>' }), denyRest] }]);
    expect([both(flow(A.ip, B.ip)), both(flow(B.ip, A.ip))]).toEqual([PASS, PASS]);
    // `<>` with a port: the port is the initiator's destination whichever way the rule is read.
    const web = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { direction: '<>', protocol: 'tcp', ports: [80] })] }]);
    expect([web(flow(B.ip, A.ip, 6, 80)), web(flow(B.ip, A.ip, 6, 443)), web(flow(B.ip, A.ip, 17, 80))]).toEqual([DENY, PASS, PASS]);
  });

  it('no match lets the flow through; ICMP has no port to match a ported rule', () => {
    const h = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { ports: [80] })] }]);
    expect(h(flow(A.ip, B.ip, 6, 80))).toEqual(DENY);
    expect(h(flow(A.ip, B.ip, 1, 0))).toEqual(PASS);
    expect(h.match(flow(A.ip, B.ip, 1, 0))).toBeUndefined();
    const icmp = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { protocol: 'icmp' })] }]);
    expect([icmp(flow(A.ip, B.ip, 1, 0)), icmp(flow(A.ip, B.ip, 6, 80))]).toEqual([DENY, PASS]);
  });

  it('endpoints: every listed tag must be present; a network endpoint is the address\'s VN', () => {
    const both = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { endpoint2: { tags: ['app=b', 'tier=web'], any: false } })] }]);
    expect(both(flow(A.ip, B.ip))).toEqual(PASS);
    const byNet = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { endpoint1: { tags: [], network: VN, any: false } })] }]);
    expect(byNet(flow(A.ip, B.ip))).toEqual(DENY);
    const otherNet = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { endpoint1: { tags: [], network: 'default-domain:p:other', any: false } })] }]);
    expect(otherNet(flow(A.ip, B.ip))).toEqual(PASS);
    // An endpoint naming nothing selects nothing.
    const empty = tiny([{ name: 'p', sequence: 1, rules: [rule(1, 'deny', { endpoint1: { tags: [], any: false } })] }]);
    expect(empty(flow(A.ip, B.ip))).toEqual(PASS);
  });

  it('a set with tags applies only to flows with an endpoint carrying one of them', () => {
    const policies = [{ name: 'p', sequence: 1, rules: [rule(1, 'deny')] }];
    expect(tiny(policies, ['tier=web'])(flow(A.ip, B.ip))).toEqual(PASS);
    expect(tiny(policies, ['app=b'])(flow(A.ip, B.ip))).toEqual(DENY);
  });
});
