import type { AgentView } from '../config/agent-view.js';
import type { TunnelEncap } from '../vrouter/nexthop.js';
import { VRouter, type VRouterOptions } from '../vrouter/router.js';
import type { Vif } from '../vrouter/vif.js';
import { XmppClientAdapter, type ClientEvent, type ControlNodeAddress } from './client-adapter.js';
import { RouteSync } from './route-sync.js';
import { AgentXmppClient, type AgentClientOptions, type ClientState, type LocalRoute } from './xmpp-client.js';

/**
 * A compute node's agent: its configuration, its pods' ports, one XMPP client per control
 * node (at most two, everything published to both; dialect notes section 1) and the vRouter
 * those feed. No kernel I/O: frames go in and out through `router` and the pipeline, the TAP
 * and socket layer is someone else's.
 */

export interface AgentConfig {
  /** Agent name = XMPP JID = the compute hostname. */
  name: string;
  /** vhost0 address: next hop of every route published, tunnel source and destination. */
  vhostIp: string;
  vhostMac?: string;
  /** One or two control nodes. */
  controlNodes: readonly ControlNodeAddress[];
  /** Encapsulation priority (global-vrouter-config's list), default MPLSoUDP, MPLSoGRE, VXLAN. */
  encapPriority?: readonly TunnelEncap[];
  fabricMac?: string;
  underlayMac?: string;
  /** The vRouter's clock (flows). */
  clock?: () => number;
  /** Client timers, back-off, EoR form; agent, vhost and priority come from above. */
  client?: Omit<AgentClientOptions, 'agent' | 'vhostIp' | 'vhostMac' | 'encapPriority'>;
  /** Monotonic milliseconds for the clients (default performance.now). */
  now?: () => number;
  /** VXLAN ids of networks by routing-instance name: VNI table entries, and VXLAN usable towards them (RouteSync). */
  networkVnis?: Readonly<Record<string, number>>;
}

/** One pod interface (a port of a network). */
export interface PodPort {
  /** Unique port name, e.g. `<pod>/eth0`. */
  name: string;
  /** Routing-instance FQ name, e.g. `default-domain:k8s-default:pod-network:pod-network`. */
  network: string;
  ip: string;
  /** Subnet length; its .254 / .253 are the vRouter's. */
  plen: number;
  /** The pod's MAC (02:..). */
  mac: string;
  /** Default `tapeth0-<6 hex of the name>`. */
  osName?: string;
  vifIndex?: number;
  securityGroups?: number[];
  /** Default the network's VN (the instance name without its last part). */
  virtualNetwork?: string;
  /** Path preference of the published route (default: the client's, 200). */
  localPreference?: number;
  /** Tag ids published with the route (firewall endpoints elsewhere match on them). */
  tags?: number[];
}

/**
 * An address of a local port's interface besides its own, in some routing instance: a
 * floating IP (in the FIP network) or a service VIP (in the service network). Traffic to it
 * goes to the port's Encap next hop, and it is published with the port's label.
 */
export interface PortRoute {
  instance: string;
  /** `a.b.c.d/32`. */
  prefix: string;
  /** The PodPort name. */
  port: string;
  virtualNetwork: string;
  localPreference?: number;
  tags?: number[];
}

export interface PodInfo {
  port: PodPort;
  vif: Vif;
  vrf: number;
  nh: number;
  label: number;
}

export interface ControlNodeStatus {
  id: string;
  address: ControlNodeAddress;
  state: ClientState;
  sessions: number;
  endOfRibReceived: boolean;
}

export const DEFAULT_ENCAP_PRIORITY: readonly TunnelEncap[] = ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'];

interface Cn {
  id: string;
  client: AgentXmppClient;
  adapter: XmppClientAdapter;
}

/** `domain:project:vn:ri` -> `domain:project:vn`. */
export function virtualNetworkOfInstance(instance: string): string {
  const i = instance.lastIndexOf(':');
  return i > 0 ? instance.slice(0, i) : instance;
}

/** Six hex digits from a name (FNV-1a), for `tapeth<N>-xxxxxx` device names. */
export function shortHash(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return ((h >>> 0) & 0xffffff).toString(16).padStart(6, '0');
}

