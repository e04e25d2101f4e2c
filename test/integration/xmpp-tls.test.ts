/**
 * Issue 4, "stream negotiation (plain, and TLS with certificates when configured)": a control
 * node whose model sets `global.xmpp.tls` (certificates made here with openssl) on 127.0.0.1.
 * (a) an agent scripted from the dialect notes (3.2) negotiates STARTTLS by hand with node:tls
 * and exchanges routes; (b) weft's own agents, configured from an agent file with `tls`, do
 * the same; (c) a plain agent is refused with a stream error and the others carry on; (d) a
 * certificate the CA did not sign is refused, on both sides; (e) tshark, capturing on lo,
 * sees XMPP up to `<proceed/>` and TLS after it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { XmppClientAdapter, type ClientEvent } from '../../src/agent/client-adapter.js';
import { agentConfigSchema } from '../../src/agent/config.js';
import { agentConfigOf } from '../../src/agent/service.js';
import { AgentXmppClient, reconnectDelayMs, type ClientTls } from '../../src/agent/xmpp-client.js';
import { ConfigError } from '../../src/config/issues.js';
import { loadConfigFile } from '../../src/config/load.js';
import { loadControlModel } from '../../src/control/config-model.js';
import { ControlNode } from '../../src/control/node.js';
import type { EstablishedEvent, SessionDownEvent } from '../../src/control/xmpp/server.js';
import { agentHeader, publishPair, subscribeIq } from '../unit/control/doc-stanzas.js';
import { requireTshark } from '../support/tshark.js';

const HOST = '127.0.0.1';
const POD_VN = 'default-domain:admin:pod-network';
const POD = `${POD_VN}:pod-network`;
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** Section 3.2 step 1, as weft writes it (the declaration as the C++ writer, no line breaks). */
const FEATURES = `<?xml version="1.0"?><stream:features><starttls xmlns="${TLS_NS}"><required/></starttls></stream:features>`;
const CN_HEADER_END = 'xmlns:stream="http://etherx.jabber.org/streams" >';

function openssl(dir: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`openssl ${args.join(' ')} failed (is the openssl package installed?): ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  }
}

/** A CA and leaf certificates it signs, EC P-256, valid a day: `<name>.pem` / `<name>.key`. */
function makePki(dir: string, ca: string, leaves: string[]): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '1', '-subj', `/CN=${ca}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  writeFileSync(path.join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const leaf of leaves) {
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${leaf}`);
    openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${leaf}.pem`, '-days', '1', '-extfile', 'leaf.ext');
  }
}

async function until(what: string, ok: () => boolean, ms = 10_000, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An agent from the dialect notes alone: raw TCP, the notes' XML, STARTTLS by hand (3.2) with
 * node:tls; nothing of weft's. Records what it reads, plain and then over TLS.
 */
class HandAgent {
  readonly tcp: net.Socket;
  sock: net.Socket;
  text = '';
  closed = false;
  tlsError: Error | undefined;

  constructor(readonly name: string, port: number) {
    this.tcp = net.connect({ host: HOST, port });
    this.sock = this.tcp;
    this.listen(this.tcp);
  }

  private listen(s: net.Socket): void {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      if (this.sock === s) this.text += d;
    });
    s.on('close', () => {
      if (this.sock === s) this.closed = true;
    });
    s.on('error', (e) => {
      if (s !== this.tcp) this.tlsError ??= e;
    });
  }

  send(xml: string): void {
    this.sock.write(xml);
  }

  until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
    return until(`${this.name}: ${what}`, ok, ms, () => `; got ${JSON.stringify(this.text.slice(-2000))}`);
  }

  async connected(): Promise<void> {
    if (!this.tcp.connecting) return;
    await new Promise<void>((resolve) => this.tcp.once('connect', () => resolve()));
  }

  /** 3.2 steps 1-3: headers, features, `<starttls/>`, `<proceed/>`; the plain text read so far. */
  async startTls(): Promise<string> {
    await this.connected();
    this.send(agentHeader(this.name));
    await this.until('header and features', () => this.text.includes('</stream:features>'));
    this.send(`<starttls xmlns="${TLS_NS}"/>`);
    await this.until('proceed', () => this.text.includes(`<proceed xmlns="${TLS_NS}"/>`));
    const plain = this.text;
    this.text = '';
    return plain;
  }

  /** The handshake over the same TCP connection (PEM file paths); resolves once it is done or failed. */
  handshake(o: { cert?: string; key?: string; ca?: string }): Promise<tls.TLSSocket> {
    // Read by the TLS layer from here on: stop the plain listener first.
    this.tcp.removeAllListeners('data');
    const t = tls.connect({
      socket: this.tcp,
      ...(o.cert ? { cert: readFileSync(o.cert), key: readFileSync(o.key!) } : {}),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
      rejectUnauthorized: o.ca !== undefined,
      checkServerIdentity: () => undefined,
    });
    this.sock = t;
    this.listen(t);
    return new Promise((resolve) => {
      t.once('secureConnect', () => resolve(t));
      t.once('error', () => resolve(t));
    });
  }

  /** 3.2 step 4: headers again over TLS, then the whitespace; Established. */
  async restart(): Promise<void> {
    this.send(agentHeader(this.name));
    await this.until('the header over TLS', () => this.text.includes(CN_HEADER_END));
    this.send(' ');
  }

  /** Next hops (`address/label`) per item `node id`, latest wins; null once retracted. */
  routes(): Map<string, string[] | null> {
    const m = new Map<string, string[] | null>();
    for (const msg of this.text.matchAll(/<message[\s\S]*?<\/message>/g)) {
      const node = /<items node="([^"]+)">/.exec(msg[0])?.[1];
      if (!node) continue;
      for (const it of msg[0].matchAll(/<item id="([^"]+)">([\s\S]*?)<\/item>/g)) {
        m.set(`${node} ${it[1]}`, [...it[2]!.matchAll(/<address>([^<]*)<\/address>(?:<mac\/>|<mac>[^<]*<\/mac>)<label>(\d+)<\/label>/g)].map((h) => `${h[1]}/${h[2]}`));
      }
      for (const r of msg[0].matchAll(/<retract id="([^"]+)"\s*\/>/g)) m.set(`${node} ${r[1]}`, null);
    }
    return m;
  }

  destroy(): void {
    this.sock.destroy();
    this.tcp.destroy();
  }
}

