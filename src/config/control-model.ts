/**
 * The control node's configuration model (`weft control --config`, docs/config-control.md):
 * the objects of the book's lab, each a list of named objects with Contrail-style fq names
 * (`default-domain:<project>:<name>`). Per-object schemas validate each object on its own
 * (REST bodies use them alone, so errors name the body's JSON path); `controlModelSchema`
 * adds the checks between objects (references, addresses inside subnets, unique ids).
 */
import { FAMILY_NAMES } from '../bgp/families.js';
import { ipv4, ipAddress, prefix, routeTarget, routerId } from './net.js';
import {
  bool,
  defaultsOf,
  int,
  list,
  object,
  oneOf,
  optional,
  refine,
  required,
  string,
  textOf,
  transform,
  withDefault,
} from './schema.js';
import type { Infer, Refinement, Schema } from './schema.js';
import { serverTlsSchema } from './tls-files.js';

export const DEFAULT_REST_PORT = 8082;
export const DEFAULT_XMPP_PORT = 5269;
export const ENCAPSULATIONS = ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'] as const;
/** Auto route targets are target:<asn>:<AUTO_RT_BASE + vn id> (dialect notes 11.2). */
export const AUTO_RT_BASE = 8_000_000;
export const MAX_VN_ID = AUTO_RT_BASE - 1;

/* ---------- names ---------- */

const NAME_PART = /^[A-Za-z0-9_.-]{1,128}$/;

/** An fq name of exactly `parts` colon-separated parts. */
export function fqName(parts: number, what: string): Schema<string> {
  return textOf(`${what} (${parts} names joined by ':')`, (s) => {
    const p = s.split(':');
    return p.length === parts && p.every((x) => NAME_PART.test(x)) ? s : undefined;
  });
}

/** The fq name's first n parts: the parent (project of a network, network of a pool...). */
export function parentOf(fq: string, parts: number): string {
  return fq.split(':').slice(0, parts).join(':');
}

export function lastPart(fq: string): string {
  return fq.slice(fq.lastIndexOf(':') + 1);
}

const simpleName = textOf('a name (letters, digits, . _ -)', (s) => (NAME_PART.test(s) ? s : undefined));
const mac = textOf('a MAC address like 02:00:00:00:00:01', (s) => (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(s.toLowerCase()) ? s.toLowerCase() : undefined));
const port = int(1, 65535);
const bindPort = int(0, 65535);
const protocol = oneOf(['tcp', 'udp', 'icmp', 'any'] as const);
const rts = list(routeTarget(), { unique: (x) => x });
const listen = (address: string, p: number) => defaultsOf(object({ address: withDefault(ipAddress(), address), port: withDefault(bindPort, p) }));

/* ---------- global ---------- */

const globalSchema = object({
  asn: withDefault(int(1, 0xffffffff), 64512),
  'router-id': required(routerId()),
  /** The vRouters' priority list; MPLSoUDP first is Contrail's default for pod traffic. */
  encapsulation: withDefault(list(oneOf(ENCAPSULATIONS), { min: 1, unique: (x) => x }), () => [...ENCAPSULATIONS]),
  bgp: defaultsOf(
    object({
      address: withDefault(ipAddress(), '0.0.0.0'),
      port: withDefault(bindPort, 179),
      'hold-time': withDefault(int(0, 65535), 90),
      families: withDefault(list(oneOf(FAMILY_NAMES), { min: 1, unique: (x) => x }), () => ['ipv4-unicast' as const, 'vpnv4' as const]),
    }),
  ),
  xmpp: defaultsOf(
    object({
      address: withDefault(ipAddress(), '0.0.0.0'),
      port: withDefault(bindPort, DEFAULT_XMPP_PORT),
      'hold-time': withDefault(int(3, 65535), 90),
      /** Keep a departed agent's routes this many seconds (graceful restart helper); absent: drop at once. */
      'graceful-restart': optional(int(1, 3600)),
      /** Every agent must STARTTLS (dialect notes 3.2); with `ca`, and show a certificate it signed. */
      tls: optional(serverTlsSchema),
    }),
  ),
  introspect: listen('127.0.0.1', 8083),
  rest: listen('127.0.0.1', DEFAULT_REST_PORT),
});

/* ---------- objects ---------- */

export const projectSchema = object({ name: required(fqName(2, 'a project fq name domain:project')) });

