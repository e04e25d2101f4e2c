/**
 * Per-neighbour routing policy, kept simple (issue 3): on import accept, reject or set
 * LOCAL_PREF; on export filter by route target and set next hop self. Policies see attribute
 * sets, not prefixes, so the speaker asks once per received UPDATE and once per exported
 * attribute set, never per route.
 */
import type { PathAttributes } from '../rib/path.js';
import { routeTargetsOf } from '../rib/path.js';
import { parseRouteTarget } from '../rib/route-target.js';
import type { FamilyName } from './families.js';

/** 'reject' keeps the path out of the Loc-RIB (it stays in the Adj-RIB-In view, marked rejected). */
export type ImportDecision = 'accept' | 'reject' | { localPref?: number };
export type ImportPolicy = (attrs: PathAttributes, family: FamilyName) => ImportDecision;

export interface ImportRule {
  /** Matches paths carrying any of these (text like target:64512:100); absent: every path. */
  routeTargets?: readonly string[];
  action: 'accept' | 'reject';
  /** Set on accepted paths. */
  localPref?: number;
}

export interface ExportPolicy {
  /** VPN families: advertise only paths carrying any of these; absent: every path. */
  routeTargets?: readonly string[];
  /** Send our session address as the next hop (also to iBGP peers and RR clients). */
  nextHopSelf?: boolean;
}

function rtSet(rts: readonly string[] | undefined): Set<bigint> | undefined {
  return rts === undefined ? undefined : new Set(rts.map(parseRouteTarget));
}

/** True when the path carries one of `rts` (undefined matches everything). */
export function carriesAny(attrs: PathAttributes, rts: ReadonlySet<bigint> | undefined): boolean {
  if (rts === undefined) return true;
  for (const rt of routeTargetsOf(attrs)) if (rts.has(rt)) return true;
  return false;
}

/** First matching rule wins; a path no rule matches is accepted unchanged. */
export function compileImportRules(rules: readonly ImportRule[]): ImportPolicy {
  const compiled = rules.map((r) => ({
    rts: rtSet(r.routeTargets),
    decision: (r.action === 'reject' ? 'reject' : r.localPref !== undefined ? { localPref: r.localPref } : 'accept') as ImportDecision,
  }));
  return (attrs) => {
    for (const r of compiled) if (carriesAny(attrs, r.rts)) return r.decision;
    return 'accept';
  };
}

/** An export policy with its route targets parsed once. */
export interface CompiledExport {
  routeTargets: ReadonlySet<bigint> | undefined;
  nextHopSelf: boolean;
}

export function compileExportPolicy(p: ExportPolicy | undefined): CompiledExport | undefined {
  if (p === undefined || (p.routeTargets === undefined && p.nextHopSelf !== true)) return undefined;
  return { routeTargets: rtSet(p.routeTargets), nextHopSelf: p.nextHopSelf === true };
}
