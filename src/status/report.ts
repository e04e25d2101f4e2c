/**
 * `weft status`'s judgement, from the answers of the daemons' HTTP APIs to one row per process
 * in contrail-status's terms: `active` when every connection the process is expected to have
 * is up, `initializing` when it runs but some are missing (Contrail's word for that state,
 * kept so that what people grep for still matches), `inactive` when it does not answer.
 * Pure: the CLI does the HTTP (src/cli/status.ts) and tests feed recorded answers.
 *
 * Bodies are JSON from another process, possibly another version of weft: every field is
 * checked before use, and an unexpected shape is a reason, never an exception.
 */

/** One HTTP GET as the CLI saw it: the JSON body of a 2xx answer, or why there is none. */
export type Answer = { ok: true; body: unknown } | { ok: false; error: string };

export type State = 'active' | 'initializing' | 'inactive';

/** What the CLI asked a control node. */
export interface ControlAnswers {
  introspectUrl: string;
  apiUrl: string;
  /** GET <introspect>/bgp/neighbors */
  neighbors: Answer;
  /** GET <api>/api/model: router id, AS, the vrouters expected to connect. */
  model: Answer;
  /** GET <api>/api/xmpp-sessions */
  sessions: Answer;
  /** GET <api>/api/routing-instances */
  instances: Answer;
}

/** What the CLI asked an agent: GET <url>/status. */
export interface AgentAnswers {
  url: string;
  status: Answer;
}

export interface BgpPeerStatus {
  address: string;
  state: string;
  description?: string;
}

export interface ControlDetail {
  introspect: string;
  api: string;
  routerId?: string;
  asn?: number;
  /** Established BGP sessions plus XMPP sessions. */
  connections: number;
  /** Configured BGP neighbours plus the model's vrouters. */
  expected: number;
  /** `BGP:<address>`, `XMPP:<vrouter>`, or an API that did not answer. */
  missing: string[];
  bgp?: { established: number; peers: BgpPeerStatus[] };
  xmpp?: { agents: string[]; expected: string[] };
  routingInstances?: number;
}

export interface XmppConnectionStatus {
  /** host:port of the control node. */
  controlNode: string;
  up: boolean;
  /** The client's state (established, connecting, connect-wait...). */
  state: string;
  endOfRibReceived: boolean;
}

export interface AgentDetail {
  url: string;
  vhost?: string;
  controlNodes: XmppConnectionStatus[];
}

/** A row of the table and a line of its pod's section. */
export interface NodeStatus {
  /** contrail-status's Pod column: the kind of node. */
  pod: 'control' | 'vrouter';
  service: 'control' | 'agent';
  originalName: string;
  /** Router id of a control node, name of an agent; '-' when it did not say. */
  id: string;
  /** The lab namespace the answers were asked from (weft status --lab). */
  namespace?: string;
  state: State;
  /** The table's Status column. */
  status: string;
  /** Why the state is not active (the section's parenthesis). */
  reason?: string;
  control?: ControlDetail;
  agent?: AgentDetail;
}

export interface StatusReport {
  nodes: NodeStatus[];
  /** Every node active: the command's exit status is 0. */
  ok: boolean;
}

export function makeReport(nodes: NodeStatus[]): StatusReport {
  return { nodes, ok: nodes.length > 0 && nodes.every((n) => n.state === 'active') };
}

const CONTROL_NAME = 'weft control';
const AGENT_NAME = 'weft agent';

export function controlStatus(a: ControlAnswers): NodeStatus {
  const base = { pod: 'control', service: 'control', originalName: CONTROL_NAME } as const;
  if (!a.neighbors.ok && !a.model.ok) {
    const reason = unreachable(a.neighbors.error, a.introspectUrl);
    return {
      ...base,
      id: '-',
      state: 'inactive',
      status: reason,
      reason,
      control: { introspect: a.introspectUrl, api: a.apiUrl, connections: 0, expected: 0, missing: [] },
    };
  }
  const d: ControlDetail = { introspect: a.introspectUrl, api: a.apiUrl, connections: 0, expected: 0, missing: [] };
  const notes: string[] = [];

  const peers = a.neighbors.ok ? peersOf(a.neighbors.body) : undefined;
  if (peers) {
    const established = peers.filter((p) => p.state === 'Established');
    d.bgp = { established: established.length, peers };
    d.connections += established.length;
    d.expected += peers.length;
    for (const p of peers) if (p.state !== 'Established') d.missing.push(`BGP:${p.address}`);
    notes.push(`BGP peers established: ${established.length}/${peers.length}`);
  } else {
    d.missing.push(`Introspect:${a.introspectUrl} ${a.neighbors.ok ? 'unexpected answer' : a.neighbors.error}`);
  }

  const model = a.model.ok ? modelOf(a.model.body) : undefined;
  if (model) {
    if (model.routerId !== undefined) d.routerId = model.routerId;
    if (model.asn !== undefined) d.asn = model.asn;
  } else {
    d.missing.push(`API:${a.apiUrl} ${a.model.ok ? 'unexpected answer' : a.model.error}`);
  }
  const agents = a.sessions.ok ? agentsOf(a.sessions.body) : undefined;
  if (model && agents) {
    d.xmpp = { agents, expected: model.vrouters };
    d.connections += agents.length;
    d.expected += model.vrouters.length;
    const up = new Set(agents);
    for (const v of model.vrouters) if (!up.has(v)) d.missing.push(`XMPP:${v}`);
    notes.push(`XMPP agents: ${model.vrouters.filter((v) => up.has(v)).length}/${model.vrouters.length}`);
  } else if (model) {
    // The model answered, so the API is up: a node that does not list its sessions is older.
    d.missing.push(`XMPP:sessions unknown (${a.sessions.ok ? 'unexpected answer' : a.sessions.error})`);
  }
  const ris = a.instances.ok && Array.isArray(a.instances.body) ? a.instances.body.length : undefined;
  if (ris !== undefined) {
    d.routingInstances = ris;
    notes.push(`${ris} routing instance${ris === 1 ? '' : 's'}`);
  }

  const counts = `Number of connections: ${d.connections}, Expected: ${d.expected}`;
  const missing = d.missing.length > 0 ? ` Missing: ${d.missing.join(', ')}` : '';
  const state: State = d.missing.length === 0 ? 'active' : 'initializing';
  return {
    ...base,
    id: d.routerId ?? '-',
    state,
    status: `${counts}${missing}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`,
    ...(state === 'active' ? {} : { reason: `${counts}${missing}` }),
    control: d,
  };
}

