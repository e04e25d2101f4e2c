/**
 * A TAP device held by the agent: frames the pod sends are read here, frames written here
 * arrive at the pod. The device lives as long as the fd (not persistent), so closing the Tap
 * removes the interface wherever it is, including inside a pod's namespace.
 */
import { FrameChannel, type ChannelOptions } from './frame-channel.js';
import { loadAddon, TAP_NONBLOCK, TAP_VNET_HDR } from './native.js';

export interface TapOptions extends ChannelOptions {
  /**
   * virtio_net_hdr before each frame read and written, with checksum and TSO offloads on: the
   * kernel then hands over TCP segments of up to 64 KB with their checksum left to the reader
   * (see src/vrouter/offload.ts). Off by default: a plain reader gets plain frames.
   */
  vnetHdr?: boolean;
  /** Create the device inside this namespace (/var/run/netns/<name> or /proc/<pid>/ns/net). */
  netnsPath?: string;
}

/** A TSO burst (gso_max_size 64 KB) with its Ethernet and virtio headers, rounded up. */
const TSO_SLOT = 65536 + 256;

const NO_HEADERS: readonly (Uint8Array | undefined)[] = [];

/** Linux interface names hold at most 15 bytes. */
export const IFNAMSIZ_MAX = 15;

export class Tap extends FrameChannel {
  /** The kernel's name for it when created (it may be renamed later, e.g. to eth0 in a pod). */
  readonly name: string;
  /** Frames read start with a virtio_net_hdr, and writeMany puts one before each frame. */
  readonly vnetHdr: boolean;

  private constructor(fd: number, name: string, opts: TapOptions) {
    // A TSO segment is up to 64 KB plus the header; fewer of them per read keeps the slab small.
    super(fd, opts.vnetHdr ? { slot: opts.slot ?? TSO_SLOT, batch: opts.batch ?? 32 } : opts);
    this.name = name;
    this.vnetHdr = opts.vnetHdr ?? false;
  }

  /** Opens (creates) the TAP `name`; a name with `%d` lets the kernel number it. */
  static open(name: string, opts: TapOptions = {}): Tap {
    if (Buffer.byteLength(name) > IFNAMSIZ_MAX) throw new Error(`interface name ${name} is longer than ${IFNAMSIZ_MAX} bytes`);
    const flags = TAP_NONBLOCK | (opts.vnetHdr ? TAP_VNET_HDR : 0);
    const [fd, actual] = loadAddon().openTap(name, flags, opts.netnsPath);
    return new Tap(fd, actual, opts);
  }

  /** True when the kernel took the frame, false when its queue was full (frame dropped). */
  write(frame: Uint8Array): boolean {
    return this.addon.write(this.fd, frame) > 0;
  }

  /**
   * Writes frames in one native call; returns how many the kernel took. On a vnetHdr TAP,
   * frame i goes after vnetHdrs[i] (a hole or none: a zeroed header, i.e. a plain frame).
   */
  writeMany(frames: readonly Uint8Array[], vnetHdrs?: readonly (Uint8Array | undefined)[]): number {
    if (!this.vnetHdr) return this.addon.writeBatch(this.fd, frames);
    return this.addon.writeBatch(this.fd, frames, vnetHdrs ?? NO_HEADERS);
  }
}
