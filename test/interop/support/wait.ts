/**
 * Polling and command helpers shared by the interop suites. Daemons are observed through
 * their own CLIs, which answer "not yet" by throwing or by printing nothing: waitFor retries
 * both and reports the last error when it gives up, so a timeout says what was seen.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a CLI and returns its stdout; a non-zero exit throws (with stderr in the message). */
export function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? '').trim() || (err.stdout ?? '').trim() || String(e)}`);
  }
}

/** The interop suites test against real daemons: a missing one fails the suite, never skips it. */
export function requireBinaries(paths: readonly string[]): void {
  const missing = paths.filter((b) => !existsSync(b));
  if (missing.length > 0) throw new Error(`interop binaries missing: ${missing.join(', ')}`);
}