export function agentStatus(a: AgentAnswers): NodeStatus {
  const base = { pod: 'vrouter', service: 'agent', originalName: AGENT_NAME } as const;
  const st = a.status.ok ? agentBodyOf(a.status.body) : undefined;
  if (!st) {
    const reason = unreachable(a.status.ok ? 'unexpected answer' : a.status.error, a.url);
    return { ...base, id: '-', state: 'inactive', status: reason, reason, agent: { url: a.url, controlNodes: [] } };
  }
  const cns = st.controlNodes;
  const down = cns.filter((c) => !c.up);
  const status =
    cns.length === 0
      ? 'no control node configured'
      : cns.map((c) => `XMPP ${c.controlNode} ${c.up ? `up${c.endOfRibReceived ? '' : ' (waiting for End-of-RIB)'}` : `down (${c.state})`}`).join(', ');
  // contrail-status's agent line: "XMPP:control-node:<address> connection down".
  const reason = cns.length === 0 ? 'no control node configured' : down.map((c) => `XMPP:control-node:${c.controlNode} connection down`).join(', ');
  const state: State = cns.length > 0 && down.length === 0 ? 'active' : 'initializing';
  return {
    ...base,
    id: st.name ?? '-',
    state,
    status,
    ...(state === 'active' ? {} : { reason }),
    agent: { url: a.url, ...(st.vhost !== undefined ? { vhost: st.vhost } : {}), controlNodes: cns },
  };
}

/** What a failed request becomes in a reason: `http://127.0.0.1:8083: connection refused`. */
function unreachable(error: string, url: string): string {
  return `${url}: ${error}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function peersOf(body: unknown): BgpPeerStatus[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const out: BgpPeerStatus[] = [];
  for (const n of body) {
    if (!isRecord(n) || typeof n['address'] !== 'string' || typeof n['state'] !== 'string') return undefined;
    const description = str(n['description']);
    out.push({ address: n['address'], state: n['state'], ...(description !== undefined ? { description } : {}) });
  }
  return out;
}

function modelOf(body: unknown): { routerId?: string; asn?: number; vrouters: string[] } | undefined {
  if (!isRecord(body)) return undefined;
  const g = isRecord(body['global']) ? body['global'] : {};
  const vr = body['vrouters'] ?? [];
  if (!Array.isArray(vr)) return undefined;
  const vrouters = vr.map((v) => (isRecord(v) ? str(v['name']) : undefined));
  if (vrouters.some((v) => v === undefined)) return undefined;
  const routerId = str(g['router-id']);
  const asn = typeof g['asn'] === 'number' ? g['asn'] : undefined;
  return { ...(routerId !== undefined ? { routerId } : {}), ...(asn !== undefined ? { asn } : {}), vrouters: vrouters as string[] };
}

function agentsOf(body: unknown): string[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const names = body.map((s) => (isRecord(s) ? str(s['agent']) : undefined));
  return names.some((n) => n === undefined) ? undefined : (names as string[]);
}

function agentBodyOf(body: unknown): { name?: string; vhost?: string; controlNodes: XmppConnectionStatus[] } | undefined {
  if (!isRecord(body) || !Array.isArray(body['controlNodes'])) return undefined;
  const cns: XmppConnectionStatus[] = [];
  for (const c of body['controlNodes']) {
    if (!isRecord(c)) return undefined;
    const state = str(c['state']) ?? 'unknown';
    const addr = isRecord(c['address']) ? c['address'] : {};
    const id = str(c['id']) ?? (typeof addr['host'] === 'string' ? `${addr['host']}:${String(addr['port'] ?? 5269)}` : '?');
    cns.push({ controlNode: id, up: state === 'established', state, endOfRibReceived: c['endOfRibReceived'] === true });
  }
  const name = str(body['name']);
  const vhost = str(body['vhost']);
  return { ...(name !== undefined ? { name } : {}), ...(vhost !== undefined ? { vhost } : {}), controlNodes: cns };
}
