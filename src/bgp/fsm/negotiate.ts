/**
 * OPEN message checking (RFC 4271 section 6.2, RFC 6793, RFC 5492, RFC 6286, RFC 7607) and the
 * capability negotiation result a session runs with.
 */
import { encodeCapability } from '../../../codecs/bgp/capabilities.js';
import { openCapabilities } from '../../../codecs/bgp/open.js';
import { Writer } from '../../../codecs/util/writer.js';
import { AS_TRANS, localCapabilities, parseBgpId } from './config.js';
import type { RequiredCapability, ResolvedConfig } from './config.js';
import type { AfiSafi, Capability, GracefulRestartFamily, NotificationMessage, OpenMessage } from './messages.js';
import { ErrorCode, OpenSubcode, notification } from './notification.js';
import { keepaliveSeconds } from './timers.js';
export interface NegotiatedAddPath extends AfiSafi {
  /** We may send several paths per prefix (we advertised send, the peer receive). */
  send: boolean;
  /** The peer may send us several paths per prefix. */
  receive: boolean;
}

export interface Negotiated {
  /** Seconds; 0 means no KEEPALIVEs and no hold timer. */
  holdTime: number;
  keepaliveTime: number;
  peerAs: number;
  peerId: string;
  /** Both sides speak 4-octet AS numbers (AS_PATH encoding, RFC 6793). */
  fourOctetAs: boolean;
  families: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  /** Families (among `families`) where ADD-PATH is on in at least one direction. */
  addPath: NegotiatedAddPath[];
  /** The peer's Graceful Restart information, when both sides advertised the capability. */
  gracefulRestart?: {
    /** R bit: the peer has restarted (keep its stale routes until End-of-RIB). */
    restart: boolean;
    notification: boolean;
    /** Seconds. */
    time: number;
    /** Restricted to negotiated families. */
    families: GracefulRestartFamily[];
  };
  /** Everything the peer advertised, as received. */
  peerCapabilities: Capability[];
}

export type OpenCheck = { ok: true; negotiated: Negotiated } | { ok: false; notification: NotificationMessage };

export const IPV4_UNICAST: AfiSafi = { afi: 1, safi: 1 };

function sameFamily(a: AfiSafi, b: AfiSafi): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

function has<K extends Capability['kind']>(caps: Capability[], kind: K): Extract<Capability, { kind: K }> | undefined {
  for (const c of caps) if (c.kind === kind) return c as Extract<Capability, { kind: K }>;
  return undefined;
}

/** RFC 2918 route refresh, or its pre-standard Cisco code 128 that some peers still send alone. */
function hasRouteRefresh(caps: Capability[]): boolean {
  return has(caps, 'route-refresh') !== undefined || has(caps, 'route-refresh-cisco') !== undefined;
}

/** RFC 4760 section 7 / RFC 4271: a peer without any MP capability speaks IPv4 unicast only. */
function peerFamilies(caps: Capability[]): AfiSafi[] {
  const out: AfiSafi[] = [];
  for (const c of caps) if (c.kind === 'multiprotocol') out.push({ afi: c.afi, safi: c.safi });
  return out.length > 0 ? out : [IPV4_UNICAST];
}

function fail(subcode: number, data?: Uint8Array): OpenCheck {
  return { ok: false, notification: notification(ErrorCode.OpenMessage, subcode, data) };
}

/**
 * Checks a received OPEN against our configuration and, when it is acceptable, returns what the
 * session runs with; otherwise the NOTIFICATION to send. The order of checks follows RFC 4271
 * section 6.2 so that a peer with several faults hears about the first one it lists.
 */
export function checkOpen(open: OpenMessage, cfg: ResolvedConfig): OpenCheck {
  // RFC 4271 6.2: the data is the largest version we support (as a 2-octet integer).
  if (open.version !== 4) return fail(OpenSubcode.UnsupportedVersion, Uint8Array.of(0, 4));

  const caps = openCapabilities(open);
  const peerAsCap = has(caps, 'four-octet-as');
  const fourOctetAs = cfg.fourOctetAs && peerAsCap !== undefined;
  // RFC 6793 section 4.1: with the capability the real AS is the capability's, My AS is AS_TRANS.
  const peerAs = fourOctetAs && peerAsCap ? peerAsCap.asn : open.myAs;
  // RFC 7607: AS 0 is never acceptable, in My AS nor in the capability.
  if (peerAs === 0 || open.myAs === 0) return fail(OpenSubcode.BadPeerAs);
  if (cfg.peerAs !== undefined && peerAs !== cfg.peerAs) return fail(OpenSubcode.BadPeerAs);

  if (open.holdTime === 1 || open.holdTime === 2) return fail(OpenSubcode.UnacceptableHoldTime);
  if (open.holdTime !== 0 && open.holdTime < cfg.minHoldTime) return fail(OpenSubcode.UnacceptableHoldTime);

  // RFC 6286: any non-zero identifier, unique within the AS (so equal to ours only across ASes).
  const peerIdNum = parseBgpId(open.bgpId);
  if (peerIdNum <= 0) return fail(OpenSubcode.BadBgpIdentifier);
  if (peerAs === cfg.localAs && peerIdNum === cfg.localIdNum) return fail(OpenSubcode.BadBgpIdentifier);

  // RFC 4271 6.2: any optional parameter we do not recognise (everything but Capabilities).
  for (const p of open.params) if (p.kind !== 'capabilities') return fail(OpenSubcode.UnsupportedOptionalParameter);

  const pFamilies = peerFamilies(caps);
  const missing = missingRequired(cfg, caps, pFamilies);
  if (missing.length > 0) return fail(OpenSubcode.UnsupportedCapability, capabilityData(missing, cfg));

  const holdTime = Math.min(cfg.holdTime, open.holdTime);
  const families = cfg.families.filter((f) => pFamilies.some((p) => sameFamily(p, f)));
  const routeRefresh = cfg.routeRefresh && hasRouteRefresh(caps);
  const negotiated: Negotiated = {
    holdTime,
    keepaliveTime: keepaliveSeconds(holdTime, cfg.keepaliveTime),
    peerAs,
    peerId: open.bgpId,
    fourOctetAs,
    families,
    routeRefresh,
    // RFC 7313 section 3: enhanced route refresh rides on route refresh.
    enhancedRouteRefresh: routeRefresh && cfg.enhancedRouteRefresh && has(caps, 'enhanced-route-refresh') !== undefined,
    extendedMessage: cfg.extendedMessage && has(caps, 'extended-message') !== undefined,
    addPath: negotiateAddPath(cfg, caps, families),
    peerCapabilities: caps,
  };
  const peerGr = has(caps, 'graceful-restart');
  if (cfg.gracefulRestart !== undefined && peerGr !== undefined) {
    negotiated.gracefulRestart = {
      restart: peerGr.restart,
      notification: peerGr.notification,
      time: peerGr.time,
      families: peerGr.families
        .filter((f) => families.some((n) => sameFamily(n, f)))
        .map((f): GracefulRestartFamily => ({ afi: f.afi, safi: f.safi, forwarding: f.forwarding })),
    };
  }
  return { ok: true, negotiated };
}

