import { describe, expect, it } from 'vitest';
import type { FsmAction, FsmEvent, OpenMessage } from '../../../src/bgp/fsm/index.js';
import { EOR, Harness, fourOctet, mp, peerOpen, types } from './harness.js';
import type { FsmConfig } from '../../../src/bgp/fsm/index.js';

/** Runs an OPEN through OpenSent and returns the NOTIFICATION sent (if any) and the actions. */
function openInOpenSent(open: OpenMessage, cfg: Partial<FsmConfig> = {}): { h: Harness; actions: FsmAction[] } {
  const h = new Harness(cfg);
  h.step({ type: 'ManualStart' });
  h.step({ type: 'Tcp_CR_Acked' });
  return { h, actions: h.step({ type: 'BGPOpen', message: open }) };
}

function hex(b: Uint8Array | undefined): string {
  return Buffer.from(b ?? new Uint8Array(0)).toString('hex');
}

describe('OPEN checks (RFC 4271 6.2)', () => {
  it('version 3 -> 2/1 with the supported version 4 as data', () => {
    const { h, actions } = openInOpenSent(peerOpen({ version: 3 }));
    expect(types(actions)).toEqual(['send', 'cancel-timer', 'close', 'state', 'down', 'arm-timer']);
    expect(h.lastNotification()).toMatchObject({ code: 2, subcode: 1 });
    expect(hex(h.lastNotification()?.data)).toBe('0004');
    expect(actions.find((a) => a.type === 'down')).toMatchObject({ reason: 'open-error', established: false, sent: true });
    expect(h.fsm.state).toBe('Idle');
    expect(h.fsm.connectRetryCounter).toBe(1);
  });

  it('peer AS mismatch -> 2/2', () => {
    const { h } = openInOpenSent(peerOpen({ myAs: 65000, capabilities: [fourOctet(65000)] }));
    expect(h.lastNotification()).toMatchObject({ code: 2, subcode: 2 });
  });

  it('4-octet AS: the capability AS counts, My AS is AS_TRANS', () => {
    const ok = openInOpenSent(peerOpen({ myAs: 23456, capabilities: [fourOctet(4_200_000_000)] }), { peerAs: 4_200_000_000 });
    expect(ok.h.fsm.state).toBe('OpenConfirm');
    expect(ok.h.fsm.negotiated).toMatchObject({ peerAs: 4_200_000_000, fourOctetAs: true });
    // Without the capability only AS_TRANS is visible: not the configured AS.
    const bad = openInOpenSent(peerOpen({ myAs: 23456, capabilities: [mp(1, 1)] }), { peerAs: 4_200_000_000 });
    expect(bad.h.lastNotification()).toMatchObject({ code: 2, subcode: 2 });
    // Capability AS wins over a disagreeing My AS field.
    const wrongCap = openInOpenSent(peerOpen({ myAs: 64513, capabilities: [fourOctet(64999)] }));
    expect(wrongCap.h.lastNotification()).toMatchObject({ code: 2, subcode: 2 });
  });

  it('AS 0 is refused (RFC 7607) even when any peer AS is accepted', () => {
    const { h } = openInOpenSent(peerOpen({ myAs: 0, capabilities: [] }), { peerAs: undefined });
    expect(h.lastNotification()).toMatchObject({ code: 2, subcode: 2 });
    const cap0 = openInOpenSent(peerOpen({ myAs: 23456, capabilities: [fourOctet(0)] }), { peerAs: undefined });
    expect(cap0.h.lastNotification()).toMatchObject({ code: 2, subcode: 2 });
  });

  it('hold time 1 and 2 -> 2/6 Unacceptable Hold Time', () => {
    for (const holdTime of [1, 2]) {
      // Refused even with no configured minimum: RFC 4271 forbids 1 and 2 outright.
      const { h } = openInOpenSent(peerOpen({ holdTime }), { minHoldTime: 0 });
      expect(h.lastNotification()).toMatchObject({ code: 2, subcode: 6 });
    }
    const min = openInOpenSent(peerOpen({ holdTime: 9 }), { minHoldTime: 10 });
    expect(min.h.lastNotification()).toMatchObject({ code: 2, subcode: 6 });
  });

  it('BGP identifier 0.0.0.0, or ours on iBGP -> 2/3; ours on eBGP is fine (RFC 6286)', () => {
    expect(openInOpenSent(peerOpen({ bgpId: '0.0.0.0' })).h.lastNotification()).toMatchObject({ code: 2, subcode: 3 });
    const ibgp = openInOpenSent(peerOpen({ myAs: 64512, bgpId: '10.0.0.1', capabilities: [fourOctet(64512)] }), {
      peerAs: 64512,
    });
    expect(ibgp.h.lastNotification()).toMatchObject({ code: 2, subcode: 3 });
    const ebgp = openInOpenSent(peerOpen({ bgpId: '10.0.0.1' }));
    expect(ebgp.h.fsm.state).toBe('OpenConfirm');
  });

  it('an optional parameter other than Capabilities -> 2/4', () => {
    const open = peerOpen();
    open.params.push({ kind: 'unknown', type: 1, raw: Uint8Array.of(0) });
    expect(openInOpenSent(open).h.lastNotification()).toMatchObject({ code: 2, subcode: 4 });
  });

  it('a required capability the peer lacks -> 2/7 listing it as capability TLVs', () => {
    const { h } = openInOpenSent(peerOpen(), {
      families: [{ afi: 1, safi: 1 }, { afi: 1, safi: 128 }],
      enhancedRouteRefresh: true,
      requiredCapabilities: [{ type: 'multiprotocol', afi: 1, safi: 128 }, { type: 'route-refresh' }, { type: 'enhanced-route-refresh' }],
    });
    const n = h.lastNotification();
    expect(n).toMatchObject({ code: 2, subcode: 7 });
    // MP 1/128 (code 1, len 4) and enhanced route refresh (70, len 0); route refresh is present.
    expect(hex(n?.data)).toBe('01040001008046' + '00');
  });

  it('checks in RFC order: the version error wins over the others', () => {
    const { h } = openInOpenSent(peerOpen({ version: 5, holdTime: 1, bgpId: '0.0.0.0' }));
    expect(h.lastNotification()).toMatchObject({ code: 2, subcode: 1 });
  });

  it('decoder errors carry their own notification (header 1/x, OPEN 2/x, UPDATE 3/x)', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    h.step({ type: 'BGPHeaderErr', error: { code: 1, subcode: 2, data: Uint8Array.of(0, 10) } });
    expect(h.lastNotification()).toMatchObject({ code: 1, subcode: 2 });
    expect(hex(h.lastNotification()?.data)).toBe('000a');

    const u = new Harness();
    u.establish();
    const a = u.step({ type: 'UpdateMsgErr', error: { code: 3, subcode: 1 } });
    expect(u.lastNotification()).toMatchObject({ code: 3, subcode: 1 });
    expect(a.find((x) => x.type === 'down')).toMatchObject({ reason: 'update-error', established: true });
  });
});