/** Host addresses of the subnet the vRouter answers for: gateway (.254) and DNS/service (.253). */
export function subnetDefaults(p: string): { gateway: string; serviceAddress: string } {
  const [addr, len] = p.split('/') as [string, string];
  const o = addr.split('.').map(Number);
  const base = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  const size = 2 ** (32 - Number(len));
  const at = (n: number) => {
    const v = (base + n) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  };
  return size >= 4 ? { gateway: at(size - 2), serviceAddress: at(size - 3) } : { gateway: at(0), serviceAddress: at(0) };
}

export function inSubnet(address: string, p: string): boolean {
  const [net, len] = p.split('/') as [string, string];
  const n = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const l = Number(len);
  const size = 2 ** (32 - l);
  const a = n(address);
  const b = n(net);
  return a >= b && a < b + size;
}

const subnet = transform(
  object({ prefix: required(prefix('ipv4')), gateway: optional(ipv4()), 'service-address': optional(ipv4()) }),
  (s) => ({ prefix: s.prefix, gateway: s.gateway ?? subnetDefaults(s.prefix).gateway, serviceAddress: s.serviceAddress ?? subnetDefaults(s.prefix).serviceAddress }),
);

export const virtualNetworkSchema = refine(
  object({
    name: required(fqName(3, 'a network fq name domain:project:network')),
    /** VN index: routing-instance index and auto RT; allocated (lowest free from 1) when absent. */
    id: optional(int(1, MAX_VN_ID)),
    subnets: withDefault(list(subnet), () => []),
    'route-targets': withDefault(rts, () => []),
    'import-route-targets': withDefault(rts, () => []),
    'export-route-targets': withDefault(rts, () => []),
    isolated: withDefault(bool(), false),
    'vxlan-id': optional(int(1, 0xffffff)),
  }),
  (vn, r) => {
    vn.subnets.forEach((s, i) => {
      if (!inSubnet(s.gateway, s.prefix)) r.report(['subnets', i, 'gateway'], `${s.gateway} is not in ${s.prefix}`);
      if (!inSubnet(s.serviceAddress, s.prefix)) r.report(['subnets', i, 'service-address'], `${s.serviceAddress} is not in ${s.prefix}`);
    });
  },
);

export const portSchema = object({
  name: required(fqName(3, 'a port fq name domain:project:port')),
  network: required(fqName(3, 'a network fq name')),
  mac: required(mac),
  ips: withDefault(list(ipv4(), { unique: (x) => x }), () => []),
  vrouter: required(simpleName),
  'security-groups': withDefault(list(int(1, 0xffffffff)), () => []),
  tags: withDefault(list(string({ minLength: 1, maxLength: 128 })), () => []),
  /** The pod (virtual machine) the port belongs to: one network namespace per pod. */
  pod: optional(simpleName),
  /** The pod's interface name (eth0, eth1, ...); default by the order of the pod's ports. */
  interface: optional(textOf('an interface name like eth1', (s) => (/^[a-z][a-z0-9]{0,14}$/.test(s) ? s : undefined))),
  /** Path preference of every route of the port (its IP, floating IPs, VIPs): 200 active, 100 standby. */
  'local-preference': optional(int(1, 0xffffffff)),
});

export const floatingIpPoolSchema = object({
  /** `<network fq name>:<pool>`: a pool belongs to the network it allocates from. */
  name: required(fqName(4, 'a pool fq name domain:project:network:pool')),
});

const portMap = object({ protocol: withDefault(protocol, 'tcp' as const), port: required(port), 'target-port': required(port) });

export const floatingIpSchema = object({
  name: required(fqName(5, 'a floating IP fq name <pool fq name>:<name>')),
  address: required(ipv4()),
  /** Bound port(s); none = allocated, not advertised. */
  ports: withDefault(list(fqName(3, 'a port fq name'), { unique: (x) => x }), () => []),
  'port-map': withDefault(list(portMap), () => []),
});

export const serviceSchema = object({
  name: required(fqName(3, 'a service fq name domain:project:service')),
  network: required(fqName(3, 'a network fq name')),
  vip: required(ipv4()),
  ports: withDefault(list(portMap), () => []),
  /** Backend ports: each one's vRouter publishes the VIP, so the VIP is ECMP over them. */
  backends: withDefault(list(fqName(3, 'a port fq name'), { unique: (x) => x }), () => []),
  /** A floating IP (fq name) giving the service an external address (LoadBalancer). */
  'floating-ip': optional(fqName(5, 'a floating IP fq name')),
});

