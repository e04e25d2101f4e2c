/**
 * Is the lab working? Each check asks a daemon over its own API, from inside its namespace:
 * the control node's REST API, each agent's XMPP session (established, End-of-RIB received),
 * the BGP session from both ends (weft and gobgpd), the gateway data plane, and every pod's
 * /32 at each agent holding a VRF of its network. `up` waits for all of them; `status` and
 * an idempotent `up` ask once.
 */
import type { ControlModel } from '../config/control-model.js';
import { exec, httpIn, inNs, sleep } from './exec.js';
import { GATEWAY_API, GOBGP_API_PORT } from './gateway.js';
import { AGENT_API } from './pods.js';
import type { PodRecord } from './state.js';
import { NS_CONTROL, NS_GATEWAY, type LabTopology } from './topology.js';

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

export interface LabView {
  topo: LabTopology;
  model: ControlModel;
  pods: readonly PodRecord[];
}

export async function controlCheck(model: ControlModel): Promise<Check> {
  const r = await httpIn(NS_CONTROL, 'GET', `http://127.0.0.1:${model.global.rest.port}/api/routing-instances`, undefined, 2);
  const n = Array.isArray(r.body) ? r.body.length : 0;
  return { what: 'control node REST API', ok: r.status === 200, detail: r.status === 200 ? `${n} routing instances` : `no answer (${describe(r.body)})` };
}

export interface AgentStatus {
  controlNodes?: { id?: string; state?: string; endOfRibReceived?: boolean }[];
}

/** The agent's GET /status, or the reason there is none. */
export async function agentStatus(ns: string): Promise<AgentStatus | string> {
  const r = await httpIn(ns, 'GET', `${AGENT_API}/status`, undefined, 2);
  return r.status === 200 ? (r.body as AgentStatus) : describe(r.body);
}

export async function agentCheck(ns: string, name: string): Promise<Check> {
  const st = await agentStatus(ns);
  const what = `agent ${name} XMPP`;
  if (typeof st === 'string') return { what, ok: false, detail: `API not answering (${st})` };
  const cns = st.controlNodes ?? [];
  const ok = cns.length > 0 && cns.every((c) => c.state === 'established' && c.endOfRibReceived === true);
  return { what, ok, detail: cns.map((c) => `${c.id ?? '?'} ${c.state ?? '?'}${c.endOfRibReceived ? ', End-of-RIB received' : ''}`).join('; ') || 'no control node' };
}

export async function controlBgpCheck(model: ControlModel, t: LabTopology): Promise<Check> {
  const r = await httpIn(NS_CONTROL, 'GET', `http://127.0.0.1:${model.global.introspect.port}/bgp/neighbors`, undefined, 2);
  const what = `BGP control -> gateway ${t.gatewayLoopback}`;
  if (r.status !== 200) return { what, ok: false, detail: `introspect not answering (${describe(r.body)})` };
  const n = (r.body as { address: string; state: string }[]).find((x) => x.address === t.gatewayLoopback);
  return { what, ok: n?.state === 'Established', detail: n ? n.state : 'no such neighbor' };
}

export async function gobgpNeighbors(): Promise<{ conf?: { neighbor_address?: string; peer_asn?: number }; state?: { session_state?: number | string } }[] | undefined> {
  const r = await exec(inNs(NS_GATEWAY, ['gobgp', '-p', String(GOBGP_API_PORT), 'neighbor', '-j']), { timeoutMs: 3000 });
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    return undefined;
  }
}

export const gobgpEstablished = (s: number | string | undefined) => s === 6 || (typeof s === 'string' && /^established$/i.test(s));

export async function gobgpCheck(t: LabTopology): Promise<Check> {
  const what = `BGP gobgpd -> control ${t.control.address}`;
  const ns = await gobgpNeighbors();
  if (!ns) return { what, ok: false, detail: 'gobgpd API not answering' };
  const n = ns.find((x) => x.conf?.neighbor_address === t.control.address);
  const s = n?.state?.session_state;
  return { what, ok: gobgpEstablished(s), detail: n ? (gobgpEstablished(s) ? 'Established' : `state ${s}`) : 'no such neighbor' };
}

