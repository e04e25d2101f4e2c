/**
 * The load side of `npm run bench:xmpp`, in its own process so the control node's CPU and
 * memory are its own: N scripted agents (raw TCP, the dialect notes' literal XML, nothing of
 * weft's codecs) subscribe to one network, wait for `go` on stdin, then each publishes R
 * routes and end-of-RIB. Received items are counted with a byte scan for `<item id="` (the id
 * kept in a set, so a re-sent item counts once); no XML parse.
 *
 *   node dist/tools/bench/xmpp-load.js --port P [--host H] [--agents N] [--routes R] [--vrf RI]
 *
 * stdout, one JSON object a line: {"phase":"ready"} once every agent has the CN's header and
 * is subscribed; {"phase":"done",...} once every agent holds N*R distinct items (or
 * {"phase":"failed",...} on a closed session or the timeout).
 */
import net from 'node:net';
import { createInterface } from 'node:readline';

interface Args {
  host: string;
  port: number;
  agents: number;
  routes: number;
  vrf: string;
  timeoutMs: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { host: '127.0.0.1', port: 5269, agents: 100, routes: 100, vrf: 'default-domain:bench:vn:vn', timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--host': a.host = v; break;
      case '--port': a.port = Number(v); break;
      case '--agents': a.agents = Number(v); break;
      case '--routes': a.routes = Number(v); break;
      case '--vrf': a.vrf = v; break;
      case '--timeout-ms': a.timeoutMs = Number(v); break;
      default: throw new Error(`xmpp-load: unknown option ${argv[i]}`);
    }
  }
  return a;
}

const CN = 'network-control@contrailsystems.com';
const ITEM = Buffer.from('<item id="');
const HEADER_END = Buffer.from('xmlns:stream="http://etherx.jabber.org/streams" >');

/** Dialect notes 3.1: the agent's stream header. */
const header = (agent: string) =>
  `<stream:stream from="${agent}" to="${CN}" version="1.0" xml:lang="en" xmlns="" xmlns:stream="http://etherx.jabber.org/streams" >`;

/** Section 8.2. */
const subscribe = (agent: string, vrf: string, instanceId: number) =>
  `<iq type="set" from="${agent}" to="${CN}/bgp-peer" id="subscribe${instanceId}"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="${vrf}"><options><instance-id>${instanceId}</instance-id></options></subscribe></pubsub></iq>`;

/** Section 8.3 with the entry of 7.1: one publish and its collection. */
function publishPair(agent: string, vrf: string, prefix: string, nextHop: string, label: number, seq: number): string {
  const node = `1/1/${vrf}/${prefix}`;
  return (
    `<iq type="set" from="${agent}" to="${CN}/bgp-peer" id="pubsub${seq}"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="${node}"><item><entry>` +
    `<nlri><af>1</af><safi>1</safi><address>${prefix}</address></nlri>` +
    `<next-hops><next-hop><af>1</af><address>${nextHop}</address><mac>52:54:00:12:34:56</mac><label>${label}</label><vni>0</vni>` +
    `<tunnel-encapsulation-list><tunnel-encapsulation>gre</tunnel-encapsulation><tunnel-encapsulation>udp</tunnel-encapsulation></tunnel-encapsulation-list>` +
    `<virtual-network>default-domain:bench:vn</virtual-network><tag-list/></next-hop></next-hops>` +
    `<version>1</version><virtual-network></virtual-network><mobility sticky="false" seqno="0"/><sequence-number>0</sequence-number>` +
    `<security-group-list><security-group>8000002</security-group></security-group-list><community-tag-list/>` +
    `<local-preference>200</local-preference><med>0</med>` +
    `<load-balance><load-balance-fields/><load-balance-decision>field-hash</load-balance-decision></load-balance><sub-protocol>interface</sub-protocol>` +
    `</entry></item></publish></pubsub></iq>` +
    `<iq type="set" from="${agent}" to="${CN}/bgp-peer" id="collection${seq}"><pubsub xmlns="http://jabber.org/protocol/pubsub"><collection node="${vrf}"><associate node="${node}" /></collection></pubsub></iq>`
  );
}

/** Section 8.5. */
const eor = (agent: string) =>
  `<message from="${agent}" to="${CN}/bgp-peer"><event xmlns="http://jabber.org/protocol/pubsub"><items node="0/0/EndOfRib"></items></event></message>`;

/** `a.b.c.d/len` between s and q as one number; the bench's ids are IPv4 prefixes. */
function idKey(buf: Buffer, s: number, q: number): number {
  let addr = 0;
  let part = 0;
  let plen = 0;
  let inLen = false;
  for (let i = s; i < q; i++) {
    const c = buf[i]!;
    if (c === 0x2e) {
      addr = addr * 256 + part;
      part = 0;
    } else if (c === 0x2f) inLen = true;
    else if (inLen) plen = plen * 10 + (c - 0x30);
    else part = part * 10 + (c - 0x30);
  }
  return (addr * 256 + part) * 64 + plen;
}

class LoadAgent {
  readonly socket: net.Socket;
  /** Distinct item ids as numbers (address * 64 + prefix length): no string per item. */
  readonly ids = new Set<number>();
  itemsSeen = 0;
  bytes = 0;
  doneAt = 0;
  gotHeader = false;
  private carry: Buffer | undefined;
  private headerWaiter: (() => void) | undefined;

