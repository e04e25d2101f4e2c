/**
 * The agent's I/O adapter: kernel packets in, the sans-IO pipeline, actions out.
 *
 *   pod TAP read     -> processPacket(vif)        -> TAP write | tunnel send
 *   UDP 6635/51234   -> processTunnelPayload(MPLS) -> TAP write
 *   UDP 4789         -> processTunnelPayload(VXLAN)
 *   raw IP proto 47  -> processFabricIp           -> TAP write
 *
 * UDP encapsulations go out through node:dgram: the kernel builds the outer IPv4/UDP headers
 * (and routes, ARPs, fragments) from the vhost address, so only the UDP payload of the
 * pipeline's datagram is sent. A dgram socket has one source port, while the pipeline gives
 * each flow an entropy port (49152-65535) for the fabric's ECMP: a pool of sockets bound to
 * consecutive ports keeps part of that entropy (flow -> socket by its entropy port, so one
 * flow stays on one port and in order); `udpSenders: 1` gives a fixed source port. MPLSoGRE
 * goes out on a raw protocol-47 socket with the GRE header on (the kernel adds the IPv4 one).
 *
 * Nothing escapes the handlers: the pipeline never throws, and everything around it counts
 * its failures (per reason, in `stats`) instead.
 */
import dgram from 'node:dgram';
import type { TunnelEncap } from '../vrouter/nexthop.js';
import { gratuitousArps } from '../vrouter/arp.js';
import { processFabricIp, processPacket, processTunnelPayload, type Action } from '../vrouter/pipeline.js';
import type { VRouter } from '../vrouter/router.js';
import { ipv4ToU32 } from '../vrouter/kernel/native.js';
import type { RawIpSocket } from '../vrouter/kernel/raw-ip.js';

export const MPLS_UDP_PORTS: readonly number[] = [6635, 51234];
export const VXLAN_UDP_PORT = 4789;
/** First source port of the sender pool: the bottom of the pipeline's entropy range. */
export const DEFAULT_SOURCE_PORT_BASE = 49152;
export const DEFAULT_UDP_SENDERS = 8;

/** What the data plane needs of a TAP (a kernel Tap, or a fake in tests). */
export interface PacketPort {
  start(handler: (frames: Uint8Array[]) => void, onError?: (err: Error) => void): void;
  stop(): void;
  writeMany(frames: readonly Uint8Array[]): number;
}

/** What the data plane needs of the raw GRE socket. */
export type GreSocket = Pick<RawIpSocket, 'start' | 'stop' | 'close' | 'sendMany'>;

export interface DataplaneOptions {
  /** The vhost0 address: tunnel sockets bind to it. */
  vhostIp: string;
  /** Sending sockets for MPLSoUDP/VXLAN (source ports base..base+n-1). */
  udpSenders?: number;
  /** 0: ports chosen by the kernel. */
  sourcePortBase?: number;
  mplsUdpPorts?: readonly number[];
  vxlanPort?: number;
  /** The raw GRE socket (openGreSocket()); none: MPLSoGRE is neither sent nor received. */
  gre?: GreSocket;
  /** Flow ageing sweep period, ms (0: none). */
  ageIntervalMs?: number;
  log?: (line: string) => void;
}

/** Reasons the I/O layer (not the pipeline, see router.drops) lost a packet. */
export type IoDropReason = 'NoTap' | 'TapFull' | 'NoTunnelSocket' | 'SendError' | 'GreFull' | 'HostPacket' | 'HandlerError';

export interface DataplaneStats {
  rx: { tap: number; mplsUdp: number; vxlan: number; gre: number };
  tx: { tap: number; MPLSoUDP: number; MPLSoGRE: number; VXLAN: number };
  drops: Record<IoDropReason, number>;
  /** The last few failures' messages, newest last (what a log would say). */
  lastErrors: string[];
}

