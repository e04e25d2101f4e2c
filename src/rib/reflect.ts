import type { AsPathSegment, AttrStore, Attrs, BgpSource, Path, PathAttributes } from './path.js';

/** This speaker, as the reflection and export rules need it. */
export interface LocalSpeaker {
  readonly asn: number;
  readonly routerId: string;
  /** RFC 4456 CLUSTER_ID; defaults to the router id. */
  readonly clusterId?: string;
  /** LOCAL_PREF put on iBGP advertisements of paths that have none. */
  readonly defaultLocalPref?: number;
  /** RFC 4456 client-to-client reflection (on unless the clients are fully meshed). */
  readonly clientToClient?: boolean;
}

/** A BGP neighbour we might advertise to. */
export interface BgpTarget {
  readonly address: string;
  readonly asn: number;
  readonly session: 'ibgp' | 'ebgp';
  readonly rrClient: boolean;
  /** Our address on this session: the next hop we put on eBGP advertisements. */
  readonly localAddress: string;
  /** Its BGP identifier once the session is up; lets us skip reflecting a path back to its originator. */
  readonly routerId?: string;
}

export type ExportRefusal =
  | 'split-horizon' // the target is the peer the path came from
  | 'no-advertise' // NO_ADVERTISE community
  | 'no-export' // NO_EXPORT / NO_EXPORT_SUBCONFED towards eBGP
  | 'ibgp-non-client' // iBGP-learned from a non-client, target is a non-client: RFC 4456 forbids
  | 'client-to-client' // client-to-client reflection disabled
  | 'originator'; // iBGP target is the path's ORIGINATOR_ID: it would drop it anyway

export type ExportDecision =
  | { readonly advertise: true; readonly attrs: Attrs; readonly reflected: boolean }
  | { readonly advertise: false; readonly reason: ExportRefusal };

export type ReceiveRejection = 'originator-id' | 'cluster-list' | 'as-path-loop';

export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;
export const NO_EXPORT_SUBCONFED = 0xffffff03;
const MAX_SEGMENT = 255;

/**
 * RFC 4271 / RFC 4456 outbound rules: whether a (best) path goes to a peer and with which
 * attributes. Transformed sets are interned and memoised per (input set, transform), so
 * advertising a million routes sharing a set to many peers builds each output set once.
 */
export class RouteExporter {
  private readonly memo = new WeakMap<Attrs, Map<string, Attrs>>();
  private readonly clusterId: string;
  private readonly defaultLocalPref: number;
  private readonly clientToClient: boolean;

  constructor(
    readonly self: LocalSpeaker,
    private readonly store: AttrStore,
  ) {
    this.clusterId = self.clusterId ?? self.routerId;
    this.defaultLocalPref = self.defaultLocalPref ?? 100;
    this.clientToClient = self.clientToClient ?? true;
  }

  decide(path: Path, target: BgpTarget): ExportDecision {
    const src = path.source;
    const a = path.attrs;
    if (src.kind === 'bgp' && src.peer === target.address) return refuse('split-horizon');
    if (hasCommunity(a, NO_ADVERTISE)) return refuse('no-advertise');

    if (target.session === 'ebgp') {
      if (hasCommunity(a, NO_EXPORT) || hasCommunity(a, NO_EXPORT_SUBCONFED)) return refuse('no-export');
      // RFC 4271 5.1.4: a MED learnt from another AS is not passed on; one set inside ours is.
      const keepMed = a.med !== undefined && externalLength(a.asPath) === 0;
      const attrs = this.memoised(a, `e|${target.localAddress}|${keepMed ? 1 : 0}`, () =>
        this.store.with(a, {
          asPath: prependAs(a.asPath, this.self.asn),
          nextHop: target.localAddress,
          med: keepMed ? a.med : undefined,
          localPref: undefined,
          originatorId: undefined,
          clusterList: [],
        }),
      );
      return { advertise: true, attrs, reflected: false };
    }

    if (src.kind === 'bgp' && src.session === 'ibgp') {
      // Reflection (RFC 4456 section 6).
      if (!src.rrClient && !target.rrClient) return refuse('ibgp-non-client');
      if (src.rrClient && target.rrClient && !this.clientToClient) return refuse('client-to-client');
      const originator = a.originatorId ?? src.routerId;
      if (target.routerId !== undefined && originator === target.routerId) return refuse('originator');
      const attrs = this.memoised(a, `r|${originator}`, () =>
        this.store.with(a, {
          originatorId: originator,
          clusterList: [this.clusterId, ...a.clusterList],
          localPref: a.localPref ?? this.defaultLocalPref,
        }),
      );
      return { advertise: true, attrs, reflected: true };
    }

    // eBGP-learned, XMPP or local paths into iBGP: next hop kept (gateways tunnel straight
    // to the vRouter), LOCAL_PREF made explicit.
    const attrs =
      a.localPref !== undefined
        ? a
        : this.memoised(a, 'i', () => this.store.with(a, { localPref: this.defaultLocalPref }));
    return { advertise: true, attrs, reflected: false };
  }

  private memoised(a: Attrs, k: string, make: () => Attrs): Attrs {
    let m = this.memo.get(a);
    if (!m) {
      m = new Map();
      this.memo.set(a, m);
    }
    let out = m.get(k);
    if (!out) {
      out = make();
      m.set(k, out);
    }
    return out;
  }
}

/**
 * Inbound loop checks: RFC 4456 section 8 (our router id as ORIGINATOR_ID, our cluster id in
 * CLUSTER_LIST) and RFC 4271 9.1.2 (our AS in an eBGP path; allowOwnAs occurrences tolerated).
 * undefined = accept.
 */
export function checkReceived(
  attrs: PathAttributes,
  from: BgpSource,
  self: LocalSpeaker,
  allowOwnAs = 0,
): ReceiveRejection | undefined {
  if (attrs.originatorId !== undefined && attrs.originatorId === self.routerId) return 'originator-id';
  const clusterId = self.clusterId ?? self.routerId;
  if (attrs.clusterList.includes(clusterId)) return 'cluster-list';
  if (from.session === 'ebgp') {
    let seen = 0;
    for (const s of attrs.asPath) for (const asn of s.asns) if (asn === self.asn) seen++;
    if (seen > allowOwnAs) return 'as-path-loop';
  }
  return undefined;
}

function refuse(reason: ExportRefusal): ExportDecision {
  return { advertise: false, reason };
}

function hasCommunity(a: PathAttributes, c: number): boolean {
  return a.communities.length > 0 && a.communities.includes(c);
}

function externalLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) if (s.type === 'sequence' || s.type === 'set') n += s.asns.length;
  return n;
}

/** Our AS in front; confederation segments never leave the confederation (RFC 5065 5.3). */
export function prependAs(segments: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const outer = segments.filter((s) => s.type === 'sequence' || s.type === 'set');
  const first = outer[0];
  if (first && first.type === 'sequence' && first.asns.length < MAX_SEGMENT) {
    return [{ type: 'sequence', asns: [asn, ...first.asns] }, ...outer.slice(1)];
  }
  return [{ type: 'sequence', asns: [asn] }, ...outer];
}

