/**
 * Max-prefix on the wire (RFC 4486 section 4): a raw peer sends more routes than the limit,
 * gets Cease 6/1 with AFI, SAFI and the bound (checked by tshark too), and the session stays
 * down for the restart interval (no connection from weft, the peer's own refused) and comes
 * back after it; without an interval it stays down until the operator clears it or re-adds
 * the neighbour.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgpMessageLength } from '../../../codecs/bgp/header.js';
import { decodeBgpMessage, encodeBgpMessage, type BgpMessage } from '../../../codecs/bgp/message.js';
import { LINKTYPE_ETHERNET, writePcap } from '../../../codecs/pcap/index.js';
import { Speaker } from '../../../src/bgp/speaker.js';
import { startIntrospect, type IntrospectServer } from '../../../src/introspect/server.js';
import { FrameList, TcpConversation } from '../../../tools/sample-capture/frames.js';
import { waitFor, sleep } from '../../interop/support/wait.js';
import { AS_PATH_EMPTY, LOCAL_PREF_100, ORIGIN_IGP, RawPeer, attr } from '../../support/raw-peer.js';
import { requireTshark } from '../../support/tshark.js';

const WEFT = '127.0.0.121';
/** Active neighbours (weft dials them): restart 2 s, and no restart. */
const WITH_RESTART = '127.0.0.122';
const NO_RESTART = '127.0.0.123';
/** A passive neighbour (it dials weft), restart 2 s. */
const PASSIVE = '127.0.0.124';
const AS = 64512;
const LIMIT = 3;
const RESTART_MS = 2000;
/** What weft must send: Cease 6/1, AFI 1, SAFI 1, bound 3. */
const CEASE_DATA = Uint8Array.of(0, 1, 1, 0, 0, 0, LIMIT);

const OPTS = { fourOctetAs: true } as const;

/** One UPDATE announcing LIMIT + 1 IPv4 /24s under one attribute set. */
function tooManyRoutes(): Uint8Array {
  const attrs = [...ORIGIN_IGP, ...AS_PATH_EMPTY, ...attr(0x40, 3, [192, 0, 2, 1]), ...LOCAL_PREF_100];
  const nlri: number[] = [];
  for (let i = 1; i <= LIMIT + 1; i++) nlri.push(24, 198, 18, i);
  const body = [0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs, ...nlri];
  const len = 19 + body.length;
  return Uint8Array.from([...new Array<number>(16).fill(0xff), len >> 8, len & 0xff, 2, ...body]);
}

/**
 * The listening side of a raw peer: every connection weft makes, when it came, and what it
 * carried (messages decoded and as bytes).
 */
class RawListener {
  readonly conns: RawConn[] = [];
  private constructor(
    readonly server: net.Server,
    readonly address: string,
  ) {}

  static async listen(address: string): Promise<RawListener> {
    const server = net.createServer();
    const l = new RawListener(server, address);
    server.on('connection', (s) => l.conns.push(new RawConn(s)));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ host: address, port: 0 }, res);
    });
    return l;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const c of this.conns) c.sock.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }
}

class RawConn {
  readonly at = performance.now();
  readonly got: { msg: BgpMessage; bytes: Uint8Array; at: number }[] = [];
  closed = false;
  private buf = new Uint8Array(0);

  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      const all = new Uint8Array(this.buf.length + d.length);
      all.set(this.buf);
      all.set(d, this.buf.length);
      let off = 0;
      for (;;) {
        const len = bgpMessageLength(all, off);
        if (len === undefined || off + len > all.length) break;
        const bytes = all.slice(off, off + len);
        this.got.push({ msg: decodeBgpMessage(bytes, 0, OPTS), bytes, at: performance.now() });
        off += len;
      }
      this.buf = all.slice(off);
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }

  /** OPEN (IPv4 unicast, 4-octet AS) and KEEPALIVE, then weft's End-of-RIB. */
  async establish(bgpId: string): Promise<void> {
    this.sock.write(
      encodeBgpMessage(
        {
          type: 'open',
          version: 4,
          myAs: AS,
          holdTime: 90,
          bgpId,
          params: [{ kind: 'capabilities', type: 2, capabilities: [{ kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 1 }, { kind: 'four-octet-as', code: 65, asn: AS }] }],
        },
        OPTS,
      ),
    );
    await waitFor('OPEN from weft', () => this.got.some((m) => m.msg.type === 'open'), 10_000, 20);
    this.sock.write(encodeBgpMessage({ type: 'keepalive' }, OPTS));
    await waitFor('End-of-RIB from weft', () => this.got.some((m) => m.msg.type === 'update'), 10_000, 20);
  }

  notification(): { msg: Extract<BgpMessage, { type: 'notification' }>; bytes: Uint8Array; at: number } | undefined {
    const n = this.got.find((m) => m.msg.type === 'notification');
    return n as { msg: Extract<BgpMessage, { type: 'notification' }>; bytes: Uint8Array; at: number } | undefined;
  }
}

