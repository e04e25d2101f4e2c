/**
 * `weft vif|rt|nh|mpls|flow`: the vRouter utilities, reading a running agent's introspect
 * API (src/agent/introspect-routes.ts) and printing the layouts the vRouter's own tools print,
 * or with --json the API's snapshot as it came.
 */
import { parseArgs } from 'node:util';
import {
  SnapshotError,
  formatFlowSnapshot,
  formatMplsSnapshot,
  formatNhSnapshot,
  formatRtSnapshot,
  formatVifSnapshot,
  type FlowSnapshot,
  type MplsSnapshot,
  type NhSnapshot,
  type RtSnapshot,
  type VifSnapshot,
} from '../vrouter/snapshot.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage.js';

export const DEFAULT_AGENT_URL = 'http://127.0.0.1:8085';

const COMMON = `  --json      print the agent's JSON snapshot instead of the table
  --url URL   agent introspect address (default ${DEFAULT_AGENT_URL})

Exit status: 0 on success, 1 when the agent cannot be reached or answers with an error,
2 on bad usage.
`;

export const VIF_USAGE = `usage: weft vif --list | --get N [--json] [--url URL]

Show the vRouter interfaces (vif0/N): OS name, type, MAC, address, VRF, flags, counters.

  -l, --list  every interface
  --get N     interface vif0/N
${COMMON}`;

export const RT_USAGE = `usage: weft rt --dump VRF | --get PREFIX --vrf VRF [--json] [--url URL]

Show a VRF's IPv4 routes: prefix, flags (L label valid, P proxy ARP), label, next hop.

  --dump VRF      every route of the VRF
  --get PREFIX    the route an address (a.b.c.d or a.b.c.d/len) falls in, in --vrf VRF
${COMMON}`;

export const NH_USAGE = `usage: weft nh --list | --get ID [--json] [--url URL]

Show the vRouter next hops (Encap, Tunnel, Composite, Receive, Drop).

  --list      every next hop
  --get ID    next hop ID (a Composite followed by its member next hops)
${COMMON}`;

export const MPLS_USAGE = `usage: weft mpls --dump | --get LABEL [--json] [--url URL]

Show the MPLS input label map: label -> next hop.

  --dump       every label
  --get LABEL  one label
${COMMON}`;

export const FLOW_USAGE = `usage: weft flow -l | --match IP[:PORT] [--json] [--url URL]

Show the flow table: forward/reverse pairs, action (F, D(reason), N(S D Ps Pd)), TCP state,
next hops, counters.

  -l, --list           every flow
  --match IP[:PORT]    flows with IP (and PORT) as source or destination
${COMMON}`;

type Opts = Record<string, string | boolean | undefined>;

interface Tool {
  name: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  /** API path and query for the options given; throws UsageError when they make no request. */
  request(o: Opts): string;
  format(body: unknown): string;
}

const ID = /^\d{1,10}$/;

function wantInt(tool: Tool, o: Opts, name: string): string {
  const v = o[name];
  if (typeof v !== 'string' || !ID.test(v)) throw new UsageError(`weft ${tool.name}: --${name} takes a number`, tool.usage);
  return v;
}

function oneOf(tool: Tool, o: Opts, names: string[]): string {
  const given = names.filter((n) => o[n] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(`weft ${tool.name}: ${given.length === 0 ? 'one of' : 'only one of'} ${names.map((n) => `--${n}`).join(', ')}`, tool.usage);
  }
  return given[0]!;
}

const vif: Tool = {
  name: 'vif',
  usage: VIF_USAGE,
  options: { list: { type: 'boolean', short: 'l' }, get: { type: 'string' } },
  request(o) {
    return oneOf(this, o, ['list', 'get']) === 'list' ? '/vif' : `/vif?index=${wantInt(this, o, 'get')}`;
  },
  format: (b) => formatVifSnapshot(b as VifSnapshot),
};

const rt: Tool = {
  name: 'rt',
  usage: RT_USAGE,
  options: { dump: { type: 'string' }, get: { type: 'string' }, vrf: { type: 'string' } },
  request(o) {
    if (oneOf(this, o, ['dump', 'get']) === 'dump') {
      if (o.vrf !== undefined) throw new UsageError('weft rt: --dump takes the VRF itself', this.usage);
      return `/rt?vrf=${wantInt(this, o, 'dump')}`;
    }
    if (o.vrf === undefined) throw new UsageError('weft rt: --get needs --vrf', this.usage);
    return `/rt?vrf=${wantInt(this, o, 'vrf')}&get=${encodeURIComponent(String(o.get))}`;
  },
  format: (b) => formatRtSnapshot(b as RtSnapshot),
};

const nh: Tool = {
  name: 'nh',
  usage: NH_USAGE,
  options: { list: { type: 'boolean' }, get: { type: 'string' } },
  request(o) {
    return oneOf(this, o, ['list', 'get']) === 'list' ? '/nh' : `/nh?id=${wantInt(this, o, 'get')}`;
  },
  format: (b) => formatNhSnapshot(b as NhSnapshot),
};

const mpls: Tool = {
  name: 'mpls',
  usage: MPLS_USAGE,
  options: { dump: { type: 'boolean' }, get: { type: 'string' } },
  request(o) {
    return oneOf(this, o, ['dump', 'get']) === 'dump' ? '/mpls' : `/mpls?label=${wantInt(this, o, 'get')}`;
  },
  format: (b) => formatMplsSnapshot(b as MplsSnapshot),
};

const flow: Tool = {
  name: 'flow',
  usage: FLOW_USAGE,
  options: { list: { type: 'boolean', short: 'l' }, match: { type: 'string' } },
  request(o) {
    return oneOf(this, o, ['list', 'match']) === 'list' ? '/flow' : `/flow?match=${encodeURIComponent(String(o.match))}`;
  },
  format: (b) => formatFlowSnapshot(b as FlowSnapshot),
};

async function runTool(tool: Tool, args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...tool.options, json: { type: 'boolean' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`weft ${tool.name}: ${(e as Error).message}`, tool.usage);
  }
  const o = parsed.values as Opts;
  if (o.help) {
    io.stdout.write(tool.usage);
    return 0;
  }
  const path = tool.request(o);
  const url = `${String(o.url ?? DEFAULT_AGENT_URL).replace(/\/+$/, '')}${path}`;
  const body = await getJson(tool.name, io, url);
  if (body === undefined) return 1;
  if (o.json) {
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  let text: string;
  try {
    text = tool.format(body);
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    io.stderr.write(`weft ${tool.name}: ${url}: unexpected answer: ${e.message}\n`);
    return 1;
  }
  io.stdout.write(text);
  return 0;
}

async function getJson(name: string, io: CliIo, url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    io.stderr.write(`weft ${name}: cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}\n`);
    return undefined;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    io.stderr.write(`weft ${name}: ${url}: HTTP ${res.status}, not JSON\n`);
    return undefined;
  }
  if (!res.ok) {
    const err = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
    io.stderr.write(`weft ${name}: ${typeof err === 'string' ? err : `HTTP ${res.status}`}\n`);
    return undefined;
  }
  return body;
}

export const vifCommand = (args: string[], io: CliIo): Promise<number> => runTool(vif, args, io);
export const rtCommand = (args: string[], io: CliIo): Promise<number> => runTool(rt, args, io);
export const nhCommand = (args: string[], io: CliIo): Promise<number> => runTool(nh, args, io);
export const mplsCommand = (args: string[], io: CliIo): Promise<number> => runTool(mpls, args, io);
export const flowCommand = (args: string[], io: CliIo): Promise<number> => runTool(flow, args, io);
