import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { StreamError } from '../../../codecs/xmpp/index.js';
import type { AgentView } from '../../config/agent-view.js';
import { diffViews, fullView } from '../agent-config.js';
import { xmppSource, type XmppSource } from '../../rib/path.js';
import type { RouteHub, RouteSubscriber, RouteUpdate, UnicastFamily } from '../route-hub.js';
import { AgentSession, type AgentSessionOptions, type CloseReason, type SessionAction, type SessionTimer } from './session.js';

/**
 * The node:net adapter: accepts agents on TCP (5269 by default), runs one AgentSession per
 * connection, and wires sessions to a RouteHub. With `tls` every session must STARTTLS
 * (dialect notes 3.2): the session decides when, this adapter wraps the accepted socket in a
 * server TLSSocket on its `start-tls` action (TLS 1.2 at least; with `ca`, the agent must show
 * a certificate that CA signed, as Contrail's verify_peer). Writes do not wait for drain: a
 * slow agent's socket queues the route messages, but their `<items>` bytes are shared with
 * every other subscriber (session.ts), so what it holds is mostly references; pausing the
 * publishers for one slow reader would let any agent stall all the others.
 *
 * Config (dialect notes 8.1, 15): an agent's config subscription gets the whole view of its
 * vrouter from `config.viewOf`, and `pushConfig()` (called when the model changed) sends each
 * subscribed session the difference from what it was last sent.
 */

/** Where the server gets the agents' config views (node.ts: the model's agentViewOf). */
export interface ConfigSource {
  viewOf(vrouter: string): AgentView;
}

/** PEM files, read once by listen(). */
export interface XmppTlsFiles {
  cert: string;
  key: string;
  /** Agents must present a certificate this CA signed. */
  ca?: string;
}

export interface XmppServerOptions extends Omit<AgentSessionOptions, 'serverHost' | 'requireTls'> {
  hub: RouteHub;
  /** Our stream `from` (default 'weft-control'). */
  serverHost?: string;
  /** Default all interfaces. */
  host?: string;
  /** Default 5269; 0 = any free port. */
  port?: number;
  /**
   * Graceful-restart helper: a departed agent's paths stay, stale, until it re-publishes and
   * sends end-of-RIB, or this long after it went (then they are swept). Off when absent.
   */
  gracefulRestart?: { staleTimeMs: number };
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Absent: config subscriptions are accepted and nothing is pushed. */
  config?: ConfigSource;
  /** Require STARTTLS with this certificate and key on every session. */
  tls?: XmppTlsFiles;
}

export interface SessionDownEvent {
  agent: string | undefined;
  remoteAddress: string;
  reason: CloseReason;
  error?: StreamError;
  /** Why, when no stream error says it (a TLS failure). */
  detail?: string;
}

export interface EstablishedEvent {
  agent: string;
  remoteAddress: string;
  /** The TLS version negotiated (`TLSv1.3`), absent on a plain session. */
  tls?: string;
}

export interface XmppServerEvents {
  established: [EstablishedEvent];
  down: [SessionDownEvent];
}

