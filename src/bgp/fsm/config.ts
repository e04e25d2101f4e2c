/**
 * Per-neighbor settings the FSM needs, with defaults filled in once at construction.
 */
import type { AddPathFamily, AfiSafi, Capability, GracefulRestartFamily } from './messages.js';
import type { BackoffConfig } from './timers.js';

/** A capability the peer must advertise, or the OPEN is refused with 2/7 (RFC 5492). */
export type RequiredCapability =
  | ({ type: 'multiprotocol' } & AfiSafi)
  | { type: 'route-refresh' | 'enhanced-route-refresh' | 'extended-message' | 'four-octet-as' | 'graceful-restart' }
  | ({ type: 'add-path' } & AfiSafi);

export interface FsmConfig {
  localAs: number;
  /** Our BGP identifier, dotted quad. */
  localId: string;
  /** Expected peer AS; undefined accepts any (the AS then comes from the OPEN). */
  peerAs?: number;
  /** Seconds; 0 disables keepalives and the hold timer, otherwise at least 3. Default 90. */
  holdTime?: number;
  /** Seconds; caps the keepalive interval below hold/3. */
  keepaliveTime?: number;
  /** Seconds; a non-zero peer hold time below this is refused (2/6). Default 3. */
  minHoldTime?: number;
  /** Address families to advertise. Default IPv4 unicast. */
  families?: AfiSafi[];
  routeRefresh?: boolean;
  enhancedRouteRefresh?: boolean;
  fourOctetAs?: boolean;
  extendedMessage?: boolean;
  /** Advertise Graceful Restart (RFC 4724): restart time in seconds, R and N (RFC 8538) bits. */
  gracefulRestart?: { time: number; notification?: boolean; restart?: boolean; families: GracefulRestartFamily[] };
  addPath?: AddPathFamily[];
  requiredCapabilities?: RequiredCapability[];
  /** RFC 4271 DelayOpen: wait this long after TCP comes up before sending OPEN. 0 = off. */
  delayOpenMs?: number;
  /** ConnectRetryTimer back-off. Default 5 s doubling up to 120 s (RFC 4271 suggests 120 s). */
  connectRetry?: BackoffConfig;
  /**
   * IdleHoldTimer damping after failures: base * 2^(failures-1) up to max; failures are
   * forgotten after `forgetMs` without one. Default 5 s .. 300 s, forget after 600 s.
   */
  idleHold?: BackoffConfig & { forgetMs: number };
  /** Restart by itself (after the IdleHoldTimer) when the session fails. Default true. */
  automaticRestart?: boolean;
  /** Timer jitter factor source (RFC 4271 section 10 suggests 0.75..1); default none. */
  jitter?: () => number;
}

export interface ResolvedConfig {
  localAs: number;
  localId: string;
  localIdNum: number;
  peerAs: number | undefined;
  holdTime: number;
  keepaliveTime: number | undefined;
  minHoldTime: number;
  families: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  fourOctetAs: boolean;
  extendedMessage: boolean;
  gracefulRestart: FsmConfig['gracefulRestart'];
  addPath: AddPathFamily[];
  requiredCapabilities: RequiredCapability[];
  delayOpenMs: number;
  connectRetry: BackoffConfig;
  idleHold: BackoffConfig & { forgetMs: number };
  automaticRestart: boolean;
  jitter: () => number;
}

export const AS_TRANS = 23456;

/** Dotted quad to its 32-bit value, or -1 when it is not one. */
export function parseBgpId(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return -1;
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

const noJitter = (): number => 1;

/** Fills defaults and rejects settings no peer could agree to (a programming error, so it throws). */
export function resolveConfig(c: FsmConfig): ResolvedConfig {
  const localIdNum = parseBgpId(c.localId);
  if (localIdNum <= 0) throw new RangeError(`localId ${c.localId} is not a non-zero dotted quad`);
  if (!Number.isInteger(c.localAs) || c.localAs <= 0 || c.localAs > 0xffffffff) {
    throw new RangeError(`localAs ${c.localAs} is not a valid AS number`);
  }
  const fourOctetAs = c.fourOctetAs ?? true;
  if (!fourOctetAs && c.localAs > 0xffff) throw new RangeError('a 4-octet localAs needs the four-octet-as capability');
  const holdTime = c.holdTime ?? 90;
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 0xffff || holdTime === 1 || holdTime === 2) {
    throw new RangeError(`holdTime ${holdTime} must be 0 or 3..65535`);
  }
  return {
    localAs: c.localAs,
    localId: c.localId,
    localIdNum,
    peerAs: c.peerAs,
    holdTime,
    keepaliveTime: c.keepaliveTime,
    minHoldTime: c.minHoldTime ?? 3,
    families: c.families ?? [{ afi: 1, safi: 1 }],
    routeRefresh: c.routeRefresh ?? true,
    enhancedRouteRefresh: c.enhancedRouteRefresh ?? false,
    fourOctetAs,
    extendedMessage: c.extendedMessage ?? false,
    gracefulRestart: c.gracefulRestart,
    addPath: c.addPath ?? [],
    requiredCapabilities: c.requiredCapabilities ?? [],
    delayOpenMs: c.delayOpenMs ?? 0,
    connectRetry: c.connectRetry ?? { baseMs: 5_000, maxMs: 120_000 },
    idleHold: c.idleHold ?? { baseMs: 5_000, maxMs: 300_000, forgetMs: 600_000 },
    automaticRestart: c.automaticRestart ?? true,
    jitter: c.jitter ?? noJitter,
  };
}

/** The capabilities we advertise, in the order our OPEN carries them. */
export function localCapabilities(c: ResolvedConfig): Capability[] {
  const caps: Capability[] = [];
  for (const f of c.families) caps.push({ kind: 'multiprotocol', code: 1, afi: f.afi, reserved: 0, safi: f.safi });
  if (c.routeRefresh) caps.push({ kind: 'route-refresh', code: 2 });
  if (c.enhancedRouteRefresh) caps.push({ kind: 'enhanced-route-refresh', code: 70 });
  if (c.fourOctetAs) caps.push({ kind: 'four-octet-as', code: 65, asn: c.localAs });
  if (c.gracefulRestart) {
    const gr = c.gracefulRestart;
    caps.push({
      kind: 'graceful-restart',
      code: 64,
      restart: gr.restart ?? false,
      notification: gr.notification ?? false,
      reservedFlags: 0,
      time: gr.time,
      families: gr.families.map((f) => ({ afi: f.afi, safi: f.safi, forwarding: f.forwarding, reservedFlags: 0 })),
    });
  }
  if (c.addPath.length > 0) {
    caps.push({ kind: 'add-path', code: 69, families: c.addPath.map((f) => ({ afi: f.afi, safi: f.safi, sendReceive: f.sendReceive })) });
  }
  if (c.extendedMessage) caps.push({ kind: 'extended-message', code: 6 });
  return caps;
}
