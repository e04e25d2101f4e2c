/**
 * `weft status` against a real control node on loopback (the book lab's model: vrouters
 * cent222 and cent333, plus one BGP router played by a raw peer) and two weft Agents whose
 * /status is served as the agent's API serves it. Followed through a life: nothing connected,
 * everything up, one agent gone, the control node gone. The CLI runs in-process through main,
 * and once as the built binary for its exit status. Then the lab form: the built CLI run inside
 * namespaces of this file's own (h10st-*), one with a control node, one with an agent's API,
 * one missing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { reconnectDelayMs } from '../../src/agent/xmpp-client.js';
import { main } from '../../src/cli/main.js';
import { labStatus } from '../../src/cli/status.js';
import type { BgpRouterConfig } from '../../src/config/control-model.js';
import { loadControlModel } from '../../src/control/config-model.js';
import { ControlNode } from '../../src/control/node.js';
import type { StatusReport } from '../../src/status/report.js';
import { modelOnLoopback } from '../support/lab-model.js';
import { RawPeer } from '../support/raw-peer.js';
import { must, procs, requireRootAndTools, run, start, stop, WEFT } from '../e2e/support/procs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAB = path.join(REPO, 'fixtures/lab/book-lab.yaml');
const HOST = '127.0.0.1';
/** The BGP router's address: this file's own, so no other suite's speaker answers as it. */
const GW = '127.0.10.51';
const AS = 64512;

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function status(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['status', ...args], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

async function statusJson(args: string[]): Promise<{ code: number; report: StatusReport }> {
  const r = await status([...args, '--json']);
  expect(r.err).toBe('');
  return { code: r.code, report: JSON.parse(r.out) as StatusReport };
}

/** A weft Agent and its API's GET /status, as src/agent/service.ts answers it. */
class TestAgent {
  readonly agent: Agent;
  readonly server: http.Server;
  url = '';

  constructor(
    readonly name: string,
    readonly vhost: string,
    xmppPort: number,
  ) {
    this.agent = new Agent({
      name,
      vhostIp: vhost,
      controlNodes: [{ host: HOST, port: xmppPort }],
      client: { reconnectDelay: (n) => Math.ceil(reconnectDelayMs(n) / 20) },
    });
    this.server = http.createServer((req, res) => {
      const found = req.url === '/status';
      const body = found ? { name, vhost, encapsulation: ['MPLSoUDP'], controlNodes: this.agent.controlNodes() } : { error: `no ${req.url}` };
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, HOST, r));
    this.url = `http://${HOST}:${(this.server.address() as AddressInfo).port}`;
    this.agent.start();
  }

  async stop(): Promise<void> {
    this.agent.stop();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('weft status on loopback', () => {
  let node: ControlNode;
  let controlArgs: string[];
  const agents: TestAgent[] = [];
  let peer: RawPeer | undefined;
  let nodeStopped = false;

  beforeAll(async () => {
    const lab = await loadControlModel(LAB);
    // Both families the raw peer offers, so it gets the two End-of-RIBs it waits for.
    const gw: BgpRouterConfig = { ...lab.bgpRouters[0]!, name: 'gateway', address: GW, asn: AS, passive: true, families: ['ipv4-unicast', 'vpnv4'] };
    node = new ControlNode(modelOnLoopback(lab, HOST, [gw]), { xmpp: { eorQuietMs: 100, eorRetryMs: 50 } });
    await node.start();
    controlArgs = ['--control', node.introspectUrl, '--control-api', node.restUrl];
  });

  afterAll(async () => {
    peer?.sock.destroy();
    for (const a of agents) await a.stop().catch(() => undefined);
    if (!nodeStopped) await node?.stop();
  });

  it('with nothing connected the control node is initializing and names what is missing', async () => {
    const { code, report } = await statusJson(controlArgs);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.nodes).toHaveLength(1);
    const c = report.nodes[0]!;
    expect(c).toMatchObject({ pod: 'control', service: 'control', state: 'initializing', id: HOST });
    expect(c.control).toMatchObject({ connections: 0, expected: 3, missing: [`BGP:${GW}`, 'XMPP:cent222', 'XMPP:cent333'] });
    expect(c.control!.xmpp).toEqual({ agents: [], expected: ['cent222', 'cent333'] });
    expect(c.control!.routingInstances).toBe(node.instances.list().length);
    expect(c.status).toBe(
      `Number of connections: 0, Expected: 3 Missing: BGP:${GW}, XMPP:cent222, XMPP:cent333 (BGP peers established: 0/1, XMPP agents: 0/2, ${node.instances.list().length} routing instances)`,
    );
  });

  it('with the BGP peer and both agents up, everything is active and the exit status 0', async () => {
    for (const [name, vhost] of [['cent222', '10.169.25.20'], ['cent333', '10.169.25.21']] as const) {
      const a = new TestAgent(name, vhost, node.xmppPort);
      agents.push(a);
      await a.start();
    }
    peer = await RawPeer.establish({ local: GW, remote: HOST, port: node.bgpPort!, asn: AS, holdTime: 90 });
    await until('both XMPP sessions', () => node.xmpp.agentNames().length === 2);
    await until('both agents established', () => agents.every((a) => a.agent.controlNodes()[0]?.state === 'established'));

    const { code, report } = await statusJson([...controlArgs, '--agent', agents[0]!.url, '--agent', agents[1]!.url]);
    expect(report.nodes.map((n) => [n.pod, n.id, n.state])).toEqual([
      ['control', HOST, 'active'],
      ['vrouter', 'cent222', 'active'],
      ['vrouter', 'cent333', 'active'],
    ]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const c = report.nodes[0]!.control!;
    expect(c).toMatchObject({ connections: 3, expected: 3, missing: [], asn: AS, routerId: HOST });
    expect(c.bgp).toEqual({ established: 1, peers: [{ address: GW, state: 'Established', description: 'gateway' }] });
    expect([...c.xmpp!.agents].sort()).toEqual(['cent222', 'cent333']);
    const xmppId = `${HOST}:${node.xmppPort}`;
    expect(report.nodes[1]!.agent!.controlNodes).toEqual([{ controlNode: xmppId, up: true, state: 'established', endOfRibReceived: expect.any(Boolean) }]);

    // The book's layout: its header words at its columns' order, a row per process, sections.
    const text = await status([...controlArgs, '--agent', agents[0]!.url, '--agent', agents[1]!.url]);
    expect(text.code).toBe(0);
    const lines = text.out.split('\n');
    expect(lines[0]).toMatch(/^Pod +Service +Original Name +State +Id +Status$/);
    const statusCol = lines[0]!.indexOf('Status');
    expect(lines[1]).toMatch(/^control +control +weft control +active +127\.0\.0\.1 +Number of connections: 3, Expected: 3 \(BGP peers established: 1\/1, XMPP agents: 2\/2, \d+ routing instances\)$/);
    expect(lines[1]!.indexOf('Number of')).toBe(statusCol);
    expect(lines[2]).toMatch(new RegExp(`^vrouter +agent +weft agent +active +cent222 +XMPP ${xmppId} up`));
    expect(lines[3]).toMatch(/^vrouter +agent +weft agent +active +cent333 /);
    expect(text.out).toContain('\n== weft control ==\ncontrol: active\n\n== weft vrouter cent222 ==\nagent: active\n\n== weft vrouter cent333 ==\nagent: active\n');
  });

  it('an agent that stops is missing at the control node and inactive itself; the exit status is 1', async () => {
    const gone = agents[1]!;
    await gone.stop();
    await until('cent333 gone at the control node', () => !node.xmpp.agentNames().includes('cent333'));

    const { code, report } = await statusJson([...controlArgs, '--agent', agents[0]!.url, '--agent', gone.url]);
    expect(code).toBe(1);
    const [c, a222, a333] = report.nodes;
    expect(c).toMatchObject({ state: 'initializing', reason: 'Number of connections: 2, Expected: 3 Missing: XMPP:cent333' });
    expect(c!.control!.xmpp!.agents).toEqual(['cent222']);
    expect(a222).toMatchObject({ id: 'cent222', state: 'active' });
    expect(a333).toMatchObject({ id: '-', state: 'inactive', reason: `${gone.url}: connection refused` });

    const text = await status(controlArgs);
    expect(text.code).toBe(1);
    expect(text.out).toContain('== weft control ==\ncontrol: initializing (Number of connections: 2, Expected: 3 Missing: XMPP:cent333)\n');

    // The real command line: same judgement, same exit status.
    const bin = path.join(REPO, 'bin/weft.js');
    expect(existsSync(path.join(REPO, 'dist/src/cli/status.js')), 'npm run build first').toBe(true);
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, 'status', ...controlArgs, '--json'], { timeout: 20_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout });
      });
    });
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as StatusReport).nodes[0]!.control!.missing).toEqual(['XMPP:cent333']);
  });

  it('with the control node stopped it is inactive (connection refused) and the agent says its XMPP is down', async () => {
    const { introspectUrl } = node;
    await node.stop();
    nodeStopped = true;
    const a = agents[0]!;
    await until('cent222 notices', () => a.agent.controlNodes()[0]?.state !== 'established');

    const { code, report } = await statusJson([...controlArgs, '--agent', a.url]);
    expect(code).toBe(1);
    expect(report.nodes[0]).toMatchObject({ pod: 'control', id: '-', state: 'inactive', reason: `${introspectUrl}: connection refused` });
    expect(report.nodes[1]).toMatchObject({ id: 'cent222', state: 'initializing' });
    expect(report.nodes[1]!.reason).toMatch(/^XMPP:control-node:127\.0\.0\.1:\d+ connection down$/);
  });
});

