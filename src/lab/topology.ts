/**
 * The book's lab as namespaces and links (../shared/docs/book-lab.md, the lab topology of
 * issue 6). The control node's and compute nodes' fabric addresses and the gateway's loopback
 * come from the model (global.xmpp.address, vrouters, the first bgp-router); the rest of the
 * plan is fixed here. Every link is created inside a lab namespace (a veth is made in the
 * gateway and its peer placed straight into the other namespace), so deleting the namespaces
 * removes all of them and nothing ever appears in the host's namespace.
 */
import type { ControlModel } from '../config/control-model.js';
import { inSubnet } from '../config/control-model.js';
import { createNetns, ipIn } from '../vrouter/kernel/netns.js';
import { inNs, must } from './exec.js';

export const LAB_PREFIX = 'weft-';
export const NS_CONTROL = 'weft-control';
export const NS_GATEWAY = 'weft-gateway';
export const NS_INTERNET = 'weft-internet';
export const podNamespace = (pod: string) => `weft-pod-${pod}`;
export const computeNamespace = (vrouter: string) => `weft-${vrouter}`;

export const FABRIC = {
  prefix: '10.169.25.0/24',
  plen: 24,
  /** br-fabric's address in weft-gateway: every node's default route. */
  gateway: '10.169.25.1',
  bridge: 'br-fabric',
  /** Jumbo frames on the fabric, as Contrail fabrics run: a 1500-byte pod packet still fits once tunnelled. */
  mtu: 9000,
} as const;

export const INTERNET = {
  prefix: '198.51.100.0/24',
  plen: 24,
  gatewayAddress: '198.51.100.1',
  hostAddress: '198.51.100.2',
  /** The gateway's end of the veth to the Internet host. */
  gatewayLink: 'to-inet',
  /** Policy-routing table of everything that comes from the Internet side. */
  table: 100,
  /** The gateway data plane's TAP (its table-100 route and rule are the gateway's). */
  gatewayTap: 'weft-gw0',
} as const;

export const FIP_POOL = '203.0.113.0/24';

/** Names of the links the lab makes in weft-gateway; `down` also removes them wherever they were left. */
export const LAB_LINK_NAMES = (t: LabTopology): string[] => [FABRIC.bridge, INTERNET.gatewayLink, INTERNET.gatewayTap, ...t.nodes.map((n) => n.fabLink)];

export interface FabricNode {
  role: 'control' | 'compute';
  /** vRouter name for a compute node, `control` for the control node. */
  name: string;
  ns: string;
  address: string;
  /** Its veth's end on br-fabric, in weft-gateway. */
  fabLink: string;
}

export interface LabTopology {
  nodes: FabricNode[];
  control: FabricNode;
  computes: FabricNode[];
  /** The SDN gateway's loopback (BGP and MPLSoGRE end point). */
  gatewayLoopback: string;
  gatewayAs: number;
  asn: number;
  namespaces: string[];
}

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

/** The lab's plan for a model; throws TopologyError when the model does not fit the fixed fabric. */
export function topologyOf(model: ControlModel): LabTopology {
  const problems: string[] = [];
  const controlAddr = model.global.xmpp.address;
  const onFabric = (what: string, a: string) => {
    if (!inSubnet(a, FABRIC.prefix) || a === FABRIC.gateway) problems.push(`${what} ${a} must be a host of the lab fabric ${FABRIC.prefix} other than ${FABRIC.gateway}`);
  };
  onFabric('global.xmpp.address', controlAddr);
  const control: FabricNode = { role: 'control', name: 'control', ns: NS_CONTROL, address: controlAddr, fabLink: 'fab-control' };
  const computes = model.vrouters.map((v): FabricNode => {
    onFabric(`vrouter ${v.name}`, v.address);
    const fabLink = `fab-${v.name}`;
    if (fabLink.length > 15) problems.push(`vrouter name ${v.name} is too long for a link name (at most 11 characters)`);
    return { role: 'compute', name: v.name, ns: computeNamespace(v.name), address: v.address, fabLink };
  });
  if (computes.length === 0) problems.push('the model has no vrouters: the lab needs at least one compute node');
  const gw = model.bgpRouters[0];
  if (!gw) problems.push('the model has no bgp-routers: the lab needs one for the SDN gateway');
  if (model.global.bgp.address !== '0.0.0.0' && model.global.bgp.address !== controlAddr) problems.push(`global.bgp.address must be the control node's ${controlAddr}`);
  if (problems.length > 0) throw new TopologyError(`the model does not fit the lab:\n  ${problems.join('\n  ')}`);
  const nodes = [control, ...computes];
  return {
    nodes,
    control,
    computes,
    gatewayLoopback: gw!.address,
    gatewayAs: gw!.asn,
    asn: model.global.asn,
    namespaces: [NS_CONTROL, ...computes.map((c) => c.ns), NS_GATEWAY, NS_INTERNET],
  };
}

