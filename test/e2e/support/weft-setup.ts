/**
 * Setting up a weft cluster in namespaces, shared by the e2e tests and the dataplane bench:
 * the control node's and agents' configuration files, starting them, and a relay to an
 * agent's API for tests that make many requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WEFT, procs, start, type Started } from './procs.js';

export interface ControlSpec {
  /** The control node's underlay address (router id, BGP and XMPP). */
  ctl: string;
  project: string;
  /** Agent name -> vhost address. */
  vrouters: Record<string, string>;
  /** The one virtual network: its name, id, optional VXLAN id and subnet. */
  vn: { name: string; id: number; vxlanId?: number; subnet: string };
}

export function controlYaml(c: ControlSpec): string {
  const vrouters = Object.entries(c.vrouters).map(([name, address]) => `  - { name: ${name}, address: ${address} }\n`).join('');
  const vxlan = c.vn.vxlanId === undefined ? '' : `    vxlan-id: ${c.vn.vxlanId}\n`;
  return `global:
  asn: 64512
  router-id: ${c.ctl}
  bgp: { address: ${c.ctl}, port: 0 }
  xmpp: { address: ${c.ctl}, port: 5269 }
  introspect: { address: 127.0.0.1, port: 0 }
  rest: { address: 127.0.0.1, port: 0 }
projects:
  - name: ${c.project}
vrouters:
${vrouters}virtual-networks:
  - name: ${c.vn.name}
    id: ${c.vn.id}
${vxlan}    subnets: [{ prefix: ${c.vn.subnet} }]
`;
}

export interface AgentSpec {
  name: string;
  vhost: string;
  ctl: string;
  /** In priority order. */
  encap: readonly string[];
  /** A network instance with its VXLAN id, when the agent must pick VXLAN from configuration. */
  network?: { instance: string; vxlanId: number };
}

export function agentYaml(a: AgentSpec): string {
  const networks = a.network ? `networks: [{ name: ${a.network.instance}, vxlan-id: ${a.network.vxlanId} }]\n` : '';
  return `name: ${a.name}
vhost: { address: ${a.vhost} }
control-nodes: [{ address: ${a.ctl}, port: 5269 }]
encapsulation: [${a.encap.join(', ')}]
${networks}introspect: { address: 127.0.0.1, port: 8085 }
`;
}

/** Writes `control.yaml` in `dir`, starts `weft control` in `ns` and waits for XMPP. */
export async function startControl(ns: string, dir: string, yaml: string, weft = WEFT): Promise<Started> {
  const file = path.join(dir, 'control.yaml');
  writeFileSync(file, yaml);
  const control = start(ns, ['node', weft, 'control', '--config', file], 'control');
  await control.ready(/XMPP on/);
  return control;
}

/** Writes the agent's configuration to `file` and starts `weft agent` in `ns` (not waited for: `ready(/API on/)`). */
export function startAgent(ns: string, name: string, file: string, yaml: string, weft = WEFT): Started {
  writeFileSync(file, yaml);
  // WEFT_AGENT_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): profiling the data plane under a bench.
  const flags = (process.env['WEFT_AGENT_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  return start(ns, ['node', ...flags, weft, 'agent', '--config', file], `agent ${name}`, true);
}

/**
 * GETs on the agent API in `ns` through one `node` started there once (a path per stdin
 * line, a JSON line back): a `node -e` per request costs ~0.3 s, and a test may make hundreds.
 */
export function apiRelay(ns: string): (p: string) => Promise<unknown> {
  const js = `const rl=require('readline').createInterface({input:process.stdin});
rl.on('line',p=>fetch('http://127.0.0.1:8085'+p).then(r=>r.json()).then(j=>console.log(JSON.stringify(j)),e=>console.log(JSON.stringify({relayError:e.message}))));`;
  let relay: ChildProcess | undefined;
  const waiting: ((line: string) => void)[] = [];
  return (p) => {
    if (!relay) {
      const r = spawn('ip', ['netns', 'exec', ns, 'node', '-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
      relay = r;
      procs.add(r);
      r.on('exit', () => procs.delete(r));
      let buf = '';
      r.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          waiting.shift()?.(line);
        }
      });
    }
    // Answers come back in request order: one request at a time.
    return new Promise((resolve, reject) => {
      waiting.push((line) => {
        const v = JSON.parse(line) as { relayError?: string };
        if (v.relayError) reject(new Error(`GET ${p}: ${v.relayError}`));
        else resolve(v);
      });
      relay!.stdin!.write(`${p}\n`);
    });
  };
}
