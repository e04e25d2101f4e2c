import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeOpen } from '../../../codecs/bgp/open.js';
import { Reader } from '../../../codecs/util/reader.js';
import { checkOpen, resolveConfig } from '../../../src/bgp/fsm/index.js';
import type { FsmConfig, OpenMessage } from '../../../src/bgp/fsm/index.js';
import { fourOctet, mp, peerOpen } from './harness.js';
import { pcapPath } from '../../support/paths.js';


/**
 * The OPEN messages of a capture, in order. A scan for the BGP marker is enough here: these
 * OPENs each sit whole in one TCP segment.
 */
function opensIn(file: string): OpenMessage[] {
  const buf = readFileSync(pcapPath(file));
  const out: OpenMessage[] = [];
  for (let i = 0; i + 19 <= buf.length; i++) {
    let marker = true;
    for (let k = 0; k < 16 && marker; k++) marker = buf[i + k] === 0xff;
    if (!marker || buf[i + 18] !== 1) continue;
    const len = buf.readUInt16BE(i + 16);
    out.push({ type: 'open', ...decodeOpen(new Reader(buf, i + 19, i + len)) });
    i += len - 1;
  }
  return out;
}

function negotiate(open: OpenMessage, cfg: FsmConfig) {
  const res = checkOpen(open, resolveConfig(cfg));
  if (!res.ok) throw new Error(`refused: ${res.notification.code}/${res.notification.subcode}`);
  return res.negotiated;
}

describe('negotiation on real OPENs (bgp-4byte-asn.pcap, values from tshark -O bgp)', () => {
  const opens = opensIn('bgp-4byte-asn.pcap');

  it('finds the eight OPENs tshark shows', () => {
    expect(opens.map((o) => [o.myAs, o.holdTime, o.bgpId])).toEqual([
      [23456, 180, '0.0.1.1'],
      [200, 180, '0.0.2.1'],
      [23456, 180, '0.0.1.1'],
      [300, 180, '0.0.3.1'],
      [23456, 180, '0.0.1.1'],
      [400, 180, '0.0.4.1'],
      [1, 180, '0.0.0.1'],
      [23456, 180, '0.0.1.1'],
    ]);
  });

  it('frame 6 (AS 2764334674 via the capability, My AS AS_TRANS) as seen by 4-octet AS 200', () => {
    const n = negotiate(opens[0]!, { localAs: 200, localId: '0.0.2.1', peerAs: 2764334674, holdTime: 90, addPath: [{ afi: 1, safi: 1, sendReceive: 2 }] });
    expect(n).toMatchObject({ peerAs: 2764334674, fourOctetAs: true, holdTime: 90, keepaliveTime: 30, routeRefresh: true });
    // Frame 6 says Receive (1) for IPv4 unicast: we may send several paths, never receive them.
    expect(n.addPath).toEqual([{ afi: 1, safi: 1, send: true, receive: false }]);
    // R and N bits set, restart time 300 (0xc12c).
    expect(n.gracefulRestart).toBeUndefined();
    const gr = negotiate(opens[0]!, { localAs: 200, localId: '0.0.2.1', gracefulRestart: { time: 120, families: [] } });
    expect(gr.gracefulRestart).toEqual({ restart: true, notification: true, time: 300, families: [] });
  });

  it('the same OPEN seen by a 2-octet-only speaker shows AS_TRANS (RFC 6793)', () => {
    const n = negotiate(opens[0]!, { localAs: 200, localId: '0.0.2.1', peerAs: 23456, fourOctetAs: false });
    expect(n).toMatchObject({ peerAs: 23456, fourOctetAs: false });
    const refused = checkOpen(opens[0]!, resolveConfig({ localAs: 200, localId: '0.0.2.1', peerAs: 2764334674, fourOctetAs: false }));
    expect(refused).toMatchObject({ ok: false, notification: { code: 2, subcode: 2 } });
  });

  it('frame 8 (AS 200, no 4-octet capability): 2-octet session, and both Receive-only add-path gives nothing', () => {
    const n = negotiate(opens[1]!, {
      localAs: 2764334674,
      localId: '0.0.1.1',
      peerAs: 200,
      addPath: [{ afi: 1, safi: 1, sendReceive: 1 }],
    });
    expect(n).toMatchObject({ peerAs: 200, fourOctetAs: false, routeRefresh: false, families: [{ afi: 1, safi: 1 }] });
    expect(n.addPath).toEqual([]);
  });
});

