import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSpeakerConfig } from '../../../src/bgp/speaker-config.js';
import { bgpConfigSchema, neighborSchema, resolveNeighbor, toSpeakerConfig } from '../../../src/config/bgp-speaker.js';
import type { BgpConfig } from '../../../src/config/bgp-speaker.js';
import { formatIssue, validateJson, validateYaml } from '../../../src/config/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function load(text: string): BgpConfig {
  const r = validateYaml(text, bgpConfigSchema, 'rr.yaml');
  if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'));
  return r.value;
}

function errors(text: string): string[] {
  const r = validateYaml(text, bgpConfigSchema, 'rr.yaml');
  if (r.ok) throw new Error('expected errors');
  return r.issues.map(formatIssue);
}

const GLOBAL = 'global:\n  local-as: 64512\n  router-id: 10.0.0.1\n';

describe('docs/config-bgp.md', () => {
  it('its example is valid and means what the tables say', () => {
    const doc = readFileSync(path.join(REPO, 'docs/config-bgp.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const c = load(example);
    expect(c.global).toEqual({
      localAs: 64512,
      routerId: '10.0.0.1',
      clusterId: '10.0.0.1',
      listen: { address: '0.0.0.0', port: 179 },
      holdTime: 90,
      families: ['vpnv4', 'rtc'],
    });
    expect(c.introspect).toEqual({ address: '127.0.0.1', port: 8083 });
    expect(c.neighbors).toEqual([
      {
        address: '10.0.0.2',
        port: 179,
        remoteAs: 64512,
        description: 'gobgp compute rack 1',
        passive: false,
        routeReflectorClient: true,
        families: ['vpnv4', 'rtc'],
        holdTime: 90,
        gracefulRestart: { restartTime: 120 },
        maxPrefix: { limit: 100000, restart: 60 },
        policy: 'red-only',
      },
      {
        address: '10.0.0.3',
        port: 179,
        remoteAs: 65001,
        passive: true,
        routeReflectorClient: false,
        families: ['vpnv4', 'rtc'],
        holdTime: 30,
        localAddress: '10.0.0.1',
        policy: 'to-frr',
      },
    ]);
    expect(c.policies).toEqual({
      'red-only': { import: [{ routeTargets: ['target:64512:100'], action: 'accept', localPref: 200 }, { action: 'reject' }] },
      'to-frr': { export: { routeTargets: ['target:64512:100', 'target:64512:200'], nextHopSelf: true } },
    });
  });

  it('its error examples are what the loader prints', () => {
    const doc = readFileSync(path.join(REPO, 'docs/config-bgp.md'), 'utf8');
    const shown = /## Errors[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    const text = [
      'global:',
      '  local-as: 64512',
      '  hold-time: 90',
      'neighbors:',
      '  - address: 10.0.0.2',
      '    remote-as: 64512',
      '    route-reflector-client: true',
      '    families: [vpnv4]',
      '  - address: 10.0.0.3',
      '    description: frr',
      '    passive: true',
      '    remote-as: 4294967296',
      '    families: [vpnv4]',
      '    remote_as: 1',
      '',
    ].join('\n');
    expect(errors(text).sort()).toEqual([...shown].sort());
  });
});

describe('defaults', () => {
  it('fill a minimal config', () => {
    const c = load(`${GLOBAL}neighbors:\n  - {address: 10.0.0.2, remote-as: 65000}\n`);
    expect(c).toEqual({
      global: { localAs: 64512, routerId: '10.0.0.1', clusterId: '10.0.0.1', listen: { address: '0.0.0.0', port: 179 }, holdTime: 90, families: ['ipv4-unicast', 'vpnv4'] },
      introspect: { address: '127.0.0.1', port: 8083 },
      neighbors: [{ address: '10.0.0.2', port: 179, remoteAs: 65000, passive: false, routeReflectorClient: false, families: ['ipv4-unicast', 'vpnv4'], holdTime: 90 }],
      policies: {},
    });
  });

  it('neighbour hold time and families come from global unless set', () => {
    const c = load(`${GLOBAL}  hold-time: 0\n  families: [rtc]\nneighbors:\n  - {address: 10.0.0.2, remote-as: 1}\n  - {address: 10.0.0.3, remote-as: 1, hold-time: 3, families: [vpnv6]}\n`);
    expect(c.neighbors.map((n) => [n.holdTime, n.families])).toEqual([
      [0, ['rtc']],
      [3, ['vpnv6']],
    ]);
  });

  it('graceful-restart: {} enables it with the default restart time', () => {
    const c = load(`${GLOBAL}neighbors:\n  - {address: 10.0.0.2, remote-as: 1, graceful-restart: {}}\n`);
    expect(c.neighbors[0]!.gracefulRestart).toEqual({ restartTime: 120 });
  });
});

describe('every error, with file:line:col and field path', () => {
  it('global section', () => {
    expect(errors('neighbors: []\n')).toEqual(['rr.yaml:1:1: global: is required']);
    expect(
      errors('global:\n  local-as: 0\n  router-id: 0.0.0.0\n  cluster-id: 1.2.3\n  hold-time: 2\n  listen: {address: any, port: -1}\n  families: []\n  asn: 1\n'),
    ).toEqual([
      'rr.yaml:2:13: global.local-as: must be an integer 1..4294967295',
      'rr.yaml:3:14: global.router-id: must be a non-zero IPv4 address',
      'rr.yaml:4:15: global.cluster-id: must be a non-zero IPv4 address',
      'rr.yaml:5:14: global.hold-time: must be 0 or 3..65535',
      'rr.yaml:6:21: global.listen.address: must be an IPv4 or IPv6 address',
      'rr.yaml:6:32: global.listen.port: must be an integer 0..65535',
      'rr.yaml:7:13: global.families: must not be empty',
      "rr.yaml:8:3: global.asn: unknown key; expected local-as, router-id, cluster-id, listen, hold-time, families",
    ]);
  });

  it('neighbour fields', () => {
    const text = `${GLOBAL}neighbors:
  - address: 10.0.0.300
    port: 0
    remote-as: 4294967296
    description: 5
    passive: "no"
    route-reflector-client: 1
    families: [vpnv4, evpn, vpnv4]
    hold-time: 1
    max-prefix: {restart: 0}
    graceful-restart: {restart-time: 4096}
    local-address: fe80::1%eth0
    policy: "bad name"
    rr-client: true
`;
    expect(errors(text)).toEqual([
      'rr.yaml:5:14: neighbors[0].address: must be an IPv4 or IPv6 address',
      'rr.yaml:6:11: neighbors[0].port: must be an integer 1..65535',
      'rr.yaml:7:16: neighbors[0].remote-as: must be an integer 1..4294967295',
      'rr.yaml:8:18: neighbors[0].description: must be a string',
      'rr.yaml:9:14: neighbors[0].passive: must be true or false',
      'rr.yaml:10:29: neighbors[0].route-reflector-client: must be true or false',
      'rr.yaml:11:23: neighbors[0].families[1]: must be one of: ipv4-unicast, vpnv4, vpnv6, rtc',
      'rr.yaml:11:29: neighbors[0].families[2]: duplicate of neighbors[0].families[0]',
      'rr.yaml:12:16: neighbors[0].hold-time: must be 0 or 3..65535',
      'rr.yaml:13:17: neighbors[0].max-prefix.limit: is required',
      'rr.yaml:13:27: neighbors[0].max-prefix.restart: must be an integer 1..86400',
      'rr.yaml:14:38: neighbors[0].graceful-restart.restart-time: must be an integer 1..4095',
      'rr.yaml:15:20: neighbors[0].local-address: must be an IPv4 or IPv6 address',
      'rr.yaml:16:13: neighbors[0].policy: must be a policy name (letters, digits, . _ -)',
      "rr.yaml:17:5: neighbors[0].rr-client: unknown key; expected address, port, remote-as, description, passive, route-reflector-client, families, hold-time, max-prefix, graceful-restart, local-address, policy",
    ]);
    expect(errors(`${GLOBAL}neighbors:\n  - address: 10.0.0.2\n`)).toEqual(['rr.yaml:5:5: neighbors[0].remote-as: is required']);
    expect(errors(`${GLOBAL}neighbors:\n  address: 10.0.0.2\n`)).toEqual(['rr.yaml:5:3: neighbors: must be a list']);
  });

  it('checks across fields and sections', () => {
    const text = `${GLOBAL}neighbors:
  - {address: "2001:db8::1", remote-as: 1}
  - {address: "2001:DB8:0::1", remote-as: 2, policy: nope}
  - {address: 10.0.0.4, remote-as: 3, local-address: "::1"}
policies:
  p:
    import:
      - {action: reject, local-pref: 10}
`;
    // local-pref is checked inside the policy; neighbours only once policies are valid.
    expect(errors(text)).toEqual([
      'rr.yaml:7:54: neighbors[2].local-address: must be an IPv4 address like the neighbor\'s',
      'rr.yaml:11:38: policies.p.import[0].local-pref: only applies to accepted routes',
    ]);
    const fixed = text.replace(', local-pref: 10', '').replace(', local-address: "::1"', '');
    expect(errors(fixed)).toEqual([
      'rr.yaml:6:15: neighbors[1].address: 2001:db8::1 is already neighbors[0]',
      "rr.yaml:6:54: neighbors[1].policy: no policy named 'nope' in policies",
    ]);
  });

  it('policies', () => {
    const text = `${GLOBAL}policies:
  a:
    import:
      - route-targets: [target:64512:100, target:64512:100]
        action: drop
      - route-targets: []
    export: {route-targets: [nope], next-hop-self: 1}
    set: {}
  "a b": {}
`;
    expect(errors(text)).toEqual([
      'rr.yaml:7:43: policies.a.import[0].route-targets[1]: duplicate of policies.a.import[0].route-targets[0]',
      'rr.yaml:8:17: policies.a.import[0].action: must be one of: accept, reject',
      'rr.yaml:9:24: policies.a.import[1].route-targets: must not be empty',
      'rr.yaml:10:30: policies.a.export.route-targets[0]: must be a route target like target:64512:100',
      'rr.yaml:10:52: policies.a.export.next-hop-self: must be true or false',
      'rr.yaml:11:5: policies.a.set: unknown key; expected import, export',
      'rr.yaml:12:3: policies["a b"]: must be a policy name (letters, digits, . _ -)',
    ]);
  });
});

describe('REST neighbour bodies use the same schema', () => {
  it('validates JSON with JSON paths and resolves defaults from global', () => {
    const bad = validateJson({ address: '10.0.0.9', 'remote-as': '65000', families: ['vpnv4', 7], remoteAs: 1 }, neighborSchema);
    expect(bad.ok ? [] : bad.issues.map(formatIssue)).toEqual([
      "remoteAs: unknown key (did you mean 'remote-as'?)",
      'remote-as: must be an integer 1..4294967295',
      'families[1]: must be one of: ipv4-unicast, vpnv4, vpnv6, rtc',
    ]);
    const ok = validateJson({ address: '10.0.0.9', 'remote-as': 65000 }, neighborSchema);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(resolveNeighbor(ok.value, { holdTime: 30, families: ['rtc'] })).toEqual({
      address: '10.0.0.9',
      port: 179,
      remoteAs: 65000,
      passive: false,
      routeReflectorClient: false,
      families: ['rtc'],
      holdTime: 30,
    });
  });
});

describe('toSpeakerConfig', () => {
  it('gives a config the speaker accepts, field for field', () => {
    const c = load(`${GLOBAL}  listen: {address: 127.0.0.1, port: 0}
neighbors:
  - {address: 10.0.0.2, remote-as: 64512, route-reflector-client: true, families: [vpnv4, rtc], max-prefix: {limit: 10}, graceful-restart: {restart-time: 60}}
  - {address: "2001:db8::2", port: 1179, remote-as: 65000, passive: true, local-address: "2001:db8::1", hold-time: 0}
`);
    const s = toSpeakerConfig(c);
    expect(() => checkSpeakerConfig(s)).not.toThrow();
    expect(s).toEqual({
      localAs: 64512,
      routerId: '10.0.0.1',
      clusterId: '10.0.0.1',
      listen: { address: '127.0.0.1', port: 0 },
      holdTime: 90,
      families: ['ipv4-unicast', 'vpnv4'],
      gracefulRestartTime: 60,
      neighbors: [
        { address: '10.0.0.2', port: 179, remoteAs: 64512, passive: false, rrClient: true, families: ['vpnv4', 'rtc'], holdTime: 90, gracefulRestart: true, maxPrefix: 10 },
        { address: '2001:db8::2', port: 1179, remoteAs: 65000, passive: true, rrClient: false, families: ['ipv4-unicast', 'vpnv4'], holdTime: 0, gracefulRestart: false, localAddress: '2001:db8::1' },
      ],
    });
  });
});
