import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FamilyName } from '../../../src/bgp/families.js';
import type { NeighborConfig as SpeakerNeighborConfig } from '../../../src/bgp/speaker-config.js';
import { main } from '../../../src/cli/main.js';
import { bgpConfigSchema } from '../../../src/config/bgp-speaker.js';
import { parseConfigText } from '../../../src/config/index.js';
import { startIntrospect } from '../../../src/introspect/server.js';
import type { IntrospectServer } from '../../../src/introspect/server.js';
import type { IntrospectSpeaker, NeighborView, RouteEntryView } from '../../../src/introspect/types.js';

/**
 * A fake speaker: neighbours and RIB are canned, add/remove are recorded. The real speaker is
 * exercised in speaker.test.ts; this one pins down the HTTP contract and the CLI tables.
 */
class FakeSpeaker implements IntrospectSpeaker {
  added: SpeakerNeighborConfig[] = [];
  removed: string[] = [];
  views: NeighborView[] = [
    {
      address: '10.0.0.2',
      remoteAs: 64512,
      state: 'Established',
      uptimeSeconds: 3725,
      received: { update: 5, total: 12 },
      sent: { update: 3, total: 10 },
      prefixesReceived: 2,
      prefixesAdvertised: { vpnv4: 1, rtc: 1 },
      negotiated: { holdTime: 90, families: ['vpnv4', 'rtc'] },
    },
    {
      address: '2001:db8::3',
      remoteAs: 65001,
      state: 'Active',
      uptimeSeconds: undefined,
      received: { update: 0, total: 0 },
      sent: { update: 0, total: 0 },
      prefixesReceived: 0,
      prefixesAdvertised: {},
      lastDown: { reason: 'hold-timer-expired', at: new Date(Date.now() - 90_000).toISOString(), notification: { code: 4, subcode: 0, sent: true } },
    },
  ];
  routes: RouteEntryView[] = Array.from({ length: 3 }, (_, i) => ({
    key: `64512:1:10.1.${i}.0/24`,
    paths: [
      {
        source: '10.0.0.2',
        best: true,
        stale: false,
        labels: [100 + i],
        attributes: { origin: 'igp', asPath: '', nextHop: '10.0.0.2', localPref: 100, med: 5, communities: [], extCommunities: ['target:64512:100'], clusterList: [] },
      },
      {
        source: '2001:db8::3',
        best: false,
        stale: true,
        labels: [200],
        attributes: { origin: 'incomplete', asPath: '65001 65002', nextHop: '10.0.0.3', communities: [], extCommunities: [], clusterList: [] },
      },
    ],
  }));
  ribCalls: [FamilyName, number | undefined][] = [];

  neighborsSnapshot(): NeighborView[] {
    return this.views;
  }

  rib(family: FamilyName, limit?: number): RouteEntryView[] {
    this.ribCalls.push([family, limit]);
    return family === 'vpnv4' ? this.routes.slice(0, limit) : [];
  }

  addNeighbor(cfg: SpeakerNeighborConfig): void {
    if (cfg.address === '10.9.9.9') throw new Error('refused for the test');
    this.added.push(cfg);
    this.views.push({ address: cfg.address, remoteAs: cfg.remoteAs, state: 'Idle', uptimeSeconds: undefined, received: { update: 0, total: 0 }, sent: { update: 0, total: 0 }, prefixesReceived: 0, prefixesAdvertised: {} });
  }

  removeNeighbor(address: string): boolean {
    const i = this.views.findIndex((v) => v.address === address);
    if (i < 0) return false;
    this.views.splice(i, 1);
    this.removed.push(address);
    return true;
  }
}

const CONFIG = parseConfigText(
  `global: {local-as: 64512, router-id: 10.0.0.1, hold-time: 60, families: [vpnv4]}
neighbors:
  - {address: 10.0.0.2, remote-as: 64512, description: gobgp rack 1, route-reflector-client: true}
  - {address: "2001:db8::3", remote-as: 65001}
policies:
  red: {import: [{route-targets: [target:64512:100]}, {action: reject}]}
`,
  bgpConfigSchema,
  'test.yaml',
);

let fake: FakeSpeaker;
let server: IntrospectServer;
let url: string;

beforeAll(async () => {
  fake = new FakeSpeaker();
  ({ server, url } = await startIntrospect({ speaker: fake, config: CONFIG, port: 0 }));
});

