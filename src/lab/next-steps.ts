/**
 * What `weft lab up` suggests trying once the lab works, with this lab's real names and
 * numbers: a ping between pods on the two compute nodes, the FIP fetched from the Internet
 * host, the vRouter views of the source node, and the gateway's routes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ControlModel } from '../config/control-model.js';
import { httpIn, which } from './exec.js';
import { GOBGP_API_PORT } from './gateway.js';
import { AGENT_API } from './pods.js';
import type { PodRecord } from './state.js';
import { NS_GATEWAY, NS_INTERNET, computeNamespace, podNamespace } from './topology.js';

/** How the user runs weft from where they are: `weft` when installed, else the clone's bin/weft.js. */
export function weftCommand(repo: string): string {
  if (which('weft') !== undefined) return 'weft';
  const bin = path.join(repo, 'bin', 'weft.js');
  const rel = path.relative(process.cwd(), bin);
  return existsSync(bin) && !rel.startsWith('..') ? `./${rel}` : bin;
}

interface Pair {
  from: PodRecord;
  to: PodRecord;
}

/** A pod on one node and a pod of the same network on another, preferring the book's client. */
function crossNodePair(model: ControlModel, pods: readonly PodRecord[]): Pair | undefined {
  const web = pods.filter((p) => !p.service && p.ips.length > 0);
  const netOf = (p: PodRecord) => model.ports.find((x) => x.pod === p.name)?.network;
  const sources = [...web.filter((p) => p.name === 'client'), ...web.filter((p) => p.name !== 'client')];
  for (const from of sources) {
    const to = web.find((p) => p.vrouter !== from.vrouter && netOf(p) === netOf(from));
    if (to) return { from, to };
  }
  return undefined;
}

export async function nextSteps(model: ControlModel, pods: readonly PodRecord[], repo: string): Promise<string> {
  const weft = weftCommand(repo);
  const lines: string[] = ['Try next:'];
  const pair = crossNodePair(model, pods);
  if (pair) {
    const { from, to } = pair;
    const cns = computeNamespace(from.vrouter);
    lines.push(`  ip netns exec ${podNamespace(from.name)} ping -c 3 ${to.ips[0]}        # ${from.name} (${from.vrouter}) -> ${to.name} (${to.vrouter}), MPLSoUDP between the nodes`);
    lines.push(`  ip netns exec ${podNamespace(from.name)} curl http://${to.ips[0]}/`);
    const vifs = await httpIn(cns, 'GET', `${AGENT_API}/vif`, undefined, 2);
    const vif = ((vifs.body as { vifs?: { ip: string; vrf: number }[] }).vifs ?? []).find((v) => v.ip === from.ips[0]);
    if (vif) {
      const rt = await httpIn(cns, 'GET', `${AGENT_API}/rt?vrf=${vif.vrf}&get=${to.ips[0]}/32`, undefined, 2);
      const nh = (rt.body as { route?: { nh?: number } | null }).route?.nh;
      lines.push(`  ip netns exec ${cns} ${weft} rt --dump ${vif.vrf}             # the VRF of ${from.name} on ${from.vrouter}`);
      lines.push(`  ip netns exec ${cns} ${weft} rt --get ${to.ips[0]}/32 --vrf ${vif.vrf}`);
      if (nh !== undefined) lines.push(`  ip netns exec ${cns} ${weft} nh --get ${nh}                   # the tunnel to ${to.vrouter}`);
      lines.push(`  ip netns exec ${cns} ${weft} flow -l`);
    }
  }
  const made = new Set(pods.map((p) => p.name));
  const fip = model.floatingIps.find((f) => f.ports.some((p) => made.has(model.ports.find((x) => x.name === p)?.pod ?? '')) && f.portMap.length === 0);
  if (fip) lines.push(`  ip netns exec ${NS_INTERNET} curl http://${fip.address}/          # the Internet host -> floating IP, MPLSoGRE from the gateway`);
  lines.push(`  ip netns exec ${NS_GATEWAY} gobgp global rib -a vpnv4                  # the gateway's routes (gobgpd's API: 127.0.0.1:${GOBGP_API_PORT})`);
  lines.push(`  ${weft} lab status                                # processes, sessions, pods`);
  lines.push(`  ${weft} lab down                                  # removes everything`);
  return `${lines.join('\n')}\n`;
}
