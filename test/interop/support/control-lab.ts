/**
 * The control node of the book lab (fixtures/lab/book-lab.yaml) moved onto loopback
 * addresses, with gobgpd as its SDN gateway ("camaro": iBGP, VPNv4, gobgpd dials). Shared by
 * the control-node interop suites, which differ only in addresses and what they do next.
 */
import { loadControlModel } from '../../../src/control/config-model.js';
import { ControlNode, type ControlNodeOptions } from '../../../src/control/node.js';
import type { DaemonSet } from './daemon.js';
import { Gobgpd } from './gobgpd.js';

const LAB = new URL('../../../fixtures/lab/book-lab.yaml', import.meta.url).pathname;

/** The lab's AS, which gobgpd shares (iBGP). */
export const LAB_AS = 64512;

export interface GatewayLab {
  /** Address of weft's BGP and XMPP listeners. */
  weft: string;
  gobgp: string;
  port: { weft: number; gobgp: number; gobgpApi: number };
}

/** Short XMPP timers and BGP retries so that the suites do not wait on defaults. */
const FAST: ControlNodeOptions = { xmpp: { eorQuietMs: 200, eorRetryMs: 50 }, connectRetry: 1 };

/** The control node on `o.weft`, with gobgpd as its only BGP router; not started yet. */
export async function labControlNode(o: GatewayLab): Promise<ControlNode> {
  const lab = await loadControlModel(LAB);
  return new ControlNode(
    {
      ...lab,
      global: {
        ...lab.global,
        routerId: o.weft,
        bgp: { ...lab.global.bgp, address: o.weft, port: o.port.weft },
        xmpp: { ...lab.global.xmpp, address: o.weft, port: 0 },
        introspect: { address: '127.0.0.1', port: 0 },
        rest: { address: '127.0.0.1', port: 0 },
      },
      bgpRouters: [{ name: 'camaro', address: o.gobgp, asn: LAB_AS, port: o.port.gobgp, passive: true, routeReflectorClient: false, families: ['vpnv4' as const] }],
    },
    FAST,
  );
}

/** gobgpd as the gateway, dialling weft for VPNv4. */
export function gatewayGobgpd(daemons: DaemonSet, o: GatewayLab): Gobgpd {
  return new Gobgpd(daemons, {
    name: 'gobgp',
    asn: LAB_AS,
    address: o.gobgp,
    port: o.port.gobgp,
    apiPort: o.port.gobgpApi,
    neighbors: [{ address: o.weft, peerAs: LAB_AS, remotePort: o.port.weft, families: ['l3vpn-ipv4-unicast'] }],
  });
}