describe('negotiation on the FRR OPEN of bgp-enhanced-route-refresh.pcapng', () => {
  const [open] = opensIn('bgp-enhanced-route-refresh.pcapng');

  it('everything we also advertise is on; the FQDN capability is kept but ignored', () => {
    const n = negotiate(open!, {
      localAs: 65002,
      localId: '192.168.10.252',
      peerAs: 65001,
      enhancedRouteRefresh: true,
      extendedMessage: true,
      addPath: [{ afi: 1, safi: 1, sendReceive: 3 }],
      gracefulRestart: { time: 120, families: [{ afi: 1, safi: 1, forwarding: true }] },
    });
    expect(n).toMatchObject({
      holdTime: 90,
      peerAs: 65001,
      peerId: '192.168.10.68',
      fourOctetAs: true,
      routeRefresh: true,
      enhancedRouteRefresh: true,
      extendedMessage: true,
      addPath: [{ afi: 1, safi: 1, send: true, receive: false }],
      gracefulRestart: { restart: false, notification: false, time: 120, families: [] },
    });
    expect(n.peerCapabilities.map((c) => c.code)).toEqual([1, 128, 2, 70, 65, 6, 69, 73, 64]);
  });

  it('what we do not advertise stays off', () => {
    const n = negotiate(open!, { localAs: 65002, localId: '192.168.10.252', routeRefresh: false });
    expect(n).toMatchObject({ routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [] });
    expect(n.gracefulRestart).toBeUndefined();
  });
});

describe('family and add-path negotiation', () => {
  const cfg: FsmConfig = {
    localAs: 64512,
    localId: '10.0.0.1',
    families: [{ afi: 1, safi: 128 }, { afi: 1, safi: 132 }, { afi: 2, safi: 1 }],
    addPath: [{ afi: 1, safi: 128, sendReceive: 3 }, { afi: 1, safi: 132, sendReceive: 1 }],
  };

  it('keeps the intersection of MP families, add-path per direction', () => {
    const n = negotiate(
      peerOpen({
        capabilities: [
          mp(1, 128),
          mp(1, 132),
          mp(25, 70),
          fourOctet(64513),
          { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 128, sendReceive: 1 }, { afi: 1, safi: 132, sendReceive: 3 }] },
        ],
      }),
      cfg,
    );
    expect(n.families).toEqual([{ afi: 1, safi: 128 }, { afi: 1, safi: 132 }]);
    expect(n.addPath).toEqual([
      { afi: 1, safi: 128, send: true, receive: false },
      { afi: 1, safi: 132, send: false, receive: true },
    ]);
  });

  it('a peer without any MP capability speaks IPv4 unicast only (RFC 4760)', () => {
    const n = negotiate(peerOpen({ capabilities: [fourOctet(64513)] }), { localAs: 64512, localId: '10.0.0.1', families: [{ afi: 1, safi: 1 }, { afi: 1, safi: 128 }] });
    expect(n.families).toEqual([{ afi: 1, safi: 1 }]);
  });

  it('enhanced route refresh needs plain route refresh on both sides (RFC 7313)', () => {
    const n = negotiate(
      peerOpen({ capabilities: [mp(1, 1), { kind: 'enhanced-route-refresh', code: 70 }] }),
      { localAs: 64512, localId: '10.0.0.1', peerAs: 64513, enhancedRouteRefresh: true },
    );
    expect(n).toMatchObject({ routeRefresh: false, enhancedRouteRefresh: false });
  });
});
