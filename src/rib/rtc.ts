import { routeTargetsOf } from './path.js';
import type { PathAttributes } from './path.js';
import { formatExtCommunity, isRouteTarget } from './route-target.js';

/**
 * RFC 4684 route target membership NLRI as the RIB sees it. prefixLength is the NLRI length
 * in bits: 0 is the default route (the peer wants every VPN route), otherwise 32 bits of
 * origin AS followed by 0..64 bits of the route target (a partial RT matches every RT that
 * starts with those bits).
 */
export interface RtMembershipRoute {
  readonly prefixLength: number;
  readonly originAs: number;
  /** The full 8-byte field; bits past the prefix are ignored (and zeroed by normalisation). */
  readonly routeTarget: bigint;
}

const MASK64 = (1n << 64n) - 1n;

export function normaliseMembership(m: RtMembershipRoute): RtMembershipRoute {
  const len = m.prefixLength;
  if (!Number.isInteger(len) || (len !== 0 && (len < 32 || len > 96))) {
    throw new TypeError(`RT membership prefix length must be 0 or 32..96, got ${len}`);
  }
  if (len === 0) return { prefixLength: 0, originAs: 0, routeTarget: 0n };
  const bits = BigInt(len - 32);
  const keep = bits === 0n ? 0n : (MASK64 << (64n - bits)) & MASK64;
  return { prefixLength: len, originAs: m.originAs >>> 0, routeTarget: m.routeTarget & keep };
}

/** Route key for the RT membership table (bgp.rtarget.0): '64512:target:64512:1/96'. */
export function rtcRouteKey(m: RtMembershipRoute): string {
  const n = normaliseMembership(m);
  return `${n.originAs}:${formatExtCommunity(n.routeTarget)}/${n.prefixLength}`;
}

interface PartialRt {
  readonly key: string;
  readonly shift: bigint;
  readonly value: bigint;
  count: number;
}

interface PeerInterest {
  /** RTC route keys received from the peer, so a re-announcement is not counted twice. */
  readonly routes: Set<string>;
  wantsAll: number;
  /** Full 64-bit RT -> number of membership routes (different origin ASes) asking for it. */
  readonly exact: Map<bigint, number>;
  partial: PartialRt[];
}

/**
 * Per-peer route target interest, fed from the RTC routes each peer advertises, and the
 * outbound filter for VPN routes. Exact RTs (the common case) are a Set lookup per RT of the
 * route; partial prefixes are a short list scanned after that.
 */
export class RtMembership {
  private readonly peers = new Map<string, PeerInterest>();

  /** Registers a peer that negotiated RTC: until it advertises membership it wants nothing. */
  addPeer(peer: string): void {
    if (!this.peers.has(peer)) this.peers.set(peer, { routes: new Set(), wantsAll: 0, exact: new Map(), partial: [] });
  }

  hasPeer(peer: string): boolean {
    return this.peers.has(peer);
  }

  removePeer(peer: string): void {
    this.peers.delete(peer);
  }

  /** Returns true when the peer's interest grew (time to send it the routes it now wants). */
  add(peer: string, route: RtMembershipRoute): boolean {
    this.addPeer(peer);
    const st = this.peers.get(peer)!;
    const m = normaliseMembership(route);
    const key = rtcRouteKey(m);
    if (st.routes.has(key)) return false;
    st.routes.add(key);
    if (m.prefixLength === 0) {
      st.wantsAll++;
      return true;
    }
    const bits = m.prefixLength - 32;
    if (bits === 64) {
      st.exact.set(m.routeTarget, (st.exact.get(m.routeTarget) ?? 0) + 1);
      return true;
    }
    const shift = BigInt(64 - bits);
    const pkey = `${bits}/${m.routeTarget.toString(16)}`;
    const hit = st.partial.find((p) => p.key === pkey);
    if (hit) hit.count++;
    else st.partial.push({ key: pkey, shift, value: m.routeTarget >> shift, count: 1 });
    return true;
  }

  /** Returns true when the route was known (the peer's interest may have shrunk). */
  remove(peer: string, route: RtMembershipRoute): boolean {
    const st = this.peers.get(peer);
    if (!st) return false;
    const m = normaliseMembership(route);
    if (!st.routes.delete(rtcRouteKey(m))) return false;
    if (m.prefixLength === 0) {
      st.wantsAll--;
      return true;
    }
    const bits = m.prefixLength - 32;
    if (bits === 64) {
      const n = (st.exact.get(m.routeTarget) ?? 1) - 1;
      if (n === 0) st.exact.delete(m.routeTarget);
      else st.exact.set(m.routeTarget, n);
      return true;
    }
    const pkey = `${bits}/${m.routeTarget.toString(16)}`;
    const hit = st.partial.find((p) => p.key === pkey);
    if (hit && --hit.count === 0) st.partial = st.partial.filter((p) => p !== hit);
    return true;
  }

  /**
   * Whether a VPN route with these attributes (or ext communities) should go to the peer.
   * A peer unknown here did not negotiate RTC; filtering it is the caller's choice, so the
   * answer is false and hasPeer tells the two cases apart.
   */
  peerWantsRoute(peer: string, route: PathAttributes | readonly bigint[]): boolean {
    const st = this.peers.get(peer);
    if (!st) return false;
    if (st.wantsAll > 0) return true;
    return wants(st, route);
  }

  peersWanting(route: PathAttributes | readonly bigint[]): string[] {
    const out: string[] = [];
    for (const [peer, st] of this.peers) if (st.wantsAll > 0 || wants(st, route)) out.push(peer);
    return out;
  }
}

function wants(st: PeerInterest, route: PathAttributes | readonly bigint[]): boolean {
  const fromAttrs = !isBigintList(route);
  const values = fromAttrs ? routeTargetsOf(route) : route;
  const partial = st.partial;
  for (const v of values) {
    if (!fromAttrs && !isRouteTarget(v)) continue;
    if (st.exact.has(v)) return true;
    for (const p of partial) if (v >> p.shift === p.value) return true;
  }
  return false;
}

function isBigintList(r: PathAttributes | readonly bigint[]): r is readonly bigint[] {
  return Array.isArray(r);
}
