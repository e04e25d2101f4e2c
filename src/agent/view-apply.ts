/**
 * The agent acting on its configuration view (src/config/agent-view.ts), which the config
 * control node pushes whole on every change:
 *
 * - networks: their VXLAN ids feed the VNI table and RouteSync's configured VNI;
 * - ports: what the pod API builds interfaces from (`portAddress`), and the preference and
 *   tags a local pod's routes are published with;
 * - floating IPs bound to a local pod's port: the FIP network's instance is joined, the FIP
 *   /32 routed there to the port's interface and published with the port's label (book-lab
 *   S4, S6);
 * - services with a local backend: the same for the VIP in the service network, so that with
 *   backends on two nodes the control node holds two paths and clients get ECMP (S5);
 * - the NAT policy for both, in front of the firewall hook another module provides.
 *
 * Flows carry the decision of their first packet. When a view changes what decides (firewall
 * policies, policy sets, tags, a port's tags, floating IPs, services), every flow is flushed,
 * both directions, so the next packet meets the new policy: Contrail re-evaluates its flows on
 * such changes, and dropping them is the simplest way to the same result. Other changes
 * (routes, preferences, VXLAN ids, ports coming and going) leave flows alone.
 *
 * A binding whose port has no pod yet applies when the pod comes and goes when it goes: the
 * applier re-runs on every pod change as well as on every view.
 */
import type { AgentView, ViewNetwork, ViewPort, ViewPortMap } from '../config/agent-view.js';
import { ipv4ToInt, maskOf, parsePrefix } from '../vrouter/addr.js';
import { natPolicy, type FloatingIp, type PolicyHook, type PortMapping, type ServiceVip } from '../vrouter/policy.js';
import type { Agent, PortRoute } from './agent.js';

/** A port's path preference when its configuration has none: the agent's default (PathPreference HIGH, as for pod routes, dialect notes 8.3). */
export const DEFAULT_LOCAL_PREFERENCE = 200;

const PROTOCOL: Record<ViewPortMap['protocol'], number | undefined> = { tcp: 6, udp: 17, icmp: 1, any: undefined };

/** Where a view port's interface sits: its first address in the subnet that holds it. */
export interface PortAddress {
  ip: string;
  plen: number;
  gateway: string;
  /** The subnet, `a.b.c.d/n`. */
  subnet: string;
}

function routeKey(instance: string, prefix: string): string {
  return `${instance}\u0000${prefix}`;
}

function isIpv4(s: string): boolean {
  try {
    ipv4ToInt(s);
    return true;
  } catch {
    return false;
  }
}

/** The parts of a view the firewall and NAT hooks are made of (ports' tags apart). */
function policyParts(v: AgentView | undefined): string {
  return JSON.stringify(v ? [v.firewallPolicies, v.policySets, v.tags, v.floatingIps, v.services] : [[], [], [], [], []]);
}

/**
 * Whether flows judged under `before` may be judged otherwise under `after`. A port in both
 * whose tags or addresses changed counts; a port new or gone does not (its flows come and go
 * with its pod).
 */
export function policyChanged(before: AgentView | undefined, after: AgentView): boolean {
  if (policyParts(before) !== policyParts(after)) return true;
  const old = new Map((before?.ports ?? []).map((p) => [p.name, p]));
  for (const p of after.ports) {
    const o = old.get(p.name);
    if (o && JSON.stringify([o.tags, o.ips, o.network]) !== JSON.stringify([p.tags, p.ips, p.network])) return true;
  }
  return false;
}

function portMapping(m: ViewPortMap): PortMapping {
  const proto = PROTOCOL[m.protocol];
  return { ...(proto !== undefined ? { proto } : {}), port: m.port, targetPort: m.targetPort };
}

