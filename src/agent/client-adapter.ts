import net from 'node:net';
import type { AgentXmppClient, ClientAction, ClientTimer } from './xmpp-client.js';

/**
 * node:net and timers around one AgentXmppClient: connects when told, feeds bytes and socket
 * events in, runs the actions out. Actions the client leaves to its owner (routes, down,
 * sweep, established) go to `onEvent` in order. Plain TCP; TLS (dialect notes 3.2) is not
 * done yet.
 */

export interface ControlNodeAddress {
  host: string;
  /** Default 5269. */
  port?: number;
  /** Bind the TCP source here first, as the agent binds its vhost0 address (section 1). */
  localAddress?: string;
}

/** The actions the client's owner handles. */
export type ClientEvent = Extract<ClientAction, { type: 'established' | 'routes' | 'config' | 'down' | 'sweep-stale' | 'ignored' }>;

/** setTimeout holds at most 2^31-1 ms; longer timers are re-armed by the client, which checks the time. */
const MAX_TIMER_MS = 0x7fffffff;

export class XmppClientAdapter {
  private socket: net.Socket | undefined;
  private readonly timers = new Map<ClientTimer, NodeJS.Timeout>();
  private readonly now: () => number;

  constructor(
    readonly client: AgentXmppClient,
    readonly address: ControlNodeAddress,
    private readonly onEvent: (e: ClientEvent) => void,
    now?: () => number,
  ) {
    this.now = now ?? (() => performance.now());
  }

  start(): void {
    this.run(this.client.start(this.now()));
  }

  stop(): void {
    this.run(this.client.stop(this.now()));
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.socket?.destroy();
    this.socket = undefined;
  }

  /** Runs actions from any of the client's methods (subscribe, publish, ...). */
  run(actions: ClientAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'connect':
          this.connect();
          break;
        case 'send':
          if (this.socket && !this.socket.destroyed) this.socket.write(a.bytes);
          break;
        case 'arm-timer': {
          clearTimeout(this.timers.get(a.timer));
          const t = setTimeout(() => {
            this.timers.delete(a.timer);
            this.run(this.client.timerExpired(a.timer, this.now()));
          }, Math.min(Math.max(a.ms, 0), MAX_TIMER_MS));
          t.unref();
          this.timers.set(a.timer, t);
          break;
        }
        case 'cancel-timer':
          clearTimeout(this.timers.get(a.timer));
          this.timers.delete(a.timer);
          break;
        case 'disconnect':
          if (this.socket) {
            const s = this.socket;
            this.socket = undefined;
            s.end();
            // Our close must not come back as the peer's.
            s.removeAllListeners('close');
            s.removeAllListeners('end');
            setTimeout(() => s.destroy(), 1_000).unref();
          }
          break;
        default:
          this.onEvent(a);
      }
    }
  }

  private connect(): void {
    const o: net.NetConnectOpts = { host: this.address.host, port: this.address.port ?? 5269 };
    if (this.address.localAddress) o.localAddress = this.address.localAddress;
    const s = net.connect(o);
    this.socket = s;
    s.setNoDelay(true);
    let up = false;
    s.on('connect', () => {
      if (this.socket !== s) return;
      up = true;
      // Section 4's TCP keepalive (idle 5 s); its interval and probe count need socket options Node lacks.
      s.setKeepAlive(true, 5_000);
      this.run(this.client.connected(this.now()));
    });
    s.on('data', (b: Buffer) => {
      if (this.socket === s) this.run(this.client.receive(b, this.now()));
    });
    // Resets and refusals: 'close' follows and does the work.
    s.on('error', () => {});
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.run(up ? this.client.peerClosed(this.now()) : this.client.connectFailed(this.now()));
    });
  }
}
