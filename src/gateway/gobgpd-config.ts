/**
 * gobgpd's configuration for the SDN gateway (book lab: camaro, the MX): iBGP VPNv4 with the
 * control node(s) and one VRF whose route targets decide what the gateway forwards to.
 *
 * The keys are gobgpd 3.x's (internal/pkg/config/bgp_configs.go of v3.10):
 * `[[vrfs]] [vrfs.config] name/id/rd/import-rt-list/export-rt-list` (both-rt-list exists too;
 * separate lists say exactly what was configured), `[global.use-multiple-paths.config]` so
 * equal paths of one route are all marked best, and the neighbour keys of
 * docs/interop-recipes.md section 1.1. The gRPC API address is not a TOML key but gobgpd's
 * `--api-hosts` flag: `gobgpdArgs` gives the whole command line.
 *
 * Pure: strings in, text out. Values are checked here because they end up inside TOML strings
 * and a command line; a bad one throws TypeError naming it.
 */
import { parseIpv4 } from '../../codecs/util/writer.js';
import { formatRd, parseRd } from '../../codecs/bgp/rd.js';
import { formatExtCommunity, parseRouteTarget } from '../rib/route-target.js';

export interface GobgpdNeighbor {
  address: string;
  /** Default: the local AS (iBGP, as in the book). */
  peerAs?: number;
  /** The peer's BGP port when gobgpd dials it; default 179. */
  remotePort?: number;
  /** Wait for the peer to connect. */
  passive?: boolean;
}

export interface GobgpdVrf {
  name: string;
  /** gobgpd's numeric VRF id (also its zebra table id); default 1. */
  id?: number;
  rd: string;
  /** `target:500:500` or `500:500`. */
  importRts: readonly string[];
  exportRts: readonly string[];
}

export interface GobgpdOptions {
  routerId: string;
  as: number;
  /** Source address of the BGP sessions (the gateway's loopback, 192.168.0.204). */
  localAddress: string;
  /** BGP listen port; -1: do not listen. Default 179. */
  listenPort?: number;
  /** Listen addresses; default [localAddress]. */
  listenAddresses?: readonly string[];
  neighbors: readonly GobgpdNeighbor[];
  /** gobgp afi-safi names; default ['l3vpn-ipv4-unicast'] (VPNv4, what the control node speaks). */
  families?: readonly string[];
  vrfs: readonly GobgpdVrf[];
  /** Keep every equal best path (ECMP towards several compute nodes). Default true. */
  multipath?: boolean;
  /** Seconds between connection attempts; default 5. */
  connectRetry?: number;
  /** gRPC API address for `--api-hosts` (gobgpdArgs only). Default 127.0.0.1. */
  apiAddress?: string;
  /** gRPC API port for `--api-hosts` and every `gobgp -p`. Default 50051. */
  apiPort?: number;
}

export const DEFAULT_GOBGP_API_PORT = 50051;
const FAMILY = /^[a-z0-9-]+$/;
const VRF_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The gobgp spelling of a route target: no `target:` prefix, no `L` marker. */
export function gobgpRouteTarget(rt: string): string {
  let text: string;
  try {
    text = formatExtCommunity(parseRouteTarget(rt));
  } catch {
    throw new TypeError(`not a route target: ${rt}`);
  }
  return text.slice('target:'.length).replace('L:', ':');
}

function ipv4(what: string, s: string): string {
  try {
    const b = parseIpv4(s);
    const text = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    if (text === s) return s;
  } catch {
    // reported below
  }
  throw new TypeError(`${what}: not an IPv4 address: ${JSON.stringify(s)}`);
}

function integer(what: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`${what}: must be an integer ${min}..${max}, got ${v}`);
  return v;
}

function rd(s: string): string {
  try {
    return formatRd(parseRd(s));
  } catch {
    throw new TypeError(`not a route distinguisher: ${JSON.stringify(s)}`);
  }
}

/** TOML basic strings escape like JSON for everything a checked value can hold. */
const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

export function gobgpdConfig(o: GobgpdOptions): string {
  const as = integer('as', o.as, 1, 0xffffffff);
  const local = ipv4('local-address', o.localAddress);
  const listen = (o.listenAddresses ?? [local]).map((a) => ipv4('listen address', a));
  const families = o.families ?? ['l3vpn-ipv4-unicast'];
  for (const f of families) if (!FAMILY.test(f)) throw new TypeError(`not a gobgp afi-safi name: ${JSON.stringify(f)}`);
  const retry = integer('connect-retry', o.connectRetry ?? 5, 1, 3600);
  let t = `# gobgpd 3.x configuration of the SDN gateway, written by weft (src/gateway/gobgpd-config.ts)\n`;
  t += `[global.config]\n  as = ${as}\n  router-id = ${q(ipv4('router-id', o.routerId))}\n`;
  t += `  port = ${integer('listen port', o.listenPort ?? 179, -1, 65535)}\n  local-address-list = ${list(listen)}\n`;
  if (o.multipath ?? true) t += `[global.use-multiple-paths.config]\n  enabled = true\n`;
  for (const n of o.neighbors) {
    t += `\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = ${q(ipv4('neighbor', n.address))}\n`;
    t += `    peer-as = ${integer('peer-as', n.peerAs ?? as, 1, 0xffffffff)}\n`;
    t += `  [neighbors.transport.config]\n    local-address = ${q(local)}\n`;
    if (n.remotePort !== undefined) t += `    remote-port = ${integer('remote-port', n.remotePort, 1, 65535)}\n`;
    if (n.passive) t += `    passive-mode = true\n`;
    t += `  [neighbors.timers.config]\n    connect-retry = ${retry}\n`;
    for (const f of families) t += `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = ${q(f)}\n`;
  }
  const ids = new Set<number>();
  for (const v of o.vrfs) {
    if (!VRF_NAME.test(v.name)) throw new TypeError(`not a VRF name: ${JSON.stringify(v.name)}`);
    const id = integer('vrf id', v.id ?? 1, 1, 0xffffffff);
    if (ids.has(id)) throw new TypeError(`vrf id ${id} used twice`);
    ids.add(id);
    t += `\n[[vrfs]]\n  [vrfs.config]\n    name = ${q(v.name)}\n    id = ${id}\n    rd = ${q(rd(v.rd))}\n`;
    t += `    import-rt-list = ${list(v.importRts.map(gobgpRouteTarget))}\n`;
    t += `    export-rt-list = ${list(v.exportRts.map(gobgpRouteTarget))}\n`;
  }
  return t;
}

/**
 * gobgpd's argv after the binary: the config file, plain-text logs, the gRPC API on one
 * address instead of every address (the default `:50051`), no pprof listener.
 */
export function gobgpdArgs(o: Pick<GobgpdOptions, 'apiAddress' | 'apiPort'>, configFile: string): string[] {
  const addr = ipv4('api address', o.apiAddress ?? '127.0.0.1');
  const port = integer('api port', o.apiPort ?? DEFAULT_GOBGP_API_PORT, 1, 65535);
  return ['-f', configFile, '-p', '--api-hosts', `${addr}:${port}`, '--pprof-disable'];
}
