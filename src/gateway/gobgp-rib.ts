/**
 * The gateway's VRF routes, read from GoBGP's global VPNv4 RIB (`gobgp global rib -a vpnv4 -j`).
 *
 * Why not `gobgp vrf <name> rib -j`: gobgpd 3.10 builds that view by turning each VPN path into
 * a plain IPv4 one (Path.ToLocal), which drops the label, and it marks no path best. The
 * global RIB keeps RD, label, next hop and communities, so the import is done here the way a
 * PE does it: a path enters the VRF when one of its route targets is in the import list.
 *
 * Selection (what a Junos VRF with multipath would install): per RD destination only the
 * paths GoBGP marks best (several with use-multiple-paths), then per IPv4 prefix the highest
 * local preference, then the lowest MED; what is left is the ECMP set (S6: two backends,
 * two paths, both used). Members are sorted so the hash -> member mapping does not move
 * between polls.
 *
 * Pure and total over any JSON: entries that do not look like a labelled VPNv4 path are
 * skipped and counted, never thrown.
 */
import { formatExtCommunity, parseRouteTarget } from '../rib/route-target.js';

export interface VpnPath {
  /** 'a.b.c.d/n' */
  prefix: string;
  rd: string;
  label: number;
  nexthop: string;
  localPref: number;
  med: number;
  /** Route targets, `target:` form. */
  rts: string[];
}

export interface ImportOptions {
  importRts: readonly string[];
  /** Paths to leave out: the gateway's own advertisements (its RD) and anything with its next hop. */
  ownRd?: string;
  ownNexthop?: string;
}

const PREFIX = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAX_LABEL = 0xfffff;

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function goodIpv4(s: unknown): s is string {
  const m = typeof s === 'string' ? IPV4.exec(s) : null;
  return m !== null && m.slice(1, 5).every((x) => Number(x) <= 255);
}

function goodPrefix(s: unknown): s is string {
  const m = typeof s === 'string' ? PREFIX.exec(s) : null;
  return m !== null && m.slice(1, 5).every((x) => Number(x) <= 255) && Number(m[5]) <= 32;
}

/** gobgp's `{"type":0,"subtype":2,"value":"500:500"}` as a `target:` string; undefined if not an RT. */
export function routeTargetOf(c: unknown): string | undefined {
  if (!isObj(c) || c['subtype'] !== 2 || typeof c['value'] !== 'string') return undefined;
  const type = c['type'];
  let text = c['value'];
  if (type === 2) {
    // The 4-byte-AS form of a small AS prints like a 2-byte one: mark it so it parses back alike.
    const colon = text.lastIndexOf(':');
    if (colon > 0 && Number(text.slice(0, colon)) <= 0xffff) text = `${text.slice(0, colon)}L${text.slice(colon)}`;
  } else if (type !== 0 && type !== 1) {
    return undefined;
  }
  try {
    return canonicalRt(text);
  } catch {
    return undefined;
  }
}

/** One spelling per route target, so config and RIB compare equal. */
export function canonicalRt(rt: string): string {
  return formatExtCommunity(parseRouteTarget(rt));
}

function rdText(rd: unknown): string | undefined {
  if (!isObj(rd)) return undefined;
  const { admin, assigned } = rd;
  if ((typeof admin !== 'string' && typeof admin !== 'number') || typeof assigned !== 'number') return undefined;
  return `${admin}:${assigned}`;
}

/** One gobgp path object to a VpnPath (with its best flag), or undefined. */
function readPath(p: unknown): RibPath | undefined {
  if (!isObj(p) || !isObj(p['nlri']) || !Array.isArray(p['attrs'])) return undefined;
  const nlri = p['nlri'];
  const labels = nlri['labels'];
  const rd = rdText(nlri['rd']);
  if (!goodPrefix(nlri['prefix']) || rd === undefined || !Array.isArray(labels) || labels.length !== 1) return undefined;
  const label = labels[0];
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label > MAX_LABEL) return undefined;
  let nexthop: unknown;
  let localPref = 100;
  let med = 0;
  const rts: string[] = [];
  for (const a of p['attrs']) {
    if (!isObj(a)) continue;
    switch (a['type']) {
      case 14:
        nexthop = a['nexthop'];
        break;
      case 3:
        nexthop ??= a['nexthop'];
        break;
      case 4:
        if (typeof a['metric'] === 'number') med = a['metric'];
        break;
      case 5:
        if (typeof a['value'] === 'number') localPref = a['value'];
        break;
      case 16:
        if (Array.isArray(a['value'])) for (const c of a['value']) {
          const rt = routeTargetOf(c);
          if (rt !== undefined) rts.push(rt);
        }
        break;
    }
  }
  if (!goodIpv4(nexthop)) return undefined;
  return { prefix: nlri['prefix'], rd, label, nexthop, localPref, med, rts, best: p['best'] === true };
}

