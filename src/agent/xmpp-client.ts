import { emptyAgentView, type AgentView } from '../config/agent-view.js';
import { DecodeError } from '../../codecs/util/errors.js';
import {
  KEEPALIVE,
  XmppFramer,
  agentEor,
  agentEorIqs,
  agentStreamOpen,
  applyConfigChange,
  configNodeRef,
  configSubscribe,
  decodeConfigIq,
  decodeFrame,
  encodeStanza,
  encodeStreamOpen,
  nodeFamily,
  routePublish,
  routeSubscribe,
  unicastEntry,
  unicastNextHop,
  viewNodes,
  type ConfigChange,
  type ConfigIq,
  type ConfigNodeRef,
  type EventMessage,
  type Stanza,
  type StreamError,
  type UnicastEntry,
} from '../../codecs/xmpp/index.js';
import { intToIpv4, parsePrefix } from '../vrouter/addr.js';
import type { TunnelEncap } from '../vrouter/nexthop.js';

/**
 * The vRouter agent's side of its XMPP channel to one control node, sans-IO: the adapter
 * (client-adapter.ts) owns the socket and the clock, feeds bytes, TCP events and timer
 * expiries in, and runs the actions that come out, in order.
 *
 * Unlike a session, a client outlives its TCP connections: it keeps what the agent wants the
 * control node to know (routing-instance subscriptions, local routes) and replays it on every
 * new session, and it owns the reconnect back-off. Dialect notes: identities 1, framing 2,
 * negotiation 3.1 and, with `tls`, 3.2 (the CN's header, its features offering STARTTLS,
 * `<starttls/>`, `<proceed/>`, then a `start-tls` action: the adapter runs the handshake and
 * answers `tlsEstablished` / `tlsFailed`, and the headers are exchanged again over TLS; a CN
 * that does not offer STARTTLS is left, not spoken to in plain), timers 4, sequence 5,
 * subscribe 8.2, publish + collection 8.3, agent EoR 8.5, route items and retracts 10.1, CN EoR
 * 10.2, how items are consumed 10.3, config subscription 8.1 and config IQs 15.
 *
 * Routes received are not interpreted here beyond parsing: they go out as `routes` actions
 * for route-sync. Graceful restart on the agent side is signalled, not done, here: `down`
 * (this CN's routes become stale, keep forwarding on them), then `sweep-stale` once the new
 * session's CN end-of-RIB arrives, or its fallback timer expires, or the long-lived stale
 * timer expires while the CN stays away.
 *
 * Config is held the same way: the view survives a lost session, a new session's pushes are
 * merged into it (so nothing the agent runs disappears while the CN resends), and what the new
 * session did not resend by the time its routes are swept is dropped then. The dialect has no
 * end-of-config marker (section 5); the CN's end-of-RIB, which weft's CN sends only after the
 * whole view, stands in for one.
 */

export type ClientTimer = 'connect' | 'hold' | 'keepalive' | 'eor-rx' | 'stale';
/** `await-features`, `await-proceed` and `tls-handshake` only with `tls`, before `await-header` again over TLS. */
export type ClientState = 'idle' | 'connect-wait' | 'connecting' | 'await-header' | 'await-features' | 'await-proceed' | 'tls-handshake' | 'established';

/** A next hop of a route received from the CN. */
export interface ReceivedNextHop {
  /** Tunnel endpoint: the advertising compute's vhost0 address. */
  address: string;
  label: number;
  vni: number;
  /** `gre`, `udp`, `vxlan`, `mpls`, `native` in the CN's order. */
  encapsulations: string[];
  virtualNetwork: string;
  tags: number[];
}

/** An inet route as the CN sent it: one item, one next hop per ECMP path. */
export interface ReceivedRoute {
  /** Routing-instance name (the VRF's FQ name). */
  vrf: string;
  /** `a.b.c.d/n`, host bits cleared. */
  prefix: string;
  nextHops: ReceivedNextHop[];
  virtualNetwork: string;
  /** 0 on the wire is taken as 100 (LOW), as the real agent does (10.3). */
  localPreference: number;
  sequenceNumber: number;
  securityGroups: number[];
  communityTags: string[];
}

export type RouteEvent = { kind: 'update'; route: ReceivedRoute } | { kind: 'withdraw'; vrf: string; prefix: string };

