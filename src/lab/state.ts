/**
 * What `weft lab up` made, kept in /run/weft-lab/state.json so `down` and `status` (other
 * processes, maybe after `up` crashed half-way) find it. Written after every process start,
 * so a crash leaves a file naming everything that may still run.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const RUN_DIR = '/run/weft-lab';
export const STATE_FILE = path.join(RUN_DIR, 'state.json');

export interface ProcRecord {
  name: string;
  ns: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells this process from a later one that got the same pid. */
  startTime: string;
  argv: string[];
  log: string;
}

export interface PodRecord {
  name: string;
  ns: string;
  vrouter: string;
  ips: string[];
  /** The service pod of a chain: forwards, serves no page. */
  service: boolean;
}

export interface LabState {
  version: 1;
  config: string;
  startedAt: string;
  /** `starting` until every check passed once. */
  phase: 'starting' | 'up';
  namespaces: string[];
  /** Names of the links the topology makes (all inside namespaces; `down` checks the host for strays). */
  links: string[];
  procs: ProcRecord[];
  pods: PodRecord[];
}

export function readState(): LabState | undefined {
  try {
    const s = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
    return s && s.version === 1 && Array.isArray(s.procs) ? s : undefined;
  } catch {
    return undefined;
  }
}

export function writeState(s: LabState): void {
  mkdirSync(RUN_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 1)}\n`);
  renameSync(tmp, STATE_FILE);
}

const LOCK_FILE = path.join(RUN_DIR, 'up.lock');

/**
 * One `up` at a time: two would build the same namespaces. Returns a release function, or
 * the pid of the live `up` that holds the lock (a lock left by a dead one is taken over).
 */
export function lockUp(alive: (pid: number) => boolean): (() => void) | number {
  mkdirSync(RUN_DIR, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(LOCK_FILE, { force: true });
    } catch {
      const holder = Number(readFileSync(LOCK_FILE, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) return holder;
      rmSync(LOCK_FILE, { force: true });
    }
  }
  return () => undefined;
}
