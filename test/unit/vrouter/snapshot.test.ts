/**
 * Snapshots through JSON format exactly as the live tables do, so `weft vif|rt|nh|mpls|flow`
 * reading the agent's API print what the formatters print in-process.
 */
import { describe, expect, it } from 'vitest';
import {
  SnapshotError,
  flowSnapshot,
  formatFlowSnapshot,
  formatMplsSnapshot,
  formatNhSnapshot,
  formatRtSnapshot,
  formatVifSnapshot,
  mplsSnapshot,
  nextHopsFromSnapshot,
  nhSnapshot,
  rtSnapshot,
  vifSnapshot,
} from '../../../src/vrouter/snapshot.js';
import {
  formatFlowList,
  formatMplsTable,
  formatNextHops,
  formatRtDump,
  formatRtGet,
  formatVifList,
  natPolicy,
  process,
  toJson,
} from '../../../src/vrouter/index.js';
import { GATEWAY, POD1, POD2, POD_VRF, fromPod, makeLab, mplsOverGreFrame, tcpPacket } from './lab.js';

const FIP = '101.101.101.1';
const HOST = '15.15.15.2';
const FIP_VRF = 5;
const VIP = '10.105.139.153';

/** The book's node A with a FIP pair in the flow table and an ECMP service route. */
function busyLab() {
  const lab = makeLab(natPolicy({ floatingIps: [{ fixedIp: POD1.ip, vrf: POD_VRF, fip: FIP, fipVrf: FIP_VRF }] }));
  const r = lab.router;
  const gre = r.tunnelTo(GATEWAY, 'MPLSoGRE');
  const fipVrf = r.vrfs.ensure(FIP_VRF);
  fipVrf.routes.add({ prefix: '15.15.15.0/24', nh: gre.id, label: 299808 });
  fipVrf.routes.add({ prefix: `${FIP}/32`, nh: r.vifs.get(POD1.vif)!.nh!, label: lab.pod1Label, proxyArp: true });
  const comp = r.nhs.add({
    type: 'composite', vrf: POD_VRF, ecmp: true, policy: true,
    members: [{ nh: lab.tunnelB, label: 43 }, { nh: r.vifs.get(POD2.vif)!.nh!, label: lab.pod2Label }],
  });
  r.vrfs.get(POD_VRF)!.routes.add({ prefix: `${VIP}/32`, nh: comp.id, proxyArp: true });
  process(r, mplsOverGreFrame(lab.pod1Label, tcpPacket(HOST, FIP, 42786, 80, { syn: true })), 0);
  process(r, fromPod(POD1, tcpPacket(POD1.ip, HOST, 80, 42786, { syn: true, ack: true })), POD1.vif);
  process(r, mplsOverGreFrame(lab.pod1Label, tcpPacket(HOST, FIP, 42786, 80, { ack: true })), 0);
  return { ...lab, gre: gre.id, comp: comp.id };
}

/** What crosses HTTP: JSON text parsed back. */
function wire<T>(v: T): T {
  return JSON.parse(toJson(v)) as T;
}

