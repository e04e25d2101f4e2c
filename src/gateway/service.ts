/**
 * A running SDN gateway data plane (`weft gateway`): the I/O around GatewayForwarder.
 *
 *   TAP weft-gw0 read  -> fromInternet -> raw IPPROTO_RAW socket (whole outer IPv4 written here,
 *                                         so its source is the loopback 192.168.0.204 whatever
 *                                         interface the kernel routes it out of)
 *   raw GRE socket     -> fromFabric   -> TAP write -> kernel -> table 100 -> Internet host
 *   every poll-interval: `gobgp global rib -a vpnv4 -j` -> RouteSync -> forwarder routes,
 *                        and the own advertisements added again if GoBGP lost them
 *
 * HTTP introspect (default 127.0.0.1:8086): GET /status (counters, gobgp state, advertised
 * routes), GET /routes (the VRF routes with per-path packet counters), GET /drops.
 *
 * Nothing escapes the packet handlers: failures are counted, and the last ones kept.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ipv4ToU32 } from '../vrouter/kernel/native.js';
import { openGreSocket, RawIpSocket } from '../vrouter/kernel/raw-ip.js';
import { Tap } from '../vrouter/kernel/tap.js';
import { advertisedPrefixes, type GatewayConfig } from './config.js';
import { GatewayForwarder } from './forwarder.js';
import { GobgpCli, type VpnRoute } from './gobgp-cli.js';
import { ensurePolicyRouting, prepareTap } from './kernel.js';
import { RouteSync } from './route-sync.js';

/** IPPROTO_RAW: a send-only raw socket that implies IP_HDRINCL. */
const IPPROTO_RAW = 255;
const WITHDRAW_TIMEOUT_MS = 3000;

export interface IoStats {
  tapFull: number;
  sendShort: number;
  sendErrors: number;
  handlerErrors: number;
  lastErrors: string[];
}

export interface GobgpState {
  api: string;
  polls: number;
  failures: number;
  lastError?: string;
  lastPollAt?: string;
  skippedEntries: number;
  readvertised: number;
}

export class GatewayService {
  private forwarderOrUndef: GatewayForwarder | undefined;
  private tap: Tap | undefined;
  private gre: RawIpSocket | undefined;
  private raw: RawIpSocket | undefined;
  private server: http.Server | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private tapMac = '';
  readonly gobgp: GobgpCli;
  readonly sync: RouteSync;
  readonly advertise: VpnRoute[];
  readonly io: IoStats = { tapFull: 0, sendShort: 0, sendErrors: 0, handlerErrors: 0, lastErrors: [] };
  readonly gobgpState: GobgpState;
  private advertised = false;
  url = '';

  constructor(
    readonly config: GatewayConfig,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.gobgp = new GobgpCli({ binary: config.gobgp.binary, address: config.gobgp.address, port: config.gobgp.port });
    this.gobgpState = { api: this.gobgp.target, polls: 0, failures: 0, skippedEntries: 0, readvertised: 0 };
    this.advertise = advertisedPrefixes(config).map((prefix) => ({
      prefix,
      label: config.advertise.label,
      rd: config.vrf.rd,
      rts: config.vrf.export,
      nexthop: config.localAddress,
      encap: config.advertise.encapsulation,
    }));
    this.sync = new RouteSync({ importRts: config.vrf.import, advertise: this.advertise });
  }

  get forwarder(): GatewayForwarder {
    if (!this.forwarderOrUndef) throw new Error('gateway not started');
    return this.forwarderOrUndef;
  }

