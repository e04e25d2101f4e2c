/**
 * A fake clock and fake TCP between sans-IO agent clients and the control node's sans-IO
 * sessions (src/control/xmpp/session.ts) on an InstanceRouteHub: the same glue as the real
 * adapters, with deliveries queued so that neither side sees the other's answer before it has
 * finished what it was doing.
 */
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import type { RouteSubscriber, RouteUpdate, UnicastFamily } from '../../../src/control/route-hub.js';
import { AgentSession, type SessionAction } from '../../../src/control/xmpp/session.js';
import { xmppSource, type XmppSource } from '../../../src/rib/path.js';
import { AgentXmppClient, type AgentClientOptions, type ClientAction } from '../../../src/agent/xmpp-client.js';

const text = new TextDecoder();

export class Sim {
  now = 0;
  private readonly timers = new Map<string, { due: number; seq: number; fire: () => void }>();
  private readonly tasks: (() => void)[] = [];
  private seq = 0;
  readonly cns = new Map<string, SimCn>();

  cn(name: string): SimCn {
    let c = this.cns.get(name);
    if (!c) this.cns.set(name, (c = new SimCn(this, name)));
    return c;
  }

  arm(id: string, ms: number, fire: () => void): void {
    this.timers.set(id, { due: this.now + ms, seq: this.seq++, fire });
  }

  cancel(id: string): void {
    this.timers.delete(id);
  }

  /** When the timer is due, or undefined when not armed. */
  due(id: string): number | undefined {
    return this.timers.get(id)?.due;
  }

  later(task: () => void): void {
    this.tasks.push(task);
  }

  /** Runs queued deliveries (and the hubs' flushes) until nothing moves. */
  settle(): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const t = this.tasks.shift();
      if (t) {
        t();
        continue;
      }
      let moved = false;
      for (const c of this.cns.values()) {
        c.hub.flush();
        if (this.tasks.length) moved = true;
      }
      if (!moved) return;
    }
    throw new Error('simulation does not settle');
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    this.settle();
    for (;;) {
      let next: [string, { due: number; seq: number; fire: () => void }] | undefined;
      for (const e of this.timers) if (e[1].due <= end && (!next || e[1].due < next[1].due || (e[1].due === next[1].due && e[1].seq < next[1].seq))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].due;
      next[1].fire();
      this.settle();
    }
    this.now = end;
  }
}

/** A control node: a hub and whether it accepts connections. */
export class SimCn {
  hub = new InstanceRouteHub();
  up = true;
  constructor(
    readonly sim: Sim,
    readonly name: string,
  ) {}

  /** Crash: every session drops, state is lost, connections are refused until `start`. */
  crash(): void {
    this.up = false;
    for (const l of this.links) l.serverGone();
    this.hub = new InstanceRouteHub();
  }

  start(): void {
    this.up = true;
  }

  readonly links = new Set<SimLink>();
}

/** One agent client's connection to one CN, across reconnects. */
export class SimLink implements RouteSubscriber {
  readonly client: AgentXmppClient;
  /** Owner events (routes, down, sweep-stale, established, ignored). */
  readonly events: ClientAction[] = [];
  /** Text the client wrote / the CN wrote, per connection. */
  sent: string[] = [];
  received: string[] = [];
  /** CN session actions other than send and timers. */
  readonly cnActions: SessionAction[] = [];
  session: AgentSession | undefined;
  registered = false;
  readonly source: XmppSource;
  connects = 0;
  onEvent: ((a: ClientAction) => void) | undefined;

  constructor(
    readonly sim: Sim,
    readonly cn: SimCn,
    opts: AgentClientOptions,
    readonly gracefulRestart = true,
  ) {
    this.client = new AgentXmppClient(opts);
    this.source = xmppSource(opts.agent, opts.vhostIp);
    cn.links.add(this);
  }

  private get id(): string {
    return `${this.client.agent}@${this.cn.name}`;
  }

