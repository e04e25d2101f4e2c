/**
 * What the control node pushes to one vRouter agent (dialect notes 15): the agent's slice of
 * the model as an AgentView, and the difference between two views as the config nodes to
 * update and delete, so that a live change of the model sends only what changed.
 */
import { configNodeRef, viewNodes, CONFIG_NODE_TYPES, type ConfigChange, type ConfigNode } from '../../codecs/xmpp/config.js';
import {
  emptyAgentView,
  type AgentView,
  type ViewFirewallPolicy,
  type ViewFloatingIp,
  type ViewNetwork,
  type ViewPolicySet,
  type ViewPort,
  type ViewPortMap,
  type ViewService,
  type ViewTag,
} from '../config/agent-view.js';
import { parentOf } from '../config/control-model.js';
import { routingInstanceName, type ControlModel } from './config-model.js';

type ModelPortMap = { protocol: ViewPortMap['protocol']; port: number; targetPort: number };

/** Contrail's tag types and the high 16 bits of their ids; `app` is what Kubernetes labels say for application. */
const TAG_TYPE_IDS: Readonly<Record<string, number>> = {
  label: 0,
  application: 1,
  app: 1,
  tier: 2,
  deployment: 3,
  site: 4,
  namespace: 5,
};
const FIRST_OTHER_TAG_TYPE = 6;

/**
 * Every tag's id: the configured one, else Contrail's `type << 16 | index`, the index counting
 * the tags of that type in the order they are listed from 1 (skipping ids configured on
 * others); types outside Contrail's list are numbered from 6 in order of first appearance.
 */
export function tagIds(model: ControlModel): Map<string, number> {
  const configured = new Set(model.tags.flatMap((t) => (t.id === undefined ? [] : [t.id])));
  const otherTypes = new Map<string, number>();
  const nextIndex = new Map<number, number>();
  const out = new Map<string, number>();
  for (const t of model.tags) {
    if (t.id !== undefined) {
      out.set(t.name, t.id);
      continue;
    }
    const type = t.name.slice(0, t.name.indexOf('='));
    let typeId = TAG_TYPE_IDS[type];
    if (typeId === undefined) {
      typeId = otherTypes.get(type);
      if (typeId === undefined) otherTypes.set(type, (typeId = FIRST_OTHER_TAG_TYPE + otherTypes.size));
    }
    let index = nextIndex.get(typeId) ?? 1;
    while (configured.has(((typeId << 16) | index) >>> 0)) index++;
    nextIndex.set(typeId, index + 1);
    out.set(t.name, ((typeId << 16) | index) >>> 0);
  }
  return out;
}

function portMapOf(m: ModelPortMap): ViewPortMap {
  return { protocol: m.protocol, port: m.port, targetPort: m.targetPort };
}

