/**
 * A running agent: the Agent (XMPP, routes, tables), its Dataplane (sockets, TAPs) and the
 * pods it made, behind the agent's HTTP API (introspect port, 8085 like Contrail's agent):
 *
 *   GET    /vif /rt /nh /mpls /flow   the vRouter tables (introspect-routes.ts: ?index= ?vrf=
 *                                      ?get= ?id= ?label= ?match=), what `weft vif|rt|nh|mpls|flow` read
 *   GET    /status                    name, control nodes, I/O counters
 *   GET    /vni   /drops              VNI table; pipeline and I/O drop counters by reason
 *   GET    /pods[/<name>]             pods made through this API, with their interfaces
 *   POST   /pods {name, ports: [<port fq name>...], hostname?, mtu?}   201 with the pod: one
 *                                      interface per port of the agent's view (view-apply.ts)
 *   POST   /pods {name, network, ip, plen, mac?, gateway?, mtu?}       201: one interface, no view needed
 *   DELETE /pods/<name>
 *   GET    /view                      the configuration view and the FIP/VIP routes made from it
 *
 * Bound to loopback by default: it creates namespaces and has no authentication.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateJson } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import { ipv4 } from '../config/net.js';
import { int, list, object, optional, required, textOf } from '../config/schema.js';
import type { ViewPort } from '../config/agent-view.js';
import { jsonReplacer } from '../vrouter/format/json.js';
import { openGreSocket, type RawIpSocket } from '../vrouter/kernel/raw-ip.js';
import { addPod as kernelAddPod, delPod as kernelDelPod, type Pod } from '../vrouter/kernel/pod.js';
import { Agent, shortHash, type AgentConfig, type PodInfo, type PodPort } from './agent.js';
import type { AgentFileConfig } from './config.js';
import { Dataplane } from './dataplane.js';
import { firewallHook } from './firewall.js';
import { IntrospectRouteError, agentIntrospectRoutes, type IntrospectHandler } from './introspect-routes.js';
import { ViewApplier } from './view-apply.js';

const MAX_BODY_BYTES = 1 << 16;
const POD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Interfaces of one pod: Contrail's CNI goes to eth<N>, and more than this is a mistake. */
const MAX_POD_PORTS = 16;

export const podRequestSchema = object({
  /** Also the pod's namespace name. */
  name: required(textOf('a pod name (letters, digits, . _ -)', (s) => (POD_NAME.test(s) ? s : undefined))),
  /** Routing-instance fq name. */
  network: required(textOf('a routing-instance fq name', (s) => (s.length > 0 && s.length <= 512 ? s : undefined))),
  ip: required(ipv4()),
  plen: required(int(1, 30)),
  mac: optional(textOf('a MAC address like 02:00:00:00:00:01', (s) => (MAC.test(s.toLowerCase()) ? s.toLowerCase() : undefined))),
  gateway: optional(ipv4()),
  mtu: optional(int(576, 9000)),
});

/** A pod made of ports of the agent's view (their network, address, MAC, tags, preference). */
export const podPortsRequestSchema = object({
  name: required(textOf('a pod name (letters, digits, . _ -)', (s) => (POD_NAME.test(s) ? s : undefined))),
  ports: required(
    list(
      textOf('a port fq name', (s) => (s.length > 0 && s.length <= 512 ? s : undefined)),
      { min: 1, max: MAX_POD_PORTS, unique: (s) => s },
    ),
  ),
  /** What the pod calls itself (default: its name). */
  hostname: optional(textOf('a host name', (s) => (s.length <= 253 && HOSTNAME.test(s) ? s : undefined))),
  mtu: optional(int(576, 9000)),
});

export interface PodInterfaceView {
  /** Its name in the pod. */
  ifname: string;
  /** The port (view fq name, or `<pod>/eth0` for a pod made without the view). */
  port: string;
  /** Routing instance. */
  network: string;
  ip: string;
  plen: number;
  mac: string;
  gateway: string;
  osName: string;
  vif: number;
  vrf: number;
  nh: number;
  label: number;
}

/** A pod; the top-level network..label fields are its eth0's. */
export interface PodView {
  name: string;
  hostname: string;
  network: string;
  ip: string;
  plen: number;
  mac: string;
  gateway: string;
  netns: string;
  osName: string;
  vif: number;
  vrf: number;
  nh: number;
  label: number;
  interfaces: PodInterfaceView[];
}