describe('snapshot -> JSON -> text equals text from the live tables', () => {
  const lab = busyLab();
  const r = lab.router;

  it('vif --list and --get', () => {
    r.vifs.get(POD1.vif)!.stats.rxPackets = 455;
    expect(formatVifSnapshot(wire(vifSnapshot(r)))).toBe(formatVifList(r.vifs.list()));
    expect(formatVifSnapshot(wire(vifSnapshot(r, POD1.vif)))).toBe(formatVifList([r.vifs.get(POD1.vif)!]));
    expect(formatVifSnapshot(wire(vifSnapshot(r, POD1.vif)))).toContain('RX packets:455  bytes:');
    expect(vifSnapshot(r, 99).vifs).toEqual([]);
  });

  it('rt --dump and rt --get (longest prefix, or no route line)', () => {
    const table = r.vrfs.get(POD_VRF)!.routes;
    expect(formatRtSnapshot(wire(rtSnapshot(r, POD_VRF)))).toBe(formatRtDump(POD_VRF, table.list()));
    expect(formatRtSnapshot(wire(rtSnapshot(r, FIP_VRF)))).toBe(formatRtDump(FIP_VRF, r.vrfs.get(FIP_VRF)!.routes.list()));
    // 15.15.15.7 is only covered by the /24 towards the gateway.
    const get = wire(rtSnapshot(r, FIP_VRF, '15.15.15.7/32'));
    expect(get).toMatchObject({ vrf: FIP_VRF, asked: '15.15.15.7/32', route: { prefix: '15.15.15.0/24', nh: lab.gre, label: 299808 } });
    expect(formatRtSnapshot(get)).toBe(formatRtGet(FIP_VRF, '15.15.15.7/32', r.vrfs.get(FIP_VRF)!.routes.get('15.15.15.0/24')));
    const none = rtSnapshot(r, POD_VRF, '192.0.2.1');
    expect(none).toEqual({ vrf: POD_VRF, asked: '192.0.2.1', route: null });
    expect(formatRtSnapshot(wire(none)).split('\n')).toHaveLength(6);
    // An index without a VRF dumps the header alone, as the kernel's empty table does.
    expect(formatRtSnapshot(wire(rtSnapshot(r, 77)))).toBe(formatRtDump(77, []));
  });

  it('nh --list: same text, same Ref_cnt as VRouter.nhRefCount, bytes as hex on the wire', () => {
    const snap = wire(nhSnapshot(r));
    expect(formatNhSnapshot(snap)).toBe(formatNextHops(r.nhs.list(), (id) => r.nhRefCount(id)));
    for (const nh of snap.nexthops) expect(nh.refCount).toBe(r.nhRefCount(nh.id));
    expect(snap.nexthops.find((n) => n.id === r.vifs.get(POD1.vif)!.nh)).toMatchObject({ type: 'encap', encap: '023051c0fc9e00005e0001000800' });
    expect(snap.nexthops.find((n) => n.id === lab.gre)).toMatchObject({ type: 'tunnel', l2: '0050569ee6660050569e62250800', dip: GATEWAY });
  });

  it('nh --get of a Composite is the composite then its members, as the book prints nh --get 87', () => {
    const snap = wire(nhSnapshot(r, lab.comp));
    const pod2Nh = r.vifs.get(POD2.vif)!.nh!;
    expect(snap.nexthops.map((n) => n.id)).toEqual([lab.comp, lab.tunnelB, pod2Nh]);
    const text = formatNhSnapshot(snap);
    expect(text).toBe(formatNextHops([r.nhs.get(lab.comp)!, r.nhs.get(lab.tunnelB)!, r.nhs.get(pod2Nh)!], (id) => r.nhRefCount(id)));
    expect(text).toContain(`Sub NH(label): ${lab.tunnelB}(43) ${pod2Nh}(${lab.pod2Label})`);
    expect(nhSnapshot(r, lab.gre).nexthops).toHaveLength(1);
    expect(nhSnapshot(r, 4242).nexthops).toEqual([]);
  });

  it('mpls --dump and --get', () => {
    expect(formatMplsSnapshot(wire(mplsSnapshot(r)))).toBe(formatMplsTable(r.mpls.list()));
    expect(mplsSnapshot(r, lab.pod1Label)).toEqual({ labels: [{ label: lab.pod1Label, nh: r.vifs.get(POD1.vif)!.nh! }] });
    expect(mplsSnapshot(r, 4000)).toEqual({ labels: [] });
  });

  it('flow -l and flow --match with the FIP pair N(D) / N(S)', () => {
    const f = r.flows;
    const live = { entries: f.list(), stats: f.stats, capacity: f.capacity, sizeBytes: f.sizeBytes };
    expect(formatFlowSnapshot(wire(flowSnapshot(r)))).toBe(formatFlowList(live));
    const m = wire(flowSnapshot(r, { ip: HOST }));
    expect(m.entries).toHaveLength(2);
    const text = formatFlowSnapshot(m);
    expect(text).toBe(formatFlowList({ ...live, entries: f.match(HOST), match: { ip: HOST } }));
    expect(text).toContain(`Listing flows matching ([${HOST}]:*)`);
    expect(text).toContain('Action:N(D), Flags:, TCP:SSrEEr');
    expect(text).toContain('Action:N(S), Flags:, TCP:SSrEEr');
    // The FIP's pod side is keyed in the pod VRF and routed into the FIP VRF, as book line 8165.
    expect(text).toMatch(/\n +\d+<=>\d+ +10\.47\.255\.236:80 +6 \(2->5\)\n +15\.15\.15\.2:42786\n/);
    expect(text).toMatch(/\n +\d+<=>\d+ +15\.15\.15\.2:42786 +6 \(2->2\)\n +101\.101\.101\.1:80\n/);
    expect(formatFlowSnapshot(wire(flowSnapshot(r, { ip: HOST, port: 9 })))).toContain(`([${HOST}]:9)`);
    expect(flowSnapshot(r, { ip: HOST, port: 9 }).entries).toEqual([]);
  });

  it('is a copy: later table changes do not show through', () => {
    const v = vifSnapshot(r, POD2.vif);
    const fl = flowSnapshot(r);
    const routes = rtSnapshot(r, POD_VRF);
    r.vifs.get(POD2.vif)!.stats.txPackets += 5;
    r.vifs.get(POD2.vif)!.flags.push('Mr');
    f0(fl).packets += 100;
    r.flows.stats.created += 1;
    r.vrfs.get(POD_VRF)!.routes.get(`${VIP}/32`)!.label = 1;
    expect(v.vifs[0]!.stats.txPackets).toBe(0);
    expect(v.vifs[0]!.flags).not.toContain('Mr');
    expect(r.flows.list()[0]!.packets).toBeLessThan(100);
    expect(fl.stats.created).toBe(r.flows.stats.created - 1);
    expect('routes' in routes && routes.routes.find((x) => x.prefix === `${VIP}/32`)!.label).toBeUndefined();
  });
});

