/**
 * Talking to gobgpd through its own CLI (`gobgp -u <addr> -p <port> ...`, gRPC underneath):
 * weft carries no protobuf/gRPC stack, and the CLI is what docs/interop-recipes.md verified.
 * One call costs ~15 ms of a short-lived process, fine at one poll every 300 ms.
 *
 * The argument builders are pure (and tested through the e2e test); `GobgpCli` runs them.
 */
import { execFile } from 'node:child_process';
import { gobgpRouteTarget } from './gobgpd-config.js';

export interface VpnRoute {
  prefix: string;
  label: number;
  rd: string;
  /** Route targets (`target:` or gobgp form). */
  rts: readonly string[];
  nexthop: string;
  /** RFC 9012 encapsulation community; 'none' for no community. */
  encap: 'mpls-in-gre' | 'none';
}

/** `global rib -a vpnv4 add <prefix> label <l> rd <rd> nexthop <nh> rt <rt>... [encap mpls-in-gre]` */
export function addVpnRouteArgs(r: VpnRoute): string[] {
  const args = ['global', 'rib', '-a', 'vpnv4', 'add', r.prefix, 'label', String(r.label), 'rd', r.rd, 'nexthop', r.nexthop];
  for (const rt of r.rts) args.push('rt', gobgpRouteTarget(rt));
  if (r.encap !== 'none') args.push('encap', r.encap);
  return args;
}

/** A local path is found again by its NLRI (prefix, label, RD). */
export function delVpnRouteArgs(r: Pick<VpnRoute, 'prefix' | 'label' | 'rd'>): string[] {
  return ['global', 'rib', '-a', 'vpnv4', 'del', r.prefix, 'label', String(r.label), 'rd', r.rd];
}

export const VPN_RIB_ARGS: readonly string[] = ['global', 'rib', '-a', 'vpnv4', '-j'];

export interface GobgpCliOptions {
  binary: string;
  address: string;
  port: number;
  timeoutMs?: number;
}

export class GobgpError extends Error {}

export class GobgpCli {
  constructor(private readonly o: GobgpCliOptions) {}

  get target(): string {
    return `${this.o.address}:${this.o.port}`;
  }

  /** stdout of `gobgp -u addr -p port args...`; rejects with gobgp's own message. */
  run(args: readonly string[]): Promise<string> {
    const argv = ['-u', this.o.address, '-p', String(this.o.port), ...args];
    return new Promise((resolve, reject) => {
      execFile(this.o.binary, argv, { encoding: 'utf8', timeout: this.o.timeoutMs ?? 5000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
        // gobgp reports some failures as {"error": ...} on stdout with -j, and exits 0.
        const jsonError = /^\s*\{"error":\s*"([^"]*)"/.exec(stdout);
        if (err || jsonError) {
          const why = jsonError?.[1] ?? (stderr.trim() || stdout.trim() || (err as Error).message);
          reject(new GobgpError(`gobgp ${args.join(' ')}: ${why.split('\n')[0]}`));
        } else {
          resolve(stdout);
        }
      });
    });
  }

  vpnRib(): Promise<string> {
    return this.run(VPN_RIB_ARGS);
  }

  async addVpnRoute(r: VpnRoute): Promise<void> {
    await this.run(addVpnRouteArgs(r));
  }

  async delVpnRoute(r: Pick<VpnRoute, 'prefix' | 'label' | 'rd'>): Promise<void> {
    await this.run(delVpnRouteArgs(r));
  }
}