  constructor(
    readonly name: string,
    a: Args,
    private readonly onProgress: (agent: LoadAgent) => void,
    onClose: (agent: LoadAgent) => void,
  ) {
    this.socket = net.connect({ host: a.host, port: a.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (b: Buffer) => this.data(b));
    this.socket.on('close', () => onClose(this));
    this.socket.on('error', () => {});
  }

  opened(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('connect', () => {
        this.socket.write(header(this.name));
        if (this.gotHeader) resolve();
        else this.headerWaiter = resolve;
      });
    });
  }

  private data(chunk: Buffer): void {
    this.bytes += chunk.length;
    let buf = chunk;
    let from = 0;
    const carry = this.carry;
    this.carry = undefined;
    if (carry && this.gotHeader) {
      // A marker cut by the previous chunk's end: finish it from this chunk's first bytes (an
      // id is a few dozen bytes) rather than copying the whole chunk behind it.
      const head = Buffer.concat([carry, chunk.subarray(0, 256)]);
      const next = this.scan(head, 0, carry.length);
      if (next < 0) buf = Buffer.concat([carry, chunk]);
      else from = Math.max(0, next - carry.length);
    } else if (carry) buf = Buffer.concat([carry, chunk]);
    if (!this.gotHeader) {
      if (buf.indexOf(HEADER_END) < 0) {
        this.carry = buf;
        return;
      }
      this.gotHeader = true;
      this.headerWaiter?.();
    }
    this.scan(buf, from, buf.length);
    this.onProgress(this);
  }

  /**
   * Counts the items whose marker starts in [from, limit). Returns where scanning may go on,
   * or -1 when a marker before `limit` is not complete in `buf` (only for a chunk's head).
   * With limit = buf.length, an incomplete tail is kept as the carry.
   */
  private scan(buf: Buffer, from: number, limit: number): number {
    let at = from;
    for (;;) {
      const i = buf.indexOf(ITEM, at);
      if (i < 0 || i >= limit) {
        if (limit === buf.length) {
          // Keep what may be the start of a marker cut by the chunk boundary.
          const keep = Math.max(at, buf.length - ITEM.length + 1);
          if (keep < buf.length) this.carry = buf.subarray(keep);
        }
        return limit < buf.length ? Math.max(at, limit) : at;
      }
      const s = i + ITEM.length;
      const q = buf.indexOf(0x22, s);
      if (q < 0) {
        if (limit < buf.length) return -1;
        this.carry = buf.subarray(i);
        return at;
      }
      this.itemsSeen++;
      this.ids.add(idKey(buf, s, q));
      at = q + 1;
    }
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const want = a.agents * a.routes;
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let t0 = 0;
  let remaining = a.agents;
  let finished = false;
  const agents: LoadAgent[] = [];
  const finish = (phase: 'done' | 'failed', extra: Record<string, unknown> = {}) => {
    if (finished) return;
    finished = true;
    const times = agents.map((x) => (x.doneAt ? x.doneAt - t0 : Infinity)).sort((x, y) => x - y);
    const pct = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]! * 10) / 10;
    out({
      phase,
      elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
      agentDoneMs: { p50: pct(50), p90: pct(90), max: pct(100) },
      itemsSeen: agents.reduce((s, x) => s + x.itemsSeen, 0),
      distinctItems: agents.reduce((s, x) => s + x.ids.size, 0),
      bytesReceived: agents.reduce((s, x) => s + x.bytes, 0),
      ...extra,
    });
    for (const x of agents) x.socket.destroy();
    setTimeout(() => process.exit(phase === 'done' ? 0 : 1), 50).unref();
  };
  const progress = (x: LoadAgent) => {
    if (x.doneAt || t0 === 0 || x.ids.size < want) return;
    x.doneAt = performance.now();
    if (--remaining === 0) finish('done');
  };
  const closed = (x: LoadAgent) => {
    if (!finished) finish('failed', { reason: `${x.name}: session closed`, lastBytes: '' });
  };
  for (let i = 0; i < a.agents; i++) agents.push(new LoadAgent(`bench-${i}`, a, progress, closed));
  await Promise.all(agents.map((x) => x.opened()));
  agents.forEach((x, i) => x.socket.write(` ${subscribe(x.name, a.vrf, i + 1)}`));
  out({ phase: 'ready', agents: a.agents, routes: a.routes });

  // Build the publishes before `go` so the measured window holds only the exchange.
  const scripts = agents.map((x, i) => {
    let s = '';
    for (let j = 0; j < a.routes; j++) {
      s += publishPair(x.name, a.vrf, `10.${i >> 8}.${i & 255}.${j}/32`, `192.168.${i >> 8}.${(i & 255) + 1}`, 16 + j, j);
    }
    return Buffer.from(s + eor(x.name));
  });
  const rl = createInterface({ input: process.stdin });
  rl.once('line', () => {
    rl.close();
    t0 = performance.now();
    setTimeout(() => finish('failed', { reason: 'timeout' }), a.timeoutMs).unref();
    agents.forEach((x, i) => x.socket.write(scripts[i]!));
  });
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ phase: 'failed', reason: String(e) })}\n`);
  process.exit(1);
});