afterAll(async () => {
  await server.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url + path, init);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** A port nothing listens on (fetch refuses well-known ones like 1 before trying). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('introspect HTTP API', () => {
  it('listens on 127.0.0.1', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET /bgp/neighbors: the snapshot plus the configured neighbour and its description', async () => {
    const r = await call('GET', '/bgp/neighbors');
    expect(r.status).toBe(200);
    expect(r.body.map((n: NeighborView) => n.address)).toEqual(['10.0.0.2', '2001:db8::3']);
    expect(r.body[0].description).toBe('gobgp rack 1');
    expect(r.body[0].config).toEqual(CONFIG.neighbors[0]);
    expect(r.body[0].negotiated).toEqual({ holdTime: 90, families: ['vpnv4', 'rtc'] });
  });

  it('GET /bgp/neighbors/<addr> finds any spelling of an IPv6 address, 404 otherwise', async () => {
    const r = await call('GET', `/bgp/neighbors/${encodeURIComponent('2001:DB8:0::3')}`);
    expect(r.status).toBe(200);
    expect(r.body.address).toBe('2001:db8::3');
    expect(await call('GET', '/bgp/neighbors/10.0.0.99')).toMatchObject({ status: 404, body: { error: 'no neighbor 10.0.0.99' } });
    expect(await call('GET', '/bgp/neighbors/bogus')).toMatchObject({ status: 404, body: { error: 'no neighbor bogus: not an IP address' } });
  });

  it('GET /bgp/rib/<family> with limit and truncation; unknown family 404', async () => {
    const all = await call('GET', '/bgp/rib/vpnv4');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ family: 'vpnv4', table: 'bgp.l3vpn.0', truncated: false });
    expect(all.body.routes).toEqual(fake.routes);
    const two = await call('GET', '/bgp/rib/vpnv4?limit=2');
    expect(two.body.truncated).toBe(true);
    expect(two.body.routes.map((r: RouteEntryView) => r.key)).toEqual(['64512:1:10.1.0.0/24', '64512:1:10.1.1.0/24']);
    expect(fake.ribCalls.at(-1)).toEqual(['vpnv4', 3]);
    expect((await call('GET', '/bgp/rib/ipv4')).body).toEqual({ family: 'ipv4-unicast', table: 'inet.0', routes: [], truncated: false });
    expect(await call('GET', '/bgp/rib/evpn')).toMatchObject({ status: 404 });
    expect(await call('GET', '/bgp/rib/vpnv4?limit=0')).toMatchObject({ status: 400, body: { error: 'limit must be an integer 1..10000000' } });
  });

  it('unknown paths 404, wrong methods 405 with Allow', async () => {
    expect(await call('GET', '/bgp/nope')).toMatchObject({ status: 404, body: { error: 'no such resource: /bgp/nope' } });
    const r = await call('PUT', '/bgp/rib/vpnv4');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
  });

  it('POST /bgp/neighbors: 400 naming each bad JSON field, and nothing reaches the speaker', async () => {
    const r = await call('POST', '/bgp/neighbors', { address: '10.0.0.300', 'remote-as': 0, 'hold-time': 2, bogus: true });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'invalid neighbor',
      issues: [
        { path: 'bogus', message: 'unknown key; expected address, port, remote-as, description, passive, route-reflector-client, families, hold-time, max-prefix, graceful-restart, local-address, policy' },
        { path: 'address', message: 'must be an IPv4 or IPv6 address' },
        { path: 'remote-as', message: 'must be an integer 1..4294967295' },
        { path: 'hold-time', message: 'must be 0 or 3..65535' },
      ],
    });
    expect(await call('POST', '/bgp/neighbors', '{"address": ')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^request body is not valid JSON/) } });
    expect(await call('POST', '/bgp/neighbors', { address: '10.0.0.7', 'remote-as': 1, policy: 'blue' })).toEqual({
      status: 400,
      body: { error: 'invalid neighbor', issues: [{ path: 'policy', message: "no policy named 'blue' in policies" }] },
      headers: expect.anything(),
    });
    expect(await call('POST', '/bgp/neighbors', { address: '10.0.0.2', 'remote-as': 1 })).toMatchObject({ status: 409, body: { error: 'neighbor 10.0.0.2 exists' } });
    expect(await call('POST', '/bgp/neighbors', { address: '10.9.9.9', 'remote-as': 1 })).toMatchObject({
      status: 400,
      body: { error: 'speaker refused neighbor 10.9.9.9: refused for the test' },
    });
    expect(fake.added).toEqual([]);
  });

  it('POST then DELETE a neighbour live, with global defaults filled', async () => {
    const r = await call('POST', '/bgp/neighbors', { address: '10.0.0.5', 'remote-as': 65005, description: 'new', policy: 'red' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ address: '10.0.0.5', state: 'Idle', description: 'new', config: { holdTime: 60, families: ['vpnv4'], policy: 'red' } });
    // The body names policy 'red', so the speaker gets it compiled into an import hook.
    expect(fake.added).toEqual([
      { address: '10.0.0.5', port: 179, remoteAs: 65005, passive: false, rrClient: false, families: ['vpnv4'], holdTime: 60, gracefulRestart: false, importPolicy: expect.any(Function) },
    ]);
    expect((await call('GET', '/bgp/neighbors/10.0.0.5')).body.description).toBe('new');

    expect(await call('DELETE', '/bgp/neighbors/10.0.0.5')).toMatchObject({ status: 200, body: { removed: '10.0.0.5' } });
    expect(await call('DELETE', '/bgp/neighbors/10.0.0.5')).toMatchObject({ status: 404 });
    expect(await call('DELETE', '/bgp/neighbors', { address: 'x' })).toMatchObject({ status: 400, body: { issues: [{ path: 'address', message: 'must be an IPv4 or IPv6 address' }] } });

    await call('POST', '/bgp/neighbors', { address: '10.0.0.6', 'remote-as': 1 });
    expect(await call('DELETE', '/bgp/neighbors', { address: '10.0.0.6' })).toMatchObject({ status: 200, body: { removed: '10.0.0.6' } });
    expect(fake.removed).toEqual(['10.0.0.5', '10.0.0.6']);
  });
});

