import { resolveBestPathOptions, selectBest } from './bestpath.js';
import type { BestPathOptions, DecisionStep, ResolvedBestPathOptions } from './bestpath.js';
import { pathKey, samePathContent } from './path.js';
import type { Path, PathInput, PathRef, PathSource } from './path.js';

/** A destination (route key) and what the table decided for it. Arrays are never mutated. */
export interface Destination {
  readonly key: string;
  readonly paths: readonly Path[];
  readonly best: Path | undefined;
  readonly ecmp: readonly Path[];
  readonly decidedBy: DecisionStep | undefined;
}

/** A destination whose best path or ECMP set changed; best undefined = no route any more. */
export interface RouteChange {
  readonly table: string;
  readonly key: string;
  readonly best: Path | undefined;
  readonly ecmp: readonly Path[];
  readonly previousBest: Path | undefined;
  readonly previousEcmp: readonly Path[];
}

class Dest implements Destination {
  paths: readonly Path[] = EMPTY_PATHS;
  best: Path | undefined = undefined;
  ecmp: readonly Path[] = EMPTY_PATHS;
  decidedBy: DecisionStep | undefined = undefined;
  constructor(readonly key: string) {}
}

interface SourceIndex {
  dests: Dest[];
  /**
   * Withdrawals since the last pass. Every dead entry or twin comes from one, so weeding them
   * out once they make up half the list keeps it within twice the live count, at O(1) amortised.
   */
  gone: number;
}

const COMPACT_MIN = 1024;

function holdsFrom(d: Dest, sk: string): boolean {
  for (const p of d.paths) if (p.source.key === sk) return true;
  return false;
}

const EMPTY_PATHS: readonly Path[] = Object.freeze([]);
const NO_CHANGES: readonly RouteChange[] = Object.freeze([]);
const ONLY: DecisionStep = 'only-path';

/**
 * One routing table (bgp.l3vpn.0, a VRF's inet table, ...): route key -> paths from each
 * source, with best path and ECMP set kept current. Sans-IO: every operation returns the
 * destinations whose selection changed, and the caller decides what to advertise.
 *
 * Cost: a Map lookup and a pass over the destination's own paths (a handful) per operation;
 * per-source operations visit only that source's destinations through an index.
 */
export class Table {
  readonly options: ResolvedBestPathOptions;
  private readonly dests = new Map<string, Dest>();
  /**
   * source key -> destinations that held a path from that source. An append-only list, not a
   * Set: a withdrawal leaves its entry (and a re-add may append a twin), so the per-route cost
   * is one push instead of a hash insert and delete. Per-source operations skip entries whose
   * destination no longer holds such a path, and the list is compacted as withdrawals pile up.
   */
  private readonly bySource = new Map<string, SourceIndex>();
  private seq = 0;

  constructor(
    readonly name: string,
    options: BestPathOptions = {},
  ) {
    this.options = resolveBestPathOptions(options);
  }

  get size(): number {
    return this.dests.size;
  }

  get(key: string): Destination | undefined {
    return this.dests.get(key);
  }

  destinations(): IterableIterator<Destination> {
    return this.dests.values();
  }

  /** Route keys holding a path from this source (a snapshot). */
  keysFrom(source: PathSource | string): string[] {
    const sk = typeof source === 'string' ? source : source.key;
    return this.live(sk).map((d) => d.key);
  }

  /** Adds a path, or replaces the one with the same source, path id and primary. */
  add(key: string, input: PathInput): readonly RouteChange[] {
    let d = this.dests.get(key);
    if (!d) {
      d = new Dest(key);
      this.dests.set(key, d);
    }
    // One literal shape for every path (absent optionals as undefined) keeps property access monomorphic.
    const path: Path = {
      key: pathKey(input),
      source: input.source,
      pathId: input.pathId ?? 0,
      primary: input.primary,
      attrs: input.attrs,
      labels: input.labels,
      stale: false,
      receivedAt: ++this.seq,
    };
    const old = d.paths;
    let next: Path[] | undefined;
    for (let i = 0; i < old.length; i++) {
      if (old[i]!.key === path.key) {
        next = old.slice();
        next[i] = path;
        break;
      }
    }
    if (next) return this.reselect(d, next);
    const changes = this.reselect(d, old.length === 0 ? [path] : [...old, path]);
    this.index(path.source.key, d);
    return changes;
  }

