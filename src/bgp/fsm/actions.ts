/**
 * What a step asks the adapter to do, in order. Plain objects so a test can compare them and
 * `weft` can log them as JSON.
 */
import type { BgpMessage, NotificationMessage, RouteRefreshMessage, UpdateMessage } from './messages.js';
import type { Negotiated } from './negotiate.js';
import type { TimerName } from './timers.js';

export type FsmState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** Why a session went back to Idle. */
export type DownReason =
  | 'manual-stop'
  | 'automatic-stop'
  | 'tcp-failed'
  | 'hold-timer-expired'
  | 'header-error'
  | 'open-error'
  | 'update-error'
  | 'fsm-error'
  | 'notification-received'
  | 'collision';

export type FsmAction =
  /** Open the outgoing TCP connection. */
  | { type: 'connect' }
  /** Drop the TCP connection (or abandon the connection attempt). */
  | { type: 'close' }
  | { type: 'send'; message: BgpMessage }
  /** (Re)start a one-shot timer; replaces a running timer of the same name. */
  | { type: 'arm-timer'; timer: TimerName; ms: number }
  | { type: 'cancel-timer'; timer: TimerName }
  | { type: 'state'; from: FsmState; to: FsmState }
  | { type: 'established'; negotiated: Negotiated }
  /**
   * The session went back to Idle. `established` says whether it had been Established, i.e.
   * whether the RIB layer must flush the peer's routes. `notification` is the one sent
   * (`sent: true`) or received that ended it.
   */
  | {
      type: 'down';
      reason: DownReason;
      established: boolean;
      notification?: NotificationMessage;
      sent?: boolean;
      /** RFC 9003 text of a received Administrative Shutdown/Reset. */
      shutdownText?: string;
    }
  | { type: 'deliver-update'; update: UpdateMessage }
  | { type: 'deliver-route-refresh'; routeRefresh: RouteRefreshMessage };
