import { DecodeError } from '../../../codecs/util/errors.js';
import {
  CONTROL_NODE_JID,
  XmppFramer,
  configIqs,
  decodeConfigSubscribe,
  decodeFrame,
  encodeStanza,
  encodeStreamOpen,
  nodeFamily,
  routeUpdateMessages,
  routeWithdrawMessages,
  schemaForFamily,
  serverEor,
  serverStreamOpen,
  streamError,
  streamErrorFor,
  tlsFeatures,
  type CollectionIq,
  type ConfigChange,
  type Iq,
  type PublishItem,
  type PublishIq,
  type Stanza,
  type StreamError,
  type StreamErrorCondition,
  type StreamOpen,
  type SubscribeIq,
  type UnicastEntry,
} from '../../../codecs/xmpp/index.js';
import type { Path } from '../../rib/path.js';
import type { AgentRoute, RouteUpdate, UnicastFamily } from '../route-hub.js';
import { agentRoute, itemPrefix, routeItem, unicastFamilyOf, type NetworkOfIndex } from './agent-route.js';
import { ProtocolViolation, violation } from './violation.js';

/**
 * The control node's side of one agent's XMPP session, sans-IO: bytes and timer expiries in,
 * actions out. The adapter (server.ts) owns the socket and the clock and runs the actions in
 * order; routes go to and come from a RouteHub through it.
 *
 * Dialect notes: negotiation 3.1, and 3.2 when `requireTls` is set: after the headers the
 * session offers `<starttls><required/>`, takes nothing but `<starttls/>`, answers `<proceed/>`
 * with a `start-tls` action (the adapter runs the handshake and reports back through
 * `tlsEstablished` / `tlsFailed`), then expects the agent's header again on the new stream.
 * Without `requireTls` STARTTLS is refused. The open timer covers the whole negotiation, TLS
 * handshake included. Timers 4, sequence 5, subscriptions 8.2, publish + collection pairing
 * 2.7 / 8.3, agent EoR 8.5, items and retracts 10.1 (reflected to the sender too), CN EoR 10.2,
 * config subscription 8.1 and config IQs 15 (the view itself comes from the adapter through
 * `sendConfig`).
 *
 * Where the real CN asserts or silently drops, this session sends an RFC 6120 stream error
 * and closes, and only this session:
 *   not-well-formed / restricted-xml /   the framer or XML parser refused the bytes
 *     unsupported-encoding / policy-violation (oversized unit)
 *   bad-format           well-formed but unusable: unknown family, bad prefix / next hop /
 *                        label / instance-id, missing instance-id, several next hops, an IQ
 *                        to bgp-peer with no known pubsub action, a second stream header, a
 *                        config subscription to a node other than `virtual-router:
 *                        default-global-system-config:<name>` or `virtual-machine:<uuid>`
 *   policy-violation     the dialect's ordering rules: publish without subscription, duplicate
 *                        subscribe, unsubscribe without subscription, collection without
 *                        publish, publish not followed by its collection, collection naming
 *                        another node; with TLS required, anything but `<starttls/>` after
 *                        the headers, or anything sent after `<starttls/>` before `<proceed/>`
 *   resource-constraint  too many subscriptions
 *   not-authorized       a stanza before the stream header
 *   improper-addressing  stream header without `from`
 *   host-unknown         stream header `to` other than the control node's JID
 *   unsupported-version  stream version other than 1.x
 *   invalid-from         a stanza whose `from` is not the agent; a header after TLS naming
 *                        another agent than the one before it
 *   unsupported-stanza-type  `<presence>`, TLS negotiation elements (but the one `<starttls/>`
 *                        TLS mode asks for), event items from an agent
 *   connection-timeout   nothing received for the hold time
 * Things the CN ignores (IQs other than `set`, config IQs other than (un)subscriptions, a
 * second virtual-router subscription, virtual-machine subscriptions (weft pushes the ports
 * with their vrouter), families known but not routed yet such as EVPN) are reported as
 * `ignored` and change nothing, as the real CN's IFMap module does ([C:src/ifmap/ifmap_xmpp.cc]).
 */