  withdraw(key: string, ref: PathRef): readonly RouteChange[] {
    const d = this.dests.get(key);
    if (!d) return NO_CHANGES;
    const pk = pathKey(ref);
    const old = d.paths;
    let next: readonly Path[];
    if (old.length === 1) {
      // The common case: the destination's only path goes, no filtered copy needed.
      if (old[0]!.key !== pk) return NO_CHANGES;
      next = EMPTY_PATHS;
    } else {
      next = old.filter((p) => p.key !== pk);
      if (next.length === old.length) return NO_CHANGES;
    }
    const changes = this.reselect(d, next);
    const ix = this.bySource.get(ref.source.key);
    if (ix !== undefined && ++ix.gone >= COMPACT_MIN && 2 * ix.gone >= ix.dests.length) this.compact(ref.source.key, ix);
    return changes;
  }

  /** Session down without graceful restart: every path from the source goes. */
  withdrawAll(source: PathSource | string): readonly RouteChange[] {
    const sk = typeof source === 'string' ? source : source.key;
    const list = this.live(sk);
    this.bySource.delete(sk);
    const changes: RouteChange[] = [];
    for (const d of list) {
      const next = d.paths.length === 1 ? EMPTY_PATHS : d.paths.filter((p) => p.source.key !== sk);
      this.push(changes, this.reselect(d, next));
    }
    return changes;
  }

  /** Graceful restart began: the source's paths stay but are marked stale (and rank below fresh ones). */
  markStale(source: PathSource | string): readonly RouteChange[] {
    const sk = typeof source === 'string' ? source : source.key;
    const changes: RouteChange[] = [];
    for (const d of this.live(sk)) {
      const next = d.paths.map((p) => (p.source.key === sk && !p.stale ? { ...p, stale: true } : p));
      this.push(changes, this.reselect(d, next));
    }
    return changes;
  }

  /** End-of-RIB or restart timer: stale paths that were not refreshed go. */
  sweepStale(source: PathSource | string): readonly RouteChange[] {
    const sk = typeof source === 'string' ? source : source.key;
    const changes: RouteChange[] = [];
    for (const d of this.live(sk)) {
      const next = d.paths.filter((p) => !(p.source.key === sk && p.stale));
      if (next.length === d.paths.length) continue;
      this.push(changes, this.reselect(d, next));
    }
    return changes;
  }

  private index(sk: string, d: Dest): void {
    let ix = this.bySource.get(sk);
    if (!ix) {
      ix = { dests: [], gone: 0 };
      this.bySource.set(sk, ix);
    }
    ix.dests.push(d);
  }

  /** The source's destinations, each once, that still hold a path from it (and the index compacted to them). */
  private live(sk: string): Dest[] {
    const ix = this.bySource.get(sk);
    if (!ix) return [];
    return this.compact(sk, ix).slice();
  }

  private compact(sk: string, ix: SourceIndex): Dest[] {
    const seen = new Set<Dest>();
    const out: Dest[] = [];
    for (const d of ix.dests) {
      // A destination dropped from the table has no paths left, so holdsFrom covers it.
      if (seen.has(d) || !holdsFrom(d, sk)) continue;
      seen.add(d);
      out.push(d);
    }
    if (out.length === 0) this.bySource.delete(sk);
    ix.dests = out;
    ix.gone = 0;
    return out;
  }

  private push(into: RouteChange[], from: readonly RouteChange[]): void {
    for (const c of from) into.push(c);
  }

  private reselect(d: Dest, next: readonly Path[]): readonly RouteChange[] {
    const previousBest = d.best;
    const previousEcmp = d.ecmp;
    d.paths = next;
    if (next.length === 1) {
      // The common case, without building a Selection.
      d.best = next[0];
      d.ecmp = next;
      d.decidedBy = ONLY;
    } else {
      const sel = selectBest(next, this.options);
      d.best = sel.best;
      d.ecmp = sel.ecmp;
      d.decidedBy = sel.decidedBy;
      if (next.length === 0) this.dests.delete(d.key);
    }
    if (sameSelection(previousEcmp, d.ecmp)) return NO_CHANGES;
    return [{ table: this.name, key: d.key, best: d.best, ecmp: d.ecmp, previousBest, previousEcmp }];
  }
}

function sameSelection(a: readonly Path[], b: readonly Path[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!samePathContent(a[i]!, b[i]!)) return false;
  return true;
}
