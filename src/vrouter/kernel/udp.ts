/**
 * A UDP socket for the tunnels, through the addon rather than node:dgram: dgram delivers one
 * datagram per JS callback (with a fresh Buffer and an rinfo object) and makes one libuv send
 * per packet, which capped the agent at ~20k packets/s. Here a readable event drains up to
 * `batch` datagrams with one recvmmsg, and a flush sends a whole batch with one sendmmsg.
 * With GRO on, a burst of one flow's equal-sized datagrams arrives as one buffer (`gso` > 0:
 * the segment size), and a send may hand the kernel such a buffer to cut (UDP_SEGMENT).
 */
import { closeSync } from 'node:fs';
import { ipv4ToU32, loadAddon, type PollHandle, type WeftTapAddon } from './native.js';

/** Called with views into the socket's slab (overwritten by the next read). */
export type DatagramHandler = (datagrams: Uint8Array[], srcs: Uint32Array, gso: Uint32Array) => void;

export interface UdpSocketOptions {
  /** Largest read; a GRO buffer can hold up to 64 KB. */
  slot?: number;
  batch?: number;
  gro?: boolean;
  netnsPath?: string;
}

export class UdpSocket {
  readonly fd: number;
  readonly port: number;
  private readonly addon: WeftTapAddon;
  private readonly slot: number;
  private readonly slab: Uint8Array;
  private readonly lens: Uint32Array;
  private readonly srcs: Uint32Array;
  private readonly gso: Uint32Array;
  private readonly views: Uint8Array[] = [];
  private poll: PollHandle | undefined;
  private closed = false;

  private constructor(fd: number, port: number, opts: UdpSocketOptions) {
    this.fd = fd;
    this.port = port;
    this.addon = loadAddon();
    this.slot = opts.slot ?? 65536;
    const batch = opts.batch ?? 64;
    this.slab = new Uint8Array(this.slot * batch);
    this.lens = new Uint32Array(batch);
    this.srcs = new Uint32Array(batch);
    this.gso = new Uint32Array(batch);
  }

  /** Binds `address`:`port` (0: a port the kernel picks); throws EADDRINUSE and the like. */
  static bind(address: string, port: number, opts: UdpSocketOptions = {}): UdpSocket {
    const [fd, bound] = loadAddon().openUdp(ipv4ToU32(address), port, opts.gro ?? false, opts.netnsPath);
    return new UdpSocket(fd, bound, opts);
  }

  start(handler: DatagramHandler, onError?: (err: Error) => void): void {
    if (this.closed) throw new Error('socket closed');
    if (this.poll) throw new Error('socket already started');
    this.poll = this.addon.pollStart(this.fd, () => {
      let n: number;
      try {
        n = this.addon.recvBatch(this.fd, this.slab, this.slot, this.lens, this.srcs, this.gso);
      } catch (err) {
        // Errors queued on a UDP socket (ICMP unreachable from an earlier send) are read once and gone.
        onError?.(err as Error);
        return;
      }
      if (n === 0) return;
      const views = this.views;
      views.length = n;
      for (let i = 0; i < n; i++) views[i] = this.slab.subarray(i * this.slot, i * this.slot + this.lens[i]!);
      handler(views, this.srcs, this.gso);
    });
  }

  /** Packets sent (the rest would have blocked). */
  sendMany(packets: readonly Uint8Array[], dsts: Uint32Array, ports: Uint32Array, gso: Uint32Array): number {
    return this.addon.sendUdpBatch(this.fd, packets, dsts, ports, gso);
  }

  stop(): void {
    if (!this.poll) return;
    this.addon.pollStop(this.poll);
    this.poll = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    closeSync(this.fd);
  }
}
