/** ARP on pod interfaces: the vRouter answers for its gateway addresses and the VRF's hosts. */
import { ArpOp, EtherType, encodeArp, encodeEthernet, type ArpPacket } from '../../codecs/net/index.js';
import { ipv4ToInt } from './addr.js';
import type { VRouter } from './router.js';
import type { Vif } from './vif.js';

/**
 * True when the vRouter owns the answer: the subnet's gateway (.254) or DNS (.253), or an
 * address with a proxy-ARP route in the vif's VRF (other pods, local or remote). A pod asking
 * for its own address (duplicate detection) gets no answer.
 */
export function arpAnswered(router: VRouter, vif: Vif, tpa: string, spa: string): boolean {
  if (tpa === spa) return false;
  if (tpa === vif.gateway || tpa === vif.dns) return true;
  const route = router.vrfs.get(vif.vrf)?.routes.lookup(ipv4ToInt(tpa));
  return route !== undefined && route.proxyArp;
}

/** The reply frame to a request, from the vRouter MAC. */
export function arpReply(router: VRouter, req: ArpPacket & { sha: string; spa: string; tpa: string }): Uint8Array {
  const arp = encodeArp({ op: ArpOp.REPLY, sha: router.mac, spa: req.tpa, tha: req.sha, tpa: req.spa });
  return encodeEthernet({ dst: req.sha, src: router.mac, etherType: EtherType.ARP, payload: arp });
}

/**
 * Gratuitous ARPs for the subnet's .254 and .253 sent to the pod when its port comes up, as
 * the book's capture shows ("Gratuitous ARP for 10.20.20.254 (Request)", to the pod's MAC).
 */
export function gratuitousArps(router: VRouter, vif: Vif): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ip of [vif.gateway, vif.dns]) {
    if (!ip) continue;
    const arp = encodeArp({ op: ArpOp.REQUEST, sha: router.mac, spa: ip, tha: '00:00:00:00:00:00', tpa: ip });
    out.push(encodeEthernet({ dst: vif.peerMac ?? 'ff:ff:ff:ff:ff:ff', src: router.mac, etherType: EtherType.ARP, payload: arp }));
  }
  return out;
}