export async function gatewayCheck(): Promise<Check> {
  const r = await httpIn(NS_GATEWAY, 'GET', `${GATEWAY_API}/status`, undefined, 2);
  return { what: 'gateway data plane', ok: r.status === 200, detail: r.status === 200 ? 'answering' : `no answer (${describe(r.body)})` };
}

interface VifJson {
  type: string;
  ip: string;
  vrf: number;
}

/** For each agent and network with a local pod: the /32 of every pod of that network on the other agents. */
export async function podRouteChecks(v: LabView): Promise<Check[]> {
  const made = new Set(v.pods.map((p) => p.name));
  const ports = v.model.ports.filter((p) => p.pod !== undefined && made.has(p.pod) && p.ips.length > 0);
  const perAgent = await Promise.all(
    v.topo.computes.map(async (c) => {
      const r = await httpIn(c.ns, 'GET', `${AGENT_API}/vif`, undefined, 2);
      const vifs = r.status === 200 ? ((r.body as { vifs: VifJson[] }).vifs ?? []) : undefined;
      return { c, vifs };
    }),
  );
  const checks: Check[] = [];
  const jobs: Promise<void>[] = [];
  for (const { c, vifs } of perAgent) {
    if (!vifs) {
      checks.push({ what: `pod routes at ${c.name}`, ok: false, detail: 'agent API not answering' });
      continue;
    }
    const vrfOf = new Map<string, number>();
    for (const port of ports.filter((p) => p.vrouter === c.name)) {
      const vif = vifs.find((x) => x.type === 'virtual' && port.ips.includes(x.ip));
      if (vif) vrfOf.set(port.network, vif.vrf);
    }
    for (const [network, vrf] of vrfOf) {
      const want = ports.filter((p) => p.network === network && p.vrouter !== c.name).flatMap((p) => p.ips);
      if (want.length === 0) continue;
      jobs.push(
        (async () => {
          const r = await httpIn(c.ns, 'GET', `${AGENT_API}/rt?vrf=${vrf}`, undefined, 2);
          const routes = r.status === 200 ? ((r.body as { routes: { prefix: string; label?: number }[] }).routes ?? []) : [];
          const missing = want.filter((ip) => !routes.some((x) => x.prefix === `${ip}/32` && x.label !== undefined));
          checks.push({
            what: `pod routes at ${c.name} in ${network.slice(network.lastIndexOf(':') + 1)}`,
            ok: missing.length === 0,
            detail: missing.length === 0 ? `${want.length} remote /32 with labels` : `missing ${missing.join(', ')}`,
          });
        })(),
      );
    }
  }
  await Promise.all(jobs);
  return checks;
}

export async function allChecks(v: LabView): Promise<Check[]> {
  const [control, bgp, gobgp, gateway, agents, routes] = await Promise.all([
    controlCheck(v.model),
    controlBgpCheck(v.model, v.topo),
    gobgpCheck(v.topo),
    gatewayCheck(),
    Promise.all(v.topo.computes.map((c) => agentCheck(c.ns, c.name))),
    podRouteChecks(v),
  ]);
  return [control, ...agents, bgp, gobgp, gateway, ...routes];
}

/** Polls allChecks until every one passes; throws naming what did not by `deadline` (epoch ms), or what `guard` throws. */
export async function waitReady(v: LabView, deadline: number, guard: () => void = () => undefined): Promise<Check[]> {
  for (;;) {
    guard();
    const checks = await allChecks(v);
    if (checks.every((c) => c.ok)) return checks;
    if (Date.now() > deadline) {
      throw new Error(`the lab did not become ready:\n${checks.filter((c) => !c.ok).map((c) => `  ${c.what}: ${c.detail}`).join('\n')}`);
    }
    await sleep(250);
  }
}

function describe(body: unknown): string {
  const e = (body as { error?: string } | undefined)?.error;
  return typeof e === 'string' ? e.split('\n')[0]! : JSON.stringify(body).slice(0, 80);
}