function f0<T>(s: { entries: T[] }): T {
  return s.entries[0]!;
}

describe('JSON that is not a snapshot', () => {
  it('is refused with a SnapshotError naming the field', () => {
    expect(() => formatVifSnapshot(JSON.parse('{"vif":[]}'))).toThrow(SnapshotError);
    expect(() => formatNhSnapshot(JSON.parse('{"nexthops":[{"id":1,"type":"encap","encap":"zz"}]}'))).toThrow(/nexthops\[0\]: 'encap' is not hex/);
    expect(() => formatNhSnapshot(JSON.parse('{"nexthops":[{"id":1,"type":"tunnel"}]}'))).toThrow(/'l2' is not hex/);
    expect(() => formatNhSnapshot(JSON.parse('{"nexthops":[{"id":1,"type":"bogus"}]}'))).toThrow(/unknown type/);
    expect(() => formatFlowSnapshot(JSON.parse('{"entries":[],"capacity":1,"sizeBytes":128}'))).toThrow(/'stats'/);
    expect(() => formatRtSnapshot(JSON.parse('{"routes":[]}'))).toThrow(/'vrf'/);
    expect(() => formatMplsSnapshot(JSON.parse('null'))).toThrow(SnapshotError);
  });

  it('gives next hops their bytes back', () => {
    const { nhs, refCount } = nextHopsFromSnapshot({ nexthops: [{ id: 61, type: 'tunnel', vrf: 0, policy: false, encapType: 'MPLSoGRE', oif: 0, l2: 'f01c2d4190000050569e62250800', sip: '10.169.25.20', dip: '192.168.0.204', refCount: 5604 }] });
    expect(nhs[0]).toMatchObject({ id: 61, l2: new Uint8Array([0xf0, 0x1c, 0x2d, 0x41, 0x90, 0, 0, 0x50, 0x56, 0x9e, 0x62, 0x25, 8, 0]) });
    expect(refCount(61)).toBe(5604);
    expect(refCount(1)).toBe(0);
  });
});