export class Agent {
  readonly config: AgentConfig;
  readonly router: VRouter;
  readonly routes: RouteSync;
  private readonly cns: Cn[] = [];
  private readonly vrfByName = new Map<string, number>();
  private readonly pods = new Map<string, PodInfo>();
  private readonly portRoutesByKey = new Map<string, { route: PortRoute; vrf: number; nh: number; label: number }>();
  private readonly podWatchers = new Set<(name: string, info: PodInfo | undefined) => void>();
  /** VXLAN ids of networks from the control node's view (the file's networkVnis win). */
  private viewVnis: ReadonlyMap<string, number> = new Map();
  private nextVrf = 1;
  private started = false;
  /** Called with the whole configuration view whenever the config control node pushes a change. */
  onView: ((view: AgentView) => void) | undefined;

  constructor(config: AgentConfig) {
    if (config.controlNodes.length > 2) throw new RangeError('an agent talks to at most two control nodes');
    this.config = config;
    const ro: VRouterOptions = { vhostIp: config.vhostIp };
    if (config.fabricMac) ro.fabricMac = config.fabricMac;
    if (config.underlayMac) ro.underlayMac = config.underlayMac;
    if (config.clock) ro.clock = config.clock;
    this.router = new VRouter(ro);
    // vif0/0 fabric, vif0/1 vhost0, vif0/2 pkt0, pods from 3: the vRouter's usual layout.
    this.router.addFabric('eth0', 0);
    this.router.vifs.add({ index: 1, osName: 'vhost0', type: 'host', vrf: 0, mac: this.router.fabricMac, ip: config.vhostIp });
    this.router.vifs.add({ index: 2, osName: 'pkt0', type: 'agent', vrf: 65535, mac: '00:00:5e:00:01:00' });
    const encapPriority = config.encapPriority ?? DEFAULT_ENCAP_PRIORITY;
    this.routes = new RouteSync(this.router, {
      vrfIndex: (n) => this.vrfByName.get(n),
      encapPriority,
      configuredVni: (vrf) => this.vniOf(this.router.vrfs.get(vrf)?.name),
    });
    for (const address of config.controlNodes) {
      const id = `${address.host}:${address.port ?? 5269}`;
      const client = new AgentXmppClient({
        ...config.client,
        agent: config.name,
        vhostIp: config.vhostIp,
        ...(config.vhostMac ? { vhostMac: config.vhostMac } : {}),
        encapPriority,
        // The first control node is the config source (dialect notes 1): only it gets the config subscribe.
        configSubscribe: this.cns.length === 0,
      });
      const adapter = new XmppClientAdapter(client, address, (e) => this.onClientEvent(id, e), config.now);
      this.cns.push({ id, client, adapter });
    }
  }

  /** Connect to the control nodes. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.cns) c.adapter.start();
  }

  /** Disconnect; the tables keep what they have. */
  stop(): void {
    this.started = false;
    for (const c of this.cns) c.adapter.stop();
  }

  controlNodes(): ControlNodeStatus[] {
    return this.cns.map((c) => ({
      id: c.id,
      address: c.adapter.address,
      state: c.client.state,
      sessions: c.client.sessionCount,
      endOfRibReceived: c.client.endOfRibReceived,
    }));
  }

  /** The VRF index of a routing instance, creating the VRF and subscribing to it when new. */
  addNetwork(instance: string): number {
    const have = this.vrfByName.get(instance);
    if (have !== undefined) return have;
    while (this.router.vrfs.get(this.nextVrf)) this.nextVrf++;
    const index = this.nextVrf++;
    this.vrfByName.set(instance, index);
    this.router.vrfs.ensure(index, instance);
    const vni = this.vniOf(instance);
    if (vni !== undefined) this.router.vnis.set(vni, index);
    for (const c of this.cns) c.adapter.run(c.client.subscribe(instance, index));
    return index;
  }

  /** The configured VXLAN id of a network (routing-instance name): the file's, else the view's. */
  vniOf(instance: string | undefined): number | undefined {
    if (instance === undefined) return undefined;
    const m = this.config.networkVnis;
    if (m && Object.prototype.hasOwnProperty.call(m, instance)) return m[instance];
    return this.viewVnis.get(instance);
  }

