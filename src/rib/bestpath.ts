import { compareAddresses } from './address.js';
import type { AsPathSegment, Origin, Path } from './path.js';

/**
 * Best-path selection, RFC 4271 9.1.2.2 as an elimination procedure (each step keeps the
 * candidates that are best on it), which is what makes the MED step well defined: MED is
 * compared only within a neighbour-AS group, so a pairwise comparator would not be transitive.
 *
 * Order:
 *   stale        fresh paths over graceful-restart stale ones (option, on by default; RFC 9494
 *                ranks stale last and Contrail treats stale paths as less feasible)
 *   local-pref   highest LOCAL_PREF (absent = defaultLocalPref)
 *   as-path      shortest AS_PATH (AS_SET counts 1, confederation segments 0)
 *   origin       IGP < EGP < INCOMPLETE
 *   med          lowest MED among paths from the same neighbour AS (absent = 0, or worst)
 *   peer-type    eBGP over iBGP; XMPP and local paths count as not iBGP
 *   -- paths still equal here form the ECMP set --
 *   (IGP cost to the next hop is skipped: the RIB has no IGP; every next hop costs the same)
 *   source-kind  local over XMPP over BGP (Contrail's order)
 *   router-id    lowest ORIGINATOR_ID, else the sender's router id
 *   cluster-list shortest CLUSTER_LIST
 *   peer-address lowest peer address
 *   path-id      lowest ADD-PATH id, then source/primary identity: a total order, so the
 *                result never depends on arrival order
 */

export type DecisionStep =
  | 'only-path'
  | 'stale'
  | 'local-pref'
  | 'as-path'
  | 'origin'
  | 'med'
  | 'peer-type'
  | 'source-kind'
  | 'router-id'
  | 'cluster-list'
  | 'peer-address'
  | 'path-id';

export interface BestPathOptions {
  /** Size limit of the ECMP set; 1 = no multipath. */
  readonly maxPaths?: number;
  readonly defaultLocalPref?: number;
  /** Compare MED across neighbour ASes too (always-compare-med). */
  readonly alwaysCompareMed?: boolean;
  /** Treat a missing MED as the worst value instead of 0 (RFC 4271 says 0). */
  readonly missingMedWorst?: boolean;
  readonly preferFresh?: boolean;
}

export type ResolvedBestPathOptions = Required<BestPathOptions>;

export function resolveBestPathOptions(o: BestPathOptions = {}): ResolvedBestPathOptions {
  return {
    maxPaths: Math.max(1, Math.floor(o.maxPaths ?? 1)),
    defaultLocalPref: o.defaultLocalPref ?? 100,
    alwaysCompareMed: o.alwaysCompareMed ?? false,
    missingMedWorst: o.missingMedWorst ?? false,
    preferFresh: o.preferFresh ?? true,
  };
}

export interface Selection {
  readonly best: Path | undefined;
  /** Best first; just [best] without multipath. */
  readonly ecmp: readonly Path[];
  /** The step that singled out the best path (for introspection and tests). */
  readonly decidedBy: DecisionStep | undefined;
}

const NONE: Selection = Object.freeze({ best: undefined, ecmp: Object.freeze([]), decidedBy: undefined });

export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/**
 * RFC 4271 neighborAS: the first AS of the path, skipping our own confederation segments.
 * undefined when the route was originated in our AS (empty path) or starts with an AS_SET;
 * such paths form one group of their own for the MED step.
 */
export function neighborAs(segments: readonly AsPathSegment[]): number | undefined {
  for (const s of segments) {
    if (s.type === 'confed-sequence' || s.type === 'confed-set') continue;
    return s.type === 'sequence' ? s.asns[0] : undefined;
  }
  return undefined;
}

const ORIGIN_RANK: Record<Origin, number> = { igp: 0, egp: 1, incomplete: 2 };
const KIND_RANK = { local: 0, xmpp: 1, bgp: 2 } as const;
const MED_WORST = 0x1_0000_0000;

