/**
 * `weft control` with the real speaker: two control nodes on loopback (in process, through
 * runControl), a neighbour added and removed live through the HTTP API, the RIB of a real
 * speaker through `weft bgp rib`, and the built CLI as a child process stopped by SIGTERM.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VpnNlri } from '../../../codecs/bgp/nlri.js';
import { Speaker } from '../../../src/bgp/speaker.js';
import { runControl } from '../../../src/cli/control.js';
import { main } from '../../../src/cli/main.js';
import { bgpConfigSchema, toSpeakerConfig } from '../../../src/config/bgp-speaker.js';
import { parseConfigText } from '../../../src/config/index.js';
import { startIntrospect } from '../../../src/introspect/server.js';
import type { IntrospectServer } from '../../../src/introspect/server.js';
import type { NeighborResponse, RibResponse } from '../../../src/introspect/types.js';
import { parseRouteTarget } from '../../../src/rib/route-target.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AS = 64512;
// Own loopback addresses: other suites run speakers on 127.0.0.2x at the same time.
const RR = '127.0.0.41';
const CLIENT = '127.0.0.42';
const ORIGIN = '127.0.0.43';
const RR2 = '127.0.0.44';

async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

async function neighbors(url: string): Promise<NeighborResponse[]> {
  const r = await cli('bgp', 'neighbors', '--json', '--url', url);
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as NeighborResponse[];
}

function tempConfig(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-control-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A control node run in process; `stop()` plays the part of SIGTERM. */
async function startNode(file: string): Promise<{ url: string; bgpPort: number; out: () => string; stop: () => Promise<number> }> {
  let out = '';
  let release!: (why: string) => void;
  const until = new Promise<string>((r) => (release = r));
  let ready!: (v: { bgpPort: number | undefined; introspectUrl: string }) => void;
  const readyP = new Promise<{ bgpPort: number | undefined; introspectUrl: string }>((r) => (ready = r));
  const done = runControl(['--config', file], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } }, { until, onReady: ready });
  const info = await Promise.race([readyP, done.then((code) => Promise.reject(new Error(`control exited ${code}: ${out}`)))]);
  return {
    url: info.introspectUrl,
    bgpPort: info.bgpPort!,
    out: () => out,
    stop: async () => {
      release('SIGTERM');
      return done;
    },
  };
}

