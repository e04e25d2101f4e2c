import { toHex } from '../../codecs/util/hex.js';
import { formatExtCommunity, routeTargets } from './route-target.js';

/* ---------- where a path came from ---------- */

export type BgpSession = 'ibgp' | 'ebgp';

export interface BgpSource {
  readonly kind: 'bgp';
  /** Identity within a table: one source may hold one path per (path id, primary) per destination. */
  readonly key: string;
  readonly peer: string;
  readonly routerId: string;
  readonly asn: number;
  readonly session: BgpSession;
  readonly rrClient: boolean;
}

export interface XmppSource {
  readonly kind: 'xmpp';
  readonly key: string;
  /** Agent name as in its JID (compute-1). */
  readonly agent: string;
  /** The agent's router id / vhost0 address: it stands in for router id and peer address in tie-breaks. */
  readonly address: string;
}

export interface LocalSource {
  readonly kind: 'local';
  readonly key: string;
  /** What originated it: 'static', 'service-chain', 'aggregate', a config object name... */
  readonly name: string;
}

export type PathSource = BgpSource | XmppSource | LocalSource;

export function bgpSource(s: Omit<BgpSource, 'kind' | 'key'>): BgpSource {
  return Object.freeze({ kind: 'bgp', key: `bgp:${s.peer}`, ...s });
}

export function xmppSource(agent: string, address: string): XmppSource {
  return Object.freeze({ kind: 'xmpp', key: `xmpp:${agent}`, agent, address });
}

export function localSource(name: string): LocalSource {
  return Object.freeze({ kind: 'local', key: `local:${name}`, name });
}

/* ---------- attributes ---------- */

export type Origin = 'igp' | 'egp' | 'incomplete';
export type AsPathSegmentType = 'sequence' | 'set' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

/** RFC 8092: global administrator, local data 1, local data 2. */
export type LargeCommunity = readonly [number, number, number];

export type ExtraValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly ExtraValue[]
  | { readonly [k: string]: ExtraValue };

export interface PathAttributes {
  readonly origin: Origin;
  readonly asPath: readonly AsPathSegment[];
  readonly nextHop: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly communities: readonly number[];
  /** 8-byte extended communities as 64-bit values; see route-target.ts. */
  readonly extCommunities: readonly bigint[];
  readonly largeCommunities: readonly LargeCommunity[];
  readonly originatorId?: string;
  readonly clusterList: readonly string[];
  /**
   * Everything the RIB does not decide on but must carry (AGGREGATOR, ATOMIC_AGGREGATE, tunnel
   * encapsulation, Contrail OriginVnPath, unknown transitive attributes as raw bytes...).
   */
  readonly extra: Readonly<Record<string, ExtraValue>>;
}

/** What callers hand to AttrStore.intern: lists may be left out, they default to empty. */
export interface AttrInput {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  readonly nextHop: string;
  readonly med?: number | undefined;
  readonly localPref?: number | undefined;
  readonly communities?: readonly number[];
  readonly extCommunities?: readonly bigint[];
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly originatorId?: string | undefined;
  readonly clusterList?: readonly string[];
  readonly extra?: Readonly<Record<string, ExtraValue>>;
}

/** An interned, frozen attribute set: equal contents <=> same object <=> same id. */
export interface Attrs extends PathAttributes {
  readonly id: number;
  /** Canonical text of the contents; the interning key. */
  readonly key: string;
}

/**
 * Hash-consing pool for attribute sets. Millions of routes share a handful of sets, so each
 * path holds a reference and comparisons are pointer compares. Entries are held weakly: a set
 * no path uses any more is collected and its key dropped, with no refcounting for callers to
 * get wrong. While any holder keeps a set alive, interning equal contents returns that object.
 */
export class AttrStore {
  private readonly byKey = new Map<string, WeakRef<Attrs>>();
  private readonly owned = new WeakSet<Attrs>();
  private readonly registry = new FinalizationRegistry<string>((key) => {
    const ref = this.byKey.get(key);
    if (ref && ref.deref() === undefined) this.byKey.delete(key);
  });
  private nextId = 1;

  intern(input: AttrInput | Attrs): Attrs {
    if (this.owned.has(input as Attrs)) return input as Attrs;
    const norm = normalise(input);
    const key = attributesKey(norm);
    const hit = this.byKey.get(key)?.deref();
    if (hit) return hit;
    const attrs: Attrs = deepFreeze({ ...norm, id: this.nextId++, key });
    this.byKey.set(key, new WeakRef(attrs));
    this.owned.add(attrs);
    this.registry.register(attrs, key);
    return attrs;
  }

  /** The interned set equal to `base` with `changes` applied; an explicit undefined removes an optional field. */
  with(base: PathAttributes, changes: Partial<AttrInput>): Attrs {
    return this.intern({ ...base, ...changes } as AttrInput);
  }

