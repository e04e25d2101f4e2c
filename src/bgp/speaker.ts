/**
 * The BGP speaker: Peers (sessions) on one side, Loc-RIB tables per family on the other, and
 * between them the import (RFC 7606 verdicts, loop checks, max-prefix, graceful restart) and
 * the export (route reflection through RouteExporter, RT constraint, Adj-RIB-Out, packing).
 *
 * Exports are computed when a table reports a changed best path and written out in batches:
 * everything decided while handling one burst of socket data goes out in one flush per peer
 * (setImmediate), grouped by attribute set into as few UPDATEs as the message size allows.
 */
import net from 'node:net';
import { endOfRib, missingWellKnown } from '../../codecs/bgp/update.js';
import type { Nlri } from '../../codecs/bgp/nlri.js';
import { Writer } from '../../codecs/util/writer.js';
import { toHex } from '../../codecs/util/hex.js';
import { AttrStore, bgpSource, localSource } from '../rib/path.js';
import type { AttrInput, Attrs, BgpSource, Path, PathAttributes } from '../rib/path.js';
import { RouteExporter, checkReceived, type BgpTarget, type LocalSpeaker } from '../rib/reflect.js';
import { RtMembership } from '../rib/rtc.js';
import { formatExtCommunity } from '../rib/route-target.js';
import { Table, type RouteChange } from '../rib/table.js';
import type { FsmConfig } from './fsm/config.js';
import type { Negotiated } from './fsm/negotiate.js';
import type { RouteRefreshMessage, UpdateMessage } from './fsm/messages.js';
import { TABLE_NAMES, afiSafiOf, familyOf, isVpnFamily, labelStack, needsTemplate, nlriLabels, routeKey, routeNlri, rtcMembership, type FamilyName } from './families.js';
import { receivedAttributes, withNextHop } from './rib-attrs.js';
import { Peer, type DownInfo, type MessageCounters, type PeerHandler } from './session/peer.js';
import { checkNeighbor, checkSpeakerConfig, type NeighborConfig, type SpeakerConfig } from './speaker-config.js';
import { carriesAny, compileExportPolicy, type CompiledExport } from './policy.js';
import { UpdateBuilder } from './update-builder.js';

export type { NeighborConfig, SpeakerConfig } from './speaker-config.js';

const DEFAULT_FAMILIES: FamilyName[] = ['ipv4-unicast', 'vpnv4'];
/** Queued route changes (all peers) at which an UPDATE from a peer is followed by a flush. */
const EARLY_FLUSH = 16384;
const RTC_DEFAULT_KEY = routeKey('rtc', { kind: 'rtc', length: 0, routeTarget: new Uint8Array(0) })!;
/** Next hop of locally originated paths: replaced by our session address when advertised. */
const SELF = '0.0.0.0';

/**
 * One family of a session's output. What the peer holds from us is, per route, the export of
 * the Loc-RIB best path (attributes memoised per attribute set, labels the path's own): the
 * Adj-RIB-Out follows from the table and a change's previous best says what went out before,
 * so it costs no per-peer copy. Only where RT constraint filters a family can the same best
 * path go out or not as the peer's membership changes; there `adj` records the path sent.
 * Changes wait in two maps until the flush; a later change to a key replaces an earlier one.
 */
interface FamilyOut {
  adj: Map<string, Path> | undefined;
  /** Routes advertised (the Adj-RIB-Out size). */
  count: number;
  announce: Map<string, Path>;
  /** Withdrawals: the path last advertised (for its labels), or the NLRI where the key has a template. */
  withdraw: Map<string, Path | Nlri>;
}

/** One export decision: routes come in runs sharing attribute set and source. */
interface ExportMemo {
  attrs: Attrs | undefined;
  source: Path['source'] | undefined;
  family: FamilyName | undefined;
  result: Attrs | undefined;
}

function emptyMemo(): ExportMemo {
  return { attrs: undefined, source: undefined, family: undefined, result: undefined };
}

interface StaleState {
  families: Set<FamilyName>;
  timer: NodeJS.Timeout;
}

interface Neighbor {
  config: NeighborConfig;
  peer: Peer;
  /** Set while Established. */
  session: Session | undefined;
  /** The source of its paths; kept across sessions (graceful restart finds the stale paths by it). */
  source: BgpSource | undefined;
  stale: StaleState | undefined;
  /** Accepted routes, all families: the max-prefix count. */
  prefixes: number;
  exportPolicy: CompiledExport | undefined;
  /** Paths its import policy rejected, per family: kept for the Adj-RIB-In view only. */
  rejected: Map<FamilyName, Map<string, RejectedPath>>;
}

interface RejectedPath {
  attrs: Attrs;
  labels: readonly number[] | undefined;
}