export class ViewApplier {
  private view: AgentView | undefined;
  private firewall: PolicyHook | undefined;
  private firewallFrom: ((view: AgentView) => PolicyHook | undefined) | undefined;
  /** Port routes this applier made, by instance and prefix. */
  private readonly made = new Map<string, PortRoute>();
  /** Instances joined only for those routes: left again when nothing needs them. */
  private readonly joined = new Set<string>();
  /** The NAT rules installed, one JSON string each: what went away has its flows flushed. */
  private natRules = new Map<string, string>();
  private readonly unwatch: () => void;

  constructor(readonly agent: Agent) {
    this.unwatch = agent.watchPods(() => this.sync());
    this.installPolicy([], []);
  }

  /**
   * Takes a new view (the whole of it) and brings routes, publications and NAT in line; flows
   * judged by a policy the view changed are flushed.
   */
  apply(view: AgentView): void {
    const changed = policyChanged(this.view, view);
    this.view = view;
    if (this.firewallFrom) this.firewall = this.firewallFrom(view);
    this.sync();
    if (changed) this.flushFlows();
  }

  /** The hook NAT composes with (a firewall); undefined: allow everything NAT does not decide. Flushes all flows. */
  setFirewall(hook: PolicyHook | undefined): void {
    this.firewallFrom = undefined;
    this.firewall = hook;
    this.sync();
    this.flushFlows();
  }

  /** A firewall hook made from each view as it arrives (and from the current one now). Flushes all flows. */
  setFirewallFrom(make: ((view: AgentView) => PolicyHook | undefined) | undefined): void {
    this.firewallFrom = make;
    this.firewall = make && this.view ? make(this.view) : undefined;
    this.sync();
    this.flushFlows();
  }

  /** Stops following pod changes; what was applied stays. */
  close(): void {
    this.unwatch();
  }

  get current(): AgentView | undefined {
    return this.view;
  }

  port(name: string): ViewPort | undefined {
    return this.view?.ports.find((p) => p.name === name);
  }

  network(name: string): ViewNetwork | undefined {
    return this.view?.networks.find((n) => n.name === name);
  }

  /** The address a pod interface for `port` gets, or why it cannot have one. */
  portAddress(port: ViewPort): PortAddress | string {
    const ip = port.ips[0];
    if (ip === undefined) return `port ${port.name} has no IP address`;
    const vn = this.network(port.network);
    if (!vn) return `port ${port.name}: network ${port.network} is not in the agent's view`;
    let a: number;
    try {
      a = ipv4ToInt(ip);
    } catch {
      return `port ${port.name}: ${ip} is not an IPv4 address`;
    }
    for (const s of vn.subnets) {
      const { addr, plen } = parsePrefix(s.prefix);
      if (((a & maskOf(plen)) >>> 0) === addr) return { ip, plen, gateway: s.gateway, subnet: s.prefix };
    }
    return `port ${port.name}: ${ip} is in no subnet of ${vn.name}`;
  }

  /** Port routes this applier keeps published (FIPs and VIPs of local pods). */
  routes(): PortRoute[] {
    return [...this.made.values()].map((r) => ({ ...r }));
  }

  private sync(): void {
    const agent = this.agent;
    const view = this.view;
    if (view) {
      const vnis = new Map<string, number>();
      for (const n of view.networks) if (n.vxlanId !== undefined && Number.isInteger(n.vxlanId) && n.vxlanId >= 1 && n.vxlanId <= 0xffffff) vnis.set(n.instance, n.vxlanId);
      agent.setViewVnis(vnis);
      for (const p of view.ports) agent.setPortAttributes(p.name, { localPreference: p.localPreference, tags: p.tagIds });
    }
    this.syncRoutes(this.desiredRoutes());
    const fips: FloatingIp[] = [];
    const vips: ServiceVip[] = [];
    for (const f of view?.floatingIps ?? []) {
      const fipVrf = agent.vrfOf(f.instance);
      if (fipVrf === undefined || !isIpv4(f.address)) continue;
      const portMap = f.portMap.map(portMapping);
      for (const name of f.ports) {
        const pod = agent.pod(name);
        if (pod) fips.push({ fixedIp: pod.port.ip, vrf: pod.vrf, fip: f.address, fipVrf, ...(portMap.length > 0 ? { portMap } : {}) });
      }
    }
    for (const s of view?.services ?? []) {
      if (!isIpv4(s.vip)) continue;
      for (const name of s.backends) {
        const pod = agent.pod(name);
        if (!pod) continue;
        if (s.ports.length === 0) vips.push({ vip: s.vip, backend: pod.port.ip });
        for (const m of s.ports) vips.push({ vip: s.vip, backend: pod.port.ip, ...portMapping(m) });
      }
    }
    this.installPolicy(fips, vips);
  }

