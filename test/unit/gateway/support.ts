/**
 * What the gateway's pure tests feed it: GoBGP's JSON for labelled VPNv4 paths (as gobgpd
 * 3.10 prints `global rib -a vpnv4 -j`), Internet frames as the TAP delivers them, and
 * MPLSoGRE packets as the fabric does.
 */
import { EtherType, IcmpType, IpProtocol, encodeEthernet, encodeGre, encodeIcmp, encodeIpv4, encodeMpls, encodeUdp } from '../../../codecs/net/index.js';

/** The gateway's loopback (the lab's camaro), its label and its TAP's MAC. */
export const LOOPBACK = '192.168.0.204';
export const GW_LABEL = 299776;
export const TAP_MAC = '02:00:00:00:02:04';

/** gobgp's JSON for one labelled VPNv4 path, as gobgpd 3.10 prints it. */
export function gobgpPath(o: { prefix: string; label: number; rd: string; nh: string; rts: string[]; lp?: number; med?: number; best?: boolean }) {
  const [admin, assigned] = [o.rd.slice(0, o.rd.lastIndexOf(':')), Number(o.rd.slice(o.rd.lastIndexOf(':') + 1))];
  const nlri = { prefix: o.prefix, labels: [o.label], rd: { type: admin.includes('.') ? 1 : 0, admin: admin.includes('.') ? admin : Number(admin), assigned } };
  const attrs: unknown[] = [{ type: 1, value: 2 }];
  if (o.med !== undefined) attrs.push({ type: 4, metric: o.med });
  if (o.lp !== undefined) attrs.push({ type: 5, value: o.lp });
  attrs.push({ type: 16, value: [...o.rts.map((v) => ({ type: 0, subtype: 2, value: v })), { type: 3, subtype: 12, tunnel_type: 11 }] });
  attrs.push({ type: 14, nexthop: o.nh, afi: 1, safi: 128, value: [nlri] });
  return { nlri, age: 1, best: o.best ?? true, attrs, stale: false };
}

export function rib(paths: ReturnType<typeof gobgpPath>[]): string {
  const out: Record<string, unknown[]> = {};
  for (const p of paths) (out[`${p.nlri.rd.admin}:${p.nlri.rd.assigned}:${p.nlri.prefix}`] ??= []).push(p);
  return JSON.stringify(out);
}

export function internetFrame(src: string, dst: string, proto: 'icmp' | 'udp', id: number, ttl = 63): Uint8Array {
  const payload =
    proto === 'icmp'
      ? encodeIcmp({ type: IcmpType.ECHO_REQUEST, identifier: id, sequence: 1, data: new Uint8Array(8) })
      : encodeUdp({ srcPort: id, dstPort: 9, payload: new Uint8Array(4) }, { src, dst });
  const ip = encodeIpv4({ src, dst, protocol: proto === 'icmp' ? IpProtocol.ICMP : IpProtocol.UDP, ttl, payload });
  return encodeEthernet({ dst: TAP_MAC, src: '02:00:00:00:00:99', etherType: EtherType.IPV4, payload: ip });
}

export function fabricGre(label: number, innerDst: string, opts: { greProto?: number; outerDst?: string } = {}): Uint8Array {
  const icmp = encodeIcmp({ type: IcmpType.ECHO_REPLY, identifier: 7, sequence: 1, data: new Uint8Array(8) });
  const inner = encodeIpv4({ src: '203.0.113.2', dst: innerDst, protocol: IpProtocol.ICMP, ttl: 64, payload: icmp });
  const gre = encodeGre({ protocolType: opts.greProto ?? EtherType.MPLS, payload: encodeMpls({ labels: [{ label, ttl: 64 }], payload: inner }) });
  return encodeIpv4({ src: '10.169.25.20', dst: opts.outerDst ?? LOOPBACK, protocol: IpProtocol.GRE, ttl: 64, payload: gre });
}