interface Session {
  negotiated: Negotiated;
  families: Set<FamilyName>;
  target: BgpTarget;
  builder: UpdateBuilder;
  /** Filtered by RT constraint (it negotiated RTC). */
  rtc: boolean;
  rtcDirty: boolean;
  out: Map<FamilyName, FamilyOut>;
  eorDue: Set<FamilyName>;
  updatesOut: number;
  /**
   * The last two export decisions (a replaced route asks for its new and its previous best):
   * they save the exporter's memo lookups for nearly every route of a run.
   */
  memo: [ExportMemo, ExportMemo];
  /** Export next-hop-self: the rewritten set per exported set. */
  nhSelf: WeakMap<Attrs, Attrs>;
}

/** Plain, JSON-friendly views for introspection. */
export interface NeighborSnapshot {
  address: string;
  remoteAs: number;
  rrClient: boolean;
  passive: boolean;
  state: string;
  uptimeSeconds: number | undefined;
  received: MessageCounters;
  sent: MessageCounters;
  prefixesReceived: number;
  prefixesAdvertised: Partial<Record<FamilyName, number>>;
  negotiated?: {
    peerId: string;
    peerAs: number;
    holdTime: number;
    keepaliveTime: number;
    families: FamilyName[];
    fourOctetAs: boolean;
    routeRefresh: boolean;
    extendedMessage: boolean;
    gracefulRestart?: { time: number; restart: boolean; families: string[] };
    peerCapabilities: string[];
  };
  staleFamilies?: FamilyName[];
  /** Held down after the max-prefix Cease; `until` absent: until cleared (clearNeighbor). */
  holdDown?: { reason: 'max-prefix'; until?: string };
  lastDown?: { reason: string; at: string; notification?: { code: number; subcode: number; sent: boolean } };
}

export interface AttributesView {
  origin: string;
  asPath: string;
  nextHop: string;
  med?: number;
  localPref?: number;
  communities: number[];
  extCommunities: string[];
  largeCommunities: string[];
  originatorId?: string;
  clusterList: string[];
  extra: Record<string, string>;
}

export interface PathView {
  source: string;
  best: boolean;
  stale: boolean;
  /** Adj-RIB-In only: the import policy kept it out of the Loc-RIB. */
  rejected?: boolean;
  labels?: number[];
  attributes: AttributesView;
}

export interface RouteView {
  key: string;
  paths: PathView[];
}

export function attributesView(a: PathAttributes): AttributesView {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.extra)) extra[k] = v instanceof Uint8Array ? toHex(v) : JSON.stringify(v);
  const v: AttributesView = {
    origin: a.origin,
    asPath: a.asPath.map((s) => (s.type === 'sequence' ? s.asns.join(' ') : `{${s.asns.join(',')}}`)).join(' '),
    nextHop: a.nextHop,
    communities: [...a.communities],
    extCommunities: a.extCommunities.map(formatExtCommunity),
    largeCommunities: a.largeCommunities.map((l) => `${l[0]}:${l[1]}:${l[2]}`),
    clusterList: [...a.clusterList],
    extra,
  };
  if (a.med !== undefined) v.med = a.med;
  if (a.localPref !== undefined) v.localPref = a.localPref;
  if (a.originatorId !== undefined) v.originatorId = a.originatorId;
  return v;
}

