/**
 * The BGP speaker's YAML configuration (`weft control --config`), documented field by field in
 * docs/config-bgp.md. The same neighbour schema validates `POST /bgp/neighbors` bodies.
 */
import type { FamilyName } from '../bgp/families.js';
import { FAMILY_NAMES } from '../bgp/families.js';
import type { NeighborConfig as SpeakerNeighborConfig, SpeakerConfig } from '../bgp/speaker-config.js';
import { compileImportRules } from '../bgp/policy.js';
import { ipAddress, ipFamilyOf, routeTarget, routerId } from './net.js';
import {
  bool,
  defaultsOf,
  int,
  list,
  object,
  oneOf,
  optional,
  record,
  refine,
  required,
  string,
  textOf,
  transform,
  withDefault,
} from './schema.js';
import type { Refinement, Schema } from './schema.js';

export const DEFAULT_INTROSPECT_PORT = 8083;
export const DEFAULT_FAMILIES: readonly FamilyName[] = ['ipv4-unicast', 'vpnv4'];

/* ---------- types (camelCase forms of the YAML keys) ---------- */

export interface MaxPrefix {
  limit: number;
  /** Seconds after the Cease before reconnecting; absent: stay down until cleared or re-added. */
  restart?: number;
}

export interface ImportRule {
  /** Matches routes carrying any of these; absent: every route. */
  routeTargets?: string[];
  action: 'accept' | 'reject';
  /** Set on accepted routes. */
  localPref?: number;
}

export interface ExportPolicy {
  /** Advertise only routes carrying any of these; absent: every route. */
  routeTargets?: string[];
  nextHopSelf: boolean;
}

export interface PolicyConfig {
  /** First matching rule wins; a route no rule matches is accepted. */
  import?: ImportRule[];
  export?: ExportPolicy;
}

/** A neighbour as written; what `POST /bgp/neighbors` takes. */
export interface NeighborSpec {
  address: string;
  port: number;
  remoteAs: number;
  description?: string;
  passive: boolean;
  routeReflectorClient: boolean;
  families?: FamilyName[];
  holdTime?: number;
  maxPrefix?: MaxPrefix;
  gracefulRestart?: { restartTime: number };
  localAddress?: string;
  policy?: string;
}

/** A neighbour with the global defaults applied. */
export interface NeighborConfig extends NeighborSpec {
  families: FamilyName[];
  holdTime: number;
}

export interface GlobalConfig {
  localAs: number;
  routerId: string;
  clusterId: string;
  listen: { address: string; port: number };
  holdTime: number;
  families: FamilyName[];
}

export interface BgpConfig {
  global: GlobalConfig;
  introspect: { address: string; port: number };
  neighbors: NeighborConfig[];
  policies: Record<string, PolicyConfig>;
}

/* ---------- schemas ---------- */

const asNumber = int(1, 0xffffffff);
const port = int(1, 65535);
const bindPort = int(0, 65535);

function holdTime(): Schema<number> {
  return refine(int(0, 65535), (v, r) => {
    if (v === 1 || v === 2) r.report([], 'must be 0 or 3..65535');
  });
}

const families = list(oneOf(FAMILY_NAMES), { min: 1, unique: (f) => f });
const routeTargets = list(routeTarget(), { min: 1, unique: (rt) => rt });

const importRule: Schema<ImportRule> = refine(
  object({
    'route-targets': optional(routeTargets),
    action: withDefault(oneOf(['accept', 'reject'] as const), 'accept' as const),
    'local-pref': optional(int(0, 0xffffffff)),
  }),
  (rule, r) => {
    if (rule.action === 'reject' && rule.localPref !== undefined) r.report(['local-pref'], 'only applies to accepted routes');
  },
);

const policy: Schema<PolicyConfig> = object({
  import: optional(list(importRule)),
  export: optional(
    object({
      'route-targets': optional(routeTargets),
      'next-hop-self': withDefault(bool(), false),
    }),
  ),
});

const policyName = textOf('a policy name (letters, digits, . _ -)', (s) => (/^[A-Za-z0-9_.-]{1,64}$/.test(s) ? s : undefined));

function checkLocalAddress(n: NeighborSpec, r: Refinement): void {
  if (n.localAddress !== undefined && ipFamilyOf(n.localAddress) !== ipFamilyOf(n.address)) {
    r.report(['local-address'], `must be an ${ipFamilyOf(n.address) === 'ipv4' ? 'IPv4' : 'IPv6'} address like the neighbor's`);
  }
}

export const neighborSchema: Schema<NeighborSpec> = refine(
  object({
    address: required(ipAddress()),
    port: withDefault(port, 179),
    'remote-as': required(asNumber),
    description: optional(string({ maxLength: 256 })),
    passive: withDefault(bool(), false),
    'route-reflector-client': withDefault(bool(), false),
    families: optional(families),
    'hold-time': optional(holdTime()),
    'max-prefix': optional(object({ limit: required(asNumber), restart: optional(int(1, 86400)) })),
    // RFC 4724: the restart time field has 12 bits.
    'graceful-restart': optional(object({ 'restart-time': withDefault(int(1, 4095), 120) })),
    'local-address': optional(ipAddress()),
    policy: optional(policyName),
  }),
  checkLocalAddress,
);

