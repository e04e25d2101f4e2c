/**
 * The whole control node from a configuration model: BGP speaker, XMPP server for agents
 * (routes both ways, each agent's slice of the model pushed down as config), routing instances
 * between them, the BGP introspect API and the model's REST API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NeighborConfig as BgpNeighborConfig } from '../config/bgp-speaker.js';
import type { BgpRouterConfig, ControlModel } from '../config/control-model.js';
import { formatIssue } from '../config/issues.js';
import { startIntrospect, type IntrospectServer } from '../introspect/server.js';
import { Speaker, type NeighborConfig } from '../bgp/speaker.js';
import { agentViewOf } from './agent-config.js';
import { changeModel, findObject, isObjectType, objectsOf, toDocument, type ModelChange } from './config-model.js';
import { InstanceRouteHub } from './instance-routes.js';
import { RoutingInstances } from './routing-instances.js';
import { XmppServer } from './xmpp/server.js';

const MAX_BODY_BYTES = 1 << 20;

export interface ControlNodeOptions {
  /** XMPP session timers for tests (milliseconds); defaults from the model / dialect. */
  xmpp?: { eorQuietMs?: number; eorRetryMs?: number };
  /** Seconds between BGP connection attempts (default 5). */
  connectRetry?: number;
}

export function speakerNeighbor(b: BgpRouterConfig, connectRetry?: number): NeighborConfig {
  return {
    address: b.address,
    port: b.port,
    remoteAs: b.asn,
    passive: b.passive,
    rrClient: b.routeReflectorClient,
    ...(b.families ? { families: [...b.families] } : {}),
    ...(b.holdTime !== undefined ? { holdTime: b.holdTime } : {}),
    ...(connectRetry !== undefined ? { connectRetry } : {}),
  };
}

export class ControlNode {
  model: ControlModel;
  readonly speaker: Speaker;
  readonly hub: InstanceRouteHub;
  readonly xmpp: XmppServer;
  readonly instances: RoutingInstances;
  private rest: http.Server | undefined;
  private introspect: IntrospectServer | undefined;
  restUrl = '';
  introspectUrl = '';

  constructor(
    model: ControlModel,
    private readonly opts: ControlNodeOptions = {},
  ) {
    this.model = model;
    const g = model.global;
    this.speaker = new Speaker({
      localAs: g.asn,
      routerId: g.routerId,
      listen: { address: g.bgp.address, port: g.bgp.port },
      holdTime: g.bgp.holdTime,
      families: [...g.bgp.families],
      // RT membership goes per import RT of the subscribed instances (rtc-membership.ts), as from
      // Contrail's control node: the default route would ask RTC gateways for every VPN route.
      rtcDefault: false,
      neighbors: model.bgpRouters.map((b) => speakerNeighbor(b, opts.connectRetry)),
    });
    this.hub = new InstanceRouteHub({ store: this.speaker.store });
    this.xmpp = new XmppServer({
      hub: this.hub,
      host: g.xmpp.address,
      port: g.xmpp.port,
      holdTimeMs: g.xmpp.holdTime * 1000,
      ...(g.xmpp.gracefulRestart !== undefined ? { gracefulRestart: { staleTimeMs: g.xmpp.gracefulRestart * 1000 } } : {}),
      ...(g.xmpp.tls !== undefined ? { tls: g.xmpp.tls } : {}),
      // Read at each subscription and push: always the current model.
      config: { viewOf: (vrouter) => agentViewOf(this.model, vrouter) },
      // Items name the network a path came from (service chains, policy leaks), not the VRF's.
      networkOf: (index) => this.instances.networkOfIndex(index),
      ...opts.xmpp,
    });
    this.instances = new RoutingInstances({ hub: this.hub, store: this.speaker.store, speaker: this.speaker, scheduleFlush: () => this.xmpp.scheduleFlush() });
    this.instances.apply(model);
  }

  get bgpPort(): number | undefined {
    return this.speaker.listenPort;
  }

  get xmppPort(): number {
    return this.xmpp.address().port;
  }

