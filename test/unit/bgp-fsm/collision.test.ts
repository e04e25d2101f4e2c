import { describe, expect, it } from 'vitest';
import { collisionWinner, resolveCollision } from '../../../src/bgp/fsm/index.js';
import { Harness, peerOpen } from './harness.js';

/** Both connections of one peer up to OpenConfirm (they each got the peer's OPEN). */
function pair(localId: string, remoteId: string): { inbound: Harness; outbound: Harness } {
  const inbound = new Harness({ localId }, 'inbound');
  const outbound = new Harness({ localId }, 'outbound');
  inbound.step({ type: 'ManualStart_with_PassiveTcpEstablishment' });
  inbound.step({ type: 'TcpConnectionConfirmed' });
  outbound.step({ type: 'ManualStart' });
  outbound.step({ type: 'Tcp_CR_Acked' });
  inbound.step({ type: 'BGPOpen', message: peerOpen({ bgpId: remoteId }) });
  return { inbound, outbound };
}

describe('connection collision (RFC 4271 6.8)', () => {
  it('lower local identifier: keep the connection the peer opened, dump ours with Cease 6/7', () => {
    const { inbound, outbound } = pair('10.0.0.1', '10.0.0.2');
    expect(inbound.fsm.state).toBe('OpenConfirm');
    expect(outbound.fsm.state).toBe('OpenSent');
    const v = resolveCollision(inbound.fsm, outbound.fsm);
    expect(v?.keep).toBe(inbound.fsm);
    expect(v?.dump).toBe(outbound.fsm);
    const a = outbound.step({ type: 'OpenCollisionDump' });
    expect(outbound.lastNotification()).toEqual({ type: 'notification', code: 6, subcode: 7, data: new Uint8Array(0) });
    expect(a.find((x) => x.type === 'down')).toMatchObject({ reason: 'collision', sent: true });
    expect(outbound.fsm.state).toBe('Idle');
    expect(inbound.fsm.state).toBe('OpenConfirm');
  });

  it('higher local identifier: keep our outbound connection, dump the inbound', () => {
    // Identifiers compare as 32-bit numbers, not strings: 10.0.0.10 > 10.0.0.9.
    const { inbound, outbound } = pair('10.0.0.10', '10.0.0.9');
    const v = resolveCollision(inbound.fsm, outbound.fsm);
    expect(v?.keep).toBe(outbound.fsm);
    expect(v?.dump).toBe(inbound.fsm);
    inbound.step({ type: 'OpenCollisionDump' });
    expect(inbound.lastNotification()).toMatchObject({ code: 6, subcode: 7 });
  });

  it('an Established session is kept whatever the identifiers say', () => {
    const est = new Harness({ localId: '10.0.0.9' }, 'outbound');
    est.establish(peerOpen({ bgpId: '10.0.0.1' }));
    const late = new Harness({ localId: '10.0.0.9' }, 'inbound');
    late.step({ type: 'ManualStart_with_PassiveTcpEstablishment' });
    late.step({ type: 'TcpConnectionConfirmed' });
    const v = resolveCollision(late.fsm, est.fsm);
    expect(v?.keep).toBe(est.fsm);
    expect(collisionWinner({
      inboundState: 'Established', outboundState: 'OpenConfirm', localId: '10.0.0.9', remoteId: '10.0.0.1', localAs: 1, remoteAs: 2,
    })).toBe('inbound');
  });

  it('nothing to resolve while one side has no BGP session, or the peer id is unknown', () => {
    expect(collisionWinner({
      inboundState: 'OpenConfirm', outboundState: 'Connect', localId: '1.1.1.1', remoteId: '2.2.2.2', localAs: 1, remoteAs: 2,
    })).toBeUndefined();
    const a = new Harness({}, 'inbound');
    const b = new Harness({}, 'outbound');
    for (const h of [a, b]) {
      h.step({ type: 'ManualStart' });
      h.step({ type: 'Tcp_CR_Acked' });
    }
    expect(resolveCollision(a.fsm, b.fsm)).toBeUndefined();
    // With the identifier from an OPEN the adapter just decoded, OpenSent pairs can be settled.
    expect(resolveCollision(a.fsm, b.fsm, { remoteId: '10.0.0.2', remoteAs: 64513 })?.keep).toBe(a.fsm);
  });

  it('equal identifiers (eBGP, RFC 6286): the speaker with the larger AS keeps its connection', () => {
    const base = { inboundState: 'OpenConfirm', outboundState: 'OpenConfirm', localId: '1.1.1.1', remoteId: '1.1.1.1' } as const;
    expect(collisionWinner({ ...base, localAs: 65001, remoteAs: 65000 })).toBe('outbound');
    expect(collisionWinner({ ...base, localAs: 65000, remoteAs: 65001 })).toBe('inbound');
    const { inbound, outbound } = pair('10.0.0.2', '10.0.0.2');
    // Our AS 64512 < peer 64513: the peer's (inbound) connection stays.
    expect(resolveCollision(inbound.fsm, outbound.fsm)?.keep).toBe(inbound.fsm);
  });
});