describe('weft status --lab: asked inside each namespace', () => {
  const NS = { control: 'h10st-control', agent: 'h10st-cent222', missing: 'h10st-cent333' };
  let dir = '';
  let stateFile = '';

  beforeAll(async () => {
    requireRootAndTools(['ip', 'nsenter']);
    dir = mkdtempSync(path.join(tmpdir(), 'weft-status-lab-'));
    for (const ns of [NS.control, NS.agent]) {
      run(['ip', 'netns', 'del', ns]); // left by a killed run
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // The lab's model with BGP and XMPP on the namespace's loopback; introspect and REST keep
    // their default ports, which is where `weft status --lab` looks (from this file).
    const config = path.join(dir, 'lab.yaml');
    writeFileSync(
      config,
      readFileSync(LAB, 'utf8')
        .replace('bgp: { address: 10.169.25.19, port: 179 }', 'bgp: { address: 127.0.0.1, port: 0 }')
        .replace('xmpp: { address: 10.169.25.19, port: 5269 }', 'xmpp: { address: 127.0.0.1, port: 5269 }'),
    );
    const control = start(NS.control, [process.execPath, WEFT, 'control', '--config', config], 'control', true);
    // An agent's API answering as an agent whose control node is not there.
    const body = { name: 'cent222', vhost: '10.169.25.20', controlNodes: [{ id: '127.0.0.1:5269', state: 'connect-wait', sessions: 0, endOfRibReceived: false }] };
    const js = `require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');r.end(q.url==='/status'?${JSON.stringify(JSON.stringify(body))}:'{}')}).listen(8085,'127.0.0.1',()=>console.log('listening'))`;
    const agentApi = start(NS.agent, [process.execPath, '-e', js], 'agent API', true);
    await Promise.all([control.ready(/REST API on/), agentApi.ready(/listening/)]);
    stateFile = path.join(dir, 'state.json');
    const proc = (name: string, ns: string) => ({ name, ns, pid: 0, startTime: '', argv: [], log: '' });
    writeFileSync(
      stateFile,
      JSON.stringify({ version: 1, config, phase: 'up', namespaces: Object.values(NS), links: [], pods: [], procs: [proc('agent-cent222', NS.agent), proc('control', NS.control), proc('gateway', 'h10st-gw'), proc('agent-cent333', NS.missing)] }),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    for (const ns of [NS.control, NS.agent]) run(['ip', 'netns', 'del', ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows every node of the lab, each as its own namespace answered', async () => {
    const r = await labStatus(stateFile);
    if (typeof r === 'string') throw new Error(r);
    expect(r.ok).toBe(false);
    expect(r.nodes.map((n) => [n.namespace, n.pod, n.id, n.state])).toEqual([
      [NS.control, 'control', '10.169.25.19', 'initializing'],
      [NS.agent, 'vrouter', 'cent222', 'initializing'],
      [NS.missing, 'vrouter', 'cent333', 'inactive'],
    ]);
    expect(r.nodes[0]!.reason).toBe('Number of connections: 0, Expected: 3 Missing: BGP:192.168.0.204, XMPP:cent222, XMPP:cent333');
    expect(r.nodes[0]!.control).toMatchObject({ introspect: 'http://127.0.0.1:8083', api: 'http://127.0.0.1:8082' });
    expect(r.nodes[1]!.reason).toBe('XMPP:control-node:127.0.0.1:5269 connection down');
    expect(r.nodes[2]!.reason).toMatch(new RegExp(`^no answer from namespace ${NS.missing}: nsenter: .*${NS.missing}`));
  });

  it('says why when there is no lab', async () => {
    expect(await labStatus(path.join(dir, 'none.json'))).toMatch(/^no lab here/);
  });
});
