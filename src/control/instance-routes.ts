import { AttrStore, type Path, type XmppSource } from '../rib/path.js';
import { Table, type RouteChange } from '../rib/table.js';
import { agentPathAttrs } from './agent-path.js';
import type { AgentRoute, RouteHub, RouteSubscriber, RouteUpdate, SubscribeOptions, SubscriptionEvent, UnicastFamily } from './route-hub.js';

/**
 * The in-memory RouteHub: per routing instance an inet and an inet6 table of agent paths, best
 * path + ECMP by src/rib, and fan-out of changed prefixes to the instance's subscribers.
 * Changes are coalesced per prefix until `flush`, so a burst of publishes becomes one update
 * per prefix per subscriber (and the session packs 32 of them per message).
 * Instances are created on first use: configuration (a later layer) decides which exist.
 */

export interface InstanceRouteHubOptions {
  /** ECMP set size; Contrail forms ECMP from several agents' paths (default 16). */
  maxEcmpPaths?: number;
  store?: AttrStore;
}

interface Subscription {
  readonly sub: RouteSubscriber;
  readonly instanceId: number;
  readonly noRibout: boolean;
}

interface Instance {
  readonly name: string;
  readonly tables: Partial<Record<UnicastFamily, Table>>;
  readonly subscribers: Map<string, Subscription>;
}

const FAMILIES: readonly UnicastFamily[] = ['inet', 'inet6'];
const NO_PATHS: readonly Path[] = [];