export type DownReason =
  | 'peer-closed'
  | 'hold-timeout'
  | 'peer-stream-close'
  | 'peer-stream-error'
  /** The CN sent bytes this side cannot frame or decode. */
  | 'protocol-error'
  /** The TLS handshake failed or TLS broke (certificate not verified, alert). */
  | 'tls-failed'
  | 'stopped';

export type SweepReason = 'end-of-rib' | 'eor-timeout' | 'stale-timeout';

export type ClientAction =
  /** Open a TCP connection to the CN; answer with `connected` or `connectFailed`. */
  | { type: 'connect' }
  | { type: 'send'; bytes: Uint8Array }
  /** (Re)start a one-shot timer; replaces a running timer of the same name. */
  | { type: 'arm-timer'; timer: ClientTimer; ms: number }
  | { type: 'cancel-timer'; timer: ClientTimer }
  /** Close the TCP connection after the sends before it. */
  | { type: 'disconnect' }
  | { type: 'established' }
  | { type: 'routes'; events: RouteEvent[] }
  /** The configuration this CN pushed (config IQs, dialect notes 15), merged: the agent's whole view. */
  | { type: 'config'; view: AgentView }
  /** The session this CN's routes came from is gone: keep them, stale. */
  | { type: 'down'; reason: DownReason; error?: StreamError; detail?: string }
  /** Remove this CN's routes still stale. */
  | { type: 'sweep-stale'; reason: SweepReason }
  /**
   * Upgrade the connection to TLS as client, now, with these files: the sends before it leave
   * in plain, everything after goes through TLS. Answer with `tlsEstablished` or `tlsFailed`.
   */
  | { type: 'start-tls'; tls: ClientTls }
  | { type: 'ignored'; what: string };

/**
 * TLS towards the control node (dialect notes 3.2), as PEM file paths, read at each handshake.
 * `cert` and `key` go together (the CN may ask for them); with `ca` the CN's certificate must
 * verify against it (the chain only: the dialect has no name to check it against).
 */
export interface ClientTls {
  cert?: string;
  key?: string;
  ca?: string;
}

/** What the agent publishes for one local route (section 8.3). */
export interface LocalRoute {
  /** Routing-instance name. */
  vrf: string;
  /** `a.b.c.d/n`. */
  prefix: string;
  /** L3 label of the interface next hop. */
  label: number;
  virtualNetwork: string;
  securityGroups?: number[];
  tags?: number[];
  /** Default 200 (a VM port's HIGH path preference). */
  localPreference?: number;
  /** Mobility sequence number. */
  sequenceNumber?: number;
  /** Default `interface`. */
  subProtocol?: string;
}

export interface AgentClientOptions {
  /** Agent name = its JID = the compute hostname. */
  agent: string;
  /** Next hop of every published route: the tunnel endpoint. */
  vhostIp: string;
  /** vhost0 MAC, sent in the next hop's `mac`. */
  vhostMac?: string;
  /** Encapsulation priority; sent as the next hop's list in this order (MPLS ones only, 8.3). */
  encapPriority?: readonly TunnelEncap[];
  subcluster?: string;
  /** Default 90 s (section 4). */
  holdTimeMs?: number;
  /** Default a third of the hold time. */
  keepaliveMs?: number;
  /** No CN end-of-RIB this long after Established: sweep anyway (agent EoR-rx fallback, 60 s). */
  eorRxFallbackMs?: number;
  /** Stale routes of a CN that stays away are swept after this long (LLGR stale time, 30 days). */
  staleTimeMs?: number;
  /** Agent end-of-RIB forms (8.5): the message the real agent sends, the IQ pair the CN acts on, or both. */
  eorForm?: 'message' | 'iqs' | 'both';
  /** Delay before connect attempt number `attempt` (0 after Established or at start). */
  reconnectDelay?: (attempt: number) => number;
  /** [0, 1) random source for the back-off jitter (tests pass a fixed one). */
  random?: () => number;
  maxUnitBytes?: number;
  /**
   * Send the config subscription (section 5 step 5; default true). Only the agent's config
   * control node (the first of its list, section 1) should; the agent sets false for the others.
   */
  configSubscribe?: boolean;
  /** Negotiate STARTTLS on every session; absent: plain (section 3.1). */
  tls?: ClientTls;
}

