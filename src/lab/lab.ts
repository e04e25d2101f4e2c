/**
 * `weft lab up|down|status`: the book's lab on one machine (issue 6). `up` builds the
 * namespaces and fabric, starts gobgpd and the gateway data plane, the control node, the two
 * agents, makes the pods through the agents and starts their web servers, then waits until
 * every check of readiness.ts passes. Independent steps run side by side: the whole lab comes
 * up from nothing in well under a minute.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { controlModelSchema, type ControlModel } from '../config/control-model.js';
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import type { CliIo } from '../cli/io.js';
import { deleteNetns, listNetns } from '../vrouter/kernel/netns.js';
import { writeAgentConfig } from './configs.js';
import { exec, must, sleep } from './exec.js';
import { gatewayCommands } from './gateway.js';
import { nextSteps } from './next-steps.js';
import { createPod, podRecord, podsOf, startPodWork, PodError, type LabPod } from './pods.js';
import { preflight } from './preflight.js';
import { isAlive, killPids, logTail, pidAlive, spawnInNs, stopProcesses } from './processes.js';
import { agentStatus, allChecks, waitReady, type Check, type LabView } from './readiness.js';
import { lockUp, readState, writeState, RUN_DIR, STATE_FILE, type LabState, type ProcRecord } from './state.js';
import { LAB_LINK_NAMES, LAB_PREFIX, NS_CONTROL, NS_GATEWAY, buildTopology, topologyOf, type LabTopology } from './topology.js';

export const DEFAULT_LAB_CONFIG = 'fixtures/lab/book-lab.yaml';
/** `up` gives up (and says what is not ready) after this long. */
const UP_DEADLINE_MS = 55_000;
/** Links named in no state file (a crash before the first write): the book lab's own. */
const DEFAULT_LINKS = ['br-fabric', 'to-inet', 'weft-gw0', 'fab-control', 'fab-cent222', 'fab-cent333'];

export interface LabContext {
  repo: string;
  io: CliIo;
}

/* ---------------- up ---------------- */

export async function labUp(configArg: string, cx: LabContext): Promise<number> {
  const pre = preflight(cx.repo);
  if (pre.problems.length > 0) {
    cx.io.stderr.write(pre.problems.map((p) => `weft lab: ${p}\n`).join(''));
    return 1;
  }
  const lock = lockUp(pidAlive);
  if (typeof lock === 'number') {
    cx.io.stderr.write(`weft lab: another 'weft lab up' is running (pid ${lock})\n`);
    return 1;
  }
  try {
    return await up(configArg, pre.gobgpd, cx);
  } finally {
    lock();
  }
}