describe('weft control in process: live neighbour add and remove between two nodes', () => {
  let rr: Awaited<ReturnType<typeof startNode>>;
  let client: Awaited<ReturnType<typeof startNode>>;

  beforeAll(async () => {
    rr = await startNode(
      tempConfig(
        'rr.yaml',
        `global: {local-as: ${AS}, router-id: ${RR}, listen: {address: ${RR}, port: 0}, families: [vpnv4, rtc]}
introspect: {port: 0}
neighbors:
  - address: ${CLIENT}
    remote-as: ${AS}
    passive: true
    route-reflector-client: true
    description: compute rack 1
`,
      ),
    );
    client = await startNode(
      tempConfig('client.yaml', `global: {local-as: ${AS}, router-id: ${CLIENT}, listen: {address: ${CLIENT}, port: 0}, families: [vpnv4, rtc]}\nintrospect: {port: 0}\n`),
    );
  });

  afterAll(async () => {
    await client?.stop();
    await rr?.stop();
  });

  it('prints where it listens', () => {
    expect(rr.out()).toContain(`weft control: BGP AS ${AS} router-id ${RR} on ${RR}:${rr.bgpPort}, 1 neighbor(s)\n`);
    expect(rr.out()).toContain(`weft control: introspect on ${rr.url}\n`);
  });

  it('a neighbour POSTed to the client comes up Established on both sides', async () => {
    const res = await fetch(`${client.url}/bgp/neighbors`, {
      method: 'POST',
      body: JSON.stringify({ address: RR, port: rr.bgpPort, 'remote-as': AS, 'local-address': CLIENT, description: 'the reflector' }),
    });
    expect(res.status).toBe(201);
    const up = await waitFor('Established on both nodes', async () => {
      const [a, b] = [await neighbors(rr.url), await neighbors(client.url)];
      return a[0]?.state === 'Established' && b[0]?.state === 'Established' && { a: a[0], b: b[0] };
    });
    expect(up.a).toMatchObject({ address: CLIENT, remoteAs: AS, description: 'compute rack 1' });
    expect(up.a.negotiated?.families.sort()).toEqual(['rtc', 'vpnv4']);
    expect(up.b).toMatchObject({ address: RR, description: 'the reflector', config: { port: rr.bgpPort, holdTime: 90 } });

    const table = await cli('bgp', 'neighbors', '--url', rr.url);
    expect(table.out.split('\n')[1]!.split(/\s{2,}/).slice(0, 3)).toEqual([CLIENT, String(AS), 'Established']);
  });

  it('DELETE on the client takes the session down on the reflector, the neighbour stays configured there', async () => {
    const res = await fetch(`${client.url}/bgp/neighbors/${RR}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await neighbors(client.url)).toEqual([]);
    const down = await waitFor('session down on the reflector', async () => {
      const n = (await neighbors(rr.url))[0];
      return n !== undefined && n.state !== 'Established' && n;
    });
    expect(down.lastDown?.notification).toMatchObject({ code: 6, sent: false });
  });

  it('stops cleanly when told to', async () => {
    expect(await client.stop()).toBe(0);
    expect(client.out()).toContain('weft control: SIGTERM, stopping\n');
  });
});

describe('the RIB of a real speaker through weft bgp rib', () => {
  let rr: Speaker;
  let origin: Speaker;
  let server: IntrospectServer;
  let url: string;
  const rt = 'target:64512:100';

  beforeAll(async () => {
    const config = parseConfigText(
      `global: {local-as: ${AS}, router-id: ${RR}, cluster-id: 10.255.0.9, listen: {address: ${RR2}, port: 0}, families: [vpnv4]}
neighbors: [{address: ${ORIGIN}, remote-as: ${AS}, passive: true, route-reflector-client: true}]
`,
      bgpConfigSchema,
    );
    rr = new Speaker(toSpeakerConfig(config));
    await rr.start();
    ({ server, url } = await startIntrospect({ speaker: rr, config, port: 0 }));
    origin = new Speaker({
      localAs: AS,
      routerId: ORIGIN,
      listen: false,
      families: ['vpnv4'],
      neighbors: [{ address: RR2, port: rr.listenPort!, remoteAs: AS, localAddress: ORIGIN, connectRetry: 1 }],
    });
    await origin.start();
    const nlri: VpnNlri = { kind: 'vpn', rd: { type: 0, admin: AS, assigned: 7 }, prefix: '10.7.1.0/24', labels: [{ value: 3007, tc: 0, bottom: true }] };
    origin.originate('vpnv4', nlri, { nextHop: ORIGIN, localPref: 150, med: 20, extCommunities: [parseRouteTarget(rt)] });
  });

  afterAll(async () => {
    await origin?.stop();
    await rr?.stop();
    await server?.close();
  });

  it('shows the route with its label, attributes and the best mark, as the speaker holds it', async () => {
    const rib = await waitFor('the route at the reflector', async () => {
      const r = await cli('bgp', 'rib', '-a', 'vpnv4', '--json', '--url', url);
      const body = JSON.parse(r.out) as RibResponse;
      return body.routes.length > 0 && body;
    });
    expect(rib).toEqual({ family: 'vpnv4', table: 'bgp.l3vpn.0', routes: rr.rib('vpnv4'), truncated: false });
    expect(rib.routes).toHaveLength(1);
    const route = rib.routes[0]!;
    expect(route.key).toBe('64512:7:10.7.1.0/24');
    expect(route.paths).toHaveLength(1);
    expect(route.paths[0]).toMatchObject({ source: ORIGIN, best: true, stale: false, labels: [3007] });
    expect(route.paths[0]!.attributes).toMatchObject({ nextHop: ORIGIN, localPref: 150, med: 20, extCommunities: [rt], origin: 'igp' });

    const table = await cli('bgp', 'rib', '-a', 'vpnv4', '--url', url);
    const lines = table.out.split('\n');
    expect(lines[0]).toBe('Table bgp.l3vpn.0: 1 destination');
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['*>', '64512:7:10.7.1.0/24', ORIGIN, '3007', '150', '20', 'i', ORIGIN, rt]);
  });
});

describe('weft control as a process (built CLI)', () => {
  beforeAll(async () => {
    // The child runs dist/, which `npm test` builds before vitest starts (npm run build).
    if (!existsSync(path.join(REPO, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it('refuses an invalid config with every error and exit status 1, starting nothing', async () => {
    const file = tempConfig('bad.yaml', 'global:\n  local-as: 70000000000\n  router-id: 10.0.0.1\nneighbors:\n  - address: 10.0.0.2\n    remote-as: 0\n');
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile('node', [path.join(REPO, 'bin/weft.js'), 'control', '--config', file], (e, out, err) => resolve({ code: e ? (e.code as number) : 0, out, err }));
    });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `${file}:2:13: global.local-as: must be an integer 1..4294967295\n${file}:6:16: neighbors[0].remote-as: must be an integer 1..4294967295\nweft control: ${file}: 2 errors, nothing started\n`,
    );
  });

  it('--check validates without starting', async () => {
    const file = tempConfig('ok.yaml', `global: {local-as: ${AS}, router-id: 10.0.0.1}\n`);
    const { stdout } = await promisify(execFile)('node', [path.join(REPO, 'bin/weft.js'), 'control', '--config', file, '--check']);
    expect(stdout).toBe(`${file}: ok: AS ${AS}, router-id 10.0.0.1, 0 neighbor(s), 0 policies\n`);
  });

  it('serves introspect, answers weft bgp neighbors, and exits 0 on SIGTERM', async () => {
    const file = tempConfig(
      'node.yaml',
      `global: {local-as: ${AS}, router-id: 127.0.0.45, listen: {address: 127.0.0.45, port: 0}}\nintrospect: {port: 0}\nneighbors: [{address: 127.0.0.46, remote-as: 65046, passive: true, description: nobody}]\n`,
    );
    const child = spawn('node', [path.join(REPO, 'bin/weft.js'), 'control', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await waitFor('the introspect line', async () => /introspect on (http:\/\/\S+)\n/.exec(out)?.[1], 30_000);
      const table = await cli('bgp', 'neighbors', '--url', url);
      expect(table.code).toBe(0);
      const row = table.out.split('\n')[1]!.split(/\s{2,}/);
      expect([row[0], row[1], row.at(-1)]).toEqual(['127.0.0.46', '65046', 'nobody']);
      expect(['Idle', 'Active', 'Connect']).toContain(row[2]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('weft control: SIGTERM, stopping\n');
    expect(err).toBe('');
  });
});