export type SessionTimer = 'open' | 'hold' | 'keepalive' | 'eor';
/** `await-starttls` and `tls-handshake` only with `requireTls`; `await-open` again after the handshake. */
export type SessionState = 'await-open' | 'await-starttls' | 'tls-handshake' | 'established' | 'closed';

export type CloseReason =
  /** This side sent a stream error. */
  | 'stream-error'
  /** TCP closed under us. */
  | 'peer-closed'
  /** The agent sent `</stream:stream>`. */
  | 'peer-stream-close'
  | 'peer-stream-error'
  /** No stream header within the open time (section 4): `</stream:stream>` and close. */
  | 'open-timeout'
  /** The adapter asked (shutdown, conflict). */
  | 'local'
  /** The TLS handshake failed or TLS broke (a certificate the CA does not sign...): nothing more can be sent. */
  | 'tls-failed';

export type SessionAction =
  /**
   * `parts`, when present, are the same bytes as consecutive pieces to write in order: route
   * messages, whose `<items>` part is serialized once per flush and shared by every
   * subscriber (`sharedBodies`). `bytes` then joins them only when someone reads it.
   */
  | { type: 'send'; bytes: Uint8Array; parts?: readonly Uint8Array[] }
  /** (Re)start a one-shot timer; replaces a running timer of the same name. */
  | { type: 'arm-timer'; timer: SessionTimer; ms: number }
  | { type: 'cancel-timer'; timer: SessionTimer }
  | { type: 'established'; agent: string; header: StreamOpen }
  | { type: 'subscribe'; instance: string; instanceId: number; noRibout: boolean }
  | { type: 'unsubscribe'; instance: string }
  | { type: 'publish'; instance: string; family: UnicastFamily; route: AgentRoute }
  | { type: 'withdraw'; instance: string; family: UnicastFamily; prefix: string }
  /** Push this vrouter's config view: `sendConfig` with all of it now, its changes later. */
  | { type: 'config-subscribe'; vrouter: string }
  | { type: 'config-unsubscribe'; vrouter: string }
  /** The agent's end-of-RIB, in either form (message, or empty publish + empty collection). */
  | { type: 'end-of-rib' }
  | { type: 'ignored'; what: string }
  /**
   * Upgrade the connection to TLS as server, now: the sends before it (`<proceed/>`) leave in
   * plain, everything after goes through TLS. Answer with `tlsEstablished` or `tlsFailed`.
   */
  | { type: 'start-tls' }
  /** Always last; end the connection after the sends before it. `detail` says why when no stream error could. */
  | { type: 'close'; reason: CloseReason; error?: StreamError; detail?: string };

export interface AgentSessionOptions {
  /** Our stream `from`: the control node's hostname (section 3.1). */
  serverHost: string;
  /** Default 90 s (section 4). */
  holdTimeMs?: number;
  /** Default a third of the hold time. */
  keepaliveMs?: number;
  /** No stream header after this long: close (default 15 s). */
  openTimeMs?: number;
  /** CN EoR once nothing was sent or received for this long (default 6 s, section 10.2)... */
  eorQuietMs?: number;
  /** ...checked this often (default 1 s)... */
  eorRetryMs?: number;
  /** ...and at the latest this long after Established (default 300 s). */
  eorMaxMs?: number;
  /** When set, the agent's stream `xmlns` (its subcluster) must equal it. */
  subcluster?: string;
  /** Every session must negotiate STARTTLS before anything else (dialect notes 3.2). */
  requireTls?: boolean;
  maxUnitBytes?: number;
  /** Default 65536. */
  maxSubscriptions?: number;
  /** Names the network of a path's OriginVN in route items (absent: OriginVN is not read). */
  networkOf?: NetworkOfIndex;
}

/**
 * A single space: the C++ side takes it as a keepalive as readily as its own U+0200, and unlike
 * U+0200 it is XML whitespace, so a standard XMPP parser on the agent side takes it too.
 */
const KEEPALIVE_BYTES = Uint8Array.of(0x20);
const STREAM_CLOSE = '</stream:stream>';
const MAX_INSTANCE_ID = 0xffff;

const utf8 = new TextEncoder();

/** Items are built once per selection (the ecmp array object) and shared by every subscriber. */
const itemMemo = new WeakMap<readonly Path[], PublishItem>();

