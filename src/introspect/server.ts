/**
 * The control node's BGP introspect: HTTP JSON on node:http, bound to 127.0.0.1:8083 by
 * default (the port Contrail's control node serves its introspect on; loopback because it
 * changes live state and has no authentication).
 *
 *   GET    /bgp/neighbors              every neighbour: state, uptime, counters, capabilities
 *   GET    /bgp/neighbors/<address>    one neighbour (404 if unknown)
 *   POST   /bgp/neighbors              add one: a JSON neighbour as in the YAML (201; 400 naming
 *                                      each bad field by JSON path; 409 if it exists)
 *   DELETE /bgp/neighbors/<address>    remove one (also DELETE /bgp/neighbors {"address": ...})
 *   POST   /bgp/neighbors/<address>/clear  end its max-prefix hold-down now (409 if there is none)
 *   GET    /bgp/rib/<family>[?limit=N] Loc-RIB of ipv4 | vpnv4 | vpnv6 | rtc with every path
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAMILY_NAMES, TABLE_NAMES } from '../bgp/families.js';
import type { FamilyName } from '../bgp/families.js';
import { neighborSchema, resolveNeighbor, toSpeakerNeighbor } from '../config/bgp-speaker.js';
import type { BgpConfig, NeighborConfig } from '../config/bgp-speaker.js';
import { validateJson } from '../config/load.js';
import { ipAddress } from '../config/net.js';
import { object, required } from '../config/schema.js';
import type { ErrorResponse, IntrospectSpeaker, NeighborResponse, RibResponse } from './types.js';

export const DEFAULT_RIB_LIMIT = 10_000;
const MAX_RIB_LIMIT = 10_000_000;
const MAX_BODY_BYTES = 1 << 20;

export interface IntrospectOptions {
  speaker: IntrospectSpeaker;
  /** Global defaults and policies for neighbours added live, and the neighbours configured at start. */
  config: Pick<BgpConfig, 'global' | 'policies' | 'neighbors'>;
}

/** 'ipv4' is what people type; the family's config name works too. */
const FAMILY_BY_PATH: Readonly<Record<string, FamilyName>> = Object.fromEntries([
  ['ipv4', 'ipv4-unicast'],
  ...FAMILY_NAMES.map((f) => [f, f]),
]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponse,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
  }
}

const deleteBody = object({ address: required(ipAddress()) });
const addressParam = ipAddress();

export class IntrospectServer {
  readonly server: http.Server;
  /** The neighbours as configured (file or POST), by address, for what the speaker does not echo. */
  private readonly configured = new Map<string, NeighborConfig>();

