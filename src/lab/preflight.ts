/**
 * What `weft lab up` needs before it touches anything: root, the tools it runs (each with the
 * Debian package that brings it), the compiled tree and the TAP addon.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { which } from './exec.js';

const TOOLS: readonly [tool: string, pkg: string][] = [
  ['gobgpd', 'gobgpd'],
  ['gobgp', 'gobgpd'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['sysctl', 'procps'],
  ['curl', 'curl'],
];

export interface Preflight {
  problems: string[];
  gobgpd: string;
}

export function preflight(repo: string): Preflight {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('needs root (network namespaces, TAP devices, raw sockets): run it with sudo');
  const missing = TOOLS.filter(([t]) => which(t) === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    problems.push(`${missing.map(([t]) => t).join(', ')} not found: apt-get install ${pkgs.join(' ')}`);
  }
  for (const f of ['dist/src/lab/pod-web.js', 'dist/src/agent/service.js', 'dist/src/cli/main.js']) {
    if (!existsSync(path.join(repo, f))) problems.push(`${f} is missing: build weft first (npm ci, or npm run build)`);
  }
  if (!existsSync(path.join(repo, 'build', 'Release', 'weft_tap.node'))) problems.push('the TAP addon build/Release/weft_tap.node is missing: npm ci builds it (or node native/tap/build.mjs)');
  return { problems, gobgpd: which('gobgpd') ?? 'gobgpd' };
}