describe('weft bgp reading the API', () => {
  it('neighbors: a summary table', async () => {
    const r = await cli('bgp', 'neighbors', '--url', url);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Neighbor\s+AS\s+State\s+Up\/Down\s+MsgRcvd\s+MsgSent\s+PfxRcd\s+PfxSnt\s+Description$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual(['10.0.0.2', '64512', 'Established', '01:02:05', '12', '10', '2', '2', 'gobgp rack 1']);
    // Down since 90 s before the fake was made; the suite itself takes a few seconds on a loaded host.
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['2001:db8::3', '65001', 'Active', expect.stringMatching(/^00:01:[3-5]\d$/), '0', '0', '0', '0']);
    // Right-aligned numbers: the AS column ends at the same place on every line.
    expect(lines[1]!.indexOf('64512') + 5).toBe(lines[2]!.indexOf('65001') + 5);
  });

  it('neighbors <addr>: the detail, including the last NOTIFICATION', async () => {
    const r = await cli('bgp', 'neighbors', '2001:db8::3', '--url', url);
    expect(r.code).toBe(0);
    expect(r.out).toContain('BGP neighbor 2001:db8::3, remote AS 65001');
    expect(r.out).toMatch(/last down .*: hold-timer-expired \(NOTIFICATION 4\/0 sent\)/);
  });

  it('--json prints what the API serves', async () => {
    const r = await cli('bgp', 'neighbors', '--json', '--url', `${url}/`);
    expect(JSON.parse(r.out)).toEqual((await call('GET', '/bgp/neighbors')).body);
    const rib = await cli('bgp', 'rib', '-a', 'vpnv4', '--json', '--url', url);
    expect(JSON.parse(rib.out)).toMatchObject({ family: 'vpnv4', routes: fake.routes });
  });

  it('rib: one line per path, best marked, stale flagged, labels and communities shown', async () => {
    const r = await cli('bgp', 'rib', '-a', 'vpnv4', '--limit', '1', '--url', url);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('Table bgp.l3vpn.0: 1 destination (truncated: use --limit)');
    expect(lines[1]).toMatch(/^\s+Network\s+Next Hop\s+Labels\s+LocPrf\s+MED\s+Path\s+From\s+Ext Communities$/);
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['*>', '64512:1:10.1.0.0/24', '10.0.0.2', '100', '100', '5', 'i', '10.0.0.2', 'target:64512:100']);
    expect(lines[3]!.trim().split(/\s{2,}/)).toEqual(['S', '10.0.0.3', '200', '65001 65002 ?', '2001:db8::3']);
    expect(lines[4]).toMatch(/^Status:/);
    expect((await cli('bgp', 'rib', '-a', 'rtc', '--url', url)).out).toBe('Table bgp.rtarget.0: 0 destinations\n');
  });

  it('errors: unreachable API exits 1, API errors exit 1, bad usage exits 2', async () => {
    const closed = await freePort();
    const down = await cli('bgp', 'neighbors', '--url', `http://127.0.0.1:${closed}`);
    expect(down).toMatchObject({ code: 1, out: '' });
    expect(down.err).toBe(`weft bgp: cannot reach http://127.0.0.1:${closed}/bgp/neighbors: ECONNREFUSED\n`);
    expect(await cli('bgp', 'neighbors', '10.0.0.99', '--url', url)).toMatchObject({ code: 1, err: 'weft bgp: no neighbor 10.0.0.99\n' });
    expect((await cli('bgp', 'rib', '-a', 'evpn', '--url', url)).code).toBe(2);
    expect((await cli('bgp', 'rib', '--limit', '0')).code).toBe(2);
    expect((await cli('bgp')).code).toBe(2);
    expect((await cli('bgp', 'routes')).err).toMatch(/^weft bgp: unknown subcommand 'routes'/);
  });
});