  /** VXLAN ids by routing instance as the control node's view gives them; the VNI table follows. */
  setViewVnis(vnis: ReadonlyMap<string, number>): void {
    this.viewVnis = new Map(vnis);
    for (const [instance, vrf] of this.vrfByName) {
      const vni = this.vniOf(instance);
      for (const v of this.router.vnis.list()) if (v.vrf === vrf && v.vni !== vni) this.router.vnis.delete(v.vni);
      if (vni !== undefined) this.router.vnis.set(vni, vrf);
    }
  }

  vrfOf(instance: string): number | undefined {
    return this.vrfByName.get(instance);
  }

  /** Leave a routing instance: its pods must be gone; learnt routes are dropped. */
  removeNetwork(instance: string): void {
    const index = this.vrfByName.get(instance);
    if (index === undefined) return;
    for (const p of this.pods.values()) if (p.vrf === index) throw new Error(`port ${p.port.name} is still in ${instance}`);
    for (const r of [...this.portRoutesByKey.values()]) if (r.vrf === index) this.removePortRoute(r.route.instance, r.route.prefix);
    for (const c of this.cns) c.adapter.run(c.client.unsubscribe(instance));
    this.routes.dropVrf(index);
    this.vrfByName.delete(instance);
    for (const v of this.router.vnis.list()) if (v.vrf === index) this.router.vnis.delete(v.vni);
    this.router.vrfs.delete(index);
  }

  /** A pod port: vif, Encap next hop, label, /32 route, then published to every control node. */
  addPod(port: PodPort): PodInfo {
    if (this.pods.has(port.name)) throw new Error(`port ${port.name} exists`);
    const vrf = this.addNetwork(port.network);
    const osName = port.osName ?? `tapeth0-${shortHash(port.name)}`;
    const { vif, nh, label } = this.router.addPodInterface({
      ...(port.vifIndex !== undefined ? { index: port.vifIndex } : {}),
      osName,
      vrf,
      ip: port.ip,
      plen: port.plen,
      podMac: port.mac,
    });
    const info: PodInfo = { port, vif, vrf, nh: nh.id, label };
    this.pods.set(port.name, info);
    this.routes.addLocal(vrf, `${port.ip}/32`, nh.id, label);
    this.publish(this.localRoute(info));
    for (const w of this.podWatchers) w(port.name, info);
    return info;
  }

  /** Withdraw the pod's route everywhere and take its vif, label and next hop down. */
  removePod(name: string): boolean {
    const p = this.pods.get(name);
    if (!p) return false;
    // Its other addresses lead to the interface that goes now.
    for (const r of [...this.portRoutesByKey.values()]) if (r.route.port === name) this.removePortRoute(r.route.instance, r.route.prefix);
    this.pods.delete(name);
    const prefix = `${p.port.ip}/32`;
    this.withdraw(p.port.network, prefix);
    const table = this.router.vrfs.get(p.vrf)?.routes;
    if (table?.get(prefix)?.nh === p.nh) table.delete(prefix);
    this.router.mpls.free(p.label);
    this.router.nhs.delete(p.nh);
    this.router.vifs.delete(p.vif.index);
    // Flows through the port would point at a next hop that is gone.
    for (const e of this.router.flows.list()) {
      if (e.keyNh === p.nh && this.router.flows.get(e.index)) this.router.flows.removePair(e);
    }
    this.routes.removeLocal(p.vrf, prefix);
    for (const w of this.podWatchers) w(name, undefined);
    return true;
  }

  /** Calls `fn(name, info)` after a pod port is added, `fn(name, undefined)` after one is removed; returns the unwatch. */
  watchPods(fn: (name: string, info: PodInfo | undefined) => void): () => void {
    this.podWatchers.add(fn);
    return () => this.podWatchers.delete(fn);
  }

  /** Changes what a pod port's route is published with; re-published only when it changed. */
  setPortAttributes(name: string, attrs: Pick<PodPort, 'localPreference' | 'tags'>): boolean {
    const p = this.pods.get(name);
    if (!p) return false;
    if (p.port.localPreference === attrs.localPreference && sameJson(p.port.tags, attrs.tags)) return false;
    const port: PodPort = { ...p.port };
    delete port.localPreference;
    delete port.tags;
    if (attrs.localPreference !== undefined) port.localPreference = attrs.localPreference;
    if (attrs.tags !== undefined) port.tags = [...attrs.tags];
    p.port = port;
    this.publish(this.localRoute(p));
    return true;
  }

