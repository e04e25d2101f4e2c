/**
 * The BGP messages the neighbor FSM consumes and produces are the codec's own (codecs/bgp
 * message union), so the adapter passes decoded messages straight in and encodes what comes
 * out. UPDATE is opaque to the FSM: it is handed to the RIB layer as decoded.
 */
import type { BgpMessage } from '../../../codecs/bgp/index.js';

export type { AfiSafi, BgpMessage, Capability } from '../../../codecs/bgp/index.js';

export type OpenMessage = Extract<BgpMessage, { type: 'open' }>;
export type UpdateMessage = Extract<BgpMessage, { type: 'update' }>;
export type NotificationMessage = Extract<BgpMessage, { type: 'notification' }>;
export type KeepaliveMessage = Extract<BgpMessage, { type: 'keepalive' }>;
export type RouteRefreshMessage = Extract<BgpMessage, { type: 'route-refresh' }>;

/** Local add-path setting per family; RFC 7911 Send/Receive: 1 receive, 2 send, 3 both. */
export interface AddPathFamily {
  afi: number;
  safi: number;
  sendReceive: number;
}

export interface GracefulRestartFamily {
  afi: number;
  safi: number;
  /** F bit: forwarding state was preserved across the restart. */
  forwarding: boolean;
}
