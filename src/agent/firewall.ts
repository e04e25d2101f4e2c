/**
 * Contrail's firewall (book ch. 8) as the vRouter's policy hook: application policy sets hold
 * firewall policies, policies hold rules, rules name their two endpoints by tags, network or
 * `any`. Judged once, on a flow's first packet; the flow pair then carries the decision, so a
 * reply never meets the rules (a `>` rule still lets the answer of a flow it passed through).
 *
 * Both vRouters of a flow judge it (the source on the packet from the pod, the destination on
 * the packet from the fabric), each with what it knows: a port of its own by the view, any
 * other address by the tags on its route (the owner's `tag-list`, see route-sync.ts). The
 * untranslated flow is judged (NAT composes this hook as its `next`); an address that is not
 * a port's own but is delivered to a local interface (a floating IP, a service VIP whose ECMP
 * member is here) is judged as that interface's port. An ECMP route elsewhere carries the
 * tags of all its members, so a rule on any one backend's tags matches it.
 */
import type { AgentView, ViewEndpoint, ViewFirewallRule, ViewPort } from '../config/agent-view.js';
import type { FlowContext, PolicyHook } from '../vrouter/policy.js';

export interface FirewallLookup {
  /** VRF index of a routing instance on this vRouter; undefined while it has none. */
  vrfOf(instance: string): number | undefined;
}

/** What a rule endpoint is matched against: one side of a flow. */
export interface FlowEndpoint {
  /** Tag names (`app=web`); an id the view does not name shows as `#<id>` and matches nothing. */
  tags: ReadonlySet<string>;
  /** The VN fq name the address is in, when known. */
  network?: string;
}

/** The rule that decided a flow. */
export interface FirewallMatch {
  policySet: string;
  policy: string;
  sequence: number;
  action: 'pass' | 'deny';
}

interface OrderedRule {
  policySet: string;
  policy: string;
  rule: ViewFirewallRule;
}

interface OrderedSet {
  /** Empty: applies to every flow; else to flows with an endpoint carrying one of these. */
  tags: readonly string[];
  rules: OrderedRule[];
}

const PROTOCOL: Record<ViewFirewallRule['protocol'], number | undefined> = { tcp: 6, udp: 17, icmp: 1, any: undefined };
const PORTED = new Set([6, 17]);

const bySequence = <T extends { sequence: number }>(xs: readonly T[]): T[] => xs.map((x, i) => [x, i] as const).sort((a, b) => a[0].sequence - b[0].sequence || a[1] - b[1]).map(([x]) => x);

/**
 * Evaluation order: sets without tags (global, like Contrail's global APS) before sets chosen
 * by tags, each in the view's order; inside a set its policies by sequence, inside a policy
 * its rules by sequence. A policy a set names but the view lacks is skipped.
 */
function orderRules(view: AgentView): OrderedSet[] {
  const policies = new Map(view.firewallPolicies.map((p) => [p.name, p]));
  const sets = [...view.policySets.filter((s) => s.tags.length === 0), ...view.policySets.filter((s) => s.tags.length > 0)];
  return sets.map((s) => ({
    tags: s.tags,
    rules: bySequence(s.firewallPolicies).flatMap((ref) => {
      const p = policies.get(ref.policy);
      return p ? bySequence(p.rules).map((rule) => ({ policySet: s.name, policy: p.name, rule })) : [];
    }),
  }));
}

export function endpointMatches(ep: ViewEndpoint, x: FlowEndpoint): boolean {
  if (ep.any) return true;
  // An endpoint naming nothing selects nothing: a rule is never widened by an empty side.
  if (ep.tags.length === 0 && ep.network === undefined) return false;
  if (ep.network !== undefined && x.network !== ep.network) return false;
  return ep.tags.every((t) => x.tags.has(t));
}

/** Protocol, destination ports (the service the initiator asked for, whichever way the rule reads) and endpoints. */
export function ruleMatches(rule: ViewFirewallRule, proto: number, dport: number, src: FlowEndpoint, dst: FlowEndpoint): boolean {
  const want = PROTOCOL[rule.protocol];
  if (want !== undefined && want !== proto) return false;
  if (rule.ports.length > 0 && !(PORTED.has(proto) && rule.ports.includes(dport))) return false;
  const forward = () => endpointMatches(rule.endpoint1, src) && endpointMatches(rule.endpoint2, dst);
  const backward = () => endpointMatches(rule.endpoint2, src) && endpointMatches(rule.endpoint1, dst);
  switch (rule.direction) {
    case '>':
      return forward();
    case '<':
      return backward();
    case '<>':
      return forward() || backward();
  }
}

/**
 * The rule deciding a flow, or undefined when none matches (then the flow is let through:
 * Kubernetes pods no policy selects are open). Rebuild it when the view changes.
 */
export function firewallMatcher(view: AgentView, lookup: FirewallLookup): (ctx: FlowContext) => FirewallMatch | undefined {
  const sets = orderRules(view);
  const tagName = new Map(view.tags.map((t) => [t.id, t.name]));
  const portsByIp = new Map<string, ViewPort[]>();
  for (const p of view.ports) for (const ip of p.ips) portsByIp.set(ip, [...(portsByIp.get(ip) ?? []), p]);

  const networkOfVrf = (vrf: number): string | undefined => {
    for (const n of view.networks) if (lookup.vrfOf(n.instance) === vrf) return n.name;
    for (const p of view.ports) if (lookup.vrfOf(p.instance) === vrf) return p.network;
    return undefined;
  };

  const localPort = (ip: string, vrf?: number): ViewPort | undefined => {
    const ports = portsByIp.get(ip) ?? [];
    return vrf === undefined ? ports.find((p) => lookup.vrfOf(p.instance) !== undefined) : ports.find((p) => lookup.vrfOf(p.instance) === vrf);
  };

  const endpointOf = (ctx: FlowContext, ip: string, isDst: boolean): FlowEndpoint => {
    const vrf = ctx.key.vrf;
    let port = localPort(ip, vrf);
    const to = ctx.egress;
    if (!port && isDst && to?.type === 'encap' && to.ip !== undefined) port = localPort(to.ip);
    if (port) return { tags: new Set(port.tags), network: port.network };
    const ids = ctx.routeIn(vrf, ip)?.tags ?? [];
    const network = networkOfVrf(vrf);
    const tags = new Set(ids.map((id) => tagName.get(id) ?? `#${id}`));
    return network === undefined ? { tags } : { tags, network };
  };

  return (ctx) => {
    if (sets.every((s) => s.rules.length === 0)) return undefined;
    const { proto, dport } = ctx.key;
    const src = endpointOf(ctx, ctx.key.src, false);
    const dst = endpointOf(ctx, ctx.key.dst, true);
    for (const s of sets) {
      if (s.tags.length > 0 && !s.tags.some((t) => src.tags.has(t) || dst.tags.has(t))) continue;
      for (const r of s.rules) {
        if (ruleMatches(r.rule, proto, dport, src, dst)) {
          return { policySet: r.policySet, policy: r.policy, sequence: r.rule.sequence, action: r.rule.action };
        }
      }
    }
    return undefined;
  };
}

/**
 * The agent's firewall as a vRouter policy hook: `deny` drops the flow as `D(FwPolicy)` (the
 * pipeline makes its reverse `D(Unknown)`), `pass` and no match forward.
 */
export function firewallHook(view: AgentView, lookup: FirewallLookup): PolicyHook {
  const match = firewallMatcher(view, lookup);
  return (ctx) => (match(ctx)?.action === 'deny' ? { action: 'drop', reason: 'FwPolicy' } : { action: 'forward' });
}
