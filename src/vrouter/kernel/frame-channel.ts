/**
 * Reading and writing one kernel fd that carries whole packets (a TAP, a raw IP socket):
 * readiness from the event loop, then one native call drains up to `batch` packets into a
 * reused slab. Measured on Node 20 this is several times faster than fs.read per frame in
 * the threadpool, and net.Socket cannot take a TAP fd at all (ERR_INVALID_FD_TYPE).
 */
import { closeSync } from 'node:fs';
import { loadAddon, type PollHandle, type WeftTapAddon } from './native.js';

export interface ChannelOptions {
  /** Largest packet read (bytes per slab slot). Default 65536 would waste memory; 2048 fits 1500 MTU + VNET header. */
  slot?: number;
  /** Packets read per native call. */
  batch?: number;
}

/**
 * Called with views into the channel's slab: they are overwritten by the next read, so copy
 * (`frame.slice()`) anything kept after the handler returns.
 */
export type BatchHandler = (frames: Uint8Array[]) => void;

export class FrameChannel {
  readonly fd: number;
  protected readonly addon: WeftTapAddon;
  private readonly slot: number;
  private readonly slab: Uint8Array;
  private readonly lens: Uint32Array;
  private readonly views: Uint8Array[] = [];
  private poll: PollHandle | undefined;
  private closed = false;
  private onClose: (() => void) | undefined;
  /** Read errors other than EAGAIN, e.g. EBADFD when the device went away. */
  readErrors = 0;

  constructor(fd: number, opts: ChannelOptions = {}) {
    this.fd = fd;
    this.addon = loadAddon();
    this.slot = opts.slot ?? 2048;
    const batch = opts.batch ?? 64;
    this.slab = new Uint8Array(this.slot * batch);
    this.lens = new Uint32Array(batch);
  }

  /** Starts delivering packets to `handler`, one call per batch read. */
  start(handler: BatchHandler, onError?: (err: Error) => void): void {
    if (this.closed) throw new Error('channel closed');
    if (this.poll) throw new Error('channel already started');
    this.poll = this.addon.pollStart(this.fd, () => {
      let n: number;
      try {
        n = this.addon.readBatch(this.fd, this.slab, this.slot, this.lens);
      } catch (err) {
        this.readErrors++;
        // A dead fd stays readable: stop instead of spinning on the error.
        this.stop();
        if (onError) onError(err as Error);
        return;
      }
      if (n === 0) return;
      const views = this.views;
      views.length = n;
      for (let i = 0; i < n; i++) views[i] = this.slab.subarray(i * this.slot, i * this.slot + this.lens[i]!);
      handler(views);
    });
  }

  stop(): void {
    if (!this.poll) return;
    this.addon.pollStop(this.poll);
    this.poll = undefined;
  }

  /** Packets as an async stream; each is a copy, so they may be kept. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    this.start(
      (frames) => {
        for (const f of frames) queue.push(f.slice());
        wake?.();
      },
      (err) => {
        failure = err;
        wake?.();
      },
    );
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (failure) throw failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          this.onClose = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.onClose = undefined;
      this.stop();
    }
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    closeSync(this.fd);
    this.onClose?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
