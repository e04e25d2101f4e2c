/**
 * The entry points for tunnels the host's sockets already opened (UDP payload + sender, raw
 * GRE datagram) must do exactly what the fabric vif does with the whole frame.
 */
import { describe, expect, it } from 'vitest';
import { decodeEthernet, decodeIpv4 } from '../../../codecs/net/index.js';
import { DropReason, processFabricIp, processPacket, processTunnelPayload, type Action } from '../../../src/vrouter/index.js';
import { NODE_B, POD1, POD_VRF, icmpPacket, makeLab, mplsOverGreFrame, mplsOverUdpFrame, vxlanFrame } from './lab.js';

/** The UDP payload of an Ethernet/IPv4(20)/UDP frame. */
const udpPayload = (frame: Uint8Array) => frame.subarray(14 + 20 + 8);
const ipDatagram = (frame: Uint8Array) => frame.subarray(14);

function strip(a: Action[]): unknown {
  return a.map((x) => ('bytes' in x ? { ...x, bytes: Array.from(x.bytes) } : x));
}

describe('processTunnelPayload / processFabricIp', () => {
  const inner = icmpPacket('10.47.255.238', POD1.ip, 7, 1);

  it('MPLSoUDP payload: delivered to the pod exactly as the whole frame would be', () => {
    const a = makeLab();
    const b = makeLab();
    const frame = mplsOverUdpFrame(a.pod1Label, inner);
    const viaFrame = processPacket(a.router, frame, 0);
    const viaPayload = processTunnelPayload(b.router, 'MPLSoUDP', udpPayload(frame), NODE_B);
    expect(viaFrame[0]!.type).toBe('emit');
    expect(strip(viaPayload)).toEqual(strip(viaFrame));
    const out = viaPayload[0] as Extract<Action, { type: 'emit' }>;
    expect(out.vif).toBe(POD1.vif);
    expect(decodeEthernet(out.bytes)).toMatchObject({ dst: POD1.mac, src: '00:00:5e:00:01:00' });
    expect(decodeIpv4(decodeEthernet(out.bytes).payload)).toMatchObject({ src: '10.47.255.238', dst: POD1.ip, ttl: 64 });
    // Counted on the fabric vif like a frame, and the flow records the tunnel source.
    expect(b.router.vifs.get(0)!.stats.rxPackets).toBe(1);
    expect(b.router.flows.list().some((e) => e.sinfo === NODE_B)).toBe(true);
  });

  it('VXLAN payload: the VNI selects the VRF', () => {
    const a = makeLab();
    a.router.vnis.set(5, POD_VRF);
    const acts = processTunnelPayload(a.router, 'VXLAN', udpPayload(vxlanFrame(5, inner)), NODE_B);
    expect(acts).toHaveLength(1);
    expect(acts[0]).toMatchObject({ type: 'emit', vif: POD1.vif });
  });

  it('raw GRE datagram: same as the frame on the fabric', () => {
    const a = makeLab();
    const b = makeLab();
    const frame = mplsOverGreFrame(a.pod1Label, inner);
    expect(strip(processFabricIp(b.router, ipDatagram(frame)))).toEqual(strip(processPacket(a.router, frame, 0)));
    expect(b.router.vifs.get(0)!.stats.rxPackets).toBe(1);
  });

  it('bad input is a counted drop with its reason, never an exception', () => {
    const a = makeLab();
    a.router.vnis.set(5, POD_VRF);
    const cases: [Action[], DropReason][] = [
      [processTunnelPayload(a.router, 'MPLSoUDP', udpPayload(mplsOverUdpFrame(999, inner)), NODE_B), DropReason.InvalidLabel],
      [processTunnelPayload(a.router, 'MPLSoUDP', new Uint8Array([0, 1]), NODE_B), DropReason.InvalidPacket],
      [processTunnelPayload(a.router, 'VXLAN', udpPayload(vxlanFrame(77, inner)), NODE_B), DropReason.InvalidVnid],
      [processTunnelPayload(a.router, 'VXLAN', udpPayload(vxlanFrame(5, inner)).subarray(0, 10), NODE_B), DropReason.InvalidPacket],
      // Inner IPv4 cut short: the label is fine, the packet is not.
      [processTunnelPayload(a.router, 'MPLSoUDP', udpPayload(mplsOverUdpFrame(a.pod1Label, inner)).subarray(0, 30), NODE_B), DropReason.InvalidPacket],
      [processFabricIp(a.router, ipDatagram(mplsOverGreFrame(a.pod1Label, inner)).subarray(0, 22)), DropReason.InvalidPacket],
      [processFabricIp(a.router, new Uint8Array(0)), DropReason.InvalidPacket],
      // Not a fabric vif.
      [processTunnelPayload(a.router, 'MPLSoUDP', udpPayload(mplsOverUdpFrame(a.pod1Label, inner)), NODE_B, POD1.vif), DropReason.InvalidIf],
    ];
    for (const [acts, reason] of cases) expect(acts).toEqual([expect.objectContaining({ type: 'drop', reason })]);
    expect(a.router.drops.InvalidLabel).toBe(1);
    expect(a.router.drops.InvalidVnid).toBe(1);
    expect(a.router.drops.InvalidPacket).toBe(5);
    expect(a.router.drops.InvalidIf).toBe(1);
  });

  it('a GRE datagram for another address goes to the host untouched', () => {
    const a = makeLab();
    const d = ipDatagram(mplsOverGreFrame(a.pod1Label, inner)).slice();
    // Destination 10.169.25.99 instead of node A (header checksum is not looked at before the address).
    d[19] = 99;
    const acts = processFabricIp(a.router, d);
    expect(acts).toEqual([{ type: 'host', reason: 'not-for-us', vrf: 0, bytes: d }]);
  });
});