/**
 * One flush's updates of one table as the `<items>` elements of its messages (32 items or 256
 * retracts each), serialized once: the hub hands every subscriber the same updates array, so
 * 100 agents cost one serialization, and their sockets queue the same bytes. Only the
 * envelope (`<message ... to="<agent>/bgp-peer"><event ...>`) is per session.
 */
interface SharedBodies {
  readonly node: string;
  readonly bodies: readonly Uint8Array[];
}
const bodyMemo = new WeakMap<readonly RouteUpdate[], SharedBodies>();

/** Where the `<items>` element sits in the codec's text of an event message. */
function itemsSpan(text: string): [number, number] {
  return [text.indexOf('<items'), text.lastIndexOf('</event>')];
}

function sharedBodies(family: UnicastFamily, instance: string, updates: readonly RouteUpdate[], networkOf: NetworkOfIndex | undefined): SharedBodies {
  const node = familyNode(family, instance);
  const memo = bodyMemo.get(updates);
  if (memo?.node === node) return memo;
  const items: PublishItem[] = [];
  const retracts: string[] = [];
  for (const u of updates) {
    if (u.ecmp.length === 0) {
      retracts.push(u.prefix);
      continue;
    }
    let item = itemMemo.get(u.ecmp);
    if (!item) itemMemo.set(u.ecmp, (item = routeItem(family, instance, u, networkOf)));
    items.push(item);
  }
  const bodies: Uint8Array[] = [];
  // The agent in `to` is cut off below: any name serves.
  const messages = [...routeUpdateMessages({ agent: 'x', node, items }), ...routeWithdrawMessages({ agent: 'x', node, ids: retracts })];
  for (const m of messages) {
    const text = encodeStanza(m);
    const [start, end] = itemsSpan(text);
    bodies.push(utf8.encode(text.slice(start, end)));
  }
  const shared = { node, bodies };
  bodyMemo.set(updates, shared);
  return shared;
}

/**
 * A route message as its pieces (this agent's envelope around a shared body). Writing the
 * pieces keeps one copy of the body for all subscribers' socket queues: joining them per
 * agent made the control node's peak memory grow from 150 MiB to 1 GiB in the 100-agent bench.
 */
class SharedSend {
  readonly type = 'send';
  private joined: Uint8Array | undefined;

  constructor(readonly parts: readonly Uint8Array[]) {}

  get bytes(): Uint8Array {
    if (!this.joined) {
      let n = 0;
      for (const p of this.parts) n += p.length;
      const out = new Uint8Array(n);
      n = 0;
      for (const p of this.parts) {
        out.set(p, n);
        n += p.length;
      }
      this.joined = out;
    }
    return this.joined;
  }
}

function familyNode(family: UnicastFamily, instance: string): string {
  return `${family === 'inet' ? 1 : 2}/1/${instance}`;
}

interface Subscription {
  instanceId: number;
  noRibout: boolean;
}

export class AgentSession {
  private readonly opts: Required<Omit<AgentSessionOptions, 'subcluster' | 'networkOf'>> & { subcluster: string | undefined; networkOf: NetworkOfIndex | undefined };
  /** Replaced when TLS starts: the stream restarts from its header (RFC 6120 5.4.3.3). */
  private framer: XmppFramer;
  private stateValue: SessionState = 'await-open';
  private agentName: string | undefined;
  private readonly subs = new Map<string, Subscription>();
  /** The vrouter whose config this agent subscribed to (section 8.1). */
  private configVr: string | undefined;
  /** A publish waiting for its collection (section 2.7). */
  private held: PublishIq | undefined;
  private readonly armed = new Set<SessionTimer>();
  private lastRx = 0;
  private lastStanza = 0;
  private establishedAt = 0;
  private eorSent = false;
  private headerSent = false;
  /** TLS is up on this connection. */
  private tlsUp = false;
  /** `<starttls/>` was taken in this push: `<proceed/>` and `start-tls` go out once the push is checked. */
  private startTlsPending = false;
  /** This agent's event-message envelope around a shared `<items>` body. */
  private envelope: { head: Uint8Array; tail: Uint8Array } | undefined;

