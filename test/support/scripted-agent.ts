/**
 * An agent scripted from the dialect notes alone: raw TCP and the notes' literal XML
 * (test/unit/control/doc-stanzas.ts), nothing from weft's codecs, so that the control node is
 * checked against the notes rather than against itself. It records what the control node
 * sends and reads items back with plain string scans.
 */
import net from 'node:net';
import { agentHeader } from '../unit/control/doc-stanzas.js';

export interface SeenNextHop {
  address: string;
  label: number;
  encapsulations: string[];
}

/** Next hops as the notes write them, in any element order. */
function nextHopsOf(item: string): SeenNextHop[] {
  return [...item.matchAll(/<next-hop>([\s\S]*?)<\/next-hop>/g)].map((h) => ({
    address: /<address>([^<]*)<\/address>/.exec(h[1]!)?.[1] ?? '',
    label: Number(/<label>(\d+)<\/label>/.exec(h[1]!)?.[1] ?? -1),
    encapsulations: [...h[1]!.matchAll(/<tunnel-encapsulation>([^<]*)<\/tunnel-encapsulation>/g)].map((x) => x[1]!),
  }));
}

export class ScriptedAgent {
  readonly socket: net.Socket;
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];

  /** `waitMs`: how long `until` waits unless told otherwise. */
  constructor(
    readonly name: string,
    host: string,
    port: number,
    private readonly waitMs = 10_000,
  ) {
    this.socket = net.connect({ host, port });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.text += d;
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  async until(what: string, ok: () => boolean, ms = this.waitMs): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}; got ${this.text.slice(-3000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Connect, exchange headers, send the whitespace the client sends on Established. */
  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()));
    this.send(agentHeader(this.name));
    await this.until('the stream header', () => this.text.includes('xmlns:stream="http://etherx.jabber.org/streams" >'));
    this.send(' ');
  }

  /** The `<message>` stanzas received so far. */
  messages(): string[] {
    const out: string[] = [];
    let at = 0;
    for (;;) {
      const s = this.text.indexOf('<message', at);
      if (s < 0) break;
      const e = this.text.indexOf('</message>', s);
      if (e < 0) break;
      out.push(this.text.slice(s, e + 10));
      at = e + 10;
    }
    return out;
  }

  /** Latest state per `<items node> <item id>`: `hops` of the item's body, or null once retracted. */
  routesBy<T>(hops: (item: string) => T): Map<string, T | null> {
    const m = new Map<string, T | null>();
    for (const msg of this.messages()) {
      const node = /<items node="([^"]+)">/.exec(msg)?.[1];
      if (!node) continue;
      for (const it of msg.matchAll(/<item id="([^"]+)">([\s\S]*?)<\/item>/g)) m.set(`${node} ${it[1]}`, hops(it[2]!));
      for (const r of msg.matchAll(/<retract id="([^"]+)"\s*\/>/g)) m.set(`${node} ${r[1]}`, null);
    }
    return m;
  }

  /** Latest state per `<items node> <item id>`: its next hops, or null once retracted. */
  routes(): Map<string, SeenNextHop[] | null> {
    return this.routesBy(nextHopsOf);
  }

  route(node: string, id: string): SeenNextHop[] | null | undefined {
    return this.routes().get(`${node} ${id}`);
  }

  hasEor(): boolean {
    return this.text.includes('<items node="0/0/EndOfRib"></items>');
  }
}
