import { pathKey, routeTargetsOf } from './path.js';
import type { AttrStore, Attrs, Path, PathInput } from './path.js';
import type { RouteChange, Table } from './table.js';

/**
 * Route-target replication between the VPN table (bgp.l3vpn.0, keys 'RD:prefix') and VRF
 * tables (keys 'prefix'), the way Contrail's RoutePathReplicator does it:
 *  - each primary path in a VRF's best/ECMP set goes, with the VRF's export RTs appended, to
 *    the VPN table under RD:prefix and straight to every other VRF importing one of its RTs;
 *  - each primary path in a VPN destination's best/ECMP set goes to every VRF importing one
 *    of its RTs, under the plain prefix.
 * Replicated (secondary) paths keep the original source and name their primary, so two VPN
 * routes for one prefix with different RDs stay two paths in the VRF; secondaries are never
 * replicated again, which is what keeps this loop-free.
 */

export interface VrfConfig {
  readonly importTargets: readonly bigint[];
  readonly exportTargets: readonly bigint[];
  /** Instance RD ('10.0.0.1:3', '64512:7'), used for paths without a source RD. */
  readonly rd: string;
}

export interface ReplicatorOptions {
  /**
   * RD for a VRF path in the VPN table. Contrail uses '<agent next hop>:<instance id>' for
   * XMPP paths; undefined falls back to the VRF's RD.
   */
  readonly sourceRd?: (path: Path, vrf: string, config: VrfConfig) => string | undefined;
}

interface Vrf {
  readonly table: Table;
  config: VrfConfig;
}

interface Secondary {
  readonly table: string;
  readonly key: string;
  readonly input: PathInput;
}

export function vpnKey(rd: string, prefix: string): string {
  return `${rd}:${prefix}`;
}

/** 'RD:prefix' -> parts; an RD is 'admin:number', so the prefix starts after the second colon. */
export function splitVpnKey(key: string): { rd: string; prefix: string } | undefined {
  const i = key.indexOf(':');
  const j = i < 0 ? -1 : key.indexOf(':', i + 1);
  if (j < 0 || j === key.length - 1) return undefined;
  return { rd: key.slice(0, j), prefix: key.slice(j + 1) };
}

const SEP = '\u0000';
// Far above any real cascade (each primary touches each importer once per round); reaching it
// means replication oscillates, which is a bug to surface rather than a loop to hang in.
const MAX_STEPS_PER_CHANGE = 10_000;

export class VrfReplicator {
  private readonly vrfs = new Map<string, Vrf>();
  private readonly importers = new Map<bigint, Set<string>>();
  /** primary (table SEP key) -> secondaries it produced, by (table SEP path key). */
  private readonly replicated = new Map<string, Map<string, Secondary>>();
  private readonly exportMemo = new WeakMap<Attrs, Map<string, Attrs>>();
  /** The VRF being removed: its table still takes withdrawals of the secondaries it held. */
  private retiring: Vrf | undefined;

  constructor(
    readonly vpn: Table,
    private readonly store: AttrStore,
    private readonly options: ReplicatorOptions = {},
  ) {}

  table(name: string): Table | undefined {
    return name === this.vpn.name ? this.vpn : this.vrfs.get(name)?.table;
  }

  /** Adds a VRF and replicates whatever its RTs now pull in or push out. */
  addVrf(table: Table, config: VrfConfig): RouteChange[] {
    if (table.name === this.vpn.name || this.vrfs.has(table.name)) throw new Error(`table ${table.name} already known`);
    this.vrfs.set(table.name, { table, config });
    this.rebuildImporters();
    return this.resync();
  }

  updateVrf(name: string, config: VrfConfig): RouteChange[] {
    const v = this.vrfs.get(name);
    if (!v) throw new Error(`no VRF ${name}`);
    v.config = config;
    this.rebuildImporters();
    return this.resync();
  }

  /**
   * Withdraws what the VRF exported (from the VPN table and other VRFs) and what it had
   * imported (from its own table, which then holds only its primary paths). Changes to the
   * removed table itself are not returned.
   */
  removeVrf(name: string): RouteChange[] {
    const v = this.vrfs.get(name);
    if (!v) return [];
    this.vrfs.delete(name);
    this.rebuildImporters();
    this.retiring = v;
    try {
      return this.resync().filter((c) => c.table !== name);
    } finally {
      this.retiring = undefined;
    }
  }

  /**
   * Feed every change of the VPN table and of the VRF tables here (the caller's own
   * operations; the ones this class returns are already followed through). Returns the
   * changes replication made, in any table, until nothing moves.
   */
  process(changes: readonly RouteChange[]): RouteChange[] {
    return this.drain([...changes], []);
  }

  private drain(queue: RouteChange[], out: RouteChange[]): RouteChange[] {
    const limit = MAX_STEPS_PER_CHANGE * (queue.length + 1);
    for (let i = 0; i < queue.length; i++) {
      if (i > limit) throw new Error('route target replication does not converge');
      const c = queue[i]!;
      for (const r of this.replicate(c.table, c.key)) {
        out.push(r);
        queue.push(r);
      }
    }
    return out;
  }