function negotiateAddPath(cfg: ResolvedConfig, caps: Capability[], families: AfiSafi[]): NegotiatedAddPath[] {
  const peer = has(caps, 'add-path');
  if (peer === undefined) return [];
  const out: NegotiatedAddPath[] = [];
  for (const ours of cfg.addPath) {
    if (!families.some((f) => sameFamily(f, ours))) continue;
    const theirs = peer.families.find((f) => sameFamily(f, ours));
    if (theirs === undefined) continue;
    // RFC 7911 section 4: send needs our "send" and their "receive", and vice versa.
    const send = (ours.sendReceive & 2) !== 0 && (theirs.sendReceive & 1) !== 0;
    const receive = (ours.sendReceive & 1) !== 0 && (theirs.sendReceive & 2) !== 0;
    if (send || receive) out.push({ afi: ours.afi, safi: ours.safi, send, receive });
  }
  return out;
}

function missingRequired(cfg: ResolvedConfig, caps: Capability[], pFamilies: AfiSafi[]): RequiredCapability[] {
  const missing: RequiredCapability[] = [];
  for (const r of cfg.requiredCapabilities) {
    let ok: boolean;
    if (r.type === 'multiprotocol') ok = pFamilies.some((f) => sameFamily(f, r));
    else if (r.type === 'add-path') {
      const ap = has(caps, 'add-path');
      ok = ap !== undefined && ap.families.some((f) => sameFamily(f, r));
    } else if (r.type === 'route-refresh') ok = hasRouteRefresh(caps);
    else ok = has(caps, r.type) !== undefined;
    if (!ok) missing.push(r);
  }
  return missing;
}

/**
 * RFC 5492 section 5: the 2/7 data field lists the capabilities we wanted, as capability TLVs,
 * with the values we advertise ourselves.
 */
function capabilityData(missing: RequiredCapability[], cfg: ResolvedConfig): Uint8Array {
  const ours = localCapabilities(cfg);
  const w = new Writer(32);
  for (const r of missing) encodeCapability(w, requiredAsCapability(r, ours, cfg));
  return w.finish();
}

function requiredAsCapability(r: RequiredCapability, ours: Capability[], cfg: ResolvedConfig): Capability {
  switch (r.type) {
    case 'multiprotocol':
      return { kind: 'multiprotocol', code: 1, afi: r.afi, reserved: 0, safi: r.safi };
    case 'add-path': {
      const ap = cfg.addPath.find((f) => sameFamily(f, r));
      return { kind: 'add-path', code: 69, families: [{ afi: r.afi, safi: r.safi, sendReceive: ap?.sendReceive ?? 3 }] };
    }
    case 'route-refresh':
      return { kind: 'route-refresh', code: 2 };
    case 'enhanced-route-refresh':
      return { kind: 'enhanced-route-refresh', code: 70 };
    case 'extended-message':
      return { kind: 'extended-message', code: 6 };
    case 'four-octet-as':
      return { kind: 'four-octet-as', code: 65, asn: cfg.localAs };
    case 'graceful-restart':
      return (
        has(ours, 'graceful-restart') ?? {
          kind: 'graceful-restart',
          code: 64,
          restart: false,
          notification: false,
          reservedFlags: 0,
          time: 0,
          families: [],
        }
      );
  }
}

/** Our OPEN (RFC 6793: My AS is AS_TRANS when the local AS needs 4 octets). */
export function buildOpen(cfg: ResolvedConfig): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: cfg.localAs > 0xffff ? AS_TRANS : cfg.localAs,
    holdTime: cfg.holdTime,
    bgpId: cfg.localId,
    params: [{ kind: 'capabilities', type: 2, capabilities: localCapabilities(cfg) }],
  };
}
