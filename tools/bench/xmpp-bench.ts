/**
 * `npm run bench:xmpp` (issue 4, acceptance 7): how long the control node takes to give 100
 * agents, all subscribed to one network, each other's routes (100 each: every agent ends up
 * holding 10,000), with its CPU time and peak memory. Three processes: this orchestrator,
 * `weft control --config` (the system under test, a one-network model on 127.0.0.1) and the
 * load (xmpp-load.js, scripted agents counting items with a byte scan).
 *
 *   node dist/tools/bench/xmpp-bench.js [--agents N] [--routes R] [--runs K] [--host 127.0.0.x]
 *
 * The measured window opens when every agent is subscribed and the load is told `go`, and
 * closes when every agent holds all N*R items. CPU time = the control node's utime+stime
 * (/proc/<pid>/stat) over the window; peak memory = its VmHWM (/proc/<pid>/status), whole life.
 * Each run starts a fresh control node. Goal: under 10 s. The last stdout line is one JSON
 * object with every figure.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** dist/tools/bench -> the repository (bin/weft.js runs dist/src/cli). */
const ROOT = path.resolve(HERE, '../../..');
const GOAL_MS = 10_000;
const VN = 'default-domain:bench:vn';
const RI = `${VN}:vn`;

interface Args {
  agents: number;
  routes: number;
  runs: number;
  host: string;
  /** Write V8 CPU profiles of the control node here, and of the load under load/ (--cpu-prof). */
  profDir: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { agents: 100, routes: 100, runs: 3, host: '127.0.0.1', profDir: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--agents': a.agents = Number(v); break;
      case '--routes': a.routes = Number(v); break;
      case '--runs': a.runs = Number(v); break;
      case '--host': a.host = v; break;
      case '--prof-dir': a.profDir = path.resolve(v); break;
      default: throw new Error(`xmpp-bench: unknown option ${argv[i]}`);
    }
  }
  return a;
}

function model(host: string): string {
  return `global:
  asn: 64512
  router-id: ${host}
  bgp: { address: ${host}, port: 0 }
  xmpp: { address: ${host}, port: 0 }
  introspect: { address: ${host}, port: 0 }
  rest: { address: ${host}, port: 0 }
projects:
  - name: default-domain:bench
virtual-networks:
  - name: ${VN}
    id: 1
    subnets: [{ prefix: 10.0.0.0/8 }]
`;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in milliseconds (fields 14 and 15 of /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** A /proc/<pid>/status field in MiB (VmHWM, VmRSS). */
function statusMiB(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Math.round((Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024) * 10) / 10;
}

/** Lines of a child's stdout, one at a time. */
function lines(p: ChildProcess): () => Promise<string> {
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let ended = false;
  createInterface({ input: p.stdout! }).on('line', (l) => (waiters.length ? waiters.shift()!(l) : queue.push(l)));
  p.on('exit', () => {
    ended = true;
    for (const w of waiters.splice(0)) w('');
  });
  return () => (queue.length ? Promise.resolve(queue.shift()!) : ended ? Promise.resolve('') : new Promise((r) => waiters.push(r)));
}

interface RunResult {
  elapsedMs: number;
  cpuMs: number;
  peakMiB: number;
  rssBeforeMiB: number;
  load: Record<string, unknown>;
}

async function once(a: Args, dir: string): Promise<RunResult> {
  const conf = path.join(dir, 'bench.yaml');
  writeFileSync(conf, model(a.host));
  const prof = a.profDir ? ['--cpu-prof', '--cpu-prof-dir', a.profDir] : [];
  const cn = spawn(process.execPath, [...prof, path.join(ROOT, 'bin/weft.js'), 'control', '--config', conf], { stdio: ['ignore', 'pipe', 'inherit'] });
  let load: ChildProcess | undefined;
  try {
    const cnLine = lines(cn);
    let port = 0;
    while (port === 0) {
      const l = await cnLine();
      if (l === '') throw new Error('weft control exited before listening');
      const m = /XMPP on [^ ]+:(\d+),/.exec(l);
      if (m) port = Number(m[1]);
    }
    load = spawn(
      process.execPath,
      [
        ...(a.profDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(a.profDir, 'load')] : []),path.join(HERE, 'xmpp-load.js'), '--host', a.host, '--port', String(port), '--agents', String(a.agents), '--routes', String(a.routes), '--vrf', RI],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const loadLine = lines(load);
    const ready = JSON.parse((await loadLine()) || '{}') as { phase?: string };
    if (ready.phase !== 'ready') throw new Error(`load: ${JSON.stringify(ready)}`);
    // Let the subscriptions (and the CN's end-of-RIB timers) settle out of the window.
    await new Promise((r) => setTimeout(r, 300));
    const pid = cn.pid!;
    const rssBeforeMiB = statusMiB(pid, 'VmRSS');
    const cpu0 = cpuMs(pid);
    load.stdin!.write('go\n');
    const done = JSON.parse((await loadLine()) || '{}') as { phase?: string; elapsedMs?: number };
    const cpu1 = cpuMs(pid);
    const peakMiB = statusMiB(pid, 'VmHWM');
    const loadCpuMs = load.exitCode === null ? Math.round(cpuMs(load.pid!)) : -1;
    if (done.phase !== 'done') throw new Error(`load: ${JSON.stringify(done)}`);
    return { elapsedMs: done.elapsedMs!, cpuMs: Math.round(cpu1 - cpu0), peakMiB, rssBeforeMiB, load: { ...done, loadCpuMs } };
  } finally {
    // The load exits by itself once it reported; a stuck one is stopped.
    if (load && load.exitCode === null) {
      const l = load;
      await new Promise((r) => {
        const t = setTimeout(() => (l.kill('SIGTERM'), r(undefined)), 2_000);
        l.once('exit', () => (clearTimeout(t), r(undefined)));
      });
    }
    cn.kill('SIGTERM');
    await new Promise((r) => (cn.exitCode !== null ? r(undefined) : cn.once('exit', r)));
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-xmpp-bench-'));
  const results: RunResult[] = [];
  try {
    for (let k = 0; k < a.runs; k++) {
      const r = await once(a, dir);
      results.push(r);
      process.stdout.write(
        `run ${k + 1}: ${a.agents} agents x ${a.routes} routes: all hold ${a.agents * a.routes} routes after ${r.elapsedMs.toFixed(0)} ms; ` +
          `control node CPU ${r.cpuMs} ms, peak memory ${r.peakMiB} MiB (RSS before ${r.rssBeforeMiB} MiB)\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...results].sort((x, y) => x.elapsedMs - y.elapsedMs);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const summary = {
    bench: 'xmpp',
    agents: a.agents,
    routesPerAgent: a.routes,
    routesPerAgentHeld: a.agents * a.routes,
    runs: results.length,
    medianElapsedMs: median.elapsedMs,
    bestElapsedMs: sorted[0]!.elapsedMs,
    medianCpuMs: median.cpuMs,
    peakMemoryMiB: Math.max(...results.map((r) => r.peakMiB)),
    goalMs: GOAL_MS,
    pass: median.elapsedMs < GOAL_MS,
    load: median.load,
  };
  process.stdout.write(`median: ${summary.medianElapsedMs} ms (goal < ${GOAL_MS} ms: ${summary.pass ? 'met' : 'NOT met'})\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = summary.pass ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`xmpp-bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
