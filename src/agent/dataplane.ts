/**
 * The agent's I/O adapter: kernel packets in, the sans-IO pipeline, actions out.
 *
 *   pod TAP read     -> processPacket(vif)        -> TAP write | tunnel send
 *   UDP 6635/51234   -> processTunnelPayload(MPLS) -> TAP write
 *   UDP 4789         -> processTunnelPayload(VXLAN)
 *   raw IP proto 47  -> processFabricIp           -> TAP write
 *
 * UDP encapsulations go out through UDP sockets of the addon (kernel/udp.ts: one recvmmsg per
 * readable burst, one sendmmsg per handled batch; node:dgram's callback and send per packet
 * capped the agent at ~20k packets/s): the kernel builds the outer IPv4/UDP headers (and
 * routes, ARPs, fragments) from the vhost address, so only the UDP payload of the pipeline's
 * datagram is sent. A UDP socket has one source port, while the pipeline gives
 * each flow an entropy port (49152-65535) for the fabric's ECMP: a pool of sockets bound to
 * consecutive ports keeps part of that entropy (flow -> socket by its entropy port, so one
 * flow stays on one port and in order); `udpSenders: 1` gives a fixed source port. MPLSoGRE
 * goes out on a raw protocol-47 socket with the GRE header on (the kernel adds the IPv4 one).
 *
 * TCP goes in bursts (offloads): a pod TAP opened with vnetHdr hands over TSO bursts of up to
 * 64 KB; the first segment takes the pipeline, the rest follow its decision and leave with it
 * in one UDP_SEGMENT send; the receiving side reads such a burst as one UDP_GRO buffer and,
 * when the segments continue each other, writes the pod one merged frame that the kernel
 * takes as a TSO burst (src/vrouter/offload.ts). Anything else takes the per-packet path.
 *
 * Nothing escapes the handlers: the pipeline never throws, and everything around it counts
 * its failures (per reason, in `stats`) instead.
 */
import type { TunnelEncap } from '../vrouter/nexthop.js';
import { gratuitousArps } from '../vrouter/arp.js';
import { creditSegments, processFabricIp, processPacket, processTunnelPayload, type Action } from '../vrouter/pipeline.js';
import type { VRouter } from '../vrouter/router.js';
import { ipv4ToU32, loadAddon, u32ToIpv4 } from '../vrouter/kernel/native.js';
import type { RawIpSocket } from '../vrouter/kernel/raw-ip.js';
import { UdpSocket } from '../vrouter/kernel/udp.js';
import {
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_HDR_LEN,
  burstFlagsPlain,
  completeChecksum,
  groMerge,
  groMergeUdp,
  readVnetHdr,
  segmentCount,
  setPayloadSum,
  tcpFrameOf,
  tsoSegment,
  tsoTunnelBuffers,
} from '../vrouter/offload.js';

export const MPLS_UDP_PORTS: readonly number[] = [6635, 51234];
export const VXLAN_UDP_PORT = 4789;
/** First source port of the sender pool: the bottom of the pipeline's entropy range. */
export const DEFAULT_SOURCE_PORT_BASE = 49152;
export const DEFAULT_UDP_SENDERS = 8;

/** What the data plane needs of a TAP (a kernel Tap, or a fake in tests). */
export interface PacketPort {
  /** Frames read start with a virtio_net_hdr and writes take one (a TAP opened with vnetHdr). */
  readonly vnetHdr?: boolean;
  start(handler: (frames: Uint8Array[]) => void, onError?: (err: Error) => void): void;
  stop(): void;
  /** `vnetHdrs` only on a vnetHdr port: frame i's header, a hole for a plain frame. */
  writeMany(frames: readonly Uint8Array[], vnetHdrs?: readonly (Uint8Array | undefined)[]): number;
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
  /** Packets; a TSO burst or a GRO buffer counts its segments. */
  rx: { tap: number; mplsUdp: number; vxlan: number; gre: number };
  /** Tunnels: datagrams (a UDP_SEGMENT burst counts its segments); tap: frames written (a merged burst is one). */
  tx: { tap: number; MPLSoUDP: number; MPLSoGRE: number; VXLAN: number };
  drops: Record<IoDropReason, number>;
  /** TSO bursts from pods sent as UDP_SEGMENT bursts; UDP_GRO buffers read, and merged for a pod. */
  offload: { tsoBursts: number; gsoSends: number; groBuffers: number; groMerged: number };
  /** The last few failures' messages, newest last (what a log would say). */
  lastErrors: string[];
}

