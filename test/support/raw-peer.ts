/**
 * A hand-driven BGP peer on a raw TCP socket, for the faults no daemon will commit on demand:
 * malformed UPDATEs, a peer that goes silent after OPEN. It sends what the test says and keeps
 * every message weft sends back.
 */
import net from 'node:net';
import { bgpMessageLength } from '../../codecs/bgp/header.js';
import { decodeBgpMessage, encodeBgpMessage, type BgpMessage } from '../../codecs/bgp/message.js';
import { waitFor } from '../interop/support/wait.js';

const OPTS = { fourOctetAs: true } as const;

export class RawPeer {
  readonly got: BgpMessage[] = [];
  closed = false;
  private buf = new Uint8Array(0);

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      const all = new Uint8Array(this.buf.length + d.length);
      all.set(this.buf);
      all.set(d, this.buf.length);
      let off = 0;
      for (;;) {
        const len = bgpMessageLength(all, off);
        if (len === undefined || off + len > all.length) break;
        this.got.push(decodeBgpMessage(all, off, OPTS));
        off += len;
      }
      this.buf = all.slice(off);
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }

  send(m: BgpMessage): void {
    this.sock.write(encodeBgpMessage(m, OPTS));
  }

  sendBytes(b: Uint8Array): void {
    this.sock.write(b);
  }

  notification(): Extract<BgpMessage, { type: 'notification' }> | undefined {
    return this.got.find((m): m is Extract<BgpMessage, { type: 'notification' }> => m.type === 'notification');
  }

  /** Connects from `local`, exchanges OPENs (IPv4 unicast + VPNv4, 4-octet AS) and waits for weft's End-of-RIB. */
  static async establish(o: { local: string; remote: string; port: number; asn: number; holdTime: number }): Promise<RawPeer> {
    const s = net.connect({ host: o.remote, port: o.port, localAddress: o.local });
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    const p = new RawPeer(s);
    p.send({
      type: 'open',
      version: 4,
      myAs: o.asn,
      holdTime: o.holdTime,
      bgpId: o.local,
      params: [
        {
          kind: 'capabilities',
          type: 2,
          capabilities: [
            { kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 1 },
            { kind: 'multiprotocol', code: 1, afi: 1, reserved: 0, safi: 128 },
            { kind: 'four-octet-as', code: 65, asn: o.asn },
          ],
        },
      ],
    });
    await waitFor('OPEN from weft', () => p.got.some((m) => m.type === 'open'), 10_000, 20);
    p.send({ type: 'keepalive' });
    await waitFor('End-of-RIB from weft', () => p.got.filter((m) => m.type === 'update').length >= 2, 10_000, 20);
    return p;
  }
}

/** Bytes of a path attribute (extended length when the value needs it). */
export function attr(flags: number, code: number, value: readonly number[]): number[] {
  if (value.length > 255) return [flags | 0x10, code, value.length >> 8, value.length & 0xff, ...value];
  return [flags & ~0x10, code, value.length, ...value];
}

const ip4 = (a: string) => a.split('.').map(Number);

/** VPNv4 NLRI: one label (bottom of stack), RD type 0 `asn:n`, an IPv4 prefix. */
export function vpnNlri(label: number, asn: number, n: number, prefix: string, bits: number): number[] {
  const l = (label << 4) | 1;
  const p = ip4(prefix).slice(0, (bits + 7) >> 3);
  return [24 + 64 + bits, (l >> 16) & 0xff, (l >> 8) & 0xff, l & 0xff, 0, 0, asn >> 8, asn & 0xff, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, ...p];
}

export function mpReachVpn(nextHop: string, nlri: number[]): number[] {
  return attr(0x80, 14, [0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, ...ip4(nextHop), 0, ...nlri]);
}

export const ORIGIN_IGP = attr(0x40, 1, [0]);
export const AS_PATH_EMPTY = attr(0x40, 2, []);
export const LOCAL_PREF_100 = attr(0x40, 5, [0, 0, 0, 100]);
/** target:asn:n (type 0, sub-type 2). */
export const routeTarget = (asn: number, n: number) => attr(0xc0, 16, [0, 2, asn >> 8, asn & 0xff, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** An UPDATE with no withdrawn routes, the given attribute bytes and no IPv4 NLRI. */
export function updateBytes(attrs: readonly number[]): Uint8Array {
  const body = [0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs];
  const len = 19 + body.length;
  return Uint8Array.from([...new Array<number>(16).fill(0xff), len >> 8, len & 0xff, 2, ...body]);
}
