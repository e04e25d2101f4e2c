/**
 * FRR 8.4 bgpd alone (no zebra: -Z), on its own address and port, with its vty socket in the
 * suite's private directory (interop-recipes section 3).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Daemon, DaemonSet } from './daemon.js';
import { run } from './wait.js';

export const FRR_BINARIES = ['/usr/lib/frr/bgpd', '/usr/bin/vtysh'];

export class Frr {
  readonly daemon: Daemon;
  readonly dir: string;

  /** `conf` is bgpd.conf; route-maps must come before `router bgp` (recipes 3.1). */
  constructor(set: DaemonSet, readonly o: { name: string; address: string; port: number; conf: string }) {
    this.dir = set.sub(o.name);
    writeFileSync(path.join(this.dir, 'bgpd.conf'), o.conf);
    this.daemon = set.start(o.name, '/usr/lib/frr/bgpd', [
      '-f', path.join(this.dir, 'bgpd.conf'), '-i', path.join(this.dir, 'bgpd.pid'), '--vty_socket', this.dir,
      '-z', path.join(this.dir, 'zserv.api'), '-Z', '-S', '-P', '0', '-p', String(o.port), '-l', o.address, '--log', 'stdout',
    ]);
  }

  vtysh(...commands: string[]): string {
    return run('/usr/bin/vtysh', ['--vty_socket', this.dir, ...commands.flatMap((c) => ['-c', c])]);
  }

  json<T = Record<string, unknown>>(command: string): T {
    return JSON.parse(this.vtysh(`${command} json`)) as T;
  }

  /** A VPNv4 route (`version` is FRR's table version of its last change), or undefined. */
  vpnRoute(rd: string, prefix: string): { version: number; paths?: Record<string, unknown>[] } | undefined {
    return this.json<Record<string, { version: number; paths?: Record<string, unknown>[] }>>(`show bgp ipv4 vpn rd ${rd} ${prefix}`)[rd];
  }

  /** First path of a VPNv4 route (`show bgp ipv4 vpn rd RD P json`), with labels and communities. */
  vpnPath(rd: string, prefix: string): Record<string, unknown> | undefined {
    const j = this.json<Record<string, { paths?: Record<string, unknown>[] }>>(`show bgp ipv4 vpn rd ${rd} ${prefix}`);
    return j[rd]?.paths?.[0];
  }

  /** `show bgp neighbors X json` for one peer. */
  neighbor(address: string): Record<string, unknown> | undefined {
    return this.json<Record<string, Record<string, unknown>>>(`show bgp neighbors ${address}`)[address];
  }

  established(address: string): boolean {
    return this.neighbor(address)?.['bgpState'] === 'Established';
  }
}