async function up(configArg: string, gobgpd: string, cx: LabContext): Promise<number> {
  const t0 = Date.now();
  const out = (s: string) => cx.io.stdout.write(s);
  const err = (s: string) => cx.io.stderr.write(s);
  const config = path.resolve(configArg);
  let model: ControlModel;
  let topo: LabTopology;
  let pods: LabPod[];
  try {
    model = await loadConfigFile(config, controlModelSchema);
    topo = topologyOf(model);
    pods = podsOf(model);
  } catch (e) {
    if (e instanceof ConfigError) err(`${e.message}\nweft lab: ${configArg}: ${e.issues.length} error(s), nothing started\n`);
    else err(`weft lab: ${configArg}: ${(e as Error).message}\n`);
    return 1;
  }

  const prior = readState();
  const leftovers = await labNamespaces();
  if (prior?.phase === 'up' && prior.config === config) {
    const st = await labStatusOf();
    if (st.up) {
      out(`weft lab: already up and healthy since ${prior.startedAt} (${configArg})\n\n`);
      out(await nextSteps(model, prior.pods, cx.repo));
      return 0;
    }
    out(`weft lab: up but not healthy (${unhealthy(st).join('; ')}): rebuilding\n`);
  }
  if (prior || leftovers.length > 0) {
    out(`weft lab: removing what an earlier 'up' left (${leftovers.length} namespaces)\n`);
    await teardown(prior);
  }

  const state: LabState = {
    version: 1,
    config,
    startedAt: new Date().toISOString(),
    phase: 'starting',
    namespaces: topo.namespaces,
    links: LAB_LINK_NAMES(topo),
    procs: [],
    pods: [],
  };
  writeState(state);
  const record = (p: ProcRecord | undefined) => {
    if (p) {
      state.procs.push(p);
      writeState(state);
    }
    return p;
  };
  const node = process.execPath;
  const weftBin = path.join(cx.repo, 'bin', 'weft.js');
  const step = (what: string) => out(`weft lab: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  try {
    await buildTopology(topo);
    step(`namespaces and fabric: ${topo.namespaces.join(', ')}`);

    const gw = gatewayCommands(topo, gobgpd, node, weftBin);
    record(spawnInNs('gobgpd', NS_GATEWAY, gw.gobgpd));
    const control = record(spawnInNs('control', NS_CONTROL, [node, weftBin, 'control', '--config', config]))!;
    record(spawnInNs('gateway', NS_GATEWAY, gw.gateway));
    await waitLog(control, /XMPP on/, 20_000);
    step(`control node ${topo.control.address} (XMPP ${model.global.xmpp.port}, BGP ${model.global.bgp.port})`);

    const agents = topo.computes.map((c) => ({ c, p: record(spawnInNs(`agent-${c.name}`, c.ns, [node, weftBin, 'agent', '--config', writeAgentConfig(model, topo, c)]))! }));
    await Promise.all(agents.map(({ c, p }) => waitFor(`agent ${c.name}'s XMPP session`, p, () => agentSessionUp(c.ns), 20_000)));
    step(`agents ${topo.computes.map((c) => `${c.name} ${c.address}`).join(', ')} connected`);

    await makePods(pods);
    state.pods = pods.map(podRecord);
    writeState(state);
    for (const p of await Promise.all(pods.map((pod) => startPodWork(pod, cx.repo)))) record(p);
    step(`pods: ${pods.map((p) => `${p.name}@${p.vrouter}${p.service ? ' (forwarding)' : ''}`).join(', ')}`);

    const view: LabView = { topo, model, pods: state.pods };
    const checks = await waitReady(view, t0 + UP_DEADLINE_MS, () => {
      const dead = state.procs.filter((p) => !isAlive(p));
      if (dead.length > 0) throw new Error(dead.map((p) => `${p.name} (pid ${p.pid}) exited:\n${indent(logTail(p))}`).join('\n'));
    });
    state.phase = 'up';
    writeState(state);
    out(checks.map((c) => `  ok  ${c.what}: ${c.detail}\n`).join(''));
    out(`weft lab: up in ${((Date.now() - t0) / 1000).toFixed(1)} s; logs and state in ${RUN_DIR}\n\n`);
    out(await nextSteps(model, state.pods, cx.repo));
    return 0;
  } catch (e) {
    err(`weft lab: up failed after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(e as Error).message}\n`);
    err(`weft lab: the lab is half up; logs are in ${RUN_DIR}; 'weft lab down' removes it (and 'weft lab up' starts over)\n`);
    return 1;
  }
}

/** Every pod at once (each agent serializes its own). */
async function makePods(pods: readonly LabPod[]): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      const t0 = Date.now();
      for (;;) {
        try {
          return await createPod(pod);
        } catch (e) {
          // The agent learns ports from the control node's config push, which follows its session by a moment.
          if (!(e instanceof PodError && e.retry && Date.now() - t0 < 10_000)) throw e;
          await sleep(200);
        }
      }
    }),
  );
}

async function agentSessionUp(ns: string): Promise<boolean> {
  const st = await agentStatus(ns);
  const cns = typeof st === 'string' ? [] : (st.controlNodes ?? []);
  return cns.length > 0 && cns.every((c) => c.state === 'established');
}

async function waitLog(p: ProcRecord, re: RegExp, ms: number): Promise<void> {
  await waitFor(`${p.name} (${re})`, p, () => {
    try {
      return re.test(readFileSync(p.log, 'utf8'));
    } catch {
      return false;
    }
  }, ms);
}

async function waitFor(what: string, p: ProcRecord, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await test()) return;
    if (!isAlive(p)) throw new Error(`${p.name} (pid ${p.pid}) exited while waiting for ${what}:\n${indent(logTail(p))}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; the end of ${p.log}:\n${indent(logTail(p))}`);
    await sleep(50);
  }
}

const indent = (s: string) => s.split('\n').map((l) => `    ${l}`).join('\n');

/* ---------------- down ---------------- */

export async function labNamespaces(): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(LAB_PREFIX));
}

/**
 * Stops the recorded processes (pid and process group, start time checked), kills whatever
 * else still runs inside a lab namespace, deletes every weft-* namespace and any lab link
 * left in the host's namespace. Safe with no lab, a half-built one, or a stale state file.
 */
async function teardown(s: LabState | undefined): Promise<{ procs: number; namespaces: number; links: number }> {
  const live = (s?.procs ?? []).filter(isAlive);
  await stopProcesses(live);
  const namespaces = await labNamespaces();
  const strays = await Promise.all(namespaces.map(async (ns) => (await exec(['ip', 'netns', 'pids', ns])).stdout.split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number)));
  await killPids(strays.flat().filter((pid) => pid !== process.pid));
  await Promise.all(namespaces.map((ns) => deleteNetns(ns).catch(() => undefined)));
  let links = 0;
  for (const name of s?.links ?? DEFAULT_LINKS) {
    if ((await exec(['ip', 'link', 'show', 'dev', name])).code === 0) {
      await must(['ip', 'link', 'delete', 'dev', name]);
      links++;
    }
  }
  rmSync(STATE_FILE, { force: true });
  return { procs: live.length + strays.flat().length, namespaces: namespaces.length, links };
}