/** Same paths in the same order (paths are immutable: a changed path is a new object). */
function samePaths(a: readonly Path[], b: readonly Path[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const TABLE_SUFFIX: Record<UnicastFamily, string> = { inet: '.inet.0', inet6: '.inet6.0' };

/** `<instance>.inet.0` -> instance and family. */
function parseTableName(name: string): { instance: string; family: UnicastFamily } | undefined {
  for (const family of FAMILIES) {
    const s = TABLE_SUFFIX[family];
    if (name.endsWith(s)) return { instance: name.slice(0, -s.length), family };
  }
  return undefined;
}

export class InstanceRouteHub implements RouteHub {
  readonly store: AttrStore;
  private readonly maxEcmpPaths: number;
  private readonly instances = new Map<string, Instance>();
  /**
   * table name -> prefix changed since the last flush -> its selection as of the last flush.
   * A prefix that ends up where it was (a publish and its withdrawal in one burst, such as a
   * misbehaving agent's last route) is not news for anyone.
   */
  private readonly dirty = new Map<string, Map<string, readonly Path[]>>();
  private readonly listeners: ((changes: readonly RouteChange[]) => void)[] = [];
  private readonly subscriptionListeners: ((e: SubscriptionEvent) => void)[] = [];
  /** agent -> instances it subscribed (for agentDown). */
  private readonly byAgent = new Map<string, Set<string>>();

  constructor(opts: InstanceRouteHubOptions = {}) {
    this.store = opts.store ?? new AttrStore();
    this.maxEcmpPaths = opts.maxEcmpPaths ?? 16;
  }

  private instance(name: string): Instance {
    let i = this.instances.get(name);
    if (!i) {
      i = { name, tables: {}, subscribers: new Map() };
      this.instances.set(name, i);
    }
    return i;
  }

  table(instance: string, family: UnicastFamily): Table {
    const i = this.instance(instance);
    let t = i.tables[family];
    if (!t) {
      t = new Table(instance + TABLE_SUFFIX[family], { maxPaths: this.maxEcmpPaths });
      i.tables[family] = t;
    }
    return t;
  }

  /** Instances known so far (subscribed or holding routes). */
  instanceNames(): string[] {
    return [...this.instances.keys()];
  }

  subscribe(sub: RouteSubscriber, instance: string, opts: SubscribeOptions): void {
    // Pending changes first: the dump below is the current state and must not be followed by
    // older news for this subscriber.
    this.flush();
    const i = this.instance(instance);
    const agent = sub.source.agent;
    const s: Subscription = { sub, instanceId: opts.instanceId, noRibout: opts.noRibout ?? false };
    i.subscribers.set(agent, s);
    let set = this.byAgent.get(agent);
    if (!set) this.byAgent.set(agent, (set = new Set()));
    set.add(instance);
    this.emit({ kind: 'subscribe', source: sub.source, instance });
    if (s.noRibout) return;
    for (const family of FAMILIES) {
      const t = i.tables[family];
      if (!t || t.size === 0) continue;
      const updates: RouteUpdate[] = [];
      for (const d of t.destinations()) if (d.ecmp.length) updates.push({ prefix: d.key, ecmp: d.ecmp });
      if (updates.length) sub.routes(instance, family, updates);
    }
  }

  unsubscribe(sub: RouteSubscriber, instance: string): void {
    const i = this.instances.get(instance);
    const agent = sub.source.agent;
    if (i?.subscribers.get(agent)?.sub === sub) {
      i.subscribers.delete(agent);
      this.emit({ kind: 'unsubscribe', source: sub.source, instance });
    }
    this.byAgent.get(agent)?.delete(instance);
    if (!i) return;
    for (const family of FAMILIES) {
      const t = i.tables[family];
      if (t) this.note(t.withdrawAll(sub.source));
    }
  }

  publish(source: XmppSource, instance: string, family: UnicastFamily, route: AgentRoute): void {
    const attrs = agentPathAttrs(this.store, route);
    this.note(this.table(instance, family).add(route.prefix, { source, attrs, labels: [route.label] }));
  }

  withdraw(source: XmppSource, instance: string, family: UnicastFamily, prefix: string): void {
    const t = this.instances.get(instance)?.tables[family];
    if (t) this.note(t.withdraw(prefix, { source }));
  }

  endOfRib(source: XmppSource): void {
    this.sweepStale(source);
  }

  sweepStale(source: XmppSource): void {
    for (const t of this.allTables()) this.note(t.sweepStale(source));
    this.emit({ kind: 'sweep', source });
  }

  agentDown(sub: RouteSubscriber, graceful: boolean): void {
    const agent = sub.source.agent;
    for (const name of this.byAgent.get(agent) ?? []) {
      const i = this.instances.get(name);
      if (i?.subscribers.get(agent)?.sub === sub) i.subscribers.delete(agent);
    }
    this.byAgent.delete(agent);
    for (const t of this.allTables()) this.note(graceful ? t.markStale(sub.source) : t.withdrawAll(sub.source));
    this.emit({ kind: 'down', source: sub.source, graceful });
  }

  instanceIdOf(agent: string, instance: string): number | undefined {
    return this.instances.get(instance)?.subscribers.get(agent)?.instanceId;
  }

  onChange(listener: (changes: readonly RouteChange[]) => void): void {
    this.listeners.push(listener);
  }

  onSubscription(listener: (e: SubscriptionEvent) => void): void {
    this.subscriptionListeners.push(listener);
  }

  private emit(e: SubscriptionEvent): void {
    for (const l of this.subscriptionListeners) l(e);
  }

  changed(changes: readonly RouteChange[]): void {
    this.markDirty(changes);
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const batches = [...this.dirty];
    this.dirty.clear();
    for (const [tableName, prefixes] of batches) {
      const where = parseTableName(tableName);
      if (!where) continue;
      const i = this.instances.get(where.instance);
      const t = i?.tables[where.family];
      if (!i || !t || i.subscribers.size === 0) continue;
      const updates: RouteUpdate[] = [];
      for (const [prefix, before] of prefixes) {
        const ecmp = t.get(prefix)?.ecmp ?? NO_PATHS;
        if (!samePaths(before, ecmp)) updates.push({ prefix, ecmp });
      }
      if (updates.length === 0) continue;
      for (const s of i.subscribers.values()) if (!s.noRibout) s.sub.routes(where.instance, where.family, updates);
    }
  }

  private *allTables(): Iterable<Table> {
    for (const i of this.instances.values()) for (const f of FAMILIES) if (i.tables[f]) yield i.tables[f];
  }

  private note(changes: readonly RouteChange[]): void {
    if (changes.length === 0) return;
    this.markDirty(changes);
    for (const l of this.listeners) l(changes);
  }

  private markDirty(changes: readonly RouteChange[]): void {
    for (const c of changes) {
      let m = this.dirty.get(c.table);
      if (!m) this.dirty.set(c.table, (m = new Map()));
      if (!m.has(c.key)) m.set(c.key, c.previousEcmp);
    }
  }
}
