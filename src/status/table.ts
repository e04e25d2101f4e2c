/**
 * The report in contrail-status's layout (the book, lines 11104-11186): the table of
 * processes (Pod, Service, Original Name, State, Id, Status), then one `== ... ==` section per
 * node with `<service>: <state>` and, when not active, the reason in parentheses.
 */
import { formatTable } from '../cli/bgp.js';
import type { NodeStatus, StatusReport } from './report.js';

const HEADER = ['Pod', 'Service', 'Original Name', 'State', 'Id', 'Status'];

export function formatStatus(r: StatusReport): string {
  if (r.nodes.length === 0) return 'no weft daemon asked\n';
  const table = formatTable(
    HEADER,
    r.nodes.map((n) => [n.pod, n.service, n.originalName, n.state, n.id, n.status]),
  );
  return `${table}\n${sections(r.nodes).join('\n')}`;
}

/**
 * Contrail has one section per pod on a host. With several hosts (the lab) the same pod comes
 * more than once, so those sections also name the node.
 */
function sections(nodes: readonly NodeStatus[]): string[] {
  const perPod = new Map<string, number>();
  for (const n of nodes) perPod.set(n.pod, (perPod.get(n.pod) ?? 0) + 1);
  const order: string[] = [];
  const lines = new Map<string, string[]>();
  for (const n of nodes) {
    const which = (perPod.get(n.pod) ?? 0) > 1 ? ` ${nodeName(n)}` : '';
    const title = `== weft ${n.pod}${which} ==`;
    let body = lines.get(title);
    if (!body) {
      order.push(title);
      lines.set(title, (body = []));
    }
    body.push(`${n.service}: ${n.state}${n.reason !== undefined ? ` (${n.reason})` : ''}`);
  }
  return order.map((t) => `${t}\n${lines.get(t)!.join('\n')}\n`);
}

/** The agent's name or router id when it answered, else where it was asked. */
function nodeName(n: NodeStatus): string {
  if (n.id !== '-') return n.id;
  return n.namespace ?? n.agent?.url ?? n.control?.introspect ?? '?';
}