/** Pure; the result may share `paths` (the single-path case), so treat both as immutable. */
export function selectBest(paths: readonly Path[], opts: ResolvedBestPathOptions): Selection {
  if (paths.length === 0) return NONE;
  if (paths.length === 1) return { best: paths[0], ecmp: paths, decidedBy: 'only-path' };

  let c: readonly Path[] = paths;
  const done = (step: DecisionStep): Selection => ({ best: c[0], ecmp: [c[0]!], decidedBy: step });

  if (opts.preferFresh) {
    c = keepMin(c, (p) => (p.stale ? 1 : 0));
    if (c.length === 1) return done('stale');
  }
  const lp = opts.defaultLocalPref;
  c = keepMin(c, (p) => -(p.attrs.localPref ?? lp));
  if (c.length === 1) return done('local-pref');
  c = keepMin(c, (p) => asPathLength(p.attrs.asPath));
  if (c.length === 1) return done('as-path');
  c = keepMin(c, (p) => ORIGIN_RANK[p.attrs.origin]);
  if (c.length === 1) return done('origin');
  c = keepLowestMed(c, opts);
  if (c.length === 1) return done('med');
  c = keepMin(c, (p) => (p.source.kind === 'bgp' && p.source.session === 'ibgp' ? 1 : 0));
  if (c.length === 1) return done('peer-type');

  // The survivors are equal for multipath; the rest only orders them.
  const sorted = [...c].sort(compareTieBreak);
  const first = sorted[0]!;
  const step = tieBreakStep(first, sorted[1]!);
  const ecmp = opts.maxPaths === 1 ? [first] : sorted.slice(0, opts.maxPaths);
  return { best: first, ecmp, decidedBy: step };
}

function keepMin(c: readonly Path[], score: (p: Path) => number): readonly Path[] {
  let min = Infinity;
  let ties = 0;
  for (const p of c) {
    const s = score(p);
    if (s < min) {
      min = s;
      ties = 1;
    } else if (s === min) ties++;
  }
  if (ties === c.length) return c;
  const out: Path[] = [];
  for (const p of c) if (score(p) === min) out.push(p);
  return out;
}

function keepLowestMed(c: readonly Path[], opts: ResolvedBestPathOptions): readonly Path[] {
  const missing = opts.missingMedWorst ? MED_WORST : 0;
  const med = (p: Path): number => p.attrs.med ?? missing;
  if (opts.alwaysCompareMed) return keepMin(c, med);
  // Group key: neighbour AS, or -1 for "originated inside our AS".
  const groupMin = new Map<number, number>();
  for (const p of c) {
    const g = neighborAs(p.attrs.asPath) ?? -1;
    const m = med(p);
    const cur = groupMin.get(g);
    if (cur === undefined || m < cur) groupMin.set(g, m);
  }
  let drop = false;
  for (const p of c) if (med(p) !== groupMin.get(neighborAs(p.attrs.asPath) ?? -1)) drop = true;
  if (!drop) return c;
  return c.filter((p) => med(p) === groupMin.get(neighborAs(p.attrs.asPath) ?? -1));
}

function routerIdOf(p: Path): string {
  if (p.attrs.originatorId !== undefined) return p.attrs.originatorId;
  const s = p.source;
  return s.kind === 'bgp' ? s.routerId : s.kind === 'xmpp' ? s.address : '0.0.0.0';
}

function peerAddressOf(p: Path): string {
  const s = p.source;
  return s.kind === 'bgp' ? s.peer : s.kind === 'xmpp' ? s.address : '0.0.0.0';
}

const TIE_STEPS: readonly [DecisionStep, (a: Path, b: Path) => number][] = [
  ['source-kind', (a, b) => KIND_RANK[a.source.kind] - KIND_RANK[b.source.kind]],
  ['router-id', (a, b) => compareAddresses(routerIdOf(a), routerIdOf(b))],
  ['cluster-list', (a, b) => a.attrs.clusterList.length - b.attrs.clusterList.length],
  ['peer-address', (a, b) => compareAddresses(peerAddressOf(a), peerAddressOf(b))],
  ['path-id', (a, b) => a.pathId - b.pathId || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)],
];

function compareTieBreak(a: Path, b: Path): number {
  for (const [, cmp] of TIE_STEPS) {
    const d = cmp(a, b);
    if (d !== 0) return d;
  }
  return 0;
}

function tieBreakStep(a: Path, b: Path): DecisionStep {
  for (const [step, cmp] of TIE_STEPS) if (cmp(a, b) !== 0) return step;
  return 'path-id';
}
