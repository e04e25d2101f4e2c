/** BIRD 2 with a private control socket (interop-recipes section 2). Text output only. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Daemon, DaemonSet } from './daemon.js';
import { run } from './wait.js';

export const BIRD_BINARIES = ['/usr/sbin/bird', '/usr/sbin/birdc'];

export class Bird {
  readonly daemon: Daemon;
  private readonly ctl: string;

  constructor(set: DaemonSet, readonly o: { name: string; conf: string }) {
    const dir = set.sub(o.name);
    const conf = path.join(dir, 'bird.conf');
    this.ctl = path.join(dir, 'bird.ctl');
    writeFileSync(conf, o.conf);
    this.daemon = set.start(o.name, '/usr/sbin/bird', ['-f', '-c', conf, '-s', this.ctl, '-P', path.join(dir, 'bird.pid')]);
  }

  birdc(...a: string[]): string {
    return run('/usr/sbin/birdc', ['-s', this.ctl, ...a]);
  }

  /** The `show route all` block of one network (`RD prefix` for VPN tables), or undefined. */
  route(table: string, net: string): string | undefined {
    const out = this.birdc('show', 'route', 'all', 'table', table);
    const start = out.indexOf(net);
    if (start < 0) return undefined;
    const rest = out.slice(start);
    const next = rest.slice(1).search(/\n\S/);
    return next < 0 ? rest : rest.slice(0, next + 1);
  }
}