/** One interface to make: the agent's port and the kernel side's address. */
interface InterfacePlan {
  port: PodPort;
  gateway: string;
}

export function agentConfigOf(f: AgentFileConfig): AgentConfig {
  const networkVnis: Record<string, number> = {};
  for (const n of f.networks) if (n.vxlanId !== undefined) networkVnis[n.name] = n.vxlanId;
  return {
    name: f.name,
    vhostIp: f.vhost.address,
    ...(f.vhost.mac !== undefined ? { vhostMac: f.vhost.mac } : {}),
    controlNodes: f.controlNodes.map((c) => ({ host: c.address, port: c.port, localAddress: f.vhost.address })),
    encapPriority: [...f.encapsulation],
    networkVnis,
    ...(f.tls !== undefined ? { client: { tls: { ...f.tls } } } : {}),
  };
}

/** `02:` + five bytes from the name and address, stable for one pod. */
export function podMac(name: string, ip: string): string {
  const h = shortHash(name);
  const o = ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0'));
  return `02:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${o[2]}:${o[3]}`;
}

/**
 * View ports in pod-interface order: a port naming `eth<N>` takes slot N, the others fill the
 * free slots in the order given. A string says why the set cannot be laid out.
 */
export function orderPodPorts(ports: readonly ViewPort[]): ViewPort[] | string {
  const slots: (ViewPort | undefined)[] = new Array<ViewPort | undefined>(ports.length).fill(undefined);
  for (const p of ports) {
    if (p.interface === undefined) continue;
    const m = /^eth(\d{1,2})$/.exec(p.interface);
    if (!m) return `port ${p.name}: interface ${p.interface} is not eth<N> (pod interfaces are eth0, eth1, ...)`;
    const n = Number(m[1]);
    if (n >= ports.length) return `port ${p.name}: interface ${p.interface} but the pod has ${ports.length} interface(s)`;
    const taken = slots[n];
    if (taken) return `ports ${taken.name} and ${p.name} both want ${p.interface}`;
    slots[n] = p;
  }
  let free = 0;
  for (const p of ports) {
    if (p.interface !== undefined) continue;
    while (slots[free]) free++;
    slots[free] = p;
  }
  return slots as ViewPort[];
}

/** The subnet's broadcast - 1 (.254 of a /24), the vRouter's gateway address. */
export function defaultGateway(ip: string, plen: number): string {
  const v = ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const size = 2 ** (32 - plen);
  const g = v - (v % size) + size - 2;
  return [g >>> 24, (g >>> 16) & 255, (g >>> 8) & 255, g & 255].join('.');
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body['error']));
  }
}

