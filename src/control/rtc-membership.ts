/**
 * RT membership (RFC 4684) the control node originates for its agents: a gateway that
 * negotiated RTC sends only the VPN routes someone asked for, so the control node asks for the
 * import route targets of every routing instance an agent subscribed to (dialect notes 11.2,
 * Contrail's BgpXmppRTargetManager).
 *
 * As in Contrail, this is a table: bgp.rtarget.0 keyed `<our AS>:<RT>/96`, one path per agent
 * that subscribed an instance importing the RT. A route goes to the speaker while it has a path
 * and is withdrawn with its last one, so two agents (or two instances of one agent) sharing an
 * RT need no counting, and an agent in graceful restart keeps its paths, stale, until it
 * subscribes again or is swept.
 */
import type { RtcNlri } from '../../codecs/bgp/nlri.js';
import { extCommunityToBytes, formatExtCommunity } from '../rib/route-target.js';
import { rtcRouteKey } from '../rib/rtc.js';
import type { AttrStore, Attrs, XmppSource } from '../rib/path.js';
import { Table, type RouteChange } from '../rib/table.js';
import type { Speaker } from '../bgp/speaker.js';
import type { SubscriptionEvent } from './route-hub.js';

export const RTARGET_TABLE = 'bgp.rtarget.0';

/** What this layer needs of the speaker: local origination in family rtc. */
export type RtcOriginator = Pick<Speaker, 'originate' | 'withdrawLocal'>;

export interface RtcMembershipsOptions {
  store: AttrStore;
  speaker?: RtcOriginator | undefined;
}

export interface RtcMembershipView {
  /** `64512:target:500:500/96`, as the speaker's bgp.rtarget.0 keys it. */
  key: string;
  routeTarget: string;
  /** Agents whose subscriptions ask for it; `(stale)` while one is in graceful restart. */
  agents: string[];
}

interface Agent {
  readonly source: XmppSource;
  /** Instances subscribed in the current session (stale paths are not counted here). */
  readonly instances: Set<string>;
}

export class RtcMemberships {
  readonly table = new Table(RTARGET_TABLE);
  private readonly attrs: Attrs;
  private asn = 64512;
  /** Instance name -> its import route targets. */
  private imports = new Map<string, readonly bigint[]>();
  private readonly agents = new Map<string, Agent>();
  /** Route key -> the NLRI handed to the speaker. */
  private readonly originated = new Map<string, RtcNlri>();
  /** Route key -> its route target, for the keys the table holds (a key does not give it back). */
  private readonly targetOf = new Map<string, bigint>();

  constructor(private readonly o: RtcMembershipsOptions) {
    // Next hop "self": the speaker puts its session address in (Contrail: its router id).
    this.attrs = o.store.intern({ nextHop: '0.0.0.0', origin: 'igp' });
  }

  /** The instances and their import targets changed (model applied). */
  setInstances(asn: number, imports: ReadonlyMap<string, readonly bigint[]>): void {
    this.asn = asn;
    this.imports = new Map(imports);
    for (const a of this.agents.values()) this.sync(a);
  }

  /** Follows the hub's subscriptions. */
  event(e: SubscriptionEvent): void {
    const name = e.source.agent;
    switch (e.kind) {
      case 'subscribe': {
        // After `down` the agent starts afresh: what it held before is stale or gone already.
        let a = this.agents.get(name);
        if (a === undefined) this.agents.set(name, (a = { source: e.source, instances: new Set() }));
        a.instances.add(e.instance);
        this.sync(a);
        return;
      }
      case 'unsubscribe': {
        const a = this.agents.get(name);
        if (a === undefined || !a.instances.delete(e.instance)) return;
        this.sync(a);
        return;
      }
      case 'down':
        this.agents.delete(name);
        this.toSpeaker(e.graceful ? this.table.markStale(e.source) : this.table.withdrawAll(e.source));
        return;
      case 'sweep':
        this.toSpeaker(this.table.sweepStale(e.source));
        return;
    }
  }

  /** The memberships and who asks for them (introspection). */
  views(): RtcMembershipView[] {
    return [...this.table.destinations()]
      .filter((d) => d.paths.length > 0)
      .map((d) => ({
        key: d.key,
        routeTarget: formatExtCommunity(this.targetOf.get(d.key) ?? 0n),
        agents: d.paths.map((p) => (p.source.kind === 'xmpp' ? p.source.agent : p.source.key) + (p.stale ? ' (stale)' : '')),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Brings the agent's paths in line with the import targets of the instances it subscribed. */
  private sync(a: Agent): void {
    const want = new Map<string, bigint>();
    for (const inst of a.instances) {
      for (const rt of this.imports.get(inst) ?? []) want.set(this.key(rt), rt);
    }
    const changes: RouteChange[] = [];
    for (const key of this.table.keysFrom(a.source)) {
      if (want.has(key)) continue;
      const p = this.table.get(key)?.paths.find((x) => x.source.key === a.source.key);
      // A stale path waits for the sweep: the agent may still subscribe its instance again.
      if (p !== undefined && !p.stale) changes.push(...this.table.withdraw(key, { source: a.source }));
    }
    for (const [key, rt] of want) {
      const p = this.table.get(key)?.paths.find((x) => x.source.key === a.source.key);
      if (p !== undefined && !p.stale) continue;
      this.targetOf.set(key, rt);
      changes.push(...this.table.add(key, { source: a.source, attrs: this.attrs }));
    }
    this.toSpeaker(changes);
  }

  private key(rt: bigint): string {
    return rtcRouteKey({ prefixLength: 96, originAs: this.asn, routeTarget: rt });
  }

  /** A membership route is ours while the table has a path for it. */
  private toSpeaker(changes: readonly RouteChange[]): void {
    for (const c of changes) {
      const had = this.originated.get(c.key);
      if (c.best !== undefined && had === undefined) {
        const rt = this.targetOf.get(c.key);
        if (rt === undefined) continue;
        const nlri: RtcNlri = { kind: 'rtc', length: 96, originAs: originAsOf(c.key), routeTarget: extCommunityToBytes(rt) };
        this.originated.set(c.key, nlri);
        this.o.speaker?.originate('rtc', nlri, this.attrs);
      } else if (c.best === undefined && had !== undefined) {
        this.originated.delete(c.key);
        this.o.speaker?.withdrawLocal('rtc', had);
      }
      if (c.best === undefined) this.targetOf.delete(c.key);
    }
  }
}

/** The origin AS of a key made by `key` (the AS it was made with, even after an AS change). */
function originAsOf(key: string): number {
  return Number(key.slice(0, key.indexOf(':')));
}
