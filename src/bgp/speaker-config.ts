/**
 * Speaker configuration as plain data (JSON today, YAML later), checked once so the rest of
 * the speaker can trust it. Errors name the field by its path, e.g. `neighbors[2].remoteAs`.
 */
import { parseBgpId } from './fsm/config.js';
import { FAMILY_NAMES, isFamilyName, type FamilyName } from './families.js';
import type { ExportPolicy, ImportPolicy } from './policy.js';
import { parseRouteTarget } from '../rib/route-target.js';

export interface NeighborConfig {
  address: string;
  /** The peer's BGP port, for our outgoing connections. Default 179. */
  port?: number;
  remoteAs: number;
  /** Wait for the peer to connect (never dial). */
  passive?: boolean;
  /** Route reflector client (RFC 4456). */
  rrClient?: boolean;
  /** Default: the speaker's families. */
  families?: FamilyName[];
  /** Seconds; default the speaker's. */
  holdTime?: number;
  /** Cease 6/1 once the peer's accepted routes (all families) exceed this. */
  maxPrefix?: number;
  /**
   * Seconds the session stays down after the max-prefix Cease before it reconnects (and
   * accepts the peer's connections again). Without it, it stays down until clearNeighbor or
   * the neighbour is added again.
   */
  maxPrefixRestart?: number;
  /** Advertise Graceful Restart and keep the peer's routes stale across its restarts (RFC 4724). */
  gracefulRestart?: boolean;
  /** Our restart time advertised to this peer, seconds; default the speaker's gracefulRestartTime. */
  gracefulRestartTime?: number;
  /**
   * Asked once per received UPDATE (attribute set) before its paths enter the Loc-RIB; see
   * compileImportRules (policy.ts) for the declarative form. Not applied to the rtc family.
   */
  importPolicy?: ImportPolicy;
  /** Applied after the route reflection rules; route targets filter the VPN families only. */
  exportPolicy?: ExportPolicy;
  /** Source address for our connections to it; default the listen address unless that is a wildcard. */
  localAddress?: string;
  /** First connect-retry interval, seconds (doubles up to 120). Default 5. */
  connectRetry?: number;
}

export interface SpeakerConfig {
  localAs: number;
  routerId: string;
  /** RFC 4456 cluster id; default the router id. */
  clusterId?: string;
  /** Where to accept connections; false: never listen. Port 0 picks a free port. */
  listen?: { address: string; port: number } | false;
  /** Default 90 s. */
  holdTime?: number;
  /** Default ['ipv4-unicast', 'vpnv4']. */
  families?: FamilyName[];
  /** Our restart time in the Graceful Restart capability, seconds. Default 120. */
  gracefulRestartTime?: number;
  /**
   * Advertise the default RT membership route to RTC peers, asking for every VPN route
   * (RFC 4684 section 3.2, what a route reflector needs). Default true.
   */
  rtcDefault?: boolean;
  neighbors?: NeighborConfig[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function isAddress(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  if (s.includes(':')) return /^[0-9a-fA-F:.]+$/.test(s);
  return parseBgpId(s) >= 0;
}

function checkInt(v: unknown, field: string, min: number, max: number, optional: boolean): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `must be an integer in ${min}..${max}`);
}

function checkFamilies(v: unknown, field: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError(field, `must be a non-empty list of ${FAMILY_NAMES.join(', ')}`);
  v.forEach((f, i) => {
    if (typeof f !== 'string' || !isFamilyName(f)) throw new ConfigError(`${field}[${i}]`, `unknown family ${JSON.stringify(f)}`);
  });
}

function checkHold(v: unknown, field: string): void {
  checkInt(v, field, 0, 65535, true);
  if (v === 1 || v === 2) throw new ConfigError(field, 'must be 0 or 3..65535');
}

