/**
 * The lab's daemons: started detached (own session and process group, output to a log file
 * under /run/weft-lab) so they outlive `weft lab up`, and stopped by recorded pid only,
 * checked against the recorded start time so a recycled pid is never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inNs, sleep } from './exec.js';
import { RUN_DIR, type ProcRecord } from './state.js';

/** Field 22 (starttime) of /proc/<pid>/stat; undefined when gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

export function pidAlive(pid: number): boolean {
  return procStartTime(pid) !== undefined;
}

export function isAlive(p: ProcRecord): boolean {
  return procStartTime(p.pid) === p.startTime;
}

/** Starts argv inside namespace `ns`, detached, stdout and stderr to RUN_DIR/<name>.log. */
export function spawnInNs(name: string, ns: string, argv: readonly string[], cwd?: string): ProcRecord {
  mkdirSync(RUN_DIR, { recursive: true });
  const log = path.join(RUN_DIR, `${name}.log`);
  const fd = openSync(log, 'w');
  const full = inNs(ns, argv);
  try {
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', fd, fd], ...(cwd ? { cwd } : {}) });
    if (child.pid === undefined) throw new Error(`cannot start ${name}: ${full.join(' ')}`);
    child.unref();
    // nsenter execs the command, so this pid is the daemon itself.
    const startTime = procStartTime(child.pid);
    if (startTime === undefined) throw new Error(`${name} exited at once; see ${log}`);
    return { name, ns, pid: child.pid, startTime, argv: [...argv], log };
  } finally {
    closeSync(fd);
  }
}

function signal(pid: number, sig: NodeJS.Signals, group = true): void {
  for (const target of group ? [-pid, pid] : [pid]) {
    try {
      process.kill(target, sig);
    } catch {
      /* gone already, or not a group leader */
    }
  }
}

/** SIGTERM to each live recorded process and its group, SIGKILL to what is left after `graceMs`. */
export async function stopProcesses(procs: readonly ProcRecord[], graceMs = 4000): Promise<void> {
  const live = procs.filter(isAlive);
  for (const p of live) signal(p.pid, 'SIGTERM');
  const t0 = Date.now();
  while (live.some(isAlive) && Date.now() - t0 < graceMs) await sleep(50);
  for (const p of live.filter(isAlive)) signal(p.pid, 'SIGKILL');
  while (live.some(isAlive) && Date.now() - t0 < graceMs + 2000) await sleep(20);
}

/** SIGKILL to pids (found inside a lab namespace, no record): the namespace can then go. */
export async function killPids(pids: readonly number[]): Promise<void> {
  const recs = pids.map((pid) => ({ pid, startTime: procStartTime(pid) })).filter((p) => p.startTime !== undefined);
  for (const p of recs) signal(p.pid, 'SIGKILL', false);
  const t0 = Date.now();
  while (recs.some((p) => procStartTime(p.pid) === p.startTime) && Date.now() - t0 < 2000) await sleep(20);
}

/** The tail of a process's log, for error messages. */
export function logTail(p: Pick<ProcRecord, 'log'>, lines = 15): string {
  try {
    return readFileSync(p.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
