/**
 * What the introspect server needs from a BGP speaker, and the JSON it serves. Kept narrow and
 * structural: src/bgp/speaker.ts's Speaker satisfies it as is, tests use a fake, and fields the
 * speaker adds later pass through to clients without a change here.
 */
import type { FamilyName } from '../bgp/families.js';
import type { NeighborConfig as SpeakerNeighborConfig } from '../bgp/speaker-config.js';
import type { NeighborConfig } from '../config/bgp-speaker.js';

export interface MessageCountsView {
  update: number;
  total: number;
}

/** The fields of a neighbour snapshot the server and `weft bgp neighbors` read. */
export interface NeighborView {
  address: string;
  remoteAs: number;
  state: string;
  uptimeSeconds: number | undefined;
  received: MessageCountsView;
  sent: MessageCountsView;
  prefixesReceived: number;
  prefixesAdvertised: Partial<Record<FamilyName, number>>;
  negotiated?: { holdTime: number; families: FamilyName[] };
  lastDown?: { reason: string; at: string; notification?: { code: number; subcode: number; sent: boolean } };
}

export interface PathAttributesView {
  origin: string;
  asPath: string;
  nextHop: string;
  med?: number;
  localPref?: number;
  communities: number[];
  extCommunities: string[];
  originatorId?: string;
  clusterList: string[];
}

export interface RoutePathView {
  source: string;
  best: boolean;
  stale: boolean;
  labels?: number[];
  attributes: PathAttributesView;
}

export interface RouteEntryView {
  /** 'rd:prefix' for VPN families, the prefix for IPv4, 'origin-as:target:x:y/len' for RTC. */
  key: string;
  paths: RoutePathView[];
}

export interface IntrospectSpeaker {
  neighborsSnapshot(): NeighborView[];
  /** At most `limit` destinations of the family's Loc-RIB. */
  rib(family: FamilyName, limit?: number): RouteEntryView[];
  /** Throws when the neighbour exists or the speaker refuses the config. */
  addNeighbor(cfg: SpeakerNeighborConfig): void;
  removeNeighbor(address: string): boolean;
  /** Ends a max-prefix hold-down; false when there is none. */
  clearNeighbor?(address: string): boolean;
}

/** GET /bgp/neighbors and /bgp/neighbors/<addr>: the speaker's snapshot plus the config as written. */
export type NeighborResponse = NeighborView & { config?: NeighborConfig; description?: string };

/** GET /bgp/rib/<family> */
export interface RibResponse {
  family: FamilyName;
  /** Junos/Contrail table name: bgp.l3vpn.0 ... */
  table: string;
  routes: RouteEntryView[];
  /** More destinations exist than `limit` allowed. */
  truncated: boolean;
}

/** Every 4xx/5xx body. `issues` lists each invalid field of a request body by its JSON path. */
export interface ErrorResponse {
  error: string;
  issues?: { path: string; message: string }[];
}