/** kConnectInterval: the back-off cap in seconds ([C:src/xmpp/xmpp_state_machine.h]). */
const CONNECT_INTERVAL_S = 30;
const JITTER_PERCENT = 10;

/**
 * The dialect's reconnect back-off (section 4): 0, 1, 2, 4, 8, 16, then 30 s; 0 means 50 ms;
 * then the C++ jitter, which is not symmetric: ms*0.9 plus up to 19 % of that, in integer
 * arithmetic ([C:src/xmpp/xmpp_state_machine.cc `GetConnectTime`, `StartConnectTimer`]).
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const backoff = Math.min(Math.max(attempt, 0), 6);
  const seconds = Math.min(backoff ? 1 << (backoff - 1) : 0, CONNECT_INTERVAL_S);
  let ms = seconds ? seconds * 1000 : 50;
  ms = Math.trunc((ms * (100 - JITTER_PERCENT)) / 100);
  const r = Math.min(Math.floor(random() * JITTER_PERCENT * 2), JITTER_PERCENT * 2 - 1);
  return ms + Math.trunc((ms * r) / 100);
}

const ENCAP_NAME: Record<TunnelEncap, string | undefined> = { MPLSoGRE: 'gre', MPLSoUDP: 'udp', VXLAN: undefined };
const DEFAULT_PRIORITY: readonly TunnelEncap[] = ['MPLSoUDP', 'MPLSoGRE', 'VXLAN'];
/** Far beyond any hold time; adapters clamp timers to what setTimeout can hold. */
const DEFAULT_STALE_MS = 2_592_000_000;

const utf8 = new TextEncoder();

function configKey(n: { type: string; name: string }): string {
  return `${n.type}\u0000${n.name}`;
}

/** Type and name of every object of a view. */
function viewNodesOf(v: AgentView): ConfigNodeRef[] {
  return viewNodes(v).map(configNodeRef);
}

function routeKey(vrf: string, prefix: string): string {
  return `${vrf}\u0000${prefix}`;
}

/** `a.b.c.d/n` with host bits cleared, or undefined. */
export function canonicalIpv4Prefix(text: string): string | undefined {
  if (text.indexOf('/') < 0) return undefined;
  try {
    const { addr, plen } = parsePrefix(text);
    return `${intToIpv4(addr)}/${plen}`;
  } catch {
    return undefined;
  }
}

export class AgentXmppClient {
  readonly agent: string;
  private readonly opts: Required<Omit<AgentClientOptions, 'vhostMac' | 'subcluster' | 'tls'>> & { vhostMac: string; subcluster: string; tls: ClientTls | undefined };
  /** The config pushed by this CN, merged (section 15). */
  private view: AgentView;
  /** Nodes this session has (re)sent, while objects of an earlier session wait for the sweep. */
  private configFresh: Set<string> | undefined;
  private stateValue: ClientState = 'idle';
  private framer: XmppFramer;
  /** Routing instances the agent wants, with their instance ids (= local VRF index). */
  private readonly subs = new Map<string, number>();
  /** Local routes the agent wants published, by VRF and prefix. */
  private readonly routes = new Map<string, LocalRoute>();
  private readonly armed = new Set<ClientTimer>();
  private attempts = 0;
  /** Process-wide in the real agent (`subscribe<N>`, `pubsub<N>`); per client here. */
  private seq = 0;
  private lastRx = 0;
  /** Routes learnt on some session wait for a sweep (stale) since this time. */
  private staleSince: number | undefined;
  private eorReceived = false;
  private sessions = 0;
  /** TLS is up on the current connection. */
  private tlsUp = false;
  private failure: string | undefined;

