import { describe, expect, it } from 'vitest';
import type { FsmAction } from '../../../src/bgp/fsm/index.js';
import { backoffMs } from '../../../src/bgp/fsm/index.js';
import { Harness } from './harness.js';

const armed = (actions: FsmAction[], timer: string): number[] =>
  actions.flatMap((a) => (a.type === 'arm-timer' && a.timer === timer ? [a.ms] : []));

describe('ConnectRetryTimer back-off', () => {
  it('doubles from the base up to the cap while connecting, reconnecting each time', () => {
    const h = new Harness({ connectRetry: { baseMs: 1000, maxMs: 30_000 } });
    const start = h.step({ type: 'ManualStart' });
    const later = h.advance(200_000);
    expect(armed([...start, ...later], 'connect-retry')).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
    // Each expiry drops the pending attempt and starts a new one, staying in Connect.
    expect(later.filter((a) => a.type === 'connect')).toHaveLength(10);
    expect(later.filter((a) => a.type === 'close')).toHaveLength(10);
    expect(h.fsm.state).toBe('Connect');
  });

  it('starts again from the base after a ManualStart', () => {
    const h = new Harness({ connectRetry: { baseMs: 1000, maxMs: 30_000 } });
    h.step({ type: 'ManualStart' });
    h.advance(10_000);
    h.step({ type: 'ManualStop' });
    expect(armed(h.step({ type: 'ManualStart' }), 'connect-retry')).toEqual([1000]);
  });

  it('applies the jitter factor (RFC 4271 section 10)', () => {
    const h = new Harness({ connectRetry: { baseMs: 1000, maxMs: 30_000 }, jitter: () => 0.75 });
    expect(armed(h.step({ type: 'ManualStart' }), 'connect-retry')).toEqual([750]);
  });

  it('backoffMs never overflows to Infinity', () => {
    expect(backoffMs({ baseMs: 1000, maxMs: 60_000 }, 5000)).toBe(60_000);
    expect(backoffMs({ baseMs: 1000, maxMs: 60_000 }, 0)).toBe(1000);
  });
});

describe('IdleHoldTimer damping', () => {
  /** A peer that refuses the connection (RST in Connect), over and over. */
  function flap(h: Harness, times: number): number[] {
    const holds: number[] = [];
    for (let i = 0; i < times; i++) {
      if (h.fsm.state === 'Idle') h.advance(h.fsm.timerDue('idle-hold')! - h.now);
      holds.push(...armed(h.step({ type: 'TcpConnectionFails' }), 'idle-hold'));
    }
    return holds;
  }

  it('grows the wait before each automatic restart, and restarts by connecting', () => {
    const h = new Harness({ idleHold: { baseMs: 1000, maxMs: 20_000, forgetMs: 60_000 } });
    h.step({ type: 'ManualStart' });
    const holds: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = h.step({ type: 'TcpConnectionFails' });
      expect(h.fsm.state).toBe('Idle');
      holds.push(...armed(a, 'idle-hold'));
      const restart = h.advance(h.fsm.timerDue('idle-hold')! - h.now);
      expect(restart.some((x) => x.type === 'connect')).toBe(true);
      expect(h.fsm.state).toBe('Connect');
    }
    expect(holds).toEqual([1000, 2000, 4000, 8000, 16_000, 20_000]);
  });

  it('forgets past failures after forgetMs without one', () => {
    const h = new Harness({ idleHold: { baseMs: 1000, maxMs: 20_000, forgetMs: 60_000 } });
    h.step({ type: 'ManualStart' });
    expect(flap(h, 3)).toEqual([1000, 2000, 4000]);
    // Stable for longer than forgetMs, then one more failure: back to the base wait.
    h.advance(h.fsm.timerDue('idle-hold')! - h.now);
    h.step({ type: 'Tcp_CR_Acked' });
    h.advance(61_000);
    h.step({ type: 'KeepAliveMsg' }); // unexpected in OpenSent -> FSM error, a failure
    expect(h.fsm.state).toBe('Idle');
    expect(h.fsm.timerDue('idle-hold')! - h.now).toBe(1000);
  });

  it('damped AutomaticStart waits for the IdleHoldTimer; plain AutomaticStart does not', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'TcpConnectionFails' });
    expect(h.step({ type: 'AutomaticStart_with_DampPeerOscillations' })).toEqual([]);
    expect(h.fsm.state).toBe('Idle');
    const a = h.step({ type: 'AutomaticStart' });
    expect(a[0]).toEqual({ type: 'cancel-timer', timer: 'idle-hold' });
    expect(h.fsm.state).toBe('Connect');
  });

  it('automaticRestart: false stays down after a failure', () => {
    const h = new Harness({ automaticRestart: false });
    h.establish();
    const a = h.step({ type: 'TcpConnectionFails' });
    expect(a.some((x) => x.type === 'arm-timer')).toBe(false);
    h.advance(3_600_000);
    expect(h.fsm.state).toBe('Idle');
  });

  it('a failed passive session restarts passively', () => {
    const h = new Harness({}, 'inbound');
    h.step({ type: 'ManualStart_with_PassiveTcpEstablishment' });
    h.step({ type: 'TcpConnectionConfirmed' });
    h.step({ type: 'KeepAliveMsg' });
    expect(h.fsm.state).toBe('Idle');
    const a = h.advance(5000);
    expect(a.some((x) => x.type === 'connect')).toBe(false);
    expect(h.fsm.state).toBe('Active');
  });
});
