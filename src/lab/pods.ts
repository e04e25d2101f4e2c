/**
 * The lab's pods: the model's ports grouped by `pod`, each pod made by the agent of its
 * ports' vRouter through that agent's API (127.0.0.1:8085 inside the compute namespace), in
 * namespace weft-pod-<pod>. A pod that is a service instance's left/right pair forwards
 * (ip_forward=1) and serves nothing; every other pod runs the book's web server.
 */
import path from 'node:path';
import type { ControlModel, PortConfig } from '../config/control-model.js';
import { httpIn, inNs, must } from './exec.js';
import { spawnInNs } from './processes.js';
import type { PodRecord, ProcRecord } from './state.js';
import { computeNamespace, podNamespace } from './topology.js';

export const AGENT_API = 'http://127.0.0.1:8085';

export interface LabPod {
  name: string;
  ns: string;
  vrouter: string;
  /** In interface order (eth0, eth1...). */
  ports: PortConfig[];
  service: boolean;
}

const ifIndex = (p: PortConfig, i: number) => (p.interface !== undefined && /^eth\d+$/.test(p.interface) ? Number(p.interface.slice(3)) : 1000 + i);

export function podsOf(model: ControlModel): LabPod[] {
  const byPod = new Map<string, PortConfig[]>();
  for (const p of model.ports) if (p.pod !== undefined) byPod.set(p.pod, [...(byPod.get(p.pod) ?? []), p]);
  const chained = new Set(model.serviceInstances.flatMap((s) => [s.leftPort, s.rightPort]));
  const pods: LabPod[] = [];
  for (const [name, ports] of byPod) {
    const vrouters = [...new Set(ports.map((p) => p.vrouter))];
    if (vrouters.length !== 1) throw new Error(`pod ${name}: its ports are on different vrouters (${vrouters.join(', ')})`);
    const ordered = ports.map((p, i) => ({ p, k: ifIndex(p, i) })).sort((a, b) => a.k - b.k).map((x) => x.p);
    pods.push({ name, ns: podNamespace(name), vrouter: vrouters[0]!, ports: ordered, service: ports.length >= 2 && ports.some((p) => chained.has(p.name)) });
  }
  return pods;
}

export class PodError extends Error {
  override readonly name = 'PodError';

  constructor(
    message: string,
    /** The agent may know better in a moment (a port its configuration does not hold yet). */
    readonly retry = false,
  ) {
    super(message);
  }
}

/** Makes one pod on its agent from the model's ports, which the agent knows from its pushed configuration. */
export async function createPod(pod: LabPod): Promise<void> {
  const r = await httpIn(computeNamespace(pod.vrouter), 'POST', `${AGENT_API}/pods`, { name: pod.ns, ports: pod.ports.map((p) => p.name), hostname: pod.name }, 20);
  if (r.status === 201) return;
  const b = r.body as { error?: string; message?: string } | undefined;
  throw new PodError(`pod ${pod.name} on ${pod.vrouter}: ${b?.error ?? JSON.stringify(r.body)}${b?.message ? `: ${b.message}` : ''}`, r.status === 400);
}

/** The pod's side: ip_forward for a service pod, the web server for the others. */
export async function startPodWork(pod: LabPod, repo: string): Promise<ProcRecord | undefined> {
  if (pod.service) {
    await must(inNs(pod.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']));
    return undefined;
  }
  const ip = pod.ports[0]!.ips[0] ?? '0.0.0.0';
  return spawnInNs(`pod-${pod.name}`, pod.ns, [process.execPath, path.join(repo, 'dist', 'src', 'lab', 'pod-web.js'), '--ip', ip, '--hostname', pod.name]);
}

export function podRecord(pod: LabPod): PodRecord {
  return { name: pod.name, ns: pod.ns, vrouter: pod.vrouter, ips: pod.ports.flatMap((p) => p.ips), service: pod.service };
}