  constructor(options: AgentSessionOptions) {
    const hold = options.holdTimeMs ?? 90_000;
    this.opts = {
      serverHost: options.serverHost,
      holdTimeMs: hold,
      keepaliveMs: options.keepaliveMs ?? Math.floor(hold / 3),
      openTimeMs: options.openTimeMs ?? 15_000,
      eorQuietMs: options.eorQuietMs ?? 6_000,
      eorRetryMs: options.eorRetryMs ?? 1_000,
      eorMaxMs: options.eorMaxMs ?? 300_000,
      subcluster: options.subcluster,
      maxUnitBytes: options.maxUnitBytes ?? 1 << 20,
      maxSubscriptions: options.maxSubscriptions ?? 65_536,
      networkOf: options.networkOf,
      requireTls: options.requireTls ?? false,
    };
    this.framer = new XmppFramer({ maxUnitBytes: this.opts.maxUnitBytes });
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The agent's name from its stream header, once known. */
  get agent(): string | undefined {
    return this.agentName;
  }

  /** Instances subscribed, with their instance-ids. */
  subscriptions(): ReadonlyMap<string, Readonly<Subscription>> {
    return this.subs;
  }

  /** The vrouter whose config the agent subscribed to, if it did. */
  get configVrouter(): string | undefined {
    return this.configVr;
  }

  get endOfRibSent(): boolean {
    return this.eorSent;
  }

  /** Whether TLS was negotiated on this connection. */
  get tls(): boolean {
    return this.tlsUp;
  }

  /** The connection was accepted. */
  start(now: number): SessionAction[] {
    this.lastRx = now;
    const out: SessionAction[] = [];
    this.arm(out, 'open', this.opts.openTimeMs);
    return out;
  }

  receive(bytes: Uint8Array, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    // During the handshake the adapter feeds TLS, not us: plain bytes now are not the stream's.
    if (this.stateValue === 'closed' || this.stateValue === 'tls-handshake') return out;
    // Any byte is liveness (section 16.3), even one that turns out malformed.
    this.lastRx = now;
    let frames;
    try {
      frames = this.framer.push(bytes);
    } catch (e) {
      return this.failWith(out, e);
    }
    for (const f of frames) {
      try {
        const s = decodeFrame(f);
        if (s.kind !== 'whitespace') this.lastStanza = now;
        this.handle(s, out, now);
      } catch (e) {
        return this.failWith(out, e);
      }
      // handle() may have closed the session: narrowing above does not see that.
      if (this.state === 'closed') return out;
    }
    // The framer keeps an error behind the frames it could still cut; those were handled above.
    if (this.framer.error) return this.failWith(out, this.framer.error);
    if (this.startTlsPending) {
      // Only now: a stanza behind `<starttls/>` in the same bytes is refused in plain, above.
      this.startTlsPending = false;
      out.push({ type: 'send', bytes: utf8.encode(encodeStanza({ kind: 'proceed' })) }, { type: 'start-tls' });
    }
    return out;
  }

  /** The TLS handshake the `start-tls` action began completed: the agent's header comes next, over TLS. */
  tlsEstablished(now: number): SessionAction[] {
    if (this.stateValue !== 'tls-handshake') return [];
    this.tlsUp = true;
    this.framer = new XmppFramer({ maxUnitBytes: this.opts.maxUnitBytes });
    // A new stream: ours starts with a header again.
    this.headerSent = false;
    this.stateValue = 'await-open';
    this.lastRx = now;
    return [];
  }

  /** TLS failed (handshake refused, certificate not verified, alert): close without a stream error. */
  tlsFailed(_now: number, detail: string): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.stateValue === 'closed') return out;
    this.finish(out, 'tls-failed', undefined, detail);
    return out;
  }

  /** TCP closed by the peer (or reset). */
  peerClosed(_now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.stateValue === 'closed') return out;
    this.finish(out, 'peer-closed');
    return out;
  }

  timerExpired(timer: SessionTimer, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.stateValue === 'closed' || !this.armed.delete(timer)) return out;
    switch (timer) {
      case 'open':
        // Armed from accept until Established: the whole negotiation, TLS included, must fit.
        if (this.stateValue === 'tls-handshake') this.finish(out, 'open-timeout');
        else if (this.stateValue !== 'established') {
          out.push({ type: 'send', bytes: utf8.encode(STREAM_CLOSE) });
          this.finish(out, 'open-timeout');
        }
        break;
      case 'hold': {
        const idle = now - this.lastRx;
        if (idle >= this.opts.holdTimeMs) {
          this.fail(out, 'connection-timeout', `nothing received for ${idle} ms (hold time ${this.opts.holdTimeMs} ms)`);
        } else this.arm(out, 'hold', this.opts.holdTimeMs - idle);
        break;
      }
      case 'keepalive':
        out.push({ type: 'send', bytes: KEEPALIVE_BYTES });
        this.arm(out, 'keepalive', this.opts.keepaliveMs);
        break;
      case 'eor':
        if (this.eorSent) break;
        if (now - this.lastStanza >= this.opts.eorQuietMs || now - this.establishedAt >= this.opts.eorMaxMs) {
          this.sendEndOfRib(out, now);
        } else this.arm(out, 'eor', this.opts.eorRetryMs);
        break;
    }
    return out;
  }

  /**
   * Tell the agent about changed routes of one table: items (at most 32 per message) for
   * prefixes with a selection, retracts for those without. Nothing when the agent is not
   * subscribed to the instance or asked for no ribout.
   */
  sendRoutes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[], now: number): SessionAction[] {
    const out: SessionAction[] = [];
    const sub = this.subs.get(instance);
    if (this.stateValue !== 'established' || !sub || sub.noRibout || updates.length === 0) return out;
    const { bodies } = sharedBodies(family, instance, updates, this.opts.networkOf);
    if (bodies.length === 0) return out;
    const env = (this.envelope ??= this.makeEnvelope());
    for (const body of bodies) out.push(new SharedSend([env.head, body, env.tail]));
    this.lastStanza = now;
    return out;
  }

  /**
   * Config nodes for the subscribed vrouter (section 15), as IQs of at most 64 nodes with the
   * CN's XML declaration. Whole stanzas between whole route messages: nothing of the route
   * stream is held back or cut. Nothing without a config subscription.
   */
  sendConfig(change: ConfigChange): SessionAction[] {
    const out: SessionAction[] = [];
    const vr = this.configVr;
    if (this.stateValue !== 'established' || vr === undefined) return out;
    for (const iq of configIqs(vr, change)) out.push({ type: 'send', bytes: utf8.encode(encodeStanza(iq, { declaration: true })) });
    return out;
  }

  /** Send the CN end-of-RIB now instead of waiting for the quiet period. */
  sendEndOfRibNow(now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.stateValue === 'established' && !this.eorSent) this.sendEndOfRib(out, now);
    return out;
  }

  /** Close from this side: with a stream error when a condition is given, else a plain stream close. */
  close(condition?: StreamErrorCondition, text?: string): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.stateValue === 'closed') return out;
    if (condition) this.fail(out, condition, text ?? condition, 'local');
    else {
      if (this.headerSent) out.push({ type: 'send', bytes: utf8.encode(STREAM_CLOSE) });
      this.finish(out, 'local');
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------

  private handle(s: Stanza | { kind: 'whitespace'; length: number }, out: SessionAction[], now: number): void {
    if (s.kind === 'whitespace') return;
    if (this.stateValue === 'await-open') {
      if (s.kind !== 'stream-open') violation('not-authorized', `<${describe(s)}> before the stream header`);
      this.open(s, out, now);
      return;
    }
    if (this.stateValue === 'await-starttls' || this.stateValue === 'tls-handshake') {
      this.negotiate(s, out);
      return;
    }
    if (this.held && s.kind !== 'collection') {
      violation('policy-violation', `publish ${this.held.node ?? '(end-of-RIB)'} not followed by its collection`);
    }
    switch (s.kind) {
      case 'stream-open':
        return violation('bad-format', 'a second stream header (a stream restarts only for TLS)');
      case 'stream-close':
        out.push({ type: 'send', bytes: utf8.encode(STREAM_CLOSE) });
        this.finish(out, 'peer-stream-close');
        return;
      case 'stream-error':
        this.finish(out, 'peer-stream-error', s);
        return;
      case 'starttls':
        if (this.tlsUp) return violation('policy-violation', '<starttls/> on a stream that is already TLS');
        return violation('unsupported-stanza-type', '<starttls>: TLS is not configured');
      case 'features':
      case 'proceed':
      case 'tls-failure':
        return violation('unsupported-stanza-type', `<${describe(s)}>: only the control node sends it`);
      case 'element':
        return violation('unsupported-stanza-type', `<${s.element.name}>`);
      case 'eor':
      case 'event':
      case 'message':
        this.checkFrom(s.from);
        if (!s.to?.includes('bgp-peer')) {
          out.push({ type: 'ignored', what: `message to ${s.to ?? '(none)'}` });
          return;
        }
        if (s.kind === 'eor') out.push({ type: 'end-of-rib' });
        else if (s.kind === 'event') violation('unsupported-stanza-type', `event items from an agent (node ${s.node})`);
        else out.push({ type: 'ignored', what: 'message without event' });
        return;
      case 'subscribe':
      case 'unsubscribe':
      case 'publish':
      case 'collection':
      case 'config':
      case 'iq':
        this.checkFrom(s.from);
        if (s.type !== 'set') {
          out.push({ type: 'ignored', what: `iq type ${s.type ?? '(none)'}` });
          return;
        }
        // Dispatch by substring of `to`, routing first, as the C++ channel mux does (section 1).
        if (!s.to?.includes('bgp-peer')) {
          if (s.to?.includes('config')) this.config(s, out);
          else out.push({ type: 'ignored', what: `iq to ${s.to ?? '(none)'}` });
          return;
        }
        if (s.kind === 'subscribe' || s.kind === 'unsubscribe') this.subscribe(s, out);
        else if (s.kind === 'publish') this.held = s;
        else if (s.kind === 'collection') this.collection(s, out);
        else violation('bad-format', 'iq to bgp-peer without a subscribe, unsubscribe, publish or collection');
        return;
    }
  }

  /** After the headers in TLS mode: only `<starttls/>` (section 3.2), then nothing until `<proceed/>`. */
  private negotiate(s: Stanza, out: SessionAction[]): void {
    if (s.kind === 'stream-close') {
      out.push({ type: 'send', bytes: utf8.encode(STREAM_CLOSE) });
      this.finish(out, 'peer-stream-close');
      return;
    }
    if (s.kind === 'stream-error') {
      this.finish(out, 'peer-stream-error', s);
      return;
    }
    if (this.stateValue === 'tls-handshake') violation('policy-violation', `<${describe(s)}> after <starttls/>: wait for <proceed/> and the TLS handshake`);
    if (s.kind !== 'starttls') violation('policy-violation', `<${describe(s)}> before STARTTLS: this control node requires TLS`);
    this.stateValue = 'tls-handshake';
    this.startTlsPending = true;
  }

  private open(h: StreamOpen, out: SessionAction[], now: number): void {
    if (h.version !== undefined && !/^1\.\d+$/.test(h.version)) violation('unsupported-version', `version ${h.version}`);
    if (!h.from) violation('improper-addressing', 'stream header without the agent name in from');
    // The agent's name is its identity from the first header on; TLS does not change who it is.
    if (this.tlsUp && h.from !== this.agentName) violation('invalid-from', `from ${h.from} after TLS in a stream of ${this.agentName}`);
    this.agentName = h.from;
    if (h.to !== undefined && h.to !== CONTROL_NODE_JID) violation('host-unknown', `to ${h.to}`);
    if (this.opts.subcluster !== undefined && (h.xmlns ?? '') !== this.opts.subcluster) {
      violation('policy-violation', `subcluster "${h.xmlns ?? ''}" is not "${this.opts.subcluster}"`);
    }
    out.push({ type: 'send', bytes: utf8.encode(encodeStreamOpen(serverStreamOpen(this.opts.serverHost, h.from))) });
    this.headerSent = true;
    if (this.opts.requireTls && !this.tlsUp) {
      // As the C++ writer sends them: with the XML declaration (section 3.2, step 1).
      out.push({ type: 'send', bytes: utf8.encode(encodeStanza(tlsFeatures(), { declaration: true })) });
      this.stateValue = 'await-starttls';
      return;
    }
    this.stateValue = 'established';
    this.establishedAt = now;
    this.lastStanza = now;
    this.cancel(out, 'open');
    this.arm(out, 'hold', this.opts.holdTimeMs);
    this.arm(out, 'keepalive', this.opts.keepaliveMs);
    this.arm(out, 'eor', this.opts.eorRetryMs);
    out.push({ type: 'established', agent: h.from, header: h });
  }

  private checkFrom(from: string | undefined): void {
    if (from !== undefined && from !== this.agentName) violation('invalid-from', `from ${from} in a stream of ${this.agentName}`);
  }

  private subscribe(s: SubscribeIq, out: SessionAction[]): void {
    const instance = s.node;
    if (instance === '') violation('bad-format', `${s.kind} with an empty node`);
    if (s.kind === 'unsubscribe') {
      if (!this.subs.delete(instance)) violation('policy-violation', `unsubscribe from ${instance} without a subscription`);
      out.push({ type: 'unsubscribe', instance });
      return;
    }
    if (this.subs.has(instance)) violation('policy-violation', `duplicate subscribe to ${instance}`);
    if (s.instanceId === undefined) violation('bad-format', `subscribe to ${instance} without an instance-id`);
    if (s.instanceId > MAX_INSTANCE_ID) violation('bad-format', `instance-id ${s.instanceId} does not fit the RD's 16 bits`);
    if (this.subs.size >= this.opts.maxSubscriptions) violation('resource-constraint', `more than ${this.opts.maxSubscriptions} subscriptions`);
    const noRibout = s.noRibout ?? false;
    this.subs.set(instance, { instanceId: s.instanceId, noRibout });
    out.push({ type: 'subscribe', instance, instanceId: s.instanceId, noRibout });
  }

  /** An IQ for the config module. */
  private config(s: Iq, out: SessionAction[]): void {
    if (s.kind !== 'subscribe' && s.kind !== 'unsubscribe') {
      out.push({ type: 'ignored', what: `${s.kind} iq to ${s.to ?? '(none)'}` });
      return;
    }
    // A DecodeError here becomes a bad-format stream error (its field starts with `iq`).
    const sub = decodeConfigSubscribe(s);
    if (sub.target === 'virtual-machine') {
      out.push({ type: 'ignored', what: `config ${sub.kind} of virtual-machine ${sub.uuid}` });
      return;
    }
    if (sub.kind === 'subscribe') {
      if (this.configVr !== undefined) {
        out.push({ type: 'ignored', what: `second config subscription (virtual-router ${sub.vrouter}; have ${this.configVr})` });
        return;
      }
      this.configVr = sub.vrouter;
      out.push({ type: 'config-subscribe', vrouter: sub.vrouter });
      return;
    }
    if (this.configVr !== sub.vrouter) {
      out.push({ type: 'ignored', what: `config unsubscribe of virtual-router ${sub.vrouter} without a subscription` });
      return;
    }
    this.configVr = undefined;
    out.push({ type: 'config-unsubscribe', vrouter: sub.vrouter });
  }

  private collection(c: CollectionIq, out: SessionAction[]): void {
    const pub = this.held;
    this.held = undefined;
    if (!pub) violation('policy-violation', `collection ${c.node ?? ''} without a publish before it`);
    // The agent's EoR as the CN recognises it: an empty publish, then an empty collection (8.5).
    const emptyPub = pub.node === undefined && pub.items.length === 0;
    const emptyCol = c.action === undefined;
    if (emptyPub || emptyCol) {
      if (!(emptyPub && emptyCol)) violation('bad-format', 'an empty publish or collection must pair with an empty one (end-of-RIB)');
      out.push({ type: 'end-of-rib' });
      return;
    }
    const node = pub.node;
    if (node === undefined) violation('bad-format', 'publish without a node');
    if (c.target !== node) violation('policy-violation', `collection ${c.action} ${c.target} does not name the publish ${node}`);
    const instance = c.node;
    if (!instance) violation('bad-format', 'collection without the instance in node');
    if (!this.subs.has(instance)) violation('policy-violation', `publish in ${instance} without a subscription`);
    const f = nodeFamily(node);
    if (!f) violation('bad-format', `publish node ${node} does not start with afi/safi`);
    const family = unicastFamilyOf(f.afi, f.safi);
    if (!family) {
      if (knownFamily(f.afi, f.safi)) {
        out.push({ type: 'ignored', what: `family ${f.afi}/${f.safi} is not routed yet` });
        return;
      }
      violation('bad-format', `unknown family ${f.afi}/${f.safi}`);
    }
    if (pub.items.length !== 1) violation('bad-format', `a publish carries one item, found ${pub.items.length}`);
    const entry = pub.items[0]!.entry as UnicastEntry;
    if (c.action === 'dissociate') out.push({ type: 'withdraw', instance, family, prefix: itemPrefix(family, entry) });
    else out.push({ type: 'publish', instance, family, route: agentRoute(family, instance, entry) });
  }

  private makeEnvelope(): { head: Uint8Array; tail: Uint8Array } {
    const text = encodeStanza({ kind: 'event', from: CONTROL_NODE_JID, to: `${this.agentName!}/bgp-peer`, node: '', items: [], retracts: [] });
    const [start, end] = itemsSpan(text);
    return { head: utf8.encode(text.slice(0, start)), tail: utf8.encode(text.slice(end)) };
  }

  private sendEndOfRib(out: SessionAction[], now: number): void {
    this.eorSent = true;
    this.cancel(out, 'eor');
    this.sendStanza(out, serverEor(this.agentName!), now);
  }

  private sendStanza(out: SessionAction[], s: Stanza, now: number): void {
    this.lastStanza = now;
    out.push({ type: 'send', bytes: utf8.encode(encodeStanza(s)) });
  }

  private failWith(out: SessionAction[], e: unknown): SessionAction[] {
    if (e instanceof ProtocolViolation) this.fail(out, e.condition, e.text);
    else if (e instanceof DecodeError) {
      const se = streamErrorFor(e);
      this.fail(out, se.condition, se.text ?? e.message);
    } else this.fail(out, 'internal-server-error', e instanceof Error ? e.message : String(e));
    return out;
  }

  private fail(out: SessionAction[], condition: StreamErrorCondition, text: string, reason: CloseReason = 'stream-error'): void {
    const err = streamError(condition, text);
    let wire = '';
    // RFC 6120 4.9.1.1: an error before our header still goes inside a stream of ours.
    if (!this.headerSent) {
      const h: StreamOpen = serverStreamOpen(this.opts.serverHost, this.agentName ?? '');
      if (this.agentName === undefined) delete h.to;
      wire += encodeStreamOpen(h);
      this.headerSent = true;
    }
    wire += encodeStanza(err) + STREAM_CLOSE;
    out.push({ type: 'send', bytes: utf8.encode(wire) });
    this.finish(out, reason, err);
  }

  private finish(out: SessionAction[], reason: CloseReason, error?: StreamError, detail?: string): void {
    this.stateValue = 'closed';
    this.held = undefined;
    this.startTlsPending = false;
    for (const t of [...this.armed]) this.cancel(out, t);
    const close: SessionAction = { type: 'close', reason };
    if (error) close.error = error;
    if (detail !== undefined) close.detail = detail;
    out.push(close);
  }

  private arm(out: SessionAction[], timer: SessionTimer, ms: number): void {
    this.armed.add(timer);
    out.push({ type: 'arm-timer', timer, ms });
  }

  private cancel(out: SessionAction[], timer: SessionTimer): void {
    if (this.armed.delete(timer)) out.push({ type: 'cancel-timer', timer });
  }
}

/** AFI/SAFI pairs the dialect defines (section 6) even where this slice does not route them. */
function knownFamily(afi: number, safi: number): boolean {
  return schemaForFamily(afi, safi) !== 'raw' || (afi === 1 && safi === 5);
}

function describe(s: Stanza): string {
  switch (s.kind) {
    case 'element':
      return s.element.name;
    case 'features':
      return 'stream:features';
    case 'tls-failure':
      return 'failure';
    case 'stream-open':
      return 'stream:stream';
    case 'stream-close':
      return '/stream:stream';
    case 'stream-error':
      return 'stream:error';
    case 'eor':
    case 'event':
    case 'message':
      return 'message';
    case 'subscribe':
    case 'unsubscribe':
    case 'publish':
    case 'collection':
    case 'config':
    case 'iq':
      return 'iq';
    default:
      return s.kind;
  }
}
