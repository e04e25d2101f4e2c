/**
 * FSM input events, named exactly as in RFC 4271 section 8.1 so the transition code can be read
 * side by side with section 8.2.2. TcpConnection_Valid and Tcp_CR_Invalid are left to the
 * adapter (it decides whether to accept a socket before an FSM sees it). SendUpdate and
 * SendRouteRefresh are local additions: outgoing traffic goes through the FSM so that it can
 * refuse it outside Established and pace KEEPALIVEs around it.
 */
import type { NotificationHint } from '../../../codecs/util/errors.js';
import type {
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from './messages.js';

/** Which Cease subcode a ManualStop sends (RFC 4486). */
export type StopCause = 'shutdown' | 'reset' | 'deconfigured' | 'config-change' | 'rejected';

export type FsmEvent =
  // Administrative events (8.1.2)
  | { type: 'ManualStart' }
  | {
      type: 'ManualStop';
      /** Default 'shutdown' (Cease 2). */
      cause?: StopCause;
      /** RFC 9003 shutdown communication, sent with 'shutdown' and 'reset'. */
      text?: string;
    }
  | { type: 'AutomaticStart' }
  | { type: 'ManualStart_with_PassiveTcpEstablishment' }
  | { type: 'AutomaticStart_with_PassiveTcpEstablishment' }
  | { type: 'AutomaticStart_with_DampPeerOscillations' }
  | { type: 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment' }
  | {
      type: 'AutomaticStop';
      /** Cease subcode, default 0; e.g. 1 max prefixes (data: AFI, SAFI, bound), 8 out of resources. */
      subcode?: number;
      data?: Uint8Array;
      /**
       * Hold the peer down afterwards instead of the damped automatic restart: stay Idle, deaf
       * to AutomaticStart, for this many ms (then start as the IdleHoldTimer would), or with
       * Infinity until a ManualStart. The max-prefix restart interval of RFC 4486 section 4
       * is such a hold-down. Also applies in Idle, to a connection that was not the session.
       */
      holdDownMs?: number;
    }
  // Timer events (8.1.3)
  | { type: 'ConnectRetryTimer_Expires' }
  | { type: 'HoldTimer_Expires' }
  | { type: 'KeepaliveTimer_Expires' }
  | { type: 'DelayOpenTimer_Expires' }
  | { type: 'IdleHoldTimer_Expires' }
  // TCP connection events (8.1.4)
  | { type: 'Tcp_CR_Acked' }
  | { type: 'TcpConnectionConfirmed' }
  | { type: 'TcpConnectionFails' }
  // BGP message events (8.1.5)
  | { type: 'BGPOpen'; message: OpenMessage }
  | { type: 'BGPHeaderErr'; error: NotificationHint }
  | { type: 'BGPOpenMsgErr'; error: NotificationHint }
  | { type: 'OpenCollisionDump' }
  | { type: 'NotifMsgVerErr'; message: NotificationMessage }
  | { type: 'NotifMsg'; message: NotificationMessage }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg'; message: UpdateMessage }
  | { type: 'UpdateMsgErr'; error: NotificationHint }
  | { type: 'RouteRefreshMsg'; message: RouteRefreshMessage }
  // Local origin
  | { type: 'SendUpdate'; message: UpdateMessage }
  | { type: 'SendRouteRefresh'; message: RouteRefreshMessage };

export type FsmEventType = FsmEvent['type'];
