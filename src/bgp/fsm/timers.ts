/**
 * Timer names, their expiry events, and the back-off arithmetic. The FSM never reads a clock:
 * every step gets `now` (milliseconds, monotonic) from the adapter, which also runs the timers.
 */
import type { FsmEvent } from './events.js';

export type TimerName = 'connect-retry' | 'hold' | 'keepalive' | 'delay-open' | 'idle-hold';

export const TIMER_NAMES: readonly TimerName[] = ['connect-retry', 'hold', 'keepalive', 'delay-open', 'idle-hold'];

/** The event the adapter feeds back when a timer armed by the FSM fires. */
export function timerEvent(timer: TimerName): FsmEvent {
  switch (timer) {
    case 'connect-retry':
      return { type: 'ConnectRetryTimer_Expires' };
    case 'hold':
      return { type: 'HoldTimer_Expires' };
    case 'keepalive':
      return { type: 'KeepaliveTimer_Expires' };
    case 'delay-open':
      return { type: 'DelayOpenTimer_Expires' };
    case 'idle-hold':
      return { type: 'IdleHoldTimer_Expires' };
  }
}

/** Exponential back-off: base * 2^attempt, capped at max. */
export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
}

export function backoffMs(cfg: BackoffConfig, attempt: number): number {
  // 2^31 already exceeds any sane max; clamping the exponent avoids Infinity.
  const factor = 2 ** Math.min(Math.max(attempt, 0), 31);
  return Math.min(cfg.baseMs * factor, cfg.maxMs);
}

/** RFC 4271 section 10: hold time 240 s between sending OPEN and receiving the peer's. */
export const LARGE_HOLD_TIME_MS = 240_000;

/**
 * The keepalive interval for a negotiated hold time: a third of it (RFC 4271 section 10),
 * whole seconds, and never above a locally configured interval. 0 when the hold time is 0.
 */
export function keepaliveSeconds(holdTime: number, configured?: number): number {
  if (holdTime === 0) return 0;
  const third = Math.floor(holdTime / 3);
  return configured !== undefined && configured > 0 ? Math.min(configured, third) : third;
}