  /** Live entries (approximate: collected sets leave until their finaliser runs). */
  get size(): number {
    return this.byKey.size;
  }
}

function normalise(a: AttrInput): PathAttributes {
  const out: {
    -readonly [K in keyof PathAttributes]: PathAttributes[K];
  } = {
    origin: a.origin ?? 'igp',
    asPath: (a.asPath ?? []).map((s) => ({ type: s.type, asns: [...s.asns] })),
    nextHop: a.nextHop,
    communities: [...(a.communities ?? [])],
    extCommunities: [...(a.extCommunities ?? [])],
    largeCommunities: (a.largeCommunities ?? []).map((l) => [l[0], l[1], l[2]] as const),
    clusterList: [...(a.clusterList ?? [])],
    extra: { ...(a.extra ?? {}) },
  };
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  return out;
}

const SEGMENT_CODE: Record<AsPathSegmentType, string> = {
  sequence: 'q',
  set: 's',
  'confed-sequence': 'Q',
  'confed-set': 'S',
};

/** Canonical text; list order is kept because it is part of what goes back on the wire. */
export function attributesKey(a: PathAttributes): string {
  let asp = '';
  for (const s of a.asPath) asp += `${SEGMENT_CODE[s.type]}${s.asns.join(',')};`;
  let ext = '';
  for (const v of a.extCommunities) ext += `${v.toString(16)},`;
  let large = '';
  for (const l of a.largeCommunities) large += `${l[0]}:${l[1]}:${l[2]},`;
  const extraKeys = Object.keys(a.extra);
  const extra = extraKeys.length === 0 ? '' : stableText(a.extra);
  return [
    a.origin,
    asp,
    a.nextHop,
    a.med ?? '',
    a.localPref ?? '',
    a.communities.join(','),
    ext,
    large,
    a.originatorId ?? '',
    a.clusterList.join(','),
    extra,
  ].join('|');
}

function stableText(v: ExtraValue): string {
  if (v instanceof Uint8Array) return `#${toHex(v)}`;
  if (Array.isArray(v)) return `[${v.map((x: ExtraValue) => stableText(x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as { readonly [k: string]: ExtraValue };
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableText(o[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v) || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v as object)) deepFreeze(x);
  return Object.freeze(v);
}

const rtCache = new WeakMap<PathAttributes, readonly bigint[]>();

/** The route targets of an attribute set, computed once per interned set. */
export function routeTargetsOf(a: PathAttributes): readonly bigint[] {
  let rts = rtCache.get(a);
  if (!rts) {
    rts = Object.freeze(routeTargets(a.extCommunities));
    rtCache.set(a, rts);
  }
  return rts;
}

/* ---------- paths ---------- */

/** Set on a secondary path: the table and route key of the primary it was replicated from. */
export interface PrimaryRef {
  readonly table: string;
  readonly key: string;
}

export interface Path {
  /** Identity inside one destination: source key, path id and primary, folded into a string. */
  readonly key: string;
  readonly source: PathSource;
  /** ADD-PATH identifier (RFC 7911); 0 when the peer does not send one. */
  readonly pathId: number;
  readonly primary?: PrimaryRef;
  readonly attrs: Attrs;
  /**
   * MPLS labels / VNI from the NLRI. Kept on the path, not in the interned attributes,
   * because they are per prefix on the wire and would defeat sharing of attribute sets.
   */
  readonly labels?: readonly number[];
  /** Graceful restart: the session went down and the path waits for refresh or sweep. */
  readonly stale: boolean;
  /** Table-local arrival sequence, for "oldest path" style policies and debugging. */
  readonly receivedAt: number;
}

export interface PathRef {
  readonly source: PathSource;
  readonly pathId?: number;
  readonly primary?: PrimaryRef;
}

export interface PathInput extends PathRef {
  readonly attrs: Attrs;
  readonly labels?: readonly number[];
}

export function pathKey(ref: PathRef): string {
  let k = ref.source.key;
  if (ref.pathId) k += `#${ref.pathId}`;
  if (ref.primary) k += `@${ref.primary.table}/${ref.primary.key}`;
  return k;
}

/** Same route as far as a listener cares: arrival order and the stale mark are not news. */
export function samePathContent(a: Path, b: Path): boolean {
  if (a === b) return true;
  if (a.key !== b.key || a.attrs !== b.attrs) return false;
  const la = a.labels;
  const lb = b.labels;
  if (la === lb) return true;
  if (!la || !lb || la.length !== lb.length) return false;
  for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) return false;
  return true;
}

/** JSON.stringify replacer for RIB values: ext communities as text, opaque bytes as hex. */
export function ribJsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // A Buffer has already been through its toJSON by now; look at the holder's raw value.
  const raw = (this as Record<string, unknown> | null)?.[key];
  if (raw instanceof Uint8Array) return toHex(raw);
  if (typeof value === 'bigint') return formatExtCommunity(value);
  return value;
}