  /**
   * Routes `r.prefix` in `r.instance` (joined if new) to the port's interface and publishes it
   * with the port's label; replaces what was there for that prefix. False while the port has
   * no pod.
   */
  addPortRoute(r: PortRoute): boolean {
    const p = this.pods.get(r.port);
    if (!p) return false;
    const k = `${r.instance}\u0000${r.prefix}`;
    const have = this.portRoutesByKey.get(k);
    if (have && sameJson(have.route, r) && have.nh === p.nh) return true;
    if (have) this.removePortRoute(r.instance, r.prefix);
    const vrf = this.addNetwork(r.instance);
    this.router.vrfs.ensure(vrf).routes.add({ prefix: r.prefix, nh: p.nh, label: p.label, proxyArp: true });
    this.routes.addLocal(vrf, r.prefix, p.nh, p.label);
    this.portRoutesByKey.set(k, { route: { ...r }, vrf, nh: p.nh, label: p.label });
    this.publish({
      vrf: r.instance,
      prefix: r.prefix,
      label: p.label,
      virtualNetwork: r.virtualNetwork,
      ...(r.localPreference !== undefined ? { localPreference: r.localPreference } : {}),
      ...(r.tags ? { tags: [...r.tags] } : {}),
    });
    return true;
  }

  /** Withdraws a port route and takes it out of its VRF (a remote path for it may take over). */
  removePortRoute(instance: string, prefix: string): boolean {
    const k = `${instance}\u0000${prefix}`;
    const have = this.portRoutesByKey.get(k);
    if (!have) return false;
    this.portRoutesByKey.delete(k);
    this.withdraw(instance, prefix);
    const table = this.router.vrfs.get(have.vrf)?.routes;
    if (table?.get(prefix)?.nh === have.nh) table.delete(prefix);
    this.routes.removeLocal(have.vrf, prefix);
    return true;
  }

  portRoutes(): PortRoute[] {
    return [...this.portRoutesByKey.values()].map((r) => ({ ...r.route }));
  }

  /** What this agent asks its control nodes to hold (the same list for each; replayed on every new session). */
  publishedRoutes(): LocalRoute[] {
    return this.cns[0]?.client.localRoutes() ?? [];
  }

  pod(name: string): PodInfo | undefined {
    return this.pods.get(name);
  }

  podList(): PodInfo[] {
    return [...this.pods.values()];
  }

  private localRoute(p: PodInfo): LocalRoute {
    return {
      vrf: p.port.network,
      prefix: `${p.port.ip}/32`,
      label: p.label,
      virtualNetwork: p.port.virtualNetwork ?? virtualNetworkOfInstance(p.port.network),
      ...(p.port.securityGroups ? { securityGroups: p.port.securityGroups } : {}),
      ...(p.port.localPreference !== undefined ? { localPreference: p.port.localPreference } : {}),
      ...(p.port.tags ? { tags: p.port.tags } : {}),
    };
  }

  // The clients keep these and replay them on every new session: reconnects need nothing here.
  private publish(route: LocalRoute): void {
    for (const c of this.cns) c.adapter.run(c.client.publish(route));
  }

  private withdraw(instance: string, prefix: string): void {
    for (const c of this.cns) c.adapter.run(c.client.withdraw(instance, prefix));
  }

  private onClientEvent(cn: string, e: ClientEvent): void {
    switch (e.type) {
      case 'routes':
        for (const ev of e.events) {
          if (ev.kind === 'update') this.routes.update(cn, ev.route);
          else this.routes.withdraw(cn, ev.vrf, ev.prefix);
        }
        break;
      case 'down':
        this.routes.cnDown(cn);
        break;
      case 'sweep-stale':
        this.routes.sweepStale(cn);
        break;
      case 'config':
        // Only the first control node is the config source (dialect notes 1); a second one's pushes are the same model.
        if (cn === this.cns[0]?.id) this.onView?.(e.view);
        break;
      case 'established':
      case 'ignored':
        break;
    }
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