  start(): void {
    this.run(this.client.start(this.sim.now));
    this.sim.settle();
  }

  run(actions: ClientAction[]): void {
    const sim = this.sim;
    for (const a of actions) {
      switch (a.type) {
        case 'connect':
          this.connects++;
          sim.later(() => {
            if (!this.cn.up) return this.run(this.client.connectFailed(sim.now));
            this.session = new AgentSession({ serverHost: this.cn.name, eorQuietMs: 2_000, eorRetryMs: 500 });
            this.sent = [];
            this.received = [];
            this.runS(this.session.start(sim.now));
            this.run(this.client.connected(sim.now));
          });
          break;
        case 'send': {
          const s = this.session;
          this.sent.push(text.decode(a.bytes));
          if (s) sim.later(() => this.session === s && this.runS(s.receive(a.bytes, sim.now)));
          break;
        }
        case 'arm-timer':
          sim.arm(`${this.id}/client/${a.timer}`, a.ms, () => this.run(this.client.timerExpired(a.timer, sim.now)));
          break;
        case 'cancel-timer':
          sim.cancel(`${this.id}/client/${a.timer}`);
          break;
        case 'disconnect': {
          const s = this.session;
          this.session = undefined;
          if (s) sim.later(() => this.runS(s.peerClosed(sim.now), s));
          break;
        }
        default:
          this.events.push(a);
          this.onEvent?.(a);
      }
    }
  }

  /** The CN's session actions; `s` is the session they belong to (it may be gone already). */
  private runS(actions: SessionAction[], s: AgentSession | undefined = this.session): void {
    const sim = this.sim;
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.received.push(text.decode(a.bytes));
          sim.later(() => this.session === s && this.run(this.client.receive(a.bytes, sim.now)));
          break;
        case 'arm-timer':
          sim.arm(`${this.id}/cn/${a.timer}`, a.ms, () => s && this.runS(s.timerExpired(a.timer, sim.now), s));
          break;
        case 'cancel-timer':
          sim.cancel(`${this.id}/cn/${a.timer}`);
          break;
        case 'established':
          this.registered = true;
          this.cnActions.push(a);
          break;
        case 'subscribe':
          this.cnActions.push(a);
          this.cn.hub.subscribe(this, a.instance, { instanceId: a.instanceId, noRibout: a.noRibout });
          break;
        case 'unsubscribe':
          this.cnActions.push(a);
          this.cn.hub.unsubscribe(this, a.instance);
          break;
        case 'publish':
          this.cnActions.push(a);
          this.cn.hub.publish(this.source, a.instance, a.family, a.route);
          break;
        case 'withdraw':
          this.cnActions.push(a);
          this.cn.hub.withdraw(this.source, a.instance, a.family, a.prefix);
          break;
        case 'end-of-rib':
          this.cnActions.push(a);
          this.cn.hub.endOfRib(this.source);
          break;
        case 'close':
          this.cnActions.push(a);
          this.leaveHub();
          if (this.session === s) {
            this.session = undefined;
            sim.later(() => this.run(this.client.peerClosed(sim.now)));
          }
          break;
        case 'ignored':
          break;
      }
    }
  }

  private leaveHub(): void {
    if (!this.registered) return;
    this.registered = false;
    this.cn.hub.agentDown(this, this.gracefulRestart);
  }

  /** The CN process died: no FIN reaches the CN side; the client sees the TCP close. */
  serverGone(): void {
    if (!this.session) return;
    for (const t of ['open', 'hold', 'keepalive', 'eor']) this.sim.cancel(`${this.id}/cn/${t}`);
    this.session = undefined;
    this.registered = false;
    this.sim.later(() => this.run(this.client.peerClosed(this.sim.now)));
  }

  routes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[]): void {
    const s = this.session;
    if (s) this.runS(s.sendRoutes(instance, family, updates, this.sim.now), s);
  }
}
