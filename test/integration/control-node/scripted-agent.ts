/**
 * An agent scripted from the dialect notes alone: raw TCP and the notes' literal XML
 * (test/unit/control/doc-stanzas.ts), nothing from weft's codecs. It records what the
 * control node sends and reads items back with plain string scans.
 */
import net from 'node:net';
import { agentHeader } from '../../unit/control/doc-stanzas.js';

export interface SeenNextHop {
  address: string;
  label: number;
  encapsulations: string[];
}

export class ScriptedAgent {
  readonly socket: net.Socket;
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    host: string,
    port: number,
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

  async until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}; got ${this.text.slice(-3000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()));
    this.send(agentHeader(this.name));
    await this.until('the stream header', () => this.text.includes('xmlns:stream="http://etherx.jabber.org/streams" >'));
    this.send(' ');
  }

  /** Latest state per `<items node> <item id>`: its next hops, or null once retracted. */
  routes(): Map<string, SeenNextHop[] | null> {
    const m = new Map<string, SeenNextHop[] | null>();
    let at = 0;
    for (;;) {
      const s = this.text.indexOf('<message', at);
      if (s < 0) break;
      const e = this.text.indexOf('</message>', s);
      if (e < 0) break;
      const msg = this.text.slice(s, e);
      at = e + 10;
      const node = /<items node="([^"]+)">/.exec(msg)?.[1];
      if (!node) continue;
      for (const it of msg.matchAll(/<item id="([^"]+)">([\s\S]*?)<\/item>/g)) {
        const hops = [...it[2]!.matchAll(/<next-hop>([\s\S]*?)<\/next-hop>/g)].map((h) => ({
          address: /<address>([^<]*)<\/address>/.exec(h[1]!)?.[1] ?? '',
          label: Number(/<label>(\d+)<\/label>/.exec(h[1]!)?.[1] ?? -1),
          encapsulations: [...h[1]!.matchAll(/<tunnel-encapsulation>([^<]*)<\/tunnel-encapsulation>/g)].map((x) => x[1]!),
        }));
        m.set(`${node} ${it[1]}`, hops);
      }
      for (const r of msg.matchAll(/<retract id="([^"]+)"\s*\/>/g)) m.set(`${node} ${r[1]}`, null);
    }
    return m;
  }

  route(node: string, id: string): SeenNextHop[] | null | undefined {
    return this.routes().get(`${node} ${id}`);
  }
}
