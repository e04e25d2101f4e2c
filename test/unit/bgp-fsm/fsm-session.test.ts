import { describe, expect, it } from 'vitest';
import { EOR, Harness, peerOpen, types } from './harness.js';

describe('BgpFsm happy path', () => {
  it('active open: Idle -> Connect -> OpenSent -> OpenConfirm -> Established with exact actions', () => {
    const h = new Harness();
    expect(h.step({ type: 'ManualStart' })).toEqual([
      { type: 'arm-timer', timer: 'connect-retry', ms: 5000 },
      { type: 'connect' },
      { type: 'state', from: 'Idle', to: 'Connect' },
    ]);
    h.now = 40;
    expect(h.step({ type: 'Tcp_CR_Acked' })).toEqual([
      { type: 'cancel-timer', timer: 'connect-retry' },
      { type: 'send', message: h.fsm.localOpen },
      { type: 'arm-timer', timer: 'hold', ms: 240_000 },
      { type: 'state', from: 'Connect', to: 'OpenSent' },
    ]);
    expect(h.fsm.localOpen).toEqual({
      type: 'open',
      version: 4,
      myAs: 64512,
      holdTime: 90,
      bgpId: '10.0.0.1',
      params: [
        {
          kind: 'capabilities',
          type: 2,
          capabilities: [
            { kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 1 },
            { kind: 'route-refresh', code: 2 },
            { kind: 'four-octet-as', code: 65, asn: 64512 },
          ],
        },
      ],
    });
    h.now = 80;
    expect(h.step({ type: 'BGPOpen', message: peerOpen({ holdTime: 30 }) })).toEqual([
      { type: 'send', message: { type: 'keepalive' } },
      { type: 'arm-timer', timer: 'keepalive', ms: 10_000 },
      { type: 'arm-timer', timer: 'hold', ms: 30_000 },
      { type: 'state', from: 'OpenSent', to: 'OpenConfirm' },
    ]);
    h.now = 100;
    const est = h.step({ type: 'KeepAliveMsg' });
    expect(types(est)).toEqual(['arm-timer', 'state', 'established']);
    expect(est[0]).toEqual({ type: 'arm-timer', timer: 'hold', ms: 30_000 });
    const neg = est[2]?.type === 'established' ? est[2].negotiated : undefined;
    expect(neg).toMatchObject({
      holdTime: 30,
      keepaliveTime: 10,
      peerAs: 64513,
      peerId: '10.0.0.2',
      fourOctetAs: true,
      families: [{ afi: 1, safi: 1 }],
      routeRefresh: true,
      enhancedRouteRefresh: false,
      extendedMessage: false,
      addPath: [],
    });
    expect(h.fsm.state).toBe('Established');
    expect(h.fsm.negotiated).toBe(neg);
  });

  it('passive open: Idle -> Active, waits, then the inbound connection runs the same handshake', () => {
    const h = new Harness({}, 'inbound');
    expect(h.step({ type: 'ManualStart_with_PassiveTcpEstablishment' })).toEqual([
      { type: 'arm-timer', timer: 'connect-retry', ms: 5000 },
      { type: 'state', from: 'Idle', to: 'Active' },
    ]);
    expect(types(h.step({ type: 'TcpConnectionConfirmed' }))).toEqual(['cancel-timer', 'send', 'arm-timer', 'state']);
    expect(h.fsm.state).toBe('OpenSent');
    h.step({ type: 'BGPOpen', message: peerOpen() });
    expect(h.fsm.state).toBe('OpenConfirm');
    const est = h.step({ type: 'KeepAliveMsg' });
    expect(est.map((a) => a.type)).toContain('established');
    expect(h.sent.map((m) => m.type)).toEqual(['open', 'keepalive']);
  });

  it('passive start falls back to connecting out when the ConnectRetryTimer expires (RFC 4271 Active)', () => {
    const h = new Harness();
    h.step({ type: 'AutomaticStart_with_PassiveTcpEstablishment' });
    const a = h.advance(5000);
    expect(a).toEqual([
      { type: 'arm-timer', timer: 'connect-retry', ms: 10_000 },
      { type: 'connect' },
      { type: 'state', from: 'Active', to: 'Connect' },
    ]);
  });

  it('delivers UPDATEs and passes outgoing UPDATEs only when Established', () => {
    const h = new Harness();
    const upd = EOR;
    h.step({ type: 'ManualStart' });
    expect(h.step({ type: 'SendUpdate', message: upd })).toEqual([]);
    h.step({ type: 'Tcp_CR_Acked' });
    h.step({ type: 'BGPOpen', message: peerOpen() });
    h.step({ type: 'KeepAliveMsg' });
    expect(h.step({ type: 'UpdateMsg', message: upd })).toEqual([{ type: 'deliver-update', update: upd }]);
    expect(h.step({ type: 'SendUpdate', message: upd })).toEqual([{ type: 'send', message: upd }]);
  });

  it('DelayOpen: holds OPEN back, answers an early peer OPEN with OPEN + KEEPALIVE', () => {
    const h = new Harness({ delayOpenMs: 2000 });
    h.step({ type: 'ManualStart' });
    expect(h.step({ type: 'Tcp_CR_Acked' })).toEqual([
      { type: 'cancel-timer', timer: 'connect-retry' },
      { type: 'arm-timer', timer: 'delay-open', ms: 2000 },
    ]);
    expect(h.fsm.state).toBe('Connect');
    const a = h.step({ type: 'BGPOpen', message: peerOpen() });
    expect(types(a)).toEqual(['cancel-timer', 'send', 'send', 'arm-timer', 'arm-timer', 'state']);
    expect(h.sent.map((m) => m.type)).toEqual(['open', 'keepalive']);
    expect(h.fsm.state).toBe('OpenConfirm');
  });

  it('DelayOpen: sends OPEN when the DelayOpenTimer expires', () => {
    const h = new Harness({ delayOpenMs: 2000 });
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    h.advance(1999);
    expect(h.fsm.state).toBe('Connect');
    const a = h.advance(1);
    expect(a).toEqual([
      { type: 'send', message: h.fsm.localOpen },
      { type: 'arm-timer', timer: 'hold', ms: 240_000 },
      { type: 'state', from: 'Connect', to: 'OpenSent' },
    ]);
  });
});