  /** TAP and kernel state, sockets, HTTP, then the first poll (gobgpd may come later: polls go on). */
  async start(): Promise<void> {
    const c = this.config;
    this.tap = Tap.open(c.tap.name);
    const t = await prepareTap({ name: c.tap.name, mtu: c.tap.mtu });
    this.tapMac = t.mac;
    const pr = await ensurePolicyRouting({
      table: c.internet.table,
      priority: c.internet.rulePriority,
      interface: c.internet.interface,
      networks: c.internet.networks,
      ...(c.internet.gateway ? { gateway: c.internet.gateway } : {}),
      floatingIpPools: c.internet.floatingIpPools,
      tap: c.tap.name,
    });
    for (const line of [...t.done, ...pr]) this.log(`kernel: ${line}`);
    this.forwarderOrUndef = new GatewayForwarder({ localAddress: c.localAddress, label: c.advertise.label, accept: advertisedPrefixes(c), tapMac: t.mac });
    this.gre = openGreSocket({ batch: 64 });
    this.raw = RawIpSocket.open(IPPROTO_RAW);
    this.tap.start(
      (frames) => this.fromTap(frames),
      (err) => this.fail(`TAP ${c.tap.name}: ${err.message}`),
    );
    this.gre.start(
      (datagrams) => this.fromGre(datagrams),
      (err) => this.fail(`GRE socket: ${err.message}`),
    );
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(c.introspect.port, c.introspect.address, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.url = `http://${a.address}:${a.port}`;
    await this.poll();
    this.schedule();
  }

  /** Withdraws the own routes (bounded wait), then closes everything; the TAP goes with its fd. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.polling;
    if (this.advertised) {
      const withdrawals = Promise.all(
        this.advertise.map((r) =>
          this.gobgp.delVpnRoute(r).then(
            () => this.log(`withdrew ${r.prefix} label ${r.label} rd ${r.rd}`),
            (e: Error) => this.log(`withdraw ${r.prefix}: ${e.message}`),
          ),
        ),
      );
      await Promise.race([withdrawals, new Promise((r) => setTimeout(r, WITHDRAW_TIMEOUT_MS).unref())]);
    }
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    this.tap?.stop();
    this.gre?.stop();
    this.tap?.close();
    this.gre?.close();
    this.raw?.close();
  }

  // ---- routes from GoBGP ------------------------------------------------------------------

  private schedule(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll().finally(() => this.schedule());
    }, this.config.gobgp.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    const s = this.gobgpState;
    let text: string;
    try {
      text = await this.gobgp.vpnRib();
    } catch (e) {
      s.failures++;
      const msg = (e as Error).message;
      if (msg !== s.lastError) this.log(`gobgp: ${msg} (retrying every ${this.config.gobgp.pollIntervalMs} ms)`);
      s.lastError = msg;
      return;
    }
    if (s.lastError !== undefined) this.log(`gobgp: reachable again at ${this.gobgp.target}`);
    delete s.lastError;
    s.polls++;
    s.lastPollAt = new Date().toISOString();
    if (this.stopped) return;
    const r = this.sync.onRib(text);
    s.skippedEntries = r.skipped;
    if (r.routes) {
      this.forwarder.setRoutes(r.routes);
      const shown = r.routes.map((e) => `${e.prefix} -> ${e.paths.map((p) => `${p.nexthop} label ${p.label}`).join(' | ')}`);
      this.log(`VRF ${this.config.vrf.name}: ${r.routes.length} route(s)${shown.length ? `: ${shown.slice(0, 8).join('; ')}${shown.length > 8 ? '; ...' : ''}` : ''}`);
    }
    for (const a of r.readvertise) {
      try {
        await this.gobgp.addVpnRoute(a);
        if (this.advertised) s.readvertised++;
        this.log(`advertised ${a.prefix} label ${a.label} rd ${a.rd} next hop ${a.nexthop} ${a.rts.join(' ')}${a.encap === 'none' ? '' : ` encap ${a.encap}`}`);
      } catch (e) {
        this.log(`advertise ${a.prefix}: ${(e as Error).message}`);
        return;
      }
    }
    this.advertised = true;
  }

  // ---- packets ----------------------------------------------------------------------------

  private fromTap(frames: Uint8Array[]): void {
    const f = this.forwarderOrUndef;
    if (!f || !this.raw) return;
    const out: Uint8Array[] = [];
    const dsts: number[] = [];
    for (const frame of frames) {
      try {
        const a = f.fromInternet(frame);
        if (a.type === 'fabric') {
          out.push(a.packet);
          dsts.push(this.dstU32(a.dst));
        }
      } catch (e) {
        this.io.handlerErrors++;
        this.fail(`from the Internet: ${(e as Error).message}`);
      }
    }
    if (out.length === 0) return;
    try {
      const sent = this.raw.sendMany(out, dsts);
      if (sent < out.length) this.io.sendShort += out.length - sent;
    } catch (e) {
      this.io.sendErrors++;
      this.fail(`MPLSoGRE send: ${(e as Error).message}`);
    }
  }

  private fromGre(datagrams: Uint8Array[]): void {
    const f = this.forwarderOrUndef;
    if (!f || !this.tap) return;
    const out: Uint8Array[] = [];
    for (const d of datagrams) {
      try {
        const a = f.fromFabric(d);
        if (a.type === 'tap') out.push(a.frame);
      } catch (e) {
        this.io.handlerErrors++;
        this.fail(`from the fabric: ${(e as Error).message}`);
      }
    }
    if (out.length === 0) return;
    const n = this.tap.writeMany(out);
    if (n < out.length) this.io.tapFull += out.length - n;
  }

  private readonly dstCache = new Map<string, number>();

  private dstU32(ip: string): number {
    let v = this.dstCache.get(ip);
    if (v === undefined) {
      v = ipv4ToU32(ip);
      if (this.dstCache.size > 4096) this.dstCache.clear();
      this.dstCache.set(ip, v);
    }
    return v;
  }

  private fail(message: string): void {
    const l = this.io.lastErrors;
    l.push(message);
    if (l.length > 16) l.shift();
    this.log(message);
  }

  // ---- HTTP -------------------------------------------------------------------------------

  status(): Record<string, unknown> {
    const c = this.config;
    const f = this.forwarderOrUndef;
    return {
      name: c.name,
      localAddress: c.localAddress,
      vrf: { name: c.vrf.name, rd: c.vrf.rd, import: c.vrf.import, export: c.vrf.export },
      tap: { name: c.tap.name, mac: this.tapMac, mtu: c.tap.mtu },
      label: c.advertise.label,
      advertised: this.advertise.map((a) => ({ prefix: a.prefix, label: a.label, rd: a.rd, nexthop: a.nexthop, rts: a.rts, encap: a.encap })),
      gobgp: this.gobgpState,
      routes: f?.routes().length ?? 0,
      counters: f?.counters,
      io: this.io,
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    let status = 200;
    let body: unknown;
    if (req.method !== 'GET') {
      status = 405;
      body = { error: 'method not allowed' };
    } else {
      switch (url.pathname.replace(/\/+$/, '') || '/') {
        case '/':
          body = { endpoints: ['/status', '/routes', '/drops'] };
          break;
        case '/status':
          body = this.status();
          break;
        case '/routes':
          body = { vrf: this.config.vrf.name, routes: this.forwarderOrUndef?.routes() ?? [] };
          break;
        case '/drops':
          body = { drops: this.forwarderOrUndef?.counters.drops ?? {}, last: this.forwarderOrUndef?.counters.lastDrops ?? [], io: this.io };
          break;
        default:
          status = 404;
          body = { error: `no ${url.pathname}` };
      }
    }
    const text = `${JSON.stringify(body, null, 1)}\n`;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
