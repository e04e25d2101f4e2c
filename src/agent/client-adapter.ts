import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { AgentXmppClient, ClientAction, ClientTimer, ClientTls } from './xmpp-client.js';

/**
 * node:net and timers around one AgentXmppClient: connects when told, feeds bytes and socket
 * events in, runs the actions out. Actions the client leaves to its owner (routes, down,
 * sweep, established) go to `onEvent` in order. On the client's `start-tls` (dialect notes
 * 3.2) the TCP socket is wrapped with tls.connect and the stream goes on through it.
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
  /** The connection's socket: TCP, then the TLSSocket around it once STARTTLS ran. */
  private socket: net.Socket | undefined;
  /** The TCP socket under a TLSSocket, destroyed with it. */
  private tcp: net.Socket | undefined;
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
    this.tcp?.destroy();
    this.socket = undefined;
    this.tcp = undefined;
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
            const tcp = this.tcp;
            // Our close must not come back as the peer's: the listeners check this.socket.
            this.socket = undefined;
            this.tcp = undefined;
            s.end();
            setTimeout(() => {
              s.destroy();
              tcp?.destroy();
            }, 1_000).unref();
          }
          break;
        case 'start-tls':
          this.startTls(a.tls);
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

  /**
   * Section 3.2: TLS 1.2 or later over the connected socket. Without `ca` the CN's certificate
   * is taken as it comes (Contrail verifies only with a CA file); with it, the chain must
   * verify, and the name is not checked (the dialect gives none: agents dial addresses).
   */
  private startTls(files: ClientTls): void {
    const tcp = this.socket;
    if (!tcp) return;
    let o: tls.ConnectionOptions;
    try {
      o = {
        socket: tcp,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: files.ca !== undefined,
        checkServerIdentity: () => undefined,
        ...(files.cert !== undefined ? { cert: readFileSync(files.cert) } : {}),
        ...(files.key !== undefined ? { key: readFileSync(files.key) } : {}),
        ...(files.ca !== undefined ? { ca: readFileSync(files.ca) } : {}),
      };
    } catch (e) {
      this.run(this.client.tlsFailed(this.now(), (e as Error).message));
      return;
    }
    let t: tls.TLSSocket;
    try {
      t = tls.connect(o);
    } catch (e) {
      // A key that is not the certificate's, a PEM that does not parse.
      this.run(this.client.tlsFailed(this.now(), (e as Error).message));
      return;
    }
    this.socket = t;
    this.tcp = tcp;
    let secured = false;
    let failure: string | undefined;
    t.on('secureConnect', () => {
      if (this.socket !== t) return;
      secured = true;
      this.run(this.client.tlsEstablished(this.now()));
    });
    t.on('data', (b: Buffer) => {
      if (this.socket === t) this.run(this.client.receive(b, this.now()));
    });
    t.on('error', (e: Error & { code?: string }) => {
      failure ??= e.code ? `${e.code}: ${e.message}` : e.message;
    });
    t.on('close', () => {
      if (this.socket !== t) return;
      this.socket = undefined;
      this.tcp = undefined;
      tcp.destroy();
      // A TLS alert after the handshake (the CN refusing our certificate under TLS 1.3) is a TLS failure too.
      const tlsError = failure !== undefined && (!secured || /SSL|TLS|CERT/i.test(failure));
      this.run(tlsError ? this.client.tlsFailed(this.now(), failure!) : this.client.peerClosed(this.now()));
    });
  }
}