export class AgentService {
  readonly agent: Agent;
  readonly dataplane: Dataplane;
  private readonly gre: RawIpSocket | undefined;
  readonly applier: ViewApplier;
  private readonly pods = new Map<string, { view: PodView; pod: Pod; infos: PodInfo[] }>();
  private server: http.Server | undefined;
  private readonly tables: Record<string, IntrospectHandler>;
  url = '';
  /** Pod requests run one at a time: each moves links between namespaces. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: AgentFileConfig,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.agent = new Agent(agentConfigOf(config));
    this.applier = new ViewApplier(this.agent);
    this.agent.onView = (view) => this.applier.apply(view);
    this.applier.setFirewallFrom((view) => firewallHook(view, this.agent));
    this.tables = agentIntrospectRoutes(this.agent);
    this.gre = config.dataplane.gre ? openGreSocket({ batch: 64 }) : undefined;
    this.dataplane = new Dataplane(this.agent.router, {
      vhostIp: config.vhost.address,
      udpSenders: config.dataplane.udpSenders,
      sourcePortBase: config.dataplane.sourcePortBase,
      ...(this.gre ? { gre: this.gre } : {}),
      log,
    });
  }

  async start(): Promise<void> {
    await this.dataplane.start();
    for (const n of this.config.networks) this.agent.addNetwork(n.name);
    this.agent.start();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.config.introspect.port, this.config.introspect.address, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.url = `http://${a.address}:${a.port}`;
  }

  /** Pods go with the agent: their TAPs die with its fds anyway. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    for (const name of [...this.pods.keys()]) await this.removePod(name).catch((e: Error) => this.log(`pod ${name}: ${e.message}`));
    this.agent.stop();
    await this.dataplane.stop();
    this.gre?.close();
  }

  podList(): PodView[] {
    return [...this.pods.values()].map((p) => p.view);
  }

  /**
   * Namespace + TAPs (kernel), vif/nh/label/route + publish per interface (Agent), then frames
   * flow (Dataplane). `{name, ports}` takes each port from the view; `{name, network, ip, plen}`
   * makes one interface without it.
   */
  addPod(body: unknown): Promise<PodView> {
    return this.serial(async () => {
      const byPorts = typeof body === 'object' && body !== null && !Array.isArray(body) && 'ports' in body;
      const { name, hostname, mtu, plans, suffix } = byPorts ? this.planFromPorts(body) : this.planFromAddress(body);
      const pod = await kernelAddPod({
        name,
        interfaces: plans.map((p) => ({
          vrf: p.port.network,
          ip: p.port.ip,
          plen: p.port.plen,
          mac: p.port.mac,
          gateway: p.gateway,
          osNameSuffix: suffix,
          ...(mtu !== undefined ? { mtu } : {}),
        })),
        // Offloads: TCP crosses the agent in TSO bursts (see src/agent/dataplane.ts).
      }, { vnetHdr: true }).catch((e: Error) => {
        throw new HttpError(500, { error: `cannot create pod ${name}: ${e.message}` });
      });
      const infos: PodInfo[] = [];
      try {
        for (const [i, plan] of plans.entries()) {
          const itf = pod.interfaces[i]!;
          const info = this.agent.addPod({ ...plan.port, osName: itf.osName });
          infos.push(info);
          this.dataplane.attach(info.vif.index, itf.tap);
        }
      } catch (e) {
        for (const info of infos) {
          this.dataplane.detach(info.vif.index);
          this.agent.removePod(info.port.name);
        }
        await kernelDelPod(name).catch(() => undefined);
        throw new HttpError(409, { error: `pod ${name}: ${(e as Error).message}` });
      }
      const interfaces: PodInterfaceView[] = infos.map((info, i) => ({
        ifname: pod.interfaces[i]!.podIfname,
        port: info.port.name,
        network: info.port.network,
        ip: info.port.ip,
        plen: info.port.plen,
        mac: info.port.mac,
        gateway: plans[i]!.gateway,
        osName: info.vif.osName,
        vif: info.vif.index,
        vrf: info.vrf,
        nh: info.nh,
        label: info.label,
      }));
      const eth0 = interfaces[0]!;
      const view: PodView = {
        name,
        hostname,
        network: eth0.network,
        ip: eth0.ip,
        plen: eth0.plen,
        mac: eth0.mac,
        gateway: eth0.gateway,
        netns: pod.netns,
        osName: eth0.osName,
        vif: eth0.vif,
        vrf: eth0.vrf,
        nh: eth0.nh,
        label: eth0.label,
        interfaces,
      };
      this.pods.set(name, { view, pod, infos });
      for (const i of interfaces) this.log(`pod ${name}: ${i.ifname} ${i.ip}/${i.plen} in ${i.network}, vif0/${i.vif} ${i.osName}, label ${i.label}`);
      return view;
    });
  }

  private planFromAddress(body: unknown): { name: string; hostname: string; mtu: number | undefined; plans: InterfacePlan[]; suffix: string } {
    const r = validateJson(body, podRequestSchema);
    if (!r.ok) throw new HttpError(400, { error: 'invalid pod', issues: r.issues, message: r.issues.map(formatIssue).join('\n') });
    const req = r.value;
    if (this.pods.has(req.name)) throw new HttpError(409, { error: `pod ${req.name} exists` });
    const portName = `${req.name}/eth0`;
    const port: PodPort = { name: portName, network: req.network, ip: req.ip, plen: req.plen, mac: req.mac ?? podMac(req.name, req.ip) };
    const gateway = req.gateway ?? defaultGateway(req.ip, req.plen);
    return { name: req.name, hostname: req.name, mtu: req.mtu, plans: [{ port, gateway }], suffix: shortHash(portName) };
  }

