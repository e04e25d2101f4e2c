/**
 * The vRouter tables as JSON-able values: what the agent's introspect API serves and what
 * `weft vif|rt|nh|mpls|flow` format. A snapshot carries everything its formatter needs (ref
 * counts, flow table counters) so the tools print from JSON exactly what they would print
 * from the live tables. Snapshots are copies: later table changes do not show through.
 */
import { fromHex, toHex } from '../../codecs/util/hex.js';
import { ipv4ToInt } from './addr.js';
import type { FlowEntry, FlowTableStats } from './flow.js';
import { formatFlowList, type FlowListing } from './format/flow.js';
import { formatMplsTable } from './format/mpls.js';
import { formatNextHops } from './format/nh.js';
import { formatRtDump, formatRtGet } from './format/rt.js';
import { formatVifList } from './format/vif.js';
import type { NextHop } from './nexthop.js';
import type { Route } from './route-table.js';
import type { VRouter } from './router.js';
import type { Vif } from './vif.js';

/* ---------- shapes ---------- */

/** `vif --list` / `vif --get N`. */
export interface VifSnapshot {
  vifs: Vif[];
}

/** `rt --dump <vrf>` (no `asked`) or `rt --get <prefix> --vrf <vrf>` (the longest match, or null). */
export type RtSnapshot = { vrf: number; routes: Route[] } | { vrf: number; asked: string; route: Route | null };

/** A next hop with its byte fields as hex (encap, l2), as JSON carries them. */
export type NextHopJson = NextHop extends infer T
  ? T extends NextHop
    ? { [K in keyof T]: T[K] extends Uint8Array ? string : T[K] } & { refCount: number }
    : never
  : never;

/** `nh --list`, or `nh --get <id>`: the next hop, then (Composite) its members, as the book prints them. */
export interface NhSnapshot {
  nexthops: NextHopJson[];
}

export interface MplsSnapshot {
  labels: { label: number; nh: number }[];
}

/** `flow -l` / `flow --match`: the entries with the table's counters and size. */
export interface FlowSnapshot {
  entries: FlowEntry[];
  stats: FlowTableStats;
  capacity: number;
  sizeBytes: number;
  match?: { ip: string; port?: number };
}

/* ---------- live tables -> snapshot ---------- */

function copyVif(v: Vif): Vif {
  return { ...v, flags: [...v.flags], stats: { ...v.stats } };
}

function copyRoute(r: Route): Route {
  return r.stitchedMac ? { ...r, stitchedMac: { ...r.stitchedMac } } : { ...r };
}

/** Every vif, or only vif0/`index` (empty when it does not exist). */
export function vifSnapshot(router: VRouter, index?: number): VifSnapshot {
  if (index === undefined) return { vifs: router.vifs.list().map(copyVif) };
  const v = router.vifs.get(index);
  return { vifs: v ? [copyVif(v)] : [] };
}

/**
 * A VRF's routes, or with `get` the route its address falls in (longest prefix, like
 * `rt --get`). A VRF the vRouter does not have dumps empty: the kernel's tables exist for
 * every index, so the real tool prints just the header too.
 */
export function rtSnapshot(router: VRouter, vrf: number, get?: string): RtSnapshot {
  const table = router.vrfs.get(vrf)?.routes;
  if (get === undefined) return { vrf, routes: table ? table.list().map(copyRoute) : [] };
  const slash = get.indexOf('/');
  const r = table?.lookup(ipv4ToInt(slash < 0 ? get : get.slice(0, slash)));
  return { vrf, asked: get, route: r ? copyRoute(r) : null };
}

function nhJson(nh: NextHop, refCount: number): NextHopJson {
  switch (nh.type) {
    case 'encap':
      return { ...nh, encap: toHex(nh.encap), refCount };
    case 'tunnel':
      return { ...nh, l2: toHex(nh.l2), refCount };
    case 'composite':
      return { ...nh, members: nh.members.map((m) => ({ ...m })), refCount };
    default:
      return { ...nh, refCount };
  }
}

/**
 * Every next hop, or next hop `id` followed by a Composite's members (each once, in member
 * order), which is what `nh --get` of a Composite shows in the book. Empty when `id` is unknown.
 */
export function nhSnapshot(router: VRouter, id?: number): NhSnapshot {
  const nhs = id === undefined ? router.nhs.list() : withMembers(router, id);
  // One pass for the reference counts instead of nhRefCount's table walk per next hop.
  const refs = refCounts(router);
  return { nexthops: nhs.map((nh) => nhJson(nh, refs.get(nh.id) ?? 0)) };
}

function withMembers(router: VRouter, id: number): NextHop[] {
  const nh = router.nhs.get(id);
  if (!nh) return [];
  const out = [nh];
  if (nh.type === 'composite') {
    for (const m of nh.members) {
      const sub = router.nhs.get(m.nh);
      if (sub && !out.includes(sub)) out.push(sub);
    }
  }
  return out;
}