  constructor(options: AgentClientOptions) {
    const hold = options.holdTimeMs ?? 90_000;
    this.agent = options.agent;
    const random = options.random ?? Math.random;
    this.opts = {
      agent: options.agent,
      vhostIp: options.vhostIp,
      vhostMac: options.vhostMac ?? '',
      encapPriority: options.encapPriority ?? DEFAULT_PRIORITY,
      subcluster: options.subcluster ?? '',
      holdTimeMs: hold,
      keepaliveMs: options.keepaliveMs ?? Math.floor(hold / 3),
      eorRxFallbackMs: options.eorRxFallbackMs ?? 60_000,
      staleTimeMs: options.staleTimeMs ?? DEFAULT_STALE_MS,
      eorForm: options.eorForm ?? 'both',
      reconnectDelay: options.reconnectDelay ?? ((a) => reconnectDelayMs(a, random)),
      random,
      maxUnitBytes: options.maxUnitBytes ?? 1 << 20,
      configSubscribe: options.configSubscribe ?? true,
      tls: options.tls,
    };
    this.view = emptyAgentView(options.agent, '');
    this.framer = new XmppFramer({ maxUnitBytes: this.opts.maxUnitBytes });
  }

  get state(): ClientState {
    return this.stateValue;
  }

  get established(): boolean {
    return this.stateValue === 'established';
  }

  /** Whether this session's CN end-of-RIB has arrived. */
  get endOfRibReceived(): boolean {
    return this.eorReceived;
  }

  /** Sessions established so far. */
  get sessionCount(): number {
    return this.sessions;
  }

  /** Whether the current connection runs over TLS. */
  get tls(): boolean {
    return this.tlsUp;
  }

  /**
   * How the last connection ended (`<reason>: <detail>`), undefined before any did: a failure
   * before Established (TLS refused, certificate not verified...) emits no `down`, so this is
   * where it shows.
   */
  get lastFailure(): string | undefined {
    return this.failure;
  }

  /** The configuration this CN pushed, merged so far. */
  get configView(): AgentView {
    return this.view;
  }

  subscriptions(): ReadonlyMap<string, number> {
    return this.subs;
  }

  localRoutes(): LocalRoute[] {
    return [...this.routes.values()];
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Begin connecting (after the attempt-0 delay, as the C++ client does). */
  start(now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.stateValue !== 'idle') return out;
    this.lastRx = now;
    this.scheduleConnect(out);
    return out;
  }

  /** Stop for good: drop the connection and every timer. Stale routes stay the caller's. */
  stop(_now: number): ClientAction[] {
    const out: ClientAction[] = [];
    const was = this.stateValue;
    for (const t of [...this.armed]) this.cancel(out, t);
    if (was !== 'idle' && was !== 'connect-wait') out.push({ type: 'disconnect' });
    if (was === 'established') out.push({ type: 'down', reason: 'stopped' });
    this.stateValue = 'idle';
    return out;
  }

