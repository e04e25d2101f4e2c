/**
 * What the e2e tests share: running commands (in namespaces), long-running processes whose
 * output is kept for failure messages, polling, and the agent's API. Root is assumed; each
 * test checks it (and its tools) in `requireRootAndTools` so a missing one fails loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const WEFT = path.join(REPO, 'bin', 'weft.js');

/** Every process `start` made and not yet seen exit: afterAll stops them. */
export const procs = new Set<ChildProcess>();

export function run(argv: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: 60_000, maxBuffer: 256 << 20 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function must(argv: string[]): string {
  const r = run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} -> ${r.code}: ${r.err || r.out}`);
  return r.out;
}

export function inNs(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

export function requireRootAndTools(tools: readonly string[]): void {
  if (process.getuid?.() !== 0) throw new Error('e2e tests must run as root (namespaces, TAPs, raw sockets)');
  for (const tool of tools) {
    if (run(['sh', '-c', `command -v ${tool}`]).code !== 0) throw new Error(`e2e tests need \`${tool}\` on PATH (.ci/run installs it)`);
  }
  if (!existsSync(path.join(REPO, 'dist', 'src', 'agent', 'service.js'))) throw new Error('dist/ is not built: run `npm run build`');
}

export interface Started {
  p: ChildProcess;
  log: () => string;
  ready: (re: RegExp, ms?: number) => Promise<void>;
}

/**
 * A long-running process; its output is kept for the failure message and `ready`. Agents run
 * under `nsenter --net` rather than `ip netns exec`: the latter also gives the process a
 * private mount namespace, so the pod namespaces the agent mounts under /var/run/netns would
 * be invisible (setns: Invalid argument) to everyone else.
 */
export function start(ns: string, argv: string[], name: string, netOnly = false): Started {
  const p = netOnly
    ? spawn('nsenter', [`--net=/var/run/netns/${ns}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(p);
  p.on('exit', () => procs.delete(p));
  let text = '';
  p.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const log = () => `--- ${name} ---\n${text}`;
  const ready = (re: RegExp, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const tick = () => {
        if (re.test(text)) return resolve();
        if (p.exitCode !== null || Date.now() - t0 > ms) return reject(new Error(`${name} not ready (${re}):\n${log()}`));
        setTimeout(tick, 50);
      };
      tick();
    });
  return { p, log, ready };
}

export async function stop(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 8000);
  await gone;
  clearTimeout(t);
}

export function weft(ns: string, args: string[]): { code: number; out: string; err: string } {
  return run(inNs(ns, ['node', WEFT, ...args]));
}

/** GET on an agent's API from inside its namespace. */
export function agentGet(ns: string, p: string): unknown {
  const js = `fetch('http://127.0.0.1:8085${p}').then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(e.message);process.exit(1)})`;
  return JSON.parse(must(inNs(ns, ['node', '-e', js])));
}

export async function until<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The route an agent has for `ip`/32 in `vrf`, when its next hop is a tunnel. */
export function tunnelRouteOf(ns: string, vrf: number, ip: string): { label: number | undefined; encap: string | undefined; dip: string | undefined } | undefined {
  const rt = agentGet(ns, `/rt?vrf=${vrf}`) as { routes: { prefix: string; nh: number; label?: number }[] };
  const r = rt.routes.find((x) => x.prefix === `${ip}/32`);
  if (!r) return undefined;
  const nh = (agentGet(ns, `/nh?id=${r.nh}`) as { nexthops: { type: string; encapType?: string; dip?: string }[] }).nexthops[0]!;
  return nh.type === 'tunnel' ? { label: r.label, encap: nh.encapType, dip: nh.dip } : undefined;
}

/**
 * Namespaces with `lo` up, and a bridge `br0` in `fab` with a veth `ul0` into each of `nodes`
 * carrying its /24 address: the underlay.
 */
export function makeUnderlay(fab: string, nodes: Record<string, { ns: string; address: string }>): void {
  for (const ns of [fab, ...Object.values(nodes).map((n) => n.ns)]) {
    must(['ip', 'netns', 'add', ns]);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  must(['ip', '-n', fab, 'link', 'add', 'br0', 'type', 'bridge']);
  must(['ip', '-n', fab, 'link', 'set', 'br0', 'up']);
  for (const [name, { ns, address }] of Object.entries(nodes)) {
    must(['ip', '-n', fab, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'ul0', 'netns', ns]);
    must(['ip', '-n', fab, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
    must(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'ul0']);
    must(['ip', '-n', ns, 'link', 'set', 'ul0', 'up']);
  }
}

/** Frames tshark flags as malformed in `pcap` (frame numbers; empty when clean). */
export function malformedFrames(pcap: string): string {
  return must(['tshark', '-r', pcap, '-Y', '_ws.malformed', '-T', 'fields', '-e', 'frame.number']).trim();
}