const policyRule = object({
  action: withDefault(oneOf(['pass', 'deny'] as const), 'pass' as const),
  direction: withDefault(oneOf(['<>', '>'] as const), '<>' as const),
  protocol: withDefault(protocol, 'any' as const),
  'source-network': required(fqName(3, 'a network fq name')),
  'destination-network': required(fqName(3, 'a network fq name')),
  /** Steer the traffic through this service instance (service chaining). */
  'service-instance': optional(fqName(3, 'a service instance fq name')),
});

export const networkPolicySchema = object({
  name: required(fqName(3, 'a policy fq name domain:project:policy')),
  rules: withDefault(list(policyRule), () => []),
});

export const serviceInstanceSchema = object({
  name: required(fqName(3, 'a service instance fq name domain:project:name')),
  'left-port': required(fqName(3, 'a port fq name')),
  'right-port': required(fqName(3, 'a port fq name')),
});

export const tagSchema = object({
  /** `type=value` as Contrail writes tags: app=web, tier=db, namespace=ns-user-1. */
  name: required(textOf('a tag type=value', (s) => (/^[a-z-]{1,32}=[A-Za-z0-9_.-]{1,128}$/.test(s) ? s : undefined))),
  id: optional(int(1, 0xffffffff)),
});

const endpoint = object({
  tags: withDefault(list(string({ minLength: 1 })), () => []),
  network: optional(fqName(3, 'a network fq name')),
  any: withDefault(bool(), false),
});

export const firewallPolicySchema = object({
  name: required(fqName(3, 'a firewall policy fq name domain:project:policy')),
  rules: withDefault(
    list(
      object({
        sequence: required(int(0, 0xffffffff)),
        action: withDefault(oneOf(['pass', 'deny'] as const), 'pass' as const),
        direction: withDefault(oneOf(['<>', '>', '<'] as const), '>' as const),
        protocol: withDefault(protocol, 'any' as const),
        ports: withDefault(list(port), () => []),
        'endpoint-1': required(endpoint),
        'endpoint-2': required(endpoint),
      }),
      { unique: (x) => String(x.sequence) },
    ),
    () => [],
  ),
});

export const applicationPolicySetSchema = object({
  name: required(fqName(3, 'an application policy set fq name')),
  'firewall-policies': withDefault(
    list(object({ policy: required(fqName(3, 'a firewall policy fq name')), sequence: required(int(0, 0xffffffff)) }), { unique: (x) => x.policy }),
    () => [],
  ),
  tags: withDefault(list(string({ minLength: 1 })), () => []),
});

export const bgpRouterSchema = object({
  name: required(simpleName),
  address: required(ipAddress()),
  asn: required(int(1, 0xffffffff)),
  port: withDefault(port, 179),
  passive: withDefault(bool(), false),
  'route-reflector-client': withDefault(bool(), false),
  families: optional(list(oneOf(FAMILY_NAMES), { min: 1, unique: (x) => x })),
  'hold-time': optional(int(0, 65535)),
});

export const vrouterSchema = object({
  name: required(simpleName),
  /** vhost0 address: next hop of its routes, the agent's RD admin part. */
  address: required(ipv4()),
});

/** The REST API's object types: URL segment = YAML section. */
export const OBJECT_SCHEMAS = {
  projects: projectSchema,
  'virtual-networks': virtualNetworkSchema,
  ports: portSchema,
  'floating-ip-pools': floatingIpPoolSchema,
  'floating-ips': floatingIpSchema,
  services: serviceSchema,
  'network-policies': networkPolicySchema,
  'service-instances': serviceInstanceSchema,
  tags: tagSchema,
  'firewall-policies': firewallPolicySchema,
  'application-policy-sets': applicationPolicySetSchema,
  'bgp-routers': bgpRouterSchema,
  vrouters: vrouterSchema,
} as const;

export type ObjectType = keyof typeof OBJECT_SCHEMAS;
export const OBJECT_TYPES = Object.keys(OBJECT_SCHEMAS) as ObjectType[];

const named = <T extends { name: string }>(s: Schema<T>) => list(s, { unique: (x) => x.name });

