import type { Capture } from '../../codecs/pcap/capture.js';
import { BgpConnection, type DecodedBgpMessage } from './bgp-session.js';
import { BgpStream, type BgpStreamItem } from './bgp-stream.js';
import { PortBindings } from './decode-as.js';
import { PacketDissector, toLayerError, type TcpHandoff } from './dissect.js';
import { TcpDirection, connectionKey, directionKey, type ReassemblyEvent } from './tcp-reassembly.js';
import type { DecodedPacket, DecodeOptions, Layer, TcpApp } from './types.js';
import { XmppStream, type XmppStreamItem } from './xmpp-stream.js';

/**
 * The dissection engine behind `weft decode`: every packet through the link/network/
 * transport dissector, TCP payloads of BGP and XMPP ports through per-direction reassembly
 * and the application framers. A message is shown in the frame whose segment completed it,
 * as tshark does, so the whole capture is dissected before anything is returned.
 */

interface Direction {
  key: string;
  reverse: string;
  tcp: TcpDirection;
  app: { kind: 'bgp'; stream: BgpStream } | { kind: 'xmpp'; stream: XmppStream };
  lastFrame: number;
}

interface Connection {
  index: number;
  app: TcpApp;
  bgp?: BgpConnection;
}

export function decodeCapture(capture: Capture, opts: DecodeOptions = {}): DecodedPacket[] {
  return new DecodeEngine(opts).run(capture);
}

export class DecodeEngine {
  private readonly bindings: PortBindings;
  private readonly dissector: PacketDissector;
  private readonly results: DecodedPacket[] = [];
  private readonly connections = new Map<string, Connection>();
  private readonly directions = new Map<string, Direction>();

  constructor(opts: DecodeOptions = {}) {
    this.bindings = new PortBindings(opts.decodeAs);
    this.dissector = new PacketDissector({ bindings: this.bindings, onTcp: (h) => this.onTcp(h) });
  }

  run(capture: Capture): DecodedPacket[] {
    for (let i = 0; i < capture.packets.length; i++) {
      this.results.push(this.dissector.dissect(i + 1, capture.packets[i]!));
      // Only now may the messages this packet completed be attached to it.
      this.flushPending();
    }
    for (const d of this.directions.values()) {
      this.feed(d, d.tcp.flush());
      this.flushPending();
    }
    for (const d of this.directions.values()) {
      if (d.app.kind === 'bgp') this.attachBgp(d, d.app.stream.end(d.lastFrame));
      else this.attachXmpp(d, d.app.stream.end(d.lastFrame));
    }
    return this.results;
  }

  /** Application layers produced while dissecting the current packet wait for it to exist. */
  private pending: (() => void)[] = [];

  private flushPending(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }

  private onTcp(h: TcpHandoff): void {
    const t = h.segment;
    const key = directionKey(h.src, t.srcPort, h.dst, t.dstPort);
    const ck = connectionKey(h.src, t.srcPort, h.dst, t.dstPort);
    let conn = this.connections.get(ck);
    if (!conn) {
      conn = { index: this.connections.size, app: h.app };
      if (h.app === 'bgp') conn.bgp = new BgpConnection();
      this.connections.set(ck, conn);
    }
    h.layer.stream = conn.index;
    let d = this.directions.get(key);
    if (!d) {
      d = {
        key,
        reverse: directionKey(h.dst, t.dstPort, h.src, t.srcPort),
        tcp: new TcpDirection(),
        // The first bytes seen may be the tail of a message (capture started mid-session, or
        // a SYN that lies): look for the first marker, as tshark does.
        app: conn.app === 'bgp' ? { kind: 'bgp', stream: new BgpStream({ midStream: true }) } : { kind: 'xmpp', stream: new XmppStream() },
        lastFrame: h.frame,
      };
      this.directions.set(key, d);
    }
    d.lastFrame = h.frame;
    const events = d.tcp.push({
      frame: h.frame,
      seq: t.seq,
      syn: t.flags.syn,
      fin: t.flags.fin,
      rst: t.flags.rst,
      payload: t.payload,
    });
    const analysis: string[] = [];
    for (const ev of events) {
      if (ev.kind === 'retransmission' && ev.frame === h.frame) analysis.push('retransmission');
      else if (ev.kind === 'overlap' && ev.frame === h.frame) analysis.push(`overlap of ${ev.length} bytes`);
      else if (ev.kind === 'restart') {
        analysis.push('new connection (SYN with a new initial sequence number)');
        // A new session negotiates afresh.
        if (conn.bgp) conn.bgp = new BgpConnection();
      }
    }
    if (t.payload.length > 0 && !events.some((e) => e.kind === 'data' && e.frame === h.frame) && !analysis.length) {
      analysis.push('out of order: held until the missing bytes arrive');
    }
    if (analysis.length) h.layer.analysis = analysis;
    this.pending.push(() => this.feed(d, events));
  }

  private feed(d: Direction, events: ReassemblyEvent[]): void {
    for (const ev of events) {
      if (d.app.kind === 'bgp') this.attachBgp(d, d.app.stream.push(ev));
      else this.attachXmpp(d, d.app.stream.push(ev));
    }
  }

  private appLayer(frame: number, name: string, listKey: string): unknown[] {
    const pkt = this.results[frame - 1]!;
    let layer = pkt.layers.find((l) => l.layer === name && Array.isArray(l[listKey]));
    if (!layer) {
      layer = { layer: name, [listKey]: [] } as Layer;
      pkt.layers.push(layer);
    }
    return layer[listKey] as unknown[];
  }

  private attachBgp(d: Direction, items: BgpStreamItem[]): void {
    const conn = this.connections.get(connectionKeyOf(d))!;
    for (const it of items) {
      const pkt = this.results[it.frame - 1]!;
      if (it.kind === 'error') {
        pkt.errors.push({ layer: 'bgp', error: toLayerError(it.error, 0) });
        continue;
      }
      if (it.kind === 'continuation') {
        this.appLayer(it.frame, 'bgp', 'messages');
        const layer = pkt.layers.find((l) => l.layer === 'bgp')!;
        layer.continuation = ((layer.continuation as number | undefined) ?? 0) + it.length;
        continue;
      }
      const m: DecodedBgpMessage = conn.bgp!.decode(it.bytes, d.key, d.reverse);
      if (it.frames.length > 1) m.frames = it.frames;
      if (it.truncated) m.truncated = true;
      this.appLayer(it.frame, 'bgp', 'messages').push(m);
      for (const e of m.errors ?? []) pkt.errors.push({ layer: 'bgp', error: e });
    }
  }

  private attachXmpp(_d: Direction, items: XmppStreamItem[]): void {
    for (const it of items) {
      const pkt = this.results[it.frame - 1]!;
      if (it.kind === 'error') {
        pkt.errors.push({ layer: 'xmpp', error: toLayerError(it.error, 0) });
        if (it.length !== undefined) {
          const unit: Record<string, unknown> = { kind: 'malformed', length: it.length, error: toLayerError(it.error, 0) };
          if (it.text !== undefined) unit.text = it.text;
          if (it.frames.length > 1) unit.frames = it.frames;
          this.appLayer(it.frame, 'xmpp', 'units').push(unit);
        }
        continue;
      }
      const unit: Record<string, unknown> = { ...it.stanza, length: it.length };
      if (it.frames.length > 1) unit.frames = it.frames;
      this.appLayer(it.frame, 'xmpp', 'units').push(unit);
    }
  }
}

function connectionKeyOf(d: Direction): string {
  return d.key < d.reverse ? d.key : d.reverse;
}
