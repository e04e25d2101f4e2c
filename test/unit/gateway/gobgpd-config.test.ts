/** The gateway's gobgpd 3.x configuration and the gobgp CLI lines for its own route (src/gateway). */
import { describe, expect, it } from 'vitest';
import { addVpnRouteArgs, delVpnRouteArgs } from '../../../src/gateway/gobgp-cli.js';
import { gobgpdConfig, gobgpRouteTarget } from '../../../src/gateway/gobgpd-config.js';
import { GW_LABEL, LOOPBACK } from './support.js';

describe('gateway: gobgpd configuration', () => {
  it('writes gobgpd 3.x TOML with the VRF, its route targets, the neighbour and multipath', () => {
    const t = gobgpdConfig({
      routerId: LOOPBACK,
      as: 64512,
      localAddress: LOOPBACK,
      neighbors: [{ address: '10.169.25.19' }],
      vrfs: [{ name: 'k8s-test', rd: '192.168.0.204:1', importRts: ['target:500:500'], exportRts: ['target:500:500', 'target:64512:8000001'] }],
    });
    expect(t).toContain('[global.config]\n  as = 64512\n  router-id = "192.168.0.204"\n  port = 179\n  local-address-list = ["192.168.0.204"]\n');
    expect(t).toContain('[global.use-multiple-paths.config]\n  enabled = true\n');
    expect(t).toContain('neighbor-address = "10.169.25.19"\n    peer-as = 64512\n  [neighbors.transport.config]\n    local-address = "192.168.0.204"\n');
    expect(t).toContain('afi-safi-name = "l3vpn-ipv4-unicast"');
    expect(t).toContain('[[vrfs]]\n  [vrfs.config]\n    name = "k8s-test"\n    id = 1\n    rd = "192.168.0.204:1"\n    import-rt-list = ["500:500"]\n    export-rt-list = ["500:500", "64512:8000001"]\n');
    expect(gobgpRouteTarget('target:10.0.0.1:5')).toBe('10.0.0.1:5');
    expect(() => gobgpdConfig({ routerId: '1.2.3.4"', as: 1, localAddress: '1.2.3.4', neighbors: [], vrfs: [] })).toThrow(/router-id/);
    expect(() => gobgpdConfig({ routerId: '1.2.3.4', as: 1, localAddress: '1.2.3.4', neighbors: [], vrfs: [{ name: 'v', rd: 'x', importRts: [], exportRts: [] }] })).toThrow(/route distinguisher/);
  });

  it('builds the gobgp CLI lines that add and withdraw the own route', () => {
    const r = { prefix: '198.51.100.0/24', label: GW_LABEL, rd: '192.168.0.204:1', rts: ['target:500:500'], nexthop: LOOPBACK, encap: 'mpls-in-gre' as const };
    expect(addVpnRouteArgs(r).join(' ')).toBe('global rib -a vpnv4 add 198.51.100.0/24 label 299776 rd 192.168.0.204:1 nexthop 192.168.0.204 rt 500:500 encap mpls-in-gre');
    expect(delVpnRouteArgs(r).join(' ')).toBe('global rib -a vpnv4 del 198.51.100.0/24 label 299776 rd 192.168.0.204:1');
  });
});
