/**
 * The part of the control model one vRouter agent needs, as the control node pushes it over
 * the agent's XMPP session (IFMap-shaped config IQs, dialect notes 8.1 and 15;
 * codecs/xmpp/config.ts is the wire form). Produced by the control node from its model
 * (src/control/agent-config.ts), applied by the agent (src/agent/view-apply.ts).
 *
 * Names are fq names as in the model; `instance` is the routing-instance name agents
 * subscribe to (`<vn fq name>:<vn>`).
 */

export interface ViewNetwork {
  name: string;
  instance: string;
  /** The VN index (auto RT, OriginVN). */
  id: number;
  vxlanId?: number;
  /** IPv4 prefixes; the vRouter owns each one's gateway and service address. */
  subnets: { prefix: string; gateway: string; serviceAddress: string }[];
}

export interface ViewPort {
  name: string;
  /** VN fq name and its routing instance. */
  network: string;
  instance: string;
  mac: string;
  ips: string[];
  vrouter: string;
  /** Tag names (`app=web`) and their ids (see ViewTag), in the same order. */
  tags: string[];
  tagIds: number[];
  pod?: string;
  interface?: string;
  /** Preference of the port's routes; absent = 100 (Contrail's default). */
  localPreference?: number;
}

export interface ViewPortMap {
  protocol: 'tcp' | 'udp' | 'icmp' | 'any';
  port: number;
  targetPort: number;
}

/** A floating IP bound to at least one port of this vRouter (also a LoadBalancer's external address). */
export interface ViewFloatingIp {
  name: string;
  address: string;
  /** The pool's network and its routing instance. */
  network: string;
  instance: string;
  /** Bound ports (all of them, also those on other vRouters). */
  ports: string[];
  portMap: ViewPortMap[];
}

/** A ClusterIP-style service with at least one backend on this vRouter. */
export interface ViewService {
  name: string;
  network: string;
  instance: string;
  vip: string;
  ports: ViewPortMap[];
  backends: string[];
}

/** Contrail's tag id: type in the high 16 bits (label 0, application 1, tier 2, deployment 3, site 4, namespace 5, others from 6), index low. */
export interface ViewTag {
  name: string;
  id: number;
}

export interface ViewEndpoint {
  tags: string[];
  network?: string;
  any: boolean;
}

export interface ViewFirewallRule {
  sequence: number;
  action: 'pass' | 'deny';
  direction: '<>' | '>' | '<';
  protocol: 'tcp' | 'udp' | 'icmp' | 'any';
  ports: number[];
  endpoint1: ViewEndpoint;
  endpoint2: ViewEndpoint;
}

export interface ViewFirewallPolicy {
  name: string;
  rules: ViewFirewallRule[];
}

export interface ViewPolicySet {
  name: string;
  firewallPolicies: { policy: string; sequence: number }[];
  tags: string[];
}

export interface AgentView {
  vrouter: { name: string; address: string };
  /** Networks of this vRouter's ports, floating IPs and services. */
  networks: ViewNetwork[];
  /** Ports hosted on this vRouter. */
  ports: ViewPort[];
  floatingIps: ViewFloatingIp[];
  services: ViewService[];
  tags: ViewTag[];
  firewallPolicies: ViewFirewallPolicy[];
  policySets: ViewPolicySet[];
}

export function emptyAgentView(name: string, address: string): AgentView {
  return { vrouter: { name, address }, networks: [], ports: [], floatingIps: [], services: [], tags: [], firewallPolicies: [], policySets: [] };
}
