/**
 * gobgpd 3.10 on a loopback address with a private config and its gRPC API on the same
 * address (interop-recipes section 1). The TOML is generated from a small neighbour list so
 * each suite states only what differs: families, route reflection, graceful restart, timers.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Daemon, DaemonSet } from './daemon.js';
import { run } from './wait.js';

export const GOBGP_BINARIES = ['/usr/bin/gobgpd', '/usr/bin/gobgp'];

export interface GobgpNeighbor {
  address: string;
  peerAs: number;
  /** The peer's port when gobgpd dials; omit with passive. */
  remotePort?: number;
  passive?: boolean;
  /** gobgp afi-safi names: ipv4-unicast, l3vpn-ipv4-unicast, rtc. */
  families: string[];
  rrClient?: boolean;
  /** Advertise Graceful Restart with this restart time (seconds) for every family. */
  gracefulRestart?: number;
  holdTime?: number;
}

export interface GobgpOptions {
  name: string;
  asn: number;
  address: string;
  /** BGP listen port; -1: do not listen. */
  port: number;
  apiPort: number;
  /** RFC 4456 cluster id when some neighbour is a client; default the router id. */
  clusterId?: string;
  neighbors: GobgpNeighbor[];
}

export function gobgpToml(o: GobgpOptions): string {
  let t = `[global.config]\n  as = ${o.asn}\n  router-id = "${o.address}"\n  port = ${o.port}\n  local-address-list = ["${o.address}"]\n`;
  for (const n of o.neighbors) {
    t += `[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "${n.address}"\n    peer-as = ${n.peerAs}\n`;
    t += `  [neighbors.transport.config]\n    local-address = "${o.address}"\n`;
    if (n.remotePort !== undefined) t += `    remote-port = ${n.remotePort}\n`;
    if (n.passive) t += `    passive-mode = true\n`;
    t += `  [neighbors.timers.config]\n    connect-retry = 1\n`;
    if (n.holdTime !== undefined) t += `    hold-time = ${n.holdTime}\n    keepalive-interval = ${Math.max(1, Math.floor(n.holdTime / 3))}\n`;
    if (n.rrClient) t += `  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    route-reflector-cluster-id = "${o.clusterId ?? o.address}"\n`;
    if (n.gracefulRestart !== undefined) t += `  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = ${n.gracefulRestart}\n`;
    for (const f of n.families) {
      t += `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}"\n`;
      if (n.gracefulRestart !== undefined) t += `    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n`;
    }
  }
  return t;
}

export interface GobgpPath {
  nlri: { prefix?: string; labels?: number[] };
  stale?: boolean;
  age?: number;
  attrs: { type: number; [k: string]: unknown }[];
}

export interface GobgpNeighborState {
  conf: { neighbor_address: string };
  state: { session_state: number; flops?: number; messages?: { received?: Record<string, number>; sent?: Record<string, number> } };
  timers: { state: { uptime?: number } };
}

/** One gobgpd; `restart` starts it again from the same config (optionally in GR restarting mode, `-r`). */
export class Gobgpd {
  daemon: Daemon;
  readonly conf: string;

  constructor(
    private readonly set: DaemonSet,
    readonly o: GobgpOptions,
  ) {
    this.conf = path.join(set.sub(o.name), 'gobgpd.toml');
    writeFileSync(this.conf, gobgpToml(o));
    this.daemon = this.launch(false);
  }

  private launch(restarting: boolean): Daemon {
    const args = ['-f', this.conf, '-p', '--api-hosts', `${this.o.address}:${this.o.apiPort}`, '--pprof-disable'];
    if (restarting) args.push('-r');
    return this.set.start(this.o.name, '/usr/bin/gobgpd', args);
  }

  /** Kills the running gobgpd (SIGKILL: no NOTIFICATION, as a crash) and starts a new one. */
  async restart(opts: { restarting?: boolean; signal?: NodeJS.Signals } = {}): Promise<void> {
    await this.daemon.kill(opts.signal ?? 'SIGKILL');
    this.daemon = this.launch(opts.restarting === true);
  }

  cli(...a: string[]): string {
    return run('/usr/bin/gobgp', ['-u', this.o.address, '-p', String(this.o.apiPort), ...a]);
  }

  neighbors(): GobgpNeighborState[] {
    return JSON.parse(this.cli('neighbor', '-j')) as GobgpNeighborState[];
  }

  neighbor(address: string): GobgpNeighborState | undefined {
    return this.neighbors().find((n) => n.conf.neighbor_address === address);
  }

  established(address: string): boolean {
    return this.neighbor(address)?.state.session_state === 6;
  }

  /** Loc-RIB of a family (`vpnv4`, `ipv4`, `rtc`) keyed as gobgp prints it (`RD:prefix` for VPN). */
  rib(family: string): Record<string, GobgpPath[]> {
    const out = this.cli('global', 'rib', '-a', family, '-j').trim();
    return out === '' || out === 'null' ? {} : (JSON.parse(out) as Record<string, GobgpPath[]>);
  }

  route(family: string, key: string): GobgpPath | undefined {
    return this.rib(family)[key]?.[0];
  }
}

export const gobgpAttr = (p: GobgpPath, type: number) => p.attrs.find((a) => a.type === type);