/** Same counting as VRouter.nhRefCount (routes, labels, composite members, vifs), for all ids at once. */
function refCounts(router: VRouter): Map<number, number> {
  const n = new Map<number, number>();
  const inc = (id: number) => n.set(id, (n.get(id) ?? 0) + 1);
  for (const v of router.vrfs.list()) for (const r of v.routes.list()) inc(r.nh);
  for (const m of router.mpls.list()) inc(m.nh);
  for (const nh of router.nhs.list()) if (nh.type === 'composite') for (const m of nh.members) inc(m.nh);
  for (const v of router.vifs.list()) if (v.nh !== undefined) inc(v.nh);
  return n;
}

/** The label map, or only `label` (empty when unset). */
export function mplsSnapshot(router: VRouter, label?: number): MplsSnapshot {
  if (label === undefined) return { labels: router.mpls.list() };
  const nh = router.mpls.lookup(label);
  return { labels: nh === undefined ? [] : [{ label, nh }] };
}

function copyFlow(e: FlowEntry): FlowEntry {
  const c: FlowEntry = { ...e, key: { ...e.key }, action: { ...e.action } };
  if (e.rewrite) c.rewrite = { ...e.rewrite };
  return c;
}

/** Every flow entry, or those `flow --match ip[:port]` selects. */
export function flowSnapshot(router: VRouter, match?: { ip: string; port?: number }): FlowSnapshot {
  const f = router.flows;
  const entries = match ? f.match(match.ip, match.port) : f.list();
  const s: FlowSnapshot = { entries: entries.map(copyFlow), stats: { ...f.stats }, capacity: f.capacity, sizeBytes: f.sizeBytes };
  if (match) s.match = match.port === undefined ? { ip: match.ip } : { ip: match.ip, port: match.port };
  return s;
}

/* ---------- snapshot (as parsed from JSON) -> formatter input ---------- */

/** Thrown when JSON handed to a `...FromSnapshot` is not the snapshot it should be. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayField(v: unknown, field: string, what: string): unknown[] {
  const a = isObject(v) ? v[field] : undefined;
  if (!Array.isArray(a)) throw new SnapshotError(`${what}: '${field}' is not a list`);
  return a;
}

function numberField(v: unknown, field: string, what: string): number {
  const n = isObject(v) ? v[field] : undefined;
  if (typeof n !== 'number') throw new SnapshotError(`${what}: '${field}' is not a number`);
  return n;
}

function hexField(o: Record<string, unknown>, field: string, what: string): Uint8Array {
  const s = o[field];
  try {
    if (typeof s === 'string') return fromHex(s);
  } catch {
    /* reported below */
  }
  throw new SnapshotError(`${what}: '${field}' is not hex`);
}

/** Next hops with their bytes back and their ref counts, for formatNextHop(s). */
export function nextHopsFromSnapshot(s: unknown): { nhs: NextHop[]; refCount: (id: number) => number } {
  const refs = new Map<number, number>();
  const nhs = arrayField(s, 'nexthops', 'nh snapshot').map((raw, i) => {
    const what = `nh snapshot: nexthops[${i}]`;
    if (!isObject(raw)) throw new SnapshotError(`${what} is not an object`);
    const { refCount, ...rest } = raw;
    const id = numberField(raw, 'id', what);
    refs.set(id, typeof refCount === 'number' ? refCount : 0);
    if (rest.type === 'encap') return { ...rest, encap: hexField(raw, 'encap', what) } as unknown as NextHop;
    if (rest.type === 'tunnel') return { ...rest, l2: hexField(raw, 'l2', what) } as unknown as NextHop;
    if (rest.type === 'composite') arrayField(raw, 'members', what);
    else if (!['receive', 'discard', 'resolve'].includes(rest.type as string)) throw new SnapshotError(`${what}: unknown type`);
    return rest as unknown as NextHop;
  });
  return { nhs, refCount: (id) => refs.get(id) ?? 0 };
}

/* ---------- snapshot -> text, as the vRouter utilities print it ---------- */

export function formatVifSnapshot(s: VifSnapshot): string {
  return formatVifList(arrayField(s, 'vifs', 'vif snapshot') as Vif[]);
}

export function formatRtSnapshot(s: RtSnapshot): string {
  const vrf = numberField(s, 'vrf', 'rt snapshot');
  if ('asked' in s) return formatRtGet(vrf, String(s.asked), s.route ?? undefined);
  return formatRtDump(vrf, arrayField(s, 'routes', 'rt snapshot') as Route[]);
}

export function formatNhSnapshot(s: NhSnapshot): string {
  const { nhs, refCount } = nextHopsFromSnapshot(s);
  return formatNextHops(nhs, refCount);
}

export function formatMplsSnapshot(s: MplsSnapshot): string {
  return formatMplsTable(arrayField(s, 'labels', 'mpls snapshot') as MplsSnapshot['labels']);
}

export function formatFlowSnapshot(s: FlowSnapshot): string {
  const l: FlowListing = {
    entries: arrayField(s, 'entries', 'flow snapshot') as FlowEntry[],
    stats: s.stats,
    capacity: numberField(s, 'capacity', 'flow snapshot'),
    sizeBytes: numberField(s, 'sizeBytes', 'flow snapshot'),
  };
  if (!isObject(s.stats)) throw new SnapshotError(`flow snapshot: 'stats' is not an object`);
  if (s.match) l.match = s.match;
  return formatFlowList(l);
}
