/**
 * `weft status` over the lab: which namespaces to ask (from the lab's state file) and the one
 * report made of what `weft status --json` printed inside each of them. A namespace that gave
 * no report (gone, node failed) still gets its row, inactive, with the reason.
 */
import { makeReport, type NodeStatus, type StatusReport } from './report.js';

export interface LabTarget {
  namespace: string;
  pod: NodeStatus['pod'];
  /** The lab's name for it: `control`, or the compute node's name for an agent. */
  name: string;
}

/** The control node and the agents among the processes `weft lab up` recorded. */
export function labTargets(procs: readonly { name: string; ns: string }[]): LabTarget[] {
  const out: LabTarget[] = [];
  for (const p of procs) {
    if (p.name === 'control') out.push({ namespace: p.ns, pod: 'control', name: 'control' });
    else if (p.name.startsWith('agent-')) out.push({ namespace: p.ns, pod: 'vrouter', name: p.name.slice('agent-'.length) });
  }
  // Control first, as contrail-status lists the control pod before the vrouter.
  return [...out.filter((t) => t.pod === 'control'), ...out.filter((t) => t.pod !== 'control')];
}

export interface InnerRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function labReport(results: readonly { target: LabTarget; ran: InnerRun }[]): StatusReport {
  const nodes: NodeStatus[] = [];
  for (const { target, ran } of results) {
    const inner = innerNodes(ran.stdout);
    if (inner) {
      for (const n of inner) nodes.push({ ...n, id: n.id === '-' && target.pod === 'vrouter' ? target.name : n.id, namespace: target.namespace });
      continue;
    }
    const why = firstLine(ran.stderr) ?? (ran.code !== 0 ? `exit status ${ran.code}` : 'no report');
    const reason = `no answer from namespace ${target.namespace}: ${why}`;
    nodes.push({
      pod: target.pod,
      service: target.pod === 'control' ? 'control' : 'agent',
      originalName: target.pod === 'control' ? 'weft control' : 'weft agent',
      id: target.pod === 'vrouter' ? target.name : '-',
      namespace: target.namespace,
      state: 'inactive',
      status: reason,
      reason,
    });
  }
  return makeReport(nodes);
}

const STATES: ReadonlySet<string> = new Set(['active', 'initializing', 'inactive']);

/** The nodes of an inner `weft status --json`, if that is what it printed. */
function innerNodes(stdout: string): NodeStatus[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { nodes?: unknown }).nodes)) return undefined;
  const nodes = (v as { nodes: unknown[] }).nodes;
  const ok = nodes.every((n) => {
    if (typeof n !== 'object' || n === null) return false;
    const r = n as Record<string, unknown>;
    return ['pod', 'service', 'originalName', 'id', 'status'].every((k) => typeof r[k] === 'string') && STATES.has(String(r['state']));
  });
  return ok ? (nodes as NodeStatus[]) : undefined;
}

function firstLine(s: string): string | undefined {
  const l = s.split('\n').map((x) => x.trim()).find((x) => x.length > 0);
  return l === undefined ? undefined : l.length > 200 ? `${l.slice(0, 200)}...` : l;
}
