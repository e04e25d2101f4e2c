/**
 * node:net adapter of the sans-IO FSM: one Peer per configured neighbour, one Connection (FSM +
 * socket + timers + receive buffer) per TCP connection. An active peer keeps one outbound
 * Connection for its whole life (its FSM holds the connect-retry back-off and the damping
 * state); each accepted socket gets a fresh inbound Connection that dies with its socket.
 * When both reach OpenConfirm, resolveCollision picks the survivor (RFC 4271 section 6.8).
 *
 * UPDATEs the speaker sends are encoded in batches and written straight to the socket of the
 * Established connection instead of one SendUpdate event each: the FSM would only echo them,
 * and the KEEPALIVE timer running on regardless costs a 19-byte message now and then.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeBgpMessage, decodeBgpMessage, negotiateOptions, type BgpCodecOptions } from '../../../codecs/bgp/message.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import type { DownReason, FsmAction, FsmState } from '../fsm/actions.js';
import { resolveCollision } from '../fsm/collision.js';
import type { FsmConfig } from '../fsm/config.js';
import type { FsmEvent, StopCause } from '../fsm/events.js';
import { BgpFsm, type Direction } from '../fsm/fsm.js';
import { eventForDecodeError, eventForMessage } from '../fsm/inbound.js';
import type { BgpMessage, NotificationMessage, RouteRefreshMessage, UpdateMessage } from '../fsm/messages.js';
import type { Negotiated } from '../fsm/negotiate.js';
import { timerEvent, type TimerName } from '../fsm/timers.js';
import { Framer } from './framer.js';

export interface PeerSettings {
  address: string;
  port: number;
  /** Source address of our connections (and what the peer must see us as). */
  localAddress?: string;
  passive: boolean;
  fsm: FsmConfig;
}

export interface DownInfo {
  reason: DownReason;
  notification?: NotificationMessage;
  /** true: we sent the NOTIFICATION. */
  sent?: boolean;
  shutdownText?: string;
}

/** What the speaker does with a peer's session. */
export interface PeerHandler {
  established(peer: Peer): void;
  update(peer: Peer, update: UpdateMessage): void;
  routeRefresh(peer: Peer, message: RouteRefreshMessage): void;
  /** The Established session ended. */
  down(peer: Peer, info: DownInfo): void;
}

export interface MessageCounters {
  open: number;
  update: number;
  notification: number;
  keepalive: number;
  'route-refresh': number;
  total: number;
}

function counters(): MessageCounters {
  return { open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0, total: 0 };
}