describe('XMPP over TLS between agents and the control node (127.0.0.1)', () => {
  let dir: string;
  let node: ControlNode;
  const established: EstablishedEvent[] = [];
  const downs: SessionDownEvent[] = [];
  const hands: HandAgent[] = [];
  const agents: Agent[] = [];
  const adapters: XmppClientAdapter[] = [];
  const pem = (f: string) => path.join(dir, f);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'weft-xmpp-tls-'));
    makePki(dir, 'ca', ['cn-host-1', 'compute-1', 'compute-2', 'compute-3']);
    // (d): the same names under a CA the control node does not know.
    makePki(dir, 'rogue-ca', ['rogue-compute']);
    // Paths relative to the model file: the schema takes them from its directory.
    writeFileSync(
      pem('control.yaml'),
      `global:
  router-id: ${HOST}
  bgp: { address: ${HOST}, port: 0 }
  xmpp:
    address: ${HOST}
    port: 0
    tls: { cert: cn-host-1.pem, key: cn-host-1.key, ca: ca.pem }
  introspect: { address: ${HOST}, port: 0 }
  rest: { address: ${HOST}, port: 0 }
projects:
  - name: default-domain:admin
virtual-networks:
  - name: ${POD_VN}
    id: 5
    subnets: [{ prefix: 10.1.1.0/24 }]
`,
    );
    const model = await loadControlModel(pem('control.yaml'));
    expect(model.global.xmpp.tls).toEqual({ cert: pem('cn-host-1.pem'), key: pem('cn-host-1.key'), ca: pem('ca.pem') });
    node = new ControlNode(model, { xmpp: { eorQuietMs: 200, eorRetryMs: 50 } });
    node.xmpp.on('established', (e) => established.push(e));
    node.xmpp.on('down', (e) => downs.push(e));
    await node.start();
  });

  afterAll(async () => {
    for (const h of hands) h.destroy();
    for (const a of agents) a.stop();
    for (const a of adapters) a.stop();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function hand(name: string): HandAgent {
    const h = new HandAgent(name, node.xmppPort);
    hands.push(h);
    return h;
  }

  /** A weft agent from an agent config file, as `weft agent --config` reads it. */
  async function weftAgent(name: string, vhost: string, tlsYaml: string): Promise<Agent> {
    const file = pem(`${name}.yaml`);
    writeFileSync(file, `name: ${name}\nvhost: { address: ${vhost} }\ncontrol-nodes: [{ address: ${HOST}, port: ${node.xmppPort} }]\n${tlsYaml}`);
    const config = agentConfigOf(await loadConfigFile(file, agentConfigSchema));
    const a = new Agent({ ...config, client: { ...config.client, reconnectDelay: (n) => Math.ceil(reconnectDelayMs(n) / 20) } });
    agents.push(a);
    return a;
  }

  /** A lone weft client + adapter (no vRouter), for the refusals. */
  function weftClient(name: string, clientTls: ClientTls | undefined): { client: AgentXmppClient; events: ClientEvent[] } {
    let attempts = 0;
    const client = new AgentXmppClient({
      agent: name,
      vhostIp: '10.0.0.99',
      ...(clientTls ? { tls: clientTls } : {}),
      // One attempt is all these need: the next would be a minute away.
      reconnectDelay: () => (attempts++ === 0 ? 0 : 60_000),
    });
    const events: ClientEvent[] = [];
    const adapter = new XmppClientAdapter(client, { host: HOST, port: node.xmppPort }, (e) => events.push(e));
    adapters.push(adapter);
    adapter.start();
    return { client, events };
  }

  let h1: HandAgent;
  let A: Agent;
  let B: Agent;

  it('(a) a hand-scripted agent negotiates STARTTLS as section 3.2 shows, then subscribes, publishes and gets items over TLS', async () => {
    h1 = hand('compute-1');
    const plain = await h1.startTls();
    expect(plain).toBe(
      `<stream:stream from="weft-control" to="compute-1" id="++123" version="1.0" xml:lang="en" xmlns="jabber:client" ${CN_HEADER_END}${FEATURES}<proceed xmlns="${TLS_NS}"/>`,
    );
    const t = await h1.handshake({ cert: pem('compute-1.pem'), key: pem('compute-1.key'), ca: pem('ca.pem') });
    expect(t.authorized).toBe(true);
    expect(t.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    expect(t.getPeerCertificate().subject.CN).toBe('cn-host-1');
    await h1.restart();
    // The header again, nothing else (no features after TLS, as the C++ state machine).
    expect(h1.text).toBe(`<stream:stream from="weft-control" to="compute-1" id="++123" version="1.0" xml:lang="en" xmlns="jabber:client" ${CN_HEADER_END}`);
    await until('established', () => established.some((e) => e.agent === 'compute-1'));
    expect(established.find((e) => e.agent === 'compute-1')).toEqual({ agent: 'compute-1', remoteAddress: HOST, tls: t.getProtocol() });

    h1.send(subscribeIq('compute-1', POD, 3));
    h1.send(publishPair({ agent: 'compute-1', vrf: POD, prefix: '10.1.1.3/32', nextHop: '10.0.0.11', label: 25 }));
    await h1.until('its own route reflected and end-of-RIB', () => h1.routes().get(`1/1/${POD} 10.1.1.3/32`)?.[0] === '10.0.0.11/25' && h1.text.includes('<items node="0/0/EndOfRib"></items>'));
  });

  it('(b) weft agents configured with tls negotiate it and exchange routes with each other and the scripted agent', async () => {
    const agentTls = (n: string) => `tls: { cert: ${n}.pem, key: ${n}.key, ca: ca.pem }\n`;
    A = await weftAgent('compute-2', '127.0.0.12', agentTls('compute-2'));
    B = await weftAgent('compute-3', '127.0.0.13', agentTls('compute-3'));
    A.start();
    B.start();
    const a = A.addPod({ name: 'pod-a/eth0', network: POD, ip: '10.1.1.4', plen: 24, mac: '02:00:0a:01:01:04' });
    B.addPod({ name: 'pod-b/eth0', network: POD, ip: '10.1.1.5', plen: 24, mac: '02:00:0a:01:01:05' });
    const route = (x: Agent, prefix: string) => x.routes.get(x.vrfOf(POD)!, prefix);
    await until('B learns A\'s pod and the scripted agent\'s route', () => route(B, '10.1.1.4/32') !== undefined && route(B, '10.1.1.3/32') !== undefined, 10_000, () => JSON.stringify({ a: A.controlNodes(), downs }));
    await until('A learns B\'s pod', () => route(A, '10.1.1.5/32') !== undefined);
    await h1.until('both pods as items', () => h1.routes().get(`1/1/${POD} 10.1.1.4/32`)?.[0] === `127.0.0.12/${a.label}` && h1.routes().has(`1/1/${POD} 10.1.1.5/32`));
    for (const name of ['compute-2', 'compute-3']) expect(established.find((e) => e.agent === name)?.tls).toMatch(/^TLSv1\.[23]$/);
    expect(A.controlNodes()[0]).toMatchObject({ state: 'established', sessions: 1 });
  });

  it('(c) a plain agent is refused with a policy-violation stream error; the TLS sessions carry on', async () => {
    // By hand: header, features, then a subscription instead of <starttls/>.
    const p = hand('compute-9');
    await p.connected();
    p.send(agentHeader('compute-9'));
    await p.until('features', () => p.text.endsWith(FEATURES));
    p.send(subscribeIq('compute-9', POD, 1));
    await p.until('stream error and close', () => p.closed);
    expect(p.text).toContain('<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    expect(p.text.endsWith('</stream:stream>')).toBe(true);
    expect(downs.find((d) => d.agent === 'compute-9')).toMatchObject({ reason: 'stream-error', error: { condition: 'policy-violation' } });

    // weft's own client without tls: it takes the header as Established (3.1) and is refused.
    const { client, events } = weftClient('compute-8', undefined);
    await until('the plain client refused', () => downs.some((d) => d.agent === 'compute-8'));
    expect(downs.find((d) => d.agent === 'compute-8')).toMatchObject({ reason: 'stream-error', error: { condition: 'policy-violation' } });
    await until('the client sees the stream error', () => events.some((e) => e.type === 'down'));
    expect(events.find((e) => e.type === 'down')).toMatchObject({ reason: 'peer-stream-error', error: { condition: 'policy-violation' } });
    expect(client.lastFailure).toMatch(/^peer-stream-error/);
    expect(node.xmpp.agentNames().sort()).toEqual(['compute-1', 'compute-2', 'compute-3']);

    // The others still talk: a new route from the scripted agent reaches both weft agents.
    h1.send(publishPair({ agent: 'compute-1', vrf: POD, prefix: '10.1.1.33/32', nextHop: '10.0.0.11', label: 26 }));
    await until('the new route at A and B', () => [A, B].every((x) => x.routes.get(x.vrfOf(POD)!, '10.1.1.33/32') !== undefined));
  });

  it('(d) a certificate the CA did not sign is refused (the hand agent, and weft\'s client); so is no certificate', async () => {
    const r = hand('rogue-compute');
    await r.startTls();
    await r.handshake({ cert: pem('rogue-compute.pem'), key: pem('rogue-compute.key'), ca: pem('ca.pem') });
    // Under TLS 1.3 the client finishes first; the CN's verdict comes as an alert after.
    r.send(agentHeader('rogue-compute'));
    await r.until('closed', () => r.closed);
    expect(r.text).toBe('');
    await until('the CN reports it', () => downs.some((d) => d.reason === 'tls-failed' && d.agent === 'rogue-compute'));
    expect(downs.find((d) => d.agent === 'rogue-compute')?.detail).toMatch(/certificate|CERT/i);

    const none = hand('certless');
    await none.startTls();
    await none.handshake({ ca: pem('ca.pem') });
    none.send(agentHeader('certless'));
    await none.until('closed', () => none.closed);
    await until('the CN reports it', () => downs.some((d) => d.reason === 'tls-failed' && d.agent === 'certless'));
    expect(downs.find((d) => d.agent === 'certless')?.detail).toMatch(/certificate|CERT/i);

    // weft's client with that certificate: the CN closes once the handshake is done.
    const rogue = weftClient('rogue-weft', { cert: pem('rogue-compute.pem'), key: pem('rogue-compute.key'), ca: pem('ca.pem') });
    await until('the CN refuses the weft client', () => downs.some((d) => d.agent === 'rogue-weft'));
    expect(downs.find((d) => d.agent === 'rogue-weft')).toMatchObject({ reason: 'tls-failed', detail: expect.stringMatching(/^agent certificate not accepted: .*certificate/i) });
    await until('the weft client gives up this attempt', () => rogue.client.lastFailure !== undefined);
    expect(rogue.client.sessionCount).toBe(0);
    expect(rogue.client.state).toBe('connect-wait');

    // And the other way: an agent whose CA did not sign the CN's certificate does not go on.
    const wary = weftClient('compute-7', { cert: pem('compute-2.pem'), key: pem('compute-2.key'), ca: pem('rogue-ca.pem') });
    await until('the weft client refuses the CN', () => wary.client.lastFailure !== undefined);
    expect(wary.client.lastFailure).toMatch(/^tls-failed: .*(certificate|CERT)/i);
    expect(downs.filter((d) => d.agent === 'compute-7').every((d) => d.reason === 'tls-failed' || d.reason === 'peer-closed')).toBe(true);

    expect(node.xmpp.agentNames().sort()).toEqual(['compute-1', 'compute-2', 'compute-3']);
    h1.send(publishPair({ agent: 'compute-1', vrf: POD, prefix: '10.1.1.33/32', nextHop: '10.0.0.11', label: 26 }, 'dissociate'));
    await until('the withdrawal at A', () => A.routes.get(A.vrfOf(POD)!, '10.1.1.33/32') === undefined);
  });

  it('(e) tshark decodes the session as XMPP STARTTLS, then a TLS handshake, and no XMPP in clear after it', async () => {
    requireTshark();
    const pcap = pem('starttls.pcap');
    const port = node.xmppPort;
    const cap = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    cap.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<void>((resolve) => cap.once('exit', () => resolve()));
    try {
      await until('tshark capturing', () => err.includes('Capturing on'), 20_000, () => err);
      // dumpcap says so a moment before its filter is on the socket.
      await new Promise((r) => setTimeout(r, 500));
      const h = hand('compute-6');
      await h.startTls();
      await h.handshake({ cert: pem('compute-2.pem'), key: pem('compute-2.key'), ca: pem('ca.pem') });
      await h.restart();
      h.send(subscribeIq('compute-6', POD, 9));
      await h.until('items', () => h.routes().has(`1/1/${POD} 10.1.1.3/32`));
      h.destroy();
      // Let the last segments reach the capture before stopping it.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      cap.kill('SIGINT');
      await exited;
    }
    const rows = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${port},xmpp`, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Protocol', '-e', 'xmpp.starttls', '-e', 'xmpp.proceed', '-e', 'tls.handshake.type'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const frameOf = (ok: (r: string[]) => boolean) => Number(rows.find(ok)?.[0] ?? -1);
    const starttls = frameOf((r) => r[2] !== '');
    const proceed = frameOf((r) => r[3] !== '');
    // Handshake types: 1 ClientHello, 2 ServerHello.
    const clientHello = frameOf((r) => r[4]!.split(',').includes('1'));
    const serverHello = frameOf((r) => r[4]!.split(',').includes('2'));
    expect(starttls).toBeGreaterThan(0);
    // The headers and features before it, in clear.
    expect(rows.filter((r) => Number(r[0]) < starttls && r[1] === 'XMPP/XML').length).toBeGreaterThanOrEqual(2);
    expect(proceed).toBeGreaterThan(starttls);
    expect(clientHello).toBeGreaterThan(proceed);
    expect(serverHello).toBeGreaterThan(clientHello);
    // After the handshake nothing is dissected as XMPP: the second header and the routes are encrypted.
    expect(rows.filter((r) => Number(r[0]) > serverHello && r[1] === 'XMPP/XML')).toEqual([]);
    expect(rows.filter((r) => Number(r[0]) > serverHello && r[1]!.startsWith('TLS')).length).toBeGreaterThan(2);
  });

  it('config errors name the file, line and key: unreadable files, a key that is not the cert\'s, cert without key', async () => {
    const bad = pem('bad-control.yaml');
    writeFileSync(
      bad,
      `global:
  router-id: ${HOST}
  xmpp:
    tls:
      cert: cn-host-1.pem
      key: compute-1.key
`,
    );
    const err = await loadControlModel(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).message.split('\n');
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^${bad}:6:12: global\\.xmpp\\.tls\\.key: does not go with cert: .*key values mismatch`))]);
    writeFileSync(bad, `global:\n  router-id: ${HOST}\n  xmpp:\n    tls: { cert: cn-host-1.pem, key: cn-host-1.key, ca: missing.pem }\n`);
    const err1 = await loadControlModel(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err1 as ConfigError).message).toBe(`${bad}:4:57: global.xmpp.tls.ca: cannot read ${pem('missing.pem')}: ENOENT`);

    const badAgent = pem('bad-agent.yaml');
    writeFileSync(badAgent, `name: x\nvhost: { address: 10.0.0.1 }\ncontrol-nodes: [{ address: ${HOST} }]\ntls:\n  cert: compute-1.pem\n  ca: compute-1.key\n`);
    const err2 = await loadConfigFile(badAgent, agentConfigSchema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err2).toBeInstanceOf(ConfigError);
    expect((err2 as ConfigError).message).toContain(`${badAgent}:6:7: tls.ca: ${pem('compute-1.key')} holds no PEM certificate`);
    writeFileSync(badAgent, `name: x\nvhost: { address: 10.0.0.1 }\ncontrol-nodes: [{ address: ${HOST} }]\ntls: { cert: compute-1.pem }\n`);
    const err3 = await loadConfigFile(badAgent, agentConfigSchema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err3 as ConfigError).message).toBe(`${badAgent}:4:14: tls.cert: given without key: cert and key go together`);
  });
});
