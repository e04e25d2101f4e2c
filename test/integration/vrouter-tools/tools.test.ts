/**
 * `weft vif|rt|nh|mpls|flow` against a live agent: two agents and the control node on
 * 127.0.0.1 (the book's cent222 = A and cent333 = B, same fabric addresses and MACs), A's
 * tables served by a small node:http server mounting agentIntrospectRoutes, the CLI run
 * in-process. Outputs are compared with the book's printouts of the same situations: fixed
 * lines word for word, table rows column for column (ids and counters differ by nature).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type PodPort } from '../../../src/agent/agent.js';
import { IntrospectRouteError, agentIntrospectRoutes } from '../../../src/agent/introspect-routes.js';
import { main } from '../../../src/cli/main.js';
import { InstanceRouteHub } from '../../../src/control/instance-routes.js';
import { XmppServer } from '../../../src/control/xmpp/server.js';
import { VIF_LEGEND, natPolicy, process } from '../../../src/vrouter/index.js';
import { nhSnapshot } from '../../../src/vrouter/snapshot.js';
import { FABRIC_MAC, GATEWAY, NODE_A, NODE_B, UNDERLAY_MAC, fromPod, mplsOverGreFrame, tcpPacket } from '../../unit/vrouter/lab.js';
import { loopbackAgent } from '../../support/loopback-agent.js';

const BOOK = readFileSync(new URL('../../../../shared/docs/seed-book-kubernetes-contrail-day-one.txt', import.meta.url), 'utf8').split('\n');

/** Book lines first..last (1-based, inclusive), trailing blanks and "#<---" markers removed. */
function book(first: number, last = first): string[] {
  return BOOK.slice(first - 1, last).map((l) => l.replace(/\s*#<---\s*$/, '').trimEnd());
}

/** Words of a line with where they start and end. */
function words(line: string): { w: string; start: number; end: number }[] {
  return [...line.matchAll(/\S+/g)].map((m) => ({ w: m[0], start: m.index, end: m.index + m[0].length }));
}

/**
 * A table row laid out like the book's: same number of words, each in its column, left- or
 * right-aligned as `align` says ('l' compares starts, 'r' ends).
 */
function expectSameColumns(ours: string, theirs: string, align: string): void {
  const a = words(ours);
  const b = words(theirs);
  expect(a.map((x) => x.w).length, `${ours}\nvs\n${theirs}`).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    const side = align[i] === 'l' ? 'start' : 'end';
    expect(a[i]![side], `word ${i} '${a[i]!.w}' of\n${ours}\nvs '${b[i]!.w}' of\n${theirs}`).toBe(b[i]![side]);
  }
}

/** Numbers made '#', for lines whose wording is fixed and values vary. */
function shape(line: string): string {
  return line.replace(/\d+/g, '#');
}

const POD_NET = 'default-domain:k8s-default:pod-network:pod-network';
const OTHER_NET = 'default-domain:k8s-default:other:other';
const FIP_VRF = 5;
const FIP = '101.101.101.1';
const HOST = '15.15.15.2';

/** The book's pods: the ingress (FIP target) and the web backend on A, a service address on B. */
const INGRESS: PodPort = { name: 'ingress/eth0', network: POD_NET, ip: '10.47.255.238', plen: 12, mac: '02:bd:e8:bc:46:9a', osName: 'tapeth0-baa392', vifIndex: 4 };
const WEB_A: PodPort = { name: 'web-a/eth0', network: POD_NET, ip: '10.47.255.236', plen: 12, mac: '02:30:51:c0:fc:9e', osName: 'tapeth0-304431', vifIndex: 8 };
/** Same address behind B as well: the control node makes it ECMP, so A installs a Composite. */
const WEB_B: PodPort = { name: 'web-b/eth0', network: POD_NET, ip: '10.47.255.236', plen: 12, mac: '02:30:51:c0:fc:9f' };
const SVC_B: PodPort = { name: 'svc/eth0', network: POD_NET, ip: '10.99.225.17', plen: 12, mac: '02:99:e1:11:00:01' };

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the agent's HTTP server does with the routes: GET path?query -> JSON or {error}. */
function serve(routes: ReturnType<typeof agentIntrospectRoutes>): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const h = routes[url.pathname];
    let status = 200;
    let body: unknown;
    if (!h) [status, body] = [404, { error: `no ${url.pathname}` }];
    else {
      try {
        body = h(url.searchParams);
      } catch (e) {
        if (!(e instanceof IntrospectRouteError)) throw e;
        [status, body] = [e.status, { error: e.message }];
      }
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}

async function weft(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('weft vif/rt/nh/mpls/flow on agent A, in the book\'s layouts', () => {
  let cn: XmppServer;
  let cnPort = 0;
  let api: http.Server;
  let url = '';
  const agents: Agent[] = [];
  let A: Agent;
  let B: Agent;

  const run = (...argv: string[]) => weft(...argv, '--url', url);
  const lines = async (...argv: string[]) => {
    const r = await run(...argv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return r.out.split('\n');
  };

  function agent(name: string, vhostIp: string): Agent {
    const a = loopbackAgent({ name, vhostIp, cnPort, fabricMac: FABRIC_MAC, underlayMac: UNDERLAY_MAC });
    agents.push(a);
    return a;
  }

  beforeAll(async () => {
    cn = new XmppServer({ hub: new InstanceRouteHub(), host: '127.0.0.1', port: 0, serverHost: 'cn-host-1', eorQuietMs: 150, eorRetryMs: 50 });
    cnPort = (await cn.listen()).port;
    A = agent('cent222', NODE_A);
    B = agent('cent333', NODE_B);
    // The pod network is VRF 2 on A, as in the book.
    A.addNetwork(OTHER_NET);
    A.start();
    B.start();
    A.addPod(INGRESS);
    A.addPod(WEB_A);
    B.addPod(WEB_B);
    B.addPod(SVC_B);
    await until('A installs the ECMP and the remote routes', () => {
      const t = A.router.vrfs.get(2)?.routes;
      const ecmp = t?.get(`${WEB_A.ip}/32`);
      return A.router.nhs.get(ecmp?.nh ?? -1)?.type === 'composite' && t?.get(`${SVC_B.ip}/32`) !== undefined;
    });

    // The ingress's floating IP, reached from an Internet host through the gateway over
    // MPLSoGRE (book chapter 7): the FIP network is VRF 5.
    const r = A.router;
    r.policy = natPolicy({ floatingIps: [{ fixedIp: INGRESS.ip, vrf: 2, fip: FIP, fipVrf: FIP_VRF }] });
    const gre = r.tunnelTo(GATEWAY, 'MPLSoGRE');
    const ingress = A.pod(INGRESS.name)!;
    r.vrfs.ensure(FIP_VRF).routes.add({ prefix: '15.15.15.0/24', nh: gre.id, label: 299808 });
    r.vrfs.ensure(FIP_VRF).routes.add({ prefix: `${FIP}/32`, nh: ingress.nh, label: ingress.label, proxyArp: true });
    process(r, mplsOverGreFrame(ingress.label, tcpPacket(HOST, FIP, 42786, 80, { syn: true })), 0);
    process(r, fromPod(INGRESS, tcpPacket(INGRESS.ip, HOST, 80, 42786, { syn: true, ack: true })), ingress.vif.index);
    process(r, mplsOverGreFrame(ingress.label, tcpPacket(HOST, FIP, 42786, 80, { ack: true })), 0);

    api = serve(agentIntrospectRoutes(A));
    await new Promise<void>((res) => api.listen(0, '127.0.0.1', res));
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const a of agents) a.stop();
    await new Promise((r) => api?.close(r));
    await cn?.close();
  });

  it('vif --get 8: the book\'s vif --get 8 (lines 5292-5300), counters aside', async () => {
    const out = await lines('vif', '--get', '8');
    expect(out[0]).toBe(book(5293)[0]);
    // The book elides the legend there ("......"); vif --get 4 (lines 8431-8441) prints it,
    // and format.test.ts checks VIF_LEGEND against it.
    expect(out.slice(1, 9)).toEqual(['', ...VIF_LEGEND, '']);
    const block = out.slice(9, 15);
    expect(block.slice(0, 3)).toEqual(book(5295, 5297));
    expect(block.slice(3).map(shape)).toEqual(book(5298, 5300).map(shape));
    expect(block.slice(3)).toEqual(['            RX packets:0  bytes:0 errors:0', '            TX packets:0  bytes:0 errors:0', '            Drops:0']);
    expect(out.slice(15)).toEqual(['']);
  });

  it('vif --list: title, legend, fabric/vhost/pkt0 and both pods', async () => {
    const out = await lines('vif', '--list');
    expect(out.slice(0, 2)).toEqual(book(10609, 10610));
    expect(out.slice(2, 8)).toEqual(VIF_LEGEND);
    expect(out.filter((l) => l.startsWith('vif0/'))).toEqual([
      'vif0/0      OS: eth0',
      'vif0/1      OS: vhost0',
      'vif0/2      OS: pkt0',
      'vif0/4      OS: tapeth0-baa392',
      'vif0/8      OS: tapeth0-304431',
    ]);
    const i = out.indexOf('vif0/4      OS: tapeth0-baa392');
    // vif0/4 as book lines 8443-8445 print it, but holding the ingress's address (their line
    // 8445 has a stray leading blank) and the counters of the three FIP packets.
    expect(out[i]).toBe(book(8443)[0]);
    expect(out[i + 1]).toBe(book(8444)[0]!.replace('10.47.255.236', INGRESS.ip));
    expect(out[i + 2]).toBe(book(8445)[0]!.replace(/^ {13}/, ' '.repeat(12)));
    expect(out.slice(i + 3, i + 6).map(shape)).toEqual(book(10626, 10628).map(shape));
    expect(out[i + 3]).toMatch(/^ {12}RX packets:1  bytes:\d+ errors:0$/);
    expect(out[i + 4]).toMatch(/^ {12}TX packets:2  bytes:\d+ errors:0$/);
    expect(out.slice(out.indexOf('vif0/0      OS: eth0') + 1, out.indexOf('vif0/0      OS: eth0') + 3)).toEqual([
      `            Type:Physical HWaddr:${FABRIC_MAC} IPaddr:0.0.0.0`,
      '            Vrf:0 Mcast Vrf:0 Flags:L3L2VpEr QOS:-1 Ref:6',
    ]);
  });

  it('rt --dump 2: the book\'s header, one row per /32 in the book\'s columns', async () => {
    const out = await lines('rt', '--dump', '2');
    expect(out.slice(0, 3)).toEqual(book(8275, 8277));
    const rows = out.slice(3).filter((l) => l !== '');
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['10.47.255.236/32', '10.47.255.238/32', '10.99.225.17/32']);
    const bookRow = book(8278)[0]!;
    const svc = rows[2]!;
    expectSameColumns(svc, bookRow, 'lrrrrl');
    const tunnel = A.router.vrfs.get(2)!.routes.get(`${SVC_B.ip}/32`)!;
    expect(svc.split(/\s+/)).toEqual(['10.99.225.17/32', '0', 'LP', String(B.pod(SVC_B.name)!.label), String(tunnel.nh), '-']);
    expectSameColumns(rows[1]!, bookRow, 'lrrrrl');
    // The ECMP route has no label of its own (its members carry them): '-' in the label column.
    expect(rows[0]!.split(/\s+/).slice(1, 4)).toEqual(['0', 'P', '-']);
    expect(rows[0]!.indexOf('-')).toBe(bookRow.indexOf('38') + 1);
  });

  it('rt --get 10.99.225.17/32 --vrf 2: the book\'s lines 8273-8278, ids aside', async () => {
    const out = await lines('rt', '--get', '10.99.225.17/32', '--vrf', '2');
    expect(out.slice(0, 5)).toEqual(book(8273, 8277));
    expectSameColumns(out[5]!, book(8278)[0]!, 'lrrrrl');
    expect(out.slice(6)).toEqual(['']);
  });

  it('nh --get of the Tunnel: book nh --get 50 (lines 8281-8284), same addresses and L2 bytes', async () => {
    const id = A.router.vrfs.get(2)!.routes.get(`${SVC_B.ip}/32`)!.nh;
    const out = await lines('nh', '--get', String(id));
    expectSameColumns(out[0]!, book(8281)[0]!, 'llllll');
    expect(out[0]).toMatch(new RegExp(`^Id:${id} +Type:Tunnel +Fmly: AF_INET  Rid:0  Ref_cnt:${A.router.nhRefCount(id)} +Vrf:0$`));
    expect(out.slice(1, 4)).toEqual(book(8282, 8284));
  });

  it('nh --get of the Encap: book nh --get 26 (lines 8425-8428) with the same pod MAC and vif', async () => {
    const ingress = A.pod(INGRESS.name)!;
    const out = await lines('nh', '--get', String(ingress.nh));
    expectSameColumns(out[0]!, book(8425)[0]!, 'llllll');
    expect(out.slice(1, 4)).toEqual(book(8426, 8428));
  });

  it('nh --get of the Composite: book nh --get 87 (lines 5260-5273), members after it', async () => {
    const comp = A.router.vrfs.get(2)!.routes.get(`${WEB_A.ip}/32`)!.nh;
    const out = await lines('nh', '--get', String(comp));
    const want = book(5260, 5273);
    expect(out).toHaveLength(want.length + 1);
    // Composite
    expectSameColumns(out[0]!, want[0]!, 'llllll');
    expect(out.slice(1, 3)).toEqual(want.slice(1, 3));
    const tunnel = A.router.vrfs.get(2)!.routes.get(`${SVC_B.ip}/32`)!.nh;
    const local = A.pod(WEB_A.name)!;
    const members = [`${tunnel}(${B.pod(WEB_B.name)!.label})`, `${local.nh}(${local.label})`].sort();
    expect(out[3]).toMatch(/^ {14}Sub NH\(label\): \S+ \S+$/);
    expect(out[3]!.slice(29).split(' ').sort()).toEqual(members);
    // Its members: the MPLSoUDP tunnel to B and the local Encap to vif0/8, as blocks 51 and 37.
    const blocks = out.join('\n').split('\n\n').map((b) => b.split('\n'));
    const tBlock = blocks.find((b) => b[0]!.includes('Type:Tunnel'))!;
    const eBlock = blocks.find((b) => b[0]!.includes('Type:Encap'))!;
    expectSameColumns(tBlock[0]!, want[5]!, 'llllll');
    expect(tBlock.slice(1, 4)).toEqual(want.slice(6, 9));
    expectSameColumns(eBlock[0]!, want[10]!, 'llllll');
    // The agent marks pod next hops Policy (as the book's nh 26); nh 37 there is printed without it.
    expect(eBlock[1]).toBe(want[11]!.replace('Valid, ', 'Valid, Policy, '));
    expect(eBlock.slice(2, 4)).toEqual(want.slice(12, 14));
  });

  it('mpls --dump and mpls --get: book mpls --get 38 (lines 8418-8422)', async () => {
    const out = await lines('mpls', '--dump');
    expect(out.slice(0, 4)).toEqual(book(8418, 8421));
    const rows = out.slice(4).filter((l) => l !== '');
    expect(rows.map((l) => l.trim().split(/\s+/).map(Number))).toEqual(A.router.mpls.list().map((m) => [m.label, m.nh]));
    for (const r of rows) expectSameColumns(r, book(8422)[0]!, 'rr');
    const ingress = A.pod(INGRESS.name)!;
    const one = await lines('mpls', '--get', String(ingress.label));
    expect(one.slice(0, 4)).toEqual(book(8418, 8421));
    expect(one[4]!.trim().split(/\s+/)).toEqual([String(ingress.label), String(ingress.nh)]);
    expect(one.slice(5)).toEqual(['']);
  });

  it('flow --match 15.15.15.2: the book\'s FIP pair N(D) / N(S) (lines 8144-8168)', async () => {
    const out = await lines('flow', '--match', HOST);
    // Header and legend as book lines 9299-9312 (the same utility; 8146 wraps in print).
    // One CPU here, four in the book.
    const head = book(9299, 9312);
    expect(out.slice(0, 14).map(shape)).toEqual(head.map(shape).map((l) => l.replace('(Created Flows/CPU: # # # #)', '(Created Flows/CPU: #)').replace('[#.#.#.#]:#', '[#.#.#.#]:*')));
    expect(out[3]).toBe(`(Created Flows/CPU: ${A.router.flows.stats.created})(oflows 0)`);
    expect(out[9]).toBe(book(8157)[0]);
    const want = book(8160, 8168);
    // Pairs are listed by index, as the vRouter does: which one comes first follows the hash.
    const blocks = [out.slice(14, 18), out.slice(19, 23)];
    const fwdFirst = blocks[0]![0]!.includes(`${HOST}:`);
    const [fwd, rev] = fwdFirst ? [blocks[0]!, blocks[1]!] : [blocks[1]!, blocks[0]!];
    expect([out[18], out[23], out[24]]).toEqual(['', '', undefined]);
    // Index<=>rflow, source, proto, (V) in the book's columns; the addresses and VRFs are the book's.
    const cols = (l: string) => l.replace('<=>', ' <=> ');
    expectSameColumns(cols(fwd[0]!), cols(want[0]!), 'rllllr');
    expectSameColumns(cols(rev[0]!), cols(want[5]!), 'rllllr');
    // Columns are checked above; the digits of index and rflow vary with the hash.
    const noIndex = (l: string) => l.replace(/^ *\d+<=>\d+ */, '');
    expect([noIndex(fwd[0]!), fwd[1]]).toEqual([noIndex(want[0]!), want[1]]);
    expect([noIndex(rev[0]!), rev[1]]).toEqual([noIndex(want[5]!), want[6]]);
    // The detail: the same fields in the same words; where it wraps depends on the numbers'
    // widths (the utility breaks after column 68), so compare it unwrapped.
    const r = A.router;
    const ingress = A.pod(INGRESS.name)!;
    const gre = r.tunnelTo(GATEWAY, 'MPLSoGRE').id;
    const f = r.flows.lookup({ vrf: 2, proto: 6, src: HOST, dst: FIP, sport: 42786, dport: 80 })!;
    const b = r.flows.lookup({ vrf: 2, proto: 6, src: INGRESS.ip, dst: HOST, sport: 80, dport: 42786 })!;
    expect(fwd[0]).toMatch(new RegExp(`^ +${f.index}<=>${b.index} `));
    const unwrap = (ls: string[]) => ls.join(' ');
    expect(unwrap(fwd.slice(2))).toBe(
      `(Gen: 1, K(nh):${ingress.nh}, Action:N(D), Flags:, TCP:SSrEEr, QOS:-1, S(nh):${gre},  Stats:2/${f.bytes},  SPort ${f.udpSrcPort}, TTL 0, Sinfo ${GATEWAY})`,
    );
    expect(unwrap(rev.slice(2))).toBe(
      `(Gen: 1, K(nh):${ingress.nh}, Action:N(S), Flags:, TCP:SSrEEr, QOS:-1, S(nh):${ingress.nh},  Stats:1/${b.bytes},  SPort ${b.udpSrcPort}, TTL 0, Sinfo ${ingress.vif.index}.0.0.0)`,
    );
    expect(shape(unwrap(fwd.slice(2)))).toBe(shape(unwrap(want.slice(2, 4))));
    expect(shape(unwrap(rev.slice(2)))).toBe(shape(unwrap(want.slice(7, 9))));
    // Wrapped after a whole field, as the book's are.
    for (const e of [fwd, rev]) expect(e[2]).toMatch(/,$/);
  });

  it('flow -l lists both entries; --match with a port that matches nothing ends at the rule', async () => {
    const all = await lines('flow', '-l');
    expect(all.filter((l) => /^ +\d+<=>\d+ /.test(l))).toHaveLength(2);
    expect(all.some((l) => l.startsWith('Listing flows'))).toBe(false);
    expect(all.slice(9, 12)).toEqual(['', ...book(9311, 9312)]);
    const none = await lines('flow', '--match', `${HOST}:81`);
    // As book lines 9331-9334 (a match with no flows).
    expect(none.slice(10)).toEqual([`Listing flows matching ([${HOST}]:81)`, ...book(9332, 9334), '']);
  });

  it('--json prints the API snapshot as it came', async () => {
    const comp = A.router.vrfs.get(2)!.routes.get(`${WEB_A.ip}/32`)!.nh;
    const r = await run('nh', '--get', String(comp), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(JSON.parse(JSON.stringify(nhSnapshot(A.router, comp), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))));
    const v = JSON.parse((await run('vif', '--get', '4', '--json')).out) as { vifs: { osName: string; ip: string }[] };
    expect(v.vifs).toMatchObject([{ osName: 'tapeth0-baa392', ip: INGRESS.ip }]);
  });

  it('errors: unknown objects exit 1 with the API\'s reason, bad usage exits 2, no agent exits 1', async () => {
    expect(await run('vif', '--get', '99')).toMatchObject({ code: 1, out: '', err: 'weft vif: no vif0/99\n' });
    expect(await run('nh', '--get', '4242')).toMatchObject({ code: 1, err: 'weft nh: no next hop 4242\n' });
    expect(await run('mpls', '--get', '4000')).toMatchObject({ code: 1, err: 'weft mpls: label 4000 is not in the input label map\n' });
    expect(await run('flow', '--match', '10.1.2')).toMatchObject({ code: 1, err: "weft flow: match: not an IPv4 address: '10.1.2'\n" });
    expect(await run('rt', '--get', '10.99.225.17/33', '--vrf', '2')).toMatchObject({ code: 1 });
    for (const bad of [['rt', '--get', '10.0.0.1'], ['rt', '--dump', 'x'], ['vif'], ['vif', '--list', '--get', '3'], ['nh', '--bogus'], ['mpls', '--get']]) {
      const r = await run(...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.err).toMatch(/^weft (rt|vif|nh|mpls): /);
    }
    const help = await weft('flow', '--help');
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toMatch(/^usage: weft flow -l \| --match IP\[:PORT\]/);
    // A port nobody listens on (ours, closed by now? no: a fresh one taken and released).
    const free = await new Promise<number>((res) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => res(p));
      });
    });
    const down = await weft('mpls', '--dump', '--url', `http://127.0.0.1:${free}`);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^weft mpls: cannot reach http:\/\/127\.0\.0\.1:\d+\/mpls: ECONNREFUSED/);
  });
});
