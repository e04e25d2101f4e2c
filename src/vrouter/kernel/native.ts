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
  /** Frames written before the fd would block. */
  writeBatch(fd: number, frames: readonly Uint8Array[]): number;
  /** `dst` is the IPv4 address as a host-order u32. */
  sendTo(fd: number, packet: Uint8Array, dst: number): number;
  sendBatch(fd: number, packets: readonly Uint8Array[], dsts: Uint32Array): number;
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
