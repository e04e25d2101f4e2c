/**
 * RFC 4271 section 8 neighbor finite state machine, sans-IO. One instance per TCP connection
 * attempt (the adapter runs a second one for an inbound connection while the first is still
 * alive and settles the race with resolveCollision). `step(event, now)` returns the actions
 * the adapter must carry out, in order; nothing in here touches a socket or reads a clock.
 *
 * Transitions follow section 8.2.2 state by state, as an explicit match of state x event in
 * the manner of Holo's neighbor FSM. Deliberate departures from the RFC text, all of them what
 * deployed speakers do:
 *  - no NOTIFICATION is sent in answer to a NOTIFICATION (OpenSent lists NotifMsg among the
 *    FSM errors, but section 6.4 forbids replying to one);
 *  - a header or OPEN error detected in Established is reported with its own code, not 5/3;
 *  - an OPEN on a connection already past OpenSent is an FSM error (5/2, 5/3): with one FSM per
 *    connection, the collision case of the RFC's event 19 is the adapter's resolveCollision;
 *  - SendNOTIFICATIONwithoutOPEN is always on: with DelayOpen a peer is told why it is closed;
 *  - timer expiries for a timer the FSM did not arm (a race with cancel) are ignored.
 *
 * The hold and keepalive timers are restarted lazily: traffic only moves the deadline, and when
 * the adapter's timer fires early the FSM re-arms it for the remainder. That keeps a busy
 * session from producing a timer action per UPDATE.
 */
import type { DownReason, FsmAction, FsmState } from './actions.js';
import { resolveConfig } from './config.js';
import type { FsmConfig, ResolvedConfig } from './config.js';
import type { FsmEvent, StopCause } from './events.js';
import type { NotificationMessage, OpenMessage, RouteRefreshMessage } from './messages.js';
import { buildOpen, checkOpen } from './negotiate.js';
import type { Negotiated } from './negotiate.js';
import {
  CeaseSubcode,
  ErrorCode,
  FsmSubcode,
  decodeShutdownCommunication,
  encodeShutdownCommunication,
  notification,
} from './notification.js';
import { LARGE_HOLD_TIME_MS, backoffMs } from './timers.js';
import type { TimerName } from './timers.js';

export type Direction = 'inbound' | 'outbound';

const KEEPALIVE = { type: 'keepalive' } as const;

const STOP_SUBCODE: Record<StopCause, number> = {
  shutdown: CeaseSubcode.AdministrativeShutdown,
  reset: CeaseSubcode.AdministrativeReset,
  deconfigured: CeaseSubcode.PeerDeconfigured,
  'config-change': CeaseSubcode.OtherConfigurationChange,
  rejected: CeaseSubcode.ConnectionRejected,
};

interface IdleOptions {
  /** RFC 4271 "increments the ConnectRetryCounter" (and peer oscillation damping). */
  count: boolean;
  notification?: NotificationMessage;
  /** true: we send `notification`; false: we received it. */
  sent?: boolean;
  manual?: boolean;
  /** Hold the peer down instead of the damped restart (AutomaticStop's holdDownMs). */
  holdDownMs?: number;
}

export class BgpFsm {
  private st: FsmState = 'Idle';
  /** RFC 4271 ConnectRetryCounter: failed attempts since the last ManualStart/Stop. */
  connectRetryCounter = 0;
  /** The peer's OPEN once accepted (OpenConfirm and Established). */
  peerOpen: OpenMessage | undefined;
  negotiated: Negotiated | undefined;
  /** Our OPEN, as sent. */
  readonly localOpen: OpenMessage;
  readonly config: ResolvedConfig;

  private out: FsmAction[] = [];
  private now = 0;
  /** When each timer expires (ms, adapter clock); -1 = not armed. */
  private readonly due: Record<TimerName, number> = {
    'connect-retry': -1,
    hold: -1,
    keepalive: -1,
    'delay-open': -1,
    'idle-hold': -1,
  };
  private holdMs = 0;
  private keepaliveMs = 0;
  private tcp: 'none' | 'connecting' | 'open' = 'none';
  private passive = false;
  private autoRestart = false;
  /**
   * Held down after an AutomaticStop that asked for it (max-prefix): Idle, deaf to
   * AutomaticStart, until the IdleHoldTimer (armed with the hold-down, if it ends) or a
   * ManualStart.
   */
  private heldDown = false;
  private retryAttempt = 0;
  private failures = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(
    config: FsmConfig,
    /** Who opened the TCP connection; the collision resolution needs it. */
    readonly direction: Direction = 'outbound',
  ) {
    this.config = resolveConfig(config);
    this.localOpen = buildOpen(this.config);
  }