/** `::ffff:10.0.0.11` -> `10.0.0.11`: the agent's address is its IPv4 vhost0 address. */
function plainAddress(a: string | undefined): string {
  if (!a) return '0.0.0.0';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Why OpenSSL did not verify the peer's certificate against our CA, or undefined when it did.
 * A server TLSSocket made by hand gets no verdict: tls.Server checks it in its own 'secure'
 * listener (lib/_tls_wrap.js `onServerSocketSecure`) through the handle's verifyError, which
 * is not public; the same call is made here. Without it this fails closed.
 */
function peerVerifyError(t: tls.TLSSocket): string | undefined {
  const handle = (t as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return 'cannot tell whether it verifies (node:tls internals changed)';
  const e = handle.verifyError();
  if (!e) return t.getPeerX509Certificate() ? undefined : 'none presented';
  return e.code ? `${e.code}: ${e.message}` : e.message;
}

class Connection implements RouteSubscriber {
  readonly session: AgentSession;
  readonly remoteAddress: string;
  /** The accepted socket, then the TLSSocket around it once STARTTLS ran. */
  socket: net.Socket;
  private readonly timers = new Map<SessionTimer, NodeJS.Timeout>();
  /** Set at Established (the agent name is known only then). */
  sourceValue: XmppSource | undefined;
  /** Registered with the hub under its agent name. */
  registered = false;
  /** The config view last sent (set once the agent subscribed to its vrouter's config). */
  configView: AgentView | undefined;
  ended = false;

  constructor(
    private readonly server: XmppServer,
    readonly tcp: net.Socket,
    options: AgentSessionOptions,
  ) {
    this.socket = tcp;
    this.session = new AgentSession(options);
    this.remoteAddress = plainAddress(tcp.remoteAddress);
  }

  /**
   * Bytes, end and close of `s` go to the session while `s` is the connection's socket; `down`
   * says what its end means to the session (default: the peer closed).
   */
  listen(s: net.Socket, down: (now: number) => SessionAction[] = (now) => this.session.peerClosed(now)): void {
    s.on('data', (b: Buffer) => {
      if (this.socket !== s) return;
      this.run(this.session.receive(b, this.server.now()));
      this.server.scheduleFlush();
    });
    const ended = (): void => {
      if (this.socket !== s) return;
      this.run(down(this.server.now()));
      this.server.scheduleFlush();
    };
    s.on('end', ended);
    s.on('close', ended);
    // Resets and the like: 'close' follows and does the work.
    s.on('error', () => {});
  }

  get source(): XmppSource {
    return this.sourceValue!;
  }

  routes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[]): void {
    this.run(this.session.sendRoutes(instance, family, updates, this.server.now()));
  }

  run(actions: SessionAction[]): void {
    // Corked, the writes of one batch of actions leave as one writev.
    const sock = this.socket;
    const cork = actions.length > 1 && !sock.destroyed;
    let startTls = false;
    if (cork) sock.cork();
    try {
      for (const a of actions) {
        if (a.type === 'start-tls') startTls = true;
        else this.act(a);
      }
    } finally {
      if (cork) sock.uncork();
    }
    // After the uncork: `<proceed/>` must be on its way in plain before TLS owns the socket.
    if (startTls) this.startTls();
  }

  private startTls(): void {
    const context = this.server.secureContext;
    if (!context || this.ended || this.tcp.destroyed) {
      this.run(this.session.tlsFailed(this.server.now(), 'TLS is not configured on this server'));
      return;
    }
    const requireCert = this.server.verifiesAgents;
    const t = new tls.TLSSocket(this.tcp, { isServer: true, secureContext: context, requestCert: requireCert, rejectUnauthorized: requireCert });
    this.socket = t;
    let failure: string | undefined;
    t.on('secure', () => {
      if (this.socket !== t) return;
      if (requireCert) {
        const why = peerVerifyError(t);
        if (why !== undefined) {
          this.run(this.session.tlsFailed(this.server.now(), `agent certificate not accepted: ${why}`));
          return;
        }
      }
      this.run(this.session.tlsEstablished(this.server.now()));
    });
    t.on('error', (e: Error & { code?: string }) => {
      failure ??= e.code ? `${e.code}: ${e.message}` : e.message;
    });
    this.listen(t, (now) => (failure !== undefined ? this.session.tlsFailed(now, failure) : this.session.peerClosed(now)));
  }

  private act(a: SessionAction): void {
    switch (a.type) {
      case 'send':
        if (this.socket.destroyed) break;
        if (a.parts) for (const p of a.parts) this.socket.write(p);
        else this.socket.write(a.bytes);
        break;
      case 'arm-timer': {
        clearTimeout(this.timers.get(a.timer));
        const t = setTimeout(() => {
          this.timers.delete(a.timer);
          this.run(this.session.timerExpired(a.timer, this.server.now()));
          this.server.scheduleFlush();
        }, a.ms);
        t.unref();
        this.timers.set(a.timer, t);
        break;
      }
      case 'cancel-timer':
        clearTimeout(this.timers.get(a.timer));
        this.timers.delete(a.timer);
        break;
      case 'established':
        this.server.established(this, a.agent);
        break;
      case 'subscribe':
        if (this.registered) this.server.hub.subscribe(this, a.instance, { instanceId: a.instanceId, noRibout: a.noRibout });
        break;
      case 'unsubscribe':
        if (this.registered) this.server.hub.unsubscribe(this, a.instance);
        break;
      case 'publish':
        if (this.registered) this.server.hub.publish(this.source, a.instance, a.family, a.route);
        break;
      case 'withdraw':
        if (this.registered) this.server.hub.withdraw(this.source, a.instance, a.family, a.prefix);
        break;
      case 'end-of-rib':
        if (this.registered) this.server.endOfRib(this);
        break;
      case 'config-subscribe':
        if (this.registered) this.server.configSubscribe(this, a.vrouter);
        break;
      case 'config-unsubscribe':
        this.configView = undefined;
        break;
      case 'ignored':
        break;
      case 'close':
        this.end(a.reason, a.error, a.detail);
        break;
      case 'start-tls':
        // run() does it, after the batch.
        break;
    }
  }

  /** The session is over: flush what was written, drop the socket, leave the hub. */
  end(reason: CloseReason, error?: StreamError, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const sock = this.socket;
    if (reason === 'tls-failed') {
      // Nothing more can be said over a broken TLS session.
      sock.destroy();
      this.tcp.destroy();
    } else if (!sock.destroyed) {
      sock.end();
      // A peer that never reads must not keep the socket (and its buffer) forever.
      setTimeout(() => {
        sock.destroy();
        this.tcp.destroy();
      }, 5_000).unref();
    }
    this.server.gone(this, reason, error, detail);
  }

  destroy(): void {
    this.socket.destroy();
    this.tcp.destroy();
  }
}

export class XmppServer extends EventEmitter<XmppServerEvents> {
  readonly hub: RouteHub;
  readonly now: () => number;
  private readonly options: XmppServerOptions;
  private readonly sessionOptions: AgentSessionOptions;
  private readonly netServer: net.Server;
  private readonly connections = new Set<Connection>();
  /** Established sessions by agent name. */
  private readonly agents = new Map<string, Connection>();
  /** Agents whose stale paths wait for a sweep. */
  private readonly staleTimers = new Map<string, { source: XmppSource; timer: NodeJS.Timeout }>();
  private flushScheduled = false;
  private readonly tlsFiles: XmppTlsFiles | undefined;
  private context: tls.SecureContext | undefined;
  /** Agents must present a certificate the configured CA signed. */
  readonly verifiesAgents: boolean;

  constructor(options: XmppServerOptions) {
    super();
    this.options = options;
    this.hub = options.hub;
    this.now = options.now ?? (() => performance.now());
    const { hub: _hub, host: _host, port: _port, gracefulRestart: _gr, now: _now, config: _config, tls: tlsFiles, ...session } = options;
    this.sessionOptions = { ...session, serverHost: options.serverHost ?? 'weft-control', requireTls: tlsFiles !== undefined };
    this.tlsFiles = tlsFiles;
    this.verifiesAgents = tlsFiles?.ca !== undefined;
    this.netServer = net.createServer((socket) => this.accept(socket));
  }

  /** Our certificate and key (and the agents' CA), read by listen(); undefined without TLS. */
  get secureContext(): tls.SecureContext | undefined {
    return this.context;
  }

  /** Rejects when the TLS files cannot be read or do not make a context (a key not the cert's...). */
  listen(): Promise<net.AddressInfo> {
    const f = this.tlsFiles;
    if (f && !this.context) {
      try {
        this.context = tls.createSecureContext({
          cert: readFileSync(f.cert),
          key: readFileSync(f.key),
          ...(f.ca !== undefined ? { ca: readFileSync(f.ca) } : {}),
          // Contrail's server refuses SSLv2/3 and its client TLS 1.0 (dialect notes 3.2): 1.2 is the floor here.
          minVersion: 'TLSv1.2',
        });
      } catch (e) {
        return Promise.reject(new Error(`XMPP TLS: ${(e as Error).message}`));
      }
    }
    return new Promise((resolve, reject) => {
      this.netServer.once('error', reject);
      this.netServer.listen(this.options.port ?? 5269, this.options.host, () => {
        this.netServer.off('error', reject);
        resolve(this.netServer.address() as net.AddressInfo);
      });
    });
  }

  address(): net.AddressInfo {
    return this.netServer.address() as net.AddressInfo;
  }

  /** Established agents. */
  agentNames(): string[] {
    return [...this.agents.keys()];
  }

  /** Stop listening and close every session with `system-shutdown`. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const c of [...this.connections]) {
      c.run(c.session.close('system-shutdown', 'control node shutting down'));
      c.destroy();
    }
    for (const s of this.staleTimers.values()) clearTimeout(s.timer);
    this.staleTimers.clear();
    await closed;
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the current I/O callbacks: a burst read by several sockets becomes one flush.
    setImmediate(() => {
      this.flushScheduled = false;
      this.hub.flush();
    });
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const c = new Connection(this, socket, this.sessionOptions);
    this.connections.add(c);
    c.listen(socket);
    c.run(c.session.start(this.now()));
  }

  /**
   * Section 3.1: a second connection with the same name from another address is refused; from
   * the same address it replaces the old one only as graceful-restart helper.
   */
  established(c: Connection, agent: string): void {
    const old = this.agents.get(agent);
    if (old) {
      if (old.remoteAddress !== c.remoteAddress || !this.options.gracefulRestart) {
        c.run(c.session.close('conflict', `agent ${agent} already has a session from ${old.remoteAddress}`));
        return;
      }
      old.run(old.session.close('conflict', `agent ${agent} reconnected`));
    }
    c.sourceValue = xmppSource(agent, c.remoteAddress);
    c.registered = true;
    this.agents.set(agent, c);
    const ev: EstablishedEvent = { agent, remoteAddress: c.remoteAddress };
    if (c.socket instanceof tls.TLSSocket) ev.tls = c.socket.getProtocol() ?? 'TLS';
    this.emit('established', ev);
  }

  /** A new config subscription: the vrouter's whole view, at once, ahead of anything queued after it. */
  configSubscribe(c: Connection, vrouter: string): void {
    const source = this.options.config;
    if (!source) return;
    const view = source.viewOf(vrouter);
    c.configView = view;
    c.run(c.session.sendConfig(fullView(view)));
  }

  /**
   * The model changed: send every config-subscribed session what changed in its view. Views
   * are computed once per vrouter per call.
   */
  pushConfig(): void {
    const source = this.options.config;
    if (!source) return;
    const views = new Map<string, AgentView>();
    for (const c of this.connections) {
      const vr = c.session.configVrouter;
      if (!c.registered || c.ended || !c.configView || vr === undefined) continue;
      let now = views.get(vr);
      if (!now) views.set(vr, (now = source.viewOf(vr)));
      const change = diffViews(c.configView, now);
      c.configView = now;
      if (change.update.length || change.delete.length) c.run(c.session.sendConfig(change));
    }
  }

  endOfRib(c: Connection): void {
    this.hub.endOfRib(c.source);
    const s = this.staleTimers.get(c.source.agent);
    if (s) {
      clearTimeout(s.timer);
      this.staleTimers.delete(c.source.agent);
    }
  }

  gone(c: Connection, reason: CloseReason, error?: StreamError, detail?: string): void {
    this.connections.delete(c);
    const agent = c.sourceValue?.agent;
    if (c.registered) {
      c.registered = false;
      if (this.agents.get(agent!) === c) this.agents.delete(agent!);
      const gr = this.options.gracefulRestart;
      this.hub.agentDown(c, gr !== undefined);
      if (gr) this.armStaleSweep(c.source, gr.staleTimeMs);
      this.scheduleFlush();
    }
    const ev: SessionDownEvent = { agent: c.session.agent, remoteAddress: c.remoteAddress, reason };
    if (error) ev.error = error;
    if (detail !== undefined) ev.detail = detail;
    this.emit('down', ev);
  }

  private armStaleSweep(source: XmppSource, ms: number): void {
    const prev = this.staleTimers.get(source.agent);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => {
      this.staleTimers.delete(source.agent);
      this.hub.sweepStale(source);
      this.scheduleFlush();
    }, ms);
    timer.unref();
    this.staleTimers.set(source.agent, { source, timer });
  }
}