const modelFields = object({
  global: required(globalSchema),
  projects: withDefault(named(projectSchema), () => []),
  'virtual-networks': withDefault(named(virtualNetworkSchema), () => []),
  ports: withDefault(named(portSchema), () => []),
  'floating-ip-pools': withDefault(named(floatingIpPoolSchema), () => []),
  'floating-ips': withDefault(named(floatingIpSchema), () => []),
  services: withDefault(named(serviceSchema), () => []),
  'network-policies': withDefault(named(networkPolicySchema), () => []),
  'service-instances': withDefault(named(serviceInstanceSchema), () => []),
  tags: withDefault(named(tagSchema), () => []),
  'firewall-policies': withDefault(named(firewallPolicySchema), () => []),
  'application-policy-sets': withDefault(named(applicationPolicySetSchema), () => []),
  'bgp-routers': withDefault(named(bgpRouterSchema), () => []),
  vrouters: withDefault(named(vrouterSchema), () => []),
});

type Parsed = Infer<typeof modelFields>;
export type VirtualNetworkConfig = Parsed['virtualNetworks'][number] & { id: number };
export type ControlModel = Omit<Parsed, 'virtualNetworks'> & { virtualNetworks: VirtualNetworkConfig[] };
export type GlobalModel = Parsed['global'];
export type PortConfig = Parsed['ports'][number];
export type FloatingIpConfig = Parsed['floatingIps'][number];
export type ServiceConfig = Parsed['services'][number];
export type NetworkPolicyConfig = Parsed['networkPolicies'][number];
export type BgpRouterConfig = Parsed['bgpRouters'][number];
export type VrouterConfig = Parsed['vrouters'][number];

