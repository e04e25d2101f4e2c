/**
 * Running the tools the lab is made with (ip, sysctl, curl, gobgp), in the host's or a lab
 * namespace. Always argv, never a shell. Inside a namespace through `nsenter --net` rather
 * than `ip netns exec`: the latter also makes a private mount namespace, which would hide the
 * pod namespaces an agent mounts under /var/run/netns from everyone else.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { NETNS_DIR } from '../vrouter/kernel/netns.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like exec, but a non-zero exit is an error naming the command and its stderr. */
export async function must(argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await exec(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  return r.stdout;
}

/** argv run inside namespace `ns` (network namespace only). */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${NETNS_DIR}/${ns}`, ...argv];
}

/** The absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir === '') continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * An HTTP request from inside `ns` with curl (a few ms, where a `node -e` costs ~0.3 s of a
 * shared CPU: readiness polls make many). status 0: nothing answered.
 */
export async function httpIn(ns: string, method: string, url: string, body?: unknown, timeoutS = 5): Promise<{ status: number; body: unknown }> {
  const argv = ['curl', '-sS', '-m', String(timeoutS), '-X', method, '-w', '\n%{http_code}', url];
  if (body !== undefined) argv.push('-H', 'content-type: application/json', '--data-binary', '@-');
  const r = await exec(inNs(ns, argv), { ...(body !== undefined ? { input: JSON.stringify(body) } : {}), timeoutMs: (timeoutS + 2) * 1000 });
  const nl = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(nl + 1)) || 0;
  if (status === 0) return { status, body: { error: r.stderr.trim() || 'no answer' } };
  const text = r.stdout.slice(0, nl);
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    return { status, body: text };
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