export type RibPath = VpnPath & { best: boolean };

/**
 * Every labelled VPNv4 path in gobgp's JSON (`{"<rd>:<prefix>": [path, ...], ...}`; `null`
 * or '' when empty), best or not.
 */
export function ribPaths(json: unknown): { paths: RibPath[]; skipped: number } {
  const paths: RibPath[] = [];
  let skipped = 0;
  if (!isObj(json)) return { paths, skipped: json === null || json === undefined ? 0 : 1 };
  for (const list of Object.values(json)) {
    if (!Array.isArray(list)) {
      skipped++;
      continue;
    }
    for (const raw of list) {
      const p = readPath(raw);
      if (p) paths.push(p);
      else skipped++;
    }
  }
  return { paths, skipped };
}

/** Parses gobgp's output text; a text that is not JSON counts as one skipped entry. */
export function ribPathsFromText(text: string): { paths: RibPath[]; skipped: number } {
  const t = text.trim();
  if (t === '' || t === 'null') return { paths: [], skipped: 0 };
  try {
    return ribPaths(JSON.parse(t));
  } catch {
    return { paths: [], skipped: 1 };
  }
}

/** The best paths the VRF imports (an import RT matches), the gateway's own left out. */
export function importedPaths(paths: readonly RibPath[], opts: ImportOptions): VpnPath[] {
  const want = new Set(opts.importRts.map(canonicalRt));
  const out: VpnPath[] = [];
  for (const p of paths) {
    if (!p.best || p.rd === opts.ownRd || p.nexthop === opts.ownNexthop) continue;
    if (!p.rts.some((rt) => want.has(rt))) continue;
    const { best: _best, ...path } = p;
    out.push(path);
  }
  return out;
}

export interface RouteEntry {
  prefix: string;
  /** The ECMP set: one member per (next hop, label), sorted. */
  paths: VpnPath[];
}

const byMember = (a: VpnPath, b: VpnPath) =>
  a.nexthop < b.nexthop ? -1 : a.nexthop > b.nexthop ? 1 : a.label - b.label || (a.rd < b.rd ? -1 : a.rd > b.rd ? 1 : 0);

/** Per prefix: highest local-pref, then lowest MED; one member per (next hop, label). */
export function selectRoutes(paths: readonly VpnPath[]): RouteEntry[] {
  const byPrefix = new Map<string, VpnPath[]>();
  for (const p of paths) {
    const l = byPrefix.get(p.prefix);
    if (l) l.push(p);
    else byPrefix.set(p.prefix, [p]);
  }
  const out: RouteEntry[] = [];
  for (const [prefix, all] of byPrefix) {
    const lp = Math.max(...all.map((p) => p.localPref));
    const top = all.filter((p) => p.localPref === lp);
    const med = Math.min(...top.map((p) => p.med));
    const seen = new Set<string>();
    const members: VpnPath[] = [];
    for (const p of top.filter((x) => x.med === med).sort(byMember)) {
      const k = `${p.nexthop}/${p.label}`;
      if (seen.has(k)) continue;
      seen.add(k);
      members.push(p);
    }
    out.push({ prefix, paths: members });
  }
  return out.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/** A text that is equal for two equal tables: the poller only rebuilds on a change. */
export function routesSignature(routes: readonly RouteEntry[]): string {
  return routes.map((r) => `${r.prefix}=${r.paths.map((p) => `${p.nexthop}/${p.label}/${p.rd}`).join(',')}`).join(';');
}
