/**
 * Connection collision resolution (RFC 4271 section 6.8, RFC 6286 section 2.3). The adapter
 * runs one FSM per connection; when both connections to a peer are alive it asks which one to
 * keep as soon as an OPEN tells it the peer's identifier, and steps the other one with
 * OpenCollisionDump (which sends Cease 6/7).
 */
import type { FsmState } from './actions.js';
import { parseBgpId } from './config.js';
import type { BgpFsm } from './fsm.js';
import type { Direction } from './fsm.js';

export interface CollisionInput {
  inboundState: FsmState;
  outboundState: FsmState;
  localId: string;
  remoteId: string;
  /** Needed only when the identifiers are equal (eBGP under RFC 6286). */
  localAs: number;
  remoteAs: number;
}

/** States in which a connection carries a BGP session worth comparing. */
function inSession(s: FsmState): boolean {
  return s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established';
}

/**
 * Which connection survives, or undefined when there is nothing to resolve yet (one side has
 * no BGP session on its connection).
 */
export function collisionWinner(c: CollisionInput): Direction | undefined {
  if (!inSession(c.inboundState) || !inSession(c.outboundState)) return undefined;
  // An Established session is never given up for a newcomer (section 6.8).
  if (c.inboundState === 'Established') return 'inbound';
  if (c.outboundState === 'Established') return 'outbound';
  const local = parseBgpId(c.localId);
  const remote = parseBgpId(c.remoteId);
  // The connection opened by the speaker with the higher identifier wins: ours is outbound.
  if (local !== remote) return local > remote ? 'outbound' : 'inbound';
  // RFC 6286: equal identifiers (possible across ASes) fall back to the larger AS number.
  return c.localAs > c.remoteAs ? 'outbound' : 'inbound';
}

export interface CollisionVerdict {
  keep: BgpFsm;
  dump: BgpFsm;
}

/**
 * Resolves a collision between the two FSMs of one peer. The peer's identifier and AS come
 * from whichever FSM has accepted the peer's OPEN, unless the caller knows them already (an
 * OPEN just decoded on a connection in OpenSent). Undefined: no collision to settle yet.
 */
export function resolveCollision(
  inbound: BgpFsm,
  outbound: BgpFsm,
  peer?: { remoteId: string; remoteAs: number },
): CollisionVerdict | undefined {
  const neg = inbound.negotiated ?? outbound.negotiated;
  const remoteId = peer?.remoteId ?? neg?.peerId;
  const remoteAs = peer?.remoteAs ?? neg?.peerAs;
  if (remoteId === undefined || remoteAs === undefined) return undefined;
  const winner = collisionWinner({
    inboundState: inbound.state,
    outboundState: outbound.state,
    localId: inbound.config.localId,
    remoteId,
    localAs: inbound.config.localAs,
    remoteAs,
  });
  if (winner === undefined) return undefined;
  return winner === 'inbound' ? { keep: inbound, dump: outbound } : { keep: outbound, dump: inbound };
}