/** Every reference between objects, reported at the referring field. */
function checkReferences(m: Parsed, r: Refinement): void {
  const names = (xs: readonly { name: string }[]) => new Set(xs.map((x) => x.name));
  const projects = names(m.projects);
  const vns = new Map(m.virtualNetworks.map((v) => [v.name, v]));
  const ports = new Map(m.ports.map((p) => [p.name, p]));
  const pools = names(m.floatingIpPools);
  const fips = names(m.floatingIps);
  const sis = names(m.serviceInstances);
  const vrouters = names(m.vrouters);
  const fwPolicies = names(m.firewallPolicies);
  const tags = names(m.tags);
  const ref = (set: { has(k: string): boolean }, v: string, path: (string | number)[], what: string) => {
    if (!set.has(v)) r.report(path, `no ${what} named '${v}'`);
  };
  const ids = new Map<number, number>();
  m.virtualNetworks.forEach((v, i) => {
    ref(projects, parentOf(v.name, 2), ['virtual-networks', i, 'name'], 'project');
    if (v.id !== undefined) {
      const j = ids.get(v.id);
      if (j !== undefined) r.report(['virtual-networks', i, 'id'], `id ${v.id} is already virtual-networks[${j}]'s`);
      else ids.set(v.id, i);
    }
  });
  m.ports.forEach((p, i) => {
    ref(projects, parentOf(p.name, 2), ['ports', i, 'name'], 'project');
    ref(vrouters, p.vrouter, ['ports', i, 'vrouter'], 'vrouter');
    const vn = vns.get(p.network);
    if (!vn) return ref(vns, p.network, ['ports', i, 'network'], 'virtual network');
    p.ips.forEach((ip, k) => {
      if (vn.subnets.length > 0 && !vn.subnets.some((s) => inSubnet(ip, s.prefix))) r.report(['ports', i, 'ips', k], `${ip} is in no subnet of ${vn.name}`);
    });
  });
  m.floatingIpPools.forEach((p, i) => ref(vns, parentOf(p.name, 3), ['floating-ip-pools', i, 'name'], 'virtual network'));
  const fipAddr = new Map<string, number>();
  m.floatingIps.forEach((f, i) => {
    const pool = parentOf(f.name, 4);
    ref(pools, pool, ['floating-ips', i, 'name'], 'floating IP pool');
    const vn = vns.get(parentOf(f.name, 3));
    if (vn && vn.subnets.length > 0 && !vn.subnets.some((s) => inSubnet(f.address, s.prefix))) {
      r.report(['floating-ips', i, 'address'], `${f.address} is in no subnet of ${vn.name}`);
    }
    const dup = fipAddr.get(`${pool} ${f.address}`);
    if (dup !== undefined) r.report(['floating-ips', i, 'address'], `${f.address} is already floating-ips[${dup}]'s`);
    else fipAddr.set(`${pool} ${f.address}`, i);
    f.ports.forEach((p, k) => ref(ports, p, ['floating-ips', i, 'ports', k], 'port'));
  });
  m.services.forEach((s, i) => {
    const vn = vns.get(s.network);
    if (!vn) ref(vns, s.network, ['services', i, 'network'], 'virtual network');
    else if (vn.subnets.length > 0 && !vn.subnets.some((x) => inSubnet(s.vip, x.prefix))) r.report(['services', i, 'vip'], `${s.vip} is in no subnet of ${vn.name}`);
    s.backends.forEach((p, k) => ref(ports, p, ['services', i, 'backends', k], 'port'));
    if (s.floatingIp !== undefined) ref(fips, s.floatingIp, ['services', i, 'floating-ip'], 'floating IP');
  });
  m.networkPolicies.forEach((p, i) =>
    p.rules.forEach((rule, k) => {
      ref(vns, rule.sourceNetwork, ['network-policies', i, 'rules', k, 'source-network'], 'virtual network');
      ref(vns, rule.destinationNetwork, ['network-policies', i, 'rules', k, 'destination-network'], 'virtual network');
      if (rule.serviceInstance !== undefined) ref(sis, rule.serviceInstance, ['network-policies', i, 'rules', k, 'service-instance'], 'service instance');
    }),
  );
  m.serviceInstances.forEach((s, i) => {
    ref(ports, s.leftPort, ['service-instances', i, 'left-port'], 'port');
    ref(ports, s.rightPort, ['service-instances', i, 'right-port'], 'port');
  });
  const tagRef = (t: string, path: (string | number)[]) => ref(tags, t, path, 'tag');
  m.ports.forEach((p, i) => p.tags.forEach((t, k) => tagRef(t, ['ports', i, 'tags', k])));
  m.firewallPolicies.forEach((p, i) =>
    p.rules.forEach((rule, k) => {
      rule.endpoint1.tags.forEach((t, j) => tagRef(t, ['firewall-policies', i, 'rules', k, 'endpoint-1', 'tags', j]));
      rule.endpoint2.tags.forEach((t, j) => tagRef(t, ['firewall-policies', i, 'rules', k, 'endpoint-2', 'tags', j]));
      if (rule.endpoint1.network !== undefined) ref(vns, rule.endpoint1.network, ['firewall-policies', i, 'rules', k, 'endpoint-1', 'network'], 'virtual network');
      if (rule.endpoint2.network !== undefined) ref(vns, rule.endpoint2.network, ['firewall-policies', i, 'rules', k, 'endpoint-2', 'network'], 'virtual network');
    }),
  );
  m.applicationPolicySets.forEach((a, i) => {
    a.firewallPolicies.forEach((f, k) => ref(fwPolicies, f.policy, ['application-policy-sets', i, 'firewall-policies', k, 'policy'], 'firewall policy'));
    a.tags.forEach((t, k) => tagRef(t, ['application-policy-sets', i, 'tags', k]));
  });
  const addrs = new Map<string, number>();
  m.bgpRouters.forEach((b, i) => {
    const j = addrs.get(b.address);
    if (j !== undefined) r.report(['bgp-routers', i, 'address'], `${b.address} is already bgp-routers[${j}]'s`);
    else addrs.set(b.address, i);
  });
}

/** VN ids as given, the others the lowest free from 1 in document order (stable once written back). */
function allocateIds(m: Parsed): ControlModel {
  const used = new Set(m.virtualNetworks.flatMap((v) => (v.id === undefined ? [] : [v.id])));
  let next = 1;
  const virtualNetworks = m.virtualNetworks.map((v) => {
    if (v.id !== undefined) return v as VirtualNetworkConfig;
    while (used.has(next)) next++;
    used.add(next);
    return { ...v, id: next } as VirtualNetworkConfig;
  });
  return { ...m, virtualNetworks };
}

export const controlModelSchema: Schema<ControlModel> = transform(refine(modelFields, checkReferences), allocateIds);

/** Tells a control-model document from a BGP-speaker one (docs/config-bgp.md has `global.local-as`). */
export const CONTROL_MODEL_KEYS: readonly string[] = ['virtual-networks', 'projects', 'vrouters', 'bgp-routers', 'ports'];