/** tshark's reading of one BGP message weft sent, wrapped in a TCP segment from 179. */
function tsharkFields(bgp: Uint8Array, fields: string[]): string[] {
  const list = new FrameList();
  const tcp = new TcpConversation(list, { mac: '02:00:00:00:00:02', ip: '192.0.2.2', port: 40179, isn: 1000 }, { mac: '02:00:00:00:00:01', ip: '192.0.2.1', port: 179, isn: 5000 });
  tcp.handshake('BGP');
  tcp.send(false, bgp, 'NOTIFICATION');
  const dir = mkdtempSync(join(tmpdir(), 'weft-maxprefix-'));
  try {
    const file = join(dir, 'cease.pcap');
    writeFileSync(file, writePcap(list.data.map((data, i) => ({ ts: { sec: 1_700_000_000, nsec: i * 1000 }, data })), LINKTYPE_ETHERNET));
    const args = ['-r', file, '-Y', 'bgp', '-T', 'fields', '-E', 'separator=/t'];
    for (const f of fields) args.push('-e', f);
    const r = spawnSync('tshark', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tshark failed (${r.status}): ${r.stderr}`);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(1);
    return rows[0]!.split('\t');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('max-prefix Cease 6/1 and the restart interval', () => {
  let weft: Speaker;
  let withRestart: RawListener;
  let noRestart: RawListener;
  let introspect: { server: IntrospectServer; url: string };

  beforeAll(async () => {
    requireTshark();
    withRestart = await RawListener.listen(WITH_RESTART);
    noRestart = await RawListener.listen(NO_RESTART);
    weft = new Speaker({
      localAs: AS,
      routerId: WEFT,
      listen: { address: WEFT, port: 0 },
      families: ['ipv4-unicast'],
      neighbors: [
        // connectRetry 1: any ordinary automatic restart would come after about a second.
        { address: WITH_RESTART, port: withRestart.port, remoteAs: AS, rrClient: true, maxPrefix: LIMIT, maxPrefixRestart: RESTART_MS / 1000, connectRetry: 1 },
        { address: NO_RESTART, port: noRestart.port, remoteAs: AS, rrClient: true, maxPrefix: LIMIT, connectRetry: 1 },
        { address: PASSIVE, remoteAs: AS, passive: true, rrClient: true, maxPrefix: LIMIT, maxPrefixRestart: RESTART_MS / 1000, families: ['ipv4-unicast', 'vpnv4'] },
      ],
    });
    await weft.start();
    const global = { localAs: AS, routerId: WEFT, clusterId: WEFT, listen: { address: WEFT, port: 0 }, holdTime: 90, families: ['ipv4-unicast' as const] };
    introspect = await startIntrospect({ speaker: weft, config: { global, policies: {}, neighbors: [] }, address: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await introspect?.server.close();
    await weft?.stop();
    await withRestart?.close();
    await noRestart?.close();
  });

  const snap = (address: string) => weft.neighborsSnapshot().find((n) => n.address === address)!;

  it('with restart: Cease 6/1 with AFI, SAFI and bound; no connection for the interval; reconnects after it', async () => {
    const first = await waitFor('weft dials', () => withRestart.conns[0], 10_000, 20);
    await first.establish(WITH_RESTART);
    await waitFor('Established', () => snap(WITH_RESTART).state === 'Established', 10_000, 20);
    first.sock.write(tooManyRoutes());

    const cease = await waitFor('NOTIFICATION', () => first.notification(), 10_000, 5);
    expect(cease.msg).toMatchObject({ code: 6, subcode: 1, data: CEASE_DATA });
    // 19-byte header + code + subcode + the 7 data bytes.
    expect(cease.bytes.length).toBe(28);
    await waitFor('weft closed the connection', () => first.closed, 5_000, 5);
    await waitFor('routes flushed', () => weft.rib('ipv4-unicast').every((r) => r.paths.every((p) => p.source !== WITH_RESTART)), 5_000, 20);

    // Held down, and saying so.
    await sleep(RESTART_MS / 2);
    const held = snap(WITH_RESTART);
    expect(held.state).toBe('Idle');
    expect(held.holdDown?.reason).toBe('max-prefix');
    expect(Date.parse(held.holdDown!.until!) - Date.now()).toBeGreaterThan(0);
    expect(held.lastDown).toMatchObject({ reason: 'automatic-stop', notification: { code: 6, subcode: 1, sent: true } });
    expect(withRestart.conns).toHaveLength(1);

    const second = await waitFor('weft dials again', () => withRestart.conns[1], RESTART_MS * 3, 5);
    const waited = second.at - cease.at;
    // weft armed the interval just before it sent the Cease we timed.
    expect(waited).toBeGreaterThanOrEqual(RESTART_MS - 50);
    expect(waited).toBeLessThan(RESTART_MS + 1000);
    await second.establish(WITH_RESTART);
    await waitFor('Established again', () => snap(WITH_RESTART).state === 'Established', 10_000, 20);
    expect(snap(WITH_RESTART).holdDown).toBeUndefined();
    expect(withRestart.conns).toHaveLength(2);
  });

  it('tshark reads the Cease weft sent as 6/1 with the seven data bytes', () => {
    const cease = withRestart.conns[0]!.notification()!;
    const [type, major, minor, data] = tsharkFields(cease.bytes, ['bgp.type', 'bgp.notify.major_error', 'bgp.notify.minor_error_cease', 'bgp.notify.minor_data']);
    expect({ type, major, minor, data }).toEqual({ type: '3', major: '6', minor: '1', data: '00010100000003' });
  });

  it('without restart: stays down until cleared, then until re-added', async () => {
    const first = await waitFor('weft dials', () => noRestart.conns[0], 10_000, 20);
    await first.establish(NO_RESTART);
    first.sock.write(tooManyRoutes());
    expect((await waitFor('NOTIFICATION', () => first.notification(), 10_000, 5)).msg).toMatchObject({ code: 6, subcode: 1, data: CEASE_DATA });

    // Three connect-retry intervals, and more than the restart interval the other neighbour has.
    await sleep(3000);
    expect(noRestart.conns).toHaveLength(1);
    expect(snap(NO_RESTART).state).toBe('Idle');
    expect(snap(NO_RESTART).holdDown).toEqual({ reason: 'max-prefix' });

    // The operator's clear, through the introspect API.
    const clear = (address: string) => fetch(`${introspect.url}/bgp/neighbors/${address}/clear`, { method: 'POST' });
    const clearedAt = performance.now();
    const res = await clear(NO_RESTART);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cleared: NO_RESTART });
    const second = await waitFor('weft dials after the clear', () => noRestart.conns[1], 5_000, 5);
    expect(second.at - clearedAt).toBeLessThan(500);
    await second.establish(NO_RESTART);
    await waitFor('Established after the clear', () => snap(NO_RESTART).state === 'Established', 10_000, 20);
    expect((await clear(NO_RESTART)).status).toBe(409);
    expect((await clear('127.0.0.199')).status).toBe(404);

    // Down again; removing the neighbour and adding it back is the other way up.
    second.sock.write(tooManyRoutes());
    await waitFor('second NOTIFICATION', () => second.notification(), 10_000, 5);
    await sleep(1500);
    expect(noRestart.conns).toHaveLength(2);
    const cfg = weft.config.neighbors!.find((n) => n.address === NO_RESTART)!;
    expect(weft.removeNeighbor(NO_RESTART)).toBe(true);
    weft.addNeighbor(cfg);
    const third = await waitFor('weft dials the re-added neighbour', () => noRestart.conns[2], 5_000, 5);
    await third.establish(NO_RESTART);
    await waitFor('Established after re-adding', () => snap(NO_RESTART).state === 'Established', 10_000, 20);
  });

  it('passive neighbour: its connections are refused for the interval, accepted after it', async () => {
    const port = weft.listenPort!;
    const p = await RawPeer.establish({ local: PASSIVE, remote: WEFT, port, asn: AS, holdTime: 90 });
    p.sendBytes(tooManyRoutes());
    const n = await waitFor('NOTIFICATION', () => p.notification(), 10_000, 5);
    const ceaseAt = performance.now();
    expect(n).toMatchObject({ code: 6, subcode: 1, data: CEASE_DATA });
    await waitFor('closed', () => p.closed, 5_000, 5);

    // Within the interval weft closes each attempt at once, without an OPEN.
    for (let i = 0; i < 2; i++) {
      const s = net.connect({ host: WEFT, port, localAddress: PASSIVE });
      const got: Buffer[] = [];
      let closed = false;
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => undefined);
      s.on('close', () => (closed = true));
      try {
        await waitFor('weft closes the refused connection', () => closed, 1000, 5);
      } finally {
        s.destroy();
      }
      expect(Buffer.concat(got).length).toBe(0);
      expect(performance.now() - ceaseAt).toBeLessThan(RESTART_MS);
      await sleep(400);
    }
    expect(snap(PASSIVE).holdDown?.reason).toBe('max-prefix');

    await sleep(Math.max(0, ceaseAt + RESTART_MS + 50 - performance.now()));
    const again = await RawPeer.establish({ local: PASSIVE, remote: WEFT, port, asn: AS, holdTime: 90 });
    await waitFor('Established after the interval', () => snap(PASSIVE).state === 'Established', 10_000, 20);
    expect(snap(PASSIVE).holdDown).toBeUndefined();
    again.sock.destroy();
  });
});
