import { describe, expect, it } from 'vitest';
import { decodeBgpMessage, decodeOpen, encodeBgpMessage } from '../../../codecs/bgp/index.js';
import { DecodeError } from '../../../codecs/util/errors.js';
import { Reader } from '../../../codecs/util/reader.js';
import {
  decodeShutdownCommunication,
  encodeShutdownCommunication,
  eventForDecodeError,
  eventForMessage,
  notification,
} from '../../../src/bgp/fsm/index.js';
import { EOR, Harness } from './harness.js';

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('codec output to FSM events', () => {
  it('maps messages to RFC 4271 8.1.5 events, a 2/1 NOTIFICATION to NotifMsgVerErr', () => {
    expect(eventForMessage({ type: 'keepalive' })).toEqual({ type: 'KeepAliveMsg' });
    const ver = notification(2, 1, Uint8Array.of(0, 4));
    expect(eventForMessage(ver)).toEqual({ type: 'NotifMsgVerErr', message: ver });
    const cease = notification(6, 2);
    expect(eventForMessage(cease)).toEqual({ type: 'NotifMsg', message: cease });
    const rr = { type: 'route-refresh' as const, afi: 1, subtype: 0, safi: 128 };
    expect(eventForMessage(rr)).toEqual({ type: 'RouteRefreshMsg', message: rr });
  });

  it('a codec OPEN error (version 3) becomes BGPOpenMsgErr and the FSM sends the codec hint', () => {
    // OPEN body: version 3, AS 1, hold 90, id 1.1.1.1, no parameters.
    const body = Uint8Array.of(3, 0, 1, 0, 90, 1, 1, 1, 1, 0);
    const ev = eventForDecodeError(decodeError(() => decodeOpen(new Reader(body))));
    expect(ev.type).toBe('BGPOpenMsgErr');
    const h = new Harness();
    h.step({ type: 'ManualStart' });
    h.step({ type: 'Tcp_CR_Acked' });
    h.step(ev);
    expect(h.lastNotification()).toEqual({ type: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) });
  });

  it('classifies hints by code; no hint is an unspecific header error', () => {
    expect(eventForDecodeError(new DecodeError('x', 0, 'r', { code: 3, subcode: 9 }))).toEqual({
      type: 'UpdateMsgErr',
      error: { code: 3, subcode: 9 },
    });
    expect(eventForDecodeError(new DecodeError('x', 0, 'r', { code: 7, subcode: 1 })).type).toBe('BGPHeaderErr');
    expect(eventForDecodeError(new DecodeError('x', 0, 'r'))).toEqual({ type: 'BGPHeaderErr', error: { code: 1, subcode: 0 } });
  });
});

describe('messages through the real codec', () => {
  // The expected bytes were checked with text2pcap + tshark -O bgp (OPEN, AS 64512, 3 capabilities).
  it('our OPEN encodes to the expected bytes and decodes back to the same value', () => {
    const h = new Harness();
    const bytes = encodeBgpMessage(h.fsm.localOpen, { fourOctetAs: false });
    expect(Buffer.from(bytes).toString('hex')).toBe(
      'ff'.repeat(16) +
        '002d01' + // length 45, OPEN
        '04fc00005a0a000001' + // version 4, AS 64512, hold 90, id 10.0.0.1
        '10020e' + // 16 bytes of parameters: one Capabilities parameter of 14
        '010400010001' + // MP IPv4 unicast
        '0200' + // route refresh
        '41040000fc00', // 4-octet AS 64512
    );
    expect(decodeBgpMessage(bytes, 0, { fourOctetAs: false })).toEqual(h.fsm.localOpen);
  });

  it('an AS_TRANS OPEN for a 4-octet local AS', () => {
    const h = new Harness({ localAs: 4_200_000_000 });
    expect(h.fsm.localOpen.myAs).toBe(23456);
    const bytes = encodeBgpMessage(h.fsm.localOpen, { fourOctetAs: true });
    expect(decodeBgpMessage(bytes, 0, { fourOctetAs: true })).toEqual(h.fsm.localOpen);
  });

  it('an UPDATE whose RFC 7606 verdict is a session reset becomes UpdateMsgErr', () => {
    const bad = { ...EOR, verdict: { action: 'session-reset' as const, notification: { code: 3, subcode: 1 }, errors: [] } };
    expect(eventForMessage(bad)).toEqual({ type: 'UpdateMsgErr', error: { code: 3, subcode: 1 } });
    const discard = { ...EOR, verdict: { action: 'treat-as-withdraw' as const, errors: [] } };
    expect(eventForMessage(discard)).toEqual({ type: 'UpdateMsg', message: discard });
    expect(eventForMessage(EOR)).toEqual({ type: 'UpdateMsg', message: EOR });
  });
});

describe('RFC 9003 shutdown communication', () => {
  it('length-prefixes UTF-8 and reads it back', () => {
    const data = encodeShutdownCommunication('Ünterhaltung');
    expect(data[0]).toBe(13);
    expect(decodeShutdownCommunication(notification(6, 2, data))).toBe('Ünterhaltung');
    expect(decodeShutdownCommunication(notification(6, 4, data))).toBe('Ünterhaltung');
    expect(decodeShutdownCommunication(notification(6, 3, data))).toBeUndefined();
  });

  it('cuts text over 255 octets at a character boundary', () => {
    const data = encodeShutdownCommunication('é'.repeat(200)); // 400 octets
    expect(data[0]).toBe(254);
    expect(data.length).toBe(255);
    expect(decodeShutdownCommunication(notification(6, 2, data))).toBe('é'.repeat(127));
  });

  it('ignores a bad length or invalid UTF-8 instead of failing', () => {
    expect(decodeShutdownCommunication(notification(6, 2, Uint8Array.of(9, 0x41)))).toBeUndefined();
    expect(decodeShutdownCommunication(notification(6, 2, Uint8Array.of(1, 0xff)))).toBeUndefined();
    expect(decodeShutdownCommunication(notification(6, 2))).toBeUndefined();
  });
});

describe('ROUTE-REFRESH in Established', () => {
  it('delivers negotiated families, ignores others and BoRR without enhanced route refresh', () => {
    const h = new Harness();
    h.establish();
    const ok = { type: 'route-refresh' as const, afi: 1, subtype: 0, safi: 1 };
    expect(h.step({ type: 'RouteRefreshMsg', message: ok })).toEqual([{ type: 'deliver-route-refresh', routeRefresh: ok }]);
    expect(h.step({ type: 'RouteRefreshMsg', message: { ...ok, safi: 128 } })).toEqual([]);
    expect(h.step({ type: 'RouteRefreshMsg', message: { ...ok, subtype: 1 } })).toEqual([]);
    expect(h.step({ type: 'SendRouteRefresh', message: ok })).toEqual([{ type: 'send', message: ok }]);
    expect(h.fsm.state).toBe('Established');
  });
});
