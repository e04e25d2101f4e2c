/**
 * tshark is the reference decoder of the conformance tests. A test that needs it fails loudly
 * when it is missing (CI installs Debian's tshark in .ci/run); it never skips.
 */
import { spawnSync } from 'node:child_process';

export function requireTshark(): void {
  const r = spawnSync('tshark', ['-v'], { stdio: 'ignore' });
  if (r.status !== 0) {
    throw new Error('tshark is required by this test and was not found: install Debian\'s tshark package (.ci/run does)');
  }
}