export function checkNeighbor(n: NeighborConfig, field: string): void {
  if (typeof n !== 'object' || n === null) throw new ConfigError(field, 'must be an object');
  if (!isAddress(n.address)) throw new ConfigError(`${field}.address`, 'must be an IP address');
  checkInt(n.port, `${field}.port`, 1, 65535, true);
  checkInt(n.remoteAs, `${field}.remoteAs`, 1, 0xffffffff, false);
  checkFamilies(n.families, `${field}.families`);
  checkHold(n.holdTime, `${field}.holdTime`);
  checkInt(n.maxPrefix, `${field}.maxPrefix`, 1, 0xffffffff, true);
  checkInt(n.maxPrefixRestart, `${field}.maxPrefixRestart`, 1, 86400, true);
  if (n.maxPrefixRestart !== undefined && n.maxPrefix === undefined) throw new ConfigError(`${field}.maxPrefixRestart`, 'needs maxPrefix');
  checkInt(n.connectRetry, `${field}.connectRetry`, 1, 3600, true);
  checkInt(n.gracefulRestartTime, `${field}.gracefulRestartTime`, 1, 4095, true);
  if (n.importPolicy !== undefined && typeof n.importPolicy !== 'function') throw new ConfigError(`${field}.importPolicy`, 'must be a function');
  checkExportPolicy(n.exportPolicy, `${field}.exportPolicy`);
  if (n.localAddress !== undefined && !isAddress(n.localAddress)) throw new ConfigError(`${field}.localAddress`, 'must be an IP address');
  for (const k of ['passive', 'rrClient', 'gracefulRestart'] as const) {
    if (n[k] !== undefined && typeof n[k] !== 'boolean') throw new ConfigError(`${field}.${k}`, 'must be true or false');
  }
}

function checkExportPolicy(p: ExportPolicy | undefined, field: string): void {
  if (p === undefined) return;
  if (typeof p !== 'object' || p === null) throw new ConfigError(field, 'must be an object');
  if (p.nextHopSelf !== undefined && typeof p.nextHopSelf !== 'boolean') throw new ConfigError(`${field}.nextHopSelf`, 'must be true or false');
  if (p.routeTargets === undefined) return;
  if (!Array.isArray(p.routeTargets)) throw new ConfigError(`${field}.routeTargets`, 'must be a list of route targets');
  p.routeTargets.forEach((rt, i) => {
    try {
      parseRouteTarget(rt);
    } catch {
      throw new ConfigError(`${field}.routeTargets[${i}]`, `not a route target: ${JSON.stringify(rt)}`);
    }
  });
}

/** Throws ConfigError on the first bad field. */
export function checkSpeakerConfig(c: SpeakerConfig): void {
  if (typeof c !== 'object' || c === null) throw new ConfigError('config', 'must be an object');
  checkInt(c.localAs, 'localAs', 1, 0xffffffff, false);
  if (typeof c.routerId !== 'string' || parseBgpId(c.routerId) <= 0) throw new ConfigError('routerId', 'must be a non-zero dotted quad');
  if (c.clusterId !== undefined && parseBgpId(c.clusterId) <= 0) throw new ConfigError('clusterId', 'must be a non-zero dotted quad');
  if (c.listen !== undefined && c.listen !== false) {
    if (!isAddress(c.listen.address)) throw new ConfigError('listen.address', 'must be an IP address');
    checkInt(c.listen.port, 'listen.port', 0, 65535, false);
  }
  checkHold(c.holdTime, 'holdTime');
  checkFamilies(c.families, 'families');
  checkInt(c.gracefulRestartTime, 'gracefulRestartTime', 1, 4095, true);
  if (c.rtcDefault !== undefined && typeof c.rtcDefault !== 'boolean') throw new ConfigError('rtcDefault', 'must be true or false');
  const seen = new Set<string>();
  (c.neighbors ?? []).forEach((n, i) => {
    checkNeighbor(n, `neighbors[${i}]`);
    if (seen.has(n.address)) throw new ConfigError(`neighbors[${i}].address`, `${n.address} is configured twice`);
    seen.add(n.address);
  });
}
