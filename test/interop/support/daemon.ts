/**
 * A daemon started by a test: its own log file in the suite's private directory, stopped by
 * its PID only. DaemonSet remembers every daemon a suite started so afterAll can stop them
 * all even when the suite failed half way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class Daemon {
  private readonly proc: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly logFile: string,
    cmd: string,
    args: string[],
  ) {
    const log = openSync(logFile, 'a');
    this.proc = spawn(cmd, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends a signal to this process (by PID) and, for terminating ones, waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGHUP') return;
    const t = setTimeout(() => this.running && this.proc.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(t);
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }
}

export class DaemonSet {
  readonly dir: string;
  private readonly all: Daemon[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), `weft-${prefix}-`));
  }

  /** A sub-directory of the private state directory, created on demand. */
  sub(name: string): string {
    const d = path.join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  start(name: string, cmd: string, args: string[]): Daemon {
    const d = new Daemon(name, path.join(this.sub(name), `${name}.log`), cmd, args);
    this.all.push(d);
    return d;
  }

  /** Stops every daemon still running (a stopped one is continued first), then removes the directory. */
  async stopAll(): Promise<void> {
    for (const d of this.all) if (d.running) await d.kill('SIGCONT');
    await Promise.all(this.all.map((d) => d.kill('SIGTERM')));
    if (process.env['WEFT_KEEP_INTEROP'] === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