describe('FSM errors (RFC 6608 subcodes)', () => {
  const cases: [string, (h: Harness) => void, FsmEvent, number][] = [
    ['KEEPALIVE in OpenSent', toOpenSent, { type: 'KeepAliveMsg' }, 1],
    ['UPDATE in OpenSent', toOpenSent, { type: 'UpdateMsg', message: EOR }, 1],
    ['ROUTE-REFRESH in OpenSent', toOpenSent, { type: 'RouteRefreshMsg', message: { type: 'route-refresh', afi: 1, subtype: 0, safi: 1 } }, 1],
    ['UPDATE in OpenConfirm', toOpenConfirm, { type: 'UpdateMsg', message: EOR }, 2],
    ['OPEN in OpenConfirm', toOpenConfirm, { type: 'BGPOpen', message: peerOpen() }, 2],
    ['OPEN in Established', (h) => h.establish(), { type: 'BGPOpen', message: peerOpen() }, 3],
  ];
  for (const [name, setup, ev, subcode] of cases) {
    it(`${name} -> 5/${subcode}`, () => {
      const h = new Harness();
      setup(h);
      const a = h.step(ev);
      expect(h.lastNotification()).toMatchObject({ code: 5, subcode });
      expect(a.find((x) => x.type === 'down')).toMatchObject({ reason: 'fsm-error' });
      expect(h.fsm.state).toBe('Idle');
    });
  }

  it('a message before any OPEN was sent closes without a NOTIFICATION (Connect)', () => {
    const h = new Harness({ delayOpenMs: 1000 });
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    const a = h.step({ type: 'KeepAliveMsg' });
    expect(types(a)).toEqual(['cancel-timer', 'close', 'state', 'down', 'arm-timer']);
    expect(h.sent).toEqual([]);
  });
});

function toOpenSent(h: Harness): void {
  h.step({ type: 'ManualStart' });
  h.step({ type: 'Tcp_CR_Acked' });
}

function toOpenConfirm(h: Harness): void {
  toOpenSent(h);
  h.step({ type: 'BGPOpen', message: peerOpen() });
}