function emptyStats(): DataplaneStats {
  return {
    rx: { tap: 0, mplsUdp: 0, vxlan: 0, gre: 0 },
    tx: { tap: 0, MPLSoUDP: 0, MPLSoGRE: 0, VXLAN: 0 },
    drops: { NoTap: 0, TapFull: 0, NoTunnelSocket: 0, SendError: 0, GreFull: 0, HostPacket: 0, HandlerError: 0 },
    offload: { tsoBursts: 0, gsoSends: 0, groBuffers: 0, groMerged: 0 },
    lastErrors: [],
  };
}

interface Attached {
  port: PacketPort;
  /** Frames for this vif collected while a batch is handled, written in one call. */
  out: Uint8Array[];
  /** Their virtio headers (vnetHdr ports; a hole: plain frame). */
  hdrs: (Uint8Array | undefined)[];
}

/** Datagrams for one sending socket, collected while a batch is handled, sent in one sendmmsg. */
class SendQueue {
  readonly packets: Uint8Array[] = [];
  readonly encaps: TunnelEncap[] = [];
  /** Datagrams each packet stands for (a UDP_SEGMENT burst is several). */
  readonly counts: number[] = [];
  dsts = new Uint32Array(64);
  ports = new Uint32Array(64);
  gso = new Uint32Array(64);

  constructor(readonly sock: UdpSocket) {}

  push(p: Uint8Array, dst: number, port: number, gso: number, encap: TunnelEncap, count: number): void {
    const i = this.packets.length;
    if (i === this.dsts.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.dsts = grow(this.dsts);
      this.ports = grow(this.ports);
      this.gso = grow(this.gso);
    }
    this.packets.push(p);
    this.dsts[i] = dst;
    this.ports[i] = port;
    this.gso[i] = gso;
    this.encaps.push(encap);
    this.counts.push(count);
  }
}

/** The largest UDP_SEGMENT burst the kernel takes (UDP_MAX_SEGMENTS). */
const MAX_GSO_SEGMENTS = 64;
/** Below a UDP datagram's 65507-byte limit. */
const MAX_GSO_BYTES = 65000;
/**
 * Largest datagram sent as part of a UDP_SEGMENT burst: what fits a 1500-byte underlay. The
 * kernel refuses a segment bigger than the path MTU (where a lone datagram would be
 * fragmented), so larger ones go on their own.
 */
const MAX_GSO_SEGMENT = 1500 - 28;

/**
 * Runs of datagrams to the same tunnel endpoint with the same size (the last may be shorter)
 * become one UDP_SEGMENT send: the kernel cuts them back into the same datagrams, but they
 * cross the host's stack (and, over veth, the underlay) as one packet, and the peer reads
 * them as one UDP_GRO buffer. Order is kept: only neighbours are joined.
 */
function coalesce(q: SendQueue): void {
  const n = q.packets.length;
  let joined = false;
  for (let i = 0; i + 1 < n && !joined; i++) {
    joined = q.gso[i] === 0 && q.gso[i + 1] === 0 && q.packets[i]!.length <= MAX_GSO_SEGMENT && q.dsts[i] === q.dsts[i + 1] && q.ports[i] === q.ports[i + 1] && q.packets[i + 1]!.length <= q.packets[i]!.length;
  }
  if (!joined) return;
  const packets = q.packets.splice(0, n);
  const encaps = q.encaps.splice(0, n);
  const counts = q.counts.splice(0, n);
  const dsts = q.dsts.slice(0, n);
  const ports = q.ports.slice(0, n);
  const gso = q.gso.slice(0, n);
  for (let i = 0; i < n; ) {
    const size = packets[i]!.length;
    let j = i + 1;
    let bytes = size;
    if (gso[i] === 0 && size <= MAX_GSO_SEGMENT) {
      while (
        j < n &&
        j - i < MAX_GSO_SEGMENTS &&
        gso[j] === 0 &&
        dsts[j] === dsts[i] &&
        ports[j] === ports[i] &&
        encaps[j] === encaps[i] &&
        packets[j]!.length <= size &&
        bytes + packets[j]!.length <= MAX_GSO_BYTES
      ) {
        bytes += packets[j]!.length;
        j++;
        if (packets[j - 1]!.length < size) break; // a shorter one ends the run
      }
    }
    if (j - i === 1) {
      q.push(packets[i]!, dsts[i]!, ports[i]!, gso[i]!, encaps[i]!, counts[i]!);
    } else {
      const buf = new Uint8Array(bytes);
      let at = 0;
      let count = 0;
      for (let k = i; k < j; k++) {
        buf.set(packets[k]!, at);
        at += packets[k]!.length;
        count += counts[k]!;
      }
      q.push(buf, dsts[i]!, ports[i]!, size, encaps[i]!, count);
    }
    i = j;
  }
}