  /**
   * One route per (instance, prefix): the agent publishes one label per prefix, so when
   * several local ports share an address the first bound one carries it (NAT still knows
   * them all, and the control node's ECMP comes from the other nodes' paths).
   */
  private desiredRoutes(): Map<string, PortRoute> {
    const want = new Map<string, PortRoute>();
    const view = this.view;
    if (!view) return want;
    const bind = (instance: string, network: string, address: string, portName: string): void => {
      const pod = this.agent.pod(portName);
      const prefix = `${address}/32`;
      const k = routeKey(instance, prefix);
      // A view is the control node's word, but a bad address must not take the agent down.
      if (!pod || want.has(k) || !isIpv4(address)) return;
      want.set(k, {
        instance,
        prefix,
        port: portName,
        virtualNetwork: network,
        localPreference: pod.port.localPreference ?? DEFAULT_LOCAL_PREFERENCE,
        tags: pod.port.tags ?? [],
      });
    };
    for (const f of view.floatingIps) for (const p of f.ports) bind(f.instance, f.network, f.address, p);
    for (const s of view.services) for (const p of s.backends) bind(s.instance, s.network, s.vip, p);
    return want;
  }

  private syncRoutes(want: Map<string, PortRoute>): void {
    const agent = this.agent;
    for (const [k, r] of this.made) {
      if (want.has(k)) continue;
      agent.removePortRoute(r.instance, r.prefix);
      this.made.delete(k);
    }
    for (const [k, r] of want) {
      const isNew = agent.vrfOf(r.instance) === undefined;
      if (!agent.addPortRoute(r)) continue;
      if (isNew) this.joined.add(r.instance);
      this.made.set(k, r);
    }
    for (const instance of [...this.joined]) {
      const vrf = agent.vrfOf(instance);
      if (vrf === undefined) {
        this.joined.delete(instance);
        continue;
      }
      const used = [...this.made.values()].some((r) => r.instance === instance) || agent.podList().some((p) => p.vrf === vrf);
      if (used) continue;
      agent.removeNetwork(instance);
      this.joined.delete(instance);
    }
  }

  /** Every flow pair goes: the next packet of each is a first packet again. */
  private flushFlows(): void {
    const flows = this.agent.router.flows;
    for (const e of flows.list()) if (flows.get(e.index)) flows.removePair(e);
  }

  private installPolicy(fips: FloatingIp[], vips: ServiceVip[]): void {
    const rules = new Map<string, string>();
    for (const f of fips) rules.set(JSON.stringify(['fip', f]), f.fip);
    for (const v of vips) rules.set(JSON.stringify(['vip', v]), v.vip);
    // Flows translated by a rule that is gone would go on translating: they go with it.
    const gone = new Set<string>();
    for (const [rule, address] of this.natRules) if (!rules.has(rule)) gone.add(address);
    this.natRules = rules;
    this.agent.router.policy = natPolicy({ floatingIps: fips, vips, ...(this.firewall ? { next: this.firewall } : {}) });
    if (gone.size === 0) return;
    const flows = this.agent.router.flows;
    for (const e of flows.list()) {
      if (e.action.type !== 'nat' || !flows.get(e.index)) continue;
      const touches = [e.key.src, e.key.dst, e.rewrite?.src, e.rewrite?.dst].some((a) => a !== undefined && gone.has(a));
      if (touches) flows.removePair(e);
    }
  }
}