  private resync(): RouteChange[] {
    const produced: RouteChange[] = [];
    for (const t of [this.vpn, ...[...this.vrfs.values()].map((v) => v.table)]) {
      for (const d of [...t.destinations()]) for (const c of this.replicate(t.name, d.key)) produced.push(c);
    }
    // Primaries in a table no longer known (a VRF being removed): their secondaries go.
    for (const pid of [...this.replicated.keys()]) {
      const cut = pid.indexOf(SEP);
      const t = pid.slice(0, cut);
      if (!this.table(t)) for (const c of this.replicate(t, pid.slice(cut + 1))) produced.push(c);
    }
    return this.drain([...produced], [...produced]);
  }

  private replicate(tableName: string, key: string): RouteChange[] {
    const pid = tableName + SEP + key;
    const desired = new Map<string, Secondary>();
    const table = this.table(tableName);
    const dest = table?.get(key);
    if (dest) {
      for (const p of dest.ecmp) {
        if (p.primary) continue;
        if (tableName === this.vpn.name) this.fromVpn(p, key, desired);
        else this.fromVrf(p, tableName, key, desired);
      }
    }
    const existing = this.replicated.get(pid);
    if (!existing && desired.size === 0) return [];
    const changes: RouteChange[] = [];
    for (const [sk, s] of desired) {
      const old = existing?.get(sk);
      if (old && old.input.attrs === s.input.attrs && sameLabels(old.input.labels, s.input.labels)) {
        desired.set(sk, old);
        continue;
      }
      for (const c of this.tableOf(s.table).add(s.key, s.input)) changes.push(c);
    }
    if (existing) {
      for (const [sk, s] of existing) {
        if (desired.has(sk)) continue;
        const t = this.table(s.table) ?? (this.retiring?.table.name === s.table ? this.retiring.table : undefined);
        if (t) for (const c of t.withdraw(s.key, s.input)) changes.push(c);
      }
    }
    if (desired.size === 0) this.replicated.delete(pid);
    else this.replicated.set(pid, desired);
    return changes;
  }

  private fromVpn(p: Path, key: string, desired: Map<string, Secondary>): void {
    const parts = splitVpnKey(key);
    if (!parts) return;
    const primary = { table: this.vpn.name, key };
    for (const vrf of this.importersOf(p.attrs)) {
      this.want(desired, vrf, parts.prefix, p, primary, p.attrs);
    }
  }

  private fromVrf(p: Path, vrfName: string, prefix: string, desired: Map<string, Secondary>): void {
    const vrf = this.vrfs.get(vrfName)!;
    const attrs = this.withExportTargets(p.attrs, vrf.config.exportTargets);
    const primary = { table: vrfName, key: prefix };
    const rd = this.options.sourceRd?.(p, vrfName, vrf.config) ?? vrf.config.rd;
    this.want(desired, this.vpn.name, vpnKey(rd, prefix), p, primary, attrs);
    for (const other of this.importersOf(attrs)) {
      if (other !== vrfName) this.want(desired, other, prefix, p, primary, attrs);
    }
  }

  private want(
    desired: Map<string, Secondary>,
    table: string,
    key: string,
    p: Path,
    primary: { table: string; key: string },
    attrs: Attrs,
  ): void {
    const input: PathInput = {
      source: p.source,
      ...(p.pathId ? { pathId: p.pathId } : {}),
      primary,
      attrs,
      ...(p.labels ? { labels: p.labels } : {}),
    };
    desired.set(table + SEP + key + SEP + pathKey(input), { table, key, input });
  }

  private importersOf(attrs: Attrs): Set<string> {
    const out = new Set<string>();
    for (const rt of routeTargetsOf(attrs)) {
      const s = this.importers.get(rt);
      if (s) for (const v of s) out.add(v);
    }
    return out;
  }

  private withExportTargets(a: Attrs, exportTargets: readonly bigint[]): Attrs {
    if (exportTargets.length === 0) return a;
    const memoKey = exportTargets.join(',');
    let m = this.exportMemo.get(a);
    if (!m) {
      m = new Map();
      this.exportMemo.set(a, m);
    }
    let out = m.get(memoKey);
    if (!out) {
      const have = new Set(a.extCommunities);
      const add = exportTargets.filter((rt) => !have.has(rt));
      out = add.length === 0 ? a : this.store.with(a, { extCommunities: [...a.extCommunities, ...add] });
      m.set(memoKey, out);
    }
    return out;
  }

  private rebuildImporters(): void {
    this.importers.clear();
    for (const [name, v] of this.vrfs) {
      for (const rt of v.config.importTargets) {
        let s = this.importers.get(rt);
        if (!s) {
          s = new Set();
          this.importers.set(rt, s);
        }
        s.add(name);
      }
    }
  }

  private tableOf(name: string): Table {
    const t = this.table(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }
}

function sameLabels(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