export class Dataplane {
  readonly stats = emptyStats();
  private readonly taps = new Map<number, Attached>();
  private readonly dirty = new Set<Attached>();
  private readonly senders: SendQueue[] = [];
  private readonly receivers: UdpSocket[] = [];
  private readonly dirtySenders = new Set<SendQueue>();
  private readonly srcNames = new Map<number, string>();
  private readonly dstNums = new Map<string, number>();
  /** Cleared if the kernel refuses a UDP_SEGMENT send: bursts then leave segment by segment. */
  private udpGso = true;
  /** Whether a TAP takes USO frames (Linux 6.2+): tried on the first one. */
  private tapUso: 'unknown' | 'on' | 'off' = 'unknown';
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
    const addon = loadAddon();
    setPayloadSum((b, start, end) => addon.sum16(b, start, end));
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
      for (let i = 0; i < n; i++) this.senders.push(new SendQueue(await this.bind(base === 0 ? 0 : base + i, undefined)));
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
    const all = [...this.receivers, ...this.senders.map((q) => q.sock)];
    this.receivers.length = 0;
    this.senders.length = 0;
    this.dirtySenders.clear();
    for (const s of all) s.close();
  }

  /** Starts forwarding a pod vif's frames, and sends the pod the gateway's gratuitous ARPs. */
  attach(vifIndex: number, port: PacketPort): void {
    if (this.taps.has(vifIndex)) throw new Error(`vif ${vifIndex} is already attached`);
    const a: Attached = { port, out: [], hdrs: [] };
    this.taps.set(vifIndex, a);
    port.start(
      (frames) => this.fromTap(vifIndex, port, frames),
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
    return this.senders.map((q) => q.sock.port);
  }

  // ---- receive --------------------------------------------------------------------------

  private fromTap(vif: number, port: PacketPort, frames: Uint8Array[]): void {
    if (!port.vnetHdr) {
      this.stats.rx.tap += frames.length;
      for (const f of frames) this.run(() => processPacket(this.router, f, vif));
    } else {
      for (const f of frames) this.fromVnetTap(vif, f);
    }
    this.flush();
  }

  /** A frame behind its virtio header: finish a left-over checksum, or take a TSO burst apart. */
  private fromVnetTap(vif: number, f: Uint8Array): void {
    if (f.length < VNET_HDR_LEN) return void this.stats.rx.tap++;
    const h = readVnetHdr(f);
    const frame = f.subarray(VNET_HDR_LEN);
    const gso = h.gsoType & ~VNET_GSO_ECN;
    const t = gso === VNET_GSO_TCPV4 ? tcpFrameOf(frame) : undefined;
    const n = t && h.gsoSize > 0 ? segmentCount(t, h.gsoSize) : 1;
    if (!t || n <= 1 || gso === VNET_GSO_NONE) {
      this.stats.rx.tap++;
      if (h.flags & VNET_F_NEEDS_CSUM) completeChecksum(frame, h.csumStart, h.csumOffset, h.csumOffset === 6);
      return this.run(() => processPacket(this.router, frame, vif));
    }
    this.stats.rx.tap += n;
    const mss = h.gsoSize;
    const head = tsoSegment(frame, t, mss, 0);
    let actions: Action[];
    try {
      actions = processPacket(this.router, head, vif);
    } catch (e) {
      return this.fail('HandlerError', (e as Error)?.message ?? String(e));
    }
    const a = actions.length === 1 ? actions[0]! : undefined;
    const fits = a?.type === 'tunnel' && a.udpPayloadOffset !== undefined && a.bytes.length - a.udpPayloadOffset <= MAX_GSO_SEGMENT;
    if (a?.type === 'tunnel' && a.udpPayloadOffset !== undefined && fits && this.udpGso && burstFlagsPlain(frame, t) && this.senders.length > 0) {
      const bufs = tsoTunnelBuffers(a.bytes.subarray(a.udpPayloadOffset), frame, t, mss, 65000, MAX_GSO_SEGMENTS);
      if (bufs) {
        this.stats.offload.tsoBursts++;
        const q = this.senders[(a.srcPort ?? 0) % this.senders.length]!;
        const seg = a.bytes.length - a.udpPayloadOffset;
        let left = n;
        for (const b of bufs) {
          const count = Math.min(left, Math.ceil(b.length / seg));
          left -= count;
          q.push(b, this.dstNum(a.dst), this.portOf(a.encap), seg, a.encap, count);
        }
        this.dirtySenders.add(q);
        const vrf = this.router.vifs.get(vif)?.vrf ?? 0;
        creditSegments(this.router, vif, undefined, vrf, frame, t.ip, n - 1, t.end - t.data - mss + (n - 1) * (t.data - t.ip));
        return;
      }
    }
    for (const x of actions) this.act(x);
    for (let i = 1; i < n; i++) {
      const seg = tsoSegment(frame, t, mss, i);
      this.run(() => processPacket(this.router, seg, vif));
    }
  }

  private fromGre(datagrams: Uint8Array[]): void {
    this.stats.rx.gre += datagrams.length;
    for (const d of datagrams) this.run(() => processFabricIp(this.router, d));
    this.flush();
  }

  private fromUdp(encap: 'MPLSoUDP' | 'VXLAN', msgs: Uint8Array[], srcs: Uint32Array, gso: Uint32Array): void {
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      const src = this.srcName(srcs[i]!);
      const g = gso[i]!;
      if (g === 0 || msg.length <= g) {
        this.countRx(encap, 1);
        this.run(() => processTunnelPayload(this.router, encap, msg, src));
      } else {
        this.fromUdpBurst(encap, msg, g, src);
      }
    }
    this.flush();
  }

  /** A UDP_GRO buffer: datagrams of `g` bytes back to back, the last one shorter. */
  private fromUdpBurst(encap: 'MPLSoUDP' | 'VXLAN', msg: Uint8Array, g: number, src: string): void {
    const segs: Uint8Array[] = [];
    for (let at = 0; at < msg.length; at += g) segs.push(msg.subarray(at, Math.min(at + g, msg.length)));
    this.countRx(encap, segs.length);
    this.stats.offload.groBuffers++;
    let actions: Action[];
    try {
      actions = processTunnelPayload(this.router, encap, segs[0]!, src);
    } catch (e) {
      return this.fail('HandlerError', (e as Error)?.message ?? String(e));
    }
    const a = actions.length === 1 ? actions[0]! : undefined;
    const t = a?.type === 'emit' ? this.taps.get(a.vif) : undefined;
    if (a?.type === 'emit' && t?.port.vnetHdr) {
      // One MPLS label (the pipeline takes no other), or VXLAN's header and inner Ethernet.
      const encapLen = encap === 'VXLAN' ? 22 : 4;
      const udp = a.bytes.length > 23 && a.bytes[23] === 17;
      let merged = udp ? undefined : groMerge(a.bytes, segs, encapLen);
      if (udp && this.tapUso !== 'off') merged = groMergeUdp(a.bytes, segs, encapLen);
      let probed = false;
      if (merged && udp && this.tapUso === 'unknown') {
        probed = this.probeUso(t, merged);
        if (!probed) merged = undefined;
      }
      if (merged) {
        this.stats.offload.groMerged++;
        if (!probed) {
          t.out.push(merged.frame);
          t.hdrs[t.out.length - 1] = merged.vnet;
          this.dirty.add(t);
        }
        const vrf = this.router.vifs.get(a.vif)?.vrf ?? 0;
        creditSegments(this.router, 0, a.vif, vrf, msg, g + encapLen, segs.length - 1, msg.length - g - (segs.length - 1) * encapLen);
        return;
      }
    }
    for (const x of actions) this.act(x);
    for (let k = 1; k < segs.length; k++) {
      const s = segs[k]!;
      this.run(() => processTunnelPayload(this.router, encap, s, src));
    }
  }

  /**
   * Writes the first USO frame on its own (after what is queued for the TAP, to keep the
   * order): a kernel without USO on TAP writes refuses it (EINVAL), and UDP bursts then go
   * to pods datagram by datagram. False when refused: the caller takes the per-datagram path.
   */
  private probeUso(t: Attached, merged: { frame: Uint8Array; vnet: Uint8Array }): boolean {
    this.writeTap(t);
    this.dirty.delete(t);
    try {
      const n = t.port.writeMany([merged.frame], [merged.vnet]);
      this.stats.tx.tap += n;
      if (n === 0) this.stats.drops.TapFull++;
      else this.tapUso = 'on';
      return true;
    } catch (e) {
      this.tapUso = 'off';
      this.note(`TAP refuses USO frames (${(e as Error).message}): UDP bursts go datagram by datagram`);
      return false;
    }
  }

  private countRx(encap: 'MPLSoUDP' | 'VXLAN', n: number): void {
    if (encap === 'VXLAN') this.stats.rx.vxlan += n;
    else this.stats.rx.mplsUdp += n;
  }

  private srcName(u: number): string {
    let s = this.srcNames.get(u);
    if (s === undefined) {
      if (this.srcNames.size > 4096) this.srcNames.clear();
      this.srcNames.set(u, (s = u32ToIpv4(u)));
    }
    return s;
  }

  private dstNum(ip: string): number {
    let n = this.dstNums.get(ip);
    if (n === undefined) {
      if (this.dstNums.size > 4096) this.dstNums.clear();
      this.dstNums.set(ip, (n = ipv4ToU32(ip)));
    }
    return n;
  }

  private portOf(encap: TunnelEncap): number {
    return encap === 'VXLAN' ? this.vxlanPort : this.mplsUdpPorts[0]!;
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
    const q = this.senders[(a.srcPort ?? 0) % n]!;
    q.push(a.bytes.subarray(a.udpPayloadOffset), this.dstNum(a.dst), this.portOf(encap), 0, encap, 1);
    this.dirtySenders.add(q);
  }

  private flush(): void {
    for (const t of this.dirty) this.writeTap(t);
    this.dirty.clear();
    for (const q of this.dirtySenders) this.send(q);
    this.dirtySenders.clear();
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

  private writeTap(t: Attached): void {
    if (t.out.length === 0) return;
    let n = 0;
    try {
      n = t.port.vnetHdr ? t.port.writeMany(t.out, t.hdrs) : t.port.writeMany(t.out);
    } catch (e) {
      this.fail('HandlerError', `TAP write: ${(e as Error).message}`);
    }
    this.stats.tx.tap += n;
    if (n < t.out.length) this.stats.drops.TapFull += t.out.length - n;
    t.out.length = 0;
    t.hdrs.length = 0;
  }

  private send(q: SendQueue): void {
    if (this.udpGso && q.packets.length > 1) coalesce(q);
    const total = q.packets.length;
    let sent = 0;
    try {
      sent = q.sock.sendMany(q.packets, q.dsts, q.ports, q.gso);
    } catch (e) {
      const burst = q.gso.subarray(0, total).some((g) => g > 0);
      if (burst && this.udpGso) {
        // No UDP_SEGMENT on this kernel or path: from now on bursts leave segment by segment.
        this.udpGso = false;
      }
      // Counted below with the packets it lost.
      this.note(`UDP send: ${(e as Error).message}${burst ? ' (UDP GSO now off)' : ''}`);
    }
    for (let i = 0; i < total; i++) {
      const c = q.counts[i]!;
      if (i < sent) {
        this.stats.tx[q.encaps[i]!] += c;
        if (q.gso[i]! > 0) this.stats.offload.gsoSends++;
      }
      else this.stats.drops.SendError += c;
    }
    q.packets.length = 0;
    q.encaps.length = 0;
    q.counts.length = 0;
  }

  private fail(reason: IoDropReason, message: string): void {
    this.stats.drops[reason]++;
    this.note(message);
  }

  private note(message: string): void {
    const l = this.stats.lastErrors;
    l.push(message);
    if (l.length > 16) l.shift();
    this.opts.log?.(`dataplane: ${message}`);
  }

  private async bind(port: number, encap: 'MPLSoUDP' | 'VXLAN' | undefined): Promise<UdpSocket> {
    const s = UdpSocket.bind(this.opts.vhostIp, port, { gro: encap !== undefined, batch: encap ? 64 : 1, slot: encap ? 65536 : 2048 });
    if (encap) {
      s.start(
        (msgs, srcs, gso) => this.fromUdp(encap, msgs, srcs, gso),
        (err) => this.fail('HandlerError', `udp ${port}: ${err.message}`),
      );
    }
    return s;
  }
}