  get state(): FsmState {
    return this.st;
  }

  /** Idle by an AutomaticStop's hold-down; timerDue('idle-hold') says until when, if it ends. */
  get isHeldDown(): boolean {
    return this.heldDown;
  }

  /** Whether a timer is armed, and when it expires. */
  timerDue(timer: TimerName): number | undefined {
    const d = this.due[timer];
    return d < 0 ? undefined : d;
  }

  step(event: FsmEvent, now: number): FsmAction[] {
    const out: FsmAction[] = [];
    this.out = out;
    this.now = now;
    if (this.filterTimer(event)) {
      switch (this.st) {
        case 'Idle':
          this.idle(event);
          break;
        case 'Connect':
          this.connect(event);
          break;
        case 'Active':
          this.active(event);
          break;
        case 'OpenSent':
          this.openSent(event);
          break;
        case 'OpenConfirm':
          this.openConfirm(event);
          break;
        case 'Established':
          this.established(event);
          break;
      }
    }
    this.out = [];
    return out;
  }

  // ----- states (RFC 4271 section 8.2.2) -----

  private idle(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
        return this.start(false);
      case 'ManualStart_with_PassiveTcpEstablishment':
        return this.start(true);
      case 'AutomaticStart':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
        // Held down: the end of the hold-down (or an operator) starts it, in the mode asked last.
        if (this.heldDown) {
          this.passive = e.type !== 'AutomaticStart';
          return;
        }
        return this.start(e.type !== 'AutomaticStart');
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment': {
        const passive = e.type !== 'AutomaticStart_with_DampPeerOscillations';
        if (this.heldDown) {
          this.passive = passive;
          return;
        }
        // Damped: while the IdleHoldTimer runs, its expiry does the start.
        if (this.due['idle-hold'] >= 0) {
          this.passive = passive;
          this.autoRestart = this.config.automaticRestart;
          return;
        }
        return this.start(passive);
      }
      case 'IdleHoldTimer_Expires':
        return this.start(this.passive);
      case 'ManualStop':
        // A stopped peer stays stopped: forget the pending automatic restart (and a hold-down,
        // whose end would be one).
        this.autoRestart = false;
        this.heldDown = false;
        this.connectRetryCounter = 0;
        this.cancel('idle-hold');
        return;
      case 'AutomaticStop':
        // No session to end, but a connection parked in Idle is held down like the session.
        if (e.holdDownMs !== undefined) this.holdDown(e.holdDownMs);
        return;
      default:
        // Section 8.2.2: any other event in Idle is ignored.
        return;
    }
  }

  private connect(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment':
        return;
      case 'ManualStop':
        return this.manualStop(e.cause, e.text);
      case 'ConnectRetryTimer_Expires':
        // Drop the attempt in progress and try again, waiting longer each time.
        if (this.tcp !== 'none') this.emitClose();
        this.cancel('delay-open');
        this.arm('connect-retry', this.nextRetryMs());
        this.emit({ type: 'connect' });
        this.tcp = 'connecting';
        return;
      case 'DelayOpenTimer_Expires':
        return this.sendOpen();
      case 'Tcp_CR_Acked':
      case 'TcpConnectionConfirmed':
        return this.tcpUp();
      case 'TcpConnectionFails':
        if (this.due['delay-open'] >= 0) {
          this.tcp = 'none';
          this.cancel('delay-open');
          this.arm('connect-retry', this.nextRetryMs());
          this.goto('Active');
          return;
        }
        return this.toIdle('tcp-failed', { count: false });
      case 'BGPOpen':
        if (this.due['delay-open'] >= 0) return this.openWhileDelayed(e.message);
        return this.toIdle('fsm-error', { count: true });
      case 'BGPHeaderErr':
        return this.toIdle('header-error', this.errorWithoutOpen(e.error));
      case 'BGPOpenMsgErr':
        return this.toIdle('open-error', this.errorWithoutOpen(e.error));
      case 'NotifMsgVerErr':
        return this.toIdle('notification-received', this.received(e.message, this.due['delay-open'] < 0));
      case 'NotifMsg':
        return this.toIdle('notification-received', this.received(e.message, true));
      case 'AutomaticStop':
        return this.toIdle('automatic-stop', withHoldDown({ count: true }, e.holdDownMs));
      default:
        return this.toIdle(this.defaultReason(e), { count: true });
    }
  }

  private active(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment':
        return;
      case 'ManualStop':
        return this.manualStop(e.cause, e.text);
      case 'ConnectRetryTimer_Expires':
        this.arm('connect-retry', this.nextRetryMs());
        this.emit({ type: 'connect' });
        this.tcp = 'connecting';
        this.goto('Connect');
        return;
      case 'DelayOpenTimer_Expires':
        return this.sendOpen();
      case 'Tcp_CR_Acked':
      case 'TcpConnectionConfirmed':
        return this.tcpUp();
      case 'TcpConnectionFails':
        return this.toIdle('tcp-failed', { count: true });
      case 'BGPOpen':
        if (this.due['delay-open'] >= 0) return this.openWhileDelayed(e.message);
        return this.toIdle('fsm-error', { count: true });
      case 'BGPHeaderErr':
        return this.toIdle('header-error', this.errorWithoutOpen(e.error));
      case 'BGPOpenMsgErr':
        return this.toIdle('open-error', this.errorWithoutOpen(e.error));
      case 'NotifMsgVerErr':
        return this.toIdle('notification-received', this.received(e.message, this.due['delay-open'] < 0));
      case 'NotifMsg':
        return this.toIdle('notification-received', this.received(e.message, true));
      case 'AutomaticStop':
        return this.toIdle('automatic-stop', withHoldDown({ count: true }, e.holdDownMs));
      default:
        return this.toIdle(this.defaultReason(e), { count: true });
    }
  }

  private openSent(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment':
        return;
      case 'ManualStop':
        return this.manualStop(e.cause, e.text);
      case 'AutomaticStop':
        return this.automaticStop(e.subcode, e.data, e.holdDownMs);
      case 'HoldTimer_Expires':
        return this.holdExpired();
      case 'Tcp_CR_Acked':
      case 'TcpConnectionConfirmed':
        // A second connection: the adapter tracks it with its own FSM (section 6.8).
        return;
      case 'TcpConnectionFails':
        // The one case that waits in Active instead of Idle: the peer may still call us.
        this.cancel('hold');
        this.emitClose();
        this.arm('connect-retry', this.nextRetryMs());
        this.goto('Active');
        return;
      case 'BGPOpen':
        return this.openReceived(e.message);
      case 'BGPHeaderErr':
        return this.toIdle('header-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'BGPOpenMsgErr':
        return this.toIdle('open-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'OpenCollisionDump':
        return this.collisionDump();
      case 'NotifMsgVerErr':
        return this.toIdle('notification-received', this.received(e.message, false));
      case 'NotifMsg':
        return this.toIdle('notification-received', this.received(e.message, true));
      default:
        return this.fsmError(e, FsmSubcode.UnexpectedInOpenSent);
    }
  }

  private openConfirm(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment':
        return;
      case 'ManualStop':
        return this.manualStop(e.cause, e.text);
      case 'AutomaticStop':
        return this.automaticStop(e.subcode, e.data, e.holdDownMs);
      case 'HoldTimer_Expires':
        return this.holdExpired();
      case 'KeepaliveTimer_Expires':
        return this.keepaliveExpired();
      case 'Tcp_CR_Acked':
      case 'TcpConnectionConfirmed':
        return;
      case 'TcpConnectionFails':
        return this.toIdle('tcp-failed', { count: true });
      case 'NotifMsg':
        return this.toIdle('notification-received', this.received(e.message, true));
      case 'NotifMsgVerErr':
        return this.toIdle('notification-received', this.received(e.message, false));
      case 'BGPHeaderErr':
        return this.toIdle('header-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'BGPOpenMsgErr':
        return this.toIdle('open-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'OpenCollisionDump':
        return this.collisionDump();
      case 'KeepAliveMsg': {
        const neg = this.negotiated;
        if (neg === undefined) return this.fsmError(e, FsmSubcode.UnexpectedInOpenConfirm);
        if (this.holdMs > 0) this.arm('hold', this.holdMs);
        this.goto('Established');
        this.emit({ type: 'established', negotiated: neg });
        return;
      }
      default:
        return this.fsmError(e, FsmSubcode.UnexpectedInOpenConfirm);
    }
  }

  private established(e: FsmEvent): void {
    switch (e.type) {
      case 'UpdateMsg':
        // The hot path: one deadline write, one action.
        if (this.holdMs > 0) this.due.hold = this.now + this.holdMs;
        this.out.push({ type: 'deliver-update', update: e.message });
        return;
      case 'KeepAliveMsg':
        if (this.holdMs > 0) this.due.hold = this.now + this.holdMs;
        return;
      case 'SendUpdate':
        this.out.push({ type: 'send', message: e.message });
        // Section 8.2.2: sending an UPDATE restarts the KeepaliveTimer.
        if (this.keepaliveMs > 0) this.due.keepalive = this.now + this.keepaliveMs;
        return;
      case 'RouteRefreshMsg':
        if (this.holdMs > 0) this.due.hold = this.now + this.holdMs;
        if (this.acceptsRouteRefresh(e.message)) this.emit({ type: 'deliver-route-refresh', routeRefresh: e.message });
        return;
      case 'SendRouteRefresh':
        if (this.acceptsRouteRefresh(e.message)) this.emit({ type: 'send', message: e.message });
        return;
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_PassiveTcpEstablishment':
      case 'AutomaticStart_with_DampPeerOscillations':
      case 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment':
        return;
      case 'ManualStop':
        return this.manualStop(e.cause, e.text);
      case 'AutomaticStop':
        return this.automaticStop(e.subcode, e.data, e.holdDownMs);
      case 'HoldTimer_Expires':
        return this.holdExpired();
      case 'KeepaliveTimer_Expires':
        return this.keepaliveExpired();
      case 'Tcp_CR_Acked':
      case 'TcpConnectionConfirmed':
        return;
      case 'TcpConnectionFails':
        return this.toIdle('tcp-failed', { count: true });
      case 'NotifMsg':
      case 'NotifMsgVerErr':
        return this.toIdle('notification-received', this.received(e.message, true));
      case 'OpenCollisionDump':
        return this.collisionDump();
      case 'UpdateMsgErr':
        return this.toIdle('update-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'BGPHeaderErr':
        return this.toIdle('header-error', { count: true, notification: hintNotification(e.error), sent: true });
      case 'BGPOpenMsgErr':
        return this.toIdle('open-error', { count: true, notification: hintNotification(e.error), sent: true });
      default:
        return this.fsmError(e, FsmSubcode.UnexpectedInEstablished);
    }
  }

  // ----- shared transitions -----

  private start(passive: boolean): void {
    this.passive = passive;
    this.heldDown = false;
    this.autoRestart = this.config.automaticRestart;
    this.connectRetryCounter = 0;
    this.retryAttempt = 0;
    this.cancel('idle-hold');
    this.arm('connect-retry', this.nextRetryMs());
    if (passive) {
      this.goto('Active');
      return;
    }
    this.emit({ type: 'connect' });
    this.tcp = 'connecting';
    this.goto('Connect');
  }

  private tcpUp(): void {
    this.tcp = 'open';
    this.cancel('connect-retry');
    if (this.config.delayOpenMs > 0) {
      this.arm('delay-open', this.config.delayOpenMs);
      return;
    }
    this.sendOpen();
  }

  private sendOpen(): void {
    this.cancel('connect-retry');
    this.cancel('delay-open');
    this.emit({ type: 'send', message: this.localOpen });
    // Until the peer's OPEN tells us its hold time, a generous one (section 8.2.2).
    this.holdMs = LARGE_HOLD_TIME_MS;
    this.arm('hold', LARGE_HOLD_TIME_MS);
    this.goto('OpenSent');
  }

  /** OPEN in OpenSent: check it, then KEEPALIVE and the negotiated timers. */
  private openReceived(open: OpenMessage): void {
    this.cancel('connect-retry');
    this.cancel('delay-open');
    const res = checkOpen(open, this.config);
    if (!res.ok) {
      return this.toIdle('open-error', { count: true, notification: res.notification, sent: true });
    }
    this.acceptOpen(open, res.negotiated);
  }

  /** OPEN that arrives while DelayOpen holds ours back (event 20): answer with OPEN + KEEPALIVE. */
  private openWhileDelayed(open: OpenMessage): void {
    this.cancel('connect-retry');
    this.cancel('delay-open');
    const res = checkOpen(open, this.config);
    if (!res.ok) {
      return this.toIdle('open-error', { count: true, notification: res.notification, sent: true });
    }
    this.emit({ type: 'send', message: this.localOpen });
    this.acceptOpen(open, res.negotiated);
  }

  private acceptOpen(open: OpenMessage, neg: Negotiated): void {
    this.peerOpen = open;
    this.negotiated = neg;
    this.holdMs = neg.holdTime * 1000;
    this.keepaliveMs = neg.keepaliveTime * 1000;
    this.emit({ type: 'send', message: KEEPALIVE });
    if (this.holdMs > 0) {
      this.arm('keepalive', this.keepaliveMs);
      this.arm('hold', this.holdMs);
    } else {
      // Hold time 0: no KEEPALIVEs and no hold timer at all (section 4.2).
      this.cancel('keepalive');
      this.cancel('hold');
    }
    this.goto('OpenConfirm');
  }

  private keepaliveExpired(): void {
    this.emit({ type: 'send', message: KEEPALIVE });
    if (this.keepaliveMs > 0) this.arm('keepalive', this.keepaliveMs);
  }

  private holdExpired(): void {
    this.toIdle('hold-timer-expired', {
      count: true,
      notification: notification(ErrorCode.HoldTimerExpired, 0),
      sent: true,
    });
  }

  private manualStop(cause: StopCause = 'shutdown', text?: string): void {
    const subcode = STOP_SUBCODE[cause];
    const withText =
      text !== undefined &&
      (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
    const n = notification(ErrorCode.Cease, subcode, withText ? encodeShutdownCommunication(text) : undefined);
    // Before OpenSent there is no BGP session to tell, only (with DelayOpen) a bare connection.
    const tell = this.st !== 'Connect' && this.st !== 'Active' ? true : this.tcp === 'open';
    if (tell) this.toIdle('manual-stop', { count: false, manual: true, notification: n, sent: true });
    else this.toIdle('manual-stop', { count: false, manual: true });
  }

  private automaticStop(subcode = 0, data?: Uint8Array, holdDownMs?: number): void {
    const n = notification(ErrorCode.Cease, subcode, data);
    this.toIdle('automatic-stop', withHoldDown({ count: true, notification: n, sent: true }, holdDownMs));
  }

  private collisionDump(): void {
    this.toIdle('collision', {
      count: true,
      notification: notification(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution),
      sent: true,
    });
  }

  /**
   * RFC 6608: an unexpected message gets the subcode of the state it arrived in; anything else
   * unexpected (a local event at the wrong time) is "unspecified".
   */
  private fsmError(e: FsmEvent, subcodeForMessage: number): void {
    const subcode = isMessageEvent(e) ? subcodeForMessage : FsmSubcode.Unspecified;
    this.toIdle('fsm-error', { count: true, notification: notification(ErrorCode.FsmError, subcode), sent: true });
  }

  /** A header or OPEN error in Connect/Active: only a connection held by DelayOpen can be told. */
  private errorWithoutOpen(error: { code: number; subcode: number; data?: Uint8Array }): IdleOptions {
    if (this.tcp !== 'open') return { count: true };
    return { count: true, notification: hintNotification(error), sent: true };
  }

  private received(n: NotificationMessage, count: boolean): IdleOptions {
    return { count, notification: n, sent: false };
  }

  private defaultReason(e: FsmEvent): DownReason {
    if (e.type === 'UpdateMsgErr') return 'update-error';
    if (e.type === 'OpenCollisionDump') return 'collision';
    return 'fsm-error';
  }

  /**
   * Back to Idle: tell the peer (if there is a notification to send), release everything,
   * report why, and, unless an operator stopped us, schedule the restart with damping.
   */
  private toIdle(reason: DownReason, o: IdleOptions): void {
    const wasEstablished = this.st === 'Established';
    if (o.notification !== undefined && o.sent === true) this.emit({ type: 'send', message: o.notification });
    this.cancel('connect-retry');
    this.cancel('hold');
    this.cancel('keepalive');
    this.cancel('delay-open');
    if (this.tcp !== 'none') this.emitClose();
    this.holdMs = 0;
    this.keepaliveMs = 0;
    this.peerOpen = undefined;
    this.negotiated = undefined;
    if (o.count) this.connectRetryCounter++;
    if (o.manual === true) {
      this.connectRetryCounter = 0;
      this.autoRestart = false;
      this.cancel('idle-hold');
    }
    this.goto('Idle');
    const down: Extract<FsmAction, { type: 'down' }> = { type: 'down', reason, established: wasEstablished };
    if (o.notification !== undefined) {
      down.notification = o.notification;
      down.sent = o.sent === true;
      if (o.sent !== true) {
        const text = decodeShutdownCommunication(o.notification);
        if (text !== undefined) down.shutdownText = text;
      }
    }
    this.emit(down);
    if (o.holdDownMs !== undefined) this.holdDown(o.holdDownMs);
    else if (o.manual !== true && this.autoRestart) this.scheduleRestart();
  }

  /**
   * Idle for exactly `ms` (Infinity: until a ManualStart). Not a failure for the damping and
   * not jittered: the operator configured this interval, and the peer is told nothing of it.
   */
  private holdDown(ms: number): void {
    this.heldDown = true;
    this.cancel('idle-hold');
    if (Number.isFinite(ms)) this.arm('idle-hold', Math.max(1, Math.round(ms)));
  }

  /** Peer oscillation damping (section 8.1.1 IdleHoldTimer): each failure doubles the wait. */
  private scheduleRestart(): void {
    const cfg = this.config.idleHold;
    if (this.now - this.lastFailureAt > cfg.forgetMs) this.failures = 0;
    this.failures++;
    this.lastFailureAt = this.now;
    this.arm('idle-hold', this.jittered(backoffMs(cfg, this.failures - 1)));
  }

  private nextRetryMs(): number {
    return this.jittered(backoffMs(this.config.connectRetry, this.retryAttempt++));
  }

  private jittered(ms: number): number {
    return Math.max(1, Math.round(ms * this.config.jitter()));
  }

  private acceptsRouteRefresh(rr: RouteRefreshMessage): boolean {
    const neg = this.negotiated;
    if (neg === undefined || !neg.routeRefresh) return false;
    // RFC 7313 section 5: BoRR/EoRR only with Enhanced Route Refresh; unknown subtypes ignored.
    if (rr.subtype !== 0 && !(neg.enhancedRouteRefresh && (rr.subtype === 1 || rr.subtype === 2))) return false;
    // RFC 2918 section 4: a family we did not negotiate is ignored.
    return neg.families.some((f) => f.afi === rr.afi && f.safi === rr.safi);
  }

  // ----- timers and action plumbing -----

  /**
   * Lets an expiry through only if the timer is armed and really due. A stale expiry (the timer
   * was cancelled, the adapter raced) is dropped; an early one (the deadline moved with
   * traffic) re-arms for the remainder.
   */
  private filterTimer(e: FsmEvent): boolean {
    let timer: TimerName;
    switch (e.type) {
      case 'ConnectRetryTimer_Expires':
        timer = 'connect-retry';
        break;
      case 'HoldTimer_Expires':
        timer = 'hold';
        break;
      case 'KeepaliveTimer_Expires':
        timer = 'keepalive';
        break;
      case 'DelayOpenTimer_Expires':
        timer = 'delay-open';
        break;
      case 'IdleHoldTimer_Expires':
        timer = 'idle-hold';
        break;
      case 'SendUpdate':
      case 'SendRouteRefresh':
        // Outgoing traffic outside Established is the caller's race, not the peer's fault.
        return this.st === 'Established';
      default:
        return true;
    }
    const due = this.due[timer];
    if (due < 0) return false;
    if (this.now < due) {
      this.out.push({ type: 'arm-timer', timer, ms: due - this.now });
      return false;
    }
    this.due[timer] = -1;
    return true;
  }

  private arm(timer: TimerName, ms: number): void {
    this.due[timer] = this.now + ms;
    this.out.push({ type: 'arm-timer', timer, ms });
  }

  private cancel(timer: TimerName): void {
    if (this.due[timer] < 0) return;
    this.due[timer] = -1;
    this.out.push({ type: 'cancel-timer', timer });
  }

  private emitClose(): void {
    this.tcp = 'none';
    this.out.push({ type: 'close' });
  }

  private goto(to: FsmState): void {
    if (to === this.st) return;
    this.out.push({ type: 'state', from: this.st, to });
    this.st = to;
  }

  private emit(a: FsmAction): void {
    this.out.push(a);
  }
}

function withHoldDown(o: IdleOptions, holdDownMs: number | undefined): IdleOptions {
  if (holdDownMs !== undefined) o.holdDownMs = holdDownMs;
  return o;
}

function hintNotification(h: { code: number; subcode: number; data?: Uint8Array }): NotificationMessage {
  return notification(h.code, h.subcode, h.data);
}

function isMessageEvent(e: FsmEvent): boolean {
  switch (e.type) {
    case 'BGPOpen':
    case 'NotifMsg':
    case 'NotifMsgVerErr':
    case 'KeepAliveMsg':
    case 'UpdateMsg':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsg':
      return true;
    default:
      return false;
  }
}
