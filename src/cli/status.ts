/**
 * `weft status`: contrail-status for weft. Asks the control node (introspect and REST API) and
 * the agents (their API's /status) what they are connected to, and prints the table and
 * sections of src/status/table.ts, or --json the report. On the lab's host it asks inside the
 * lab's namespaces instead, by running itself there (`nsenter --net=... node weft status
 * --json`) and merging what each printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_REST_PORT } from '../config/control-model.js';
import { fetchErrorReason } from '../status/fetch-error.js';
import { labReport, labTargets, type LabTarget } from '../status/lab.js';
import { agentStatus, controlStatus, makeReport, type Answer, type NodeStatus, type StatusReport } from '../status/report.js';
import { formatStatus } from '../status/table.js';
import { parseCommandArgs, type CliIo } from './io.js';
import { UsageError } from './usage.js';
import { DEFAULT_AGENT_URL } from './vrouter-tools.js';

const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8083';
const LAB_STATE_FILE = '/run/weft-lab/state.json';
const REQUEST_TIMEOUT_MS = 3000;
/** Node's start-up inside each namespace plus the requests, on a busy machine. */
const LAB_RUN_TIMEOUT_MS = 20_000;

export const STATUS_USAGE = `usage: weft status [--control URL] [--control-api URL] [--agent URL]... [--json]
       weft status --lab [--json]

The state of the weft daemons, as contrail-status shows Contrail's: a table of processes
(Pod, Service, Original Name, State, Id, Status) and a section per node. A control node is
active when every BGP neighbour it has is Established and every vrouter of its model has an
XMPP session ("Number of connections: N, Expected: M", the missing ones named); an agent is
active when its XMPP session to each of its control nodes is up. What does not answer is
inactive, with the reason (connection refused...).

  --control URL       control node introspect (default ${DEFAULT_CONTROL_URL})
  --control-api URL   control node REST API (default: the introspect's host, port ${DEFAULT_REST_PORT})
  --agent URL         an agent's API (default ${DEFAULT_AGENT_URL}); repeat for several
  --json              print the report as JSON
  --lab               ask inside the lab's namespaces (weft lab up): the control node and
                      every agent. The default when ${LAB_STATE_FILE} exists
                      and no URL is given.

Without --control, --control-api or --agent, the control node and the agent are asked at
their defaults. Exit status: 0 when everything asked is active, 1 when something is not,
2 on bad usage.
`;

export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('status', STATUS_USAGE, {
    args,
    options: {
      control: { type: 'string' },
      'control-api': { type: 'string' },
      agent: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      lab: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  const agents = v.agent ?? [];
  const explicit = v.control !== undefined || v['control-api'] !== undefined || agents.length > 0;
  if (v.lab && explicit) throw new UsageError('weft status: --lab asks the lab\'s own addresses; give no URL with it', STATUS_USAGE);
  for (const u of [v.control, v['control-api'], ...agents]) if (u !== undefined) checkUrl(u);

  let report: StatusReport;
  if (v.lab || (!explicit && existsSync(LAB_STATE_FILE))) {
    const r = await labStatus();
    if (typeof r === 'string') {
      io.stderr.write(`weft status: ${r}\n`);
      return 1;
    }
    report = r;
  } else {
    const nodes: Promise<NodeStatus>[] = [];
    if (!explicit || v.control !== undefined || v['control-api'] !== undefined) {
      const introspect = trim(v.control ?? DEFAULT_CONTROL_URL);
      nodes.push(askControl(introspect, trim(v['control-api'] ?? restUrlOf(introspect))));
    }
    for (const a of explicit ? agents : [DEFAULT_AGENT_URL]) nodes.push(askAgent(trim(a)));
    report = makeReport(await Promise.all(nodes));
  }
  io.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return report.ok ? 0 : 1;
}

function checkUrl(u: string): void {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UsageError(`weft status: not a URL: ${u}`, STATUS_USAGE);
  }
  if (url.protocol !== 'http:') throw new UsageError(`weft status: ${u}: only http:// URLs`, STATUS_USAGE);
}

const trim = (u: string) => u.replace(/\/+$/, '');

/** The REST API where the introspect is, on its default port: the two live in one process. */
function restUrlOf(introspect: string): string {
  const u = new URL(introspect);
  u.port = String(DEFAULT_REST_PORT);
  return trim(u.toString());
}

async function askControl(introspectUrl: string, apiUrl: string): Promise<NodeStatus> {
  const [neighbors, model, sessions, instances] = await Promise.all([
    get(`${introspectUrl}/bgp/neighbors`),
    get(`${apiUrl}/api/model`),
    get(`${apiUrl}/api/xmpp-sessions`),
    get(`${apiUrl}/api/routing-instances`),
  ]);
  return controlStatus({ introspectUrl, apiUrl, neighbors, model, sessions, instances });
}

async function askAgent(url: string): Promise<NodeStatus> {
  return agentStatus({ url, status: await get(`${url}/status`) });
}

async function get(url: string): Promise<Answer> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    text = await res.text();
  } catch (e) {
    return { ok: false, error: fetchErrorReason(e, REQUEST_TIMEOUT_MS) };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: `HTTP ${res.status}, not JSON` };
  }
  if (!res.ok) {
    const msg = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? `: ${(body as { error: string }).error}` : '';
    return { ok: false, error: `HTTP ${res.status}${msg}` };
  }
  return { ok: true, body };
}

