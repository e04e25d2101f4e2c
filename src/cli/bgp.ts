import type { ErrorResponse, NeighborResponse, RibResponse, RoutePathView } from '../introspect/types.js';
import { parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';

export const BGP_USAGE = `usage: weft bgp neighbors [<address>] [--json] [--url URL]
       weft bgp rib -a ipv4|vpnv4|vpnv6|rtc [--json] [--limit N] [--url URL]

Show a running control node's BGP state, read from its introspect API.

  neighbors   one line per neighbour: AS, state, up/down time, messages, prefixes
              (with an address: every detail of that neighbour)
  rib         the Loc-RIB of an address family, every path ('*>' marks the best)
  -a FAMILY   address family for rib (default vpnv4)
  --json      print the API's JSON instead of a table
  --limit N   at most N destinations (default: the server's, 10000)
  --url URL   introspect address (default http://127.0.0.1:8083)

Exit status: 0 on success, 1 when the API cannot be reached or answers with an error,
2 on bad usage.
`;

const DEFAULT_URL = 'http://127.0.0.1:8083';

export async function bgpCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('bgp', BGP_USAGE, {
    args,
    options: {
      json: { type: 'boolean' },
      url: { type: 'string' },
      'address-family': { type: 'string', short: 'a' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(BGP_USAGE);
    return 0;
  }
  const [what, ...rest] = parsed.positionals;
  const base = (v.url ?? DEFAULT_URL).replace(/\/+$/, '');
  if (what === 'neighbors' || what === 'neighbor') {
    if (rest.length > 1) throw new UsageError(`weft bgp neighbors: one address at a time`, BGP_USAGE);
    const addr = rest[0];
    const r = await getJson(io, `${base}/bgp/neighbors${addr === undefined ? '' : `/${encodeURIComponent(addr)}`}`);
    if (!r.ok) return 1;
    if (v.json) io.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    else if (addr === undefined) io.stdout.write(neighborsTable(r.body as NeighborResponse[]));
    else io.stdout.write(neighborDetail(r.body as NeighborResponse));
    return 0;
  }
  if (what === 'rib') {
    if (rest.length > 0) throw new UsageError(`weft bgp rib: unexpected ${rest.join(' ')}`, BGP_USAGE);
    const family = v['address-family'] ?? 'vpnv4';
    if (!['ipv4', 'ipv4-unicast', 'vpnv4', 'vpnv6', 'rtc'].includes(family)) {
      throw new UsageError(`weft bgp rib: unknown address family '${family}'`, BGP_USAGE);
    }
    if (v.limit !== undefined && !/^[1-9]\d{0,7}$/.test(v.limit)) throw new UsageError('weft bgp rib: --limit must be a positive integer', BGP_USAGE);
    const r = await getJson(io, `${base}/bgp/rib/${family}${v.limit ? `?limit=${v.limit}` : ''}`);
    if (!r.ok) return 1;
    if (v.json) io.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    else io.stdout.write(ribTable(r.body as RibResponse));
    return 0;
  }
  throw new UsageError(what === undefined ? 'weft bgp: what to show? (neighbors, rib)' : `weft bgp: unknown subcommand '${what}'`, BGP_USAGE);
}

async function getJson(io: CliIo, url: string): Promise<{ ok: true; body: unknown } | { ok: false }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    io.stderr.write(`weft bgp: cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}\n`);
    return { ok: false };
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    io.stderr.write(`weft bgp: ${url}: HTTP ${res.status}, not JSON\n`);
    return { ok: false };
  }
  if (!res.ok) {
    io.stderr.write(`weft bgp: ${(body as ErrorResponse).error ?? `HTTP ${res.status}`}\n`);
    return { ok: false };
  }
  return { ok: true, body };
}

/* ---------- tables ---------- */

/** Columns padded to their widest cell; numeric columns right-aligned, as `show bgp summary`. */
export function formatTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && !right.has(i) ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** 00:05:12 under a day, then 3d04h, as `show bgp summary` prints Up/Down. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h`;
  return `${two(h)}:${two(m)}:${two(s % 60)}`;
}

function upDown(n: NeighborResponse, now: number): string {
  if (n.uptimeSeconds !== undefined) return formatDuration(n.uptimeSeconds);
  if (n.lastDown) return formatDuration((now - Date.parse(n.lastDown.at)) / 1000);
  return 'never';
}

function sum(o: Partial<Record<string, number>>): number {
  let t = 0;
  for (const v of Object.values(o)) t += v ?? 0;
  return t;
}

export function neighborsTable(ns: NeighborResponse[], now = Date.now()): string {
  if (ns.length === 0) return 'no neighbors\n';
  const rows = ns.map((n) => [
    n.address,
    String(n.remoteAs),
    n.state,
    upDown(n, now),
    String(n.received.total),
    String(n.sent.total),
    String(n.prefixesReceived),
    String(sum(n.prefixesAdvertised)),
    n.description ?? '',
  ]);
  return formatTable(['Neighbor', 'AS', 'State', 'Up/Down', 'MsgRcvd', 'MsgSent', 'PfxRcd', 'PfxSnt', 'Description'], rows, new Set([1, 4, 5, 6, 7]));
}

export function neighborDetail(n: NeighborResponse, now = Date.now()): string {
  const lines = [
    `BGP neighbor ${n.address}, remote AS ${n.remoteAs}${n.description ? `, "${n.description}"` : ''}`,
    `  state ${n.state}, ${n.uptimeSeconds !== undefined ? `up for ${formatDuration(n.uptimeSeconds)}` : `down (${upDown(n, now)})`}`,
  ];
  if (n.negotiated) {
    lines.push(`  hold time ${n.negotiated.holdTime}s, families ${n.negotiated.families.join(' ') || '-'}`);
  }
  lines.push(`  messages received ${n.received.total} (${n.received.update} updates), sent ${n.sent.total} (${n.sent.update} updates)`);
  const adv = Object.entries(n.prefixesAdvertised).map(([f, c]) => `${f} ${c}`);
  lines.push(`  prefixes received ${n.prefixesReceived}, advertised ${adv.length ? adv.join(', ') : '0'}`);
  if (n.lastDown) {
    const nt = n.lastDown.notification;
    lines.push(
      `  last down ${n.lastDown.at}: ${n.lastDown.reason}${nt ? ` (NOTIFICATION ${nt.code}/${nt.subcode} ${nt.sent ? 'sent' : 'received'})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const ORIGIN_CODE: Readonly<Record<string, string>> = { igp: 'i', egp: 'e', incomplete: '?' };

function pathCells(p: RoutePathView): string[] {
  const a = p.attributes;
  const asPath = `${a.asPath ? `${a.asPath} ` : ''}${ORIGIN_CODE[a.origin] ?? a.origin}`;
  return [
    `${p.stale ? 'S' : '*'}${p.best ? '>' : ' '}`,
    a.nextHop,
    p.labels && p.labels.length ? p.labels.join(',') : '-',
    a.localPref === undefined ? '' : String(a.localPref),
    a.med === undefined ? '' : String(a.med),
    asPath,
    p.source,
    a.extCommunities.join(' '),
  ];
}

export function ribTable(r: RibResponse): string {
  const rows: string[][] = [];
  for (const route of r.routes) {
    route.paths.forEach((p, i) => {
      const [status, ...cells] = pathCells(p);
      rows.push([status!, i === 0 ? route.key : '', ...cells]);
    });
  }
  const head = `Table ${r.table}: ${r.routes.length} destination${r.routes.length === 1 ? '' : 's'}${r.truncated ? ' (truncated: use --limit)' : ''}\n`;
  if (rows.length === 0) return head;
  return (
    head +
    formatTable(['', 'Network', 'Next Hop', 'Labels', 'LocPrf', 'MED', 'Path', 'From', 'Ext Communities'], rows, new Set([4, 5])) +
    'Status: * valid, > best, S stale; Path origin: i IGP, e EGP, ? incomplete\n'
  );
}
