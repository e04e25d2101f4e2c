/**
 * The agent's vRouter tables over its introspect API, as route handlers an HTTP server mounts:
 * each takes the request's query and returns the JSON body (a snapshot from
 * src/vrouter/snapshot.ts), or throws an IntrospectRouteError carrying the HTTP status.
 *
 *   GET /vif[?index=N]                 vif --list | --get N
 *   GET /rt?vrf=N[&get=a.b.c.d[/len]]  rt --dump N | --get <prefix> --vrf N
 *   GET /nh[?id=N]                     nh --list | --get N (a Composite with its members)
 *   GET /mpls[?label=N]                mpls --dump | --get N
 *   GET /flow[?match=ip[:port]]        flow -l | --match ip[:port]
 */
import { ipv4ToInt } from '../vrouter/addr.js';
import type { VRouter } from '../vrouter/router.js';
import { flowSnapshot, mplsSnapshot, nhSnapshot, rtSnapshot, vifSnapshot } from '../vrouter/snapshot.js';

/** A handler's refusal: the server answers `status` with `{ "error": message }`. */
export class IntrospectRouteError extends Error {
  override readonly name = 'IntrospectRouteError';

  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** The query as URLSearchParams or as a plain name -> value object. */
export type IntrospectQuery = URLSearchParams | Readonly<Record<string, string>>;
export type IntrospectHandler = (query: IntrospectQuery) => unknown;

function param(q: IntrospectQuery, name: string): string | undefined {
  if (q instanceof URLSearchParams) return q.get(name) ?? undefined;
  return Object.prototype.hasOwnProperty.call(q, name) ? q[name] : undefined;
}

/** A decimal integer in [0, max]; absent -> undefined. */
function intParam(q: IntrospectQuery, name: string, max: number): number | undefined {
  const s = param(q, name);
  if (s === undefined) return undefined;
  const n = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
  if (!(n <= max)) throw new IntrospectRouteError(400, `${name} must be an integer from 0 to ${max}, not '${s}'`);
  return n;
}

function ipv4Param(s: string, name: string): void {
  try {
    ipv4ToInt(s);
  } catch {
    throw new IntrospectRouteError(400, `${name}: not an IPv4 address: '${s}'`);
  }
}

/** `ip[:port]` as `flow --match` takes it. */
export function parseFlowMatch(s: string): { ip: string; port?: number } {
  const colon = s.indexOf(':');
  const ip = colon < 0 ? s : s.slice(0, colon);
  ipv4Param(ip, 'match');
  if (colon < 0) return { ip };
  const p = s.slice(colon + 1);
  const port = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
  if (!(port <= 65535)) throw new IntrospectRouteError(400, `match: bad port '${p}'`);
  return { ip, port };
}

/** The routes, by path; `agent` is an Agent or anything else holding a VRouter. */
export function agentIntrospectRoutes(agent: { readonly router: VRouter }): Record<string, IntrospectHandler> {
  const router = agent.router;
  return {
    '/vif': (q) => {
      const index = intParam(q, 'index', 0xffff);
      const s = vifSnapshot(router, index);
      if (index !== undefined && s.vifs.length === 0) throw new IntrospectRouteError(404, `no vif0/${index}`);
      return s;
    },
    '/rt': (q) => {
      const vrf = intParam(q, 'vrf', 0xffff);
      if (vrf === undefined) throw new IntrospectRouteError(400, 'vrf is required');
      const get = param(q, 'get');
      if (get !== undefined) {
        const slash = get.indexOf('/');
        ipv4Param(slash < 0 ? get : get.slice(0, slash), 'get');
        if (slash >= 0 && !/^(\d|[12]\d|3[0-2])$/.test(get.slice(slash + 1))) throw new IntrospectRouteError(400, `get: bad prefix length in '${get}'`);
      }
      return rtSnapshot(router, vrf, get);
    },
    '/nh': (q) => {
      const id = intParam(q, 'id', 0xffffffff);
      const s = nhSnapshot(router, id);
      if (id !== undefined && s.nexthops.length === 0) throw new IntrospectRouteError(404, `no next hop ${id}`);
      return s;
    },
    '/mpls': (q) => {
      const label = intParam(q, 'label', 0xfffff);
      const s = mplsSnapshot(router, label);
      if (label !== undefined && s.labels.length === 0) throw new IntrospectRouteError(404, `label ${label} is not in the input label map`);
      return s;
    },
    '/flow': (q) => {
      const m = param(q, 'match');
      return flowSnapshot(router, m === undefined ? undefined : parseFlowMatch(m));
    },
  };
}
