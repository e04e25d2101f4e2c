/**
 * A fake adapter for the FSM: it owns a fake clock and runs the timers the FSM arms, the way
 * the real adapter will with setTimeout, and records what was sent and done.
 */
import { BgpFsm, timerEvent } from '../../../src/bgp/fsm/index.js';
import type {
  BgpMessage,
  Direction,
  FsmAction,
  FsmConfig,
  FsmEvent,
  NotificationMessage,
  OpenMessage,
  TimerName,
  UpdateMessage,
} from '../../../src/bgp/fsm/index.js';
import type { Capability } from '../../../codecs/bgp/capabilities.js';

/** The IPv4 unicast End-of-RIB marker: the simplest real UPDATE (RFC 4724 section 2). */
export const EOR: UpdateMessage = { type: 'update', withdrawn: [], attributes: [], nlri: [] };

export const BASE: FsmConfig = { localAs: 64512, localId: '10.0.0.1', peerAs: 64513 };

export class Harness {
  now = 0;
  readonly fsm: BgpFsm;
  /** Absolute expiry of each timer the adapter is running. */
  readonly timers = new Map<TimerName, number>();
  readonly sent: BgpMessage[] = [];
  readonly log: { at: number; action: FsmAction }[] = [];

  constructor(config: Partial<FsmConfig> = {}, direction: Direction = 'outbound') {
    this.fsm = new BgpFsm({ ...BASE, ...config }, direction);
  }

  step(event: FsmEvent): FsmAction[] {
    const actions = this.fsm.step(event, this.now);
    for (const a of actions) {
      this.log.push({ at: this.now, action: a });
      if (a.type === 'arm-timer') this.timers.set(a.timer, this.now + a.ms);
      else if (a.type === 'cancel-timer') this.timers.delete(a.timer);
      else if (a.type === 'send') this.sent.push(a.message);
    }
    return actions;
  }

  /** Moves the clock forward, firing due timers in deadline order. */
  advance(ms: number): FsmAction[] {
    const until = this.now + ms;
    const all: FsmAction[] = [];
    for (;;) {
      let next: [TimerName, number] | undefined;
      for (const [t, at] of this.timers) if (at <= until && (next === undefined || at < next[1])) next = [t, at];
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.now = next[1];
      all.push(...this.step(timerEvent(next[0])));
    }
    this.now = until;
    return all;
  }

  sentOfType<T extends BgpMessage['type']>(type: T): Extract<BgpMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<BgpMessage, { type: T }> => m.type === type);
  }

  lastNotification(): NotificationMessage | undefined {
    return this.sentOfType('notification').at(-1);
  }

  /** Drives an outbound session to Established with the given peer OPEN. */
  establish(open: OpenMessage = peerOpen()): void {
    this.step({ type: 'ManualStart' });
    this.step({ type: 'Tcp_CR_Acked' });
    this.step({ type: 'BGPOpen', message: open });
    this.step({ type: 'KeepAliveMsg' });
  }
}

export function mp(afi: number, safi: number): Capability {
  return { kind: 'multiprotocol', code: 1, afi, reserved: 0, safi };
}

export function fourOctet(asn: number): Capability {
  return { kind: 'four-octet-as', code: 65, asn };
}

export function peerOpen(o: Partial<Omit<OpenMessage, 'params'>> & { capabilities?: Capability[] } = {}): OpenMessage {
  const { capabilities = [mp(1, 1), { kind: 'route-refresh', code: 2 }, fourOctet(o.myAs ?? 64513)], ...rest } = o;
  return {
    type: 'open',
    version: 4,
    myAs: 64513,
    holdTime: 90,
    bgpId: '10.0.0.2',
    params: [{ kind: 'capabilities', type: 2, capabilities }],
    ...rest,
  };
}

export function types(actions: FsmAction[]): string[] {
  return actions.map((a) => a.type);
}