function sameLabels(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function nlriLabelsEqual(n: Nlri, labels: readonly number[] | undefined): boolean {
  if (n.kind !== 'vpn' && n.kind !== 'labeled') return labels === undefined || labels.length === 0;
  const l = n.labels;
  if (labels === undefined || labels.length === 0) return l.length === 1 && l[0]!.value === 3;
  if (l.length !== labels.length) return false;
  for (let i = 0; i < l.length; i++) if (l[i]!.value !== labels[i] || l[i]!.bottom !== (i === l.length - 1)) return false;
  return true;
}

function isPath(v: Path | Nlri): v is Path {
  return (v as Partial<Path>).source !== undefined;
}

export class Speaker implements PeerHandler {
  readonly config: SpeakerConfig;
  readonly store = new AttrStore();
  readonly tables = new Map<FamilyName, Table>();
  readonly rtc = new RtMembership();
  private readonly exporter: RouteExporter;
  private readonly self: LocalSpeaker;
  /** The NLRI last received, for the destinations whose key routeNlri cannot turn back into one. */
  private readonly nlri = new Map<FamilyName, Map<string, Nlri>>();
  private readonly neighbors = new Map<string, Neighbor>();
  private server: net.Server | undefined;
  private flushScheduled = false;
  /** Announcements and withdrawals queued since the last flush. */
  private queued = 0;
  private readonly dirty = new Set<Neighbor>();
  private readonly localSrc = localSource('api');
  private readonly ribListeners: ((family: FamilyName, changes: readonly RouteChange[]) => void)[] = [];

  constructor(config: SpeakerConfig) {
    checkSpeakerConfig(config);
    this.config = config;
    this.self = { asn: config.localAs, routerId: config.routerId, clusterId: config.clusterId ?? config.routerId };
    this.exporter = new RouteExporter(this.self, this.store);
    for (const f of ['ipv4-unicast', 'vpnv4', 'vpnv6', 'rtc'] as FamilyName[]) {
      this.tables.set(f, new Table(TABLE_NAMES[f]));
      this.nlri.set(f, new Map());
    }
  }

  // ----- lifecycle -----

  /** Starts listening (if configured) and every configured neighbour. */
  async start(): Promise<void> {
    const listen = this.config.listen;
    if (listen !== undefined && listen !== false) {
      const server = net.createServer((s) => this.accept(s));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listen.address, port: listen.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    if (this.usesRtc() && this.config.rtcDefault !== false) this.originateRtcDefault();
    for (const n of this.config.neighbors ?? []) this.addNeighbor(n);
  }

  /** The port we listen on (useful with port 0). */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a !== null && typeof a === 'object' ? a.port : undefined;
  }

  async stop(): Promise<void> {
    for (const addr of [...this.neighbors.keys()]) this.removeNeighbor(addr, 'shutdown');
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  addNeighbor(cfg: NeighborConfig): void {
    checkNeighbor(cfg, `neighbor ${cfg.address}`);
    if (this.neighbors.has(cfg.address)) throw new Error(`neighbor ${cfg.address} exists`);
    const families = cfg.families ?? this.config.families ?? DEFAULT_FAMILIES;
    const listenAddr = this.config.listen ? this.config.listen.address : undefined;
    const localAddress = cfg.localAddress ?? (listenAddr !== undefined && listenAddr !== '0.0.0.0' && listenAddr !== '::' ? listenAddr : undefined);
    const fsm: FsmConfig = {
      localAs: this.config.localAs,
      localId: this.config.routerId,
      peerAs: cfg.remoteAs,
      holdTime: cfg.holdTime ?? this.config.holdTime ?? 90,
      families: families.map(afiSafiOf),
      routeRefresh: true,
      fourOctetAs: true,
      connectRetry: { baseMs: (cfg.connectRetry ?? 5) * 1000, maxMs: 120_000 },
      idleHold: { baseMs: (cfg.connectRetry ?? 5) * 1000, maxMs: 300_000, forgetMs: 600_000 },
    };
    if (cfg.gracefulRestart === true) {
      fsm.gracefulRestart = { time: cfg.gracefulRestartTime ?? this.config.gracefulRestartTime ?? 120, families: families.map((f) => ({ ...afiSafiOf(f), forwarding: false })) };
    }
    const settings = { address: cfg.address, port: cfg.port ?? 179, passive: cfg.passive === true, fsm, ...(localAddress !== undefined ? { localAddress } : {}) };
    const n: Neighbor = { config: cfg, peer: new Peer(settings, this), session: undefined, source: undefined,
      stale: undefined,
      prefixes: 0,
      exportPolicy: compileExportPolicy(cfg.exportPolicy),
      rejected: new Map(),
    };
    this.neighbors.set(cfg.address, n);
    if (families.includes('rtc') && this.config.rtcDefault !== false && this.tables.get('rtc')!.get(RTC_DEFAULT_KEY) === undefined) this.originateRtcDefault();
    n.peer.start();
  }

  /** Stops the session (Cease 6/3 by default) and forgets the neighbour and its routes. */
  removeNeighbor(address: string, cause: 'deconfigured' | 'shutdown' = 'deconfigured'): boolean {
    const n = this.neighbors.get(address);
    if (n === undefined) return false;
    n.peer.stop(cause);
    if (n.stale) this.sweep(n, [...n.stale.families]);
    if (n.source) for (const f of this.tables.keys()) this.applyChanges(f, this.tables.get(f)!.withdrawAll(n.source));
    this.neighbors.delete(address);
    this.dirty.delete(n);
    return true;
  }

  neighbor(address: string): Peer | undefined {
    return this.neighbors.get(address)?.peer;
  }

  /**
   * Ends a max-prefix hold-down now (the operator's clear): the session comes back as if the
   * restart interval had passed. False when the neighbour is unknown or not held down.
   */
  clearNeighbor(address: string): boolean {
    return this.neighbors.get(address)?.peer.clearHoldDown() ?? false;
  }

  private accept(s: net.Socket): void {
    let remote = s.remoteAddress ?? '';
    if (remote.startsWith('::ffff:')) remote = remote.slice(7);
    const n = this.neighbors.get(remote);
    if (n === undefined) {
      s.destroy();
      return;
    }
    n.peer.acceptInbound(s);
  }

  private usesRtc(): boolean {
    if ((this.config.families ?? DEFAULT_FAMILIES).includes('rtc')) return true;
    return (this.config.neighbors ?? []).some((n) => n.families?.includes('rtc'));
  }

  /**
   * RFC 4684 section 3.2: a route reflector needs every VPN route, so it asks its RTC peers for
   * all of them with the default membership route.
   */
  private originateRtcDefault(): void {
    const attrs = this.store.intern({ nextHop: SELF, origin: 'igp' });
    this.nlri.get('rtc')!.set(RTC_DEFAULT_KEY, { kind: 'rtc', length: 0, routeTarget: new Uint8Array(0) });
    this.applyChanges('rtc', this.tables.get('rtc')!.add(RTC_DEFAULT_KEY, { source: localSource('rtc-default'), attrs }));
  }

  // ----- local routes (tests, API) -----

  /** Adds or replaces a locally originated route. A next hop of 0.0.0.0 means "our session address". */
  originate(family: FamilyName, nlri: Nlri, attrs: AttrInput): void {
    const key = routeKey(family, nlri);
    if (key === undefined) throw new TypeError(`NLRI of kind ${nlri.kind} does not belong to ${family}`);
    this.nlri.get(family)!.set(key, nlri);
    const labels = nlriLabels(nlri);
    this.applyChanges(family, this.tables.get(family)!.add(key, { source: this.localSrc, attrs: this.store.intern(attrs), ...(labels ? { labels } : {}) }));
  }

  /**
   * Every change of a Loc-RIB table's selection, after it was exported. The routing instances
   * follow bgp.l3vpn.0 through this; a listener may originate or withdraw from inside.
   */
  onRibChange(listener: (family: FamilyName, changes: readonly RouteChange[]) => void): void {
    this.ribListeners.push(listener);
  }

  withdrawLocal(family: FamilyName, nlri: Nlri): void {
    const key = routeKey(family, nlri);
    if (key === undefined) return;
    this.applyChanges(family, this.tables.get(family)!.withdraw(key, { source: this.localSrc }));
  }

  // ----- sessions (PeerHandler) -----

  established(peer: Peer): void {
    const n = this.neighbors.get(peer.address);
    const neg = peer.negotiated;
    const opts = peer.sendOptions;
    if (n === undefined || neg === undefined || opts === undefined) return;
    const families = new Set<FamilyName>();
    for (const f of neg.families) {
      const name = familyOf(f.afi, f.safi);
      if (name !== undefined) families.add(name);
    }
    const ibgp = neg.peerAs === this.config.localAs;
    const rrClient = n.config.rrClient === true;
    n.source = bgpSource({ peer: peer.address, routerId: neg.peerId, asn: neg.peerAs, session: ibgp ? 'ibgp' : 'ebgp', rrClient });
    const target: BgpTarget = {
      address: peer.address,
      asn: neg.peerAs,
      session: ibgp ? 'ibgp' : 'ebgp',
      rrClient,
      localAddress: peer.localAddress ?? this.config.routerId,
      routerId: neg.peerId,
    };
    const rtc = families.has('rtc');
    if (rtc) this.rtc.addPeer(peer.address);
    const s: Session = {
      negotiated: neg,
      families,
      target,
      builder: new UpdateBuilder(opts),
      rtc,
      rtcDirty: false,
      out: new Map(),
      eorDue: new Set(),
      updatesOut: 0,
      memo: [emptyMemo(), emptyMemo()],
      nhSelf: new WeakMap(),
    };
    for (const f of families) s.out.set(f, { adj: rtc && isVpnFamily(f) ? new Map() : undefined, count: 0, announce: new Map(), withdraw: new Map() });
    n.session = s;
    // A restarting peer without Graceful Restart this time gets no grace.
    if (n.stale !== undefined && neg.gracefulRestart === undefined) this.sweep(n, [...n.stale.families]);
    // Initial table dump, then End-of-RIB per family (RFC 4724 section 4.1).
    for (const f of families) {
      const t = this.tables.get(f)!;
      for (const d of t.destinations()) this.exportTo(n, s, f, d.key, d.best, undefined);
      s.eorDue.add(f);
    }
    this.markDirty(n);
  }

  down(peer: Peer, info: DownInfo): void {
    const n = this.neighbors.get(peer.address);
    if (n === undefined) return;
    const s = n.session;
    n.session = undefined;
    this.dirty.delete(n);
    if (s?.rtc) this.rtc.removePeer(peer.address);
    n.prefixes = 0;
    n.rejected.clear();
    const src = n.source;
    if (src === undefined || s === undefined) return;
    const gr = s.negotiated.gracefulRestart;
    // RFC 4724 section 4.2 applies to a session lost without a NOTIFICATION (TCP failure, a
    // restart); one that ended with a NOTIFICATION, or that we stopped, loses its routes.
    const keep = gr !== undefined && info.notification === undefined && info.reason !== 'manual-stop' && this.neighbors.has(peer.address);
    const grFamilies = new Set<FamilyName>();
    if (keep) {
      for (const f of gr.families) {
        const name = familyOf(f.afi, f.safi);
        if (name !== undefined && s.families.has(name)) grFamilies.add(name);
      }
    }
    for (const f of s.families) {
      const t = this.tables.get(f)!;
      if (grFamilies.has(f)) this.applyChanges(f, t.markStale(src));
      else this.applyChanges(f, t.withdrawAll(src));
    }
    if (grFamilies.size > 0) {
      if (n.stale) clearTimeout(n.stale.timer);
      const families = new Set([...(n.stale?.families ?? []), ...grFamilies]);
      const timer = setTimeout(() => {
        if (n.stale) this.sweep(n, [...n.stale.families]);
      }, gr!.time * 1000);
      timer.unref();
      n.stale = { families, timer };
    }
  }

  private sweep(n: Neighbor, families: FamilyName[]): void {
    const st = n.stale;
    if (st === undefined || n.source === undefined) return;
    for (const f of families) {
      if (!st.families.delete(f)) continue;
      this.applyChanges(f, this.tables.get(f)!.sweepStale(n.source));
    }
    if (st.families.size === 0) {
      clearTimeout(st.timer);
      n.stale = undefined;
    }
  }

  routeRefresh(peer: Peer, m: RouteRefreshMessage): void {
    const n = this.neighbors.get(peer.address);
    const s = n?.session;
    const f = familyOf(m.afi, m.safi);
    if (n === undefined || s === undefined || f === undefined || !s.families.has(f)) return;
    // RFC 2918: send the Adj-RIB-Out of the family again.
    const o = s.out.get(f)!;
    if (o.adj !== undefined) for (const [key, p] of o.adj) o.announce.set(key, p);
    else {
      for (const d of this.tables.get(f)!.destinations()) {
        if (d.best !== undefined && this.exported(n, s, f, d.best) !== undefined) o.announce.set(d.key, d.best);
      }
    }
    this.markDirty(n);
  }

  update(peer: Peer, u: UpdateMessage): void {
    const n = this.neighbors.get(peer.address);
    const s = n?.session;
    const src = n?.source;
    if (n === undefined || s === undefined || src === undefined) return;
    const eor = endOfRib(u);
    if (eor !== undefined) {
      const f = familyOf(eor.afi, eor.safi);
      if (f !== undefined && n.stale?.families.has(f)) this.sweep(n, [f]);
      return;
    }
    const ra = receivedAttributes(u.attributes, s.negotiated.fourOctetAs);
    // RFC 7606: treat-as-withdraw (also for missing well-known attributes, section 3d);
    // attribute-discard leaves the malformed attributes out, which receivedAttributes does.
    const withdrawAll = u.verdict?.action === 'treat-as-withdraw' || missingWellKnown(u) !== undefined;
    const rejected = withdrawAll ? undefined : checkReceived({ ...ra.input, nextHop: '' } as PathAttributes, src, this.self);
    const asWithdraw = withdrawAll || rejected !== undefined;

    if (u.withdrawn.length > 0) this.withdrawRoutes(n, s, src, 'ipv4-unicast', u.withdrawn);
    if (ra.mpUnreach !== undefined) {
      const f = familyOf(ra.mpUnreach.afi, ra.mpUnreach.safi);
      if (f !== undefined && s.families.has(f)) this.withdrawRoutes(n, s, src, f, ra.mpUnreach.withdrawn);
    }
    if (u.nlri.length > 0) {
      if (asWithdraw || ra.nextHop === undefined) this.withdrawRoutes(n, s, src, 'ipv4-unicast', u.nlri);
      else this.addRoutes(n, s, src, 'ipv4-unicast', u.nlri, this.store.intern(withNextHop(ra.input, ra.nextHop)));
    }
    const mp = ra.mpReach;
    if (mp !== undefined) {
      const f = familyOf(mp.afi, mp.safi);
      if (f !== undefined && s.families.has(f)) {
        const nh = mp.nextHop;
        if (asWithdraw || nh.kind === 'raw') this.withdrawRoutes(n, s, src, f, mp.nlri);
        else this.addRoutes(n, s, src, f, mp.nlri, this.store.intern(withNextHop(ra.input, nh.address)));
      }
    }
    const max = n.config.maxPrefix;
    if (max !== undefined && n.prefixes > max) {
      const fam = mp !== undefined ? { afi: mp.afi, safi: mp.safi } : { afi: 1, safi: 1 };
      const restart = n.config.maxPrefixRestart;
      peer.maxPrefixExceeded(fam.afi, fam.safi, max, restart === undefined ? undefined : restart * 1000);
    }
    // A burst of socket data can hold 100k routes: sending part of it while the rest is being
    // read lets the peers take it in meanwhile (and keeps the queues small). Grouping by
    // attribute set still fills every UPDATE.
    if (this.queued >= EARLY_FLUSH) this.flush();
  }

  private addRoutes(n: Neighbor, s: Session, src: BgpSource, f: FamilyName, list: readonly Nlri[], received: Attrs): void {
    const t = this.tables.get(f)!;
    let attrs = received;
    const policy = f === 'rtc' ? undefined : n.config.importPolicy;
    if (policy !== undefined) {
      const d = policy(received, f);
      if (d === 'reject') {
        this.rejectRoutes(n, src, f, list, received);
        return;
      }
      if (d !== 'accept' && d.localPref !== undefined) attrs = this.store.with(received, { localPref: d.localPref });
    }
    const rejected = n.rejected.get(f);
    const templates = this.nlri.get(f)!;
    const rtc = f === 'rtc';
    // Counting costs a lookup per route: only done when a limit needs it.
    const count = n.config.maxPrefix !== undefined;
    let grew = false;
    for (const nl of list) {
      const key = routeKey(f, nl);
      if (key === undefined) continue;
      if (count && !hasPathFrom(t, key, src)) n.prefixes++;
      if (rejected !== undefined && rejected.size > 0) rejected.delete(key);
      if (needsTemplate(nl)) templates.set(key, nl);
      const labels = nlriLabels(nl);
      const changes = labels === undefined ? t.add(key, { source: src, attrs }) : t.add(key, { source: src, attrs, labels });
      if (changes.length > 0) this.applyChanges(f, changes);
      if (rtc && nl.kind === 'rtc' && this.rtc.add(n.config.address, rtcMembership(nl))) grew = true;
    }
    if (grew && s.rtc) {
      s.rtcDirty = true;
      forgetExports(s);
      this.markDirty(n);
    }
  }

  /** An implicit withdrawal of what the peer had sent for these routes, then kept aside. */
  private rejectRoutes(n: Neighbor, src: BgpSource, f: FamilyName, list: readonly Nlri[], attrs: Attrs): void {
    const t = this.tables.get(f)!;
    let rejected = n.rejected.get(f);
    if (rejected === undefined) {
      rejected = new Map();
      n.rejected.set(f, rejected);
    }
    const count = n.config.maxPrefix !== undefined;
    for (const nl of list) {
      const key = routeKey(f, nl);
      if (key === undefined) continue;
      rejected.set(key, { attrs, labels: nlriLabels(nl) });
      if (count && hasPathFrom(t, key, src)) n.prefixes--;
      const changes = t.withdraw(key, { source: src });
      if (changes.length > 0) this.applyChanges(f, changes);
    }
  }

  private withdrawRoutes(n: Neighbor, s: Session, src: BgpSource, f: FamilyName, list: readonly Nlri[]): void {
    if (!s.families.has(f)) return;
    const t = this.tables.get(f)!;
    const rejected = n.rejected.get(f);
    let shrank = false;
    for (const nl of list) {
      const key = routeKey(f, nl);
      if (key === undefined) continue;
      if (rejected !== undefined && rejected.size > 0) rejected.delete(key);
      if (n.config.maxPrefix !== undefined && hasPathFrom(t, key, src)) n.prefixes--;
      const changes = t.withdraw(key, { source: src });
      if (changes.length > 0) this.applyChanges(f, changes);
      if (f === 'rtc' && nl.kind === 'rtc' && this.rtc.remove(n.config.address, rtcMembership(nl))) shrank = true;
    }
    if (shrank && s.rtc) {
      s.rtcDirty = true;
      forgetExports(s);
      this.markDirty(n);
    }
  }

  // ----- export -----

  private applyChanges(f: FamilyName, changes: readonly RouteChange[]): void {
    if (changes.length === 0) return;
    for (const n of this.neighbors.values()) {
      const s = n.session;
      if (s === undefined || !s.families.has(f)) continue;
      for (const c of changes) this.exportTo(n, s, f, c.key, c.best, c.previousBest);
    }
    const templates = this.nlri.get(f)!;
    if (templates.size > 0) for (const c of changes) if (c.best === undefined) templates.delete(c.key);
    for (const l of this.ribListeners) l(f, changes);
  }

  /**
   * Brings what the neighbour holds for `key` in line with the best path; `previous` is the
   * best path before the change (undefined when the neighbour cannot have had it).
   */
  private exportTo(n: Neighbor, s: Session, f: FamilyName, key: string, best: Path | undefined, previous: Path | undefined): void {
    const o = s.out.get(f)!;
    const attrs = best === undefined ? undefined : this.exported(n, s, f, best);
    let sent: Path | undefined;
    if (o.adj !== undefined) {
      sent = o.adj.get(key);
      if (attrs !== undefined) o.adj.set(key, best!);
      else if (sent !== undefined) o.adj.delete(key);
    } else if (previous !== undefined && this.exported(n, s, f, previous) !== undefined) sent = previous;
    if (attrs !== undefined) {
      if (sent === best) return;
      if (sent === undefined) o.count++;
      // A new best path that goes out exactly as the old one did is no news to the peer.
      else if (sameLabels(sent.labels, best!.labels) && this.exported(n, s, f, sent) === attrs) return;
      if (o.withdraw.size > 0) o.withdraw.delete(key);
      o.announce.set(key, best!);
    } else {
      if (sent === undefined) return;
      o.count--;
      if (o.announce.size > 0) o.announce.delete(key);
      // A template goes with its route (applyChanges), so such a key takes its NLRI along now.
      const t = this.nlri.get(f)!;
      const tmpl = t.size > 0 ? t.get(key) : undefined;
      o.withdraw.set(key, tmpl === undefined ? sent : this.nlriFor(tmpl, sent.labels));
    }
    this.queued++;
    this.markDirty(n);
  }

  /** The attributes `best` goes to the neighbour with, or undefined when it does not go. */
  private exported(n: Neighbor, s: Session, f: FamilyName, best: Path): Attrs | undefined {
    const [m0, m1] = s.memo;
    if (best.attrs === m0.attrs && best.source === m0.source && f === m0.family) return m0.result;
    if (best.attrs === m1.attrs && best.source === m1.source && f === m1.family) return m1.result;
    let attrs: Attrs | undefined;
    const d = this.exporter.decide(best, s.target);
    if (d.advertise && (!s.rtc || !isVpnFamily(f) || this.rtc.peerWantsRoute(n.config.address, d.attrs))) attrs = d.attrs;
    const p = n.exportPolicy;
    if (attrs !== undefined && p !== undefined) attrs = this.exportPolicy(s, p, f, attrs);
    // The older entry is overwritten and becomes the newer one.
    m1.attrs = best.attrs;
    m1.source = best.source;
    m1.family = f;
    m1.result = attrs;
    s.memo[0] = m1;
    s.memo[1] = m0;
    return attrs;
  }

  private exportPolicy(s: Session, p: CompiledExport, f: FamilyName, attrs: Attrs): Attrs | undefined {
    if (isVpnFamily(f) && !carriesAny(attrs, p.routeTargets)) return undefined;
    if (!p.nextHopSelf || attrs.nextHop === SELF) return attrs;
    let out = s.nhSelf.get(attrs);
    if (out === undefined) {
      out = this.store.with(attrs, { nextHop: SELF });
      s.nhSelf.set(attrs, out);
    }
    return out;
  }

  /** The NLRI to send for `key` with the path's labels. */
  private nlriOf(f: FamilyName, key: string, labels: readonly number[] | undefined): Nlri | undefined {
    const t = this.nlri.get(f)!;
    const tmpl = t.size > 0 ? t.get(key) : undefined;
    return tmpl === undefined ? routeNlri(f, key, labels) : this.nlriFor(tmpl, labels);
  }

  /** The NLRI to send: the received one when its labels are the path's, else a copy with them. */
  private nlriFor(t: Nlri, labels: readonly number[] | undefined): Nlri {
    if (t.kind === 'vpn') {
      if (t.pathId === undefined && nlriLabelsEqual(t, labels)) return t;
      return { kind: 'vpn', rd: t.rd, prefix: t.prefix, labels: labelStack(labels) };
    }
    if ('pathId' in t && t.pathId !== undefined) return { ...t, pathId: undefined };
    return t;
  }

  private markDirty(n: Neighbor): void {
    this.dirty.add(n);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.queued = 0;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const n of dirty) {
      const s = n.session;
      if (s === undefined) continue;
      if (s.rtcDirty) {
        s.rtcDirty = false;
        forgetExports(s);
        for (const f of s.families) {
          if (!isVpnFamily(f)) continue;
          for (const d of this.tables.get(f)!.destinations()) this.exportTo(n, s, f, d.key, d.best, undefined);
        }
        this.dirty.delete(n);
      }
      this.flushNeighbor(n, s);
    }
  }

  private flushNeighbor(n: Neighbor, s: Session): void {
    const w = new Writer(16384);
    let messages = 0;
    for (const [f, o] of s.out) {
      if (o.withdraw.size > 0) {
        const withdrawn: Nlri[] = [];
        for (const [key, v] of o.withdraw) {
          const nl = isPath(v) ? this.nlriOf(f, key, v.labels) : v;
          if (nl !== undefined) withdrawn.push(nl);
        }
        o.withdraw.clear();
        messages += s.builder.withdraw(w, f, withdrawn);
      }
      if (o.announce.size > 0) {
        const groups = new Map<Attrs, Nlri[]>();
        for (const [key, p] of o.announce) {
          const attrs = this.exported(n, s, f, p);
          if (attrs === undefined) continue;
          const nl = this.nlriOf(f, key, p.labels);
          if (nl === undefined) continue;
          let g = groups.get(attrs);
          if (g === undefined) {
            g = [];
            groups.set(attrs, g);
          }
          g.push(nl);
        }
        o.announce.clear();
        for (const [attrs, list] of groups) {
          const nh = attrs.nextHop === SELF ? s.target.localAddress : attrs.nextHop;
          messages += s.builder.announce(w, f, attrs, nh, list);
        }
      }
      if (s.eorDue.delete(f)) {
        s.builder.endOfRib(w, f);
        messages++;
      }
    }
    if (messages === 0) return;
    s.updatesOut += messages;
    n.peer.sendRaw(w.view().slice(), messages);
  }

  // ----- introspection -----

  neighborsSnapshot(): NeighborSnapshot[] {
    const out: NeighborSnapshot[] = [];
    for (const n of this.neighbors.values()) {
      const p = n.peer;
      const s = n.session;
      const snap: NeighborSnapshot = {
        address: n.config.address,
        remoteAs: n.config.remoteAs,
        rrClient: n.config.rrClient === true,
        passive: n.config.passive === true,
        state: p.state,
        uptimeSeconds: p.establishedAt === undefined ? undefined : Math.floor((Date.now() - p.establishedAt) / 1000),
        received: { ...p.received },
        sent: { ...p.sent },
        prefixesReceived: this.receivedCount(n),
        prefixesAdvertised: {},
      };
      if (s !== undefined) {
        for (const [f, o] of s.out) snap.prefixesAdvertised[f] = o.adj?.size ?? o.count;
        const neg = s.negotiated;
        snap.negotiated = {
          peerId: neg.peerId,
          peerAs: neg.peerAs,
          holdTime: neg.holdTime,
          keepaliveTime: neg.keepaliveTime,
          families: [...s.families],
          fourOctetAs: neg.fourOctetAs,
          routeRefresh: neg.routeRefresh,
          extendedMessage: neg.extendedMessage,
          peerCapabilities: neg.peerCapabilities.map((c) => c.kind),
        };
        if (neg.gracefulRestart) {
          snap.negotiated.gracefulRestart = {
            time: neg.gracefulRestart.time,
            restart: neg.gracefulRestart.restart,
            families: neg.gracefulRestart.families.map((f) => familyOf(f.afi, f.safi) ?? `${f.afi}/${f.safi}`),
          };
        }
      }
      if (n.stale) snap.staleFamilies = [...n.stale.families];
      const held = p.holdDownRemainingMs;
      if (held !== undefined) {
        snap.holdDown = { reason: 'max-prefix' };
        if (Number.isFinite(held)) snap.holdDown.until = new Date(Date.now() + held).toISOString();
      }
      const ld = p.lastDown;
      if (ld) {
        snap.lastDown = { reason: ld.reason, at: new Date(ld.at).toISOString() };
        if (ld.notification) snap.lastDown.notification = { code: ld.notification.code, subcode: ld.notification.subcode, sent: ld.sent === true };
      }
      out.push(snap);
    }
    return out;
  }

  private receivedCount(n: Neighbor): number {
    if (n.config.maxPrefix !== undefined || n.source === undefined) return n.prefixes;
    let c = 0;
    for (const t of this.tables.values()) c += t.keysFrom(n.source).length;
    return c;
  }

  /** Loc-RIB of a family: every destination with all its paths, the best one marked. */
  rib(family: FamilyName, limit = Infinity): RouteView[] {
    const out: RouteView[] = [];
    for (const d of this.tables.get(family)!.destinations()) {
      if (out.length >= limit) break;
      out.push({ key: d.key, paths: d.paths.map((p) => pathView(p, p === d.best)) });
    }
    return out;
  }

  /**
   * What the neighbour sent us in a family: the accepted paths (with what the import policy set)
   * and then those its import policy rejected, marked so.
   */
  adjRibIn(address: string, family: FamilyName): RouteView[] {
    const n = this.neighbors.get(address);
    if (n?.source === undefined) return [];
    const t = this.tables.get(family)!;
    const out: RouteView[] = [];
    for (const key of t.keysFrom(n.source)) {
      const d = t.get(key);
      if (d === undefined) continue;
      for (const p of d.paths) if (p.source.key === n.source.key) out.push({ key, paths: [pathView(p, p === d.best)] });
    }
    for (const [key, r] of n.rejected.get(family) ?? []) {
      const v: PathView = { source: n.source.peer, best: false, stale: false, rejected: true, attributes: attributesView(r.attrs) };
      if (r.labels) v.labels = [...r.labels];
      out.push({ key, paths: [v] });
    }
    return out;
  }

  /** What we advertise to the neighbour in a family (attributes as sent, next hop aside). */
  adjRibOut(address: string, family: FamilyName): { key: string; labels?: number[]; attributes: AttributesView }[] {
    const n = this.neighbors.get(address);
    const s = n?.session;
    const o = s?.out.get(family);
    if (n === undefined || s === undefined || o === undefined) return [];
    const out: { key: string; labels?: number[]; attributes: AttributesView }[] = [];
    const add = (key: string, p: Path | undefined) => {
      const attrs = p === undefined ? undefined : this.exported(n, s, family, p);
      if (attrs !== undefined) out.push({ key, ...(p!.labels ? { labels: [...p!.labels] } : {}), attributes: attributesView(attrs) });
    };
    if (o.adj !== undefined) for (const [key, p] of o.adj) add(key, p);
    else for (const d of this.tables.get(family)!.destinations()) add(d.key, d.best);
    return out;
  }

  snapshot(limit = 1000): { localAs: number; routerId: string; neighbors: NeighborSnapshot[]; rib: Record<FamilyName, RouteView[]> } {
    return {
      localAs: this.config.localAs,
      routerId: this.config.routerId,
      neighbors: this.neighborsSnapshot(),
      rib: {
        'ipv4-unicast': this.rib('ipv4-unicast', limit),
        vpnv4: this.rib('vpnv4', limit),
        vpnv6: this.rib('vpnv6', limit),
        rtc: this.rib('rtc', limit),
      },
    };
  }
}

function forgetExports(s: Session): void {
  s.memo[0] = emptyMemo();
  s.memo[1] = emptyMemo();
}

function hasPathFrom(t: Table, key: string, src: BgpSource): boolean {
  const d = t.get(key);
  if (d === undefined) return false;
  for (const p of d.paths) if (p.source.key === src.key) return true;
  return false;
}

function pathView(p: Path, best: boolean): PathView {
  const src = p.source;
  const v: PathView = {
    source: src.kind === 'bgp' ? src.peer : src.kind === 'xmpp' ? `xmpp:${src.agent}` : `local:${src.name}`,
    best,
    stale: p.stale,
    attributes: attributesView(p.attrs),
  };
  if (p.labels) v.labels = [...p.labels];
  return v;
}
