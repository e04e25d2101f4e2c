import type { LoadBalance } from '../../codecs/xmpp/index.js';
import type { Path, XmppSource } from '../rib/path.js';
import type { RouteChange, Table } from '../rib/table.js';

/**
 * The seam between the XMPP sessions and the routing instances. Sessions only ever talk to a
 * RouteHub: they hand it what agents publish and subscribe to, and it calls back with what
 * each subscribed agent must be told. The routing-instance / BGP replication layer plugs in
 * behind it through `table`, `onChange` and `changed`, without the sessions knowing.
 */

/** Unicast families carried to the hub; the others are accepted on the wire and not routed yet. */
export type UnicastFamily = 'inet' | 'inet6';

/**
 * One route as an agent publishes it (dialect notes sections 8.3 and 9), already checked by the
 * session: prefix in canonical form, exactly one next hop. Plain data, so it can be logged.
 */
export interface AgentRoute {
  /** `addr/plen`, host bits cleared. */
  prefix: string;
  /** The next hop's IPv4 address (the agent's vhost0). */
  nextHop: string;
  label: number;
  /** Known encapsulation names in the agent's order (`gre`, `udp`, `vxlan`, `mpls`, `native`). */
  encapsulations: string[];
  /** The next hop's MAC (vhost0 MAC; a Router-MAC community on the BGP side). */
  mac: string;
  tags: number[];
  /** 0 = absent. */
  localPreference: number;
  /** As sent; 0 = derive from local preference (section 9.1). */
  med: number;
  securityGroups: number[];
  communityTags: string[];
  /** Mobility sequence number (`mobility@seqno`, else `sequence-number`). */
  sequenceNumber: number;
  sticky: boolean;
  loadBalance: LoadBalance;
  subProtocol: string;
}

/** The current selection for one prefix; `ecmp` empty = the route is gone. */
export interface RouteUpdate {
  readonly prefix: string;
  /** Best first. The same array object goes to every subscriber of one flush. */
  readonly ecmp: readonly Path[];
}

/** An agent session as the hub sees it. */
export interface RouteSubscriber {
  readonly source: XmppSource;
  /** Routes of one table changed (or, right after subscribe, the table's whole content). */
  routes(instance: string, family: UnicastFamily, updates: readonly RouteUpdate[]): void;
}

export interface SubscribeOptions {
  /** The agent's VRF index: low 16 bits of the RD of what it publishes (section 8.2). */
  instanceId: number;
  /** `<no-ribout>true</no-ribout>`: take the agent's routes, send it none. */
  noRibout?: boolean;
}

/**
 * Who is subscribed to what, as it changes: what the control node asks its BGP peers for (RT
 * membership, rtc-membership.ts) follows the instances agents subscribed to. `down` ends every
 * subscription of the agent; `graceful` means its state is kept stale until `sweep` (its
 * end-of-RIB or the stale timer) removes what it did not renew by subscribing again.
 */
export type SubscriptionEvent =
  | { readonly kind: 'subscribe' | 'unsubscribe'; readonly source: XmppSource; readonly instance: string }
  | { readonly kind: 'down'; readonly source: XmppSource; readonly graceful: boolean }
  | { readonly kind: 'sweep'; readonly source: XmppSource };

export interface RouteHub {
  /** Register interest; the instance's current routes are delivered before this returns. */
  subscribe(sub: RouteSubscriber, instance: string, opts: SubscribeOptions): void;
  /** Stop deliveries; the agent's remaining paths in the instance are withdrawn. */
  unsubscribe(sub: RouteSubscriber, instance: string): void;
  /** Add or replace the agent's path for the prefix. */
  publish(source: XmppSource, instance: string, family: UnicastFamily, route: AgentRoute): void;
  withdraw(source: XmppSource, instance: string, family: UnicastFamily, prefix: string): void;
  /** The agent finished its initial publishes: stale paths it did not refresh go. */
  endOfRib(source: XmppSource): void;
  /**
   * The agent's session ended. `graceful`: keep its paths, marked stale, until it re-publishes
   * and sends end-of-RIB, or `sweepStale` (the adapter's timer); otherwise they go now.
   * Every subscription of this subscriber ends.
   */
  agentDown(sub: RouteSubscriber, graceful: boolean): void;
  sweepStale(source: XmppSource): void;
  /** Deliver everything changed since the last flush (coalesced per prefix). */
  flush(): void;

  // ---- for the routing-instance / replication layer ----

  /** The instance's table (`<instance>.inet.0` / `.inet6.0`), created on demand. */
  table(instance: string, family: UnicastFamily): Table;
  /** Changes the hub made to its tables, before they are fanned out. */
  onChange(listener: (changes: readonly RouteChange[]) => void): void;
  /** Changes someone else made to the hub's tables, to be fanned out at the next flush. */
  changed(changes: readonly RouteChange[]): void;
  /** The instance-id the agent subscribed the instance with (for its RD), if subscribed. */
  instanceIdOf(agent: string, instance: string): number | undefined;
  /** Subscriptions as they come and go, after the hub has applied them. */
  onSubscription(listener: (e: SubscriptionEvent) => void): void;
}
