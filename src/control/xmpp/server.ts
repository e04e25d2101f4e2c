import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { StreamError } from '../../../codecs/xmpp/index.js';
import type { AgentView } from '../../config/agent-view.js';
import { diffViews, fullView } from '../agent-config.js';
import { xmppSource, type XmppSource } from '../../rib/path.js';
import type { RouteHub, RouteSubscriber, RouteUpdate, UnicastFamily } from '../route-hub.js';
import { AgentSession, type AgentSessionOptions, type CloseReason, type SessionAction, type SessionTimer } from './session.js';

/**
 * The node:net adapter: accepts agents on TCP (5269 by default), runs one AgentSession per
 * connection, and wires sessions to a RouteHub. Plain TCP only; TLS (dialect notes 3.2) is a
 * later job. Writes do not wait for drain: a slow agent's socket queues the route messages,
 * but their `<items>` bytes are shared with every other subscriber (session.ts), so what it
 * holds is mostly references; pausing the publishers for one slow reader would let any agent
 * stall all the others.
 *
 * Config (dialect notes 8.1, 15): an agent's config subscription gets the whole view of its
 * vrouter from `config.viewOf`, and `pushConfig()` (called when the model changed) sends each
 * subscribed session the difference from what it was last sent.
 */

/** Where the server gets the agents' config views (node.ts: the model's agentViewOf). */
export interface ConfigSource {
  viewOf(vrouter: string): AgentView;
}

export interface XmppServerOptions extends Omit<AgentSessionOptions, 'serverHost'> {
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
}

export interface SessionDownEvent {
  agent: string | undefined;
  remoteAddress: string;
  reason: CloseReason;
  error?: StreamError;
}

export interface XmppServerEvents {
  established: [{ agent: string; remoteAddress: string }];
  down: [SessionDownEvent];
}

/** `::ffff:10.0.0.11` -> `10.0.0.11`: the agent's address is its IPv4 vhost0 address. */
function plainAddress(a: string | undefined): string {
  if (!a) return '0.0.0.0';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

class Connection implements RouteSubscriber {
  readonly session: AgentSession;
  readonly remoteAddress: string;
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
    readonly socket: net.Socket,
    options: AgentSessionOptions,
  ) {
    this.session = new AgentSession(options);
    this.remoteAddress = plainAddress(socket.remoteAddress);
  }

  get source(): XmppSource {
    return this.sourceValue!;
  }

  routes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[]): void {
    this.run(this.session.sendRoutes(instance, family, updates, this.server.now()));
  }

  run(actions: SessionAction[]): void {
    // Corked, the writes of one batch of actions leave as one writev.
    const cork = actions.length > 1 && !this.socket.destroyed;
    if (cork) this.socket.cork();
    try {
      for (const a of actions) this.act(a);
    } finally {
      if (cork) this.socket.uncork();
    }
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
        this.end(a.reason, a.error);
        break;
    }
  }

  /** The session is over: flush what was written, drop the socket, leave the hub. */
  end(reason: CloseReason, error?: StreamError): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (!this.socket.destroyed) {
      this.socket.end();
      // A peer that never reads must not keep the socket (and its buffer) forever.
      setTimeout(() => this.socket.destroy(), 5_000).unref();
    }
    this.server.gone(this, reason, error);
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

  constructor(options: XmppServerOptions) {
    super();
    this.options = options;
    this.hub = options.hub;
    this.now = options.now ?? (() => performance.now());
    const { hub: _hub, host: _host, port: _port, gracefulRestart: _gr, now: _now, config: _config, ...session } = options;
    this.sessionOptions = { ...session, serverHost: options.serverHost ?? 'weft-control' };
    this.netServer = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<net.AddressInfo> {
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
      c.socket.destroy();
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
    socket.on('data', (b: Buffer) => {
      c.run(c.session.receive(b, this.now()));
      this.scheduleFlush();
    });
    const down = (): void => {
      c.run(c.session.peerClosed(this.now()));
      this.scheduleFlush();
    };
    socket.on('end', down);
    socket.on('close', down);
    // Resets and the like: 'close' follows and does the work.
    socket.on('error', () => {});
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
    this.emit('established', { agent, remoteAddress: c.remoteAddress });
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

  gone(c: Connection, reason: CloseReason, error?: StreamError): void {
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