export async function labDown(cx: LabContext): Promise<number> {
  if (process.getuid?.() !== 0) {
    cx.io.stderr.write('weft lab: down needs root (it deletes network namespaces): run it with sudo\n');
    return 1;
  }
  const r = await teardown(readState());
  const left = await labNamespaces();
  if (left.length > 0) {
    cx.io.stderr.write(`weft lab: could not delete ${left.join(', ')}\n`);
    return 1;
  }
  cx.io.stdout.write(
    r.procs + r.namespaces + r.links === 0
      ? 'weft lab: nothing to remove\n'
      : `weft lab: down: stopped ${r.procs} process(es), deleted ${r.namespaces} namespace(s)${r.links ? ` and ${r.links} stray link(s)` : ''}\n`,
  );
  return 0;
}

/* ---------------- status ---------------- */

export interface LabStatus {
  up: boolean;
  phase: LabState['phase'] | 'down';
  config?: string;
  startedAt?: string;
  processes: { name: string; ns: string; pid: number; alive: boolean; log: string }[];
  namespaces: string[];
  /** The topology's namespaces that are gone. */
  missing: string[];
  checks: Check[];
  pods: (LabState['pods'][number] & { present: boolean })[];
}

export async function labStatusOf(): Promise<LabStatus> {
  const s = readState();
  const namespaces = await labNamespaces();
  if (!s) return { up: false, phase: 'down', processes: [], namespaces, missing: [], checks: [], pods: [] };
  const processes = s.procs.map((p) => ({ name: p.name, ns: p.ns, pid: p.pid, alive: isAlive(p), log: p.log }));
  let checks: Check[] = [];
  if (existsSync(s.config)) {
    try {
      const model = await loadConfigFile(s.config, controlModelSchema);
      checks = await allChecks({ topo: topologyOf(model), model, pods: s.pods });
    } catch (e) {
      checks = [{ what: 'configuration', ok: false, detail: (e as Error).message.split('\n')[0]! }];
    }
  }
  const have = new Set(namespaces);
  const pods = s.pods.map((p) => ({ ...p, present: have.has(p.ns) }));
  const missing = s.namespaces.filter((n) => !have.has(n));
  const up = s.phase === 'up' && missing.length === 0 && processes.every((p) => p.alive) && checks.every((c) => c.ok) && pods.every((p) => p.present);
  return { up, phase: s.phase, config: s.config, startedAt: s.startedAt, processes, namespaces, missing, checks, pods };
}

function unhealthy(st: LabStatus): string[] {
  return [
    ...st.missing.map((n) => `namespace ${n} missing`),
    ...st.processes.filter((p) => !p.alive).map((p) => `${p.name} (pid ${p.pid}) dead`),
    ...st.checks.filter((c) => !c.ok).map((c) => `${c.what}: ${c.detail}`),
    ...st.pods.filter((p) => !p.present).map((p) => `pod ${p.name} missing`),
  ];
}

export async function labStatus(json: boolean, cx: LabContext): Promise<number> {
  const st = await labStatusOf();
  if (json) {
    cx.io.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
    return st.up ? 0 : 1;
  }
  const lines: string[] = [];
  if (st.phase === 'down') {
    lines.push(`weft lab: down${st.namespaces.length ? ` (but namespaces ${st.namespaces.join(', ')} exist: 'weft lab down' removes them)` : ''}`);
    cx.io.stdout.write(`${lines.join('\n')}\n`);
    return 1;
  }
  lines.push(`weft lab: ${st.up ? 'up' : st.phase === 'starting' ? 'starting or half up' : 'up, NOT healthy'} since ${st.startedAt} (${st.config})`);
  lines.push('processes:');
  for (const p of st.processes) lines.push(`  ${p.alive ? 'alive' : 'DEAD '}  ${p.name.padEnd(22)} pid ${String(p.pid).padEnd(8)} ${p.ns.padEnd(16)} ${p.log}`);
  lines.push(`namespaces: ${st.namespaces.join(' ')}${st.missing.length ? ` (MISSING: ${st.missing.join(' ')})` : ''}`);
  lines.push('sessions and checks:');
  for (const c of st.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}: ${c.detail}`);
  lines.push('pods:');
  for (const p of st.pods) lines.push(`  ${p.name.padEnd(14)} ${p.vrouter.padEnd(9)} ${p.ips.join(',').padEnd(26)} ${p.service ? 'forwarding' : 'web server'}  ${p.ns}${p.present ? '' : ' (namespace MISSING)'}`);
  cx.io.stdout.write(`${lines.join('\n')}\n`);
  return st.up ? 0 : 1;
}
