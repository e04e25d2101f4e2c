/**
 * The max-prefix hold-down (RFC 4486 section 4 Cease 6/1, then the configured restart
 * interval): an AutomaticStop with holdDownMs leaves the FSM Idle, deaf to AutomaticStart,
 * for exactly that long, or until a ManualStart when it is Infinity. Fake clock throughout.
 */
import { describe, expect, it } from 'vitest';
import type { FsmAction, FsmEvent } from '../../../src/bgp/fsm/index.js';
import { Harness, types } from './harness.js';

/** AFI 1, SAFI 1, bound 3: the RFC 4486 data of a Cease 6/1. */
const DATA = Uint8Array.of(0, 1, 1, 0, 0, 0, 3);
const DAMPING = { idleHold: { baseMs: 1000, maxMs: 20_000, forgetMs: 60_000 }, connectRetry: { baseMs: 1000, maxMs: 30_000 } };

const maxPrefix = (holdDownMs: number): FsmEvent => ({ type: 'AutomaticStop', subcode: 1, data: DATA, holdDownMs });
const connects = (actions: FsmAction[]): number => actions.filter((a) => a.type === 'connect').length;
const armed = (actions: FsmAction[], timer: string): number[] =>
  actions.flatMap((a) => (a.type === 'arm-timer' && a.timer === timer ? [a.ms] : []));

describe('max-prefix hold-down with a restart interval', () => {
  it('sends Cease 6/1 with AFI, SAFI and bound, then stays Idle for exactly the interval and reconnects', () => {
    // Jitter and damping apply to failures, not to the operator's interval.
    const h = new Harness({ ...DAMPING, jitter: () => 0.75 });
    h.establish();
    const stop = h.step(maxPrefix(2000));
    expect(h.lastNotification()).toEqual({ type: 'notification', code: 6, subcode: 1, data: DATA });
    expect(types(stop)).toEqual(['send', 'cancel-timer', 'cancel-timer', 'close', 'state', 'down', 'arm-timer']);
    expect(stop.find((a) => a.type === 'down')).toMatchObject({ reason: 'automatic-stop', established: true, sent: true });
    expect(armed(stop, 'idle-hold')).toEqual([2000]);
    expect(h.fsm.state).toBe('Idle');
    expect(h.fsm.isHeldDown).toBe(true);
    expect(h.fsm.timerDue('idle-hold')).toBe(h.now + 2000);

    expect(connects(h.advance(1999))).toBe(0);
    expect(h.fsm.state).toBe('Idle');
    const restart = h.advance(1);
    expect(connects(restart)).toBe(1);
    expect(h.fsm.state).toBe('Connect');
    expect(h.fsm.isHeldDown).toBe(false);
  });

  it('ignores every kind of AutomaticStart while held down, and the restart still comes on time', () => {
    const h = new Harness(DAMPING);
    h.establish();
    h.step(maxPrefix(5000));
    const during: FsmAction[] = [];
    for (const type of [
      'AutomaticStart',
      'AutomaticStart_with_PassiveTcpEstablishment',
      'AutomaticStart_with_DampPeerOscillations',
      'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment',
      'AutomaticStart',
    ] as const) {
      h.advance(500);
      during.push(...h.step({ type }));
    }
    expect(during).toEqual([]);
    expect(h.fsm.state).toBe('Idle');
    expect(h.fsm.timerDue('idle-hold')).toBe(5000 + (h.now - 2500));
    // The last AutomaticStart asked for an active start: that is what the end of the hold-down does.
    expect(connects(h.advance(2500))).toBe(1);
    expect(h.fsm.state).toBe('Connect');
  });

  it('is no failure for the damping: a later failure waits the base idle hold', () => {
    const h = new Harness(DAMPING);
    h.establish();
    h.step(maxPrefix(2000));
    h.advance(2000);
    const fail = h.step({ type: 'TcpConnectionFails' });
    expect(armed(fail, 'idle-hold')).toEqual([1000]);
  });

  it('a ManualStart during the interval clears it at once', () => {
    const h = new Harness(DAMPING);
    h.establish();
    h.step(maxPrefix(60_000));
    h.advance(1000);
    const clear = h.step({ type: 'ManualStart' });
    expect(connects(clear)).toBe(1);
    expect(clear).toContainEqual({ type: 'cancel-timer', timer: 'idle-hold' });
    expect(h.fsm.isHeldDown).toBe(false);
    expect(h.fsm.timerDue('idle-hold')).toBeUndefined();
  });

  it('a ManualStop during the interval drops the pending restart', () => {
    const h = new Harness(DAMPING);
    h.establish();
    h.step(maxPrefix(2000));
    h.step({ type: 'ManualStop' });
    expect(h.fsm.isHeldDown).toBe(false);
    expect(connects(h.advance(600_000))).toBe(0);
    expect(h.fsm.state).toBe('Idle');
  });
});