  /** TCP is up: send our stream header and wait for the CN's (never anything else before it, 2.8). */
  connected(now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.stateValue !== 'connecting') return out;
    this.tlsUp = false;
    this.openStream(out, now);
    this.arm(out, 'hold', this.opts.holdTimeMs);
    return out;
  }

  /** The handshake `start-tls` began completed: the stream restarts from our header, over TLS. */
  tlsEstablished(now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.stateValue !== 'tls-handshake') return out;
    this.tlsUp = true;
    this.openStream(out, now);
    return out;
  }

  /** TLS failed (handshake, certificate, alert, unreadable files): the connection is over. */
  tlsFailed(now: number, detail: string): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.stateValue === 'idle' || this.stateValue === 'connect-wait' || this.stateValue === 'connecting') return out;
    this.lose(out, now, 'tls-failed', true, detail);
    return out;
  }

  /** The connect attempt failed (refused, unreachable, timed out). */
  connectFailed(_now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.stateValue !== 'connecting') return out;
    this.scheduleConnect(out);
    return out;
  }

  /** TCP closed or reset under us. */
  peerClosed(now: number): ClientAction[] {
    const out: ClientAction[] = [];
    const was = this.stateValue;
    if (was === 'idle' || was === 'connect-wait' || was === 'connecting') return out;
    // Before Established a close is a refusal (a CN that does not take our certificate just closes): say where it came.
    this.lose(out, now, 'peer-closed', false, was === 'established' ? undefined : `closed by the control node in ${was}${this.tlsUp ? ' over TLS' : ''}`);
    return out;
  }

  receive(bytes: Uint8Array, now: number): ClientAction[] {
    const out: ClientAction[] = [];
    // Nothing before TCP is up, and during the handshake the bytes are TLS's, not the stream's.
    if (this.stateValue === 'idle' || this.stateValue === 'connect-wait' || this.stateValue === 'connecting' || this.stateValue === 'tls-handshake') return out;
    // Any byte restarts the hold timer, stanza or keepalive (section 4).
    this.lastRx = now;
    let frames;
    try {
      frames = this.framer.push(bytes);
    } catch (e) {
      return this.protocolError(out, now, e);
    }
    const events: RouteEvent[] = [];
    for (const f of frames) {
      let s: Stanza | { kind: 'whitespace' };
      try {
        s = decodeFrame(f);
      } catch (e) {
        this.flushEvents(out, events);
        return this.protocolError(out, now, e);
      }
      if (!this.handle(s, out, events, now)) {
        this.flushEvents(out, events);
        return out;
      }
    }
    this.flushEvents(out, events);
    if (this.framer.error) return this.protocolError(out, now, this.framer.error);
    return out;
  }

  timerExpired(timer: ClientTimer, now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (!this.armed.delete(timer)) return out;
    switch (timer) {
      case 'connect':
        if (this.stateValue === 'connect-wait') {
          this.stateValue = 'connecting';
          out.push({ type: 'connect' });
        }
        break;
      case 'hold': {
        const idle = now - this.lastRx;
        if (idle >= this.opts.holdTimeMs) this.lose(out, now, 'hold-timeout', true, `nothing received for ${idle} ms`);
        else this.arm(out, 'hold', this.opts.holdTimeMs - idle);
        break;
      }
      case 'keepalive':
        if (this.stateValue === 'established') {
          out.push({ type: 'send', bytes: KEEPALIVE });
          this.arm(out, 'keepalive', this.opts.keepaliveMs);
        }
        break;
      case 'eor-rx':
        if (this.stateValue === 'established' && !this.eorReceived) this.sweep(out, 'eor-timeout');
        break;
      case 'stale':
        if (this.staleSince === undefined) break;
        if (now - this.staleSince >= this.opts.staleTimeMs) this.sweep(out, 'stale-timeout');
        else this.arm(out, 'stale', this.opts.staleTimeMs - (now - this.staleSince));
        break;
    }
    return out;
  }

  // ---- what the agent wants the CN to know ---------------------------------------------

  /** Subscribe to a routing instance; `instanceId` is the local VRF index (section 8.2). */
  subscribe(vrf: string, instanceId: number): ClientAction[] {
    const out: ClientAction[] = [];
    const have = this.subs.get(vrf);
    if (have === instanceId) return out;
    // A second subscribe for the same VRF closes the session at the CN: resubscribe instead.
    if (have !== undefined) out.push(...this.unsubscribe(vrf));
    this.subs.set(vrf, instanceId);
    if (this.established) this.sendSubscribe(out, vrf, instanceId, false);
    return out;
  }

  /** Dissociate the instance's routes, then unsubscribe (section 5, step 14). */
  unsubscribe(vrf: string): ClientAction[] {
    const out: ClientAction[] = [];
    const id = this.subs.get(vrf);
    if (id === undefined) return out;
    for (const [k, r] of this.routes) {
      if (r.vrf !== vrf) continue;
      this.routes.delete(k);
      if (this.established) this.sendRoute(out, r, false);
    }
    this.subs.delete(vrf);
    if (this.established) this.sendSubscribe(out, vrf, id, true);
    return out;
  }

  /** Add or change a local route. Its instance must be subscribed first (8.2: else the CN closes). */
  publish(route: LocalRoute): ClientAction[] {
    const out: ClientAction[] = [];
    if (!this.subs.has(route.vrf)) throw new Error(`publish in ${route.vrf} before subscribing to it`);
    const prefix = canonicalIpv4Prefix(route.prefix);
    if (prefix === undefined) throw new TypeError(`not an IPv4 prefix: ${route.prefix}`);
    const r = { ...route, prefix };
    this.routes.set(routeKey(r.vrf, prefix), r);
    if (this.established) this.sendRoute(out, r, true);
    return out;
  }

  /** Withdraw a local route (dissociate; the publish still carries the item, 8.3). */
  withdraw(vrf: string, prefix: string): ClientAction[] {
    const out: ClientAction[] = [];
    const p = canonicalIpv4Prefix(prefix);
    if (p === undefined) return out;
    const k = routeKey(vrf, p);
    const r = this.routes.get(k);
    if (!r) return out;
    this.routes.delete(k);
    if (this.established) this.sendRoute(out, r, false);
    return out;
  }

  /** The entry an agent publishes for a local route (7.1 / 8.3: one next hop, the vhost). */
  entryOf(r: LocalRoute): UnicastEntry {
    const encaps: string[] = [];
    for (const e of this.opts.encapPriority) {
      const n = ENCAP_NAME[e];
      if (n !== undefined && !encaps.includes(n)) encaps.push(n);
    }
    const seqno = r.sequenceNumber ?? 0;
    return unicastEntry({
      nlri: { af: 1, safi: 1, address: r.prefix },
      nextHops: [
        unicastNextHop({
          af: 1,
          address: this.opts.vhostIp,
          mac: this.opts.vhostMac,
          label: r.label,
          vni: 0,
          tunnelEncapsulation: encaps,
          virtualNetwork: r.virtualNetwork,
          tags: r.tags ?? [],
        }),
      ],
      sequenceNumber: seqno,
      securityGroups: r.securityGroups ?? [],
      localPreference: r.localPreference ?? 200,
      loadBalance: { fields: [], decision: 'field-hash' },
      subProtocol: r.subProtocol ?? 'interface',
    });
  }

  // ---- internals ------------------------------------------------------------------------

  /** Returns false when the session ended while handling `s`. */
  private handle(s: Stanza | { kind: 'whitespace' }, out: ClientAction[], events: RouteEvent[], now: number): boolean {
    if (s.kind === 'whitespace') return true;
    if (this.stateValue === 'await-header') {
      if (s.kind !== 'stream-open') {
        this.flushEvents(out, events);
        this.lose(out, now, 'protocol-error', true, `<${s.kind}> before the stream header`);
        return false;
      }
      if (this.opts.tls && !this.tlsUp) this.stateValue = 'await-features';
      else this.establish(out, now);
      return true;
    }
    if (this.stateValue !== 'established') return this.negotiate(s, out, now);
    switch (s.kind) {
      case 'stream-close':
        this.flushEvents(out, events);
        this.lose(out, now, 'peer-stream-close', true);
        return false;
      case 'stream-error':
        this.flushEvents(out, events);
        this.lose(out, now, 'peer-stream-error', true, s.text, s);
        return false;
      case 'eor':
        if (!s.to?.includes('bgp-peer')) {
          out.push({ type: 'ignored', what: `message to ${s.to ?? '(none)'}` });
          return true;
        }
        // Routes before the marker must be in place before the sweep.
        this.flushEvents(out, events);
        if (!this.eorReceived) {
          this.eorReceived = true;
          this.cancel(out, 'eor-rx');
          this.sweep(out, 'end-of-rib');
        }
        return true;
      case 'event':
        if (!s.to?.includes('bgp-peer')) out.push({ type: 'ignored', what: `message to ${s.to ?? '(none)'}` });
        else this.consume(s, out, events);
        return true;
      case 'config':
        if (s.type !== 'set' || !s.to?.includes('config')) {
          out.push({ type: 'ignored', what: `config iq type ${s.type ?? '(none)'} to ${s.to ?? '(none)'}` });
          return true;
        }
        return this.configIq(s, out, events, now);
      default:
        out.push({ type: 'ignored', what: s.kind });
        return true;
    }
  }

  /** Section 10.3: items replace the whole route; retract ids are prefixes. */
  private consume(m: EventMessage, out: ClientAction[], events: RouteEvent[]): void {
    const f = nodeFamily(m.node);
    if (!f || f.afi !== 1 || (f.safi !== 1 && f.safi !== 4)) {
      out.push({ type: 'ignored', what: `items of ${m.node}` });
      return;
    }
    const vrf = m.node.slice(m.node.indexOf('/', m.node.indexOf('/') + 1) + 1);
    if (!this.subs.has(vrf)) {
      out.push({ type: 'ignored', what: `items of ${vrf}, not subscribed` });
      return;
    }
    for (const it of m.items) {
      const e = it.entry;
      if (e.schema !== 'unicast') continue;
      const prefix = canonicalIpv4Prefix(it.id ?? e.nlri.address);
      if (prefix === undefined) {
        out.push({ type: 'ignored', what: `item ${it.id ?? e.nlri.address}: not an IPv4 prefix` });
        continue;
      }
      events.push({
        kind: 'update',
        route: {
          vrf,
          prefix,
          nextHops: e.nextHops.map((h) => ({
            address: h.address,
            label: h.label,
            vni: h.vni,
            encapsulations: h.tunnelEncapsulation,
            virtualNetwork: h.virtualNetwork,
            tags: h.tags,
          })),
          virtualNetwork: e.virtualNetwork,
          localPreference: e.localPreference === 0 ? 100 : e.localPreference,
          sequenceNumber: e.mobility.seqno !== 0 ? e.mobility.seqno : e.sequenceNumber,
          securityGroups: e.securityGroups,
          communityTags: e.communityTags,
        },
      });
    }
    for (const id of m.retracts) {
      const prefix = canonicalIpv4Prefix(id);
      if (prefix === undefined) out.push({ type: 'ignored', what: `retract ${id}: not an IPv4 prefix` });
      else events.push({ kind: 'withdraw', vrf, prefix });
    }
  }

  /** Section 15: merge the IQ into the view and hand the whole view on. Returns false when it did not decode. */
  private configIq(s: ConfigIq, out: ClientAction[], events: RouteEvent[], now: number): boolean {
    let change: ConfigChange;
    try {
      change = decodeConfigIq(s);
    } catch (e) {
      // As any CN stanza this side cannot read: the session goes, the view stays.
      this.flushEvents(out, events);
      this.protocolError(out, now, e);
      return false;
    }
    // Route events before it stay before it.
    this.flushEvents(out, events);
    this.view = applyConfigChange(this.view, change);
    if (this.configFresh) {
      for (const n of change.update) this.configFresh.add(configKey(configNodeRef(n)));
      for (const r of change.delete) this.configFresh.delete(configKey(r));
    }
    out.push({ type: 'config', view: this.view });
    return true;
  }

  /** Objects of an earlier session the current one did not resend: gone from the model meanwhile. */
  private sweepConfig(out: ClientAction[]): void {
    const fresh = this.configFresh;
    this.configFresh = undefined;
    if (!fresh) return;
    const stale: ConfigChange = { update: [], delete: [] };
    for (const n of viewNodesOf(this.view)) if (n.type !== 'virtual-router' && !fresh.has(configKey(n))) stale.delete.push(n);
    if (stale.delete.length === 0) return;
    this.view = applyConfigChange(this.view, stale);
    out.push({ type: 'config', view: this.view });
  }

  /** Section 3.2 from the agent's side; returns false when the connection ended. */
  private negotiate(s: Stanza, out: ClientAction[], now: number): boolean {
    let why: string;
    if (s.kind === 'stream-error') {
      this.lose(out, now, 'peer-stream-error', true, s.text, s);
      return false;
    }
    if (s.kind === 'stream-close') {
      this.lose(out, now, 'peer-stream-close', true);
      return false;
    }
    if (this.stateValue === 'await-features' && s.kind === 'features') {
      // Never fall back to plain: a CN that does not offer TLS may not be the one configured.
      if (!s.starttls) why = 'the control node does not offer STARTTLS';
      else {
        this.sendStanza(out, { kind: 'starttls' });
        this.stateValue = 'await-proceed';
        return true;
      }
    } else if (this.stateValue === 'await-proceed' && s.kind === 'proceed') {
      this.stateValue = 'tls-handshake';
      out.push({ type: 'start-tls', tls: this.opts.tls ?? {} });
      return true;
    } else if (s.kind === 'tls-failure') why = 'the control node refused STARTTLS (<failure/>)';
    else why = `<${s.kind}> while negotiating TLS (${this.stateValue})`;
    this.lose(out, now, 'protocol-error', true, why);
    return false;
  }

  /** A new stream on this connection: fresh framer, our header first (never anything before it, 2.8). */
  private openStream(out: ClientAction[], now: number): void {
    this.stateValue = 'await-header';
    this.framer = new XmppFramer({ maxUnitBytes: this.opts.maxUnitBytes });
    this.lastRx = now;
    out.push({ type: 'send', bytes: utf8.encode(encodeStreamOpen(agentStreamOpen(this.agent, this.opts.subcluster))) });
  }

  private flushEvents(out: ClientAction[], events: RouteEvent[]): void {
    if (events.length) out.push({ type: 'routes', events: events.splice(0) });
  }

  /** Section 3.1: on the CN's header, one keepalive, Established; then section 5 steps 8, 9, 12. */
  private establish(out: ClientAction[], _now: number): void {
    this.stateValue = 'established';
    this.attempts = 0;
    this.sessions++;
    this.eorReceived = false;
    out.push({ type: 'send', bytes: KEEPALIVE });
    this.arm(out, 'keepalive', this.opts.keepaliveMs);
    this.arm(out, 'eor-rx', this.opts.eorRxFallbackMs);
    out.push({ type: 'established' });
    // Step 5: config before the routing instances (the real agent learns them from it).
    if (this.opts.configSubscribe) {
      this.configFresh = new Set();
      this.sendStanza(out, configSubscribe(this.agent));
    }
    for (const [vrf, id] of this.subs) this.sendSubscribe(out, vrf, id, false);
    for (const r of this.routes.values()) this.sendRoute(out, r, true);
    const form = this.opts.eorForm;
    if (form !== 'iqs') this.sendStanza(out, agentEor(this.agent));
    if (form !== 'message') for (const s of agentEorIqs(this.agent)) this.sendStanza(out, s);
  }

  private sendSubscribe(out: ClientAction[], vrf: string, instanceId: number, unsubscribe: boolean): void {
    this.sendStanza(out, routeSubscribe({ from: this.agent, vrf, instanceId, seq: ++this.seq, unsubscribe }));
  }

  private sendRoute(out: ClientAction[], r: LocalRoute, add: boolean): void {
    const [pub, col] = routePublish({ from: this.agent, vrf: r.vrf, entry: this.entryOf(r), add, seq: ++this.seq });
    // One send: the publish is held by the CN until its collection (2.7), so keep them together.
    out.push({ type: 'send', bytes: utf8.encode(encodeStanza(pub) + encodeStanza(col)) });
  }

  private sendStanza(out: ClientAction[], s: Stanza): void {
    out.push({ type: 'send', bytes: utf8.encode(encodeStanza(s)) });
  }

  private protocolError(out: ClientAction[], now: number, e: unknown): ClientAction[] {
    const detail = e instanceof DecodeError ? e.message : e instanceof Error ? e.message : String(e);
    this.lose(out, now, 'protocol-error', true, detail);
    return out;
  }

  /** The session is over: stale its routes, schedule the next attempt. */
  private lose(out: ClientAction[], now: number, reason: DownReason, disconnect: boolean, detail?: string, error?: StreamError): void {
    const wasEstablished = this.stateValue === 'established';
    this.tlsUp = false;
    this.failure = detail === undefined ? reason : `${reason}: ${detail}`;
    for (const t of ['hold', 'keepalive', 'eor-rx'] as const) this.cancel(out, t);
    if (disconnect) out.push({ type: 'disconnect' });
    if (wasEstablished) {
      const down: ClientAction = { type: 'down', reason };
      if (error) down.error = error;
      if (detail !== undefined) down.detail = detail;
      out.push(down);
      if (this.staleSince === undefined) {
        this.staleSince = now;
        this.arm(out, 'stale', this.opts.staleTimeMs);
      }
    }
    this.scheduleConnect(out);
  }

  private sweep(out: ClientAction[], reason: SweepReason): void {
    // The new session's config is complete by its end-of-RIB (or the fallback for it).
    if (reason !== 'stale-timeout') this.sweepConfig(out);
    this.staleSince = undefined;
    this.cancel(out, 'stale');
    out.push({ type: 'sweep-stale', reason });
  }

  private scheduleConnect(out: ClientAction[]): void {
    this.stateValue = 'connect-wait';
    this.arm(out, 'connect', this.opts.reconnectDelay(this.attempts));
    this.attempts++;
  }

  private arm(out: ClientAction[], timer: ClientTimer, ms: number): void {
    this.armed.add(timer);
    out.push({ type: 'arm-timer', timer, ms });
  }

  private cancel(out: ClientAction[], timer: ClientTimer): void {
    if (this.armed.delete(timer)) out.push({ type: 'cancel-timer', timer });
  }
}
