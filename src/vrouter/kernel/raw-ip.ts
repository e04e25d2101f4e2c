/**
 * A raw IPv4 socket for one IP protocol, used for MPLSoGRE (protocol 47): Node has no raw
 * sockets. Received packets start with the IPv4 header (the kernel's raw socket semantics);
 * sent ones do not, the kernel adds it (no IP_HDRINCL), so the caller writes the GRE header on.
 */
import { FrameChannel, type ChannelOptions } from './frame-channel.js';
import { ipv4ToU32, loadAddon } from './native.js';

export const IPPROTO_GRE = 47;

export interface RawIpOptions extends ChannelOptions {
  netnsPath?: string;
}

export class RawIpSocket extends FrameChannel {
  readonly protocol: number;
  private readonly dsts = new Uint32Array(1024);

  private constructor(fd: number, protocol: number, opts: ChannelOptions) {
    super(fd, opts);
    this.protocol = protocol;
  }

  static open(protocol: number, opts: RawIpOptions = {}): RawIpSocket {
    return new RawIpSocket(loadAddon().openRawIp(protocol, true, opts.netnsPath), protocol, opts);
  }

  /** Sends `payload` (e.g. GRE header + MPLS + inner packet) to `dst`; false if the socket would block. */
  send(payload: Uint8Array, dst: string | number): boolean {
    return this.addon.sendTo(this.fd, payload, typeof dst === 'number' ? dst : ipv4ToU32(dst)) > 0;
  }

  /** One sendmmsg for up to 1024 packets; `dsts[i]` is packet i's destination (host-order u32). */
  sendMany(payloads: readonly Uint8Array[], dsts: readonly number[] | Uint32Array): number {
    const n = Math.min(payloads.length, this.dsts.length);
    for (let i = 0; i < n; i++) this.dsts[i] = dsts[i]!;
    return this.addon.sendBatch(this.fd, n === payloads.length ? payloads : payloads.slice(0, n), this.dsts);
  }
}

export function openGreSocket(opts: RawIpOptions = {}): RawIpSocket {
  return RawIpSocket.open(IPPROTO_GRE, opts);
}