describe('received NOTIFICATION', () => {
  it('ends the session without answering, and surfaces an RFC 9003 shutdown text', () => {
    const h = new Harness();
    h.establish();
    const text = Buffer.from('maintenance, back at 14:00');
    const data = Buffer.concat([Uint8Array.of(text.length), text]);
    const msg = { type: 'notification' as const, code: 6, subcode: 2, data };
    const a = h.step({ type: 'NotifMsg', message: msg });
    expect(h.sentOfType('notification')).toEqual([]);
    expect(a.find((x) => x.type === 'down')).toEqual({
      type: 'down',
      reason: 'notification-received',
      established: true,
      notification: msg,
      sent: false,
      shutdownText: 'maintenance, back at 14:00',
    });
  });

  it('NOTIFICATION in OpenSent closes without a reply; a version error does not count as a retry', () => {
    const h = new Harness();
    toOpenSent(h);
    h.step({ type: 'NotifMsgVerErr', message: { type: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 3) } });
    expect(h.sent.map((m) => m.type)).toEqual(['open']);
    expect(h.fsm.connectRetryCounter).toBe(0);
    const g = new Harness();
    toOpenSent(g);
    g.step({ type: 'NotifMsg', message: { type: 'notification', code: 6, subcode: 5, data: new Uint8Array(0) } });
    expect(g.sent.map((m) => m.type)).toEqual(['open']);
    expect(g.fsm.connectRetryCounter).toBe(1);
  });
});

describe('ManualStop from each state', () => {
  const cease = (subcode: number, data = new Uint8Array(0)) => ({ type: 'notification' as const, code: 6, subcode, data });

  it('Idle: nothing to close; a pending automatic restart is dropped', () => {
    const h = new Harness();
    expect(h.step({ type: 'ManualStop' })).toEqual([]);
    h.establish();
    h.step({ type: 'TcpConnectionFails' });
    expect(h.timers.has('idle-hold')).toBe(true);
    expect(h.step({ type: 'ManualStop' })).toEqual([{ type: 'cancel-timer', timer: 'idle-hold' }]);
    h.advance(3_600_000);
    expect(h.fsm.state).toBe('Idle');
  });

  it('Connect: abandons the attempt, no NOTIFICATION', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    expect(h.step({ type: 'ManualStop' })).toEqual([
      { type: 'cancel-timer', timer: 'connect-retry' },
      { type: 'close' },
      { type: 'state', from: 'Connect', to: 'Idle' },
      { type: 'down', reason: 'manual-stop', established: false },
    ]);
  });

  it('Active: no connection, no NOTIFICATION', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart_with_PassiveTcpEstablishment' });
    expect(h.step({ type: 'ManualStop' })).toEqual([
      { type: 'cancel-timer', timer: 'connect-retry' },
      { type: 'state', from: 'Active', to: 'Idle' },
      { type: 'down', reason: 'manual-stop', established: false },
    ]);
  });

  it('OpenSent: Cease 2 Administrative Shutdown', () => {
    const h = new Harness();
    toOpenSent(h);
    expect(h.step({ type: 'ManualStop' })).toEqual([
      { type: 'send', message: cease(2) },
      { type: 'cancel-timer', timer: 'hold' },
      { type: 'close' },
      { type: 'state', from: 'OpenSent', to: 'Idle' },
      { type: 'down', reason: 'manual-stop', established: false, notification: cease(2), sent: true },
    ]);
  });

  it('OpenConfirm: Cease 4 Administrative Reset with shutdown text', () => {
    const h = new Harness();
    toOpenConfirm(h);
    const a = h.step({ type: 'ManualStop', cause: 'reset', text: 'upgrade' });
    const data = Uint8Array.of(7, ...Buffer.from('upgrade'));
    expect(a[0]).toEqual({ type: 'send', message: cease(4, data) });
    expect(types(a)).toEqual(['send', 'cancel-timer', 'cancel-timer', 'close', 'state', 'down']);
  });

  it('Established: Cease with routes to flush, counter reset, no automatic restart', () => {
    const h = new Harness();
    h.establish();
    const a = h.step({ type: 'ManualStop', cause: 'deconfigured' });
    expect(a[0]).toEqual({ type: 'send', message: cease(3) });
    expect(a.find((x) => x.type === 'down')).toMatchObject({ reason: 'manual-stop', established: true });
    expect(a.some((x) => x.type === 'arm-timer')).toBe(false);
    expect(h.fsm.connectRetryCounter).toBe(0);
    expect(h.timers.size).toBe(0);
  });

  it('AutomaticStop (e.g. max prefixes) sends Cease with the given subcode and data', () => {
    const h = new Harness();
    h.establish();
    const data = Uint8Array.of(0, 1, 1, 0, 0, 0x03, 0xe8);
    h.step({ type: 'AutomaticStop', subcode: 1, data });
    expect(h.lastNotification()).toEqual(cease(1, data));
    expect(h.fsm.connectRetryCounter).toBe(1);
  });
});