  private planFromPorts(body: unknown): { name: string; hostname: string; mtu: number | undefined; plans: InterfacePlan[]; suffix: string } {
    const r = validateJson(body, podPortsRequestSchema);
    if (!r.ok) throw new HttpError(400, { error: 'invalid pod', issues: r.issues, message: r.issues.map(formatIssue).join('\n') });
    const req = r.value;
    if (this.pods.has(req.name)) throw new HttpError(409, { error: `pod ${req.name} exists` });
    const ports: ViewPort[] = [];
    for (const name of req.ports) {
      const p = this.applier.port(name);
      if (!p) throw new HttpError(400, { error: `no port ${name} in the agent's view` });
      if (p.vrouter !== this.config.name) throw new HttpError(400, { error: `port ${name} belongs to vrouter ${p.vrouter}, not ${this.config.name}` });
      if (this.agent.pod(name)) throw new HttpError(409, { error: `port ${name} is already a pod's interface` });
      ports.push(p);
    }
    const ordered = orderPodPorts(ports);
    if (typeof ordered === 'string') throw new HttpError(400, { error: ordered });
    const plans = ordered.map((p): InterfacePlan => {
      const a = this.applier.portAddress(p);
      if (typeof a === 'string') throw new HttpError(400, { error: a });
      const port: PodPort = {
        name: p.name,
        network: p.instance,
        ip: a.ip,
        plen: a.plen,
        mac: p.mac.toLowerCase(),
        virtualNetwork: p.network,
        tags: [...p.tagIds],
        ...(p.localPreference !== undefined ? { localPreference: p.localPreference } : {}),
      };
      return { port, gateway: a.gateway };
    });
    // One suffix for all of the pod's TAPs (book ch. 9): they read as one pod's in `vif --list`.
    return { name: req.name, hostname: req.hostname ?? req.name, mtu: req.mtu, plans, suffix: shortHash(req.name) };
  }

  removePod(name: string): Promise<boolean> {
    return this.serial(async () => {
      const p = this.pods.get(name);
      if (!p) return false;
      this.pods.delete(name);
      for (const info of p.infos) {
        this.dataplane.detach(info.vif.index);
        this.agent.removePod(info.port.name);
      }
      await kernelDelPod(name);
      this.log(`pod ${name}: deleted`);
      return true;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const { status, body } = await this.route(req);
      send(res, status, body);
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, e.body);
      else send(res, 500, { error: `internal error: ${(e as Error)?.message ?? e}` });
    }
  }

  private async route(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const router = this.agent.router;
    const [what, arg] = parts;
    if (what === 'pods') {
      if (arg === undefined && method === 'GET') return ok(this.podList());
      if (arg === undefined && method === 'POST') return { status: 201, body: await this.addPod(await readJson(req)) };
      if (arg !== undefined && method === 'GET') return ok(this.pods.get(arg)?.view ?? notFound(`pod ${arg}`));
      if (arg !== undefined && method === 'DELETE') return (await this.removePod(arg)) ? ok({ deleted: arg }) : notFound(`pod ${arg}`);
      throw new HttpError(405, { error: 'method not allowed' });
    }
    if (method !== 'GET') throw new HttpError(405, { error: 'method not allowed' });
    const table = arg === undefined && what !== undefined && Object.prototype.hasOwnProperty.call(this.tables, `/${what}`) ? this.tables[`/${what}`] : undefined;
    if (table) {
      try {
        return ok(table(url.searchParams));
      } catch (e) {
        if (e instanceof IntrospectRouteError) throw new HttpError(e.status, { error: e.message });
        throw e;
      }
    }
    switch (what) {
      case undefined:
        return ok({ endpoints: ['/status', ...Object.keys(this.tables), '/vni', '/drops', '/pods', '/pods/<name>', '/view'] });
      case 'status':
        return ok({
          name: this.config.name,
          vhost: this.config.vhost.address,
          encapsulation: this.config.encapsulation,
          controlNodes: this.agent.controlNodes(),
          udpSourcePorts: this.dataplane.udpSourcePorts,
          dataplane: this.dataplane.stats,
        });
      case 'vni':
        return ok(router.vnis.list());
      case 'drops':
        return ok({ pipeline: router.drops, io: this.dataplane.stats.drops });
      case 'view':
        return ok({ view: this.applier.current ?? null, routes: this.applier.routes() });
      default:
        return notFound(url.pathname);
    }
  }
}

function ok(body: unknown): { status: number; body: unknown } {
  return { status: 200, body };
}

function notFound(what: string): never {
  throw new HttpError(404, { error: `no ${what}` });
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` }));
        req.destroy();
        return;
      }
      chunks.push(b);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(new HttpError(400, { error: `body is not JSON: ${(e as Error).message}` }));
      }
    });
    req.on('error', () => reject(new HttpError(400, { error: 'request aborted' })));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, jsonReplacer, 1)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