const globalSchema: Schema<GlobalConfig> = transform(
  object({
    'local-as': required(asNumber),
    'router-id': required(routerId()),
    'cluster-id': optional(routerId()),
    listen: defaultsOf(object({ address: withDefault(ipAddress(), '0.0.0.0'), port: withDefault(bindPort, 179) })),
    'hold-time': withDefault(holdTime(), 90),
    families: withDefault(families, () => [...DEFAULT_FAMILIES]),
  }),
  (g) => ({ ...g, clusterId: g.clusterId ?? g.routerId }),
);

/** Fills a neighbour's defaults from the global section. */
export function resolveNeighbor(n: NeighborSpec, g: Pick<GlobalConfig, 'holdTime' | 'families'>): NeighborConfig {
  return { ...n, families: n.families ?? [...g.families], holdTime: n.holdTime ?? g.holdTime };
}

export const bgpConfigSchema: Schema<BgpConfig> = transform(
  refine(
    object({
      global: required(globalSchema),
      introspect: defaultsOf(
        object({ address: withDefault(ipAddress(), '127.0.0.1'), port: withDefault(bindPort, DEFAULT_INTROSPECT_PORT) }),
      ),
      neighbors: withDefault(list(neighborSchema), () => []),
      policies: withDefault(record(policy, { key: policyName }), () => ({})),
    }),
    (c, r) => {
      const first = new Map<string, number>();
      c.neighbors.forEach((n, i) => {
        const j = first.get(n.address);
        if (j !== undefined) r.report(['neighbors', i, 'address'], `${n.address} is already neighbors[${j}]`);
        else first.set(n.address, i);
        if (n.policy !== undefined && !Object.prototype.hasOwnProperty.call(c.policies, n.policy)) {
          r.report(['neighbors', i, 'policy'], `no policy named '${n.policy}' in policies`);
        }
      });
    },
  ),
  (c) => ({ ...c, neighbors: c.neighbors.map((n) => resolveNeighbor(n, c.global)) }),
);

/**
 * The speaker's own config (src/bgp/speaker-config.ts) from this one, policies compiled into
 * the neighbours' hooks. Not carried, because the speaker has no place for it: description.
 */
export function toSpeakerConfig(c: BgpConfig): SpeakerConfig {
  // The first neighbour's restart time is the speaker-wide one; others differing carry their own.
  const gr = c.neighbors.find((n) => n.gracefulRestart)?.gracefulRestart;
  return {
    localAs: c.global.localAs,
    routerId: c.global.routerId,
    clusterId: c.global.clusterId,
    listen: { address: c.global.listen.address, port: c.global.listen.port },
    holdTime: c.global.holdTime,
    families: [...c.global.families],
    ...(gr ? { gracefulRestartTime: gr.restartTime } : {}),
    neighbors: c.neighbors.map((n) => toSpeakerNeighbor(n, c.policies, gr?.restartTime)),
  };
}

/**
 * `policies` should hold the neighbour's policy when it names one (the schema checks that for
 * whole configs; a name it lacks applies nothing); `speakerRestartTime` is the speaker's
 * gracefulRestartTime, when set.
 */
export function toSpeakerNeighbor(n: NeighborConfig, policies: Readonly<Record<string, PolicyConfig>> = {}, speakerRestartTime?: number): SpeakerNeighborConfig {
  const out: SpeakerNeighborConfig = {
    address: n.address,
    port: n.port,
    remoteAs: n.remoteAs,
    passive: n.passive,
    rrClient: n.routeReflectorClient,
    families: [...n.families],
    holdTime: n.holdTime,
    gracefulRestart: n.gracefulRestart !== undefined,
  };
  if (n.maxPrefix) {
    out.maxPrefix = n.maxPrefix.limit;
    if (n.maxPrefix.restart !== undefined) out.maxPrefixRestart = n.maxPrefix.restart;
  }
  if (n.localAddress !== undefined) out.localAddress = n.localAddress;
  const rt = n.gracefulRestart?.restartTime;
  if (rt !== undefined && rt !== speakerRestartTime) out.gracefulRestartTime = rt;
  const p = n.policy !== undefined && Object.prototype.hasOwnProperty.call(policies, n.policy) ? policies[n.policy] : undefined;
  if (p !== undefined) {
    if (p.import !== undefined && p.import.length > 0) out.importPolicy = compileImportRules(p.import);
    if (p.export !== undefined) {
      out.exportPolicy = { nextHopSelf: p.export.nextHopSelf, ...(p.export.routeTargets ? { routeTargets: [...p.export.routeTargets] } : {}) };
    }
  }
  return out;
}