const ip = (ns: string, ...args: string[]) => ipIn(ns, args);
const sysctl = (ns: string, ...settings: string[]) => must(inNs(ns, ['sysctl', '-q', '-w', ...settings]));

/** Creates the namespaces, fabric, Internet link, addresses, routes and sysctls (namespaces must not exist). */
export async function buildTopology(t: LabTopology): Promise<void> {
  await Promise.all(t.namespaces.map(createNetns));
  const gw = NS_GATEWAY;
  // rp_filter off before any link exists: the gateway's TAP sources FIP addresses it has no route back to on that link.
  await sysctl(gw, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  await ip(gw, 'link', 'add', FABRIC.bridge, 'mtu', String(FABRIC.mtu), 'type', 'bridge');
  await Promise.all([
    ip(gw, 'addr', 'add', `${FABRIC.gateway}/${FABRIC.plen}`, 'dev', FABRIC.bridge),
    ip(gw, 'addr', 'add', `${t.gatewayLoopback}/32`, 'dev', 'lo'),
    ip(gw, 'link', 'set', FABRIC.bridge, 'up'),
  ]);
  const fabricNode = async (n: FabricNode) => {
    await ip(gw, 'link', 'add', n.fabLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
    await ip(gw, 'link', 'set', n.fabLink, 'mtu', String(FABRIC.mtu), 'master', FABRIC.bridge, 'up');
    await ip(n.ns, 'link', 'set', 'eth0', 'mtu', String(FABRIC.mtu), 'up');
    await ip(n.ns, 'addr', 'add', `${n.address}/${FABRIC.plen}`, 'dev', 'eth0');
    await ip(n.ns, 'route', 'add', 'default', 'via', FABRIC.gateway);
  };
  const internet = async () => {
    await ip(gw, 'link', 'add', INTERNET.gatewayLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_INTERNET);
    await ip(gw, 'addr', 'add', `${INTERNET.gatewayAddress}/${INTERNET.plen}`, 'dev', INTERNET.gatewayLink);
    await ip(gw, 'link', 'set', INTERNET.gatewayLink, 'up');
    await ip(NS_INTERNET, 'addr', 'add', `${INTERNET.hostAddress}/${INTERNET.plen}`, 'dev', 'eth0');
    await ip(NS_INTERNET, 'link', 'set', 'eth0', 'up');
    await ip(NS_INTERNET, 'route', 'add', 'default', 'via', INTERNET.gatewayAddress);
    // The Internet side's own table from the start, so it never reaches the fabric even
    // before the gateway adds its TAP's route and rule to it.
    await ip(gw, 'route', 'add', INTERNET.prefix, 'dev', INTERNET.gatewayLink, 'table', String(INTERNET.table));
    await ip(gw, 'route', 'add', 'unreachable', 'default', 'table', String(INTERNET.table));
    await ip(gw, 'rule', 'add', 'iif', INTERNET.gatewayLink, 'lookup', String(INTERNET.table), 'priority', '100');
  };
  await Promise.all([...t.nodes.map(fabricNode), internet()]);
}