const PRE_OPEN: BgpCodecOptions = { fourOctetAs: false };
const LENIENT = { mode: 'lenient' } as const;
/** How long a closing socket may take to flush a NOTIFICATION before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

class Connection {
  readonly fsm: BgpFsm;
  socket: net.Socket | undefined;
  readonly timers = new Map<TimerName, NodeJS.Timeout>();
  readonly framer = new Framer();
  recvOpts: BgpCodecOptions = PRE_OPEN;
  sendOpts: BgpCodecOptions = PRE_OPEN;

  constructor(config: FsmConfig, readonly direction: Direction) {
    this.fsm = new BgpFsm(config, direction);
  }
}

export class Peer {
  readonly received = counters();
  readonly sent = counters();
  /** When the current session became Established (ms since the epoch). */
  establishedAt: number | undefined;
  /** How the last session ended. */
  lastDown: (DownInfo & { at: number }) | undefined;
  private outbound: Connection | undefined;
  private inbound: Connection | undefined;
  private active: Connection | undefined;
  private running = false;
  /**
   * End of a max-prefix hold-down (adapter clock; Infinity: until clearHoldDown). Inbound
   * connections are refused before it; the outbound FSM holds itself down for the same time.
   */
  private holdDownUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly settings: PeerSettings,
    private readonly handler: PeerHandler,
  ) {}

  get address(): string {
    return this.settings.address;
  }

  /** State of the most advanced connection. */
  get state(): FsmState {
    if (this.active) return 'Established';
    const order: FsmState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
    let best: FsmState = 'Idle';
    for (const c of [this.outbound, this.inbound]) {
      if (c && order.indexOf(c.fsm.state) > order.indexOf(best)) best = c.fsm.state;
    }
    return best;
  }

  get negotiated(): Negotiated | undefined {
    return this.active?.fsm.negotiated;
  }

  get peerOpen(): BgpMessage | undefined {
    return this.active?.fsm.peerOpen;
  }

  /** Codec options for what we send on the Established session. */
  get sendOptions(): BgpCodecOptions | undefined {
    return this.active?.sendOpts;
  }

  /** Our address on the Established session (next hop self). */
  get localAddress(): string | undefined {
    return this.active?.socket?.localAddress ?? this.settings.localAddress;
  }

  get isEstablished(): boolean {
    return this.active !== undefined;
  }

  /**
   * Milliseconds left of a max-prefix hold-down: undefined when there is none, Infinity when
   * only clearHoldDown ends it.
   */
  get holdDownRemainingMs(): number | undefined {
    const left = this.holdDownUntil - this.now();
    return left > 0 ? left : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.settings.passive) return;
    this.outbound = new Connection(this.settings.fsm, 'outbound');
    this.step(this.outbound, { type: 'ManualStart' });
  }

  /** ManualStop on every connection (Cease with the cause's subcode where there is a session). */
  stop(cause: StopCause = 'shutdown', text?: string): void {
    this.running = false;
    for (const c of [this.inbound, this.outbound]) {
      if (c === undefined) continue;
      this.step(c, text === undefined ? { type: 'ManualStop', cause } : { type: 'ManualStop', cause, text });
      this.dispose(c);
    }
    this.inbound = undefined;
    this.outbound = undefined;
  }

  /** A socket from the shared listener whose remote address is ours. */
  acceptInbound(socket: net.Socket): void {
    // Held down: Idle refuses connections (RFC 4271 section 8.2.2).
    if (!this.running || this.now() < this.holdDownUntil) {
      socket.destroy();
      return;
    }
    const old = this.inbound;
    if (old !== undefined && old.fsm.state !== 'Idle') {
      // RFC 4724 section 4.2: a new connection from a Graceful Restart peer whose session we
      // still hold means it restarted; the old session is gone. Otherwise the newcomer waits.
      if (old === this.active && old.fsm.negotiated?.gracefulRestart !== undefined) {
        this.step(old, { type: 'TcpConnectionFails' });
      } else {
        socket.destroy();
        return;
      }
    }
    const c = new Connection({ ...this.settings.fsm, automaticRestart: false }, 'inbound');
    this.inbound = c;
    this.attach(c, socket);
    this.step(c, { type: 'ManualStart_with_PassiveTcpEstablishment' });
    this.step(c, { type: 'TcpConnectionConfirmed' });
  }

  /** Pre-encoded UPDATEs for the Established session; false when there is none. */
  sendRaw(bytes: Uint8Array, messages: number): boolean {
    const s = this.active?.socket;
    if (s === undefined) return false;
    s.write(bytes);
    this.sent.update += messages;
    this.sent.total += messages;
    return true;
  }

  /** Whether the socket has a backlog the caller might want to wait for. */
  get writeBacklog(): number {
    return this.active?.socket?.writableLength ?? 0;
  }

  onDrain(cb: () => void): void {
    const s = this.active?.socket;
    if (s === undefined) cb();
    else s.once('drain', cb);
  }

  sendRouteRefresh(afi: number, safi: number): void {
    if (this.active) this.step(this.active, { type: 'SendRouteRefresh', message: { type: 'route-refresh', afi, subtype: 0, safi } });
  }

  /**
   * RFC 4486 Cease 6/1 with AFI, SAFI and the bound (section 4), then the peer stays down: for
   * `restartMs` when given (then it reconnects), otherwise until clearHoldDown.
   */
  maxPrefixExceeded(afi: number, safi: number, bound: number, restartMs?: number): void {
    const c = this.active;
    if (c === undefined) return;
    const data = new Uint8Array(7);
    data[0] = afi >> 8;
    data[1] = afi & 0xff;
    data[2] = safi;
    new DataView(data.buffer).setUint32(3, bound);
    const holdDownMs = restartMs ?? Number.POSITIVE_INFINITY;
    this.holdDownUntil = this.now() + holdDownMs;
    // The outbound side first: the session's end would otherwise make a parked one dial again.
    const o = this.outbound;
    if (o !== undefined && o !== c) this.step(o, { type: 'AutomaticStop', subcode: 1, data, holdDownMs });
    this.step(c, { type: 'AutomaticStop', subcode: 1, data, holdDownMs });
  }

  /** The operator's clear of a max-prefix hold-down: connect (or accept) again now. */
  clearHoldDown(): boolean {
    if (this.holdDownRemainingMs === undefined) return false;
    this.holdDownUntil = Number.NEGATIVE_INFINITY;
    const o = this.outbound;
    if (this.running && o !== undefined && o.fsm.isHeldDown) this.step(o, { type: 'ManualStart' });
    return true;
  }

  // ----- plumbing -----

  private now(): number {
    return performance.now();
  }

  private step(c: Connection, e: FsmEvent): void {
    const actions = c.fsm.step(e, this.now());
    for (const a of actions) this.run(c, a);
    if (c.fsm.state === 'OpenConfirm') this.checkCollision();
  }

  private checkCollision(): void {
    const i = this.inbound;
    const o = this.outbound;
    if (i === undefined || o === undefined) return;
    const v = resolveCollision(i.fsm, o.fsm);
    if (v === undefined) return;
    const dump = v.dump === i.fsm ? i : o;
    this.step(dump, { type: 'OpenCollisionDump' });
  }

  private run(c: Connection, a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        this.connect(c);
        return;
      case 'close':
        this.closeSocket(c);
        return;
      case 'send': {
        const s = c.socket;
        if (s === undefined) return;
        s.write(encodeBgpMessage(a.message, c.sendOpts));
        this.sent[a.message.type]++;
        this.sent.total++;
        return;
      }
      case 'arm-timer': {
        const old = c.timers.get(a.timer);
        if (old !== undefined) clearTimeout(old);
        const event = timerEvent(a.timer);
        c.timers.set(
          a.timer,
          setTimeout(() => {
            c.timers.delete(a.timer);
            this.step(c, event);
          }, a.ms),
        );
        return;
      }
      case 'cancel-timer': {
        const old = c.timers.get(a.timer);
        if (old !== undefined) clearTimeout(old);
        c.timers.delete(a.timer);
        return;
      }
      case 'state':
        return;
      case 'established': {
        const fsm = c.fsm;
        if (fsm.peerOpen === undefined) return;
        c.recvOpts = negotiateOptions(fsm.localOpen, fsm.peerOpen);
        const send: BgpCodecOptions = { fourOctetAs: c.recvOpts.fourOctetAs };
        if (c.recvOpts.extendedMessage === true) send.extendedMessage = true;
        c.sendOpts = send;
        this.active = c;
        this.establishedAt = Date.now();
        // The other connection lost: an Idle outbound one must not keep redialling.
        const other = c === this.inbound ? this.outbound : this.inbound;
        if (other !== undefined && other.fsm.state === 'Idle') this.step(other, { type: 'ManualStop' });
        this.handler.established(this);
        return;
      }
      case 'down': {
        const info: DownInfo = { reason: a.reason };
        if (a.notification !== undefined) info.notification = a.notification;
        if (a.sent !== undefined) info.sent = a.sent;
        if (a.shutdownText !== undefined) info.shutdownText = a.shutdownText;
        this.lastDown = { ...info, at: Date.now() };
        c.recvOpts = PRE_OPEN;
        c.sendOpts = PRE_OPEN;
        if (c === this.active) {
          this.active = undefined;
          this.establishedAt = undefined;
          this.handler.down(this, info);
          // An inbound session ended while our own side was parked: dial again.
          const o = this.outbound;
          if (c === this.inbound && this.running && o !== undefined && o.fsm.state === 'Idle') this.step(o, { type: 'AutomaticStart' });
        }
        if (c === this.inbound) {
          this.dispose(c);
          this.inbound = undefined;
        }
        return;
      }
      case 'deliver-update':
        this.handler.update(this, a.update);
        return;
      case 'deliver-route-refresh':
        this.handler.routeRefresh(this, a.routeRefresh);
        return;
    }
  }

  private connect(c: Connection): void {
    this.closeSocket(c);
    const opts: net.NetConnectOpts = { host: this.settings.address, port: this.settings.port };
    if (this.settings.localAddress !== undefined) opts.localAddress = this.settings.localAddress;
    const s = net.connect(opts);
    this.attach(c, s);
    s.once('connect', () => {
      if (c.socket === s) this.step(c, { type: 'Tcp_CR_Acked' });
    });
  }

  private attach(c: Connection, s: net.Socket): void {
    c.socket = s;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (c.socket === s) this.onData(c, s, chunk);
    });
    s.on('error', () => {
      // 'close' follows and reports the failure.
    });
    s.on('close', () => {
      if (c.socket !== s) return;
      c.socket = undefined;
      c.framer.clear();
      this.step(c, { type: 'TcpConnectionFails' });
    });
  }

  private onData(c: Connection, s: net.Socket, chunk: Buffer): void {
    try {
      c.framer.push(chunk, c.recvOpts.extendedMessage === true, (buf, off) => {
        let event: FsmEvent;
        try {
          const m = decodeBgpMessage(buf, off, c.recvOpts, LENIENT);
          this.received[m.type]++;
          this.received.total++;
          event = eventForMessage(m);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          event = eventForDecodeError(e);
        }
        this.step(c, event);
        return c.socket === s;
      });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      // Framing lost (bad marker or length): the session cannot continue (1/1, 1/2).
      this.step(c, eventForDecodeError(e));
    }
  }

  private closeSocket(c: Connection): void {
    const s = c.socket;
    if (s === undefined) return;
    c.socket = undefined;
    c.framer.clear();
    // end() flushes a NOTIFICATION written just before; destroy() covers a peer that never reads.
    s.end();
    setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
  }

  private dispose(c: Connection): void {
    for (const t of c.timers.values()) clearTimeout(t);
    c.timers.clear();
    this.closeSocket(c);
  }
}