  constructor(private readonly opts: IntrospectOptions) {
    for (const n of opts.config.neighbors) this.configured.set(n.address, n);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => send(res, 500, { error: `internal error: ${(e as Error)?.message ?? e}` }));
    });
  }

  /** Resolves with the bound address once listening (port 0 picks a free one). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const { status, body } = await this.route(req);
      send(res, status, body);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      send(res, e.status, e.body, e.headers);
    }
  }

  private async route(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://introspect');
    const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeSegment);
    const method = req.method ?? 'GET';
    if (parts[0] !== 'bgp') {
      if (parts.length === 0) return { status: 200, body: { endpoints: ['/bgp/neighbors', '/bgp/neighbors/<address>', '/bgp/rib/<ipv4|vpnv4|vpnv6|rtc>'] } };
      throw notFound(url.pathname);
    }
    if (parts[1] === 'neighbors' && parts.length === 2) {
      if (method === 'GET') return { status: 200, body: this.neighbors() };
      if (method === 'POST') return { status: 201, body: this.addNeighbor(await readJson(req)) };
      if (method === 'DELETE') {
        const r = validateJson(await readJson(req), deleteBody);
        if (!r.ok) throw invalid('invalid request body', r.issues);
        return { status: 200, body: this.removeNeighbor(r.value.address) };
      }
      throw notAllowed('GET, POST, DELETE');
    }
    if (parts[1] === 'neighbors' && parts.length === 3) {
      const address = parseAddress(parts[2]!);
      if (method === 'GET') {
        const n = this.neighbors().find((x) => x.address === address);
        if (!n) throw new HttpError(404, { error: `no neighbor ${address}` });
        return { status: 200, body: n };
      }
      if (method === 'DELETE') return { status: 200, body: this.removeNeighbor(address) };
      throw notAllowed('GET, DELETE');
    }
    if (parts[1] === 'neighbors' && parts.length === 4 && parts[3] === 'clear') {
      if (method !== 'POST') throw notAllowed('POST');
      const address = parseAddress(parts[2]!);
      if (!this.opts.speaker.neighborsSnapshot().some((n) => n.address === address)) throw new HttpError(404, { error: `no neighbor ${address}` });
      if (this.opts.speaker.clearNeighbor?.(address) !== true) throw new HttpError(409, { error: `neighbor ${address} is not held down` });
      return { status: 200, body: { cleared: address } };
    }
    if (parts[1] === 'rib' && parts.length === 3) {
      if (method !== 'GET') throw notAllowed('GET');
      const family = FAMILY_BY_PATH[parts[2]!];
      if (!family) throw new HttpError(404, { error: `no address family '${parts[2]}' (ipv4, vpnv4, vpnv6, rtc)` });
      return { status: 200, body: this.rib(family, parseLimit(url.searchParams.get('limit'))) };
    }
    throw notFound(url.pathname);
  }

  private neighbors(): NeighborResponse[] {
    return this.opts.speaker.neighborsSnapshot().map((n) => {
      const config = this.configured.get(n.address);
      if (!config) return n;
      return { ...n, ...(config.description !== undefined ? { description: config.description } : {}), config };
    });
  }

  private addNeighbor(body: unknown): NeighborResponse {
    const r = validateJson(body, neighborSchema);
    if (!r.ok) throw invalid('invalid neighbor', r.issues);
    const spec = r.value;
    const policies = this.opts.config.policies;
    if (spec.policy !== undefined && !Object.prototype.hasOwnProperty.call(policies, spec.policy)) {
      throw invalid('invalid neighbor', [{ path: 'policy', message: `no policy named '${spec.policy}' in policies` }]);
    }
    if (this.configured.has(spec.address) || this.opts.speaker.neighborsSnapshot().some((n) => n.address === spec.address)) {
      throw new HttpError(409, { error: `neighbor ${spec.address} exists` });
    }
    const config = resolveNeighbor(spec, this.opts.config.global);
    try {
      this.opts.speaker.addNeighbor(toSpeakerNeighbor(config, policies));
    } catch (e) {
      throw new HttpError(400, { error: `speaker refused neighbor ${spec.address}: ${(e as Error).message}` });
    }
    this.configured.set(config.address, config);
    const snap = this.neighbors().find((n) => n.address === config.address);
    return snap ?? { address: config.address, remoteAs: config.remoteAs, state: 'Idle', uptimeSeconds: undefined, received: { update: 0, total: 0 }, sent: { update: 0, total: 0 }, prefixesReceived: 0, prefixesAdvertised: {}, config };
  }

  private removeNeighbor(address: string): { removed: string } {
    const removed = this.opts.speaker.removeNeighbor(address);
    const known = this.configured.delete(address);
    if (!removed && !known) throw new HttpError(404, { error: `no neighbor ${address}` });
    return { removed: address };
  }

  private rib(family: FamilyName, limit: number): RibResponse {
    // One more than asked tells whether there is more without counting the whole table.
    const routes = this.opts.speaker.rib(family, limit + 1);
    const truncated = routes.length > limit;
    if (truncated) routes.length = limit;
    return { family, table: TABLE_NAMES[family], routes, truncated };
  }
}

export async function startIntrospect(opts: IntrospectOptions & { address?: string; port?: number }): Promise<{ server: IntrospectServer; url: string }> {
  const s = new IntrospectServer(opts);
  const a = await s.listen(opts.port ?? 8083, opts.address ?? '127.0.0.1');
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { server: s, url: `http://${host}:${a.port}` };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function notFound(path: string): HttpError {
  return new HttpError(404, { error: `no such resource: ${path}` });
}

function notAllowed(allow: string): HttpError {
  return new HttpError(405, { error: `method not allowed (allowed: ${allow})` }, { allow });
}

function invalid(error: string, issues: { path: string; message: string }[]): HttpError {
  return new HttpError(400, { error, issues: issues.map((i) => ({ path: i.path, message: i.message })) });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, { error: `bad URL encoding: ${s}` });
  }
}

/** Normalised like the config (IPv6 in RFC 5952 form), so any spelling finds the neighbour. */
function parseAddress(s: string): string {
  const r = validateJson(s, addressParam);
  if (!r.ok) throw new HttpError(404, { error: `no neighbor ${s}: not an IP address` });
  return r.value;
}

function parseLimit(s: string | null): number {
  if (s === null) return DEFAULT_RIB_LIMIT;
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > MAX_RIB_LIMIT) throw new HttpError(400, { error: `limit must be an integer 1..${MAX_RIB_LIMIT}` });
  return n;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim().length === 0) throw new HttpError(400, { error: 'request body must be a JSON object' });
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, { error: `request body is not valid JSON: ${(e as Error).message}` });
  }
}