function emptyStats(): DataplaneStats {
  return {
    rx: { tap: 0, mplsUdp: 0, vxlan: 0, gre: 0 },
    tx: { tap: 0, MPLSoUDP: 0, MPLSoGRE: 0, VXLAN: 0 },
    drops: { NoTap: 0, TapFull: 0, NoTunnelSocket: 0, SendError: 0, GreFull: 0, HostPacket: 0, HandlerError: 0 },
    lastErrors: [],
  };
}

interface Attached {
  port: PacketPort;
  /** Frames for this vif collected while a batch is handled, written in one call. */
  out: Uint8Array[];
}

export class Dataplane {
  readonly stats = emptyStats();
  private readonly taps = new Map<number, Attached>();
  private readonly dirty = new Set<Attached>();
  private readonly senders: dgram.Socket[] = [];
  private readonly receivers: dgram.Socket[] = [];
  private readonly grePayloads: Uint8Array[] = [];
  private readonly greDsts: number[] = [];
  private readonly greDstCache = new Map<string, number>();
  private readonly mplsUdpPorts: readonly number[];
  private readonly vxlanPort: number;
  private ager: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    readonly router: VRouter,
    private readonly opts: DataplaneOptions,
  ) {
    this.mplsUdpPorts = opts.mplsUdpPorts ?? MPLS_UDP_PORTS;
    this.vxlanPort = opts.vxlanPort ?? VXLAN_UDP_PORT;
  }

  /** Binds the tunnel sockets and starts reading them; rejects if a port is taken. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const port of this.mplsUdpPorts) this.receivers.push(await this.bind(port, 'MPLSoUDP'));
      this.receivers.push(await this.bind(this.vxlanPort, 'VXLAN'));
      const n = Math.max(1, this.opts.udpSenders ?? DEFAULT_UDP_SENDERS);
      const base = this.opts.sourcePortBase ?? DEFAULT_SOURCE_PORT_BASE;
      for (let i = 0; i < n; i++) this.senders.push(await this.bind(base === 0 ? 0 : base + i, undefined));
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.opts.gre?.start(
      (frames) => this.fromGre(frames),
      (err) => this.fail('HandlerError', `GRE socket: ${err.message}`),
    );
    const every = this.opts.ageIntervalMs ?? 10_000;
    if (every > 0) {
      this.ager = setInterval(() => this.router.ageFlows(), every);
      this.ager.unref();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.ager) clearInterval(this.ager);
    this.ager = undefined;
    for (const a of this.taps.values()) a.port.stop();
    this.taps.clear();
    this.opts.gre?.stop();
    const all = [...this.receivers, ...this.senders];
    this.receivers.length = 0;
    this.senders.length = 0;
    await Promise.all(all.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** Starts forwarding a pod vif's frames, and sends the pod the gateway's gratuitous ARPs. */
  attach(vifIndex: number, port: PacketPort): void {
    if (this.taps.has(vifIndex)) throw new Error(`vif ${vifIndex} is already attached`);
    const a: Attached = { port, out: [] };
    this.taps.set(vifIndex, a);
    port.start(
      (frames) => this.fromTap(vifIndex, frames),
      (err) => this.fail('HandlerError', `vif ${vifIndex}: ${err.message}`),
    );
    const vif = this.router.vifs.get(vifIndex);
    if (vif) {
      const garps = gratuitousArps(this.router, vif);
      const n = port.writeMany(garps);
      this.stats.tx.tap += n;
      if (n < garps.length) this.stats.drops.TapFull += garps.length - n;
    }
  }

  detach(vifIndex: number): boolean {
    const a = this.taps.get(vifIndex);
    if (!a) return false;
    a.port.stop();
    this.taps.delete(vifIndex);
    this.dirty.delete(a);
    return true;
  }

  get udpSourcePorts(): number[] {
    return this.senders.map((s) => s.address().port);
  }

  // ---- receive --------------------------------------------------------------------------

  private fromTap(vif: number, frames: Uint8Array[]): void {
    this.stats.rx.tap += frames.length;
    for (const f of frames) this.run(() => processPacket(this.router, f, vif));
    this.flush();
  }

  private fromGre(datagrams: Uint8Array[]): void {
    this.stats.rx.gre += datagrams.length;
    for (const d of datagrams) this.run(() => processFabricIp(this.router, d));
    this.flush();
  }

  private fromUdp(encap: 'MPLSoUDP' | 'VXLAN', msg: Buffer, src: string): void {
    if (encap === 'VXLAN') this.stats.rx.vxlan++;
    else this.stats.rx.mplsUdp++;
    this.run(() => processTunnelPayload(this.router, encap, msg, src));
    this.flush();
  }

  private run(pipeline: () => Action[]): void {
    try {
      for (const a of pipeline()) this.act(a);
    } catch (e) {
      this.fail('HandlerError', (e as Error)?.message ?? String(e));
    }
  }

  // ---- actions --------------------------------------------------------------------------

  private act(a: Action): void {
    switch (a.type) {
      case 'emit': {
        const t = this.taps.get(a.vif);
        if (!t) return void this.stats.drops.NoTap++;
        t.out.push(a.bytes);
        this.dirty.add(t);
        return;
      }
      case 'tunnel':
        return this.tunnel(a);
      case 'host':
        // No host stack is attached: vhost0 is the kernel's own interface here.
        this.stats.drops.HostPacket++;
        return;
      case 'drop':
        return; // counted by the pipeline (router.drops)
    }
  }

  private tunnel(a: Extract<Action, { type: 'tunnel' }>): void {
    const encap: TunnelEncap = a.encap;
    if (encap === 'MPLSoGRE') {
      if (!this.opts.gre) return void this.stats.drops.NoTunnelSocket++;
      const ihl = (a.bytes[0]! & 0x0f) * 4;
      let dst = this.greDstCache.get(a.dst);
      if (dst === undefined) this.greDstCache.set(a.dst, (dst = ipv4ToU32(a.dst)));
      this.grePayloads.push(a.bytes.subarray(ihl));
      this.greDsts.push(dst);
      return;
    }
    const n = this.senders.length;
    if (n === 0 || a.udpPayloadOffset === undefined) return void this.stats.drops.NoTunnelSocket++;
    const sock = this.senders[(a.srcPort ?? 0) % n]!;
    const port = encap === 'VXLAN' ? this.vxlanPort : this.mplsUdpPorts[0]!;
    // No callback: a closure per packet costs, and a failed send is reported as the socket's 'error'.
    sock.send(a.bytes.subarray(a.udpPayloadOffset), port, a.dst);
    this.stats.tx[encap]++;
  }

  private flush(): void {
    for (const t of this.dirty) {
      const n = t.port.writeMany(t.out);
      this.stats.tx.tap += n;
      if (n < t.out.length) this.stats.drops.TapFull += t.out.length - n;
      t.out.length = 0;
    }
    this.dirty.clear();
    if (this.grePayloads.length > 0 && this.opts.gre) {
      let sent = 0;
      try {
        sent = this.opts.gre.sendMany(this.grePayloads, this.greDsts);
      } catch (e) {
        this.fail('SendError', `MPLSoGRE: ${(e as Error).message}`);
      }
      this.stats.tx.MPLSoGRE += sent;
      if (sent < this.grePayloads.length) this.stats.drops.GreFull += this.grePayloads.length - sent;
      this.grePayloads.length = 0;
      this.greDsts.length = 0;
    }
  }

  private fail(reason: IoDropReason, message: string): void {
    this.stats.drops[reason]++;
    const l = this.stats.lastErrors;
    l.push(message);
    if (l.length > 16) l.shift();
    this.opts.log?.(`dataplane: ${message}`);
  }

  private bind(port: number, encap: 'MPLSoUDP' | 'VXLAN' | undefined): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
      s.once('error', reject);
      s.bind(port, this.opts.vhostIp, () => {
        s.off('error', reject);
        s.on('error', (err) => this.fail('SendError', `udp ${port}: ${err.message}`));
        if (encap) s.on('message', (msg, rinfo) => this.fromUdp(encap, msg, rinfo.address));
        resolve(s);
      });
    });
  }
}