describe('max-prefix hold-down without a restart interval', () => {
  it('stays Idle for good, whatever automatic starts come, until a ManualStart', () => {
    const h = new Harness(DAMPING);
    h.establish();
    const stop = h.step(maxPrefix(Number.POSITIVE_INFINITY));
    expect(h.lastNotification()).toMatchObject({ code: 6, subcode: 1, data: DATA });
    expect(armed(stop, 'idle-hold')).toEqual([]);
    expect(h.fsm.timerDue('idle-hold')).toBeUndefined();
    const later: FsmAction[] = [...h.advance(86_400_000)];
    later.push(...h.step({ type: 'AutomaticStart' }), ...h.step({ type: 'AutomaticStart_with_DampPeerOscillations' }));
    later.push(...h.advance(86_400_000));
    expect(later).toEqual([]);
    expect(h.fsm.state).toBe('Idle');
    expect(h.fsm.isHeldDown).toBe(true);

    expect(connects(h.step({ type: 'ManualStart' }))).toBe(1);
    expect(h.fsm.state).toBe('Connect');
    expect(h.fsm.isHeldDown).toBe(false);
  });
});

describe('the hold-down on a connection that is not the session', () => {
  it('in Idle (parked, or waiting for its damped restart): no message, no down, the restart waits for the interval', () => {
    const h = new Harness(DAMPING);
    h.step({ type: 'ManualStart' });
    h.step({ type: 'TcpConnectionFails' });
    expect(h.fsm.timerDue('idle-hold')).toBe(1000);
    const hold = h.step(maxPrefix(2000));
    expect(hold).toEqual([
      { type: 'cancel-timer', timer: 'idle-hold' },
      { type: 'arm-timer', timer: 'idle-hold', ms: 2000 },
    ]);
    expect(h.sent).toEqual([]);
    expect(connects(h.advance(1999))).toBe(0);
    expect(connects(h.advance(1))).toBe(1);
  });

  it('a parked connection (ManualStop) held down does not dial on AutomaticStart, and restarts after the interval', () => {
    const h = new Harness(DAMPING);
    h.step({ type: 'ManualStart' });
    h.step({ type: 'TcpConnectionFails' });
    h.step({ type: 'ManualStop' });
    h.step(maxPrefix(3000));
    expect(h.step({ type: 'AutomaticStart' })).toEqual([]);
    expect(connects(h.advance(2999))).toBe(0);
    expect(connects(h.advance(1))).toBe(1);
  });

  it('while dialling (Connect): the attempt is dropped without a NOTIFICATION, then the interval', () => {
    const h = new Harness(DAMPING);
    h.step({ type: 'ManualStart' });
    const hold = h.step(maxPrefix(2000));
    expect(types(hold)).toEqual(['cancel-timer', 'close', 'state', 'down', 'arm-timer']);
    expect(h.sent).toEqual([]);
    expect(h.fsm.state).toBe('Idle');
    expect(connects(h.advance(1999))).toBe(0);
    expect(connects(h.advance(1))).toBe(1);
  });

  it('in OpenSent: Cease 6/1 with the data, then the interval', () => {
    const h = new Harness(DAMPING);
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    expect(h.fsm.state).toBe('OpenSent');
    const hold = h.step(maxPrefix(2000));
    expect(h.lastNotification()).toMatchObject({ code: 6, subcode: 1, data: DATA });
    expect(armed(hold, 'idle-hold')).toEqual([2000]);
    expect(connects(h.advance(2000))).toBe(1);
  });
});

describe('an AutomaticStop without a hold-down keeps the damped automatic restart', () => {
  it('restarts after the damped idle hold', () => {
    const h = new Harness(DAMPING);
    h.establish();
    const stop = h.step({ type: 'AutomaticStop', subcode: 8 });
    expect(h.fsm.isHeldDown).toBe(false);
    expect(armed(stop, 'idle-hold')).toEqual([1000]);
    expect(connects(h.advance(1000))).toBe(1);
  });
});