/** The first of each (protocol, port): a service's own maps win over its floating IP's. */
function uniquePortMaps(maps: readonly ModelPortMap[]): ViewPortMap[] {
  const seen = new Set<string>();
  const out: ViewPortMap[] = [];
  for (const m of maps) {
    const k = `${m.protocol}/${m.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(portMapOf(m));
  }
  return out;
}

/**
 * The pods' interface names as the model means them: the given one, else the first `eth<n>`
 * the pod's other ports do not use, in the order the ports are listed. Written into the view
 * so that the agent need not know the order of ports it does not host.
 */
function interfaceNames(model: ControlModel): Map<string, string> {
  const byPod = new Map<string, ControlModel['ports']>();
  for (const p of model.ports) {
    if (p.pod === undefined) continue;
    let list = byPod.get(p.pod);
    if (!list) byPod.set(p.pod, (list = []));
    list.push(p);
  }
  const out = new Map<string, string>();
  for (const ports of byPod.values()) {
    const used = new Set(ports.flatMap((p) => (p.interface === undefined ? [] : [p.interface])));
    let n = 0;
    for (const p of ports) {
      if (p.interface !== undefined) {
        out.set(p.name, p.interface);
        continue;
      }
      while (used.has(`eth${n}`)) n++;
      used.add(`eth${n}`);
      out.set(p.name, `eth${n}`);
    }
  }
  return out;
}

/**
 * The part of the model the agent of `vrouter` needs (src/config/agent-view.ts says what each
 * list holds). A vrouter the model does not have gets the empty view: its agent may connect
 * before it is configured.
 */
export function agentViewOf(model: ControlModel, vrouter: string): AgentView {
  const vr = model.vrouters.find((v) => v.name === vrouter);
  if (!vr) return emptyAgentView(vrouter, '');
  const portsByName = new Map(model.ports.map((p) => [p.name, p]));
  const isLocal = (port: string) => portsByName.get(port)?.vrouter === vrouter;
  const ids = tagIds(model);
  const ifNames = interfaceNames(model);
  const networks = new Set<string>();

  const ports: ViewPort[] = [];
  for (const p of model.ports) {
    if (p.vrouter !== vrouter) continue;
    networks.add(p.network);
    const v: ViewPort = {
      name: p.name,
      network: p.network,
      instance: routingInstanceName(p.network),
      mac: p.mac,
      ips: [...p.ips],
      vrouter: p.vrouter,
      tags: [...p.tags],
      tagIds: p.tags.map((t) => ids.get(t) ?? 0),
    };
    if (p.pod !== undefined) v.pod = p.pod;
    const ifName = ifNames.get(p.name);
    if (ifName !== undefined) v.interface = ifName;
    if (p.localPreference !== undefined) v.localPreference = p.localPreference;
    ports.push(v);
  }

  const floatingIps: ViewFloatingIp[] = [];
  for (const f of model.floatingIps) {
    // A LoadBalancer's external address is bound to the service's backends, with its port map.
    const svc = model.services.find((s) => s.floatingIp === f.name);
    const bound = [...new Set([...f.ports, ...(svc?.backends ?? [])])];
    if (!bound.some(isLocal)) continue;
    const network = parentOf(f.name, 3);
    networks.add(network);
    floatingIps.push({
      name: f.name,
      address: f.address,
      network,
      instance: routingInstanceName(network),
      ports: bound,
      portMap: uniquePortMaps([...(svc?.ports ?? []), ...f.portMap]),
    });
  }

  const services: ViewService[] = [];
  for (const s of model.services) {
    if (!s.backends.some(isLocal)) continue;
    networks.add(s.network);
    services.push({
      name: s.name,
      network: s.network,
      instance: routingInstanceName(s.network),
      vip: s.vip,
      ports: s.ports.map(portMapOf),
      backends: [...s.backends],
    });
  }

  const viewNetworks: ViewNetwork[] = [];
  for (const n of model.virtualNetworks) {
    if (!networks.has(n.name)) continue;
    const v: ViewNetwork = {
      name: n.name,
      instance: routingInstanceName(n.name),
      id: n.id,
      subnets: n.subnets.map((s) => ({ prefix: s.prefix, gateway: s.gateway, serviceAddress: s.serviceAddress })),
    };
    if (n.vxlanId !== undefined) v.vxlanId = n.vxlanId;
    viewNetworks.push(v);
  }

  const tags: ViewTag[] = model.tags.map((t) => ({ name: t.name, id: ids.get(t.name) ?? 0 }));

  const firewallPolicies: ViewFirewallPolicy[] = model.firewallPolicies.map((p) => ({
    name: p.name,
    rules: p.rules.map((r) => ({
      sequence: r.sequence,
      action: r.action,
      direction: r.direction,
      protocol: r.protocol,
      ports: [...r.ports],
      endpoint1: endpointOf(r.endpoint1),
      endpoint2: endpointOf(r.endpoint2),
    })),
  }));

  const policySets: ViewPolicySet[] = model.applicationPolicySets.map((a) => ({
    name: a.name,
    firewallPolicies: a.firewallPolicies.map((f) => ({ policy: f.policy, sequence: f.sequence })),
    tags: [...a.tags],
  }));

  return {
    vrouter: { name: vr.name, address: vr.address },
    networks: viewNetworks,
    ports,
    floatingIps,
    services,
    tags,
    firewallPolicies,
    policySets,
  };
}

function endpointOf(e: { tags: string[]; network?: string | undefined; any: boolean }): ViewFirewallPolicy['rules'][number]['endpoint1'] {
  const out: ViewFirewallPolicy['rules'][number]['endpoint1'] = { tags: [...e.tags], any: e.any };
  if (e.network !== undefined) out.network = e.network;
  return out;
}

/** Structural equality of plain data; a key holding undefined counts as absent. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameValue(ao[k], bo[k])) return false;
  return true;
}

function keyOf(n: { type: string; name: string }): string {
  return `${n.type}\u0000${n.name}`;
}

/**
 * What turns `old` into `now` on the agent: nodes new or changed (compared deeply) to update,
 * in dependency order, and nodes gone to delete, in the reverse order (a port before its
 * network). The vrouter node compares like any other.
 */
export function diffViews(old: AgentView, now: AgentView): ConfigChange {
  const before = new Map<string, ConfigNode>();
  for (const n of viewNodes(old)) before.set(keyOf(configNodeRef(n)), n);
  const update: ConfigNode[] = [];
  const kept = new Set<string>();
  for (const n of viewNodes(now)) {
    const k = keyOf(configNodeRef(n));
    kept.add(k);
    const was = before.get(k);
    if (!was || !sameValue(was.value, n.value)) update.push(n);
  }
  const gone = [...before.entries()].filter(([k]) => !kept.has(k)).map(([, n]) => configNodeRef(n));
  const rank = (t: string) => CONFIG_NODE_TYPES.indexOf(t as (typeof CONFIG_NODE_TYPES)[number]);
  gone.sort((a, b) => rank(b.type) - rank(a.type));
  return { update, delete: gone };
}

/** The whole view as one change: what a new config subscription gets. */
export function fullView(v: AgentView): ConfigChange {
  return { update: viewNodes(v), delete: [] };
}
