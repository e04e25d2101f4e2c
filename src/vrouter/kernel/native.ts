/**
 * The weft_tap addon (native/tap/tap.c), built by `npm install` into build/Release. Loaded
 * lazily so code that never touches the kernel (unit tests, the control node) does not need it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TAP_VNET_HDR = 1;
export const TAP_NONBLOCK = 2;

export interface WeftTapAddon {
  /** Returns [fd, actual interface name]; `netnsPath` creates the device in that namespace. */
  openTap(name: string, flags: number, netnsPath?: string): [number, string];
  openRawIp(protocol: number, nonBlocking: boolean, netnsPath?: string): number;
  setNonBlocking(fd: number, on: boolean): void;
  /** Reads until EAGAIN or `lens.length` frames; frame i is slab[i*slot, i*slot+lens[i]). */
  readBatch(fd: number, slab: Uint8Array, slot: number, lens: Uint32Array): number;
  /** Bytes written, 0 when the fd would block. */
  write(fd: number, frame: Uint8Array): number;
  /**
   * Frames written before the fd would block. With `vnetHdrs` (a TAP opened with
   * TAP_VNET_HDR) frame i goes after vnetHdrs[i], or after a zeroed header where that is a hole.
   */
  writeBatch(fd: number, frames: readonly Uint8Array[], vnetHdrs?: readonly (Uint8Array | undefined)[]): number;
  /** `dst` is the IPv4 address as a host-order u32. */
  sendTo(fd: number, packet: Uint8Array, dst: number): number;
  sendBatch(fd: number, packets: readonly Uint8Array[], dsts: Uint32Array): number;
  /** A non-blocking UDP socket bound to `addr`:`port` (0: any port); returns [fd, bound port]. */
  openUdp(addr: number, port: number, gro: boolean, netnsPath?: string): [number, number];
  /** recvmmsg: datagram i at slab[i*slot], length lens[i], sender srcs[i], GRO segment size gso[i] (0: one datagram). */
  recvBatch(fd: number, slab: Uint8Array, slot: number, lens: Uint32Array, srcs: Uint32Array, gso: Uint32Array): number;
  /** sendmmsg to dsts[i]:ports[i]; gso[i] > 0 has the kernel cut packet i into datagrams of gso[i] bytes. */
  sendUdpBatch(fd: number, packets: readonly Uint8Array[], dsts: Uint32Array, ports: Uint32Array, gso: Uint32Array): number;
  /** One's-complement sum of bytes[start, end) as big-endian 16-bit words, folded to 16 bits. */
  sum16(bytes: Uint8Array, start: number, end: number): number;
  /** Calls `onReadable` on the event loop while the fd is readable (level-triggered). */
  pollStart(fd: number, onReadable: (status: number) => void): PollHandle;
  pollStop(handle: PollHandle): void;
}

declare const pollBrand: unique symbol;
export type PollHandle = { readonly [pollBrand]: true };

let addon: WeftTapAddon | undefined;

/** Repo root, from src/vrouter/kernel (sources under vitest) or dist/src/vrouter/kernel. */
function findAddon(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'build', 'Release', 'weft_tap.node');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('weft_tap.node not found: build it with `npm ci` (or `node native/tap/build.mjs`)');
}

export function loadAddon(): WeftTapAddon {
  addon ??= createRequire(import.meta.url)(findAddon()) as WeftTapAddon;
  return addon;
}

/** Host-order u32 to dotted IPv4 text. */
export function u32ToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Dotted IPv4 text to the host-order u32 the addon takes. */
export function ipv4ToU32(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4) throw new Error(`bad IPv4 address ${ip}`);
  let v = 0;
  for (const s of p) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 255 || s === '') throw new Error(`bad IPv4 address ${ip}`);
    v = v * 256 + n;
  }
  return v;
}