describe('BgpFsm timers', () => {
  it('paces KEEPALIVEs at hold/3 and an outgoing UPDATE postpones the next one', () => {
    const h = new Harness();
    h.establish(); // hold 90 -> keepalive 30 s
    const kaAt = () => h.log.filter((l) => l.action.type === 'send' && l.action.message.type === 'keepalive').map((l) => l.at);
    // Keep the peer alive so the hold timer never fires.
    for (let i = 0; i < 4; i++) {
      h.advance(25_000);
      h.step({ type: 'KeepAliveMsg' });
    }
    expect(kaAt()).toEqual([0, 30_000, 60_000, 90_000]);
    // t=100 s: last KEEPALIVE at 90 s; an UPDATE at 110 s pushes the next one to 140 s.
    h.advance(10_000);
    h.step({ type: 'SendUpdate', message: EOR });
    h.advance(25_000);
    h.step({ type: 'KeepAliveMsg' });
    h.advance(10_000);
    expect(kaAt()).toEqual([0, 30_000, 60_000, 90_000, 140_000]);
    expect(h.fsm.state).toBe('Established');
  });

  it('hold timer expiry sends 4/0, closes and reports the session down', () => {
    const h = new Harness();
    h.establish();
    h.advance(89_999);
    expect(h.fsm.state).toBe('Established');
    const a = h.advance(1);
    expect(a).toEqual([
      { type: 'send', message: { type: 'notification', code: 4, subcode: 0, data: new Uint8Array(0) } },
      { type: 'cancel-timer', timer: 'keepalive' },
      { type: 'close' },
      { type: 'state', from: 'Established', to: 'Idle' },
      {
        type: 'down',
        reason: 'hold-timer-expired',
        established: true,
        notification: { type: 'notification', code: 4, subcode: 0, data: new Uint8Array(0) },
        sent: true,
      },
      { type: 'arm-timer', timer: 'idle-hold', ms: 5000 },
    ]);
    expect(h.fsm.connectRetryCounter).toBe(1);
  });

  it('traffic moves the hold deadline lazily: the timer re-arms for the remainder', () => {
    const h = new Harness();
    h.establish();
    h.advance(60_000);
    h.step({ type: 'UpdateMsg', message: EOR });
    // Due at 90 s, but the peer spoke at 60 s: re-arm for 60 s more, no state change.
    const a = h.advance(30_000).filter((x) => x.type === 'arm-timer' && x.timer === 'hold');
    expect(a).toEqual([{ type: 'arm-timer', timer: 'hold', ms: 60_000 }]);
    expect(h.fsm.state).toBe('Established');
    h.advance(59_999);
    expect(h.fsm.state).toBe('Established');
    h.advance(1);
    expect(h.fsm.state).toBe('Idle');
    expect(h.lastNotification()).toMatchObject({ code: 4, subcode: 0 });
  });

  it('the large initial hold timer (240 s) runs out in OpenSent', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    h.advance(239_999);
    expect(h.fsm.state).toBe('OpenSent');
    h.advance(1);
    expect(h.fsm.state).toBe('Idle');
    expect(h.lastNotification()).toMatchObject({ code: 4, subcode: 0 });
  });

  it('hold time 0 (peer offers 0): no KEEPALIVE timer, no hold timer, session stays up silently', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    const a = h.step({ type: 'BGPOpen', message: peerOpen({ holdTime: 0 }) });
    expect(a).toEqual([
      { type: 'send', message: { type: 'keepalive' } },
      { type: 'cancel-timer', timer: 'hold' },
      { type: 'state', from: 'OpenSent', to: 'OpenConfirm' },
    ]);
    const est = h.step({ type: 'KeepAliveMsg' });
    expect(types(est)).toEqual(['state', 'established']);
    expect(h.fsm.negotiated).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    expect(h.timers.size).toBe(0);
    h.advance(3_600_000);
    expect(h.fsm.state).toBe('Established');
    expect(h.sentOfType('keepalive')).toHaveLength(1);
  });

  it('negotiates the smaller hold time, either way round', () => {
    const a = new Harness({ holdTime: 90 });
    a.establish(peerOpen({ holdTime: 30 }));
    expect(a.fsm.negotiated).toMatchObject({ holdTime: 30, keepaliveTime: 10 });
    const b = new Harness({ holdTime: 30 });
    b.establish(peerOpen({ holdTime: 180 }));
    expect(b.fsm.negotiated).toMatchObject({ holdTime: 30, keepaliveTime: 10 });
    // Our hold time 0 wins too.
    const c = new Harness({ holdTime: 0 });
    c.establish(peerOpen({ holdTime: 180 }));
    expect(c.fsm.negotiated).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    // A configured keepalive below hold/3 is kept; hold 3 gives a 1 s keepalive.
    const d = new Harness({ keepaliveTime: 5 });
    d.establish(peerOpen({ holdTime: 90 }));
    expect(d.fsm.negotiated).toMatchObject({ holdTime: 90, keepaliveTime: 5 });
    const e = new Harness();
    e.establish(peerOpen({ holdTime: 3 }));
    expect(e.fsm.negotiated).toMatchObject({ holdTime: 3, keepaliveTime: 1 });
  });

  it('ignores a stale expiry of a timer it cancelled', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    expect(h.step({ type: 'ConnectRetryTimer_Expires' })).toEqual([]);
    expect(h.step({ type: 'KeepaliveTimer_Expires' })).toEqual([]);
    expect(h.fsm.state).toBe('OpenSent');
  });

  it('OpenSent: TCP failure waits in Active with the ConnectRetryTimer running', () => {
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    expect(h.step({ type: 'TcpConnectionFails' })).toEqual([
      { type: 'cancel-timer', timer: 'hold' },
      { type: 'close' },
      { type: 'arm-timer', timer: 'connect-retry', ms: 10_000 },
      { type: 'state', from: 'OpenSent', to: 'Active' },
    ]);
  });
});