  async start(): Promise<void> {
    const g = this.model.global;
    try {
      await this.speaker.start();
      await this.xmpp.listen();
      const intro = await startIntrospect({
        speaker: this.speaker,
        config: {
          global: { localAs: g.asn, routerId: g.routerId, clusterId: g.routerId, listen: { ...g.bgp }, holdTime: g.bgp.holdTime, families: [...g.bgp.families] },
          policies: {},
          neighbors: this.model.bgpRouters.map((b) => bgpNeighborConfig(b, g.bgp.holdTime, g.bgp.families)),
        },
        address: g.introspect.address,
        port: g.introspect.port,
      });
      this.introspect = intro.server;
      this.introspectUrl = intro.url;
      this.rest = http.createServer((req, res) => void this.handle(req, res));
      await new Promise<void>((resolve, reject) => {
        this.rest!.once('error', reject);
        this.rest!.listen(g.rest.port, g.rest.address, () => resolve());
      });
      const a = this.rest.address() as AddressInfo;
      this.restUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    const rest = this.rest;
    this.rest = undefined;
    rest?.closeAllConnections();
    await Promise.all([
      this.speaker.stop().catch(() => undefined),
      this.xmpp.close().catch(() => undefined),
      this.introspect?.close().catch(() => undefined),
      rest ? new Promise<void>((r) => rest.close(() => r())) : undefined,
    ]);
  }

  /** Validates and applies one change of the model; on any error nothing changes. */
  change(c: ModelChange): ReturnType<typeof changeModel> {
    const r = changeModel(this.model, c);
    if (!r.ok) return r;
    const before = this.model;
    this.model = r.model;
    this.instances.apply(r.model);
    if (c.type === 'bgp-routers') this.syncNeighbors(before);
    this.xmpp.pushConfig();
    return r;
  }

  private syncNeighbors(before: ControlModel): void {
    const old = new Map(before.bgpRouters.map((b) => [b.address, JSON.stringify(b)]));
    const now = new Map(this.model.bgpRouters.map((b) => [b.address, b]));
    for (const [addr, json] of old) {
      const n = now.get(addr);
      if (!n || JSON.stringify(n) !== json) this.speaker.removeNeighbor(addr);
    }
    for (const [addr, b] of now) if (old.get(addr) !== JSON.stringify(b)) this.speaker.addNeighbor(speakerNeighbor(b, this.opts.connectRetry));
  }

  // ---------- REST: /api/<type>[/<fq name>], /api/model, /api/routing-instances, /api/service-chains, /api/xmpp-sessions ----------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
      if (parts[0] !== 'api') return send(res, 404, { error: 'not found' });
      const [, type, name, extra] = parts;
      const method = req.method ?? 'GET';
      if (type === undefined || type === 'model') {
        return method === 'GET' ? send(res, 200, toDocument(this.model)) : send(res, 405, { error: 'method not allowed' });
      }
      if (type === 'routing-instances') {
        if (method !== 'GET') return send(res, 405, { error: 'method not allowed' });
        if (name === undefined) return send(res, 200, this.instances.list());
        const ri = this.instances.get(name);
        return ri ? send(res, 200, ri) : send(res, 404, { error: `no routing instance '${name}'` });
      }
      if (type === 'vpn') return send(res, 200, this.instances.describe().vpn);
      // The agents with an established session (`weft status` counts them against the model's vrouters).
      if (type === 'xmpp-sessions') return method === 'GET' ? send(res, 200, this.xmpp.agentNames().map((agent) => ({ agent }))) : send(res, 405, { error: 'method not allowed' });
      if (type === 'service-chains') {
        if (method !== 'GET') return send(res, 405, { error: 'method not allowed' });
        if (name !== undefined) return send(res, 404, { error: 'service chains are listed whole: GET /api/service-chains' });
        return send(res, 200, this.instances.serviceChains());
      }
      if (!isObjectType(type) || extra !== undefined) return send(res, 404, { error: `no object type '${type}'` });
      if (method === 'GET') {
        if (name === undefined) return send(res, 200, toDocument(objectsOf(this.model, type)));
        const o = findObject(this.model, type, name);
        return o ? send(res, 200, toDocument(o)) : send(res, 404, { error: `no ${type} named '${name}'` });
      }
      let c: ModelChange;
      if (method === 'DELETE') {
        if (name === undefined) return send(res, 405, { error: 'DELETE needs an object name' });
        c = { op: 'delete', type, name };
      } else if (method === 'PUT' || method === 'POST') {
        if (method === 'PUT' && name === undefined) return send(res, 405, { error: 'PUT needs an object name' });
        if (method === 'POST' && name !== undefined) return send(res, 405, { error: 'POST goes to the collection' });
        const body = await readJson(req);
        if (!body.ok) return send(res, 400, { error: body.error, issues: [{ path: '', message: body.error }] });
        if (method === 'POST') {
          const n = (body.value as { name?: unknown } | null)?.name;
          if (typeof n === 'string' && findObject(this.model, type, n)) return send(res, 409, { error: `${type} '${n}' exists; PUT replaces it` });
        }
        c = { op: 'put', type, ...(name !== undefined ? { name } : {}), body: body.value };
      } else return send(res, 405, { error: 'method not allowed' });
      const r = this.change(c);
      if (!r.ok) return send(res, r.status, { error: r.error, ...(r.issues ? { issues: r.issues, message: r.issues.map(formatIssue).join('\n') } : {}) });
      if (c.op === 'delete') return send(res, 200, { deleted: c.name });
      const n = (c.body as { name: string }).name;
      return send(res, method === 'POST' ? 201 : 200, toDocument(findObject(this.model, type, n)));
    } catch (e) {
      send(res, 500, { error: (e as Error).message });
    }
  }
}

function bgpNeighborConfig(b: BgpRouterConfig, holdTime: number, families: readonly BgpNeighborConfig['families'][number][]): BgpNeighborConfig {
  return {
    address: b.address,
    port: b.port,
    remoteAs: b.asn,
    passive: b.passive,
    routeReflectorClient: b.routeReflectorClient,
    families: b.families ? [...b.families] : [...families],
    holdTime: b.holdTime ?? holdTime,
    description: b.name,
  };
}

function readJson(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY_BYTES) {
        resolve({ ok: false, error: `body larger than ${MAX_BODY_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(b);
    });
    req.on('end', () => {
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch (e) {
        resolve({ ok: false, error: `body is not JSON: ${(e as Error).message}` });
      }
    });
    req.on('error', () => resolve({ ok: false, error: 'request aborted' }));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 1)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
