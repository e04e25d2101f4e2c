/**
 * Kernel tests need root, iproute2, ping and the built addon. CI runs as root after `npm ci`
 * has built the addon, so a missing piece is a broken environment: fail, never skip.
 */
import { execFileSync } from 'node:child_process';
import { loadAddon } from '../../src/vrouter/kernel/native.js';

export function requireKernelAccess(tools: readonly string[] = ['ip']): void {
  if (process.getuid?.() !== 0) throw new Error('kernel tests must run as root (they create namespaces and TAPs)');
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      throw new Error(`kernel tests need \`${tool}\` on PATH`);
    }
  }
  loadAddon();
}

/** Unique per test run and file, so parallel files and leftover runs never collide. */
export function testPrefix(tag: string): string {
  return `wefttest-${process.pid}-${tag}`;
}