// ---------- the lab ----------

/** The lab's report, or why there is none. `stateFile`: what `weft lab up` wrote. */
export async function labStatus(stateFile = LAB_STATE_FILE): Promise<StatusReport | string> {
  const state = readLabState(stateFile);
  if (!state) return `no lab here (${stateFile} missing or unreadable); weft lab up builds it`;
  const targets = labTargets(state.procs);
  if (targets.length === 0) return `the lab in ${stateFile} has no control node or agent`;
  const control = await labControlUrls(state.config);
  const bin = weftBin();
  if (!bin) return 'cannot find bin/weft.js to run inside the namespaces';
  const { exec, inNs } = await import('../lab/exec.js');
  const results = await Promise.all(
    targets.map(async (target) => ({ target, ran: await exec(inNs(target.namespace, [process.execPath, bin, 'status', '--json', ...innerArgs(target, control)]), { timeoutMs: LAB_RUN_TIMEOUT_MS }) })),
  );
  return labReport(results);
}

/** The parts of src/lab/state.ts's LabState this reads, checked: the file may be half-written or old. */
function readLabState(file: string): { config: string; procs: { name: string; ns: string }[] } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const s = v as { config?: unknown; procs?: unknown };
  if (typeof v !== 'object' || v === null || typeof s.config !== 'string' || !Array.isArray(s.procs)) return undefined;
  const procs = (s.procs as unknown[]).filter(
    (p): p is { name: string; ns: string } => typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string' && typeof (p as { ns?: unknown }).ns === 'string',
  );
  return { config: s.config, procs };
}

function innerArgs(t: LabTarget, control: { introspect: string; api: string }): string[] {
  if (t.pod === 'control') return ['--control', control.introspect, '--control-api', control.api];
  return ['--agent', DEFAULT_AGENT_URL];
}

/** Where the lab's model puts the introspect and the REST API; the defaults when the file is gone. */
async function labControlUrls(config: string): Promise<{ introspect: string; api: string }> {
  try {
    const { loadControlModel } = await import('../control/config-model.js');
    const g = (await loadControlModel(config)).global;
    return { introspect: urlOf(g.introspect), api: urlOf(g.rest) };
  } catch {
    return { introspect: DEFAULT_CONTROL_URL, api: restUrlOf(DEFAULT_CONTROL_URL) };
  }
}

/** A listening address as a URL to reach it from the same namespace (a wildcard via loopback). */
function urlOf(l: { address: string; port: number }): string {
  const host = l.address === '0.0.0.0' ? '127.0.0.1' : l.address === '::' ? '[::1]' : l.address.includes(':') ? `[${l.address}]` : l.address;
  return `http://${host}:${l.port}`;
}

/** This clone's bin/weft.js, from dist/src/cli (built) or src/cli (tests from source). */
function weftBin(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const bin = path.join(dir, 'bin', 'weft.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return bin;
    dir = path.dirname(dir);
  }
  return undefined;
}
